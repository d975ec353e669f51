//! Every word a person reads, in their language.
//!
//! The messages live in `locales/<tag>.toml`, one file per language, read
//! at build time (`build.rs`) into [`Text`] and each language's table, so a
//! message missing from a finished language stops the build. A page asks
//! for `t(Text::…)`: on the server in the language of the request (from
//! [`Locale::for_request`], given to the page as context), in the browser
//! from the table the page carries for its own language (`<script
//! id="huddle-texts">`), so the browser's bundle holds no language's text.
//!
//! Not `leptos_i18n`: its runtime adds about 73 KB (brotli) to a bundle,
//! more than the call's bundles have left (`docs/performance.md`, "Why not
//! leptos_i18n"); this costs about 1 KB.

#[cfg(test)]
mod catalog_check;
mod negotiate;
mod plural_rules;

pub use plural_rules::{plural_forms, plural_index, PLURAL_RULES};

include!(concat!(env!("OUT_DIR"), "/texts.rs"));

/// The cookie that keeps a person's choice of language.
pub const COOKIE: &str = "huddle_lang";

/// Where the language switch sends its choice (`GET`, no JavaScript).
pub const SWITCH_PATH: &str = "/language";

/// One of the languages Huddle speaks (`LANGUAGES`), English first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Locale(u8);

impl Locale {
    pub const ENGLISH: Locale = Locale(0);

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Locale> {
        (0..LANGUAGES.len() as u8).map(Locale)
    }

    /// Its BCP 47 tag (`en`, `zh-CN`), as in `<html lang>`.
    pub fn tag(self) -> &'static str {
        LANGUAGES[self.0 as usize].0
    }

    /// Its name in itself (`English`, `简体中文`), for the switch.
    pub fn own_name(self) -> &'static str {
        LANGUAGES[self.0 as usize].1
    }

    /// The language with exactly this tag (any case).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        Locale::all().find(|l| l.tag().eq_ignore_ascii_case(tag.trim()))
    }

    /// The language for a request: the person's choice (the cookie) if it
    /// names one, else the best match of the browser's `Accept-Language`.
    pub fn for_request(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
        let chosen = cookie.and_then(|header| {
            header.split(';').find_map(|pair| pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('='))).and_then(Locale::from_tag)
        });
        chosen.unwrap_or_else(|| negotiate::best(accept_language.unwrap_or("")))
    }

    /// `text` in this language (its only form, or its `other` form), for
    /// the server's words outside a page (errors, files).
    #[cfg(feature = "ssr")]
    pub fn text(self, text: Text) -> &'static str {
        last_form(CATALOGS[self.0 as usize][text as usize])
    }
}

fn last_form(forms: &str) -> &str {
    forms.rsplit('\u{1f}').next().unwrap_or_default()
}

/// The right form of `forms` for `count`, with the count filled in.
fn with_count(locale: Locale, forms: &str, count: u64) -> String {
    fill(plural_form(forms, LANGUAGES[locale.0 as usize].2, count), &[("count", &count.to_string())])
}

/// The form of `forms` (joined by U+001F) a language with `rule` uses for `count`.
fn plural_form<'a>(forms: &'a str, rule: &str, count: u64) -> &'a str {
    forms.split('\u{1f}').nth(plural_index(rule, count)).or_else(|| forms.rsplit('\u{1f}').next()).unwrap_or_default()
}

/// `message` with each `{name}` replaced by its value.
pub fn fill(message: &str, values: &[(&str, &str)]) -> String {
    let mut out = message.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The language of the page being rendered: the request's on the server,
/// the page's own (`<html lang>`) in the browser.
pub fn locale() -> Locale {
    #[cfg(feature = "ssr")]
    return leptos::prelude::use_context::<Locale>().unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    return browser::locale();
}

/// `text`'s forms in the page's language.
fn forms(text: Text) -> &'static str {
    #[cfg(feature = "ssr")]
    return CATALOGS[locale().0 as usize][text as usize];
    #[cfg(not(feature = "ssr"))]
    return browser::forms(text);
}

/// Runs `say` with `locale` as the page's language: for the server's words
/// outside a page (an HTTP refusal), which then use [`t`] as pages do.
#[cfg(feature = "ssr")]
pub fn in_language<T>(locale: Locale, say: impl FnOnce() -> T) -> T {
    let owner = leptos::prelude::Owner::new();
    owner.with(|| {
        leptos::prelude::provide_context(locale);
        say()
    })
}

/// `text` in the page's language.
pub fn t(text: Text) -> &'static str {
    last_form(forms(text))
}

/// `text` with its `{name}`s filled in, in the page's language.
pub fn t_with(text: Text, values: &[(&str, &str)]) -> String {
    fill(t(text), values)
}

/// `text` with a count (`{count}`), in the form the page's language uses.
pub fn t_count(text: Text, count: u64) -> String {
    with_count(locale(), forms(text), count)
}

/// The page's table of messages, for the browser: each message of this
/// language the browser shows (`FOR_BROWSER`; the others empty) in `Text`'s
/// order, as JSON safe inside a `<script>`.
#[cfg(feature = "ssr")]
pub fn browser_table(locale: Locale) -> String {
    let table: Vec<&str> = CATALOGS[locale.0 as usize].iter().zip(FOR_BROWSER).map(|(text, needed)| if needed { *text } else { "" }).collect();
    serde_json::to_string(&table).unwrap_or_default().replace("</", "<\\/").replace("<!--", "<\\!--")
}

/// The browser's side: the table the page carries, read once.
#[cfg(not(feature = "ssr"))]
mod browser {
    use std::cell::OnceCell;

    use super::{Locale, Text};

    thread_local! {
        static TABLE: OnceCell<Vec<&'static str>> = const { OnceCell::new() };
        static LOCALE: OnceCell<Locale> = const { OnceCell::new() };
    }

    fn table() -> Vec<&'static str> {
        let text = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("huddle-texts"))
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        let strings: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
        strings.into_iter().map(|s| &*Box::leak(s.into_boxed_str())).collect()
    }

    pub(super) fn forms(text: Text) -> &'static str {
        TABLE.with(|t| t.get_or_init(table).get(text as usize).copied().unwrap_or_default())
    }

    /// The page's `<html lang>`, read once: a page keeps its language.
    pub(super) fn locale() -> Locale {
        LOCALE.with(|l| {
            *l.get_or_init(|| {
                let lang = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()).and_then(|e| e.get_attribute("lang"));
                lang.as_deref().and_then(Locale::from_tag).unwrap_or_default()
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_a_tag_a_name_and_english_comes_first() {
        assert_eq!(Locale::ENGLISH.tag(), "en");
        assert_eq!(Locale::from_tag("ZH-cn").map(Locale::tag), Some("zh-CN"));
        assert_eq!(Locale::from_tag("zh-CN").map(Locale::own_name), Some("简体中文"));
        assert_eq!(Locale::from_tag("fr"), None);
    }

    #[test]
    fn the_cookie_wins_over_the_browser_and_a_bad_one_is_ignored() {
        let zh = Locale::from_tag("zh-CN").unwrap();
        assert_eq!(Locale::for_request(Some("a=b; huddle_lang=zh-CN"), Some("en-US,en;q=0.9")), zh);
        assert_eq!(Locale::for_request(Some("huddle_lang=xx"), Some("zh-CN")), zh, "an unknown choice falls to the browser's");
        assert_eq!(Locale::for_request(Some("other_huddle_lang=en"), Some("zh")), zh);
        assert_eq!(Locale::for_request(None, None), Locale::ENGLISH);
    }

    #[test]
    fn messages_come_in_the_language_asked_with_values_and_counts_filled_in() {
        let zh = Locale::from_tag("zh-CN").unwrap();
        assert_eq!(Locale::ENGLISH.text(Text::AuthSignIn), "Sign in");
        assert_eq!(zh.text(Text::AuthSignIn), "登录");
        assert_eq!(fill("Let {name} speak", &[("name", "Ada")]), "Let Ada speak");
        assert_eq!(plural_form("{count} person\u{1f}{count} people", "one_other", 1), "{count} person");
        assert_eq!(plural_form("{count} person\u{1f}{count} people", "one_other", 0), "{count} people");
        assert_eq!(plural_form("{count} 人", "other", 1), "{count} 人");
    }

    #[test]
    fn each_plural_rule_picks_its_languages_form() {
        let picks = |rule: &str, counts: &[u64]| counts.iter().map(|n| plural_forms(rule).unwrap()[plural_index(rule, *n)]).collect::<Vec<_>>();
        assert_eq!(picks("other", &[0, 1, 2]), ["other"; 3]);
        assert_eq!(picks("one_other", &[0, 1, 2, 21]), ["other", "one", "other", "other"]);
        assert_eq!(picks("one_with_zero", &[0, 1, 2]), ["one", "one", "other"], "French: 0 and 1 are singular");
        assert_eq!(
            picks("east_slavic", &[1, 2, 5, 11, 12, 21, 22, 25, 111, 112]),
            ["one", "few", "many", "many", "many", "one", "few", "many", "many", "many"]
        );
        assert_eq!(picks("polish", &[1, 2, 5, 21, 22, 112]), ["one", "few", "many", "many", "few", "many"]);
        assert_eq!(picks("czech", &[1, 2, 4, 5, 22]), ["one", "few", "few", "other", "other"]);
        assert_eq!(
            picks("arabic", &[0, 1, 2, 3, 10, 11, 99, 100, 102, 103]),
            ["zero", "one", "two", "few", "few", "many", "many", "other", "other", "few"]
        );
        // Every language here names a rule Huddle knows.
        for (_, _, rule) in LANGUAGES {
            assert!(plural_forms(rule).is_some(), "{rule}");
        }
    }

    #[test]
    fn a_language_must_say_every_message_with_english_s_placeholders_unless_a_draft() {
        use catalog_check::{check_language, Messages};
        let messages = |pairs: &[(&str, &[&str])]| -> Messages {
            pairs.iter().map(|(key, forms)| (key.to_string(), forms.iter().map(|f| f.to_string()).collect())).collect()
        };
        let english =
            messages(&[("call.leave", &["Leave"]), ("tile.let_speak", &["Let {name} speak"]), ("call.with", &["{count} other", "{count} others"])]);
        let whole = messages(&[("call.leave", &["离开"]), ("tile.let_speak", &["让{name}发言"]), ("call.with", &["{count} 人"])]);
        assert_eq!(check_language(&english, &whole, "zh-CN", true), Ok(0));
        let counted_in_words = messages(&[("call.leave", &["离开"]), ("tile.let_speak", &["让{name}发言"]), ("call.with", &["有人"])]);
        assert_eq!(check_language(&english, &counted_in_words, "zh-CN", true), Ok(0), "a count may be left to the words");

        let short = messages(&[("call.leave", &["离开"]), ("call.with", &["{count} 人"])]);
        let refused = check_language(&english, &short, "zh-CN", true).unwrap_err();
        assert!(refused.contains("locales/zh-CN.toml has no `tile.let_speak`"), "{refused}");
        assert_eq!(check_language(&english, &short, "zh-CN", false), Ok(1), "a draft shows it in English");

        let mut extra = whole.clone();
        extra.insert("call.gone".into(), vec!["没有".into()]);
        assert!(check_language(&english, &extra, "zh-CN", true).unwrap_err().contains("has `call.gone`, which locales/en.toml does not"));
        for wrong in [&["让发言"][..], &["让{who}发言"][..]] {
            let mut placeholders = whole.clone();
            placeholders.insert("tile.let_speak".into(), wrong.iter().map(|f| f.to_string()).collect());
            let refused = check_language(&english, &placeholders, "zh-CN", true).unwrap_err();
            assert!(refused.starts_with("locales/zh-CN.toml: `tile.let_speak` has"), "{refused}");
        }
    }

    #[test]
    fn the_browser_table_cannot_end_its_script() {
        let table = browser_table(Locale::ENGLISH);
        assert!(table.starts_with('[') && !table.contains("</"));
        let parsed: Vec<String> = serde_json::from_str(&table).unwrap();
        assert_eq!(parsed.len(), TEXTS);
        assert_eq!(parsed[Text::WaitingLetIn as usize], "Waiting for the host to let you in.", "the browser's messages");
        assert_eq!(parsed[Text::HomeHero as usize], "", "and none the server alone renders");
    }
}

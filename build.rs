//! Reads the translations (`locales/*.toml`) into `Text`, one variant per
//! message, and each language's messages in that order. English
//! (`en.toml`) names every message; another language must have each one,
//! with the same `{placeholders}`, or the build stops naming what is
//! missing. A language marked `complete = false` may leave messages out
//! while it is being translated: those show in English, and the build
//! says how many.

use std::collections::BTreeMap;

#[allow(dead_code)]
mod plural_rules {
    include!("src/i18n/plural_rules.rs");
}
mod catalog_check {
    include!("src/i18n/catalog_check.rs");
}
use catalog_check::check_language;
use plural_rules::{plural_forms, PLURAL_RULES};
use std::fmt::Write as _;
use std::path::Path;

/// The forms of a message with a count (`{ one = …, other = … }`), joined
/// with this character in the generated tables.
const FORMS: char = '\u{1f}';

struct Language {
    tag: String,
    name: String,
    complete: bool,
    plural: String,
    /// `[meta] browser`: the sections the browser's islands show (read
    /// from English only).
    browser: Vec<String>,
    messages: BTreeMap<String, Vec<String>>,
}

fn main() {
    let dir = Path::new("locales");
    println!("cargo::rerun-if-changed=locales");
    // New migration files (sqlx::migrate! notices edits, not additions).
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-changed=src/i18n/plural_rules.rs");
    println!("cargo::rerun-if-changed=src/i18n/catalog_check.rs");
    let mut languages = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("the locales directory").map(|e| e.expect("a locale file").path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        println!("cargo::rerun-if-changed={}", path.display());
        languages.push(read(path));
    }
    let english = languages.iter().position(|l| l.tag == "en").expect("locales/en.toml, which names every message");
    languages.swap(0, english);
    let keys: Vec<String> = languages[0].messages.keys().cloned().collect();
    let browser = &languages[0].browser;
    assert!(!browser.is_empty(), "locales/en.toml: [meta] browser, the sections the browser shows");
    for section in browser {
        assert!(
            keys.iter().any(|k| k.split('.').next() == Some(section)),
            "locales/en.toml: [meta] browser names `{section}`, which is not a section"
        );
    }

    for language in &languages[1..] {
        let missing =
            check_language(&languages[0].messages, &language.messages, &language.tag, language.complete).unwrap_or_else(|why| panic!("{why}"));
        if missing > 0 {
            println!("cargo::warning=locales/{}.toml is a draft: {missing} of {} messages show in English", language.tag, keys.len());
        }
    }

    let mut out = String::new();
    out.push_str("/// Every message a person reads, by its place in `locales/en.toml`.\n");
    out.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\n#[repr(u16)]\npub enum Text {\n");
    for key in &keys {
        writeln!(out, "    /// {}", languages[0].messages[key].join(" / ").replace('\n', " ")).unwrap();
        writeln!(out, "    {},", variant(key)).unwrap();
    }
    out.push_str("}\n\n");
    writeln!(out, "/// How many messages there are.\npub const TEXTS: usize = {};\n", keys.len()).unwrap();
    out.push_str("/// Each language: its tag, its own name, its plural rule.\n");
    out.push_str("pub const LANGUAGES: &[(&str, &str, &str)] = &[\n");
    for language in &languages {
        writeln!(out, "    ({:?}, {:?}, {:?}),", language.tag, language.name, language.plural).unwrap();
    }
    out.push_str("];\n\n");
    out.push_str("/// Whether the browser needs each message (`[meta] browser` of en.toml): the rest stay out of the page's table.\n");
    writeln!(out, "pub const FOR_BROWSER: [bool; {}] = [", keys.len()).unwrap();
    for key in &keys {
        let section = key.split('.').next().unwrap_or_default();
        writeln!(out, "    {},", browser.iter().any(|s| s == section)).unwrap();
    }
    out.push_str("];\n\n");
    out.push_str("/// Each language's messages, in `Text`'s order (a count's forms joined by U+001F; a draft's missing ones in English).\n");
    out.push_str("#[cfg(feature = \"ssr\")]\n");
    writeln!(out, "pub static CATALOGS: [[&str; {}]; {}] = [", keys.len(), languages.len()).unwrap();
    for language in &languages {
        out.push_str("    [\n");
        for key in &keys {
            let forms = language.messages.get(key).cloned().unwrap_or_else(|| in_english(&languages[0].messages[key], &language.plural));
            writeln!(out, "        {:?},", forms.join(&FORMS.to_string())).unwrap();
        }
        out.push_str("    ],\n");
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("texts.rs");
    std::fs::write(target, out).expect("the generated texts");
}

fn read(path: &Path) -> Language {
    let tag = path.file_stem().and_then(|s| s.to_str()).expect("a locale file named by its tag").to_string();
    let text = std::fs::read_to_string(path).expect("a readable locale file");
    let table: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = table.get("meta").and_then(|m| m.as_table()).unwrap_or_else(|| panic!("{}: a [meta] table with `name`", path.display()));
    let name = meta.get("name").and_then(|v| v.as_str()).unwrap_or_else(|| panic!("{}: [meta] needs `name`", path.display())).to_string();
    let complete = meta.get("complete").and_then(|v| v.as_bool()).unwrap_or(true);
    let plural = meta.get("plural").and_then(|v| v.as_str()).unwrap_or("one_other").to_string();
    let known: Vec<&str> = PLURAL_RULES.iter().map(|(name, _, _)| *name).collect();
    let categories = plural_forms(&plural)
        .unwrap_or_else(|| panic!("{}: plural must be one of {known:?} (src/i18n/plural_rules.rs says which languages each serves)", path.display()));
    let browser = match meta.get("browser") {
        Some(list) => list
            .as_array()
            .and_then(|l| l.iter().map(|v| v.as_str().map(String::from)).collect::<Option<Vec<_>>>())
            .unwrap_or_else(|| panic!("{}: [meta] browser must be a list of section names", path.display())),
        None => Vec::new(),
    };
    let mut messages = BTreeMap::new();
    for (section, entries) in table.iter().filter(|(k, _)| *k != "meta") {
        let entries = entries.as_table().unwrap_or_else(|| panic!("{}: `{section}` must be a table", path.display()));
        for (name, value) in entries {
            let key = format!("{section}.{name}");
            let forms = match value {
                toml::Value::String(s) => vec![s.clone()],
                toml::Value::Table(forms) => {
                    if let Some(extra) = forms.keys().find(|form| !categories.contains(&form.as_str())) {
                        panic!("{}: `{key}` has `{extra}`, which `{plural}` does not use: it uses {categories:?}", path.display());
                    }
                    categories
                        .iter()
                        .map(|form| {
                            forms
                                .get(*form)
                                .and_then(|v| v.as_str())
                                .unwrap_or_else(|| panic!("{}: `{key}` needs `{form}`", path.display()))
                                .to_string()
                        })
                        .collect()
                }
                _ => panic!("{}: `{key}` must be text, or a table of forms", path.display()),
            };
            messages.insert(key, forms);
        }
    }
    Language { tag, name, complete, plural, browser, messages }
}

/// English's forms of a message a draft language lacks, as that language's
/// forms: its `one` for a `one`, its `other` for every other.
fn in_english(english: &[String], rule: &str) -> Vec<String> {
    if english.len() == 1 {
        return english.to_vec();
    }
    plural_forms(rule).unwrap_or(&["other"]).iter().map(|form| if *form == "one" { english[0].clone() } else { english[1].clone() }).collect()
}

/// `call.mute_microphone` → `CallMuteMicrophone`.
fn variant(key: &str) -> String {
    key.split(['.', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

// Whether a language's messages match English's: read by `build.rs`
// (`include!`), which stops the build on an `Err`, and tested with the
// crate (`i18n::tests`). Messages are by key (`section.name`), each its
// forms (one, or one per form of the language's plural rule).

use std::collections::{BTreeMap, BTreeSet};

/// A language's messages, by key.
pub type Messages = BTreeMap<String, Vec<String>>;

/// Checks `language` (tagged `tag`) against `english`: every message there,
/// none that English lacks, each with English's `{placeholders}` (a count
/// may be left to the form's words). A draft (`complete` false) may leave
/// messages out: the answer is how many.
pub fn check_language(english: &Messages, language: &Messages, tag: &str, complete: bool) -> Result<usize, String> {
    let mut missing = 0;
    for (key, english_forms) in english {
        match language.get(key) {
            Some(forms) => check_placeholders(english_forms, forms).map_err(|why| format!("locales/{tag}.toml: `{key}` {why}"))?,
            None if complete => return Err(format!("locales/{tag}.toml has no `{key}`: translate it, or mark the language `complete = false`")),
            None => missing += 1,
        }
    }
    if let Some(extra) = language.keys().find(|key| !english.contains_key(*key)) {
        return Err(format!("locales/{tag}.toml has `{extra}`, which locales/en.toml does not"));
    }
    Ok(missing)
}

/// `{name}`s in a message.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
}

/// A translation fills in what English fills in: no `{name}` English lacks,
/// and every one English has (a count may be left to the form's words).
fn check_placeholders(english: &[String], forms: &[String]) -> Result<(), String> {
    let wanted: BTreeSet<&str> = english.iter().flat_map(|f| placeholders(f)).collect();
    let found: BTreeSet<&str> = forms.iter().flat_map(|f| placeholders(f)).collect();
    let missing = wanted.difference(&found).any(|name| *name != "count");
    if !found.is_subset(&wanted) || missing {
        return Err(format!("has {found:?}, English has {wanted:?}"));
    }
    Ok(())
}

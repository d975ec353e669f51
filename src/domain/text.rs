//! Rules shared by every short piece of text a person types (names, titles).

/// Characters that must never reach a page or another participant: control
/// characters and the bidirectional overrides that can disguise text.
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Strips forbidden characters from `raw`, trims it and checks that
/// 1..=`max` characters remain. `what` names the value in the message a
/// person sees.
pub(crate) fn short_text(raw: &str, max: usize, what: &str) -> Result<String, String> {
    let cleaned: String = raw.chars().filter(|c| !is_forbidden(*c)).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(format!("Please enter {what}."));
    }
    if trimmed.chars().count() > max {
        return Err(format!("{} must be at most {max} characters.", capitalise(what)));
    }
    Ok(trimmed.to_string())
}

fn capitalise(what: &str) -> String {
    let what = what.strip_prefix("a ").or_else(|| what.strip_prefix("an ")).unwrap_or(what);
    let mut chars = what.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

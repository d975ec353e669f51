//! Rules shared by every piece of text a person types: short ones (names,
//! titles) and ones with lines (chat, a welcome note).

/// Characters that must never reach a page or another participant: control
/// characters and the bidirectional overrides that can disguise text.
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Characters that take no room on screen: zero-width spaces and joiners,
/// word joiners, invisible operators, the byte-order mark, soft hyphens,
/// fillers, blank braille, variation selectors and tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}' | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}'
    )
}

/// Strips forbidden characters from `raw`, trims it and checks that
/// 1..=`max` characters remain.
pub(crate) fn short_text(raw: &str, max: usize) -> Result<String, super::Problem> {
    let cleaned: String = raw.chars().filter(|c| !is_forbidden(*c)).collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
    // Two zero-width spaces are no name: something must show.
    if !trimmed.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Err(super::Problem::Missing);
    }
    if trimmed.chars().count() > max {
        return Err(super::Problem::too_long(max));
    }
    Ok(trimmed.to_string())
}

/// Text with lines, as typed: Windows line ends made plain, line breaks
/// kept, other forbidden characters removed, the ends trimmed.
pub(crate) fn text_with_lines(raw: &str) -> String {
    let cleaned: String = raw.replace("\r\n", "\n").chars().filter(|c| *c == '\n' || !is_forbidden(*c)).collect();
    cleaned.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_must_show_at_least_one_character() {
        for invisible in ["\u{200B}\u{200B}", " \u{FEFF} ", "\u{3164}", "\u{2800}\u{00AD}"] {
            assert!(short_text(invisible, 64).is_err(), "{invisible:?}");
        }
        assert_eq!(short_text("\u{200B}Ada\u{200B}", 64).unwrap(), "Ada");
        assert_eq!(short_text("A\u{200D}B", 64).unwrap(), "A\u{200D}B", "joiners inside are kept (emoji need them)");
    }
}

use super::text::text_with_lines;

/// A host's word to guests before they are let in ("I am running about ten
/// minutes late"): up to 500 characters of visible text, line breaks kept,
/// other control and bidirectional-override characters removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WelcomeNote(String);

impl WelcomeNote {
    /// Longest accepted note, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Cleans and checks a note typed by a host; a blank one is no note.
    pub fn parse(raw: &str) -> Result<Option<Self>, super::Problem> {
        let trimmed = text_with_lines(raw);
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(super::Problem::too_long(Self::MAX_CHARS));
        }
        Ok(Some(Self(trimmed)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_note_is_no_note() {
        assert_eq!(WelcomeNote::parse("  \n "), Ok(None));
    }

    #[test]
    fn a_note_keeps_its_lines_and_loses_hidden_characters() {
        let note = WelcomeNote::parse(" Running late.\r\nSee you at 9:10\u{202E} ").unwrap().unwrap();
        assert_eq!(note.as_str(), "Running late.\nSee you at 9:10");
    }

    #[test]
    fn a_note_of_501_characters_is_refused_and_500_accepted() {
        assert!(WelcomeNote::parse(&"é".repeat(500)).unwrap().is_some());
        assert_eq!(WelcomeNote::parse(&"é".repeat(501)), Err(crate::domain::Problem::TooLong { max: 500 }));
    }
}

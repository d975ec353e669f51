use serde::{Deserialize, Serialize};

use super::text::text_with_lines;

/// One chat message: 1 to 2,000 characters of visible text, line breaks
/// kept, other control and bidirectional-override characters removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChatText(String);

impl ChatText {
    /// Longest accepted message, in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Cleans and checks a message typed by a person.
    pub fn parse(raw: &str) -> Result<Self, super::Problem> {
        let trimmed = text_with_lines(raw);
        if trimmed.is_empty() {
            return Err(super::Problem::Missing);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(super::Problem::too_long(Self::MAX_CHARS));
        }
        Ok(Self(trimmed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ChatText {
    type Error = super::Problem;
    fn try_from(raw: String) -> Result<Self, super::Problem> {
        Self::parse(&raw)
    }
}

impl From<ChatText> for String {
    fn from(text: ChatText) -> String {
        text.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_are_kept_and_the_ends_trimmed() {
        assert_eq!(ChatText::parse("  Hello,\r\nsee you at 3\n").unwrap().as_str(), "Hello,\nsee you at 3");
    }

    #[test]
    fn blank_or_too_long_messages_are_refused() {
        assert!(ChatText::parse(" \n\t ").is_err());
        assert!(ChatText::parse(&"é".repeat(ChatText::MAX_CHARS)).is_ok());
        assert!(ChatText::parse(&"é".repeat(ChatText::MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn control_and_bidi_override_characters_are_stripped() {
        assert_eq!(ChatText::parse("a\u{0007}b\u{202E}c\u{0000}").unwrap().as_str(), "abc");
    }

    #[test]
    fn deserialising_applies_the_same_rules() {
        assert!(serde_json::from_str::<ChatText>("\"\\u0000\"").is_err());
        assert_eq!(serde_json::from_str::<ChatText>("\" hi \"").unwrap().as_str(), "hi");
    }
}

use serde::{Deserialize, Serialize};

use super::text::short_text;

/// A room's name as its host typed it: 1 to 80 characters of visible text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomName(String);

impl RoomName {
    /// Longest accepted room name, in characters.
    pub const MAX_CHARS: usize = 80;

    /// Trims and checks a room name typed by a host.
    pub fn parse(raw: &str) -> Result<Self, super::Problem> {
        short_text(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_name_is_trimmed_and_limited() {
        assert_eq!(RoomName::parse(" Clinic ").unwrap().as_str(), "Clinic");
        assert!(RoomName::parse("").is_err());
        assert!(RoomName::parse(&"a".repeat(81)).is_err());
        assert_eq!(RoomName::parse("Year\u{0000} 9\u{202D}").unwrap().as_str(), "Year 9");
    }
}

use serde::{Deserialize, Serialize};

use super::text::short_text;

/// The name other participants see: 1 to 64 characters of visible text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Trims and checks a name typed by a person.
    pub fn parse(raw: &str) -> Result<Self, super::Problem> {
        short_text(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What stands for the person when their camera is off: the first
    /// letters of the first and last words ("Pat Doe" → "PD"), skipping
    /// titles that end in a full stop ("Dr. Ada Okafor" → "AO") and ASCII
    /// punctuation. Letters stay as typed ("ada" → "a"): the page shows
    /// them in capitals with CSS, which spares the bundle Unicode's case
    /// tables.
    pub fn initials(&self) -> String {
        let words: Vec<&str> = self.0.split_whitespace().collect();
        let named: Vec<&str> = words.iter().copied().filter(|w| !w.ends_with('.')).collect();
        let words = if named.is_empty() { words } else { named };
        let first = |w: &&str| w.chars().find(|c| !c.is_ascii_punctuation());
        match words.as_slice() {
            [] => String::new(),
            [only] => first(only).into_iter().collect(),
            [head, .., last] => first(head).into_iter().chain(first(last)).collect(),
        }
    }
}

impl TryFrom<String> for DisplayName {
    type Error = super::Problem;
    fn try_from(raw: String) -> Result<Self, super::Problem> {
        Self::parse(&raw)
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> String {
        name.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(DisplayName::parse("  Dr. Ada  ").unwrap().as_str(), "Dr. Ada");
    }

    #[test]
    fn an_empty_or_blank_name_is_refused() {
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse("   ").is_err());
    }

    #[test]
    fn a_name_of_65_characters_is_refused_and_64_accepted() {
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(65)).is_err());
    }

    #[test]
    fn control_and_bidi_override_characters_are_stripped() {
        assert_eq!(DisplayName::parse("Ada\u{0007}").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse("Ada\u{202E}gnp.exe").unwrap().as_str(), "Adagnp.exe");
        assert_eq!(DisplayName::parse(" \u{2066}Bo\u{2069}\n").unwrap().as_str(), "Bo");
        assert!(DisplayName::parse("\u{202E}\u{0000}").is_err(), "nothing left is no name");
    }

    #[test]
    fn markup_is_kept_as_plain_text() {
        let name = DisplayName::parse("<img src=x onerror=alert(1)>").unwrap();
        assert_eq!(name.as_str(), "<img src=x onerror=alert(1)>");
    }

    #[test]
    fn initials_take_the_first_and_last_names_and_skip_titles() {
        let initials = |name: &str| DisplayName::parse(name).unwrap().initials();
        assert_eq!(initials("Pat Doe"), "PD");
        assert_eq!(initials("Dr. Ada Okafor"), "AO");
        assert_eq!(initials("Ms. Teacher"), "T");
        assert_eq!(initials("ada lovelace"), "al", "capitals are the page's to draw");
        assert_eq!(initials("Jean-Paul de la Cruz"), "JC");
        assert_eq!(initials("王小明"), "王");
        assert_eq!(initials("Dr."), "D", "a name that is only a title still has a letter");
        assert_eq!(initials("Émile Zola"), "ÉZ");
        assert_eq!(initials("(Bo) 'Li'"), "BL", "punctuation is not a letter");
    }

    #[test]
    fn deserialising_applies_the_same_rules() {
        assert!(serde_json::from_str::<DisplayName>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<DisplayName>("\" Bo \"").unwrap().as_str(), "Bo");
    }
}

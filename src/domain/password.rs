/// A password as typed, checked for length only: no composition rules, no
/// truncation, anything a password manager or a paste produces.
///
/// Deliberately neither `Serialize` nor `Debug`-printable, so it cannot end up
/// in a log line or a response by accident.
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// Longest accepted password, in characters: generous for passphrases,
    /// bounded so hashing cost stays bounded.
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: String) -> Result<Self, super::Problem> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(super::Problem::PasswordTooShort { min: Self::MIN_CHARS as u32 });
        }
        if len > Self::MAX_CHARS {
            return Err(super::Problem::too_long(Self::MAX_CHARS));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_are_enforced_in_characters() {
        assert!(Password::parse("seven77".into()).is_err());
        assert!(Password::parse("eight888".into()).is_ok());
        assert!(Password::parse("ü".repeat(1024)).is_ok());
        assert!(Password::parse("ü".repeat(1025)).is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let p = Password::parse("correct horse".into()).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}

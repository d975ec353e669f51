use serde::{Deserialize, Serialize};

use super::text::is_forbidden;
use super::Problem;

/// An email address used to sign in, stored lower-cased so that
/// `Ada@Example.org` and `ada@example.org` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// RFC 5321 limits a forward path to 254 characters.
    pub const MAX_CHARS: usize = 254;

    /// Checks the shape of an address: one `@`, a non-empty local part, and
    /// a domain with a dot. Whether it receives mail is not our business here.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Problem::Missing);
        }
        let invalid = || Err(Problem::EmailShape);
        if email.chars().count() > Self::MAX_CHARS {
            return Err(Problem::too_long(Self::MAX_CHARS));
        }
        if email.chars().any(|c| c.is_whitespace() || is_forbidden(c)) {
            return invalid();
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') =>
            {
                Ok(Self(email))
            }
            _ => invalid(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_lower_cased_and_trimmed() {
        assert_eq!(Email::parse(" Ada@Example.ORG ").unwrap().as_str(), "ada@example.org");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in ["", "ada", "ada@", "@example.org", "ada@example", "a b@example.org", "a@b@example.org", "ada@.org"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

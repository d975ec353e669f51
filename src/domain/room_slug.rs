use serde::{Deserialize, Serialize};

/// The unguessable part of a join link (`/r/{slug}`): 144 random bits from
/// the operating system's CSPRNG, written as 24 URL-safe base64 characters
/// (made by the server's token generator).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomSlug(String);

impl RoomSlug {
    /// Random bytes per slug (144 bits, over the 128 we promise).
    pub const BYTES: usize = 18;
    /// Characters per slug: 18 bytes encode to exactly 24 base64 characters.
    pub const CHARS: usize = 24;

    /// Checks that `raw` has the shape of a slug we could have issued.
    pub fn parse(raw: &str) -> Result<Self, super::Problem> {
        let ok = raw.len() == Self::CHARS && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(super::Problem::NotAJoinLink)
        }
    }

    /// The slug in a join link as a person pastes it: the whole link
    /// (`https://huddle.example/r/{slug}`, with or without a query or a
    /// trailing slash, surrounded by spaces) or the slug alone.
    pub fn from_link(pasted: &str) -> Result<Self, super::Problem> {
        let pasted = pasted.trim();
        let after = pasted.rsplit_once("/r/").map_or(pasted, |(_, rest)| rest);
        let slug = after.split(['?', '#', '/']).next().unwrap_or_default();
        Self::parse(slug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoomSlug {
    type Error = super::Problem;
    fn try_from(raw: String) -> Result<Self, super::Problem> {
        Self::parse(&raw)
    }
}

impl From<RoomSlug> for String {
    fn from(slug: RoomSlug) -> String {
        slug.0
    }
}

impl std::fmt::Display for RoomSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_link_gives_its_slug() {
        let slug = "abcdefghijklmnopqrstuv-_";
        for pasted in [
            format!("https://huddle.example/r/{slug}"),
            format!("  http://127.0.0.1:3000/r/{slug}/ \n"),
            format!("https://huddle.example/r/{slug}?from=mail#top"),
            slug.to_string(),
        ] {
            assert_eq!(RoomSlug::from_link(&pasted).map(|s| s.to_string()), Ok(slug.to_string()), "{pasted:?}");
        }
        for pasted in ["", "https://huddle.example/rooms", "https://huddle.example/r/short", "hello world"] {
            assert!(RoomSlug::from_link(pasted).is_err(), "{pasted:?}");
        }
    }

    #[test]
    fn only_24_url_safe_characters_parse() {
        assert!(RoomSlug::parse("abcdefghijklmnopqrstuv-_").is_ok());
        assert!(RoomSlug::parse("abcdefghijklmnopqrstuv-").is_err());
        assert!(RoomSlug::parse("abcdefghijklmnopqrstuv-_x").is_err());
        assert!(RoomSlug::parse("abcdefghijklmnopqrstuv/.").is_err());
    }
}

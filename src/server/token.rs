//! Unguessable tokens, the one place they are made: `N` bytes from the
//! operating system's random source, as URL-safe base64 without padding
//! (join links, resume tokens, guest identities, known devices), or a
//! random number (a sign-in's id).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::http::header::{self, HeaderMap};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

/// `N` random bytes, URL-safe base64.
pub fn random_token<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new join link's slug.
pub fn new_room_slug() -> crate::domain::RoomSlug {
    crate::domain::RoomSlug::parse(&random_token::<{ crate::domain::RoomSlug::BYTES }>()).expect("18 random bytes make a slug")
}

/// A random 64-bit number.
pub fn random_u64() -> u64 {
    OsRng.next_u64()
}

/// The value of cookie `name` in the request, if it is a token of
/// [`random_token`]'s shape for `N` bytes (anything else is ignored, as if
/// absent).
pub fn token_cookie<'h, const N: usize>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let length = (N * 4).div_ceil(3);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value)
        .filter(|value| value.len() == length && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_of_the_expected_length_and_differ() {
        let a = random_token::<32>();
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, random_token::<32>());
    }

    #[test]
    fn new_room_slugs_parse_and_differ() {
        let (a, b) = (new_room_slug(), new_room_slug());
        assert_ne!(a, b);
        assert_eq!(crate::domain::RoomSlug::parse(a.as_str()).unwrap(), a);
    }
}

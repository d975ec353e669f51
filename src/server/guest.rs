//! A guest's identity: guests have no account, yet a host turning one away
//! or removing them must not send everyone else on the same school or
//! clinic network back to the lobby. So each browser that opens a join link
//! gets a random identity in a cookie, and those cooldowns are keyed to it.
//!
//! The cookie proves nothing and needs no signature: holding someone
//! else's identity only puts its holder under that person's cooldowns.
//! A guest who clears it comes back as a stranger, as from another device;
//! the per-address connection limit stays as coarse flood protection.

use axum::http::header::{HeaderMap, HeaderValue};

/// The guest cookie's name.
pub const COOKIE: &str = "huddle_guest";
/// How long a browser keeps its guest identity.
const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;
/// Random bytes in an identity (URL-safe base64: 22 characters).
const BYTES: usize = 16;

/// The guest identity the request's cookies carry, if it is one of ours
/// in shape (anything else is ignored, as if absent).
pub fn guest_identity(headers: &HeaderMap) -> Option<&str> {
    crate::server::token::token_cookie::<BYTES>(headers, COOKIE)
}

/// A `Set-Cookie` value giving this browser a new guest identity.
pub fn new_cookie(secure: bool) -> HeaderValue {
    let token = crate::server::token::random_token::<BYTES>();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{secure}"))
        .expect("a token and fixed attributes make a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::header;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_new_cookie_carries_an_identity_that_reads_back() {
        let cookie = new_cookie(true);
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.ends_with("; Secure"));
        let pair = cookie.split(';').next().unwrap();
        let read = with_cookie(&format!("huddle_session=abc; {pair}"));
        assert_eq!(guest_identity(&read), pair.strip_prefix("huddle_guest="));
        assert_ne!(new_cookie(false), new_cookie(false), "identities are random");
        assert!(!new_cookie(false).to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn identities_not_of_our_shape_are_ignored() {
        assert_eq!(guest_identity(&HeaderMap::new()), None);
        for bad in ["huddle_guest=short", "huddle_guest=aaaaaaaaaaaaaaaaaaaaa!", "other=aaaaaaaaaaaaaaaaaaaaaa"] {
            assert_eq!(guest_identity(&with_cookie(bad)), None, "{bad}");
        }
        assert_eq!(guest_identity(&with_cookie("huddle_guest=aaaaaaaaaaaaaaaaaaaaaa")), Some("aaaaaaaaaaaaaaaaaaaaaa"));
    }
}

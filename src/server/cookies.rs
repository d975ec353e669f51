//! Huddle's helper cookies (the guest identity, a known device, the chosen
//! language, what a refused form held) carry the `__Host-` prefix over
//! https, as the session cookie does. A browser keeps a `__Host-` cookie
//! only if it came over https from this very host, with `Secure`,
//! `Path=/` and no `Domain`; so nobody on a sibling subdomain or on a
//! plain-http path can plant one (a planted `huddle_typed` once put its
//! markup into a page's form).
//!
//! Inside Huddle the cookies keep their plain names: [`from_browser`]
//! renames the prefixed ones in a request (and drops plain-named helper
//! cookies, which over https only someone else could have set), and
//! [`to_browser`] prefixes those a response sets. `web_surface::guard`
//! does both, over https only.

use axum::http::header::{self, HeaderMap, HeaderValue};

use crate::server::{guest, known_device};

/// The prefix browsers hold to the rules above.
pub const HOST_PREFIX: &str = "__Host-";

/// What a person typed into a refused form, for the page that shows it
/// again (a minute, this site only, never to scripts).
pub const TYPED: &str = "huddle_typed";

/// The helper cookies (the session's is named by the session layer).
const HELPERS: [&str; 4] = [guest::COOKIE, known_device::COOKIE, crate::i18n::COOKIE, TYPED];

/// A request from the browser: `__Host-huddle_x` becomes `huddle_x`, a
/// plain `huddle_x` is dropped, every other cookie stays as it was.
pub fn from_browser(headers: &mut HeaderMap) {
    if !headers.contains_key(header::COOKIE) {
        return;
    }
    let mut kept: Vec<String> = Vec::new();
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            match name.strip_prefix(HOST_PREFIX) {
                Some(helper) if HELPERS.contains(&helper) => kept.push(pair[HOST_PREFIX.len()..].to_string()),
                _ if HELPERS.contains(&name) => {}
                _ => kept.push(pair.to_string()),
            }
        }
    }
    headers.remove(header::COOKIE);
    if let Ok(joined) = HeaderValue::from_str(&kept.join("; ")) {
        if !kept.is_empty() {
            headers.insert(header::COOKIE, joined);
        }
    }
}

/// A response to the browser: each helper cookie it sets is set as
/// `__Host-huddle_x`, and `Secure`.
pub fn to_browser(headers: &mut HeaderMap) {
    let set: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    if set.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in set {
        headers.append(header::SET_COOKIE, prefixed(cookie));
    }
}

fn prefixed(cookie: HeaderValue) -> HeaderValue {
    let Ok(text) = cookie.to_str() else { return cookie };
    let name = text.split_once('=').map_or(text, |(name, _)| name).trim();
    if !HELPERS.contains(&name) {
        return cookie;
    }
    let secure = text.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure"));
    let renamed = format!("{HOST_PREFIX}{}{}", text.trim_start(), if secure { "" } else { "; Secure" });
    HeaderValue::from_str(&renamed).unwrap_or(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn prefixed_helper_cookies_read_by_their_plain_names_and_planted_plain_ones_are_dropped() {
        let mut h =
            cookies(&["__Host-huddle_guest=abc; huddle_typed=note%3D%3C%2Ftextarea%3E", "__Host-huddle_session=s1; other=1; huddle_lang=zh-CN"]);
        from_browser(&mut h);
        assert_eq!(h.get_all(header::COOKIE).iter().count(), 1);
        assert_eq!(h[header::COOKIE], "huddle_guest=abc; __Host-huddle_session=s1; other=1");
        let mut planted = cookies(&["huddle_guest=zzz"]);
        from_browser(&mut planted);
        assert!(planted.get(header::COOKIE).is_none());
    }

    #[test]
    fn helper_cookies_set_over_https_are_prefixed_and_secure() {
        let mut h = HeaderMap::new();
        for v in
            ["huddle_typed=x; Path=/; Max-Age=60; HttpOnly; SameSite=Strict", "huddle_lang=en; Path=/; Secure", "__Host-huddle_session=1; Secure"]
        {
            h.append(header::SET_COOKIE, HeaderValue::from_str(v).unwrap());
        }
        to_browser(&mut h);
        let set: Vec<&str> = h.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(
            set,
            [
                "__Host-huddle_typed=x; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure",
                "__Host-huddle_lang=en; Path=/; Secure",
                "__Host-huddle_session=1; Secure"
            ]
        );
    }
}

//! What every response carries and what every request must pass: security
//! headers (the page's Content-Security-Policy is set by the shell, which
//! knows the nonce of Leptos' hydration script), refusal of state-changing
//! requests from other sites, and limits on request size and time.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::client_address::Client;
use crate::server::guest::guest_identity;
use crate::server::state::AppState;

/// Largest request body accepted (forms and server function calls are tiny).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The policy for a rendered page: scripts only from us, plus the inline
/// hydration script carrying `nonce`, plus compiling our WASM.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// The policy for everything that is not a page (JSON, files, errors).
const DEFAULT_CSP: &str = "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Refuses cross-site state changes, then stamps the security headers on
/// whatever the response is, errors included.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let client = request.extensions().get::<Client>().copied();
    let https = state.public_origin.starts_with("https://") || client.is_some_and(|c| c.https);
    if https {
        crate::server::cookies::from_browser(request.headers_mut());
    }
    let wants_guest_identity =
        request.method() == Method::GET && request.uri().path().starts_with("/r/") && guest_identity(request.headers()).is_none();
    let mut response = if is_cross_site_change(request.method(), request.headers(), &state.public_origin) {
        // Not the path: it may hold a join link.
        crate::log_within!(crate::server::log_budget::LogBudget::new(5, Duration::from_secs(10)), warn, "refused a cross-site request");
        (StatusCode::FORBIDDEN, crate::server::language::of_request(request.headers()).text(crate::i18n::Text::RefusedCrossSite)).into_response()
    } else {
        let is_static = request.uri().path().starts_with("/pkg/");
        let mut response = next.run(request).await;
        if !is_static {
            set_default(response.headers_mut(), header::CACHE_CONTROL, "no-store");
        }
        response
    };
    if wants_guest_identity {
        // A browser opening a join link gets its guest identity now, before
        // its signaling socket asks to join.
        response.headers_mut().append(header::SET_COOKIE, crate::server::guest::new_cookie(https));
    }
    if https {
        crate::server::cookies::to_browser(response.headers_mut());
    }
    stamp(response.headers_mut(), https);
    response
}

/// A change (any method but GET, HEAD, OPTIONS) that the browser says comes
/// from another site. `Sec-Fetch-Site` is set by the browser and cannot be
/// forged by a page, so when present it decides: under our
/// `Referrer-Policy: no-referrer` browsers send `Origin: null` even for our
/// own form posts. Browsers without it are judged by `Origin`. Requests with
/// neither are not from a browser, which is what forgery needs.
fn is_cross_site_change(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().map_or(true, |o| o != public_origin),
        None => false,
    }
}

fn stamp(headers: &mut HeaderMap, https: bool) {
    set_default(headers, header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"),
    );
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers.entry(name).or_insert(HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    const ORIGIN: &str = "http://127.0.0.1:3000";

    #[test]
    fn same_origin_and_non_browser_changes_pass() {
        assert!(!is_cross_site_change(&Method::POST, &headers(&[("origin", ORIGIN), ("sec-fetch-site", "same-origin")]), ORIGIN));
        assert!(!is_cross_site_change(&Method::POST, &headers(&[("origin", ORIGIN)]), ORIGIN));
        assert!(!is_cross_site_change(&Method::POST, &headers(&[]), ORIGIN));
    }

    #[test]
    fn a_same_origin_form_post_under_no_referrer_passes() {
        // What Chromium sends for our own form with `Referrer-Policy: no-referrer`.
        let h = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert!(!is_cross_site_change(&Method::POST, &h, ORIGIN));
    }

    #[test]
    fn other_origins_and_cross_site_fetches_are_refused() {
        for h in [
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "http://127.0.0.1:3000.evil.example")]),
            headers(&[("origin", "https://127.0.0.1:3000")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site"), ("origin", ORIGIN)]),
        ] {
            assert!(is_cross_site_change(&Method::POST, &h, ORIGIN), "{h:?}");
        }
    }

    #[test]
    fn reading_is_never_refused() {
        assert!(!is_cross_site_change(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")]), ORIGIN));
    }

    #[test]
    fn the_page_policy_allows_only_the_nonced_inline_script() {
        let csp = page_csp("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"));
        for part in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(part), "{part}");
        }
    }
}

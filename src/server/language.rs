//! The language switch: `GET /language?to=zh-CN&back=/rooms` keeps the
//! choice in a cookie for a year and goes back to the page it was made on,
//! so switching works without JavaScript. It changes nothing on the server.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::i18n::{Locale, COOKIE};
use crate::server::state::AppState;

const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;

#[derive(Deserialize)]
pub struct Switch {
    to: Option<String>,
    back: Option<String>,
}

pub async fn switch(State(state): State<AppState>, Query(switch): Query<Switch>, headers: axum::http::HeaderMap) -> Response {
    let Some(locale) = switch.to.as_deref().and_then(Locale::from_tag) else {
        let known: Vec<&str> = Locale::all().map(Locale::tag).collect();
        let said = crate::i18n::fill(of_request(&headers).text(crate::i18n::Text::RefusedUnknownLanguage), &[("languages", &known.join(", "))]);
        return (StatusCode::BAD_REQUEST, said).into_response();
    };
    let cookie = cookie(locale, state.public_origin.starts_with("https://"));
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, HeaderValue::from_str(local_path(switch.back.as_deref())).unwrap_or(HeaderValue::from_static("/"))),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}

/// The `Set-Cookie` that keeps `locale` as this browser's language (from
/// the switch, an account's setting, or signing in).
pub fn cookie(locale: Locale, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{secure}", locale.tag()))
        .expect("a language tag and fixed attributes make a valid header value")
}

/// The language of a request (a page, a download): the person's choice,
/// else their browser's.
pub fn of_request(headers: &axum::http::HeaderMap) -> Locale {
    let header = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    Locale::for_request(header(header::COOKIE), header(header::ACCEPT_LANGUAGE))
}

/// `back` if it is a path on this site, else the home page: the switch
/// never sends anyone elsewhere.
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.chars().any(char::is_control) => path,
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn the_switch_goes_back_only_to_a_page_of_this_site() {
        assert_eq!(local_path(Some("/rooms?x=1#a")), "/rooms?x=1#a");
        for elsewhere in ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "", "/\nSet-Cookie: x=1"] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}

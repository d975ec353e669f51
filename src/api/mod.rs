//! Server functions: the typed calls pages make to the server. Each compiles
//! to an HTTP endpoint under `/api/` on the server and to a fetch in the
//! browser; forms post to them directly, so they work before WASM loads.

pub mod accounts;
pub mod boards;
pub mod polls;
pub mod rooms;
pub mod schedule;

#[cfg(feature = "ssr")]
mod context {
    use leptos::prelude::{provide_context, use_context};
    use leptos::server_fn::error::ServerFnUrlError;

    use crate::error::AppError;
    use crate::server::session::UserSession;
    use crate::server::state::AppState;

    /// What a person typed in the form being handled, by field name: given
    /// back to the form if it is refused (see [`finish`]). Only what a server
    /// function names is kept, never a password or a passcode.
    #[derive(Clone)]
    struct Typed(Vec<(String, String)>);

    /// Keeps `fields` (name, what was typed) for the form to show again if
    /// this request fails.
    pub fn keep_typed(fields: &[(&str, &str)]) {
        provide_context(Typed(fields.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()));
    }

    /// The shared state and the caller's session. A call from a form or a
    /// script (not from a page being rendered) gets the caller's language
    /// here, for what it says (`i18n::t`).
    pub async fn request() -> Result<(AppState, UserSession), AppError> {
        if use_context::<crate::i18n::Locale>().is_none() {
            if let Some(parts) = use_context::<http::request::Parts>() {
                provide_context(crate::server::language::of_request(&parts.headers));
            }
        }
        let state = use_context::<AppState>().ok_or_else(|| AppError::internal("server function context", "AppState missing"))?;
        let session = leptos_axum::extract::<tower_sessions::Session>().await.map_err(|e| AppError::internal("server function context", e))?;
        Ok((state, UserSession(session)))
    }

    /// Switches this browser to `locale` (the answer sets the language cookie).
    pub fn remember_language(state: &AppState, locale: crate::i18n::Locale) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, crate::server::language::cookie(locale, state.public_origin.starts_with("https://")));
        }
    }

    /// The client's address (behind a trusted proxy, the one it reports),
    /// when the server knows it.
    pub async fn client_addr() -> Option<std::net::IpAddr> {
        use crate::server::client_address::Client;
        leptos_axum::extract::<axum::Extension<Client>>().await.ok().map(|client| client.0.address)
    }

    /// Finishes a server function: a failed `/api/` call gets its proper
    /// HTTP status, and a failed plain form post is sent back to `page` (the
    /// form's page) with the error in the URL, where the form shows it. The
    /// browser sends no `Referer` to return to (`Referrer-Policy:
    /// no-referrer`). Calls made while rendering a page change nothing.
    pub fn finish<S>(page: &str, result: Result<S::Output, AppError>) -> Result<S::Output, AppError>
    where
        S: leptos::server_fn::ServerFn<Error = AppError>,
    {
        let Err(error) = &result else { return result };
        let Some(parts) = use_context::<http::request::Parts>() else { return result };
        let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return result };
        if !parts.uri.path().starts_with("/api/") {
            return result;
        }
        let form_post = parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
        if let AppError::TooManyAttempts { wait_secs } = error {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*wait_secs));
        }
        if !form_post {
            response.set_status(error.status());
            return result;
        }
        let origin = use_context::<AppState>().map(|s| s.public_origin.to_string()).unwrap_or_default();
        // What was typed goes back to the form (a minute, this site only,
        // never to scripts), so an error does not wipe it.
        if let Some(Typed(fields)) = use_context::<Typed>() {
            let kept = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
            let secure = if origin.starts_with("https://") { "; Secure" } else { "" };
            let cookie = format!("{}={kept}; Path=/; Max-Age=60; HttpOnly; SameSite=Strict{secure}", crate::server::cookies::TYPED);
            // Browsers take cookies of up to 4 KB: a longer note is lost, not the rest.
            if let Ok(cookie) = http::HeaderValue::from_str(&cookie).map_err(|_| ()).and_then(|c| if c.len() <= 4000 { Ok(c) } else { Err(()) }) {
                response.append_header(http::header::SET_COOKIE, cookie);
            }
        }
        let back = ServerFnUrlError::new(S::PATH, error.clone()).to_url(&format!("{origin}{page}"));
        if let Some(location) = back.ok().and_then(|url| http::HeaderValue::from_str(url.as_str()).ok()) {
            response.insert_header(http::header::LOCATION, location);
        }
        result
    }
}

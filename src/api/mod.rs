//! Server functions: the typed calls pages make to the server. Each compiles
//! to an HTTP endpoint under `/api/` on the server and to a fetch in the
//! browser; forms post to them directly, so they work before WASM loads.

pub mod accounts;
pub mod rooms;

#[cfg(feature = "ssr")]
mod context {
    use leptos::prelude::use_context;

    use crate::error::AppError;
    use crate::server::session::UserSession;
    use crate::server::state::AppState;

    /// The shared state and the caller's session.
    pub async fn request() -> Result<(AppState, UserSession), AppError> {
        let state = use_context::<AppState>().ok_or_else(|| AppError::internal("server function context", "AppState missing"))?;
        let session = leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|e| AppError::internal("server function context", e))?;
        Ok((state, UserSession(session)))
    }

    /// Gives a failed `/api/` call its proper HTTP status. Plain form posts
    /// keep the redirect back to their page (which shows the error), and
    /// calls made while rendering a page do not change the page's status.
    pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result {
            let parts = use_context::<http::request::Parts>();
            let api_call = parts.as_ref().is_some_and(|p| p.uri.path().starts_with("/api/"));
            let form_post = parts.as_ref().is_some_and(|p| {
                p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
            });
            if api_call && !form_post {
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(error.status());
                }
            }
        }
        result
    }
}

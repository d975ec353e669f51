//! Files the host downloads (calendar, attendance, kept chat, polls, kept
//! whiteboards): sent as an attachment, or as the error's status and
//! message; and what their CSV files share (a cell, a time).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use jiff::Timestamp;

use crate::error::AppError;

/// A file to download.
pub struct Attachment {
    /// With its charset, e.g. `text/csv; charset=utf-8`.
    pub content_type: &'static str,
    pub file_name: String,
    pub body: String,
}

/// The response for a download that was found, or why not (in the
/// language of the request, `headers`).
pub fn respond(found: Result<Attachment, AppError>, headers: &axum::http::HeaderMap) -> Response {
    match found {
        Ok(file) => {
            let disposition = format!("attachment; filename=\"{}\"", file.file_name);
            ([(header::CONTENT_TYPE, file.content_type.to_string()), (header::CONTENT_DISPOSITION, disposition)], file.body).into_response()
        }
        Err(e) => (e.status(), crate::i18n::in_language(crate::server::language::of_request(headers), || e.words())).into_response(),
    }
}

/// The policy for a picture a person downloads (a kept whiteboard's page,
/// SVG): nothing loads, no script runs, and `sandbox` makes it a document
/// of no origin at all, should a browser ever show it rather than save it.
/// Only its own `style` attributes apply.
pub const PICTURE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox";

/// Like [`respond`], for an SVG picture: an attachment, never sniffed, and
/// under [`PICTURE_CSP`], so that it is never a page of this site that
/// could run script.
pub fn respond_picture(found: Result<Attachment, AppError>, headers: &axum::http::HeaderMap) -> Response {
    let mut response = respond(found, headers);
    let set = response.headers_mut();
    set.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PICTURE_CSP));
    set.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// `at` in UTC, ISO 8601, to the second (stored times carry nanoseconds).
pub fn to_the_second(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One text cell: quoted when it holds a comma, quote or line break, and
/// prefixed with `'` when it starts like a formula (`=`, `+`, `-`, `@`).
pub fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_an_attachment_that_runs_nothing_and_is_never_sniffed() {
        let file = Attachment { content_type: "image/svg+xml", file_name: "whiteboard-1-page-1.svg".into(), body: "<svg/>".into() };
        let response = respond_picture(Ok(file), &axum::http::HeaderMap::new());
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
        assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment; filename=\"whiteboard-1-page-1.svg\"");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.starts_with("default-src 'none';") && policy.ends_with("; sandbox") && !policy.contains("script"), "{policy}");
        // A refusal says so, under the same policy.
        let refused = respond_picture(Err(AppError::NotFound), &axum::http::HeaderMap::new());
        assert_eq!(refused.status(), axum::http::StatusCode::NOT_FOUND);
        assert_eq!(refused.headers()[header::CONTENT_SECURITY_POLICY], PICTURE_CSP);
    }
}

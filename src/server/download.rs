//! Files the host downloads (calendar, attendance, kept chat, polls): sent
//! as an attachment, or as the error's status and message; and what their
//! CSV files share (a cell, a time).

use axum::http::header;
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

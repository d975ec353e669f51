//! Files the host downloads (calendar, attendance, kept chat): sent as an
//! attachment, or as the error's status and message.

use axum::http::header;
use axum::response::{IntoResponse, Response};

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

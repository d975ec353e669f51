//! Whiteboards kept with their room: the host of a call keeps its board
//! (`Record::Board`: each page with anything on it, as a whole SVG picture
//! the server drew from the elements its hub checked), its room's settings
//! page lists them for the host, and each page downloads as an SVG file.

use jiff::Timestamp;

use crate::call::hub::RoomId;
use crate::error::AppError;
use crate::server::db::{sql, Db, NodeId};
use crate::server::download::{respond_picture, Attachment};
use crate::server::room_files::owned_room;

/// One kept board, as its room's list shows it (its pictures left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptBoard {
    pub id: i64,
    pub kept_at: Timestamp,
    /// How many pages were kept (at least one).
    pub pages: u32,
}

/// Keeps `pages` (whole SVG documents, in order) of room `room`'s board,
/// as `node` kept it at `now`, and says the new row's id. A board with no
/// pages is not kept (`None`); a page that is not an SVG document is
/// refused, and nothing of that board kept.
pub async fn keep(db: &Db, node: &NodeId, now: Timestamp, room: RoomId, pages: &[String]) -> Result<Option<i64>, AppError> {
    if pages.is_empty() {
        return Ok(None);
    }
    if let Some(place) = pages.iter().position(|page| !is_svg(page)) {
        return Err(AppError::internal("keeping a whiteboard failed", format!("its page {} is not an SVG document", place + 1)));
    }
    let json = serde_json::to_string(pages).map_err(|e| AppError::internal("keeping a whiteboard failed", e))?;
    let (id,): (i64,) = sql::query_as("INSERT INTO boards (room_id, pages, page_count, kept_at, node) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(room.0)
        .bind(json)
        .bind(i64::try_from(pages.len()).unwrap_or(i64::MAX))
        .bind(now.to_string())
        .bind(node.as_str())
        .fetch_one(db)
        .await
        .map_err(|e| AppError::internal("keeping a whiteboard failed", e))?;
    Ok(Some(id))
}

/// A whole SVG document, as `call::board::page_svg` writes one.
fn is_svg(page: &str) -> bool {
    page.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && page.ends_with("</svg>")
}

/// Room `room_id`'s kept boards, newest first.
pub async fn list_for_room(db: &Db, room_id: i64) -> Result<Vec<KeptBoard>, AppError> {
    let rows: Vec<(i64, String, i64)> = sql::query_as("SELECT id, kept_at, page_count FROM boards WHERE room_id = $1 ORDER BY kept_at DESC, id DESC")
        .bind(room_id)
        .fetch_all(db)
        .await
        .map_err(|e| AppError::internal("reading the kept whiteboards failed", e))?;
    rows.into_iter()
        .map(|(id, kept_at, pages)| {
            let kept_at = kept_at.parse().map_err(|e| AppError::internal("a stored whiteboard time is invalid", e))?;
            Ok(KeptBoard { id, kept_at, pages: u32::try_from(pages).unwrap_or(0) })
        })
        .collect()
}

/// Page `page` (from 1) of board `board` of room `room_id`, as SVG: another
/// room's board, or a page it does not have, is `NotFound`.
pub async fn page(db: &Db, room_id: i64, board: i64, page: u32) -> Result<String, AppError> {
    let row: Option<(String,)> = sql::query_as("SELECT pages FROM boards WHERE id = $1 AND room_id = $2")
        .bind(board)
        .bind(room_id)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("reading a kept whiteboard failed", e))?;
    let (pages,) = row.ok_or(AppError::NotFound)?;
    nth_page(&pages, page)
}

/// Page `page` (from 1) of a board's stored `pages` (a JSON array).
fn nth_page(pages: &str, page: u32) -> Result<String, AppError> {
    let pages: Vec<String> = serde_json::from_str(pages).map_err(|e| AppError::internal("a stored whiteboard is invalid", e))?;
    let place = usize::try_from(page).ok().and_then(|page| page.checked_sub(1)).ok_or(AppError::NotFound)?;
    pages.into_iter().nth(place).ok_or(AppError::NotFound)
}

/// The page a download's last path segment names: `3.svg` is page 3. Each
/// page has one name (no `0`, no leading zeros, no sign).
fn page_number(segment: &str) -> Option<u32> {
    let digits = segment.strip_suffix(".svg")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// What a downloaded page is called.
fn file_name(board: i64, page: u32) -> String {
    format!("whiteboard-{board}-page-{page}.svg")
}

/// `GET /rooms/{room}/boards/{board}/{page}.svg`: one page of one of the
/// room's kept boards, for the room's host only (signed out: 401; anyone
/// else, another room's board or a page that is not there: 404). Sent as
/// an attachment under a policy that runs nothing (`respond_picture`).
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    axum::extract::Path((room, board, segment)): axum::extract::Path<(i64, i64, String)>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let found = async {
        let (_, room) = owned_room(&state, session, room).await?;
        let number = page_number(&segment).ok_or(AppError::NotFound)?;
        let body = page(&state.db, room, board, number).await?;
        Ok(Attachment { content_type: "image/svg+xml", file_name: file_name(board, number), body })
    };
    respond_picture(found.await, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_named_by_its_number_from_one_and_nothing_else() {
        assert_eq!(page_number("1.svg"), Some(1));
        assert_eq!(page_number("20.svg"), Some(20));
        for other in ["0.svg", "01.svg", "+1.svg", "-1.svg", "1", "1.png", ".svg", "1.svg.svg", "one.svg", "99999999999.svg", "1 .svg"] {
            assert_eq!(page_number(other), None, "{other}");
        }
    }

    #[test]
    fn the_nth_page_is_found_from_one_and_a_missing_one_is_not_found() {
        let stored = serde_json::to_string(&["<svg xmlns=\"a\">1</svg>", "<svg xmlns=\"a\">2</svg>"]).unwrap();
        assert_eq!(nth_page(&stored, 1).unwrap(), "<svg xmlns=\"a\">1</svg>");
        assert_eq!(nth_page(&stored, 2).unwrap(), "<svg xmlns=\"a\">2</svg>");
        assert_eq!(nth_page(&stored, 0), Err(AppError::NotFound));
        assert_eq!(nth_page(&stored, 3), Err(AppError::NotFound));
        assert_eq!(nth_page("not json", 1), Err(AppError::Internal));
    }

    #[test]
    fn only_whole_svg_documents_as_the_hub_draws_them_are_kept() {
        let drawn = crate::call::board::page_svg(&[]);
        assert!(is_svg(&drawn), "{drawn}");
        assert!(!is_svg("<html><script>alert(1)</script></html>"));
        assert!(!is_svg("<svg xmlns=\"http://www.w3.org/2000/svg\">"));
        assert!(!is_svg(""));
    }

    #[test]
    fn a_downloaded_page_is_named_after_its_board_and_number() {
        assert_eq!(file_name(12, 3), "whiteboard-12-page-3.svg");
    }
}

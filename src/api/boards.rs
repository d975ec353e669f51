//! The whiteboards kept with a room, for its host's page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One kept whiteboard, for the host's list (its pages download as SVG
/// from `/rooms/{room}/boards/{id}/{page}.svg`, from page 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardSummary {
    pub id: i64,
    /// When it was kept: "2026-12-01 09:00 UTC" (the page shows it in the
    /// reader's zone), and the same instant in Unix milliseconds.
    pub kept: String,
    pub kept_at_ms: i64,
    /// How many pages were kept (those with anything on them).
    pub pages: u32,
}

/// The kept whiteboards of one of the signed-in account's rooms, newest
/// first.
#[server(prefix = "/api", endpoint = "room_boards")]
pub async fn room_boards(room: i64) -> Result<Vec<BoardSummary>, AppError> {
    use crate::server::{boards, rooms};
    super::context::finish::<RoomBoards>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            rooms::find_owned(&state.db, owner.id, room).await?;
            let kept = boards::list_for_room(&state.db, room).await?;
            Ok(kept
                .into_iter()
                .map(|board| BoardSummary {
                    id: board.id,
                    kept: super::rooms::utc_minute(board.kept_at),
                    kept_at_ms: board.kept_at.as_millisecond(),
                    pages: board.pages,
                })
                .collect())
        }
        .await,
    )
}

//! A room's files (attendance and polls as CSV, kept whiteboards as SVG):
//! for the room's host only; the CSV files of the whole room or of one
//! scheduled session's meetings.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::domain::AccountId;
use crate::error::AppError;
use crate::server::db::Db;
use crate::server::download::{respond, Attachment};

/// A CSV file of one of the signed-in host's rooms, or of one of its
/// scheduled sessions (`?session={id}`), named `stem` (and the session's
/// name): `body` writes it from the database, the room's id, the windows
/// of the session's meetings if one was asked for, and the reader's
/// language. Anyone but the room's host gets the error's status.
pub async fn room_csv<Body>(
    state: &crate::server::state::AppState,
    session: tower_sessions::Session,
    headers: &axum::http::HeaderMap,
    room: i64,
    query: &HashMap<String, String>,
    stem: &str,
    body: impl FnOnce(Db, i64, Option<Vec<(Timestamp, Timestamp)>>, crate::i18n::Locale) -> Body,
) -> axum::response::Response
where
    Body: std::future::Future<Output = Result<String, AppError>>,
{
    let found = async {
        let (owner, room) = owned_room(state, session, room).await?;
        let (windows, file_name) = match query.get("session") {
            Some(id) => {
                let (windows, file) = session_windows(state, owner, room, id).await?;
                (Some(windows), format!("{stem}-{file}.csv"))
            }
            None => (None, format!("{stem}.csv")),
        };
        let body = body(state.db.clone(), room, windows, crate::server::language::of_request(headers)).await?;
        Ok(Attachment { content_type: "text/csv; charset=utf-8", file_name, body })
    };
    respond(found.await, headers)
}

/// The signed-in account and its room `room`'s id: anyone signed out is
/// refused (`SignInRequired`, 401), anyone but the room's host finds
/// nothing (`NotFound`, 404, as for a room that does not exist).
pub async fn owned_room(state: &crate::server::state::AppState, session: tower_sessions::Session, room: i64) -> Result<(AccountId, i64), AppError> {
    let user = crate::server::session::UserSession(session);
    let owner = user.require_account(state).await?;
    let room = crate::server::rooms::find_owned(&state.db, owner.id, room).await?;
    Ok((owner.id, room.id))
}

/// The meetings of session `id` (as the query gave it) of room `room`,
/// owned by `owner`, each from when its join window opens; and the
/// session's name for a file.
async fn session_windows(
    state: &crate::server::state::AppState,
    owner: AccountId,
    room: i64,
    id: &str,
) -> Result<(Vec<(Timestamp, Timestamp)>, String), AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let scheduled = crate::server::schedule::find_owned(&state.db, owner, id).await?;
    if scheduled.room_id != room {
        return Err(AppError::NotFound);
    }
    Ok((scheduled.windows(state.join_early), crate::server::calendar::file_name(&scheduled).trim_end_matches(".ics").to_string()))
}

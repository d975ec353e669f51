//! Attendance: who was in each call of a room and when, written from the
//! records of the calls (see `call::hub::Record`), listed for the host and
//! downloaded as CSV. The same records put the host's actions in the audit log.

use crate::domain::AccountId;
use std::collections::HashMap;

use crate::server::db::{sql, Db};
use jiff::Timestamp;

use crate::call::hub::{Record, RoomId};
use crate::call::protocol::ParticipantId;
use crate::error::AppError;
use crate::server::audit;
use crate::server::clock::Clock;
use crate::server::db::NodeId;
use crate::server::download::{cell, respond, to_the_second, Attachment};
use crate::server::refusal_tally::{RefusalTally, Tally};
use crate::server::room_files::room_csv;

/// One stay in a call, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub display_name: String,
    pub host: bool,
    pub joined_at: Timestamp,
    pub left_at: Option<Timestamp>,
    pub reconnects: i64,
}

/// Someone in a call now: their attendance row and who they are.
struct Present {
    row: i64,
    account: Option<AccountId>,
}

/// Writes every record of the calls until signaling is gone; the stays
/// are `node`'s (this server's, `HUDDLE_NODE_ID`). A failed
/// write is logged (by `AppError::internal`) and the next is still written.
/// Each minute, rooms whose refused host actions were held back say how
/// many (see `refusal_tally`).
pub async fn write_records(db: Db, node: NodeId, clock: Clock, mut records: tokio::sync::mpsc::Receiver<Record>) {
    let mut present: HashMap<ParticipantId, Present> = HashMap::new();
    let mut refusals = RefusalTally::default();
    let mut polls = crate::server::polls::Kept::default();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        let record = tokio::select! {
            record = records.recv() => match record {
                Some(record) => Some(record),
                None => {
                    let _ = polls.flush(&db, &node, clock.now()).await;
                    let _ = write_held_back(&db, refusals.flush()).await;
                    return;
                }
            },
            _ = tick.tick() => None,
        };
        let now = clock.now();
        let _ = write_held_back(&db, refusals.due(now)).await;
        match record {
            // A poll's changes in a burst (a class answering at once) are
            // written as one: its latest state, once nothing else waits.
            Some(Record::Poll { room, poll }) => polls.note(room, poll),
            Some(record) => {
                let _ = polls.flush(&db, &node, now).await;
                let _ = write(&db, &node, now, &mut present, &mut refusals, record).await;
            }
            None => {}
        }
        if records.is_empty() {
            let _ = polls.flush(&db, &node, now).await;
        }
    }
}

/// One row per room saying how many refusals were held back in its minute.
async fn write_held_back(db: &Db, due: Vec<(RoomId, u32)>) -> Result<(), AppError> {
    for (room, count) in due {
        let target = Some(format!("room:{} {count} more refused", room.0));
        audit::record_call(db, "anonymous".into(), None, "call_refused_repeats", target, false, None).await?;
    }
    Ok(())
}

async fn write(
    db: &Db,
    node: &NodeId,
    now: Timestamp,
    present: &mut HashMap<ParticipantId, Present>,
    refusals: &mut RefusalTally,
    record: Record,
) -> Result<(), AppError> {
    match record {
        Record::Entered { who, room, name, account, host } => {
            let (row,): (i64,) = sql::query_as(
                "INSERT INTO attendance (room_id, account_id, display_name, role, joined_at, node) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(room.0)
            .bind(account)
            .bind(name.as_str())
            .bind(if host { "host" } else { "guest" })
            .bind(now.to_string())
            .bind(node.as_str())
            .fetch_one(db)
            .await
            .map_err(|e| AppError::internal("recording attendance failed", e))?;
            present.insert(who, Present { row, account });
        }
        Record::Left { who } => {
            let Some(stay) = present.remove(&who) else { return Ok(()) };
            // A stay another node already closed (it took the call over
            // while this one was stopped) keeps the time it was closed at.
            sql::query("UPDATE attendance SET left_at = $1 WHERE id = $2 AND left_at IS NULL")
                .bind(now.to_string())
                .bind(stay.row)
                .execute(db)
                .await
                .map_err(|e| AppError::internal("recording attendance failed", e))?;
        }
        Record::Reconnected { who } => {
            let Some(stay) = present.get(&who) else { return Ok(()) };
            sql::query("UPDATE attendance SET reconnects = reconnects + 1 WHERE id = $1")
                .bind(stay.row)
                .execute(db)
                .await
                .map_err(|e| AppError::internal("recording attendance failed", e))?;
        }
        Record::HostDid { by, room, what, target } => {
            let account = present.get(&by).and_then(|p| p.account);
            let target = Some(match target {
                Some(target) => format!("room:{} participant:{target}", room.0),
                None => format!("room:{}", room.0),
            });
            audit::record_call(db, actor(by, account), account, &format!("call_{what}"), target, true, None).await?;
        }
        Record::Said { room, name, host, text } => {
            sql::query("INSERT INTO kept_chat (room_id, display_name, role, text, sent_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(room.0)
                .bind(name.as_str())
                .bind(if host { "host" } else { "guest" })
                .bind(text.as_str())
                .bind(now.to_string())
                .execute(db)
                .await
                .map_err(|e| AppError::internal("keeping a chat message failed", e))?;
        }
        Record::Ended { by, room } => {
            let account = present.get(&by).and_then(|p| p.account);
            audit::record_call(db, actor(by, account), account, "call_end", Some(format!("room:{}", room.0)), true, None).await?;
        }
        Record::Refused { participant, account, action, client, room } => {
            if refusals.refused(client, room, now) == Tally::Write {
                let target = Some(format!("room:{}", room.0));
                audit::record_call(db, actor(participant, account), account, &format!("call_{action}"), target, false, Some(client)).await?;
            }
        }
        // Kept in memory and, in cluster mode, in Redis (signaling shares
        // them): nothing to write here.
        Record::Marked { .. } => {}
        // Kept by `polls` (above).
        Record::Poll { .. } => {}
        Record::Board { room, pages } => {
            crate::server::boards::keep(db, node, now, room, &pages).await?;
        }
    }
    Ok(())
}

fn actor(participant: ParticipantId, account: Option<AccountId>) -> String {
    match account {
        Some(account) => format!("account:{account}"),
        None => format!("guest:{participant}"),
    }
}

/// At startup: `node`'s stays still open belonged to its calls that ended
/// when it stopped; they end now (everyone in them joins again as a new
/// stay), and so do its polls still open. Another server's open stays are
/// its calls, under way.
pub async fn close_open_stays(db: &Db, node: &NodeId, now: Timestamp) -> Result<u64, AppError> {
    crate::server::polls::close_open(db, node.as_str(), None, now).await?;
    let done = sql::query("UPDATE attendance SET left_at = $1 WHERE left_at IS NULL AND node = $2")
        .bind(now.to_string())
        .bind(node.as_str())
        .execute(db)
        .await
        .map_err(|e| AppError::internal("closing open stays failed", e))?;
    Ok(done)
}

/// Cluster mode: this node took room `room_id`'s call over from `node`,
/// which stopped; that node's stays in it end now (its people join again
/// here as new stays), and so do its polls there. Says how many stays.
pub async fn close_stays_in(db: &Db, node: &str, room_id: i64, now: Timestamp) -> Result<u64, AppError> {
    crate::server::polls::close_open(db, node, Some(room_id), now).await?;
    sql::query("UPDATE attendance SET left_at = $1 WHERE left_at IS NULL AND node = $2 AND room_id = $3")
        .bind(now.to_string())
        .bind(node)
        .bind(room_id)
        .execute(db)
        .await
        .map_err(|e| AppError::internal("closing a stopped node's stays failed", e))
}

/// Cluster mode: the nodes other than `node` with stays still open in room
/// `room_id`.
pub async fn open_elsewhere(db: &Db, room_id: i64, node: &str) -> Result<Vec<String>, AppError> {
    let rows: Vec<(String,)> = sql::query_as("SELECT DISTINCT node FROM attendance WHERE room_id = $1 AND left_at IS NULL AND node <> $2")
        .bind(room_id)
        .bind(node)
        .fetch_all(db)
        .await
        .map_err(|e| AppError::internal("reading open stays failed", e))?;
    Ok(rows.into_iter().map(|(node,)| node).collect())
}

/// Every stay in room `room_id`, in the order they began.
pub async fn list_for_room(db: &Db, room_id: i64) -> Result<Vec<Stay>, AppError> {
    let rows: Vec<(String, String, String, Option<String>, i64)> =
        sql::query_as("SELECT display_name, role, joined_at, left_at, reconnects FROM attendance WHERE room_id = $1 ORDER BY joined_at, id")
            .bind(room_id)
            .fetch_all(db)
            .await
            .map_err(|e| AppError::internal("reading attendance failed", e))?;
    rows.into_iter()
        .map(|(display_name, role, joined_at, left_at, reconnects)| {
            let parse = |t: &str| t.parse::<Timestamp>().map_err(|e| AppError::internal("a stored attendance time is invalid", e));
            Ok(Stay {
                display_name,
                host: role == "host",
                joined_at: parse(&joined_at)?,
                left_at: left_at.as_deref().map(parse).transpose()?,
                reconnects,
            })
        })
        .collect()
}

/// Stays that overlap `[from, to)`.
pub fn during(stays: &[Stay], from: Timestamp, to: Timestamp) -> Vec<Stay> {
    during_any(stays, &[(from, to)])
}

/// Stays that overlap any of `windows` (a weekly session's meetings), each
/// once and in their own order, however many windows it overlaps: someone
/// still in the call overlaps every meeting yet to come.
pub fn during_any(stays: &[Stay], windows: &[(Timestamp, Timestamp)]) -> Vec<Stay> {
    let overlaps = |s: &Stay, (from, to): &(Timestamp, Timestamp)| s.joined_at < *to && s.left_at.is_none_or(|left| left > *from);
    stays.iter().filter(|s| windows.iter().any(|w| overlaps(s, w))).cloned().collect()
}

/// The stays as CSV (RFC 4180): a header, then one line per stay, times in
/// UTC as ISO 8601 to the second (what spreadsheets read as a time). A cell
/// that a spreadsheet would run as a formula is defused.
pub fn csv(stays: &[Stay], locale: crate::i18n::Locale) -> String {
    let mut out = format!("{}\r\n", locale.text(crate::i18n::Text::FilesAttendanceHeader));
    for stay in stays {
        let minutes = stay.left_at.map(|left| (left.as_second() - stay.joined_at.as_second()).max(0) / 60);
        let cells = [
            cell(&stay.display_name),
            (if stay.host { "host" } else { "guest" }).to_string(),
            to_the_second(stay.joined_at),
            stay.left_at.map(to_the_second).unwrap_or_default(),
            minutes.map(|m| m.to_string()).unwrap_or_default(),
            stay.reconnects.to_string(),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /rooms/{room}/attendance.csv[?session={id}]`: the room's attendance,
/// or one scheduled session's (stays overlapping any of its meetings, from
/// when its join window opens), for the room's host only.
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    axum::extract::Path(room): axum::extract::Path<i64>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    room_csv(&state, session, &headers, room, &query, "attendance", |db, room, windows, locale| async move {
        let stays = list_for_room(&db, room).await?;
        let stays = match windows {
            Some(windows) => during_any(&stays, &windows),
            None => stays,
        };
        Ok(csv(&stays, locale))
    })
    .await
}

/// One message of a room's kept chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptMessage {
    pub display_name: String,
    pub host: bool,
    pub text: String,
    pub sent_at: Timestamp,
}

/// The kept chat of room `room_id`, oldest first.
pub async fn kept_chat(db: &Db, room_id: i64) -> Result<Vec<KeptMessage>, AppError> {
    let rows: Vec<(String, String, String, String)> =
        sql::query_as("SELECT display_name, role, text, sent_at FROM kept_chat WHERE room_id = $1 ORDER BY id")
            .bind(room_id)
            .fetch_all(db)
            .await
            .map_err(|e| AppError::internal("reading the kept chat failed", e))?;
    rows.into_iter()
        .map(|(display_name, role, text, sent_at)| {
            let sent_at = sent_at.parse().map_err(|e| AppError::internal("a stored chat time is invalid", e))?;
            Ok(KeptMessage { display_name, host: role == "host", text, sent_at })
        })
        .collect()
}

/// The kept chat as plain text: one message per paragraph, under a line
/// with its time (UTC), sender and role.
pub fn transcript(messages: &[KeptMessage]) -> String {
    let mut out = String::new();
    for m in messages {
        let role = if m.host { "host" } else { "guest" };
        out.push_str(&format!("[{}] {} ({role}):\n{}\n\n", m.sent_at, m.display_name, m.text));
    }
    out
}

/// `GET /rooms/{room}/chat.txt`: the room's kept chat, for its host only.
pub async fn download_chat(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    axum::extract::Path(room): axum::extract::Path<i64>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let found = async {
        let user = crate::server::session::UserSession(session);
        let owner = user.require_account(&state).await?;
        let room = crate::server::rooms::find_owned(&state.db, owner.id, room).await?;
        let body = transcript(&kept_chat(&state.db, room.id).await?);
        Ok(Attachment { content_type: "text/plain; charset=utf-8", file_name: "chat.txt".into(), body })
    };
    respond(found.await, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn stay(name: &str, joined: &str, left: Option<&str>) -> Stay {
        Stay { display_name: name.into(), host: false, joined_at: at(joined), left_at: left.map(at), reconnects: 1 }
    }

    #[test]
    fn csv_times_are_iso_8601_to_the_second() {
        let stays = [stay("Pat", "2026-12-01T09:00:00.123456789Z", Some("2026-12-01T09:31:10.999Z"))];
        let file = csv(&stays, crate::i18n::Locale::ENGLISH);
        assert_eq!(file.split("\r\n").nth(1), Some("Pat,guest,2026-12-01T09:00:00Z,2026-12-01T09:31:10Z,31,1"));
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let stays = [stay("Pat, Jr.", "2026-12-01T09:00:00Z", Some("2026-12-01T09:31:10Z")), stay("=HYPERLINK(\"x\")", "2026-12-01T09:05:00Z", None)];
        let file = csv(&stays, crate::i18n::Locale::ENGLISH);
        let lines: Vec<&str> = file.split("\r\n").collect();
        assert_eq!(lines[0], "name,role,joined (UTC),left (UTC),minutes,reconnects");
        assert_eq!(lines[1], "\"Pat, Jr.\",guest,2026-12-01T09:00:00Z,2026-12-01T09:31:10Z,31,1");
        assert_eq!(lines[2], "\"'=HYPERLINK(\"\"x\"\")\",guest,2026-12-01T09:05:00Z,,,1");
    }

    #[test]
    fn someone_still_in_the_call_is_listed_once_however_many_weekly_meetings_remain() {
        let stays = [
            stay("Last week", "2026-11-24T09:00:00Z", Some("2026-11-24T09:40:00Z")),
            stay("Here now", "2026-12-01T09:05:00Z", None),
            stay("Early leaver", "2026-12-01T09:01:00Z", Some("2026-12-01T09:20:00Z")),
        ];
        let weekly: Vec<(Timestamp, Timestamp)> = ["2026-11-24", "2026-12-01", "2026-12-08", "2026-12-15"]
            .iter()
            .map(|d| (at(&format!("{d}T09:00:00Z")), at(&format!("{d}T10:00:00Z"))))
            .collect();
        let names: Vec<String> = during_any(&stays, &weekly).into_iter().map(|s| s.display_name).collect();
        assert_eq!(names, ["Last week", "Here now", "Early leaver"]);
    }

    #[test]
    fn during_keeps_the_stays_that_overlap_a_window() {
        let stays = [
            stay("Before", "2026-12-01T08:00:00Z", Some("2026-12-01T08:30:00Z")),
            stay("In", "2026-12-01T08:50:00Z", Some("2026-12-01T09:10:00Z")),
            stay("Still here", "2026-12-01T09:20:00Z", None),
            stay("After", "2026-12-01T10:00:00Z", None),
        ];
        let names: Vec<String> = during(&stays, at("2026-12-01T08:45:00Z"), at("2026-12-01T09:30:00Z")).into_iter().map(|s| s.display_name).collect();
        assert_eq!(names, ["In", "Still here"]);
    }
}

//! Polls kept with their room: written from the calls' records (each
//! change of a poll replaces its row), listed on the room's page for its
//! host and downloaded as CSV. An anonymous poll's row holds counts alone:
//! the hub never hands its voters' names over.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::call::hub::{PollRecord, RoomId};
use crate::error::AppError;
use crate::server::db::{sql, Db, NodeId};
use crate::server::download::{cell, to_the_second};
use crate::server::room_files::room_csv;

/// The rows of the polls still open that this server wrote, by the hub's
/// key for each, and the changes not written yet.
#[derive(Debug, Default)]
pub struct Kept {
    rows: HashMap<u64, i64>,
    /// Each poll's latest state not written yet, in the order first noted.
    pending: Vec<(RoomId, PollRecord)>,
}

impl Kept {
    /// Notes `poll`'s latest state, to be written by [`Kept::flush`].
    pub fn note(&mut self, room: RoomId, poll: PollRecord) {
        match self.pending.iter_mut().find(|(_, kept)| kept.key == poll.key) {
            Some(slot) => *slot = (room, poll),
            None => self.pending.push((room, poll)),
        }
    }

    /// Writes what was noted (each poll once, as it stands now). A failed
    /// write is logged and the others are still written.
    pub async fn flush(&mut self, db: &Db, node: &NodeId, now: Timestamp) -> Result<(), AppError> {
        let mut result = Ok(());
        for (room, poll) in std::mem::take(&mut self.pending) {
            if let Err(e) = self.keep(db, node, now, room, poll).await {
                result = Err(e);
            }
        }
        result
    }

    /// Keeps `poll` of `room` as it stands at `now`: a new row for a poll
    /// not seen yet, else its row brought up to date (an ended poll keeps
    /// the time it ended).
    async fn keep(&mut self, db: &Db, node: &NodeId, now: Timestamp, room: RoomId, poll: PollRecord) -> Result<(), AppError> {
        let failed = |e| AppError::internal("keeping a poll failed", e);
        let counts = to_json(&poll.counts);
        let votes = to_json(&poll.votes.iter().map(|(name, choices)| (name.as_str(), choices)).collect::<Vec<_>>());
        let closed = (!poll.open).then(|| now.to_string());
        match self.rows.get(&poll.key) {
            Some(&row) => {
                sql::query("UPDATE polls SET counts = $1, answered = $2, votes = $3, closed_at = COALESCE(closed_at, $4) WHERE id = $5")
                    .bind(counts)
                    .bind(i64::from(poll.answered))
                    .bind(votes)
                    .bind(closed)
                    .bind(row)
                    .execute(db)
                    .await
                    .map_err(failed)?;
            }
            None => {
                let (row,): (i64,) = sql::query_as(
                    "INSERT INTO polls (room_id, question, options, counts, answered, multiple, anonymous, votes, opened_at, closed_at, node) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(room.0)
                .bind(poll.question.as_str())
                .bind(to_json(&poll.options))
                .bind(counts)
                .bind(i64::from(poll.answered))
                .bind(poll.multiple)
                .bind(poll.anonymous)
                .bind(votes)
                .bind(now.to_string())
                .bind(closed)
                .bind(node.as_str())
                .fetch_one(db)
                .await
                .map_err(failed)?;
                self.rows.insert(poll.key, row);
            }
        }
        // An ended poll changes no more.
        if !poll.open {
            self.rows.remove(&poll.key);
        }
        Ok(())
    }
}

/// The polls `node` left open (in room `room`, or in all), which ended
/// with its call when it stopped, end at `now`.
pub async fn close_open(db: &Db, node: &str, room: Option<i64>, now: Timestamp) -> Result<u64, AppError> {
    let statement = match room {
        Some(_) => "UPDATE polls SET closed_at = $1 WHERE closed_at IS NULL AND node = $2 AND room_id = $3",
        None => "UPDATE polls SET closed_at = $1 WHERE closed_at IS NULL AND node = $2",
    };
    let mut query = sql::query(statement).bind(now.to_string()).bind(node);
    if let Some(room) = room {
        query = query.bind(room);
    }
    query.execute(db).await.map_err(|e| AppError::internal("ending a stopped call's polls failed", e))
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// One kept poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPoll {
    pub question: String,
    pub options: Vec<String>,
    pub counts: Vec<u32>,
    pub answered: u32,
    pub multiple: bool,
    pub anonymous: bool,
    /// Who chose what (named polls only).
    pub votes: Vec<(String, Vec<u8>)>,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

impl KeptPoll {
    /// The names of those who chose answer `option`.
    pub fn chose(&self, option: usize) -> Vec<&str> {
        self.votes.iter().filter(|(_, choices)| choices.iter().any(|&c| usize::from(c) == option)).map(|(name, _)| name.as_str()).collect()
    }
}

type Row = (String, String, String, i64, bool, bool, String, String, Option<String>);

/// Room `room_id`'s polls, oldest first.
pub async fn list_for_room(db: &Db, room_id: i64) -> Result<Vec<KeptPoll>, AppError> {
    let rows: Vec<Row> = sql::query_as(
        "SELECT question, options, counts, answered, multiple, anonymous, votes, opened_at, closed_at FROM polls WHERE room_id = $1 ORDER BY opened_at, id",
    )
    .bind(room_id)
    .fetch_all(db)
    .await
    .map_err(|e| AppError::internal("reading the polls failed", e))?;
    rows.into_iter()
        .map(|(question, options, counts, answered, multiple, anonymous, votes, opened_at, closed_at)| {
            let bad = |e: &dyn std::fmt::Display| AppError::internal("a stored poll is invalid", e.to_string());
            let time = |at: &str| at.parse::<Timestamp>().map_err(|e| bad(&e));
            Ok(KeptPoll {
                question,
                options: serde_json::from_str(&options).map_err(|e| bad(&e))?,
                counts: serde_json::from_str(&counts).map_err(|e| bad(&e))?,
                answered: u32::try_from(answered).unwrap_or(0),
                multiple,
                anonymous,
                votes: serde_json::from_str(&votes).map_err(|e| bad(&e))?,
                opened_at: time(&opened_at)?,
                closed_at: closed_at.as_deref().map(time).transpose()?,
            })
        })
        .collect()
}

/// The polls asked within any of `windows`.
pub fn during_any<'a>(polls: &'a [KeptPoll], windows: &'a [(Timestamp, Timestamp)]) -> impl Iterator<Item = &'a KeptPoll> {
    polls.iter().filter(|p| windows.iter().any(|(from, to)| p.opened_at >= *from && p.opened_at <= *to))
}

/// The polls as CSV (RFC 4180, times in UTC to the second): a header in
/// `locale`'s language, then one line per answer of each poll, with how
/// many chose it, how many answered the poll, and (named polls) who.
pub fn csv(polls: &[KeptPoll], locale: crate::i18n::Locale) -> String {
    use crate::i18n::Text;
    let mut out = format!("{}\r\n", locale.text(Text::FilesPollsHeader));
    for poll in polls {
        let anonymous = locale.text(if poll.anonymous { Text::FilesPollsYes } else { Text::FilesPollsNo });
        for (option, text) in poll.options.iter().enumerate() {
            let cells = [
                cell(&poll.question),
                to_the_second(poll.opened_at),
                poll.closed_at.map(to_the_second).unwrap_or_default(),
                anonymous.to_string(),
                cell(text),
                poll.counts.get(option).copied().unwrap_or(0).to_string(),
                poll.answered.to_string(),
                cell(&poll.chose(option).join("; ")),
            ];
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// `GET /rooms/{room}/polls.csv[?session={id}]`: the room's polls, or
/// those asked during one scheduled session's meetings, for the room's
/// host only.
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    axum::extract::Path(room): axum::extract::Path<i64>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    room_csv(&state, session, &headers, room, &query, "polls", |db, room, windows, locale| async move {
        let polls = list_for_room(&db, room).await?;
        let polls = match windows {
            Some(windows) => during_any(&polls, &windows).cloned().collect(),
            None => polls,
        };
        Ok(csv(&polls, locale))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_a_line_per_answer_with_its_count_and_names_only_for_a_named_poll() {
        let at: Timestamp = "2026-12-07T10:00:00.123Z".parse().unwrap();
        let named = KeptPoll {
            question: "Ready, set?".into(),
            options: vec!["Yes".into(), "=No".into()],
            counts: vec![2, 1],
            answered: 3,
            multiple: false,
            anonymous: false,
            votes: vec![("Ada".into(), vec![0]), ("Bo".into(), vec![1]), ("Cy".into(), vec![0])],
            opened_at: at,
            closed_at: None,
        };
        let anonymous = KeptPoll { anonymous: true, votes: Vec::new(), closed_at: Some(at), ..named.clone() };
        let text = csv(&[named, anonymous.clone()], crate::i18n::Locale::ENGLISH);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "question,opened (UTC),closed (UTC),anonymous,answer,chosen by,answered,names");
        assert_eq!(lines[1], "\"Ready, set?\",2026-12-07T10:00:00Z,,no,Yes,2,3,Ada; Cy");
        assert_eq!(lines[2], "\"Ready, set?\",2026-12-07T10:00:00Z,,no,'=No,1,3,Bo");
        assert_eq!(lines[3], "\"Ready, set?\",2026-12-07T10:00:00Z,2026-12-07T10:00:00Z,yes,Yes,2,3,");
        assert_eq!(lines.len(), 6, "two lines a poll and the last line's end");
        let chinese = csv(&[anonymous], crate::i18n::Locale::from_tag("zh-CN").unwrap());
        assert!(chinese.starts_with("问题,开始时间（UTC）,") && chinese.contains(",是,Yes,"), "{chinese}");
    }
}

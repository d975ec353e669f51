//! The polls of a room's calls, for its host's page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One kept poll, for the host's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollSummary {
    pub question: String,
    /// When it was asked: "2026-12-01 09:00 UTC" (the page shows it in
    /// the reader's zone), and the same instant in Unix milliseconds.
    pub asked: String,
    pub asked_at_ms: i64,
    pub anonymous: bool,
    /// Still taking answers (its call goes on).
    pub open: bool,
    /// How many people answered.
    pub answered: u32,
    pub answers: Vec<AnswerSummary>,
}

/// One answer of a poll: how many chose it, and who (named polls).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSummary {
    pub text: String,
    pub count: u32,
    pub names: Vec<String>,
}

/// The polls of one of the signed-in account's rooms, newest first (at
/// most 50; the CSV has all).
#[server(prefix = "/api", endpoint = "room_polls")]
pub async fn room_polls(room: i64) -> Result<Vec<PollSummary>, AppError> {
    use crate::server::{polls, rooms};
    super::context::finish::<RoomPolls>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            rooms::find_owned(&state.db, owner.id, room).await?;
            let when = super::rooms::utc_minute;
            let kept = polls::list_for_room(&state.db, room).await?;
            Ok(kept
                .into_iter()
                .rev()
                .take(50)
                .map(|poll| PollSummary {
                    asked: when(poll.opened_at),
                    asked_at_ms: poll.opened_at.as_millisecond(),
                    anonymous: poll.anonymous,
                    open: poll.closed_at.is_none(),
                    answered: poll.answered,
                    answers: poll
                        .options
                        .iter()
                        .enumerate()
                        .map(|(place, text)| AnswerSummary {
                            text: text.clone(),
                            count: poll.counts.get(place).copied().unwrap_or(0),
                            names: poll.chose(place).into_iter().map(str::to_string).collect(),
                        })
                        .collect(),
                    question: poll.question,
                })
                .collect())
        }
        .await,
    )
}

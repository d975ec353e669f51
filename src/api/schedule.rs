//! Scheduling sessions in a room, the host's dashboard of what is coming up,
//! and cancelling.

// `schedule_session` takes one argument per form field, and the browser
// side the macro generates inherits them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One scheduled session, as its room's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: i64,
    pub title: String,
    /// The next meeting (or the last, if all are over).
    pub when: Option<When>,
    /// "Weekly, 6 times", for a series.
    pub repeats: Option<String>,
    pub note: String,
    /// Whether every meeting is over.
    pub over: bool,
    /// Where the calendar file downloads from.
    pub calendar: String,
    /// The IANA time zone its times are in.
    pub time_zone: String,
    /// Where its attendance downloads from.
    pub attendance: String,
    /// Where the polls asked during it download from.
    pub polls_csv: String,
    /// The polls asked during its meetings, oldest first.
    pub polls: Vec<AskedPoll>,
}

/// A poll asked during a session: its question and how many answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedPoll {
    pub question: String,
    pub answered: u32,
}

/// When a meeting is: its start and end (Unix ms), for the browser to say
/// in the reader's own time zone, and `text`, the same in the session's
/// zone and the page's language, for a page without JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

#[cfg(feature = "ssr")]
impl When {
    fn of(meeting: &crate::server::schedule::Occurrence) -> Self {
        When {
            start_ms: meeting.start.timestamp().as_millisecond(),
            end_ms: meeting.end.timestamp().as_millisecond(),
            text: crate::server::schedule::describe(meeting, crate::i18n::locale()),
        }
    }
}

/// A meeting coming up in one of the host's rooms, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upcoming {
    pub session_id: i64,
    pub title: String,
    pub room_name: String,
    pub join_link: String,
    pub slug: String,
    pub when: When,
    /// Starts or runs today (in the session's time zone).
    pub today: bool,
    pub calendar: String,
}

/// Schedules a session in one of the signed-in account's rooms. (One
/// argument per form field: a plain form posts them as they are.)
#[server(prefix = "/api", endpoint = "schedule_session")]
pub async fn schedule_session(
    room: i64,
    title: String,
    date: String,
    time: String,
    time_zone: String,
    duration_minutes: String,
    #[server(default)] note: String,
    #[server(default)] repeat: String,
    #[server(default)] weeks: String,
) -> Result<SessionSummary, AppError> {
    use crate::server::{rooms, schedule};
    super::context::keep_typed(&[
        ("title", &title),
        ("date", &date),
        ("time", &time),
        ("time_zone", &time_zone),
        ("duration_minutes", &duration_minutes),
        ("note", &note),
        ("weeks", &weeks),
    ]);
    super::context::finish::<ScheduleSession>(
        &format!("/rooms/{room}"),
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            rooms::find_owned(&state.db, owner.id, room).await?;
            let request = schedule::Request { title, date, time, time_zone, duration_minutes, note, repeat, weeks };
            let now = state.clock.now();
            let plan = schedule::plan(&request, now)?;
            let created = schedule::create(&state.db, room, &plan).await?;
            tracing::info!(account = %owner.id, room, session = created.id, "session scheduled");
            leptos_axum::redirect(&format!("/rooms/{room}?saved=session#schedule"));
            Ok(summarise(&created, now))
        }
        .await,
    )
}

/// The sessions of one of the signed-in account's rooms.
#[server(prefix = "/api", endpoint = "room_sessions")]
pub async fn room_sessions(room: i64) -> Result<Vec<SessionSummary>, AppError> {
    use crate::server::{rooms, schedule};
    super::context::finish::<RoomSessions>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            rooms::find_owned(&state.db, owner.id, room).await?;
            let now = state.clock.now();
            let polls = crate::server::polls::list_for_room(&state.db, room).await?;
            let sessions = schedule::list_for_room(&state.db, room).await?;
            Ok(sessions
                .iter()
                .map(|s| {
                    let windows = s.windows(state.join_early);
                    let asked = crate::server::polls::during_any(&polls, &windows);
                    SessionSummary {
                        polls: asked.map(|p| AskedPoll { question: p.question.clone(), answered: p.answered }).collect(),
                        ..summarise(s, now)
                    }
                })
                .collect())
        }
        .await,
    )
}

/// Cancels a session (every meeting of a series) of the signed-in account.
#[server(prefix = "/api", endpoint = "cancel_session")]
pub async fn cancel_session(session: i64) -> Result<(), AppError> {
    use crate::server::schedule;
    super::context::finish::<CancelSession>(
        "/rooms",
        async move {
            let (state, user) = super::context::request().await?;
            let owner = user.require_account(&state).await?;
            let found = schedule::find_owned(&state.db, owner.id, session).await?;
            schedule::cancel(&state.db, owner.id, session).await?;
            tracing::info!(account = %owner.id, session, "session cancelled");
            leptos_axum::redirect(&format!("/rooms/{}?saved=cancelled#schedule", found.room_id));
            Ok(())
        }
        .await,
    )
}

/// Today's and coming meetings across the signed-in account's rooms,
/// soonest first: each session's next meeting.
#[server(prefix = "/api", endpoint = "upcoming_sessions")]
pub async fn upcoming_sessions() -> Result<Vec<Upcoming>, AppError> {
    use crate::server::{rooms, schedule};
    super::context::finish::<UpcomingSessions>(
        "/rooms",
        async move {
            let (state, session) = super::context::request().await?;
            let owner = session.require_account(&state).await?;
            let now = state.clock.now();
            let rooms = rooms::list_for_owner(&state.db, owner.id).await?;
            let mut coming: Vec<(jiff::Timestamp, Upcoming)> = Vec::new();
            for session in schedule::list_for_owner(&state.db, owner.id).await? {
                let (Some(next), Some(room)) = (session.next(now), rooms.iter().find(|r| r.id == session.room_id)) else { continue };
                let today = now.to_zoned(next.start.time_zone().clone()).date();
                coming.push((
                    next.start.timestamp(),
                    Upcoming {
                        session_id: session.id,
                        title: session.title.clone(),
                        room_name: room.name.clone(),
                        join_link: format!("{}/r/{}", state.public_origin, room.slug),
                        slug: room.slug.to_string(),
                        when: When::of(&next),
                        today: next.start.date() == today || (next.start.timestamp() <= now),
                        calendar: calendar_path(&session),
                    },
                ));
            }
            coming.sort_by_key(|(at, _)| *at);
            Ok(coming.into_iter().map(|(_, u)| u).collect())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn calendar_path(session: &crate::server::schedule::ScheduledSession) -> String {
    format!("/rooms/{}/sessions/{}/calendar.ics", session.room_id, session.id)
}

#[cfg(feature = "ssr")]
fn summarise(session: &crate::server::schedule::ScheduledSession, now: jiff::Timestamp) -> SessionSummary {
    let next = session.next(now);
    let shown = next.clone().or_else(|| session.occurrences().pop());
    SessionSummary {
        id: session.id,
        title: session.title.clone(),
        when: shown.as_ref().map(When::of),
        repeats: (session.occurrences > 1).then(|| crate::i18n::t_count(crate::i18n::Text::SessionsWeekly, session.occurrences as u64)),
        note: session.note.clone(),
        over: next.is_none(),
        calendar: calendar_path(session),
        time_zone: session.start.time_zone().iana_name().unwrap_or("UTC").to_string(),
        attendance: format!("/rooms/{}/attendance.csv?session={}", session.room_id, session.id),
        polls_csv: format!("/rooms/{}/polls.csv?session={}", session.room_id, session.id),
        polls: Vec::new(),
    }
}

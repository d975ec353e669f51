//! Scheduled sessions: when a room's calls happen. Times are kept as the
//! host wrote them (a wall-clock time in an IANA time zone) and turned into
//! instants with `jiff`, so a weekly 09:00 stays 09:00 across daylight-saving
//! changes.

use crate::domain::{AccountId, Problem};
use crate::server::db::{sql, Db};
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

use crate::error::AppError;
use crate::i18n::{fill, Locale, Text};

/// Longest session, in minutes.
pub const MAX_MINUTES: i64 = 24 * 60;
/// Most weeks a series runs.
pub const MAX_WEEKS: i64 = 52;
const TITLE_CHARS: usize = 80;
const NOTE_CHARS: usize = 1000;

/// What the scheduling form sends, as typed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub title: String,
    /// `YYYY-MM-DD`, as `<input type="date">` sends it.
    pub date: String,
    /// `HH:MM`, as `<input type="time">` sends it.
    pub time: String,
    /// An IANA name such as `Europe/Berlin`.
    pub time_zone: String,
    pub duration_minutes: String,
    pub note: String,
    /// `once` or `weekly`.
    pub repeat: String,
    /// For `weekly`: how many weeks in a row, 2 to 52.
    pub weeks: String,
}

/// A checked request: everything valid, the start in the future.
#[derive(Debug, Clone)]
pub struct Plan {
    pub title: String,
    pub start: Zoned,
    pub duration_minutes: i64,
    pub note: String,
    pub occurrences: i64,
}

/// A scheduled session (one-off or weekly) as stored; not a sign-in
/// session.
#[derive(Debug, Clone)]
pub struct ScheduledSession {
    pub id: i64,
    pub room_id: i64,
    pub title: String,
    pub start: Zoned,
    pub duration_minutes: i64,
    pub note: String,
    pub occurrences: i64,
    pub uid: String,
}

/// One meeting of a session (a one-off has one; a series one per week).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub start: Zoned,
    pub end: Zoned,
}

/// Checks the form; `now` decides what counts as the past.
pub fn plan(request: &Request, now: Timestamp) -> Result<Plan, AppError> {
    let title = crate::domain::text::short_text(&request.title, TITLE_CHARS).map_err(|p| AppError::invalid("title", p))?;
    let date: Date = request.date.trim().parse().map_err(|_| AppError::invalid("date", Problem::DateShape))?;
    let time: Time = request.time.trim().parse().map_err(|_| AppError::invalid("time", Problem::TimeShape))?;
    let zone_name = request.time_zone.trim();
    let zone = TimeZone::get(zone_name).map_err(|_| AppError::invalid("time_zone", Problem::UnknownTimeZone))?;
    let start = DateTime::from_parts(date, time).to_zoned(zone).map_err(|_| AppError::invalid("date", Problem::NoSuchLocalTime))?;
    let duration_minutes: i64 = request
        .duration_minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
        .ok_or_else(|| AppError::invalid("duration_minutes", Problem::LengthOutOfRange { max: MAX_MINUTES as u32 }))?;
    let occurrences = match request.repeat.trim() {
        "" | "once" => 1,
        "weekly" => request
            .weeks
            .trim()
            .parse()
            .ok()
            .filter(|w| (2..=MAX_WEEKS).contains(w))
            .ok_or_else(|| AppError::invalid("weeks", Problem::WeeksOutOfRange { min: 2, max: MAX_WEEKS as u32 }))?,
        _ => return Err(AppError::invalid("repeat", Problem::UnknownRepeat)),
    };
    let note = clean_note(&request.note).map_err(|p| AppError::invalid("note", p))?;
    if start.timestamp() <= now {
        return Err(AppError::invalid("date", Problem::InThePast));
    }
    Ok(Plan { title, start, duration_minutes, note, occurrences })
}

/// A note for the guest: may be empty, line breaks kept, at most 1,000
/// characters, control and bidi-override characters removed.
fn clean_note(raw: &str) -> Result<String, Problem> {
    let cleaned: String = raw.replace("\r\n", "\n").chars().filter(|c| *c == '\n' || !crate::domain::text::is_forbidden(*c)).collect();
    let trimmed = cleaned.trim();
    if trimmed.chars().count() > NOTE_CHARS {
        return Err(Problem::too_long(NOTE_CHARS));
    }
    Ok(trimmed.to_string())
}

/// Every meeting of a series that starts at `start`.
fn occurrences_of(start: &Zoned, duration_minutes: i64, count: i64) -> Vec<Occurrence> {
    (0..count)
        .filter_map(|week| {
            let start = start.checked_add(Span::new().weeks(week)).ok()?;
            let end = start.checked_add(Span::new().minutes(duration_minutes)).ok()?;
            Some(Occurrence { start, end })
        })
        .collect()
}

impl Plan {
    pub fn occurrences(&self) -> Vec<Occurrence> {
        occurrences_of(&self.start, self.duration_minutes, self.occurrences)
    }
}

impl ScheduledSession {
    pub fn occurrences(&self) -> Vec<Occurrence> {
        occurrences_of(&self.start, self.duration_minutes, self.occurrences)
    }

    /// Each meeting's time, from when its join window opens (`early`
    /// before its start) to its end: what happened in a session happened
    /// within one of these.
    pub fn windows(&self, early: std::time::Duration) -> Vec<(Timestamp, Timestamp)> {
        let early = jiff::SignedDuration::try_from(early).unwrap_or(jiff::SignedDuration::ZERO);
        self.occurrences().iter().map(|m| (m.start.timestamp().saturating_sub(early).unwrap_or(m.start.timestamp()), m.end.timestamp())).collect()
    }

    /// The first meeting that has not ended at `now`, if any.
    pub fn next(&self, now: Timestamp) -> Option<Occurrence> {
        self.occurrences().into_iter().find(|o| o.end.timestamp() > now)
    }
}

/// The first meeting of `existing` that overlaps a meeting of `plan`.
pub fn first_clash<'a>(plan: &Plan, existing: &'a [ScheduledSession]) -> Option<(&'a ScheduledSession, Occurrence)> {
    let wanted = plan.occurrences();
    existing.iter().find_map(|session| {
        session
            .occurrences()
            .into_iter()
            .find(|o| wanted.iter().any(|w| w.start.timestamp() < o.end.timestamp() && o.start.timestamp() < w.end.timestamp()))
            .map(|o| (session, o))
    })
}

/// A meeting as a person reads it in `locale`, in the session's own time
/// zone: "Tue 1 Dec 2026, 09:00–09:45 (Europe/Berlin)",
/// "2026年12月1日（周二）09:00–09:45（Europe/Berlin）".
pub fn describe(occurrence: &Occurrence, locale: Locale) -> String {
    let (start, end) = (&occurrence.start, &occurrence.end);
    let zone = start.time_zone().iana_name().unwrap_or("UTC");
    let (weekday, month) = (weekday_text(start.weekday()), month_text(start.month()));
    let (day, year, from, to) =
        (start.day().to_string(), start.year().to_string(), start.strftime("%H:%M").to_string(), end.strftime("%H:%M").to_string());
    let mut values = vec![
        ("weekday", locale.text(weekday)),
        ("day", &day),
        ("month", locale.text(month)),
        ("year", &year),
        ("start", &from),
        ("end", &to),
        ("zone", zone),
    ];
    if start.date() == end.date() {
        return fill(locale.text(Text::DatesMeeting), &values);
    }
    let end_day = end.day().to_string();
    values.extend([
        ("end_weekday", locale.text(weekday_text(end.weekday()))),
        ("end_day", &end_day),
        ("end_month", locale.text(month_text(end.month()))),
    ]);
    fill(locale.text(Text::DatesMeetingOvernight), &values)
}

fn weekday_text(day: jiff::civil::Weekday) -> Text {
    use jiff::civil::Weekday;
    match day {
        Weekday::Monday => Text::DatesMon,
        Weekday::Tuesday => Text::DatesTue,
        Weekday::Wednesday => Text::DatesWed,
        Weekday::Thursday => Text::DatesThu,
        Weekday::Friday => Text::DatesFri,
        Weekday::Saturday => Text::DatesSat,
        Weekday::Sunday => Text::DatesSun,
    }
}

fn month_text(month: i8) -> Text {
    const MONTHS: [Text; 12] = [
        Text::DatesJan,
        Text::DatesFeb,
        Text::DatesMar,
        Text::DatesApr,
        Text::DatesMay,
        Text::DatesJun,
        Text::DatesJul,
        Text::DatesAug,
        Text::DatesSep,
        Text::DatesOct,
        Text::DatesNov,
        Text::DatesDec,
    ];
    MONTHS[(month.clamp(1, 12) - 1) as usize]
}

/// Whether a guest may come in through a room's join link at some moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// Nothing was ever scheduled in the room: it is open whenever.
    Unscheduled,
    /// A meeting is on, or starts within the early-join time.
    Open(Occurrence),
    /// The next meeting lets guests in from `opens`.
    NotYet { opens: Timestamp, next: Occurrence },
    /// Every scheduled meeting is over.
    Ended(Occurrence),
}

/// The join window of a room with `sessions` at `now`: guests may join from
/// `early` before a meeting's start until its end.
pub fn window(sessions: &[ScheduledSession], now: Timestamp, early: std::time::Duration) -> Window {
    let early = jiff::SignedDuration::try_from(early).unwrap_or(jiff::SignedDuration::ZERO);
    let mut meetings: Vec<Occurrence> = sessions.iter().flat_map(ScheduledSession::occurrences).collect();
    if meetings.is_empty() {
        return Window::Unscheduled;
    }
    meetings.sort_by_key(|m| m.start.timestamp());
    let opens = |m: &Occurrence| m.start.timestamp().checked_sub(early).unwrap_or(m.start.timestamp());
    if let Some(on) = meetings.iter().find(|m| opens(m) <= now && now < m.end.timestamp()) {
        return Window::Open(on.clone());
    }
    if let Some(next) = meetings.iter().find(|m| opens(m) > now) {
        return Window::NotYet { opens: opens(next), next: next.clone() };
    }
    let last = meetings.into_iter().max_by_key(|m| m.end.timestamp()).expect("not empty");
    Window::Ended(last)
}

type SessionRow = (i64, i64, String, String, String, i64, String, i64, String);

fn from_row(
    (id, room_id, title, starts_local, time_zone, duration_minutes, note, occurrences, uid): SessionRow,
) -> Result<ScheduledSession, AppError> {
    let zone = TimeZone::get(&time_zone).map_err(|e| AppError::internal("a stored time zone is unknown", e))?;
    let start =
        starts_local.parse::<DateTime>().and_then(|dt| dt.to_zoned(zone)).map_err(|e| AppError::internal("a stored session start is invalid", e))?;
    Ok(ScheduledSession { id, room_id, title, start, duration_minutes, note, occurrences, uid })
}

const COLUMNS: &str = "id, room_id, title, starts_local, time_zone, duration_minutes, note, occurrences, uid";
/// The same, of `scheduled_sessions s` in a join.
const S_COLUMNS: &str = "s.id, s.room_id, s.title, s.starts_local, s.time_zone, s.duration_minutes, s.note, s.occurrences, s.uid";

/// Schedules `plan` in room `room_id` unless it overlaps a session already
/// there. The check and the insert are one write transaction, so two
/// overlapping sessions can never both be saved.
pub async fn create(db: &Db, room_id: i64, plan: &Plan) -> Result<ScheduledSession, AppError> {
    let mut tx = db.begin_write().await.map_err(|e| AppError::internal("starting a transaction failed", e))?;
    if tx.is_postgres() {
        // The room's row locked: a second schedule for the room waits here
        // until this one has committed, then sees it.
        sql::query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE")
            .bind(room_id)
            .execute(&mut tx)
            .await
            .map_err(|e| AppError::internal("starting a transaction failed", e))?;
    }
    let rows: Vec<SessionRow> = sql::query_as(format!("SELECT {COLUMNS} FROM scheduled_sessions WHERE room_id = $1"))
        .bind(room_id)
        .fetch_all(&mut tx)
        .await
        .map_err(|e| AppError::internal("listing sessions failed", e))?;
    let existing = rows.into_iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    if let Some((other, meeting)) = first_clash(plan, &existing) {
        return Err(AppError::invalid("date", Problem::Overlaps { title: other.title.clone(), when: describe(&meeting, crate::i18n::locale()) }));
    }
    let uid = format!("{}@huddle", crate::server::token::random_token::<18>());
    let zone = plan.start.time_zone().iana_name().unwrap_or("UTC").to_string();
    let row: SessionRow = sql::query_as(format!(
        "INSERT INTO scheduled_sessions (room_id, title, starts_local, time_zone, duration_minutes, note, occurrences, uid)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    ))
    .bind(room_id)
    .bind(&plan.title)
    .bind(plan.start.datetime().to_string())
    .bind(zone)
    .bind(plan.duration_minutes)
    .bind(&plan.note)
    .bind(plan.occurrences)
    .bind(uid)
    .fetch_one(&mut tx)
    .await
    .map_err(|e| AppError::internal("saving a session failed", e))?;
    tx.commit().await.map_err(|e| AppError::internal("saving a session failed", e))?;
    from_row(row)
}

/// Room `room_id`'s sessions, in the order they were scheduled.
pub async fn list_for_room(db: &Db, room_id: i64) -> Result<Vec<ScheduledSession>, AppError> {
    let rows: Vec<SessionRow> = sql::query_as(format!("SELECT {COLUMNS} FROM scheduled_sessions WHERE room_id = $1 ORDER BY id"))
        .bind(room_id)
        .fetch_all(db)
        .await
        .map_err(|e| AppError::internal("listing sessions failed", e))?;
    rows.into_iter().map(from_row).collect()
}

/// Every session in `owner`'s rooms, with its room's id.
pub async fn list_for_owner(db: &Db, owner: AccountId) -> Result<Vec<ScheduledSession>, AppError> {
    let rows: Vec<SessionRow> =
        sql::query_as(format!("SELECT {S_COLUMNS} FROM scheduled_sessions s JOIN rooms r ON r.id = s.room_id WHERE r.owner_id = $1 ORDER BY s.id"))
            .bind(owner)
            .fetch_all(db)
            .await
            .map_err(|e| AppError::internal("listing sessions failed", e))?;
    rows.into_iter().map(from_row).collect()
}

/// `owner`'s session `id`; anyone else's, or none, is `NotFound`.
pub async fn find_owned(db: &Db, owner: AccountId, id: i64) -> Result<ScheduledSession, AppError> {
    let row: Option<SessionRow> =
        sql::query_as(format!("SELECT {S_COLUMNS} FROM scheduled_sessions s JOIN rooms r ON r.id = s.room_id WHERE s.id = $1 AND r.owner_id = $2"))
            .bind(id)
            .bind(owner)
            .fetch_optional(db)
            .await
            .map_err(|e| AppError::internal("looking up a session failed", e))?;
    row.map(from_row).transpose()?.ok_or(AppError::NotFound)
}

/// Cancels `owner`'s session `id` (every meeting of a series).
pub async fn cancel(db: &Db, owner: AccountId, id: i64) -> Result<(), AppError> {
    let done = sql::query("DELETE FROM scheduled_sessions WHERE id = $1 AND room_id IN (SELECT id FROM rooms WHERE owner_id = $2)")
        .bind(id)
        .bind(owner)
        .execute(db)
        .await
        .map_err(|e| AppError::internal("cancelling a session failed", e))?;
    if done == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Every time zone the server knows, for the form's suggestions.
pub fn time_zone_names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|name| name.to_string()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(date: &str, time: &str, zone: &str, minutes: &str) -> Request {
        Request {
            title: "Check-up".into(),
            date: date.into(),
            time: time.into(),
            time_zone: zone.into(),
            duration_minutes: minutes.into(),
            repeat: "once".into(),
            ..Default::default()
        }
    }

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    fn field(result: Result<Plan, AppError>) -> String {
        match result {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_one_off_in_the_future_is_planned_in_its_time_zone() {
        let plan = plan(&request("2026-12-01", "09:00", "Europe/Berlin", "45"), now()).unwrap();
        assert_eq!(plan.start.timestamp().to_string(), "2026-12-01T08:00:00Z");
        assert_eq!(plan.occurrences().len(), 1);
        assert_eq!(describe(&plan.occurrences()[0], Locale::ENGLISH), "Tue 1 Dec 2026, 09:00–09:45 (Europe/Berlin)");
        let zh = Locale::from_tag("zh-CN").unwrap();
        assert_eq!(describe(&plan.occurrences()[0], zh), "2026年12月1日（周二）09:00–09:45（Europe/Berlin）");
    }

    #[test]
    fn a_meeting_past_midnight_names_the_day_it_ends() {
        let plan = plan(&request("2026-12-31", "23:30", "Asia/Shanghai", "60"), now()).unwrap();
        assert_eq!(describe(&plan.occurrences()[0], Locale::ENGLISH), "Thu 31 Dec 2026, 23:30 – Fri 1 Jan, 00:30 (Asia/Shanghai)");
        let zh = Locale::from_tag("zh-CN").unwrap();
        assert_eq!(describe(&plan.occurrences()[0], zh), "2026年12月31日（周四）23:30 至 1月1日（周五）00:30（Asia/Shanghai）");
    }

    #[test]
    fn bad_input_names_its_field() {
        assert_eq!(field(plan(&request("2020-01-01", "09:00", "UTC", "30"), now())), "date", "in the past");
        assert_eq!(field(plan(&request("2026-11-24", "11:59", "UTC", "30"), now())), "date", "a minute ago");
        assert_eq!(field(plan(&request("2026-12-01", "09:00", "UTC", "0"), now())), "duration_minutes");
        assert_eq!(field(plan(&request("2026-12-01", "09:00", "UTC", "-30"), now())), "duration_minutes");
        assert_eq!(field(plan(&request("2026-12-01", "09:00", "UTC", "1441"), now())), "duration_minutes");
        assert_eq!(field(plan(&request("2026-12-01", "09:00", "Mars/Olympus", "30"), now())), "time_zone");
        assert_eq!(field(plan(&request("1 December", "09:00", "UTC", "30"), now())), "date");
        assert_eq!(field(plan(&request("2026-12-01", "9 am", "UTC", "30"), now())), "time");
        let mut blank = request("2026-12-01", "09:00", "UTC", "30");
        blank.title = " ".into();
        assert_eq!(field(plan(&blank, now())), "title");
        let mut too_many = request("2026-12-01", "09:00", "UTC", "30");
        too_many.repeat = "weekly".into();
        too_many.weeks = "53".into();
        assert_eq!(field(plan(&too_many, now())), "weeks");
    }

    #[test]
    fn a_weekly_series_keeps_its_wall_clock_time_across_daylight_saving() {
        let mut weekly = request("2027-03-22", "09:00", "Europe/Berlin", "30");
        weekly.repeat = "weekly".into();
        weekly.weeks = "3".into();
        let plan = plan(&weekly, now()).unwrap();
        let starts: Vec<String> = plan.occurrences().iter().map(|o| o.start.timestamp().to_string()).collect();
        // Berlin moves to summer time on 28 March 2027: 09:00 is 08:00Z, then 07:00Z.
        assert_eq!(starts, ["2027-03-22T08:00:00Z", "2027-03-29T07:00:00Z", "2027-04-05T07:00:00Z"]);
    }

    #[test]
    fn clashes_are_found_across_series_and_time_zones_and_touching_is_fine() {
        let existing = ScheduledSession {
            id: 1,
            room_id: 1,
            title: "Class".into(),
            start: "2026-12-01T09:00:00[Europe/Berlin]".parse().unwrap(),
            duration_minutes: 60,
            note: String::new(),
            occurrences: 4,
            uid: "u".into(),
        };
        // 08:30 London is 09:30 Berlin, in the series' third week.
        let clash = plan(&request("2026-12-15", "08:30", "Europe/London", "15"), now()).unwrap();
        let (session, meeting) = first_clash(&clash, std::slice::from_ref(&existing)).unwrap();
        assert_eq!(session.id, 1);
        assert_eq!(meeting.start.date().to_string(), "2026-12-15");
        // Right after the class ends: no clash. After the series: none.
        let after = plan(&request("2026-12-15", "09:00", "Europe/London", "15"), now()).unwrap();
        assert!(first_clash(&after, std::slice::from_ref(&existing)).is_none());
        let later = plan(&request("2026-12-29", "09:30", "Europe/Berlin", "15"), now()).unwrap();
        assert!(first_clash(&later, std::slice::from_ref(&existing)).is_none());
    }

    #[test]
    fn notes_keep_line_breaks_and_lose_control_characters() {
        let mut with_note = request("2026-12-01", "09:00", "UTC", "30");
        with_note.note = " Bring your\r\nprescription\u{0007} ".into();
        assert_eq!(plan(&with_note, now()).unwrap().note, "Bring your\nprescription");
        with_note.note = "x".repeat(1001);
        assert_eq!(field(plan(&with_note, now())), "note");
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn one_at_nine() -> ScheduledSession {
        ScheduledSession {
            id: 1,
            room_id: 1,
            title: "Check-up".into(),
            start: "2026-12-01T09:00:00[UTC]".parse().unwrap(),
            duration_minutes: 30,
            note: String::new(),
            occurrences: 2,
            uid: "u".into(),
        }
    }

    #[test]
    fn the_join_window_opens_early_closes_at_the_end_and_reopens_next_week() {
        let sessions = [one_at_nine()];
        let early = std::time::Duration::from_secs(15 * 60);
        let w = |t: &str| window(&sessions, at(t), early);
        assert!(matches!(w("2026-12-01T08:44:59Z"), Window::NotYet { opens, .. } if opens == at("2026-12-01T08:45:00Z")));
        assert!(matches!(w("2026-12-01T08:45:00Z"), Window::Open(_)));
        assert!(matches!(w("2026-12-01T09:29:59Z"), Window::Open(_)));
        assert!(matches!(w("2026-12-01T09:30:00Z"), Window::NotYet { next, .. } if next.start.date().to_string() == "2026-12-08"));
        assert!(matches!(w("2026-12-08T09:29:59Z"), Window::Open(_)));
        assert!(matches!(w("2026-12-08T09:30:00Z"), Window::Ended(_)));
        assert_eq!(window(&[], at("2026-12-01T09:00:00Z"), early), Window::Unscheduled);
    }
}

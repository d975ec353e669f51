//! Calendar files (RFC 5545) for scheduled sessions, with a reminder, so
//! hosts and guests are reminded by their own calendar.
//!
//! Times are written in UTC, and a weekly series lists each meeting as an
//! `RDATE`: a series that crosses a daylight-saving change stays at its
//! wall-clock time without shipping a `VTIMEZONE` definition.

use crate::i18n::Text;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::server::schedule::ScheduledSession;

/// Minutes before each meeting that the calendar reminds.
pub const REMINDER_MINUTES: i64 = 15;

/// The calendar file for `session` (every meeting of a series), whose room
/// is reached at `join_link`.
pub fn ics(session: &ScheduledSession, room_name: &str, join_link: &str, now: Timestamp, locale: crate::i18n::Locale) -> String {
    let meetings = session.occurrences();
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Huddle//Huddle scheduled sessions//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", session.uid),
        format!("DTSTAMP:{}", utc(now)),
    ];
    if let Some(first) = meetings.first() {
        lines.push(format!("DTSTART:{}", utc(first.start.timestamp())));
        lines.push(format!("DTEND:{}", utc(first.end.timestamp())));
    }
    if meetings.len() > 1 {
        let rest: Vec<String> = meetings[1..].iter().map(|m| utc(m.start.timestamp())).collect();
        lines.push(format!("RDATE:{}", rest.join(",")));
    }
    lines.push(format!("SUMMARY:{}", text(&session.title)));
    let mut description = String::new();
    if !session.note.is_empty() {
        description.push_str(&session.note);
        description.push_str("\n\n");
    }
    description.push_str(&crate::i18n::fill(locale.text(Text::FilesCalendarJoin), &[("room", room_name), ("link", join_link)]));
    lines.push(format!("DESCRIPTION:{}", text(&description)));
    lines.push(format!("LOCATION:{}", text(join_link)));
    lines.push(format!("URL:{join_link}"));
    lines.extend([
        "BEGIN:VALARM".into(),
        "ACTION:DISPLAY".into(),
        format!(
            "DESCRIPTION:{}",
            text(&crate::i18n::fill(
                locale.text(Text::FilesCalendarReminder),
                &[("title", &session.title), ("minutes", &REMINDER_MINUTES.to_string())]
            ))
        ),
        format!("TRIGGER:-PT{REMINDER_MINUTES}M"),
        "END:VALARM".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ]);
    lines.iter().map(|line| fold(line)).collect()
}

/// A file name for the download: the title's letters and digits.
pub fn file_name(session: &ScheduledSession) -> String {
    let stem: String = session
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("{}.ics", if stem.is_empty() { "session" } else { &stem })
}

fn utc(at: Timestamp) -> String {
    at.to_zoned(TimeZone::UTC).strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslashes, semicolons, commas and line breaks escaped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets (never inside a character), with
/// CRLF endings.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// `GET /rooms/{room}/sessions/{session}/calendar.ics`: the calendar file,
/// for the room's host only (anyone else: 404, as for no such session).
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    axum::extract::Path((room, id)): axum::extract::Path<(i64, i64)>,
    session: tower_sessions::Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use crate::server::download::{respond, Attachment};
    let found = async {
        let user = crate::server::session::UserSession(session);
        let owner = user.require_account(&state).await?;
        let session = crate::server::schedule::find_owned(&state.db, owner.id, id).await?;
        if session.room_id != room {
            return Err(crate::error::AppError::NotFound);
        }
        let room = crate::server::rooms::find_owned(&state.db, owner.id, room).await?;
        let link = format!("{}/r/{}", state.public_origin, room.slug);
        let body = ics(&session, &room.name, &link, state.clock.now(), crate::server::language::of_request(&headers));
        Ok(Attachment { content_type: "text/calendar; charset=utf-8", file_name: file_name(&session), body })
    };
    respond(found.await, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(occurrences: i64, title: &str, note: &str) -> ScheduledSession {
        ScheduledSession {
            id: 7,
            room_id: 3,
            title: title.into(),
            start: "2027-03-22T09:00:00[Europe/Berlin]".parse().unwrap(),
            duration_minutes: 45,
            note: note.into(),
            occurrences,
            uid: "abc@huddle".into(),
        }
    }

    fn now() -> Timestamp {
        "2026-11-24T12:00:00Z".parse().unwrap()
    }

    /// Parses with an independent RFC 5545 parser and returns the event's
    /// properties as (name, value) pairs.
    type Properties = Vec<(String, String)>;

    fn parse(file: &str) -> (Properties, Properties) {
        let mut calendars = ical::IcalParser::new(file.as_bytes());
        let calendar = calendars.next().expect("one calendar").expect("a valid calendar");
        assert!(calendars.next().is_none());
        let props = |p: &[ical::property::Property]| p.iter().map(|p| (p.name.clone(), p.value.clone().unwrap_or_default())).collect::<Vec<_>>();
        assert_eq!(calendar.events.len(), 1);
        let event = &calendar.events[0];
        assert_eq!(event.alarms.len(), 1);
        (props(&event.properties), props(&event.alarms[0].properties))
    }

    fn get<'a>(props: &'a [(String, String)], name: &str) -> &'a str {
        props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn a_one_off_is_a_valid_event_with_a_reminder() {
        let file = ics(&session(1, "Check-up", ""), "Clinic", "https://meet.example.org/r/abc", now(), crate::i18n::Locale::ENGLISH);
        assert!(file.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
        assert!(file.ends_with("END:VCALENDAR\r\n"));
        assert!(!file.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
        let (event, alarm) = parse(&file);
        assert_eq!(get(&event, "UID"), "abc@huddle");
        assert_eq!(get(&event, "DTSTAMP"), "20261124T120000Z");
        assert_eq!(get(&event, "DTSTART"), "20270322T080000Z");
        assert_eq!(get(&event, "DTEND"), "20270322T084500Z");
        assert_eq!(get(&event, "SUMMARY"), "Check-up");
        assert_eq!(get(&event, "URL"), "https://meet.example.org/r/abc");
        assert!(!event.iter().any(|(n, _)| n == "RDATE"));
        assert_eq!(get(&alarm, "ACTION"), "DISPLAY");
        assert_eq!(get(&alarm, "TRIGGER"), "-PT15M");
        assert!(!get(&alarm, "DESCRIPTION").is_empty());
    }

    #[test]
    fn a_series_lists_every_meeting_at_its_wall_clock_time() {
        let file = ics(&session(3, "Class", ""), "School", "https://x/r/abc", now(), crate::i18n::Locale::ENGLISH);
        let (event, _) = parse(&file);
        assert_eq!(get(&event, "DTSTART"), "20270322T080000Z");
        // Summer time from 28 March: 09:00 in Berlin is 07:00 UTC.
        assert_eq!(get(&event, "RDATE"), "20270329T070000Z,20270405T070000Z");
    }

    #[test]
    fn text_is_escaped_and_long_lines_folded_without_splitting_characters() {
        let note = format!("Bring: notes, your card; and\nthis \\ {}", "é".repeat(80));
        let file = ics(&session(1, "Année, 1; 2", &note), "Clinic", "https://x/r/abc", now(), crate::i18n::Locale::ENGLISH);
        for line in file.split("\r\n") {
            assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        }
        assert!(file.contains("SUMMARY:Année\\, 1\\; 2"));
        let (event, _) = parse(&file);
        let description = get(&event, "DESCRIPTION");
        assert!(description.starts_with("Bring: notes\\, your card\\; and\\nthis \\\\ éé"), "{description}");
        assert!(description.ends_with("Join Clinic on Huddle: https://x/r/abc"));
        assert_eq!(description.matches('é').count(), 80, "nothing lost in folding");
    }

    #[test]
    fn the_file_name_comes_from_the_title() {
        assert_eq!(file_name(&session(1, "Year 9 French: week 1!", "")), "year-9-french-week-1.ics");
        assert_eq!(file_name(&session(1, "—", "")), "session.ics");
    }
}

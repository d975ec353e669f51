//! Scheduling sessions in a room: rules, ownership, the dashboard list and
//! the calendar file.

use huddle::server::db::sql;
use jiff::{Span, Zoned};

use crate::helpers::{join_message, spawn_app, TestApp, Visitor};

/// A date `days` from now, as `<input type="date">` sends it.
fn in_days(days: i64) -> String {
    Zoned::now().checked_add(Span::new().days(days)).unwrap().date().to_string()
}

async fn host_with_room(app: &TestApp) -> (Visitor, i64) {
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    (host, room.id)
}

async fn schedule(host: &Visitor, room: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let room = room.to_string();
    let mut form = vec![("room", room.as_str())];
    form.extend_from_slice(fields);
    host.call("schedule_session", &form).await
}

async fn count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sql::query_as("SELECT count(*) FROM scheduled_sessions").fetch_one(&app.db().await).await.unwrap();
    n
}

#[tokio::test]
async fn a_scheduled_session_is_listed_for_its_room_and_on_the_dashboard() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let date = in_days(3);
    let response = schedule(
        &host,
        room,
        &[
            ("title", "Check-up"),
            ("date", &date),
            ("time", "09:00"),
            ("time_zone", "Europe/Berlin"),
            ("duration_minutes", "45"),
            ("note", "Bring your card"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let created: serde_json::Value = response.json().await.unwrap();
    assert!(created["when"]["text"].as_str().unwrap().contains("09:00–09:45 (Europe/Berlin)"), "{created}");

    let listed: Vec<serde_json::Value> = host.call("room_sessions", &[("room", &room.to_string())]).await.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["title"], "Check-up");
    assert_eq!(listed[0]["note"], "Bring your card");
    assert_eq!(listed[0]["over"], false);

    let upcoming: Vec<serde_json::Value> = host.call("upcoming_sessions", &[]).await.json().await.unwrap();
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0]["room_name"], "Clinic");
    assert!(upcoming[0]["join_link"].as_str().unwrap().starts_with(&format!("{}/r/", app.origin)));
    assert_eq!(upcoming[0]["today"], false);
}

#[tokio::test]
async fn the_dashboard_lists_the_next_meeting_of_each_session_soonest_first() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let other = host.create_room("School").await.id;
    let (far, near) = (in_days(9), in_days(2));
    assert_eq!(
        schedule(&host, room, &[("title", "Later"), ("date", &far), ("time", "10:00"), ("time_zone", "UTC"), ("duration_minutes", "30")])
            .await
            .status(),
        200
    );
    assert_eq!(
        schedule(
            &host,
            other,
            &[
                ("title", "Weekly class"),
                ("date", &near),
                ("time", "08:00"),
                ("time_zone", "UTC"),
                ("duration_minutes", "60"),
                ("repeat", "weekly"),
                ("weeks", "4")
            ]
        )
        .await
        .status(),
        200
    );
    let upcoming: Vec<serde_json::Value> = host.call("upcoming_sessions", &[]).await.json().await.unwrap();
    let titles: Vec<&str> = upcoming.iter().map(|u| u["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Weekly class", "Later"]);
    assert_eq!(upcoming[0]["room_name"], "School");
    let listed: Vec<serde_json::Value> = host.call("room_sessions", &[("room", &other.to_string())]).await.json().await.unwrap();
    assert_eq!(listed[0]["repeats"], "Weekly, 4 times");
}

#[tokio::test]
async fn bad_schedules_get_a_clear_message_on_their_field_and_save_nothing() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let date = in_days(3);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("title", "Old"), ("date", "2020-01-01"), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")], "date"),
        (&[("title", "Zero"), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "0")], "duration_minutes"),
        (&[("title", "Negative"), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "-15")], "duration_minutes"),
        (&[("title", "Where"), ("date", &date), ("time", "09:00"), ("time_zone", "Atlantis/Capital"), ("duration_minutes", "30")], "time_zone"),
        (&[("title", " "), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")], "title"),
        (
            &[
                ("title", "Too long a series"),
                ("date", &date),
                ("time", "09:00"),
                ("time_zone", "UTC"),
                ("duration_minutes", "30"),
                ("repeat", "weekly"),
                ("weeks", "60"),
            ],
            "weeks",
        ),
    ];
    for (fields, field) in cases {
        let response = schedule(&host, room, fields).await;
        assert_eq!(response.status(), 422, "{fields:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{fields:?}");
        assert!(!body["Invalid"]["problem"]["code"].as_str().unwrap().is_empty());
    }
    assert_eq!(count(&app).await, 0);
}

#[tokio::test]
async fn overlapping_sessions_in_one_room_are_refused_but_other_rooms_are_free() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let date = in_days(3);
    let base = [("date", date.as_str()), ("time_zone", "Europe/London"), ("duration_minutes", "60")];
    let with = |title: &'static str, time: &'static str| {
        let mut f = vec![("title", title), ("time", time)];
        f.extend_from_slice(&base);
        f
    };
    assert_eq!(schedule(&host, room, &with("First", "09:00")).await.status(), 200);
    let clash = schedule(&host, room, &with("Second", "09:30")).await;
    assert_eq!(clash.status(), 422);
    let body: serde_json::Value = clash.json().await.unwrap();
    let problem = &body["Invalid"]["problem"];
    assert_eq!((problem["code"].as_str(), problem["title"].as_str()), (Some("overlaps"), Some("First")), "{body}");
    assert!(problem["when"].as_str().unwrap().ends_with(", 09:00–10:00 (Europe/London)"), "said in the caller's language: {body}");
    // Back to back is fine, and so is the same time in another room.
    assert_eq!(schedule(&host, room, &with("Right after", "10:00")).await.status(), 200);
    let other = host.create_room("Other").await.id;
    assert_eq!(schedule(&host, other, &with("Elsewhere", "09:30")).await.status(), 200);
    assert_eq!(count(&app).await, 3);
}

#[tokio::test]
async fn another_account_cannot_schedule_list_cancel_or_download_in_my_room() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let date = in_days(3);
    let created: serde_json::Value =
        schedule(&host, room, &[("title", "Private"), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")])
            .await
            .json()
            .await
            .unwrap();
    let id = created["id"].as_i64().unwrap();
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(
        schedule(&eve, room, &[("title", "Mine"), ("date", &date), ("time", "11:00"), ("time_zone", "UTC"), ("duration_minutes", "30")])
            .await
            .status(),
        404
    );
    assert_eq!(eve.call("room_sessions", &[("room", &room.to_string())]).await.status(), 404);
    assert_eq!(eve.call("cancel_session", &[("session", &id.to_string())]).await.status(), 404);
    assert_eq!(eve.page(&format!("/rooms/{room}/sessions/{id}/calendar.ics")).await.status(), 404);
    assert_eq!(app.visitor().page(&format!("/rooms/{room}/sessions/{id}/calendar.ics")).await.status(), 401);
    let upcoming: Vec<serde_json::Value> = eve.call("upcoming_sessions", &[]).await.json().await.unwrap();
    assert!(upcoming.is_empty());
    assert_eq!(count(&app).await, 1);
}

#[tokio::test]
async fn the_calendar_file_is_valid_with_the_join_link_and_a_reminder() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let date = in_days(3);
    let created: serde_json::Value = schedule(
        &host,
        room.id,
        &[
            ("title", "Check-up, Dr. Ada"),
            ("date", &date),
            ("time", "09:00"),
            ("time_zone", "America/New_York"),
            ("duration_minutes", "30"),
            ("repeat", "weekly"),
            ("weeks", "3"),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let response = host.page(created["calendar"].as_str().unwrap()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], "attachment; filename=\"check-up-dr-ada.ics\"");
    let file = response.text().await.unwrap();
    let calendar = ical::IcalParser::new(file.as_bytes()).next().unwrap().expect("a valid calendar");
    let event = &calendar.events[0];
    let get = |name: &str| event.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default();
    assert_eq!(get("SUMMARY"), "Check-up\\, Dr. Ada");
    assert_eq!(get("URL"), room.join_link);
    assert_eq!(get("RDATE").split(',').count(), 2, "two more weeks");
    let start = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", get("DTSTART")).unwrap().to_zoned(jiff::tz::TimeZone::UTC).unwrap();
    let local = start.with_time_zone(jiff::tz::TimeZone::get("America/New_York").unwrap());
    assert_eq!((local.date().to_string(), local.hour(), local.minute()), (date, 9, 0));
    assert_eq!(event.alarms.len(), 1);
}

#[tokio::test]
async fn cancelling_removes_the_session_and_deleting_the_room_removes_its_sessions() {
    let app = spawn_app().await;
    let (host, room) = host_with_room(&app).await;
    let (d1, d2) = (in_days(3), in_days(4));
    let first: serde_json::Value =
        schedule(&host, room, &[("title", "One"), ("date", &d1), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")])
            .await
            .json()
            .await
            .unwrap();
    schedule(&host, room, &[("title", "Two"), ("date", &d2), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")]).await;
    assert_eq!(host.call("cancel_session", &[("session", &first["id"].to_string())]).await.status(), 200);
    let upcoming: Vec<serde_json::Value> = host.call("upcoming_sessions", &[]).await.json().await.unwrap();
    assert_eq!(upcoming.iter().map(|u| u["title"].as_str().unwrap()).collect::<Vec<_>>(), ["Two"]);
    host.call("delete_room", &[("room", &room.to_string()), ("confirm", "yes")]).await;
    assert_eq!(count(&app).await, 0);
}

/// A room with one 30-minute session at 09:00 UTC on a date well ahead, the
/// host, the room's slug, and the session's start.
async fn room_with_session_at_nine(app: &TestApp) -> (Visitor, String, jiff::Timestamp) {
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let date = in_days(10);
    let response =
        schedule(&host, room.id, &[("title", "Check-up"), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")])
            .await;
    assert_eq!(response.status(), 200);
    let start: jiff::Timestamp = format!("{date}T09:00:00Z").parse().unwrap();
    (host, room.slug, start)
}

fn minutes(n: i64) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(n)
}

async fn guest_join(app: &TestApp, slug: &str) -> huddle::call::protocol::ServerMessage {
    let mut socket = app.visitor().socket().await;
    socket.send(join_message(slug, "Pat")).await;
    socket.recv().await
}

#[tokio::test]
async fn guests_get_in_only_from_fifteen_minutes_before_to_the_end_and_the_host_always() {
    use huddle::call::protocol::{ErrorCode, ServerMessage};
    let app = spawn_app().await;
    let (host, slug, start) = room_with_session_at_nine(&app).await;
    // 15 min 5 s before: not yet, for the page and for signaling.
    app.clock.set(start - minutes(15) - jiff::SignedDuration::from_secs(5));
    let page = app.visitor().page(&format!("/r/{slug}")).await.text().await.unwrap();
    assert!(page.contains("“Check-up” starts at") && page.contains("09:00–09:30 (UTC)"), "the page says when");
    assert_eq!(crate::helpers::error_code(&guest_join(&app, &slug).await), Some(ErrorCode::NotOpenYet));
    // The host may start early.
    let mut host_socket = host.socket().await;
    assert!(matches!(host_socket.join(&slug, "ignored").await, ServerMessage::Welcome { .. }));

    // From 15 minutes before: open.
    app.clock.set(start - minutes(15));
    assert!(matches!(guest_join(&app, &slug).await, ServerMessage::Welcome { .. }));
    let page = crate::helpers::shown(app.visitor().page(&format!("/r/{slug}")).await.text().await.unwrap());
    assert!(!page.contains("starts at"));

    // A minute before the end: still open. At the end: ended.
    app.clock.set(start + minutes(29));
    assert!(matches!(guest_join(&app, &slug).await, ServerMessage::Welcome { .. }));
    app.clock.set(start + minutes(30));
    assert_eq!(crate::helpers::error_code(&guest_join(&app, &slug).await), Some(ErrorCode::SessionEnded));
    let page = app.visitor().page(&format!("/r/{slug}")).await.text().await.unwrap();
    assert!(page.contains("This session has ended."));
}

#[tokio::test]
async fn a_room_with_nothing_scheduled_is_open_to_guests_whenever() {
    use huddle::call::protocol::ServerMessage;
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Drop-in").await;
    assert!(matches!(guest_join(&app, &room.slug).await, ServerMessage::Welcome { .. }));
}

//! Attendance: every stay in a call is recorded (reconnects merged), the
//! host downloads it as CSV, and the host's actions reach the audit log.

use huddle::server::db::sql;
use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ServerMessage};

use crate::helpers::{resume_token, spawn_app, spawn_app_with, TestApp};

/// Polls `query` (one count) until it reaches `want`, for up to 5 s: the
/// records are written just after the fact.
pub(crate) async fn eventually(app: &TestApp, query: &str, want: i64) {
    let db = app.db().await;
    for _ in 0..100 {
        let (n,): (i64,) = sql::query_as(query.to_string()).fetch_one(&db).await.unwrap();
        if n == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (n,): (i64,) = sql::query_as(query.to_string()).fetch_one(&db).await.unwrap();
    assert_eq!(n, want, "{query}");
}

#[tokio::test]
async fn joins_leaves_and_a_reconnect_make_one_row_per_stay_and_a_csv() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    let mut pat = app.visitor().socket().await;
    let welcome = pat.join(&room.slug, "Pat, Jr.").await;
    call.recv().await;
    eventually(&app, "SELECT count(*) FROM attendance", 2).await;

    // A blip: Pat's connection drops and resumes. Still one stay.
    pat.cut();
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Resumed { .. }));
    eventually(&app, "SELECT count(*) FROM attendance WHERE reconnects = 1", 1).await;
    back.send(ClientMessage::Leave).await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NOT NULL", 1).await;
    eventually(&app, "SELECT count(*) FROM attendance", 2).await;

    let response = host.page(&format!("/rooms/{}/attendance.csv", room.id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("Dr. Host,host,"));
    assert!(lines[2].starts_with("\"Pat, Jr.\",guest,") && lines[2].ends_with(",1"), "{}", lines[2]);
    // Times as spreadsheets read them: ISO 8601 in UTC, to the second.
    let joined = lines[1].split(',').nth(2).unwrap();
    assert_eq!(joined.len(), "2026-12-01T09:00:00Z".len(), "{joined}");
    assert!(joined.parse::<jiff::Timestamp>().is_ok() && joined.ends_with('Z'), "{joined}");

    // Nobody else gets it.
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.page(&format!("/rooms/{}/attendance.csv", room.id)).await.status(), 404);
    assert_eq!(app.visitor().page(&format!("/rooms/{}/attendance.csv", room.id)).await.status(), 401);
}

/// A half-hour session at 09:00 UTC ten days from now in room `room`
/// (`extra` adds form fields, such as a weekly repeat): what the server
/// answered, and when it starts.
pub(crate) async fn nine_oclock_in_ten_days(
    host: &crate::helpers::Visitor,
    room: i64,
    extra: &[(&str, &str)],
) -> (serde_json::Value, jiff::Timestamp) {
    let date = jiff::Zoned::now().checked_add(jiff::Span::new().days(10)).unwrap().date().to_string();
    let room = room.to_string();
    let mut form =
        vec![("room", room.as_str()), ("title", "Check-up"), ("date", &date), ("time", "09:00"), ("time_zone", "UTC"), ("duration_minutes", "30")];
    form.extend_from_slice(extra);
    let created = host.call("schedule_session", &form).await.json().await.unwrap();
    (created, format!("{date}T09:00:00Z").parse().unwrap())
}

#[tokio::test]
async fn a_sessions_attendance_lists_only_the_stays_in_its_window() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let (created, start) = nine_oclock_in_ten_days(&host, room.id, &[]).await;
    // In the session's window, Pat comes and goes.
    app.clock.set(start - jiff::SignedDuration::from_mins(5));
    let mut pat = app.visitor().socket().await;
    pat.join(&room.slug, "Pat").await;
    eventually(&app, "SELECT count(*) FROM attendance", 1).await;
    pat.send(ClientMessage::Leave).await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NOT NULL", 1).await;
    // Long after it, the host drops in alone.
    app.clock.set(start + jiff::SignedDuration::from_hours(3));
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    eventually(&app, "SELECT count(*) FROM attendance", 2).await;

    let csv = host.page(&format!("/rooms/{}/attendance.csv?session={}", room.id, created["id"])).await.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with("Pat,guest,"));
}

#[tokio::test]
async fn admits_denies_removals_locks_ends_and_refused_host_actions_are_audited() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    host.call("set_room_lobby", &[("room", &room.id.to_string()), ("lobby", "on")]).await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    call.recv().await; // the lobby
    let mut pat = app.knock(&room.slug, "Pat").await;
    let waiting = |m: ServerMessage| match m {
        ServerMessage::Lobby { waiting } => waiting.last().unwrap().id,
        other => panic!("expected the lobby, got {other:?}"),
    };
    let pat_id = waiting(call.recv().await);
    call.send(ClientMessage::Admit { id: pat_id }).await;
    pat.recv().await; // welcome
                      // Pat, a guest, tries a host action.
    pat.send(ClientMessage::Lock { locked: true }).await;
    let _sam = app.knock(&room.slug, "Sam").await;
    call.recv().await; // joined
    call.recv().await; // lobby: empty after admit
    let sam_id = waiting(call.recv().await);
    call.send(ClientMessage::Deny { id: sam_id }).await;
    call.send(ClientMessage::Lock { locked: true }).await;
    call.send(ClientMessage::Remove { id: pat_id }).await;
    call.send(ClientMessage::EndForAll).await;
    call.expect_closed(Some(4003)).await;

    let query = "SELECT count(*) FROM audit_events WHERE action LIKE 'call_%'";
    eventually(&app, query, 6).await;
    let rows: Vec<(String, String, String)> = sql::query_as("SELECT actor, action, outcome FROM audit_events WHERE action LIKE 'call_%' ORDER BY id")
        .fetch_all(&app.db().await)
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = rows.iter().map(|(_, a, o)| (a.as_str(), o.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("call_admit", "success"),
            ("call_lock", "failure"),
            ("call_deny", "success"),
            ("call_lock", "success"),
            ("call_remove", "success"),
            ("call_end", "success")
        ]
    );
    assert_eq!(rows[0].0, "account:1");
    assert!(rows[1].0.starts_with("guest:"), "the refused one names the guest: {}", rows[1].0);
}

#[tokio::test]
async fn stays_and_polls_open_when_the_server_stopped_are_closed_when_it_starts_again() {
    let mut app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    let poll = huddle::call::poll::PollDraft {
        question: "Still there?".into(),
        options: vec!["Yes".into(), "No".into()],
        multiple: false,
        anonymous: false,
    };
    call.send(ClientMessage::PollStart { poll }).await;
    let mut guest = app.visitor().socket().await;
    guest.join(&room.slug, "Pat").await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NULL", 2).await;
    eventually(&app, "SELECT count(*) FROM polls WHERE closed_at IS NULL", 1).await;
    app.restart().await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NULL", 0).await;
    eventually(&app, "SELECT count(*) FROM attendance", 2).await;
    // Its poll ended with it.
    eventually(&app, "SELECT count(*) FROM polls WHERE closed_at IS NULL", 0).await;
    eventually(&app, "SELECT count(*) FROM polls", 1).await;
}

/// The refused host actions written in full, and the rows that sum up the
/// rest: (action, target) in order.
async fn refusal_rows(app: &TestApp) -> Vec<(String, Option<String>)> {
    sql::query_as("SELECT action, target FROM audit_events WHERE action LIKE 'call_%' AND outcome = 'failure' ORDER BY id")
        .fetch_all(&app.db().await)
        .await
        .unwrap()
}

/// A host in a call of a room with a lobby: the call's socket and the room.
async fn hosting_with_lobby(app: &TestApp) -> (crate::helpers::Socket, huddle::api::rooms::RoomSummary) {
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    host.call("set_room_lobby", &[("room", &room.id.to_string()), ("lobby", "on")]).await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    (call, room)
}

#[tokio::test]
async fn waiting_guests_hammering_host_actions_cannot_fill_the_audit_log() {
    let app = spawn_app().await;
    let (_call, room) = hosting_with_lobby(&app).await;
    let mut guests = Vec::new();
    for n in 0..10 {
        guests.push(app.knock(&room.slug, &format!("Guest {n}")).await);
    }
    for guest in &mut guests {
        for _ in 0..30 {
            guest.send(ClientMessage::AdmitAll).await;
        }
    }
    for guest in &mut guests {
        for _ in 0..30 {
            guest.expect_error(huddle::call::protocol::ErrorCode::NotHost).await;
        }
    }
    // Three from their one address in full (300 rows once, then 30).
    eventually(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'call_admit' AND outcome = 'failure'", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let target = Some(format!("room:{}", room.id));
    assert_eq!(refusal_rows(&app).await, vec![("call_admit".to_string(), target.clone()); 3], "each naming the room");
    // A minute on, one row says how many more there were.
    app.clock.set(app.clock.now() + jiff::SignedDuration::from_secs(61));
    guests[0].send(ClientMessage::AdmitAll).await;
    guests[0].expect_error(huddle::call::protocol::ErrorCode::NotHost).await;
    eventually(&app, "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'call_%' AND outcome = 'failure'", 5).await;
    let rows = refusal_rows(&app).await;
    assert_eq!(rows[3], ("call_refused_repeats".to_string(), Some(format!("room:{} 297 more refused", room.id))));
    assert_eq!(rows[4], ("call_admit".to_string(), target), "and a new minute writes again");
}

#[tokio::test]
async fn guests_reconnecting_to_be_refused_again_are_capped_per_address_and_per_room() {
    // The probe's finding: waiting guests that reconnect (a new participant
    // each time) wrote about 840 audit rows a second, with no room.
    let app = spawn_app_with(|c| c.trusted_proxies = huddle::server::client_address::TrustedProxies::parse("127.0.0.1").unwrap()).await;
    let (_call, room) = hosting_with_lobby(&app).await;
    let from = |address: &str| app.visitor_with(&[("x-forwarded-for", address)]);
    for n in 0..40 {
        let mut guest = app.knock_as(&from("203.0.113.5"), &room.slug, &format!("Again {n}")).await;
        guest.send(ClientMessage::MuteAll).await;
        guest.expect_error(huddle::call::protocol::ErrorCode::NotHost).await;
        guest.send(ClientMessage::Leave).await;
    }
    eventually(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'call_mute' AND outcome = 'failure'", 3).await;
    // Many addresses: the room's ten in the minute, all told.
    for n in 0..30 {
        let mut guest = app.knock_as(&from(&format!("198.51.100.{n}")), &room.slug, &format!("Many {n}")).await;
        guest.send(ClientMessage::MuteAll).await;
        guest.expect_error(huddle::call::protocol::ErrorCode::NotHost).await;
        guest.send(ClientMessage::Leave).await;
    }
    eventually(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'call_mute' AND outcome = 'failure'", 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = refusal_rows(&app).await;
    assert_eq!(rows.len(), 10, "{rows:?}");
    assert!(rows.iter().all(|(_, target)| target.as_deref() == Some(&*format!("room:{}", room.id))), "{rows:?}");
}

#[tokio::test]
async fn someone_still_in_a_weekly_sessions_call_is_listed_once() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let (created, start) = nine_oclock_in_ten_days(&host, room.id, &[("repeat", "weekly"), ("weeks", "6")]).await;
    assert_eq!(created["repeats"], "Weekly, 6 times", "{created}");
    app.clock.set(start + jiff::SignedDuration::from_mins(5));
    // Pat joins the first meeting and is still in the call; Sam comes and
    // goes meanwhile.
    let mut pat = app.visitor().socket().await;
    pat.join(&room.slug, "Pat").await;
    eventually(&app, "SELECT count(*) FROM attendance", 1).await;
    let mut sam = app.visitor().socket().await;
    sam.join(&room.slug, "Sam").await;
    eventually(&app, "SELECT count(*) FROM attendance", 2).await;
    sam.send(ClientMessage::Leave).await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NOT NULL", 1).await;
    let csv = host.page(&format!("/rooms/{}/attendance.csv?session={}", room.id, created["id"])).await.text().await.unwrap();
    let names: Vec<&str> = csv.trim_end().split("\r\n").skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(names, ["Pat", "Sam"], "each once, not once per remaining week: {csv}");
}

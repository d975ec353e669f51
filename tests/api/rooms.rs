use huddle::call::protocol::{ErrorCode, ServerMessage};
use huddle::domain::RoomSlug;
use huddle::server::db::sql;

use crate::helpers::{join_message, resume_token, spawn_app, you};

#[tokio::test]
async fn creating_a_room_requires_signing_in() {
    let app = spawn_app().await;
    let response = app.visitor().call("create_room", &[("name", "Clinic")]).await;
    assert_eq!(response.status(), 401);
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn created_rooms_are_listed_newest_first_with_unguessable_join_links() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let first = host.create_room("Consultations").await;
    let second = host.create_room("Year 9 French").await;
    let listed: Vec<serde_json::Value> = host.call("my_rooms", &[]).await.json().await.unwrap();
    let names: Vec<_> = listed.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Year 9 French", "Consultations"]);
    for room in [&first, &second] {
        assert_eq!(room.join_link, format!("{}/r/{}", app.origin, room.slug));
        assert!(RoomSlug::parse(&room.slug).is_ok());
    }
    assert_ne!(first.slug, second.slug);
}

#[tokio::test]
async fn another_account_does_not_see_my_rooms() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    ada.create_room("Private clinic").await;
    let bo = app.host("bo@example.org", "Bo").await;
    let listed: Vec<serde_json::Value> = bo.call("my_rooms", &[]).await.json().await.unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn an_invalid_room_name_gets_a_field_message_and_saves_nothing() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    for name in ["", "   ", &"r".repeat(81), "\u{7}\u{202E}"] {
        let response = host.call("create_room", &[("name", name)]).await;
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], "name");
    }
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn control_and_bidi_characters_are_stripped_from_room_names() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic\u{202E}\u{0007} A").await;
    assert_eq!(room.name, "Clinic A");
}

#[tokio::test]
async fn the_host_renames_a_room_and_the_join_link_shows_the_new_name() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let response = host.call("rename_room", &[("room", &room.id.to_string()), ("name", "  Tuesday clinic ")]).await;
    assert_eq!(response.status(), 200);
    let renamed: serde_json::Value = response.json().await.unwrap();
    assert_eq!(renamed["name"], "Tuesday clinic");
    assert_eq!(renamed["slug"], room.slug.as_str(), "renaming keeps the link");
    let page = app.visitor().page(&format!("/r/{}", room.slug)).await.text().await.unwrap();
    assert!(page.contains("Tuesday clinic"));
    let bad = host.call("rename_room", &[("room", &room.id.to_string()), ("name", " ")]).await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn another_account_cannot_touch_my_room_and_learns_nothing_from_trying() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let room = ada.create_room("Private clinic").await;
    let eve = app.host("eve@example.org", "Eve").await;
    let id = room.id.to_string();
    for (endpoint, form) in [
        ("rename_room", vec![("room", id.as_str()), ("name", "Eve's now")]),
        ("new_room_link", vec![("room", id.as_str())]),
        ("set_room_kind", vec![("room", id.as_str()), ("kind", "class")]),
        ("set_room_guests", vec![("room", id.as_str()), ("keep_chat", "on")]),
        ("delete_room", vec![("room", id.as_str()), ("confirm", "yes")]),
    ] {
        let mine = eve.call(endpoint, &form).await;
        assert_eq!(mine.status(), 404, "{endpoint} on another account's room");
        // The same answer as for a room that does not exist at all.
        let mut nowhere = form.clone();
        nowhere[0] = ("room", "999999");
        assert_eq!(eve.call(endpoint, &nowhere).await.status(), 404, "{endpoint} on no room");
        // And nobody signed in is asked to sign in.
        assert_eq!(app.visitor().call(endpoint, &form).await.status(), 401);
    }
    let listed: Vec<serde_json::Value> = ada.call("my_rooms", &[]).await.json().await.unwrap();
    assert_eq!(listed[0]["name"], "Private clinic");
    assert_eq!(listed[0]["slug"], room.slug.as_str());
}

#[tokio::test]
async fn a_new_link_stops_the_old_one_at_once_and_the_call_carries_on() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let mut early = app.visitor().socket().await;
    let early_id = you(&early.join(&room.slug, "Early").await);

    let rotated: serde_json::Value = host.call("new_room_link", &[("room", &room.id.to_string())]).await.json().await.unwrap();
    let new_slug = rotated["slug"].as_str().unwrap().to_string();
    assert_ne!(new_slug, room.slug);
    assert_eq!(rotated["join_link"], format!("{}/r/{new_slug}", app.origin));

    // The old link: a 404 page, and signaling refuses it.
    assert_eq!(app.visitor().page(&format!("/r/{}", room.slug)).await.status(), 404);
    let mut late = app.visitor().socket().await;
    late.send(join_message(&room.slug, "Late")).await;
    assert!(matches!(late.recv().await, ServerMessage::Error { code: ErrorCode::UnknownRoom, .. }));

    // The new link leads into the very call already under way.
    let mut newcomer = app.visitor().socket().await;
    match newcomer.join(&new_slug, "Newcomer").await {
        ServerMessage::Welcome { participants, .. } => assert_eq!(participants.iter().map(|p| p.id).collect::<Vec<_>>(), [early_id]),
        _ => unreachable!(),
    }
    assert!(matches!(early.recv().await, ServerMessage::ParticipantJoined { .. }));
}

#[tokio::test]
async fn deleting_a_room_needs_confirming_then_ends_its_call_and_its_link() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let other = host.create_room("Other").await;
    let mut guest = app.visitor().socket().await;
    let welcome = guest.join(&room.slug, "Guest").await;
    let mut elsewhere = app.visitor().socket().await;
    elsewhere.join(&other.slug, "Elsewhere").await;

    let unconfirmed = host.call("delete_room", &[("room", &room.id.to_string())]).await;
    assert_eq!(unconfirmed.status(), 422);
    let body: serde_json::Value = unconfirmed.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "confirm");
    guest.expect_silence().await;

    assert_eq!(host.call("delete_room", &[("room", &room.id.to_string()), ("confirm", "yes")]).await.status(), 200);
    guest.expect_closed(Some(4002)).await;
    assert_eq!(app.visitor().page(&format!("/r/{}", room.slug)).await.status(), 404);
    // Nobody can come back into the deleted room's call.
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Error { code: ErrorCode::ResumeRefused, .. }));
    // Other rooms are untouched.
    elsewhere.expect_silence().await;
    let listed: Vec<serde_json::Value> = host.call("my_rooms", &[]).await.json().await.unwrap();
    assert_eq!(listed.iter().map(|r| r["name"].as_str().unwrap()).collect::<Vec<_>>(), ["Other"]);
}

#[tokio::test]
async fn a_room_of_two_refuses_a_third_and_its_size_is_the_hosts_to_set() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Consultation").await;
    let id = room.id.to_string();
    for bad in ["1", "5", "many"] {
        assert_eq!(host.call("set_room_size", &[("room", &id), ("max_participants", bad)]).await.status(), 422, "{bad}");
    }
    let saved: serde_json::Value = host.call("set_room_size", &[("room", &id), ("max_participants", "2")]).await.json().await.unwrap();
    assert_eq!(saved["max_participants"], 2);
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.call("set_room_size", &[("room", &id), ("max_participants", "4")]).await.status(), 404);

    let mut first = app.visitor().socket().await;
    first.join(&room.slug, "Pat").await;
    let mut second = app.visitor().socket().await;
    second.join(&room.slug, "Sam").await;
    let mut third = app.visitor().socket().await;
    third.send(join_message(&room.slug, "Kim")).await;
    assert!(matches!(third.recv().await, ServerMessage::Error { code: ErrorCode::RoomFull, .. }));
}

#[tokio::test]
async fn join_links_that_lead_nowhere_are_throttled_per_address() {
    let app = crate::helpers::spawn_app_with(|c| c.room_lookup_limit_per_address = 3).await;
    let host = app.host("host@example.org", "Host").await;
    let real = host.create_room("Real").await;
    let prober = app.visitor();
    let mut statuses = Vec::new();
    for n in 0..6 {
        statuses.push(prober.page(&format!("/r/AAAAAAAAAAAAAAAAAAAAAAA{n}")).await.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 404, 404, 429, 429]);
    // Signaling counts the same misses, and says so.
    let mut socket = prober.socket().await;
    socket.send(join_message("BBBBBBBBBBBBBBBBBBBBBBBB", "X")).await;
    socket.expect_error(huddle::call::protocol::ErrorCode::TooManyWrongLinks).await;
    // A real link still opens once the wait is over.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(prober.page(&format!("/r/{}", real.slug)).await.status(), 200);
}

/// What the invitation (what anyone with the link may read) says of the
/// host: (their name, their note).
async fn greeting_seen_by_a_guest(app: &crate::helpers::TestApp, slug: &str) -> (serde_json::Value, serde_json::Value) {
    let response = app.visitor().call("invitation", &[("slug", slug)]).await;
    assert_eq!(response.status(), 200);
    let invitation: serde_json::Value = response.json().await.unwrap();
    (invitation["host_name"].clone(), invitation["welcome_note"].clone())
}

#[tokio::test]
async fn a_guest_sees_the_hosts_name_and_note_before_joining_only_when_the_host_chooses() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Dr. Ada Okafor").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    // By default, nothing of the host in a meeting's room.
    assert_eq!(greeting_seen_by_a_guest(&app, &room.slug).await, (serde_json::Value::Null, serde_json::Value::Null));
    // A consultation's patient and a class's pupils see whom they wait for.
    for kind in ["consultation", "class"] {
        let response = host.call("create_room", &[("name", kind), ("kind", kind)]).await;
        let made: serde_json::Value = response.json().await.unwrap();
        let (name, _) = greeting_seen_by_a_guest(&app, made["slug"].as_str().unwrap()).await;
        assert_eq!(name, serde_json::json!("Dr. Ada Okafor"), "{kind}");
    }

    let note = "Running about ten minutes late.\nThank you for waiting.";
    let response = host.call("set_room_greeting", &[("room", &id), ("show_host_name", "on"), ("welcome_note", note)]).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(greeting_seen_by_a_guest(&app, &room.slug).await, (serde_json::json!("Dr. Ada Okafor"), serde_json::json!(note)));

    // A note alone, without the name; then neither.
    host.call("set_room_greeting", &[("room", &id), ("welcome_note", "Welcome")]).await;
    assert_eq!(greeting_seen_by_a_guest(&app, &room.slug).await, (serde_json::Value::Null, serde_json::json!("Welcome")));
    host.call("set_room_greeting", &[("room", &id), ("welcome_note", "  ")]).await;
    assert_eq!(greeting_seen_by_a_guest(&app, &room.slug).await, (serde_json::Value::Null, serde_json::Value::Null));
}

#[tokio::test]
async fn a_welcome_note_too_long_is_refused_with_its_reason_and_nobody_else_may_set_one() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    let long = "a".repeat(501);
    let response = host.call("set_room_greeting", &[("room", &id), ("welcome_note", &long)]).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains(r#""problem":{"code":"too_long","max":500}"#));
    let other = app.host("bo@example.org", "Bo").await;
    let response = other.call("set_room_greeting", &[("room", &id), ("show_host_name", "on"), ("welcome_note", "Hi")]).await;
    assert_eq!(response.status(), 404);
    assert_eq!(greeting_seen_by_a_guest(&app, &room.slug).await, (serde_json::Value::Null, serde_json::Value::Null));
}

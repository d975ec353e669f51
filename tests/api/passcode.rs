//! Room passcodes: guests must give it, the host never; wrong ones are
//! refused and, after a few, throttled.

use huddle::call::protocol::{ClientMessage, ErrorCode, ServerMessage};
use huddle::server::db::sql;

use crate::helpers::{error_code, join_message, spawn_app, Html, Socket, TestApp};

async fn join_with(app: &TestApp, slug: &str, passcode: Option<&str>) -> Socket {
    let mut socket = app.visitor().socket().await;
    let mut hello = join_message(slug, "Pat");
    if let ClientMessage::Join { passcode: given, .. } = &mut hello {
        *given = passcode.map(String::from);
    }
    socket.send(hello).await;
    socket
}

#[tokio::test]
async fn guests_need_the_passcode_and_the_host_does_not() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let response = host.call("set_room_passcode", &[("room", &room.id.to_string()), ("passcode", " 4812 ")]).await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    assert_eq!(saved["has_passcode"], true);
    assert!(saved.get("passcode").is_none(), "never sent back: {saved}");
    // Only its hash is stored.
    let (stored,): (String,) = sql::query_as("SELECT passcode FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("4812"), "{stored}");

    let mut none = join_with(&app, &room.slug, None).await;
    assert_eq!(error_code(&none.recv().await), Some(ErrorCode::WrongPasscode));
    none.expect_closed(Some(1008)).await;
    let mut wrong = join_with(&app, &room.slug, Some("1234")).await;
    assert_eq!(error_code(&wrong.recv().await), Some(ErrorCode::WrongPasscode));
    let mut right = join_with(&app, &room.slug, Some("4812")).await;
    assert!(matches!(right.recv().await, ServerMessage::Welcome { .. }));
    let mut call = host.socket().await;
    assert!(matches!(call.join(&room.slug, "ignored").await, ServerMessage::Welcome { .. }), "the host needs no passcode");

    // The page asks guests for it, and not the host.
    let page = app.visitor().page(&format!("/r/{}", room.slug)).await.html().await;
    assert!(page.contains(">Passcode</label>"));
    let page = host.page(&format!("/r/{}", room.slug)).await.html().await;
    assert!(!page.contains(">Passcode</label>"));
}

#[tokio::test]
async fn after_five_wrong_passcodes_even_the_right_one_waits() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    host.call("set_room_passcode", &[("room", &room.id.to_string()), ("passcode", "4812")]).await;
    for guess in ["0000", "1111", "2222", "3333", "4444", "5555"] {
        let mut socket = join_with(&app, &room.slug, Some(guess)).await;
        assert_eq!(error_code(&socket.recv().await), Some(ErrorCode::WrongPasscode), "{guess}");
    }
    let mut right = join_with(&app, &room.slug, Some("4812")).await;
    assert_eq!(error_code(&right.recv().await), Some(ErrorCode::TooManyPasscodes));
}

#[tokio::test]
async fn a_passcode_is_4_to_32_characters_and_empty_removes_it() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    for bad in ["123", &"x".repeat(33)] {
        let response = host.call("set_room_passcode", &[("room", &id), ("passcode", bad)]).await;
        assert_eq!(response.status(), 422);
    }
    host.call("set_room_passcode", &[("room", &id), ("passcode", "4812")]).await;
    let cleared: serde_json::Value = host.call("set_room_passcode", &[("room", &id), ("passcode", "")]).await.json().await.unwrap();
    assert_eq!(cleared["has_passcode"], false);
    let mut guest = join_with(&app, &room.slug, None).await;
    assert!(matches!(guest.recv().await, ServerMessage::Welcome { .. }));
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.call("set_room_passcode", &[("room", &id), ("passcode", "9999")]).await.status(), 404);
}

#[tokio::test]
async fn a_passcode_stored_in_plain_text_by_an_earlier_version_is_hashed_at_start_and_still_works() {
    let mut app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    sql::query("UPDATE rooms SET passcode = '4812'").execute(&app.db().await).await.unwrap();
    app.restart().await;
    let (stored,): (String,) = sql::query_as("SELECT passcode FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    let mut wrong = join_with(&app, &room.slug, Some("1234")).await;
    assert_eq!(error_code(&wrong.recv().await), Some(ErrorCode::WrongPasscode));
    let mut right = join_with(&app, &room.slug, Some("4812")).await;
    assert!(matches!(right.recv().await, ServerMessage::Welcome { .. }));
}

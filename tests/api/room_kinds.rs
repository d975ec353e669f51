//! Room kinds and what guests may do: a consultation always has its lobby,
//! a class's guests join muted and speak when the host lets them, the host
//! talks with a waiting guest, and a room's chat is kept only if asked.

use huddle::server::db::sql;
use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ErrorCode, ServerMessage};
use huddle::domain::CallRules;
use tokio_tungstenite::tungstenite::Message;

use crate::attendance::eventually;
use crate::helpers::{spawn_app, Socket, Visitor};

/// A room of `kind` made by a new host, as the server summed it up.
async fn room_of_kind(host: &Visitor, kind: &str) -> serde_json::Value {
    let response = host.call("create_room", &[("name", "Room"), ("kind", kind)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The host in the call of `slug`, with the (empty) lobby read if any.
async fn host_joins(host: &Visitor, slug: &str, lobby: bool) -> Socket {
    let mut call = host.socket().await;
    assert!(matches!(call.join(slug, "ignored").await, ServerMessage::Welcome { .. }));
    if lobby {
        assert!(matches!(call.recv().await, ServerMessage::Lobby { .. }));
    }
    call
}

/// The id of the one guest in a lobby update.
fn only_waiting(message: &ServerMessage) -> huddle::call::protocol::ParticipantId {
    match message {
        ServerMessage::Lobby { waiting } if waiting.len() == 1 => waiting[0].id,
        other => panic!("expected one waiting guest, got {other:?}"),
    }
}

#[tokio::test]
async fn each_kind_brings_its_defaults_and_the_host_may_change_them() {
    let app = spawn_app().await;
    let host = app.host("dr@example.org", "Dr. Host").await;
    let consultation = room_of_kind(&host, "consultation").await;
    assert_eq!(consultation["kind"], "consultation");
    assert_eq!((consultation["lobby"].as_bool(), consultation["max_participants"].as_i64()), (Some(true), Some(2)));
    assert_eq!(consultation["guests_join_muted"], false);
    let class = room_of_kind(&host, "class").await;
    assert_eq!((class["lobby"].as_bool(), class["guests_join_muted"].as_bool()), (Some(true), Some(true)));
    assert_eq!((class["guests_may_unmute"].as_bool(), class["keep_chat"].as_bool()), (Some(false), Some(false)));
    // No kind given: a meeting, no lobby.
    let meeting = host.create_room("Team").await;
    assert_eq!((meeting.kind.as_str(), meeting.lobby), ("meeting", false));
    let bad = host.call("create_room", &[("name", "Room"), ("kind", "webinar")]).await;
    assert_eq!(bad.status(), 422);
    let listed: Vec<serde_json::Value> = host.call("my_rooms", &[]).await.json().await.unwrap();
    assert_eq!(listed.len(), 3, "the refused room was not saved");

    // A consultation's lobby stays on.
    let id = consultation["id"].to_string();
    let off = host.call("set_room_lobby", &[("room", &id)]).await;
    assert_eq!(off.status(), 422);
    assert!(off.text().await.unwrap().contains(r#""code":"lobby_required""#));
    // Making it a meeting brings a meeting's defaults, and the lobby may go.
    let changed: serde_json::Value = host.call("set_room_kind", &[("room", &id), ("kind", "meeting")]).await.json().await.unwrap();
    assert_eq!((changed["kind"].as_str(), changed["lobby"].as_bool()), (Some("meeting"), Some(false)));
    assert!(changed["max_participants"].is_null());
    // Each guest rule is its own box; an absent box is off.
    let id = class["id"].to_string();
    let saved: serde_json::Value =
        host.call("set_room_guests", &[("room", &id), ("may_share_screen", "on"), ("keep_chat", "on")]).await.json().await.unwrap();
    assert_eq!(
        [&saved["guests_join_muted"], &saved["guests_may_unmute"], &saved["guests_may_share_screen"], &saved["keep_chat"]],
        [false, false, true, true]
    );
    // The settings page shows the kind chosen and the boxes as saved.
    let page = host.page(&format!("/rooms/{id}")).await.text().await.unwrap();
    assert!(page.contains(r#"id="kind-class" type="radio" name="kind" value="class" checked"#), "{page}");
    assert!(page.contains(r#"id="keep-chat" type="checkbox" name="keep_chat" value="on" checked"#));
    assert!(!page.contains(r#"id="join-muted" type="checkbox" name="join_muted" value="on" checked"#));
}

#[tokio::test]
async fn a_class_guest_joins_muted_and_speaks_only_when_the_host_lets_them() {
    let app = spawn_app().await;
    let host = app.host("teacher@example.org", "Ms. Teacher").await;
    let class = room_of_kind(&host, "class").await;
    let slug = class["slug"].as_str().unwrap();
    let mut call = host_joins(&host, slug, true).await;
    let mut pupil = app.knock(slug, "Pupil").await;
    let pupil_id = only_waiting(&call.recv().await);
    call.send(ClientMessage::Admit { id: pupil_id }).await;
    match pupil.recv().await {
        ServerMessage::Welcome { rules, .. } => {
            assert_eq!(rules, CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false })
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    // The pupil asks; they cannot let themselves speak.
    pupil.send(ClientMessage::Hand { raised: true }).await;
    assert!(matches!(pupil.recv().await, ServerMessage::Hands { raised } if raised == [pupil_id]));
    pupil.send(ClientMessage::LetSpeak { id: pupil_id }).await;
    pupil.expect_error(ErrorCode::NotHost).await;
    // The teacher lets them; the hand goes down.
    call.send(ClientMessage::LetSpeak { id: pupil_id }).await;
    assert_eq!(pupil.recv().await, ServerMessage::MayUnmute { allowed: true });
    assert!(matches!(pupil.recv().await, ServerMessage::Hands { raised } if raised.is_empty()));
    // Muted again, they must ask again.
    call.send(ClientMessage::Mute { id: pupil_id }).await;
    assert_eq!(pupil.recv().await, ServerMessage::MutedByHost);
    assert_eq!(pupil.recv().await, ServerMessage::MayUnmute { allowed: false });
}

#[tokio::test]
async fn the_host_talks_with_a_waiting_guest_and_the_guest_learns_nothing_else() {
    let app = spawn_app().await;
    let host = app.host("dr@example.org", "Dr. Secret Name").await;
    let room = room_of_kind(&host, "consultation").await;
    let slug = room["slug"].as_str().unwrap();
    let mut pat = app.knock(slug, "Pat").await;
    // Nobody to read it yet.
    pat.send(ClientMessage::Chat { text: "Is anyone there?".into() }).await;
    pat.expect_error(ErrorCode::HostAway).await;

    // The host arrives and sees Pat waiting.
    let mut call = host_joins(&host, slug, false).await;
    let pat_id = only_waiting(&call.recv().await);
    assert_eq!(pat.recv().await, ServerMessage::HostHere { here: true }, "Pat learns someone is there now, and no more");
    call.send(ClientMessage::LobbyChat { id: pat_id, text: "I'll be with you in 5 minutes".into() }).await;
    // The raw frame: who it is about, that the host said it, what and when;
    // no name, no roster.
    let Some(Message::Text(frame)) = pat.next_frame(Duration::from_secs(5)).await else { panic!("no word from the host") };
    let frame: serde_json::Value = serde_json::from_str(frame.as_str()).unwrap();
    let mut keys: Vec<&str> = frame.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["from_host", "guest", "sent_at_ms", "text", "type"]);
    assert_eq!((frame["type"].as_str(), frame["from_host"].as_bool()), (Some("lobby_chat"), Some(true)));
    assert_eq!(frame["text"], "I'll be with you in 5 minutes");
    assert!(!frame.to_string().contains("Secret"));
    assert!(matches!(call.recv().await, ServerMessage::LobbyChat { from_host: true, .. }), "the host sees their own word");
    // Pat answers; only the host hears it. Pat is still waiting.
    pat.send(ClientMessage::Chat { text: "Thank you".into() }).await;
    assert!(matches!(call.recv().await, ServerMessage::LobbyChat { guest, from_host: false, .. } if guest == pat_id));
    assert!(matches!(pat.recv().await, ServerMessage::LobbyChat { from_host: false, .. }));
    pat.send(ClientMessage::Hand { raised: true }).await;
    pat.expect_error(ErrorCode::NotAdmitted).await;
    // An empty or oversized word is refused, and only a host may whisper.
    call.send(ClientMessage::LobbyChat { id: pat_id, text: " ".into() }).await;
    call.expect_error(ErrorCode::InvalidChat).await;
    let mut other = app.knock(slug, "Kim").await;
    assert!(matches!(call.recv().await, ServerMessage::Lobby { .. }));
    other.send(ClientMessage::LobbyChat { id: pat_id, text: "psst".into() }).await;
    other.expect_error(ErrorCode::NotHost).await;
    pat.expect_silence().await;
}

#[tokio::test]
async fn a_rooms_chat_is_kept_for_its_host_only_when_the_room_keeps_it() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let kept = host.create_room("Kept").await;
    let id = kept.id.to_string();
    assert_eq!(host.call("set_room_guests", &[("room", &id), ("keep_chat", "on")]).await.status(), 200);
    let unkept = host.create_room("Not kept").await;
    // Guests are told before they join.
    let told = |page: String| crate::helpers::shown(page).contains("The host keeps this call");
    assert!(told(app.visitor().page(&format!("/r/{}", kept.slug)).await.text().await.unwrap()));
    assert!(!told(app.visitor().page(&format!("/r/{}", unkept.slug)).await.text().await.unwrap()));

    for room in [&kept, &unkept] {
        let mut call = host.socket().await;
        call.join(&room.slug, "ignored").await;
        let mut guest = app.visitor().socket().await;
        guest.join(&room.slug, "Guest, Esq.").await;
        assert!(matches!(call.recv().await, ServerMessage::ParticipantJoined { .. }));
        guest.send(ClientMessage::Chat { text: format!("Notes for {}", room.name) }).await;
        assert!(matches!(call.recv().await, ServerMessage::Chat { .. }));
    }
    eventually(&app, &format!("SELECT COUNT(*) FROM kept_chat WHERE room_id = {}", kept.id), 1).await;
    let response = host.page(&format!("/rooms/{}/chat.txt", kept.id)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let text = response.text().await.unwrap();
    assert!(text.contains("Guest, Esq. (guest):\nNotes for Kept\n"), "{text}");
    // The other room kept nothing at all.
    let (n,): (i64,) = sql::query_as("SELECT COUNT(*) FROM kept_chat").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(host.page(&format!("/rooms/{}/chat.txt", unkept.id)).await.text().await.unwrap(), "");
    // Nobody else reads it.
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.page(&format!("/rooms/{}/chat.txt", kept.id)).await.status(), 404);
    assert_eq!(app.visitor().page(&format!("/rooms/{}/chat.txt", kept.id)).await.status(), 401);
}

#[tokio::test]
async fn a_consultation_lets_its_host_admit_a_companion_past_two() {
    let app = spawn_app().await;
    let host = app.host("dr@example.org", "Dr. Host").await;
    let room = room_of_kind(&host, "consultation").await;
    let slug = room["slug"].as_str().unwrap();
    let mut call = host_joins(&host, slug, true).await;
    let mut patient = app.knock(slug, "Patient").await;
    let patient_id = only_waiting(&call.recv().await);
    let mut companion = app.knock(slug, "Companion").await;
    let companion_id = match call.recv().await {
        ServerMessage::Lobby { waiting } => waiting[1].id,
        other => panic!("{other:?}"),
    };
    // Admitting everyone stops at two: the companion is told they join
    // when a place frees...
    call.send(ClientMessage::AdmitAll).await;
    assert!(matches!(patient.recv().await, ServerMessage::Welcome { .. }));
    assert!(matches!(companion.recv().await, ServerMessage::Waiting { full: true, .. }));
    // ...the host names the companion to let them in too.
    call.send(ClientMessage::Admit { id: companion_id }).await;
    assert!(matches!(companion.recv().await, ServerMessage::Welcome { participants, .. } if participants.len() == 2));
    let _ = patient_id;
}

#[tokio::test]
async fn a_guest_told_the_chat_is_not_kept_is_not_kept_even_if_the_call_began_keeping_it() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Kept").await;
    let id = room.id.to_string();
    assert_eq!(host.call("set_room_guests", &[("room", &id), ("keep_chat", "on")]).await.status(), 200);
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    // Mid-call the host stops keeping; the next guest's page says so.
    assert_eq!(host.call("set_room_guests", &[("room", &id)]).await.status(), 200);
    assert!(!crate::helpers::shown(app.visitor().page(&format!("/r/{}", room.slug)).await.text().await.unwrap()).contains("The host keeps this call"));
    let mut guest = app.visitor().socket().await;
    guest.join(&room.slug, "Pat").await;
    assert!(matches!(call.recv().await, ServerMessage::ParticipantJoined { .. }));
    guest.send(ClientMessage::Chat { text: "my private symptoms".into() }).await;
    assert!(matches!(call.recv().await, ServerMessage::Chat { .. }));
    call.send(ClientMessage::Chat { text: "noted by the host".into() }).await;
    assert!(matches!(call.recv().await, ServerMessage::Chat { .. }));
    eventually(&app, &format!("SELECT COUNT(*) FROM kept_chat WHERE room_id = {}", room.id), 1).await;
    let text = host.page(&format!("/rooms/{}/chat.txt", room.id)).await.text().await.unwrap();
    assert!(!text.contains("my private symptoms"), "{text}");
}

//! The lobby: guests wait until the host lets them in, learn nothing about
//! the room meanwhile, and only the host decides.

use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ErrorCode, ParticipantId, ServerMessage, SignalPayload};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{join_message, spawn_app, Socket, TestApp, Visitor};

/// A host with a lobby room, and its slug.
async fn lobby_room(app: &TestApp) -> (Visitor, String) {
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Consultations").await;
    let saved = host.call("set_room_lobby", &[("room", &room.id.to_string()), ("lobby", "on")]).await;
    assert_eq!(saved.status(), 200);
    (host, room.slug)
}

/// The host's call, joined, with the (empty) lobby read.
async fn host_in_call(host: &Visitor, slug: &str) -> Socket {
    let mut call = host.socket().await;
    call.join(slug, "ignored").await;
    assert_eq!(waiting(&call.recv().await), []);
    call
}

/// (name, id) of everyone in a lobby update.
fn waiting(message: &ServerMessage) -> Vec<(String, ParticipantId)> {
    match message {
        ServerMessage::Lobby { waiting } => waiting.iter().map(|w| (w.name.to_string(), w.id)).collect(),
        other => panic!("expected a lobby update, got {other:?}"),
    }
}

#[tokio::test]
async fn a_waiting_guest_receives_nothing_about_the_room_in_its_raw_frames() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut call = host_in_call(&host, &slug).await;

    let mut pat = app.visitor().socket().await;
    pat.send(join_message(&slug, "Pat")).await;
    // The one frame a waiting guest gets: "wait", with its own resume token.
    let Some(Message::Text(first)) = pat.next_frame(Duration::from_secs(5)).await else { panic!("no answer") };
    let first: serde_json::Value = serde_json::from_str(first.as_str()).unwrap();
    assert_eq!(first["type"], "waiting");
    assert_eq!(first["host_here"], true);
    assert_eq!(first.as_object().unwrap().len(), 3, "only type, resume_token and host_here: {first}");
    let pat_id = waiting(&call.recv().await)[0].1;

    // The call goes on: Sam is let in, the host chats and signals.
    let mut sam = app.knock(&slug, "Sam").await;
    let sam_id = waiting(&call.recv().await)[1].1;
    call.send(ClientMessage::Admit { id: sam_id }).await;
    assert!(matches!(sam.recv().await, ServerMessage::Welcome { .. }));
    call.send(ClientMessage::Chat { text: "Welcome, Sam".into() }).await;
    call.send(ClientMessage::Signal { to: sam_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    assert!(matches!(sam.recv().await, ServerMessage::Chat { .. }));
    assert!(matches!(sam.recv().await, ServerMessage::Signal { .. }));
    // Pat, still waiting, got not one more frame: no roster, names, chat or media.
    if let Some(frame) = pat.next_frame(Duration::from_millis(500)).await {
        panic!("a waiting guest received {frame:?}");
    }
    // Nor can Pat reach anyone in the call: a word reaches the host alone.
    pat.send(ClientMessage::Chat { text: "hello?".into() }).await;
    assert!(matches!(pat.recv().await, ServerMessage::LobbyChat { guest, from_host: false, .. } if guest == pat_id));
    let mut heard = false;
    for _ in 0..8 {
        if matches!(call.recv().await, ServerMessage::LobbyChat { guest, from_host: false, .. } if guest == pat_id) {
            heard = true;
            break;
        }
    }
    assert!(heard, "the host hears the waiting guest");
    sam.expect_silence().await;
    pat.send(ClientMessage::Signal { to: sam_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    pat.expect_error(ErrorCode::NotAdmitted).await;
}

#[tokio::test]
async fn the_host_admits_a_guest_and_both_see_each_other() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut call = host_in_call(&host, &slug).await;
    let mut pat = app.knock(&slug, "Pat").await;
    let (name, pat_id) = waiting(&call.recv().await)[0].clone();
    assert_eq!(name, "Pat");
    call.send(ClientMessage::Admit { id: pat_id }).await;
    match pat.recv().await {
        ServerMessage::Welcome { participants, you, .. } => {
            assert_eq!(you.id, pat_id);
            assert_eq!(participants.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Dr. Host"]);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    assert!(matches!(call.recv().await, ServerMessage::ParticipantJoined { participant } if participant.id == pat_id));
    assert_eq!(waiting(&call.recv().await), []);
}

#[tokio::test]
async fn guests_who_come_before_the_host_wait_and_are_not_let_in_when_the_host_arrives() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut early = app.knock(&slug, "Early").await;
    let mut earlier = app.knock(&slug, "Also early").await;
    let mut call = host.socket().await;
    call.join(&slug, "ignored").await;
    let names: Vec<String> = waiting(&call.recv().await).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Early", "Also early"]);
    // They learn a host is here, and are not let in by it.
    for guest in [&mut early, &mut earlier] {
        assert_eq!(guest.recv().await, ServerMessage::HostHere { here: true });
        guest.expect_silence().await;
    }
    // Admit all lets both in.
    call.send(ClientMessage::AdmitAll).await;
    assert!(matches!(early.recv().await, ServerMessage::Welcome { .. }));
    assert!(matches!(earlier.recv().await, ServerMessage::Welcome { .. }));
}

#[tokio::test]
async fn a_denied_guest_is_told_politely_and_cannot_knock_again_for_a_while() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut call = host_in_call(&host, &slug).await;
    let mut pat = app.knock(&slug, "Pat").await;
    let pat_id = waiting(&call.recv().await)[0].1;
    call.send(ClientMessage::Deny { id: pat_id }).await;
    match pat.recv().await {
        ServerMessage::Error { code, message } => {
            assert_eq!(code, ErrorCode::Denied);
            assert!(message.contains("did not let you in"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    pat.expect_closed(Some(1008)).await;
    assert_eq!(waiting(&call.recv().await), []);
    // Knocking again at once, from the same address: refused straight away,
    // and the host is not bothered.
    let mut again = app.visitor().socket().await;
    again.send(join_message(&slug, "Pat again")).await;
    again.expect_error(ErrorCode::Denied).await;
    call.expect_silence().await;
}

#[tokio::test]
async fn only_the_host_may_admit_or_deny_and_a_guest_who_tries_is_refused() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut call = host_in_call(&host, &slug).await;
    let mut sam = app.knock(&slug, "Sam").await;
    let sam_id = waiting(&call.recv().await)[0].1;
    call.send(ClientMessage::Admit { id: sam_id }).await;
    assert!(matches!(sam.recv().await, ServerMessage::Welcome { .. }));
    call.recv().await; // Sam joined
    call.recv().await; // lobby empty
    let mut pat = app.knock(&slug, "Pat").await;
    let pat_id = waiting(&call.recv().await)[0].1;
    // Sam, in the call but not the host, tries both; Pat tries too.
    for message in [ClientMessage::Admit { id: pat_id }, ClientMessage::Deny { id: pat_id }, ClientMessage::AdmitAll] {
        sam.send(message).await;
        sam.expect_error(ErrorCode::NotHost).await;
    }
    pat.send(ClientMessage::Admit { id: pat_id }).await;
    pat.expect_error(ErrorCode::NotHost).await;
    call.expect_silence().await;
    pat.expect_silence().await;
}

#[tokio::test]
async fn without_a_lobby_guests_join_at_once() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Open room").await;
    let mut guest = app.visitor().socket().await;
    assert!(matches!(guest.join(&room.slug, "Pat").await, ServerMessage::Welcome { .. }));
    // Turning a lobby on, then off again.
    let id = room.id.to_string();
    assert_eq!(host.call("set_room_lobby", &[("room", &id), ("lobby", "on")]).await.status(), 200);
    let mut waits = app.visitor().socket().await;
    waits.send(join_message(&room.slug, "Sam")).await;
    assert!(matches!(waits.recv().await, ServerMessage::Waiting { .. }));
    assert_eq!(host.call("set_room_lobby", &[("room", &id)]).await.status(), 200);
    let mut later = app.visitor().socket().await;
    assert!(matches!(later.join(&room.slug, "Kim").await, ServerMessage::Welcome { .. }));
}

#[tokio::test]
async fn a_flood_of_knocks_sends_the_host_a_few_lists_not_one_per_knock() {
    let app = spawn_app().await;
    let (host, slug) = lobby_room(&app).await;
    let mut call = host_in_call(&host, &slug).await;
    let mut guests = Vec::new();
    for n in 0..40 {
        guests.push(app.knock(&slug, &format!("Guest {n}")).await);
    }
    let mut lists = 0;
    let mut last = Vec::new();
    while let Some(Message::Text(text)) = call.next_frame(Duration::from_millis(2500)).await {
        if let Ok(message @ ServerMessage::Lobby { .. }) = serde_json::from_str::<ServerMessage>(text.as_str()) {
            lists += 1;
            last = waiting(&message);
        }
    }
    assert_eq!(last.len(), 40, "the last list has everyone");
    assert!(lists <= 5, "{lists} lists for 40 knocks");
}

use futures_util::SinkExt;
use huddle::call::protocol::{ClientMessage, ErrorCode, ServerMessage, SignalPayload};
use huddle::server::signaling::SignalingSettings;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app, you};

#[tokio::test]
async fn a_flooding_client_is_throttled_then_closed_while_other_rooms_carry_on() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let flood_room = host.create_room("Flood").await.slug;
    let calm_room = host.create_room("Calm").await.slug;

    let mut a = app.visitor().socket().await;
    a.join(&calm_room, "A").await;
    let mut b = app.visitor().socket().await;
    let b_id = you(&b.join(&calm_room, "B").await);
    a.recv().await; // B joined

    let mut flooder = app.visitor().socket().await;
    flooder.join(&flood_room, "Flooder").await;
    for _ in 0..600 {
        if flooder.stream.feed(Message::text(r#"{"type":"leave"}"#)).await.is_err() {
            break;
        }
    }
    let _ = flooder.stream.flush().await;

    match flooder.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::RateLimited),
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
    flooder.expect_closed(Some(1008)).await;

    // Meanwhile the calm room relays as usual.
    a.send(ClientMessage::Signal { to: b_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    assert!(matches!(b.recv().await, ServerMessage::Signal { .. }));
}

#[tokio::test]
async fn a_normal_join_burst_is_not_rate_limited() {
    let app = spawn_app().await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    let mut peer = app.visitor().socket().await;
    let peer_id = you(&peer.join(&slug, "Peer").await);
    let mut newcomer = app.visitor().socket().await;
    newcomer.join(&slug, "Newcomer").await;
    peer.recv().await;
    // An offer and 60 trickled candidates at once, as a browser sends them.
    newcomer.send(ClientMessage::Signal { to: peer_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    for n in 0..60 {
        let candidate = format!("candidate:{n} 1 udp 1 127.0.0.1 9 typ host");
        let payload = SignalPayload::Candidate { candidate, sdp_mid: None, sdp_m_line_index: None };
        newcomer.send(ClientMessage::Signal { to: peer_id, payload }).await;
    }
    for _ in 0..61 {
        assert!(matches!(peer.recv().await, ServerMessage::Signal { .. }));
    }
    newcomer.expect_silence().await;
}

#[tokio::test]
async fn connections_per_client_address_are_limited() {
    let app = spawn_app().await;
    let mut open = Vec::new();
    for _ in 0..SignalingSettings::default().max_per_address {
        open.push(app.visitor().socket().await);
    }
    match app.visitor().socket_from(&app.origin).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("the connection over the limit was not refused: {:?}", other.map(|_| ())),
    }
    // Closing one frees its place.
    let mut first = open.remove(0);
    first.stream.close(None).await.unwrap();
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(app.visitor().socket_from(&app.origin).await.is_ok());
}

#[tokio::test]
async fn connections_per_account_are_limited() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let mut open = Vec::new();
    for _ in 0..SignalingSettings::default().max_per_account {
        open.push(host.socket().await);
    }
    match host.socket_from(&app.origin).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 429),
        other => panic!("the connection over the limit was not refused: {:?}", other.map(|_| ())),
    }
    // A guest from the same address still gets in.
    assert!(app.visitor().socket_from(&app.origin).await.is_ok());
}

#[tokio::test]
async fn hostile_json_gets_an_error_and_never_hurts_the_server() {
    let app = spawn_app().await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    let mut socket = app.visitor().socket().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let duplicate_keys = r#"{"type":"leave","type":"join"}"#.to_string();
    let wrong_types = r#"{"type":"join","version":"1","room":42,"name":null}"#.to_string();
    let garbage_sdp = json!({"type": "signal", "to": 999, "payload": {"kind": "offer", "sdp": "\u{0}\u{1}not sdp at all"}}).to_string();
    for text in [deep, duplicate_keys, wrong_types] {
        socket.send_text(&text).await;
        match socket.recv().await {
            ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::BadMessage),
            other => panic!("expected bad_message, got {other:?}"),
        }
    }
    socket.join(&slug, "Still here").await;
    socket.send_text(&garbage_sdp).await;
    match socket.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::UnknownParticipant),
        other => panic!("expected unknown_participant, got {other:?}"),
    }
    // The server is fine.
    assert_eq!(app.visitor().page("/").await.status(), 200);
}

#[tokio::test]
async fn a_connection_that_never_joins_is_closed_after_ten_seconds() {
    let app = spawn_app().await;
    let mut idle = app.visitor().socket().await;
    // A refused resume is not getting in either.
    let mut refused = app.visitor().socket().await;
    refused.send_json(serde_json::json!({"type": "resume", "version": 2, "token": "made-up"})).await;
    assert!(matches!(refused.recv().await, huddle::call::protocol::ServerMessage::Error { .. }));
    let started = std::time::Instant::now();
    tokio::join!(
        idle.expect_closed_within(Some(1008), std::time::Duration::from_secs(12)),
        refused.expect_closed_within(Some(1008), std::time::Duration::from_secs(12)),
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(9), "closed too early");
}

use futures_util::SinkExt;
use huddle::call::protocol::{ClientMessage, ErrorCode, IceServer, MediaState, ServerMessage, SignalPayload, StreamId, PROTOCOL_VERSION};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{join_message, spawn_app, spawn_app_with, you, TestApp};

/// A room in a fresh app, and its slug.
async fn app_with_room() -> (TestApp, String) {
    let app = spawn_app().await;
    let room = app.host("host@example.org", "Host").await.create_room("Clinic").await;
    (app, room.slug)
}

fn turn_server() -> IceServer {
    IceServer { urls: vec!["turn:127.0.0.1:3478".into()], username: Some("u".into()), credential: Some("p".into()) }
}

#[tokio::test]
async fn two_guests_join_and_each_learns_of_the_other() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    let welcome = ada.join(&slug, "Ada").await;
    let ServerMessage::Welcome { participants, version, .. } = &welcome else { unreachable!() };
    assert!(participants.is_empty());
    assert_eq!(*version, PROTOCOL_VERSION);

    let mut bo = app.visitor().socket().await;
    let welcome = bo.join(&slug, "Bo").await;
    let ServerMessage::Welcome { participants, .. } = &welcome else { unreachable!() };
    assert_eq!(participants.len(), 1);
    assert_eq!(participants[0].name.as_str(), "Ada");

    match ada.recv().await {
        ServerMessage::ParticipantJoined { participant } => {
            assert_eq!(participant.name.as_str(), "Bo");
            assert_eq!(participant.id, you(&welcome));
        }
        other => panic!("expected a join notice, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signal_reaches_only_its_addressee_stamped_with_the_real_sender() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(&slug, "Ada").await);
    let mut bo = app.visitor().socket().await;
    let bo_id = you(&bo.join(&slug, "Bo").await);
    let mut cy = app.visitor().socket().await;
    cy.join(&slug, "Cy").await;
    ada.recv().await; // Bo joined
    ada.recv().await; // Cy joined
    bo.recv().await; // Cy joined

    // Ada lies about who she is; the server ignores the claim.
    ada.send_json(json!({"type": "signal", "to": bo_id.0, "from": 999, "payload": {"kind": "offer", "sdp": "v=0 ada"}})).await;
    match bo.recv().await {
        ServerMessage::Signal { from, payload } => {
            assert_eq!(from, ada_id);
            assert_eq!(payload, SignalPayload::Offer { sdp: "v=0 ada".into() });
        }
        other => panic!("expected the offer, got {other:?}"),
    }
    cy.expect_silence().await;
    ada.expect_silence().await;
}

#[tokio::test]
async fn candidates_and_answers_are_relayed_intact() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(&slug, "Ada").await);
    let mut bo = app.visitor().socket().await;
    bo.join(&slug, "Bo").await;
    let candidate = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".to_string();
    let payload = SignalPayload::Candidate { candidate, sdp_mid: Some("0".into()), sdp_m_line_index: Some(0) };
    bo.send(ClientMessage::Signal { to: ada_id, payload }).await;
    bo.send(ClientMessage::Signal { to: ada_id, payload: SignalPayload::Answer { sdp: "v=0 answer".into() } }).await;
    ada.recv().await; // Bo joined
    let ServerMessage::Signal { payload, .. } = ada.recv().await else { panic!("no candidate") };
    assert_eq!(
        payload,
        SignalPayload::Candidate {
            candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0)
        }
    );
    let ServerMessage::Signal { payload, .. } = ada.recv().await else { panic!("no answer") };
    assert_eq!(payload, SignalPayload::Answer { sdp: "v=0 answer".into() });
}

#[tokio::test]
async fn a_signal_to_a_participant_in_another_room_is_refused_and_never_delivered() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let clinic = host.create_room("Clinic").await.slug;
    let class = host.create_room("Class").await.slug;
    let mut patient = app.visitor().socket().await;
    let patient_id = you(&patient.join(&clinic, "Patient").await);
    let mut intruder = app.visitor().socket().await;
    intruder.join(&class, "Intruder").await;

    intruder.send(ClientMessage::Signal { to: patient_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    intruder.expect_error(ErrorCode::UnknownParticipant).await;
    patient.expect_silence().await;
}

#[tokio::test]
async fn malformed_messages_get_an_error_and_the_connection_and_server_carry_on() {
    let (app, slug) = app_with_room().await;
    let mut other = app.visitor().socket().await;
    other.join(&slug, "Bystander").await;

    let mut sloppy = app.visitor().socket().await;
    for bad in [
        "not json",
        "{\"type\":\"shout\"}",
        "{\"type\":\"signal\",\"to\":\"x\"}",
        "[1,2,3]",
        "{\"type\":\"join\",\"version\":1,\"room\":\"../../etc\",\"name\":\"x\"}",
    ] {
        sloppy.send_text(bad).await;
        sloppy.expect_error(ErrorCode::BadMessage).await;
    }
    sloppy.stream.send(Message::binary(vec![0u8, 159, 146, 150])).await.unwrap();
    sloppy.expect_error(ErrorCode::BadMessage).await;

    // Still usable, and nobody else noticed anything but the join.
    sloppy.join(&slug, "Finally").await;
    match other.recv().await {
        ServerMessage::ParticipantJoined { participant } => assert_eq!(participant.name.as_str(), "Finally"),
        unexpected => panic!("bystander got {unexpected:?}"),
    }
}

#[tokio::test]
async fn a_signal_before_joining_is_refused() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(&slug, "Ada").await);
    let mut early = app.visitor().socket().await;
    early.send(ClientMessage::Signal { to: ada_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    early.expect_error(ErrorCode::NotJoined).await;
    ada.expect_silence().await;
}

#[tokio::test]
async fn joining_an_unknown_room_is_refused_and_the_socket_closed() {
    let app = spawn_app().await;
    let mut socket = app.visitor().socket().await;
    socket.send(join_message("AAAAAAAAAAAAAAAAAAAAAAAA", "Ada")).await;
    socket.expect_error(ErrorCode::UnknownRoom).await;
    socket.expect_closed(Some(1008)).await;
}

#[tokio::test]
async fn an_old_protocol_version_is_refused_and_the_socket_closed() {
    let (app, slug) = app_with_room().await;
    let mut socket = app.visitor().socket().await;
    socket.send_json(json!({"type": "join", "version": 0, "room": slug, "name": "Ada"})).await;
    socket.expect_error(ErrorCode::UnsupportedVersion).await;
    socket.expect_closed(Some(1008)).await;
}

#[tokio::test]
async fn a_guest_needs_a_valid_name() {
    let (app, slug) = app_with_room().await;
    let mut socket = app.visitor().socket().await;
    for name in ["", "   ", &"n".repeat(65), "\u{202E}\u{0007}"] {
        socket.send(join_message(&slug, name)).await;
        socket.expect_error(ErrorCode::InvalidName).await;
    }
    socket.join(&slug, "Ada").await;
}

#[tokio::test]
async fn a_signed_in_host_joins_under_their_account_name_whatever_they_type() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Clinic").await.slug;
    let mut socket = host.socket().await;
    match socket.join(&slug, "Someone Else").await {
        ServerMessage::Welcome { you, .. } => assert_eq!(you.name.as_str(), "Dr. Host"),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn closing_a_socket_tells_the_others_at_once_that_participant_left() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    let mut bo = app.visitor().socket().await;
    let bo_id = you(&bo.join(&slug, "Bo").await);
    ada.recv().await; // Bo joined
                      // Closing a tab sends a close frame: a goodbye, so no grace period.
    bo.stream.close(None).await.unwrap();
    match ada.recv().await {
        ServerMessage::ParticipantLeft { id } => assert_eq!(id, bo_id),
        other => panic!("expected a leave notice, got {other:?}"),
    }
}

#[tokio::test]
async fn leaving_on_purpose_tells_the_others() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    let mut bo = app.visitor().socket().await;
    let bo_id = you(&bo.join(&slug, "Bo").await);
    ada.recv().await;
    bo.send(ClientMessage::Leave).await;
    assert_eq!(ada.recv().await, ServerMessage::ParticipantLeft { id: bo_id });
}

#[tokio::test]
async fn a_fifth_participant_is_refused_because_the_mesh_is_full() {
    let (app, slug) = app_with_room().await;
    let mut present = Vec::new();
    for n in 0..4 {
        let mut socket = app.visitor().socket().await;
        socket.join(&slug, &format!("P{n}")).await;
        present.push(socket);
    }
    let mut late = app.visitor().socket().await;
    late.send(join_message(&slug, "Late")).await;
    late.expect_error(ErrorCode::RoomFull).await;
    late.expect_closed(Some(1008)).await;
}

#[tokio::test]
async fn the_welcome_hands_out_the_configured_ice_servers() {
    let app = spawn_app_with(|config| config.ice_servers = vec![turn_server()]).await;
    let turn = turn_server();
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    let mut socket = app.visitor().socket().await;
    match socket.join(&slug, "Ada").await {
        ServerMessage::Welcome { ice_servers, .. } => assert_eq!(ice_servers, vec![turn]),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn no_ice_servers_are_handed_out_unless_configured() {
    let (app, slug) = app_with_room().await;
    let mut socket = app.visitor().socket().await;
    match socket.join(&slug, "Ada").await {
        ServerMessage::Welcome { ice_servers, .. } => assert!(ice_servers.is_empty()),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn an_upgrade_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for origin in ["http://evil.example", "null", &format!("{}.evil.example", app.origin), &app.origin.replace("http://", "https://")] {
        match visitor.socket_from(origin).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403, "{origin}"),
            Err(other) => panic!("{origin}: unexpected error {other}"),
            Ok(_) => panic!("{origin}: upgrade was allowed"),
        }
    }
}

#[tokio::test]
async fn a_message_over_64_kib_closes_that_socket_only() {
    let (app, slug) = app_with_room().await;
    let mut other = app.visitor().socket().await;
    other.join(&slug, "Other").await;
    let mut big = app.visitor().socket().await;
    big.join(&slug, "Big").await;
    other.recv().await; // Big joined
    let sdp = "a".repeat(65 * 1024);
    let _ = big.stream.send(Message::text(json!({"type": "signal", "to": 1, "payload": {"kind": "offer", "sdp": sdp}}).to_string())).await;
    big.expect_closed(Some(1009)).await;
    assert!(matches!(other.recv().await, ServerMessage::ParticipantLeft { .. }));
    // The server still takes new participants.
    app.visitor().socket().await.join(&slug, "After").await;
    // Past even a media-server offer's limit (256 KiB), an offer closes its socket too.
    let mut huge = app.visitor().socket().await;
    huge.join(&slug, "Huge").await;
    let sdp = "a".repeat(257 * 1024);
    let _ = huge.stream.send(Message::text(json!({"type": "sfu_offer", "sdp": sdp, "sources": {}}).to_string())).await;
    huge.expect_closed(Some(1009)).await;
}

#[tokio::test]
async fn an_upgrade_without_an_origin_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Host").await;
    let mut request = format!("ws://{}/ws", app.addr).into_client_request().unwrap();
    // Cookie-authenticated, but no Origin to check.
    request.headers_mut().insert("cookie", host.cookie().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("an upgrade without Origin was allowed"),
    }
}

#[tokio::test]
async fn a_chat_message_reaches_everyone_in_the_room_with_the_senders_real_id() {
    let (app, slug) = app_with_room().await;
    let other_room = app.host("other@example.org", "Other").await.create_room("Elsewhere").await.slug;
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(&slug, "Ada").await);
    let mut bo = app.visitor().socket().await;
    bo.join(&slug, "Bo").await;
    ada.recv().await; // Bo joined
    let mut eve = app.visitor().socket().await;
    eve.join(&other_room, "Eve").await;

    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    ada.send_json(json!({"type": "chat", "text": "  See you <b>at</b> 3\r\nthanks  ", "from": 999})).await;
    for socket in [&mut ada, &mut bo] {
        match socket.recv().await {
            ServerMessage::Chat { from, text, sent_at_ms } => {
                assert_eq!(from, ada_id);
                assert_eq!(text.as_str(), "See you <b>at</b> 3\nthanks");
                assert!(sent_at_ms >= before && sent_at_ms < before + 5_000);
            }
            other => panic!("expected the chat message, got {other:?}"),
        }
    }
    eve.expect_silence().await;
}

#[tokio::test]
async fn an_empty_or_oversized_chat_message_is_refused_and_the_socket_stays_open() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    for text in ["   ".to_string(), "x".repeat(2001)] {
        ada.send(ClientMessage::Chat { text }).await;
        ada.expect_error(ErrorCode::InvalidChat).await;
    }
    ada.send(ClientMessage::Chat { text: "still here".into() }).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat { .. }));
}

#[tokio::test]
async fn chat_before_joining_is_refused() {
    let (app, _slug) = app_with_room().await;
    let mut lurker = app.visitor().socket().await;
    lurker.send(ClientMessage::Chat { text: "hello?".into() }).await;
    lurker.expect_error(ErrorCode::NotJoined).await;
}

#[tokio::test]
async fn what_one_sends_reaches_the_other_and_an_odd_stream_id_is_refused() {
    let (app, slug) = app_with_room().await;
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(&slug, "Ada").await);
    let mut bo = app.visitor().socket().await;
    bo.join(&slug, "Bo").await;
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));

    let screen = Some(StreamId::try_from("{a1-b2}".to_string()).unwrap());
    ada.send(ClientMessage::Media { state: MediaState { microphone: false, camera: true, screen } }).await;
    match bo.recv().await {
        ServerMessage::Media { id, state } => {
            assert_eq!(id, ada_id);
            assert!(!state.microphone && state.camera);
            assert_eq!(state.screen.map(|s| s.as_str().to_string()).as_deref(), Some("{a1-b2}"));
        }
        other => panic!("expected media, got {other:?}"),
    }
    // A stream id that is not one is a bad message; the connection stays.
    ada.send_json(json!({"type": "media", "state": {"microphone": true, "camera": true, "screen": "<img src=x>"}})).await;
    assert!(matches!(ada.recv().await, ServerMessage::Error { code: ErrorCode::BadMessage, .. }));
    ada.send(ClientMessage::Chat { text: "still here".into() }).await;
    assert!(matches!(ada.recv().await, ServerMessage::Chat { .. }));
}

#[tokio::test]
async fn roles_are_stamped_by_the_server_so_a_guest_cannot_pass_for_the_host() {
    let app = crate::helpers::spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Clinic").await.slug;
    let mut call = host.socket().await;
    let welcome = call.join(&slug, "ignored").await;
    let huddle::call::protocol::ServerMessage::Welcome { you, .. } = welcome else { unreachable!() };
    assert!(you.host);
    let mut impostor = app.visitor().socket().await;
    let welcome = impostor.join(&slug, "Dr. Host").await;
    let huddle::call::protocol::ServerMessage::Welcome { you, participants, .. } = welcome else { unreachable!() };
    assert!(!you.host, "a guest typing the host's name is a guest");
    assert!(participants.iter().all(|p| p.host && p.name.as_str() == "Dr. Host"));
    match call.recv().await {
        huddle::call::protocol::ServerMessage::ParticipantJoined { participant } => {
            assert_eq!(participant.name.as_str(), "Dr. Host");
            assert!(!participant.host);
        }
        other => panic!("expected a join, got {other:?}"),
    }
    // A name must show something.
    let mut ghost = app.visitor().socket().await;
    ghost.send(join_message(&slug, "\u{200B}\u{200B}")).await;
    ghost.expect_error(huddle::call::protocol::ErrorCode::InvalidName).await;
}

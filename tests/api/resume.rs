//! Coming back after a network blip: the resume token, the grace period,
//! and never two of one person.

use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ErrorCode, ParticipantId, ResumeToken, ServerMessage, SignalPayload, PROTOCOL_VERSION};
use serde_json::json;

use crate::helpers::{error_code, resume_token, spawn_app, spawn_app_with, you, Socket, TestApp};

/// A host's room in a fresh app with the default 30 s grace period.
async fn app_with_room() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    (app, slug)
}

/// The same with a 400 ms grace period.
async fn app_with_short_grace() -> (TestApp, String) {
    let app = spawn_app_with(|c| c.signaling.resume_grace = Duration::from_millis(400)).await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    (app, slug)
}

/// Ada and Bo in one room: their sockets, Ada's id and Bo's welcome.
async fn ada_and_bo(app: &TestApp, slug: &str) -> (Socket, ParticipantId, Socket, ServerMessage) {
    let mut ada = app.visitor().socket().await;
    let ada_id = you(&ada.join(slug, "Ada").await);
    let mut bo = app.visitor().socket().await;
    let welcome = bo.join(slug, "Bo").await;
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));
    (ada, ada_id, bo, welcome)
}

fn offer(sdp: &str) -> SignalPayload {
    SignalPayload::Offer { sdp: sdp.into() }
}

async fn signal(from: &mut Socket, to: ParticipantId, sdp: &str) {
    from.send(ClientMessage::Signal { to, payload: SignalPayload::Offer { sdp: sdp.into() } }).await;
}

async fn expect_signal(socket: &mut Socket, from: ParticipantId, sdp: &str) {
    assert_eq!(socket.recv().await, ServerMessage::Signal { from, payload: offer(sdp) });
}

#[tokio::test]
async fn each_participant_gets_its_own_unguessable_token() {
    let (app, slug) = app_with_room().await;
    let (_ada, _, _bo, welcome) = ada_and_bo(&app, &slug).await;
    let mut cy = app.visitor().socket().await;
    let other = resume_token(&cy.join(&slug, "Cy").await);
    let token = resume_token(&welcome);
    assert!(token.0.len() >= 43, "at least 256 bits of base64: {}", token.0.len());
    assert_ne!(token, other);
}

#[tokio::test]
async fn a_dropped_participant_resumes_with_the_same_id_and_the_others_see_no_leave_or_join() {
    let (app, slug) = app_with_room().await;
    let (mut ada, ada_id, bo, welcome) = ada_and_bo(&app, &slug).await;
    let bo_id = you(&welcome);
    bo.cut();
    ada.expect_silence().await;

    let mut back = app.visitor().socket().await;
    match back.resume(&resume_token(&welcome)).await {
        ServerMessage::Resumed { you, participants, .. } => {
            assert_eq!(you.id, bo_id);
            assert_eq!(you.name.as_str(), "Bo");
            assert_eq!(participants.iter().map(|p| p.id).collect::<Vec<_>>(), [ada_id]);
        }
        other => panic!("expected resumed, got {other:?}"),
    }
    // The others hear only that Bo's signaling came back.
    assert_eq!(ada.recv().await, ServerMessage::ParticipantResumed { id: bo_id });
    ada.expect_silence().await;

    // Signals flow both ways again, under the same ids.
    signal(&mut back, ada_id, "from-bo").await;
    expect_signal(&mut ada, bo_id, "from-bo").await;
    signal(&mut ada, bo_id, "from-ada").await;
    expect_signal(&mut back, ada_id, "from-ada").await;
}

#[tokio::test]
async fn what_was_sent_to_an_away_participant_arrives_after_the_resume_in_order() {
    let (app, slug) = app_with_room().await;
    let (mut ada, ada_id, bo, welcome) = ada_and_bo(&app, &slug).await;
    let bo_id = you(&welcome);
    bo.cut();
    ada.expect_silence().await; // the server has seen the drop by now
    signal(&mut ada, bo_id, "one").await;
    signal(&mut ada, bo_id, "two").await;
    let mut cy = app.visitor().socket().await;
    let cy_id = you(&cy.join(&slug, "Cy").await);
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));

    let mut back = app.visitor().socket().await;
    match back.resume(&resume_token(&welcome)).await {
        ServerMessage::Resumed { participants, .. } => assert_eq!(participants.len(), 2, "Ada and Cy"),
        other => panic!("expected resumed, got {other:?}"),
    }
    // Ada's two signals in the order sent; Cy's join (from another
    // connection, so in no fixed order relative to them) as well.
    let held = [back.recv().await, back.recv().await, back.recv().await];
    let signals: Vec<&ServerMessage> = held.iter().filter(|m| matches!(m, ServerMessage::Signal { .. })).collect();
    assert_eq!(
        signals,
        [&ServerMessage::Signal { from: ada_id, payload: offer("one") }, &ServerMessage::Signal { from: ada_id, payload: offer("two") }]
    );
    assert!(held.iter().any(|m| matches!(m, ServerMessage::ParticipantJoined { participant } if participant.id == cy_id)));
    back.expect_silence().await;
}

#[tokio::test]
async fn after_the_grace_period_the_others_see_a_leave_and_the_token_is_refused() {
    let (app, slug) = app_with_short_grace().await;
    let (mut ada, _, bo, welcome) = ada_and_bo(&app, &slug).await;
    let bo_id = you(&welcome);
    let dropped = std::time::Instant::now();
    bo.cut();
    assert_eq!(ada.recv().await, ServerMessage::ParticipantLeft { id: bo_id });
    let waited = dropped.elapsed();
    assert!(waited >= Duration::from_millis(400) && waited < Duration::from_secs(2), "left after {waited:?}");

    let mut back = app.visitor().socket().await;
    match back.resume(&resume_token(&welcome)).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::ResumeRefused),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The socket stays open for a fresh join, as someone new.
    let again = back.join(&slug, "Bo").await;
    assert_ne!(you(&again), bo_id);
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));
}

#[tokio::test]
async fn a_resume_within_the_grace_period_is_never_undone_by_the_expiry_sweep() {
    let (app, slug) = app_with_short_grace().await;
    let (mut ada, _, bo, welcome) = ada_and_bo(&app, &slug).await;
    bo.cut();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Resumed { .. }));
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantResumed { .. }));
    // Well past the grace period counted from the drop: still in.
    tokio::time::sleep(Duration::from_millis(800)).await;
    ada.expect_silence().await;
}

#[tokio::test]
async fn a_second_connection_with_the_same_token_replaces_the_first() {
    let (app, slug) = app_with_room().await;
    let (mut ada, ada_id, mut bo, welcome) = ada_and_bo(&app, &slug).await;
    let bo_id = you(&welcome);
    // Bo's old socket still looks alive to the server (a half-open
    // connection after a network switch) when Bo comes back.
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Resumed { .. }));
    bo.expect_closed(Some(4000)).await;
    assert_eq!(ada.recv().await, ServerMessage::ParticipantResumed { id: bo_id });
    // The old socket's end is not Bo's: no leave, and Bo is reachable.
    drop(bo);
    ada.expect_silence().await;
    signal(&mut ada, bo_id, "still-there").await;
    expect_signal(&mut back, ada_id, "still-there").await;
    // One Bo, not two: a third joiner sees exactly Ada and Bo.
    let mut cy = app.visitor().socket().await;
    match cy.join(&slug, "Cy").await {
        ServerMessage::Welcome { participants, .. } => {
            assert_eq!(participants.iter().map(|p| p.id).collect::<Vec<_>>(), [ada_id, bo_id]);
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn leaving_on_purpose_ends_the_token() {
    let (app, slug) = app_with_room().await;
    let (mut ada, _, mut bo, welcome) = ada_and_bo(&app, &slug).await;
    bo.send(ClientMessage::Leave).await;
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantLeft { .. }));
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Error { code: ErrorCode::ResumeRefused, .. }));
}

#[tokio::test]
async fn a_made_up_token_or_a_joined_socket_cannot_resume() {
    let (app, slug) = app_with_room().await;
    let (_ada, _, bo, welcome) = ada_and_bo(&app, &slug).await;
    bo.cut();
    let mut stranger = app.visitor().socket().await;
    stranger.send(ClientMessage::Resume { version: PROTOCOL_VERSION, token: ResumeToken("A".repeat(43)) }).await;
    stranger.expect_error(ErrorCode::ResumeRefused).await;
    // Someone already in a room cannot slip into another's place.
    let mut cy = app.visitor().socket().await;
    cy.join(&slug, "Cy").await;
    assert_eq!(error_code(&cy.resume(&resume_token(&welcome)).await), Some(ErrorCode::AlreadyJoined));
}

#[tokio::test]
async fn a_signed_in_participants_token_is_useless_without_their_sign_in() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Clinic").await.slug;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    let mut call = host.socket().await;
    let welcome = call.join(&slug, "ignored").await;
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));
    call.cut();
    // A guest who got hold of the token is refused...
    let mut thief = app.visitor().socket().await;
    assert_eq!(error_code(&thief.resume(&resume_token(&welcome)).await), Some(ErrorCode::ResumeRefused));
    // ...and the host, from the same sign-in, gets the place back.
    let mut back = host.socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Resumed { .. }));
}

#[tokio::test]
async fn signing_out_ends_the_place_at_once_with_no_grace_period() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Clinic").await.slug;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    let mut call = host.socket().await;
    let welcome = call.join(&slug, "ignored").await;
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));
    assert_eq!(host.call("logout", &[]).await.status(), 200);
    call.expect_closed(Some(4001)).await;
    assert_eq!(ada.recv().await, ServerMessage::ParticipantLeft { id: you(&welcome) });
}

#[tokio::test]
async fn a_resume_with_an_old_protocol_version_is_refused() {
    let (app, slug) = app_with_room().await;
    let (_ada, _, bo, welcome) = ada_and_bo(&app, &slug).await;
    bo.cut();
    let mut back = app.visitor().socket().await;
    back.send_json(json!({"type": "resume", "version": 0, "token": resume_token(&welcome).0})).await;
    back.expect_error(ErrorCode::UnsupportedVersion).await;
    back.expect_closed(Some(1008)).await;
}

#[tokio::test]
async fn after_a_server_restart_the_token_is_refused_and_joining_again_works() {
    let (mut app, slug) = app_with_room().await;
    let (mut ada, _, _bo, welcome) = ada_and_bo(&app, &slug).await;
    app.restart().await;
    ada.expect_closed(Some(1001)).await;
    // Places live in memory: a restarted server has none, so the client
    // joins afresh (the browser does this by itself).
    let mut back = app.visitor().socket().await;
    assert!(matches!(back.resume(&resume_token(&welcome)).await, ServerMessage::Error { code: ErrorCode::ResumeRefused, .. }));
    match back.join(&slug, "Bo").await {
        ServerMessage::Welcome { participants, .. } => assert!(participants.is_empty()),
        _ => unreachable!(),
    }
}

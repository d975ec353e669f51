//! The host keeps control: mute, mute everyone, remove, lock, end, and the
//! raised-hands queue. Only the host.

use huddle::call::protocol::{ClientMessage, ErrorCode, ParticipantId, ServerMessage};

use crate::helpers::{join_message, spawn_app, you, Socket, TestApp, Visitor};

/// A host in the call of their open room, with Pat and Sam; their ids.
async fn call_of_three(app: &TestApp) -> (Visitor, String, Socket, Socket, Socket, ParticipantId, ParticipantId) {
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Class").await.slug;
    let mut call = host.socket().await;
    call.join(&slug, "ignored").await;
    let mut pat = app.visitor().socket().await;
    let pat_id = you(&pat.join(&slug, "Pat").await);
    let mut sam = app.visitor().socket().await;
    let sam_id = you(&sam.join(&slug, "Sam").await);
    call.recv().await; // Pat joined
    call.recv().await; // Sam joined
    pat.recv().await; // Sam joined
    (host, slug, call, pat, sam, pat_id, sam_id)
}

#[tokio::test]
async fn the_host_mutes_one_participant_or_everyone_else() {
    let app = spawn_app().await;
    let (_host, _slug, mut call, mut pat, mut sam, pat_id, _) = call_of_three(&app).await;
    call.send(ClientMessage::Mute { id: pat_id }).await;
    assert_eq!(pat.recv().await, ServerMessage::MutedByHost);
    sam.expect_silence().await;
    call.send(ClientMessage::MuteAll).await;
    assert_eq!(pat.recv().await, ServerMessage::MutedByHost);
    assert_eq!(sam.recv().await, ServerMessage::MutedByHost);
    call.expect_silence().await;
}

#[tokio::test]
async fn a_removed_guest_is_out_and_coming_back_waits_in_the_lobby() {
    let app = spawn_app().await;
    let (_host, slug, mut call, mut pat, mut sam, pat_id, _) = call_of_three(&app).await;
    call.send(ClientMessage::Remove { id: pat_id }).await;
    pat.expect_error(ErrorCode::Removed).await;
    pat.expect_closed(Some(1008)).await;
    assert_eq!(sam.recv().await, ServerMessage::ParticipantLeft { id: pat_id });
    assert_eq!(call.recv().await, ServerMessage::ParticipantLeft { id: pat_id });
    // The room has no lobby, yet Pat, back, must be let in again.
    let mut back = app.visitor().socket().await;
    back.send(join_message(&slug, "Pat")).await;
    assert!(matches!(back.recv().await, ServerMessage::Waiting { .. }));
    match call.recv().await {
        ServerMessage::Lobby { waiting } => assert_eq!(waiting[0].name.as_str(), "Pat"),
        other => panic!("expected the lobby, got {other:?}"),
    }
}

#[tokio::test]
async fn a_locked_room_lets_nobody_new_in_until_unlocked() {
    let app = spawn_app().await;
    let (_host, slug, mut call, mut pat, _sam, _, _) = call_of_three(&app).await;
    call.send(ClientMessage::Lock { locked: true }).await;
    assert_eq!(call.recv().await, ServerMessage::RoomLocked { locked: true });
    assert_eq!(pat.recv().await, ServerMessage::RoomLocked { locked: true });
    let mut late = app.visitor().socket().await;
    late.send(join_message(&slug, "Late")).await;
    late.expect_error(ErrorCode::RoomLocked).await;
    late.expect_closed(Some(1008)).await;
    // The host learns who the lock turned back; the guest in the call does not.
    assert!(matches!(call.recv().await, ServerMessage::LockedOut { name } if name.as_str() == "Late"));
    call.send(ClientMessage::Lock { locked: false }).await;
    assert_eq!(call.recv().await, ServerMessage::RoomLocked { locked: false });
    let mut later = app.visitor().socket().await;
    assert!(matches!(later.join(&slug, "Later").await, ServerMessage::Welcome { .. }));
}

#[tokio::test]
async fn ending_the_call_closes_everyones_connection_and_a_new_call_may_start() {
    let app = spawn_app().await;
    let (_host, slug, mut call, mut pat, mut sam, _, _) = call_of_three(&app).await;
    let mut other_room_guest = {
        let other = app.host("other@example.org", "Other").await.create_room("Elsewhere").await.slug;
        let mut s = app.visitor().socket().await;
        s.join(&other, "Elsewhere").await;
        s
    };
    call.send(ClientMessage::EndForAll).await;
    for socket in [&mut call, &mut pat, &mut sam] {
        socket.expect_closed(Some(4003)).await;
    }
    other_room_guest.expect_silence().await;
    // A new call may start in the room afterwards.
    let mut next = app.visitor().socket().await;
    match next.join(&slug, "Next").await {
        ServerMessage::Welcome { participants, .. } => assert!(participants.is_empty()),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn raised_hands_form_a_queue_everyone_sees_and_the_host_can_lower() {
    let app = spawn_app().await;
    let (_host, _slug, mut call, mut pat, mut sam, pat_id, sam_id) = call_of_three(&app).await;
    sam.send(ClientMessage::Hand { raised: true }).await;
    for socket in [&mut call, &mut pat, &mut sam] {
        assert_eq!(socket.recv().await, ServerMessage::Hands { raised: vec![sam_id] });
    }
    pat.send(ClientMessage::Hand { raised: true }).await;
    for socket in [&mut call, &mut pat, &mut sam] {
        assert_eq!(socket.recv().await, ServerMessage::Hands { raised: vec![sam_id, pat_id] });
    }
    call.send(ClientMessage::LowerHand { id: sam_id }).await;
    for socket in [&mut call, &mut pat, &mut sam] {
        assert_eq!(socket.recv().await, ServerMessage::Hands { raised: vec![pat_id] });
    }
}

#[tokio::test]
async fn a_guest_who_tries_host_controls_gets_an_error_and_nothing_happens() {
    let app = spawn_app().await;
    let (_host, _slug, mut call, mut pat, mut sam, _, sam_id) = call_of_three(&app).await;
    for message in [
        ClientMessage::Mute { id: sam_id },
        ClientMessage::MuteAll,
        ClientMessage::Remove { id: sam_id },
        ClientMessage::Lock { locked: true },
        ClientMessage::LowerHand { id: sam_id },
        ClientMessage::EndForAll,
    ] {
        pat.send(message.clone()).await;
        pat.expect_error(ErrorCode::NotHost).await;
    }
    sam.expect_silence().await;
    call.expect_silence().await;
}

#[tokio::test]
async fn a_guest_removed_then_turned_away_cannot_knock_again_at_once_even_without_a_lobby() {
    let app = spawn_app().await;
    let (_host, slug, mut call, mut pat, mut sam, pat_id, _) = call_of_three(&app).await;
    call.send(ClientMessage::Remove { id: pat_id }).await;
    pat.expect_error(ErrorCode::Removed).await;
    call.recv().await; // Pat left
    sam.recv().await;
    // Back, Pat waits (the room has no lobby), and is turned away.
    let mut back = app.knock(&slug, "Pat").await;
    let ServerMessage::Lobby { waiting } = call.recv().await else { panic!("no lobby update") };
    call.send(ClientMessage::Deny { id: waiting[0].id }).await;
    back.expect_error(ErrorCode::Denied).await;
    // Knocking again at once: refused, though the room has no lobby.
    let mut again = app.visitor().socket().await;
    again.send(join_message(&slug, "Pat")).await;
    again.expect_error(ErrorCode::Denied).await;
}

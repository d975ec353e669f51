//! The host's controls.

use super::*;

#[test]
fn the_host_mutes_one_or_everyone_else() {
    let mut hub = call_of_three();
    assert_eq!(host_does(&mut hub, HostAction::Mute(ParticipantId(2))), vec![Outgoing { to: ParticipantId(2), message: ServerMessage::MutedByHost }]);
    let mut told: Vec<u64> = host_does(&mut hub, HostAction::MuteAll).iter().map(|o| o.to.0).collect();
    told.sort();
    assert_eq!(told, [2, 3]);
    assert_eq!(error_code(&host_does(&mut hub, HostAction::Mute(ParticipantId(9)))), Some(ErrorCode::UnknownParticipant));
}

#[test]
fn a_removed_participant_is_told_and_the_others_see_them_leave() {
    let mut hub = call_of_three();
    let out = host_does(&mut hub, HostAction::Remove(ParticipantId(2)));
    assert_eq!(out[0], Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::Removed) });
    assert!(out.contains(&Outgoing { to: ParticipantId(3), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }));
    assert!(!hub.is_member(ParticipantId(2)));
    assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused), "no way back by resuming");
}

#[test]
fn a_locked_room_refuses_newcomers_but_not_its_host_and_unlocks_when_empty() {
    let mut hub = call_of_three();
    let mut told: Vec<u64> = host_does(&mut hub, HostAction::Lock(true)).iter().map(|o| o.to.0).collect();
    told.sort();
    assert_eq!(told, [1, 2, 3], "everyone in the call learns it is locked");
    assert!(host_does(&mut hub, HostAction::Lock(true)).is_empty(), "no news, no message");
    let late = enter(&mut hub, 4, "Late", false, false);
    assert_eq!(error_code(&late[..1]), Some(ErrorCode::RoomLocked));
    // The host (participant 1) is told who was turned back; nobody else.
    assert_eq!(late[1..], [Outgoing { to: ParticipantId(1), message: ServerMessage::LockedOut { name: name("Late") } }]);
    assert_eq!(error_code(&enter(&mut hub, 5, "Knocker", false, true)[..1]), Some(ErrorCode::RoomLocked), "no new knocks");
    for who in 1..=3 {
        hub.handle(Input::Leave { who: ParticipantId(who) });
    }
    assert!(matches!(enter(&mut hub, 6, "Next day", false, false)[0].message, ServerMessage::Welcome { .. }));
}

#[test]
fn guests_may_not_use_host_controls() {
    let mut hub = call_of_three();
    for action in [HostAction::Mute(ParticipantId(3)), HostAction::MuteAll, HostAction::Remove(ParticipantId(3)), HostAction::Lock(true)] {
        let out = hub.handle(Input::Host { by: ParticipantId(2), action });
        assert_eq!(out, vec![Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::NotHost) }], "{action:?}");
    }
    assert_eq!(hub.room_size(&slug('a')), 3);
}

#[test]
fn in_a_class_the_host_lets_a_guest_speak_and_muting_takes_it_back() {
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, false, class_rules());
    enter_with(&mut hub, 2, false, false, class_rules());
    hub.handle(Input::Hand { who: ParticipantId(2), raised: true });
    let out = host_does(&mut hub, HostAction::LetSpeak(ParticipantId(2)));
    assert!(out.contains(&Outgoing { to: ParticipantId(2), message: ServerMessage::MayUnmute { allowed: true } }));
    // Letting them speak answers the raised hand.
    assert!(out.contains(&Outgoing { to: ParticipantId(1), message: ServerMessage::Hands { raised: vec![] } }));
    let noted = hub.take_records();
    assert!(noted.contains(&Record::HostDid { by: ParticipantId(1), room: slug('a'), what: "let_speak", target: Some(ParticipantId(2)) }));
    // Resuming keeps the permission.
    hub.handle(Input::Drop { who: ParticipantId(2), at: Instant::now() });
    let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now());
    assert!(matches!(&out[0].message, ServerMessage::Resumed { rules, .. } if rules.may_unmute));
    // Muting them takes it back; they must ask again.
    let out = host_does(&mut hub, HostAction::Mute(ParticipantId(2)));
    assert_eq!(
        out,
        [
            Outgoing { to: ParticipantId(2), message: ServerMessage::MutedByHost },
            Outgoing { to: ParticipantId(2), message: ServerMessage::MayUnmute { allowed: false } },
        ]
    );
    // A guest cannot let anyone speak, themselves included.
    let out = hub.handle(Input::Host { by: ParticipantId(2), action: HostAction::LetSpeak(ParticipantId(2)) });
    assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
    // In a meeting muting takes nothing back: guests unmute themselves.
    let mut hub = call_of_three();
    assert_eq!(host_does(&mut hub, HostAction::Mute(ParticipantId(2))).len(), 1);
}

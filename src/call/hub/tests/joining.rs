//! Joining and leaving a call.

use super::*;

#[test]
fn the_first_joiner_is_welcomed_into_an_empty_room() {
    let mut hub = Hub::new(vec![]);
    let out = join(&mut hub, 1, 'a', "Ada");
    assert_eq!(
        out,
        vec![Outgoing {
            to: ParticipantId(1),
            message: ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                you: Participant { id: ParticipantId(1), name: name("Ada"), host: false },
                participants: vec![],
                ice_servers: vec![],
                resume_token: token(1),
                rules: CallRules::OPEN,
                topology: Topology::Mesh,
                pass: None,
            },
        }]
    );
}

#[test]
fn a_joiner_learns_who_is_there_and_they_learn_of_the_joiner() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    let out = join(&mut hub, 2, 'a', "Bo");
    let bo = Participant { id: ParticipantId(2), name: name("Bo"), host: false };
    assert!(out.contains(&Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantJoined { participant: bo.clone() } }));
    let welcome = out.iter().find(|o| o.to == ParticipantId(2)).unwrap();
    match &welcome.message {
        ServerMessage::Welcome { you, participants, .. } => {
            assert_eq!(you, &bo);
            assert_eq!(participants, &vec![Participant { id: ParticipantId(1), name: name("Ada"), host: false }]);
        }
        other => panic!("expected a welcome, got {other:?}"),
    }
    assert_eq!(out.len(), 2);
}

#[test]
fn the_welcome_carries_the_configured_ice_servers() {
    let turn = IceServer { urls: vec!["turn:127.0.0.1:3478".into()], username: Some("u".into()), credential: Some("c".into()) };
    let mut hub = Hub::new(vec![turn.clone()]);
    match &join(&mut hub, 1, 'a', "Ada")[0].message {
        ServerMessage::Welcome { ice_servers, .. } => assert_eq!(ice_servers, &vec![turn]),
        other => panic!("expected a welcome, got {other:?}"),
    }
}

#[test]
fn joining_twice_on_one_connection_is_refused() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    assert_eq!(error_code(&join(&mut hub, 1, 'b', "Ada")), Some(ErrorCode::AlreadyJoined));
    assert_eq!(hub.room_size(&slug('b')), 0);
}

#[test]
fn a_wrong_protocol_version_is_refused_as_fatal() {
    let mut hub = Hub::new(vec![]);
    let out = joiner(1).named("Ada").version(0).into(&mut hub);
    let code = error_code(&out).unwrap();
    assert_eq!(code, ErrorCode::UnsupportedVersion);
    assert!(code.is_fatal());
    assert_eq!(hub.room_size(&slug('a')), 0);
}

#[test]
fn a_fifth_participant_is_refused_and_the_others_hear_nothing() {
    let mut hub = Hub::new(vec![]);
    for who in 1..=4 {
        join(&mut hub, who, 'a', "P");
    }
    let out = join(&mut hub, 5, 'a', "Late");
    assert_eq!(error_code(&out), Some(ErrorCode::RoomFull));
    assert_eq!(out[0].to, ParticipantId(5));
    assert_eq!(hub.room_size(&slug('a')), 4);
}

#[test]
fn leaving_tells_the_others_once_and_empties_the_room() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    let out = hub.handle(Input::Leave { who: ParticipantId(2) });
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }]);
    assert!(hub.handle(Input::Leave { who: ParticipantId(2) }).is_empty());
    hub.handle(Input::Leave { who: ParticipantId(1) });
    assert_eq!(hub.active_rooms(), 0);
}

#[test]
fn after_leaving_a_participant_can_no_longer_be_reached() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    hub.handle(Input::Leave { who: ParticipantId(2) });
    let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("x") });
    assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
}

#[test]
fn rooms_are_isolated_from_each_others_joins_and_leaves() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    let out = join(&mut hub, 2, 'b', "Eve");
    assert!(out.iter().all(|o| o.to == ParticipantId(2)));
    let out = hub.handle(Input::Leave { who: ParticipantId(2) });
    assert!(out.is_empty());
}

#[test]
fn closing_a_room_ends_every_place_in_it_and_only_there() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    join(&mut hub, 3, 'b', "Eve");
    drop_at(&mut hub, 2, Instant::now());
    let mut gone = hub.close_room(slug('a'));
    gone.sort();
    assert_eq!(gone, [ParticipantId(1), ParticipantId(2)]);
    assert_eq!(hub.room_size(&slug('a')), 0);
    assert!(!hub.is_member(ParticipantId(2)));
    assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused));
    assert_eq!(hub.room_size(&slug('b')), 1);
}

#[test]
fn a_rooms_own_cap_holds_for_joins_and_admits_but_never_beyond_the_mesh() {
    let join_capped = |hub: &mut Hub, who: u64, host: bool, lobby: bool, limit: usize| {
        joiner(who).named("P").host(host).lobby(lobby).rules(RoomRules { limit, ..RoomRules::default() }).into(hub)
    };
    let mut hub = Hub::new(vec![]);
    join_capped(&mut hub, 1, true, false, 2);
    join_capped(&mut hub, 2, false, false, 2);
    assert_eq!(error_code(&join_capped(&mut hub, 3, false, false, 2)), Some(ErrorCode::RoomFull));
    // Through the lobby, the host cannot admit past it either.
    join_capped(&mut hub, 4, false, true, 2);
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(4)) });
    assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
    // A cap above the mesh is the mesh's.
    let mut hub = Hub::with_room_size(vec![], 2);
    join_capped(&mut hub, 1, false, false, 4);
    join_capped(&mut hub, 2, false, false, 4);
    assert_eq!(error_code(&join_capped(&mut hub, 3, false, false, 4)), Some(ErrorCode::RoomFull));
}

#[test]
fn guests_are_welcomed_with_the_rooms_rules_and_the_host_with_every_right() {
    let mut hub = Hub::new(vec![]);
    let out = enter_with(&mut hub, 1, true, false, class_rules());
    assert_eq!(welcome_rules(&out, 1), CallRules::OPEN);
    let out = enter_with(&mut hub, 2, false, false, class_rules());
    assert_eq!(welcome_rules(&out, 2), class_rules().guests);
}

#[test]
fn a_call_keeps_the_rules_it_began_with_until_it_is_over() {
    let relay = RoomRules { guests: CallRules { relay_only: true, ..CallRules::OPEN }, ..RoomRules::default() };
    let mut hub = Hub::new(vec![]);
    assert!(welcome_rules(&enter_with(&mut hub, 1, true, false, relay), 1).relay_only);
    // The room's setting changed meanwhile: the call under way keeps its own.
    assert!(welcome_rules(&enter_with(&mut hub, 2, false, false, RoomRules::default()), 2).relay_only);
    hub.handle(Input::Leave { who: ParticipantId(1) });
    hub.handle(Input::Leave { who: ParticipantId(2) });
    assert!(!welcome_rules(&enter_with(&mut hub, 3, true, false, RoomRules::default()), 3).relay_only);
}

#[test]
fn a_room_is_forgotten_entirely_once_nobody_is_in_it_or_its_lobby() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    hub.handle(Input::Hand { who: ParticipantId(1), raised: true });
    hub.handle(Input::Leave { who: ParticipantId(1) });
    assert_eq!(hub.settings.len(), 1, "Pat still waits");
    hub.handle(Input::Leave { who: ParticipantId(2) });
    assert!(hub.rooms.is_empty() && hub.lobbies.is_empty() && hub.settings.is_empty() && hub.hands.is_empty() && hub.locked.is_empty());
    enter(&mut hub, 3, "Kim", false, false);
    hub.close_room(slug('a'));
    assert!(hub.settings.is_empty());
}

//! The lobby: waiting, admitting, turning away, and words with the host.

use super::*;

#[test]
fn a_guest_in_a_lobby_room_waits_and_learns_nothing_while_the_host_learns_of_them() {
    let mut hub = Hub::new(vec![]);
    let out = enter(&mut hub, 1, "Host", true, true);
    assert!(matches!(out[0].message, ServerMessage::Welcome { .. }));
    assert_eq!(waiting_ids(&out[1].message), Vec::<u64>::new());
    enter(&mut hub, 2, "Companion", false, false); // admitted directly: lobby off for them
    let out = enter(&mut hub, 3, "Pat", false, true);
    assert_eq!(out[0], Outgoing { to: ParticipantId(3), message: ServerMessage::Waiting { resume_token: token(3), host_here: true, full: false } });
    // Only the host hears of the knock; the companion does not.
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].to, ParticipantId(1));
    assert_eq!(waiting_ids(&out[1].message), [3]);
    // Nothing from the call reaches the waiting guest.
    let out = hub.handle(Input::Chat { from: ParticipantId(1), text: chat("private"), at_ms: 0 });
    assert!(out.iter().all(|o| o.to != ParticipantId(3)));
    let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(3), payload: offer("x") });
    assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
    // And the guest can do nothing in it; what they write reaches the
    // host alone (and comes back to them), never the companion.
    let out = hub.handle(Input::Chat { from: ParticipantId(3), text: chat("hello?"), at_ms: 0 });
    let word = ServerMessage::LobbyChat { guest: ParticipantId(3), from_host: false, text: chat("hello?"), sent_at_ms: 0 };
    assert_eq!(out, [Outgoing { to: ParticipantId(1), message: word.clone() }, Outgoing { to: ParticipantId(3), message: word }]);
    let out = hub.handle(Input::Signal { from: ParticipantId(3), to: ParticipantId(1), payload: offer("x") });
    assert_eq!(error_code(&out), Some(ErrorCode::NotAdmitted));
    assert_eq!(hub.room_size(&slug('a')), 2);
}

#[test]
fn the_host_admits_a_guest_who_is_then_welcomed_and_announced() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
    assert!(out.contains(&Outgoing {
        to: ParticipantId(1),
        message: ServerMessage::ParticipantJoined { participant: Participant { id: ParticipantId(2), name: name("Pat"), host: false } },
    }));
    let welcome = out.iter().find(|o| o.to == ParticipantId(2)).unwrap();
    assert!(
        matches!(&welcome.message, ServerMessage::Welcome { participants, resume_token, .. } if participants.len() == 1 && *resume_token == token(2))
    );
    assert_eq!(waiting_ids(&out.last().unwrap().message), Vec::<u64>::new());
    assert_eq!(hub.room_size(&slug('a')), 2);
}

#[test]
fn until_the_host_is_there_everyone_waits_and_no_one_is_let_in_automatically() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Early", false, true);
    enter(&mut hub, 2, "Earlier still", false, true);
    let out = enter(&mut hub, 3, "Host", true, true);
    assert_eq!(waiting_ids(&out.last().unwrap().message), [1, 2], "the host sees who waits, longest first");
    // Nobody was let in: the waiting hear only that a host is here.
    assert!(out.iter().all(|o| o.to == ParticipantId(3) || o.message == ServerMessage::HostHere { here: true }), "nobody was let in: {out:?}");
    let out = hub.handle(Input::Admit { by: ParticipantId(3), who: None });
    assert_eq!(hub.room_size(&slug('a')), 3, "admit all");
    assert!(out.iter().any(|o| o.to == ParticipantId(1) && matches!(o.message, ServerMessage::Welcome { .. })));
}

#[test]
fn only_the_host_may_admit_or_deny() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Companion", false, false);
    enter(&mut hub, 3, "Pat", false, true);
    for input in [
        Input::Admit { by: ParticipantId(2), who: Some(ParticipantId(3)) },
        Input::Admit { by: ParticipantId(3), who: None },
        Input::Deny { by: ParticipantId(2), who: ParticipantId(3) },
    ] {
        let by = match &input {
            Input::Admit { by, .. } | Input::Deny { by, .. } => *by,
            _ => unreachable!(),
        };
        let out = hub.handle(input);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to, by);
        assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
    }
    assert_eq!(hub.room_size(&slug('a')), 2);
}

#[test]
fn a_denied_guest_is_told_and_gone_and_a_guest_who_leaves_the_lobby_just_disappears() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    enter(&mut hub, 3, "Sam", false, true);
    let out = hub.handle(Input::Deny { by: ParticipantId(1), who: ParticipantId(2) });
    assert_eq!(out[0], Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::Denied) });
    assert_eq!(waiting_ids(&out[1].message), [3]);
    assert!(!hub.is_member(ParticipantId(2)));
    assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused));
    let out = hub.handle(Input::Leave { who: ParticipantId(3) });
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::Lobby { waiting: vec![] } }]);
}

#[test]
fn admitting_stops_at_a_full_call_and_the_rest_keep_waiting() {
    let mut hub = Hub::with_room_size(vec![], 2);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    enter(&mut hub, 3, "Sam", false, true);
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: None });
    assert!(out.iter().any(|o| o.to == ParticipantId(1) && o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
    assert!(!ErrorCode::NoRoomToAdmit.is_fatal(), "the host stays in the call");
    assert_eq!(waiting_ids(&out.last().unwrap().message), [3]);
}

#[test]
fn a_waiting_guest_who_resumes_is_still_waiting_and_a_host_who_resumes_sees_the_lobby() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    drop_at(&mut hub, 2, t0);
    let (who, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0);
    assert_eq!(who, Ok(ParticipantId(2)));
    assert_eq!(
        out,
        vec![Outgoing { to: ParticipantId(2), message: ServerMessage::Waiting { resume_token: token(2), host_here: true, full: false } }]
    );
    drop_at(&mut hub, 1, t0);
    let (_, out) = hub.resume(&token(1), PROTOCOL_VERSION, None, t0);
    assert!(out
        .iter()
        .any(|o| o.to == ParticipantId(1)
            && matches!(&o.message, ServerMessage::Lobby { waiting } if waiting.iter().map(|w| w.id).eq([ParticipantId(2)]))));
}

#[test]
fn the_host_and_a_waiting_guest_talk_without_anyone_else_hearing() {
    let mut hub = Hub::new(vec![]);
    // Before any host is here, a waiting guest's words reach nobody.
    enter(&mut hub, 3, "Pat", false, true);
    let out = hub.handle(Input::Chat { from: ParticipantId(3), text: chat("anyone?"), at_ms: 5 });
    assert_eq!(error_code(&out), Some(ErrorCode::HostAway));
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Companion", false, false);
    enter(&mut hub, 4, "Kim", false, true);
    let out = hub.handle(Input::LobbyChat { by: ParticipantId(1), guest: ParticipantId(3), text: chat("Five minutes"), at_ms: 9 });
    let word = ServerMessage::LobbyChat { guest: ParticipantId(3), from_host: true, text: chat("Five minutes"), sent_at_ms: 9 };
    assert_eq!(out, [Outgoing { to: ParticipantId(1), message: word.clone() }, Outgoing { to: ParticipantId(3), message: word }]);
    // Not a guest in the call, nor someone who is not waiting.
    let out = hub.handle(Input::LobbyChat { by: ParticipantId(2), guest: ParticipantId(3), text: chat("hi"), at_ms: 9 });
    assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
    let out = hub.handle(Input::LobbyChat { by: ParticipantId(1), guest: ParticipantId(2), text: chat("hi"), at_ms: 9 });
    assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
    // Waiting words are never kept, even where the call's chat is.
    assert!(hub.take_records().iter().all(|r| !matches!(r, Record::Said { .. })));
}

#[test]
fn a_consultation_host_may_let_a_companion_in_past_its_size_one_at_a_time() {
    let consultation = RoomRules { limit: 2, companions: true, ..RoomRules::default() };
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, true, consultation);
    for guest in [2, 3, 4, 5] {
        enter_with(&mut hub, guest, false, true, consultation);
    }
    // Admitting everyone stops at the room's size...
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: None });
    assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
    assert_eq!(hub.room_size(&slug('a')), 2);
    // ...but the host may name a companion, up to what the mesh carries.
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(3)) });
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(4)) });
    assert_eq!(hub.room_size(&slug('a')), 4);
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(5)) });
    assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
}

#[test]
fn a_flood_of_knocks_sends_the_host_one_list_at_once_and_one_per_tick() {
    let lobby = RoomRules::default();
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, true, lobby);
    let lists = |out: &[Outgoing]| out.iter().filter(|o| o.to == ParticipantId(1) && matches!(o.message, ServerMessage::Lobby { .. })).count();
    let mut sent = 0;
    for n in 2..42 {
        sent += lists(&enter_with(&mut hub, n, false, true, lobby));
    }
    assert_eq!(sent, 1, "the first knock is told at once, the rest wait for the tick");
    let tick = hub.expire(Instant::now());
    assert_eq!(lists(&tick), 1);
    let ServerMessage::Lobby { waiting } = &tick.iter().find(|o| o.to == ParticipantId(1)).unwrap().message else { unreachable!() };
    assert_eq!(waiting.len(), 40, "that one list has everyone");
    assert_eq!(lists(&hub.expire(Instant::now())), 0, "nothing new, nothing sent");
    // Quiet again: the next knock is told at once.
    hub.expire(Instant::now());
    assert_eq!(lists(&enter_with(&mut hub, 60, false, true, lobby)), 1);
}

#[test]
fn a_waiting_guest_learns_whether_a_host_is_in_and_nothing_more() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    // Pat knocks before anyone is in.
    let out = enter(&mut hub, 2, "Pat", false, true);
    assert_eq!(out[0].message, ServerMessage::Waiting { resume_token: token(2), host_here: false, full: false });
    // A guest let in without the lobby is no host: nothing changes for Pat.
    let out = enter(&mut hub, 3, "Companion", false, false);
    assert!(out.iter().all(|o| o.to != ParticipantId(2)), "{out:?}");
    // The host arrives: Pat hears that much (and not who).
    let out = enter(&mut hub, 1, "Host", true, true);
    let told: Vec<_> = out.iter().filter(|o| o.to == ParticipantId(2)).map(|o| &o.message).collect();
    assert_eq!(told, [&ServerMessage::HostHere { here: true }]);
    // A second host changes nothing; the first leaving neither.
    let out = enter(&mut hub, 4, "Co-host", true, true);
    assert!(out.iter().all(|o| o.to != ParticipantId(2)), "{out:?}");
    let out = hub.handle(Input::Leave { who: ParticipantId(1) });
    assert!(out.iter().all(|o| o.to != ParticipantId(2)), "{out:?}");
    // The last host leaving: Pat is told nobody can let them in now.
    let out = hub.handle(Input::Leave { who: ParticipantId(4) });
    let told: Vec<_> = out.iter().filter(|o| o.to == ParticipantId(2)).map(|o| &o.message).collect();
    assert_eq!(told, [&ServerMessage::HostHere { here: false }]);
    // After a dropped connection, Pat's welcome back says where things stand.
    drop_at(&mut hub, 2, t0);
    enter(&mut hub, 5, "Host again", true, true);
    let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0);
    assert_eq!(out[0].message, ServerMessage::Waiting { resume_token: token(2), host_here: true, full: false });
    assert_eq!(out.last().unwrap().message, ServerMessage::HostHere { here: true }, "the held change ends where the welcome back begins");
}

#[test]
fn a_guest_let_in_while_the_call_is_full_is_told_so_and_enters_when_a_place_frees() {
    let mut hub = Hub::new(vec![]);
    let rules = RoomRules { limit: 2, ..class_rules() };
    joiner(1).host(true).lobby(true).rules(rules).into(&mut hub);
    for who in 2..=4 {
        joiner(who).lobby(true).rules(rules).into(&mut hub);
    }
    // Room for one: Pupil 2 enters, 3 and 4 are promised a place, in that order.
    let out = hub.handle(Input::Admit { by: ParticipantId(1), who: None });
    assert!(out.iter().any(|o| o.to == ParticipantId(2) && matches!(o.message, ServerMessage::Welcome { .. })));
    for who in [3, 4] {
        let told = out.iter().find(|o| o.to == ParticipantId(who)).map(|o| o.message.clone());
        assert_eq!(told, Some(ServerMessage::Waiting { resume_token: token(who), host_here: true, full: true }), "guest {who}");
    }
    assert!(out.iter().any(|o| o.to == ParticipantId(1) && o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)), "the host is told why");
    let next: Vec<(u64, bool)> = hub.waiting_in(slug('a')).iter().map(|w| (w.id.0, w.next)).collect();
    assert_eq!(next, vec![(3, true), (4, true)]);
    // Pupil 2 leaves: Pupil 3 takes the place, Pupil 4 still waits for one.
    let out = hub.handle(Input::Leave { who: ParticipantId(2) });
    assert!(out.iter().any(|o| o.to == ParticipantId(3) && matches!(o.message, ServerMessage::Welcome { .. })), "{out:?}");
    assert!(!out.iter().any(|o| o.to == ParticipantId(4) && matches!(o.message, ServerMessage::Welcome { .. })));
    assert_eq!(hub.room_size(&slug('a')), 2);
    assert!(hub
        .take_records()
        .iter()
        .any(|r| matches!(r, Record::HostDid { by: ParticipantId(1), what: "admit", target: Some(ParticipantId(3)), .. })));
    // The host leaves: their place goes to Pupil 4, whom they let in.
    let out = hub.handle(Input::Leave { who: ParticipantId(1) });
    assert!(out.iter().any(|o| o.to == ParticipantId(4) && matches!(o.message, ServerMessage::Welcome { .. })), "{out:?}");
    assert!(hub.waiting_in(slug('a')).is_empty());
}

#[test]
fn a_promised_place_is_forgotten_when_the_call_ends_and_a_companion_waits_for_the_companions_limit() {
    // A call of one: the host alone; a guest let in is promised the place.
    let mut hub = Hub::new(vec![]);
    let rules = RoomRules { limit: 1, ..RoomRules::default() };
    joiner(1).host(true).lobby(true).rules(rules).into(&mut hub);
    joiner(2).lobby(true).rules(rules).into(&mut hub);
    hub.handle(Input::Admit { by: ParticipantId(1), who: None });
    let out = hub.handle(Input::Leave { who: ParticipantId(1) });
    assert!(
        out.iter().any(|o| o.to == ParticipantId(2) && o.message == ServerMessage::Waiting { resume_token: token(2), host_here: false, full: false }),
        "{out:?}"
    );
    assert!(!hub.waiting_in(slug('a'))[0].next);

    // A consultation's companion let in past the mesh's size enters when
    // the call drops below that size, not the consultation's own.
    let consultation = RoomRules { limit: 2, companions: true, ..RoomRules::default() };
    let mut hub = Hub::with_room_size(vec![], 3);
    enter_with(&mut hub, 1, true, true, consultation);
    for guest in 2..=4 {
        enter_with(&mut hub, guest, false, true, consultation);
    }
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(3)) });
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(4)) });
    assert_eq!(hub.room_size(&slug('a')), 3);
    let out = hub.handle(Input::Leave { who: ParticipantId(3) });
    assert!(out.iter().any(|o| o.to == ParticipantId(4) && matches!(o.message, ServerMessage::Welcome { .. })), "{out:?}");
}

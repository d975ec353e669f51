//! Who may enter: the room's schedule and passcode as the server found
//! them, the cooldowns of the turned away and the removed, and names.

use super::*;

#[test]
fn a_guest_is_refused_outside_the_window_then_for_a_cooldown_then_for_the_passcode_while_the_host_comes_in_whenever() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    let closed = FoundRoom { window: JoinWindow::NotYet, passcode: Passcode::Wrong, ..found(false, false) };
    assert_eq!(refusals(&knock(&mut hub, &caller(2), closed.clone(), "Pat", at(t0, 0)), 2), [ErrorCode::NotOpenYet]);
    let over = FoundRoom { window: JoinWindow::Ended, ..closed.clone() };
    assert_eq!(refusals(&knock(&mut hub, &caller(2), over, "Pat", at(t0, 0)), 2), [ErrorCode::SessionEnded]);
    let wrong = FoundRoom { window: JoinWindow::Open, ..closed.clone() };
    assert_eq!(refusals(&knock(&mut hub, &caller(2), wrong.clone(), "Pat", at(t0, 0)), 2), [ErrorCode::WrongPasscode]);
    let unchecked = FoundRoom { passcode: Passcode::NotChecked, ..wrong.clone() };
    assert_eq!(refusals(&knock(&mut hub, &caller(2), unchecked, "Pat", at(t0, 0)), 2), [ErrorCode::WrongPasscode], "never in unchecked");
    let hammered = FoundRoom { passcode: Passcode::TooMany, ..wrong.clone() };
    assert_eq!(refusals(&knock(&mut hub, &caller(2), hammered, "Pat", at(t0, 0)), 2), [ErrorCode::TooManyPasscodes]);
    // The host needs neither an open window nor the passcode.
    let host = FoundRoom { host: true, ..closed };
    let welcome = knock(&mut hub, &caller(1), host, "Dr Lee", at(t0, 0));
    assert!(matches!(welcome.send[0].message, ServerMessage::Welcome { .. }), "{welcome:?}");
    assert!(!hub.is_member(ParticipantId(2)), "no refusal left a place behind");
}

#[test]
fn a_denied_guest_may_not_knock_on_that_room_for_two_minutes_from_any_connection() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, true), "Pat", at(t0, 0));
    let denied = hub.receive(&caller(1), ClientMessage::Deny { id: ParticipantId(2) }, None, at(t0, 1));
    assert_eq!(refusals(&denied, 2), [ErrorCode::Denied]);
    // The same browser on a new connection is turned away at the door...
    let again = Caller { who: ParticipantId(3), ..caller(2) };
    assert_eq!(refusals(&knock(&mut hub, &again, found(false, true), "Pat", at(t0, 60)), 3), [ErrorCode::Denied]);
    // ...another browser is not...
    let other = knock(&mut hub, &caller(4), found(false, true), "Kim", at(t0, 60));
    assert!(matches!(other.send[0].message, ServerMessage::Waiting { .. }));
    // ...and after the cooldown the first may knock again.
    let later = Caller { who: ParticipantId(5), ..caller(2) };
    let knocked = knock(&mut hub, &later, found(false, true), "Pat", at(t0, 1 + DENY_COOLDOWN.as_secs()));
    assert!(matches!(knocked.send[0].message, ServerMessage::Waiting { .. }), "{knocked:?}");
}

#[test]
fn someone_removed_comes_back_through_the_lobby_for_an_hour_even_where_there_is_none() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, false), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, false), "Pat", at(t0, 0));
    let removed = hub.receive(&caller(1), ClientMessage::Remove { id: ParticipantId(2) }, None, at(t0, 10));
    assert_eq!(refusals(&removed, 2), [ErrorCode::Removed]);
    let back = Caller { who: ParticipantId(3), ..caller(2) };
    let out = knock(&mut hub, &back, found(false, false), "Pat", at(t0, 20));
    assert!(matches!(out.send[0].message, ServerMessage::Waiting { .. }), "waits to be let back in: {out:?}");
    // The host sees it is the person they removed, and when.
    let listed = out.send.iter().find_map(|o| match &o.message {
        ServerMessage::Lobby { waiting } if o.to == ParticipantId(1) => waiting.first().cloned(),
        _ => None,
    });
    assert_eq!(listed.and_then(|w| w.removed_ms), Some(at(t0, 10).unix_ms), "{out:?}");
    hub.receive(&back, ClientMessage::Leave, None, at(t0, 21));
    let much_later = Caller { who: ParticipantId(4), ..caller(2) };
    let out = knock(&mut hub, &much_later, found(false, false), "Pat", at(t0, 10 + REMOVED_WAIT.as_secs()));
    assert!(out.send.iter().any(|o| o.to == ParticipantId(4) && matches!(o.message, ServerMessage::Welcome { .. })), "{out:?}");
}

#[test]
fn after_a_removal_anyone_new_from_that_address_waits_in_the_lobby_for_a_while_where_there_is_none() {
    // The probe's finding: a removed guest came straight back into a
    // meeting without a lobby from a new browser (a new guest identity) at
    // the same address.
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    let from = |who: u64, address: [u8; 4]| Caller { address: address.into(), ..caller(who) };
    knock(&mut hub, &from(1, [198, 51, 100, 1]), found(true, false), "Host", at(t0, 0));
    knock(&mut hub, &from(2, [203, 0, 113, 5]), found(false, false), "Pat", at(t0, 0));
    hub.receive(&from(1, [198, 51, 100, 1]), ClientMessage::Remove { id: ParticipantId(2) }, None, at(t0, 10));
    let welcomed =
        |out: &Effects, who: u64| out.send.iter().any(|o| o.to == ParticipantId(who) && matches!(o.message, ServerMessage::Welcome { .. }));
    let waiting = |out: &Effects, who: u64| out.send.iter().any(|o| o.to == ParticipantId(who) && matches!(o.message, ServerMessage::Waiting { .. }));
    let new_browser = knock(&mut hub, &from(3, [203, 0, 113, 5]), found(false, false), "Not Pat", at(t0, 20));
    assert!(waiting(&new_browser, 3), "a new browser from that address waits: {new_browser:?}");
    let marked =
        new_browser.send.iter().any(|o| matches!(&o.message, ServerMessage::Lobby { waiting } if waiting.iter().any(|w| w.removed_ms.is_some())));
    assert!(!marked, "only the removed person is said to be them, not their neighbours");
    let elsewhere = knock(&mut hub, &from(4, [203, 0, 113, 6]), found(false, false), "Kim", at(t0, 20));
    assert!(welcomed(&elsewhere, 4), "another address walks in: {elsewhere:?}");
    hub.receive(&from(3, [203, 0, 113, 5]), ClientMessage::Leave, None, at(t0, 21));
    let later = knock(&mut hub, &from(5, [203, 0, 113, 5]), found(false, false), "Sam", at(t0, 10 + REMOVED_NEARBY_WAIT.as_secs()));
    assert!(welcomed(&later, 5), "after the while, the address walks in again: {later:?}");
}

#[test]
fn an_accounts_own_name_wins_and_a_guest_must_type_a_valid_one() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    let lee = name("Dr Lee");
    let signed_in = Caller { account: Some(AccountId(7)), account_name: Some(&lee), ..caller(1) };
    let out = knock(&mut hub, &signed_in, found(true, false), "Someone else", at(t0, 0));
    assert!(matches!(&out.send[0].message, ServerMessage::Welcome { you, .. } if you.name == name("Dr Lee")));
    assert_eq!(refusals(&knock(&mut hub, &caller(2), found(false, false), "   ", at(t0, 0)), 2), [ErrorCode::InvalidName]);
}

#[test]
fn a_link_that_leads_nowhere_or_too_many_of_them_is_refused() {
    let mut hub = Hub::new(vec![]);
    let join = || ClientMessage::Join {
        version: PROTOCOL_VERSION,
        room: crate::domain::RoomSlug::parse("aaaaaaaaaaaaaaaaaaaaaaaa").unwrap(),
        name: "Pat".into(),
        passcode: None,
        pass: None,
    };
    let now = at(Instant::now(), 0);
    for (room, code) in [(Lookup::NotFound, ErrorCode::UnknownRoom), (Lookup::TooManyWrongLinks, ErrorCode::TooManyWrongLinks)] {
        let effects = hub.receive(&caller(2), join(), Some(JoinFacts { room, token: token(2) }), now);
        assert_eq!(refusals(&effects, 2), [code]);
    }
}

/// Room 'a' as the door found it for someone whose pass says they were
/// participant `id` of its call before it moved here.
fn carrying(id: u64, lobby: bool) -> FoundRoom {
    FoundRoom { carried: Some(ParticipantId(id)), ..found(false, lobby) }
}

#[test]
fn a_person_with_a_pass_comes_back_as_the_same_participant_past_the_lobby() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    let back = knock(&mut hub, &caller(5), carrying(77, true), "Pat", at(t0, 1));
    assert_eq!(back.speaks_for, Some(ParticipantId(77)), "the connection speaks for the carried participant");
    let welcome = back.send.iter().find(|o| o.to == ParticipantId(77)).expect("a welcome to 77");
    assert!(matches!(&welcome.message, ServerMessage::Welcome { you, .. } if you.id == ParticipantId(77)), "{back:?}");
    assert!(!hub.is_member(ParticipantId(5)), "no second place under the connection's own id");
}

#[test]
fn a_pass_for_an_id_already_here_or_of_someone_removed_leads_to_the_lobby() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    knock(&mut hub, &caller(77), carrying(77, true), "Pat", at(t0, 0));
    // 77 is here already (its own connection): another showing the pass waits.
    let twice = knock(&mut hub, &caller(6), carrying(77, true), "Pat", at(t0, 1));
    assert_eq!(twice.speaks_for, None);
    assert!(matches!(twice.send[0].message, ServerMessage::Waiting { .. }), "{twice:?}");
    // Someone removed (marked on this node) waits, pass or not.
    knock(&mut hub, &caller(8), found(false, false), "Kim", at(t0, 2));
    hub.receive(&caller(1), ClientMessage::Remove { id: ParticipantId(8) }, None, at(t0, 3));
    let removed = Caller { who: ParticipantId(9), ..caller(8) };
    let out = knock(&mut hub, &removed, carrying(88, false), "Kim", at(t0, 4));
    assert!(out.send.iter().any(|o| matches!(o.message, ServerMessage::Waiting { .. })), "{out:?}");
}

#[test]
fn marks_are_recorded_for_other_nodes_and_those_they_made_hold_here_for_the_time_they_have_left() {
    let t0 = Instant::now();
    // Node a: Pat turned away, Kim removed; each mark is recorded.
    let mut a = Hub::new(vec![]);
    knock(&mut a, &caller(1), found(true, true), "Host", at(t0, 0));
    knock(&mut a, &caller(2), found(false, true), "Pat", at(t0, 0));
    let denied = a.receive(&caller(1), ClientMessage::Deny { id: ParticipantId(2) }, None, at(t0, 1));
    let marked = |effects: &Effects| -> Vec<(Cooldown, Person)> {
        effects
            .records
            .iter()
            .filter_map(|r| if let Record::Marked { cooldown, person, .. } = r { Some((*cooldown, person.clone())) } else { None })
            .collect()
    };
    assert_eq!(marked(&denied), [(Cooldown::Denied, caller(2).person.clone())]);
    knock(&mut a, &caller(3), found(false, true), "Kim", at(t0, 2));
    a.receive(&caller(1), ClientMessage::Admit { id: ParticipantId(3) }, None, at(t0, 2));
    let removed = a.receive(&caller(1), ClientMessage::Remove { id: ParticipantId(3) }, None, at(t0, 3));
    let network = Person::Address(ClientNetwork::of(caller(3).address));
    assert_eq!(marked(&removed), [(Cooldown::Removed, caller(3).person.clone()), (Cooldown::RemovedNearby, network)]);

    // Node b, which knows nothing, is told at each knock what a marked.
    let mut b = Hub::new(vec![]);
    let told = |marked: Vec<(Cooldown, Duration)>| FoundRoom { marked, ..found(false, false) };
    knock(&mut b, &caller(1), found(true, false), "Host", at(t0, 0));
    let pat = Caller { who: ParticipantId(12), ..caller(2) };
    let out = knock(&mut b, &pat, told(vec![(Cooldown::Denied, Duration::from_secs(30))]), "Pat", at(t0, 100));
    assert_eq!(refusals(&out, 12), [ErrorCode::Denied]);
    // The mark holds for the time it had left, not a full cooldown more.
    let pat = Caller { who: ParticipantId(13), ..caller(2) };
    let out = knock(&mut b, &pat, found(false, false), "Pat", at(t0, 131));
    assert!(out.send.iter().any(|o| o.to == pat.who && matches!(o.message, ServerMessage::Welcome { .. })), "{out:?}");
    // Someone removed waits in the lobby, though the room has none, with a pass too.
    let kim = Caller { who: ParticipantId(14), ..caller(3) };
    let out = knock(
        &mut b,
        &kim,
        FoundRoom { carried: Some(ParticipantId(3)), ..told(vec![(Cooldown::Removed, Duration::from_secs(600))]) },
        "Kim",
        at(t0, 140),
    );
    assert!(out.send.iter().any(|o| matches!(o.message, ServerMessage::Waiting { .. })), "{out:?}");
    // And a stranger from Kim's network, told of that mark, waits too.
    let nearby = Caller { who: ParticipantId(15), person: &Person::Guest("another browser".into()), ..caller(3) };
    let out = knock(&mut b, &nearby, told(vec![(Cooldown::RemovedNearby, Duration::from_secs(60))]), "Sam", at(t0, 141));
    assert!(matches!(out.send[0].message, ServerMessage::Waiting { .. }), "{out:?}");
}

#[test]
fn a_connection_in_a_call_may_not_take_a_second_place_with_a_pass() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, false), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, false), "Pat", at(t0, 0));
    let again = knock(&mut hub, &caller(2), carrying(99, false), "Pat", at(t0, 1));
    assert_eq!(refusals(&again, 2), [ErrorCode::AlreadyJoined]);
    assert_eq!(again.speaks_for, None);
    assert!(!hub.is_member(ParticipantId(99)), "no place under the pass's id");
}

#[test]
fn a_refusal_under_a_carried_id_reaches_the_connection() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    let full = |host| FoundRoom { rules: RoomRules { limit: 1, ..RoomRules::default() }, ..found(host, false) };
    knock(&mut hub, &caller(1), full(true), "Host", at(t0, 0));
    let refused = knock(&mut hub, &caller(5), FoundRoom { carried: Some(ParticipantId(77)), ..full(false) }, "Pat", at(t0, 1));
    assert_eq!(refusals(&refused, 5), [ErrorCode::RoomFull], "{refused:?}");
    assert_eq!(refused.speaks_for, None);
}

#[test]
fn a_persons_key_tells_accounts_guests_and_networks_apart() {
    let network = crate::domain::ClientNetwork::of([127, 0, 0, 1].into());
    let keys = [Person::Account(crate::domain::AccountId(1)).key(), Person::Guest("1".into()).key(), Person::Address(network).key()];
    assert_eq!(keys, ["account:1", "guest:1", "network:127.0.0.1"]);
}

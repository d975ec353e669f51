//! The hub's entry points as the server calls them: what comes back to
//! carry out (closing connections, TURN credentials, records).

use super::*;
use crate::call::protocol::close;
use crate::call::turn::{TurnConfig, TurnIssuer};

fn turn() -> TurnIssuer {
    TurnIssuer::new(TurnConfig { urls: vec!["turn:127.0.0.1:3478".into()], secret: "s".into(), ttl: Duration::from_secs(3600) })
}

#[test]
fn only_someone_let_into_the_call_gets_turn_credentials_fresh_with_their_welcome_or_on_asking() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]).with_turn(Some(turn()));
    let host = knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    let ServerMessage::Welcome { ice_servers, .. } = &host.send[0].message else { panic!("{host:?}") };
    let username = ice_servers[0].username.clone().unwrap();
    assert_eq!(username, format!("{}:huddle-1", 1_800_000_000 + 3600));
    // A waiting guest has none, and may not ask for any.
    let waiting = knock(&mut hub, &caller(2), found(false, true), "Pat", at(t0, 0));
    assert!(matches!(waiting.send[0].message, ServerMessage::Waiting { .. }));
    let asked = hub.receive(&caller(2), ClientMessage::IceServers, None, at(t0, 1));
    assert_eq!(refusals(&asked, 2), [ErrorCode::NotAdmitted]);
    let asked = hub.receive(&caller(9), ClientMessage::IceServers, None, at(t0, 1));
    assert_eq!(refusals(&asked, 9), [ErrorCode::NotJoined]);
    // Let in, they are welcomed with their own; asking later gives new ones.
    let admitted = hub.receive(&caller(1), ClientMessage::Admit { id: ParticipantId(2) }, None, at(t0, 5));
    let welcome = admitted.send.iter().find(|o| o.to == ParticipantId(2)).unwrap();
    assert!(
        matches!(&welcome.message, ServerMessage::Welcome { ice_servers, .. } if ice_servers[0].username.as_deref().unwrap().ends_with(":huddle-2"))
    );
    let asked = hub.receive(&caller(2), ClientMessage::IceServers, None, at(t0, 600));
    assert!(matches!(&asked.send[0].message,
        ServerMessage::IceServers { ice_servers } if ice_servers[0].username == Some(format!("{}:huddle-2", 1_800_000_600 + 3600))));
}

#[test]
fn a_host_ending_the_call_closes_every_connection_in_it_and_its_lobby_and_is_recorded() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    hub.receive(&caller(1), ClientMessage::Lock { locked: false }, None, at(t0, 0));
    knock(&mut hub, &caller(2), found(false, true), "Pat", at(t0, 0));
    hub.receive(&caller(1), ClientMessage::AdmitAll, None, at(t0, 0));
    knock(&mut hub, &caller(3), found(false, true), "Kim", at(t0, 0));
    // A guest may not.
    let refused = hub.receive(&caller(2), ClientMessage::EndForAll, None, at(t0, 1));
    assert_eq!(refusals(&refused, 2), [ErrorCode::NotHost]);
    assert!(refused.close.is_empty());
    let ended = hub.receive(&caller(1), ClientMessage::EndForAll, None, at(t0, 2));
    let mut closed: Vec<u64> = ended.close.iter().map(|c| c.who.0).collect();
    closed.sort();
    assert_eq!(closed, [1, 2, 3]);
    assert!(ended.close.iter().all(|c| c.code == close::ENDED_BY_HOST));
    assert!(ended.records.contains(&Record::Ended { by: ParticipantId(1), room: slug('a') }));
    assert_eq!(hub.census(), Census::default(), "nothing of the call is left");
}

#[test]
fn a_host_action_from_a_guest_is_recorded_for_the_audit_log_and_refused() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, false), "Host", at(t0, 0));
    let guest = Caller { account: Some(AccountId(4)), ..caller(2) };
    knock(&mut hub, &guest, found(false, false), "Pat", at(t0, 0));
    for (message, action) in [
        (ClientMessage::MuteAll, "mute"),
        (ClientMessage::Remove { id: ParticipantId(1) }, "remove"),
        (ClientMessage::EndForAll, "end_for_all"),
        (ClientMessage::DenyAll, "deny"),
        (ClientMessage::LobbyChat { id: ParticipantId(1), text: "hi".into() }, "lobby_chat"),
    ] {
        let effects = hub.receive(&guest, message, None, at(t0, 1));
        assert_eq!(refusals(&effects, 2), [ErrorCode::NotHost]);
        let (participant, account, client) = (ParticipantId(2), Some(AccountId(4)), [127, 0, 0, 1].into());
        let expected = Record::Refused { participant, account, action, client, room: slug('a') };
        assert_eq!(effects.records, [expected]);
    }
    // Not a host's action, or no text worth sending: nothing to audit.
    let effects = hub.receive(&guest, ClientMessage::LobbyChat { id: ParticipantId(1), text: String::new() }, None, at(t0, 1));
    assert_eq!((refusals(&effects, 2), effects.records), (vec![ErrorCode::InvalidChat], vec![]));
    // Someone in no call at all is not refused as a guest.
    let effects = hub.receive(&caller(9), ClientMessage::MuteAll, None, at(t0, 1));
    assert_eq!((refusals(&effects, 9), effects.records), (vec![ErrorCode::NotJoined], vec![]));
}

#[test]
fn a_resume_says_which_place_the_connection_speaks_for_and_a_member_may_not_resume() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, false), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, false), "Pat", at(t0, 0));
    hub.gone(ParticipantId(2), Ending::Dropped, at(t0, 1));
    let back = hub.receive(&caller(7), ClientMessage::Resume { version: PROTOCOL_VERSION, token: token(2) }, None, at(t0, 5));
    assert_eq!(back.speaks_for, Some(ParticipantId(2)));
    let twice = hub.receive(&caller(1), ClientMessage::Resume { version: PROTOCOL_VERSION, token: token(2) }, None, at(t0, 5));
    assert_eq!((refusals(&twice, 1), twice.speaks_for), (vec![ErrorCode::AlreadyJoined], None));
    let wrong = hub.receive(&caller(8), ClientMessage::Resume { version: PROTOCOL_VERSION, token: token(99) }, None, at(t0, 5));
    assert_eq!((refusals(&wrong, 8), wrong.speaks_for), (vec![ErrorCode::ResumeRefused], None));
}

#[test]
fn a_deleted_room_closes_every_connection_in_its_call_and_lobby() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, true), "Pat", at(t0, 0));
    let effects = hub.room_deleted(slug('a'), at(t0, 1));
    let closed: Vec<(u64, u16)> = effects.close.iter().map(|c| (c.who.0, c.code)).collect();
    assert_eq!(closed, [(1, close::ROOM_CLOSED), (2, close::ROOM_CLOSED)]);
    assert_eq!(effects.records, [Record::Left { who: ParticipantId(1) }]);
}

#[test]
fn deny_all_turns_away_everyone_waiting_and_nobody_in_the_call() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, true), "Host", at(t0, 0));
    for who in 2..=4 {
        knock(&mut hub, &caller(who), found(false, true), "Pat", at(t0, 0));
    }
    let effects = hub.receive(&caller(1), ClientMessage::DenyAll, None, at(t0, 1));
    for who in 2..=4 {
        assert_eq!(refusals(&effects, who), [ErrorCode::Denied], "guest {who}");
    }
    assert!(hub.waiting_in(slug('a')).is_empty());
    assert_eq!(hub.room_size(&slug('a')), 1, "the host stays");
    // Nobody waiting: nothing happens.
    let effects = hub.receive(&caller(1), ClientMessage::DenyAll, None, at(t0, 2));
    assert!(effects.send.is_empty() && refusals(&effects, 1).is_empty());
}

#[test]
fn a_call_left_without_its_host_ends_after_ten_minutes_unless_the_host_comes_back() {
    let t0 = Instant::now();
    let mut hub = Hub::new(vec![]);
    knock(&mut hub, &caller(1), found(true, false), "Host", at(t0, 0));
    knock(&mut hub, &caller(2), found(false, false), "Pat", at(t0, 0));
    knock(&mut hub, &caller(3), found(false, false), "Kim", at(t0, 0));
    // The host leaves; the guests stay, and the call goes on for a while.
    hub.gone(ParticipantId(1), Ending::ForGood, at(t0, 60));
    let minutes = close::HOSTLESS_MINUTES * 60;
    assert!(hub.tick(at(t0, 60 + minutes - 1)).close.is_empty(), "not yet");
    // Back in time: the clock starts again when they leave again.
    knock(&mut hub, &caller(4), found(true, false), "Host", at(t0, 60 + minutes - 1));
    assert!(hub.tick(at(t0, 60 + minutes + 5)).close.is_empty(), "the host came back");
    hub.gone(ParticipantId(4), Ending::ForGood, at(t0, 2000));
    assert!(hub.tick(at(t0, 2000 + minutes - 1)).close.is_empty());
    let ended = hub.tick(at(t0, 2000 + minutes));
    let mut closed: Vec<u64> = ended.close.iter().map(|c| c.who.0).collect();
    closed.sort();
    assert_eq!(closed, [2, 3]);
    assert!(ended.close.iter().all(|c| c.code == close::HOST_LEFT));
    assert_eq!(hub.census(), Census::default(), "nothing of the call is left");
    // A call the host never joined is not ended for want of one, even
    // where an earlier call in the room lost its host.
    knock(&mut hub, &caller(7), found(true, false), "Host", at(t0, 2900));
    knock(&mut hub, &caller(8), found(false, false), "Ann", at(t0, 2900));
    hub.gone(ParticipantId(7), Ending::ForGood, at(t0, 2901));
    hub.gone(ParticipantId(8), Ending::ForGood, at(t0, 2902));
    knock(&mut hub, &caller(5), found(false, false), "Lee", at(t0, 3000));
    knock(&mut hub, &caller(6), found(false, false), "Max", at(t0, 3000));
    assert!(hub.tick(at(t0, 3000 + 2 * minutes)).close.is_empty());
}

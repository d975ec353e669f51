//! What the call notes for attendance and the audit log.

use super::*;

#[test]
fn stays_are_recorded_once_with_reconnects_merged_and_host_actions_noted() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    let records = hub.take_records();
    assert_eq!(records.len(), 1, "a waiting guest is not yet in the call: {records:?}");
    assert!(matches!(&records[0], Record::Entered { who: ParticipantId(1), host: true, .. }));
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
    let records = hub.take_records();
    assert_eq!(records[0], Record::HostDid { by: ParticipantId(1), room: slug('a'), what: "admit", target: Some(ParticipantId(2)) });
    assert!(matches!(&records[1], Record::Entered { who: ParticipantId(2), host: false, .. }));
    drop_at(&mut hub, 2, t0);
    assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, t0).0, Ok(ParticipantId(2)));
    assert_eq!(hub.take_records(), [Record::Reconnected { who: ParticipantId(2) }]);
    hub.handle(Input::Leave { who: ParticipantId(2) });
    assert_eq!(hub.take_records(), [Record::Left { who: ParticipantId(2) }]);
    hub.close_room(slug('a'));
    assert_eq!(hub.take_records(), [Record::Left { who: ParticipantId(1) }]);
}

#[test]
fn chat_is_noted_for_keeping_only_where_the_room_keeps_it() {
    let keep = RoomRules { keep_chat: true, ..RoomRules::default() };
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, false, keep);
    enter_with(&mut hub, 2, false, false, keep);
    hub.take_records();
    hub.handle(Input::Chat { from: ParticipantId(2), text: chat("Thank you"), at_ms: 0 });
    assert_eq!(hub.take_records(), [Record::Said { room: slug('a'), name: name("P2"), host: false, text: chat("Thank you") }]);
    let mut hub = call_of_three();
    hub.take_records();
    hub.handle(Input::Chat { from: ParticipantId(2), text: chat("Thank you"), at_ms: 0 });
    assert!(hub.take_records().is_empty());
}

#[test]
fn only_the_words_of_those_told_the_chat_is_kept_are_kept() {
    let keep = RoomRules { keep_chat: true, ..RoomRules::default() };
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, false, keep);
    // The host turned keeping off before this guest joined: they were
    // told it is not kept, so their words are not.
    enter_with(&mut hub, 2, false, false, RoomRules::default());
    hub.take_records();
    hub.handle(Input::Chat { from: ParticipantId(2), text: chat("private"), at_ms: 0 });
    assert!(hub.take_records().is_empty());
    hub.handle(Input::Chat { from: ParticipantId(1), text: chat("noted"), at_ms: 0 });
    assert_eq!(hub.take_records().len(), 1, "the host was told it is kept");
}

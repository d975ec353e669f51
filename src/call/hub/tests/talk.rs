//! Signals, chat, hands and what each sends.

use super::*;

#[test]
fn a_signal_goes_only_to_its_addressee_stamped_with_the_real_sender() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    join(&mut hub, 3, 'a', "Cy");
    let out = hub.handle(Input::Signal { from: ParticipantId(3), to: ParticipantId(1), payload: offer("v=0") });
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::Signal { from: ParticipantId(3), payload: offer("v=0") } }]);
}

#[test]
fn a_signal_to_a_participant_of_another_room_is_refused() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'b', "Eve");
    let out = hub.handle(Input::Signal { from: ParticipantId(2), to: ParticipantId(1), payload: offer("x") });
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, ParticipantId(2));
    assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
}

#[test]
fn a_signal_to_oneself_or_to_nobody_is_refused() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    for to in [1, 99] {
        let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(to), payload: offer("x") });
        assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
    }
}

#[test]
fn a_signal_before_joining_is_refused() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    let out = hub.handle(Input::Signal { from: ParticipantId(5), to: ParticipantId(1), payload: offer("x") });
    assert_eq!(out[0].to, ParticipantId(5));
    assert_eq!(error_code(&out), Some(ErrorCode::NotJoined));
}

#[test]
fn a_chat_message_reaches_everyone_in_the_room_and_only_them() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    join(&mut hub, 3, 'b', "Eve");
    let out = hub.handle(Input::Chat { from: ParticipantId(2), text: chat("hello"), at_ms: 42 });
    let message = ServerMessage::Chat { from: ParticipantId(2), text: chat("hello"), sent_at_ms: 42 };
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: message.clone() }, Outgoing { to: ParticipantId(2), message }]);
}

#[test]
fn chat_before_joining_is_refused_and_chat_to_an_away_participant_is_held() {
    let mut hub = Hub::new(vec![]);
    let out = hub.handle(Input::Chat { from: ParticipantId(9), text: chat("hi"), at_ms: 1 });
    assert_eq!(error_code(&out), Some(ErrorCode::NotJoined));
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, Instant::now());
    let out = hub.handle(Input::Chat { from: ParticipantId(1), text: chat("are you there?"), at_ms: 5 });
    assert!(out.iter().all(|o| o.to == ParticipantId(1)));
    let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now());
    assert!(out
        .iter()
        .any(|o| o.to == ParticipantId(2) && matches!(&o.message, ServerMessage::Chat { text, .. } if text.as_str() == "are you there?")));
}

#[test]
fn hands_queue_in_order_and_the_host_may_lower_any() {
    let mut hub = call_of_three();
    hub.handle(Input::Hand { who: ParticipantId(3), raised: true });
    let out = hub.handle(Input::Hand { who: ParticipantId(2), raised: true });
    assert_eq!(out.len(), 3, "everyone in the call sees the queue");
    assert!(out.iter().all(|o| o.message == ServerMessage::Hands { raised: vec![ParticipantId(3), ParticipantId(2)] }));
    assert!(hub.handle(Input::Hand { who: ParticipantId(2), raised: true }).is_empty(), "raising twice changes nothing");
    let out = host_does(&mut hub, HostAction::LowerHand(ParticipantId(3)));
    assert_eq!(out[0].message, ServerMessage::Hands { raised: vec![ParticipantId(2)] });
    // A guest may lower only their own.
    let out = hub.handle(Input::Host { by: ParticipantId(3), action: HostAction::LowerHand(ParticipantId(2)) });
    assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
    // Leaving lowers your hand.
    let out = hub.handle(Input::Leave { who: ParticipantId(2) });
    assert!(out.iter().any(|o| o.message == ServerMessage::Hands { raised: vec![] }));
}

#[test]
fn the_host_lowers_every_hand_at_once_and_a_guest_may_not() {
    let mut hub = call_of_three();
    hub.handle(Input::Hand { who: ParticipantId(2), raised: true });
    hub.handle(Input::Hand { who: ParticipantId(3), raised: true });
    let out = hub.handle(Input::Host { by: ParticipantId(2), action: HostAction::LowerAllHands });
    assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
    let out = host_does(&mut hub, HostAction::LowerAllHands);
    assert_eq!(out.len(), 3, "everyone sees the queue empty");
    assert!(out.iter().all(|o| o.message == ServerMessage::Hands { raised: vec![] }));
    assert!(host_does(&mut hub, HostAction::LowerAllHands).is_empty(), "no hand up: nothing to tell");
    // A hand raised afterwards starts a new queue.
    let out = hub.handle(Input::Hand { who: ParticipantId(3), raised: true });
    assert_eq!(out[0].message, ServerMessage::Hands { raised: vec![ParticipantId(3)] });
}

#[test]
fn what_each_sends_reaches_the_others_and_newcomers() {
    let mut hub = call_of_three();
    let out = media(&mut hub, 2, true, false, Some("{screen-2}"));
    let told: Vec<u64> = out.iter().map(|o| o.to.0).collect();
    assert_eq!(told, vec![1, 3], "everyone else in the call, not the sender");
    let expected = ServerMessage::Media {
        id: ParticipantId(2),
        state: MediaState { microphone: true, camera: false, screen: Some("{screen-2}".to_string().try_into().unwrap()) },
    };
    assert!(out.iter().all(|o| o.message == expected));
    assert!(media(&mut hub, 2, true, false, Some("{screen-2}")).is_empty(), "no change, no news");
    media(&mut hub, 3, false, true, None);
    // Saying "nothing" is news too: the others learn this one sends nothing.
    assert_eq!(media(&mut hub, 1, false, false, None).len(), 2);
    assert!(media(&mut hub, 1, false, false, None).is_empty());
    // A newcomer hears what each one already there sends, after welcome.
    let out = enter(&mut hub, 4, "Newcomer", false, false);
    let to_newcomer: Vec<&ServerMessage> = out.iter().filter(|o| o.to == ParticipantId(4)).map(|o| &o.message).collect();
    assert!(matches!(to_newcomer[0], ServerMessage::Welcome { .. }));
    assert!(to_newcomer.contains(&&expected));
    assert!(
        to_newcomer.contains(&&ServerMessage::Media { id: ParticipantId(3), state: MediaState { microphone: false, camera: true, screen: None } })
    );
    assert!(to_newcomer.contains(&&ServerMessage::Media { id: ParticipantId(1), state: MediaState::default() }));
    // Someone who has not said yet is not reported at all.
    let out = enter(&mut hub, 5, "Later", false, false);
    assert!(!out.iter().any(|o| matches!(o.message, ServerMessage::Media { id: ParticipantId(4), .. })));
}

#[test]
fn a_guest_may_not_announce_a_screen_where_only_the_host_shares() {
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, false, class_rules());
    enter_with(&mut hub, 2, false, false, class_rules());
    assert_eq!(error_code(&media(&mut hub, 2, false, true, Some("{s}"))), Some(ErrorCode::ScreenShareNotAllowed));
    assert_eq!(media(&mut hub, 2, false, true, None).len(), 1, "camera and microphone are theirs to say");
    assert_eq!(media(&mut hub, 1, true, true, Some("{s}")).len(), 1, "the host shares");
    // Waiting guests say nothing to the call.
    enter_with(&mut hub, 3, false, true, class_rules());
    assert_eq!(error_code(&media(&mut hub, 3, true, true, None)), Some(ErrorCode::NotAdmitted));
    assert_eq!(error_code(&media(&mut hub, 9, true, true, None)), Some(ErrorCode::NotJoined));
}

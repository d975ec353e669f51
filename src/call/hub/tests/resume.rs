//! Dropped connections, resuming, and places given up.

use super::*;

#[test]
fn a_dropped_participant_keeps_their_place_and_nobody_is_told() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    assert!(drop_at(&mut hub, 2, t0).is_empty());
    assert!(hub.is_away(ParticipantId(2)));
    assert_eq!(hub.room_size(&slug('a')), 2);
    assert!(hub.expire(t0 + RESUME_GRACE - Duration::from_millis(1)).is_empty());
}

#[test]
fn resuming_gives_back_the_same_id_and_room_and_tells_the_others_only_that() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    join(&mut hub, 3, 'a', "Cy");
    drop_at(&mut hub, 2, t0);
    let (who, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0 + Duration::from_secs(5));
    assert_eq!(who, Ok(ParticipantId(2)));
    assert!(!hub.is_away(ParticipantId(2)));
    assert_eq!(
        out[0],
        Outgoing {
            to: ParticipantId(2),
            message: ServerMessage::Resumed {
                you: Participant { id: ParticipantId(2), name: name("Bo"), host: false },
                participants: vec![
                    Participant { id: ParticipantId(1), name: name("Ada"), host: false },
                    Participant { id: ParticipantId(3), name: name("Cy"), host: false },
                ],
                rules: CallRules::OPEN,
                topology: Topology::Mesh,
            },
        }
    );
    let mut told: Vec<_> = out[1..].to_vec();
    told.sort_by_key(|o| o.to);
    assert_eq!(
        told,
        [1, 3].map(|to| Outgoing { to: ParticipantId(to), message: ServerMessage::ParticipantResumed { id: ParticipantId(2) } }).to_vec()
    );
    // Signals reach the resumed participant again at once.
    let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("again") });
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, ParticipantId(2));
}

#[test]
fn what_arrives_while_away_is_delivered_in_order_on_resume() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, t0);
    assert!(hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("one") }).is_empty());
    assert!(hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("two") }).is_empty());
    assert!(join(&mut hub, 3, 'a', "Cy").iter().all(|o| o.to != ParticipantId(2)));
    let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0);
    let mine: Vec<&ServerMessage> = out.iter().filter(|o| o.to == ParticipantId(2)).map(|o| &o.message).collect();
    assert!(matches!(mine[0], ServerMessage::Resumed { participants, .. } if participants.len() == 2));
    assert_eq!(mine[1], &ServerMessage::Signal { from: ParticipantId(1), payload: offer("one") });
    assert_eq!(mine[2], &ServerMessage::Signal { from: ParticipantId(1), payload: offer("two") });
    assert!(matches!(mine[3], ServerMessage::ParticipantJoined { participant } if participant.id == ParticipantId(3)));
    assert_eq!(mine.len(), 4);
}

#[test]
fn after_the_grace_period_the_place_is_gone_and_the_others_see_a_leave() {
    let mut hub = Hub::new(vec![]).with_grace(Duration::from_secs(10));
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, t0);
    let out = hub.expire(t0 + Duration::from_secs(10));
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }]);
    let (who, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0 + Duration::from_secs(11));
    assert_eq!(who, Err(ErrorCode::ResumeRefused));
    assert!(out.is_empty());
    assert_eq!(hub.room_size(&slug('a')), 1);
}

#[test]
fn a_late_resume_gives_up_the_place_even_before_any_sweep() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, t0);
    let (who, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0 + RESUME_GRACE);
    assert_eq!(who, Err(ErrorCode::ResumeRefused));
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }]);
}

#[test]
fn a_resume_with_an_unknown_token_another_account_or_an_old_version_is_refused() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    joiner(1).named("Host").account(AccountId(7)).into(&mut hub);
    drop_at(&mut hub, 1, t0);
    assert_eq!(hub.resume(&ResumeToken("guess".into()), PROTOCOL_VERSION, Some(AccountId(7)), t0).0, Err(ErrorCode::ResumeRefused));
    assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, None, t0).0, Err(ErrorCode::ResumeRefused));
    assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, Some(AccountId(8)), t0).0, Err(ErrorCode::ResumeRefused));
    assert_eq!(hub.resume(&token(1), 0, Some(AccountId(7)), t0).0, Err(ErrorCode::UnsupportedVersion));
    assert!(hub.is_away(ParticipantId(1)), "refused attempts change nothing");
    assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, Some(AccountId(7)), t0).0, Ok(ParticipantId(1)));
}

#[test]
fn a_resume_while_the_old_connection_still_looks_alive_takes_over_the_same_place() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    let (who, _) = hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now());
    assert_eq!(who, Ok(ParticipantId(2)));
    assert_eq!(hub.room_size(&slug('a')), 2, "never two of one person");
}

#[test]
fn leaving_on_purpose_ends_the_place_and_its_token() {
    let mut hub = Hub::new(vec![]);
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    hub.handle(Input::Leave { who: ParticipantId(2) });
    assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused));
}

#[test]
fn signals_held_from_someone_who_then_left_are_not_delivered() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, t0);
    hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("x") });
    hub.handle(Input::Leave { who: ParticipantId(1) });
    let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0);
    let mine: Vec<&ServerMessage> = out.iter().map(|o| &o.message).collect();
    assert!(matches!(mine[..], [ServerMessage::Resumed { .. }, ServerMessage::ParticipantLeft { id: ParticipantId(1) }]), "{mine:?}");
}

#[test]
fn an_away_participant_whose_held_messages_overflow_loses_their_place() {
    let mut hub = Hub::new(vec![]);
    let t0 = Instant::now();
    join(&mut hub, 1, 'a', "Ada");
    join(&mut hub, 2, 'a', "Bo");
    drop_at(&mut hub, 2, t0);
    for _ in 0..PARKED_LIMIT {
        assert!(hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("x") }).is_empty());
    }
    let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("x") });
    assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }]);
    assert_eq!(hub.room_size(&slug('a')), 1);
}

#[test]
fn an_away_participant_still_holds_a_place_in_a_full_room() {
    let mut hub = Hub::new(vec![]);
    for who in 1..=4 {
        join(&mut hub, who, 'a', "P");
    }
    drop_at(&mut hub, 4, Instant::now());
    assert_eq!(error_code(&join(&mut hub, 5, 'a', "Late")), Some(ErrorCode::RoomFull));
}

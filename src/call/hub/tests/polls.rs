//! Polls: who may ask, who sees what, one answer a person, and what is
//! kept (anonymous polls: counts alone).

use super::*;
use crate::call::poll::{PollDraft, PollView, POLLS_PER_CALL};

fn draft(anonymous: bool) -> PollDraft {
    PollDraft {
        question: "Which planet is largest?".into(),
        options: vec!["Mars".into(), "Jupiter".into(), "Venus".into()],
        multiple: false,
        anonymous,
    }
}

/// The poll each of `out`'s messages shows, by addressee.
fn views(out: &[Outgoing]) -> Vec<(u64, PollView)> {
    out.iter()
        .filter_map(|o| match &o.message {
            ServerMessage::Poll { poll } => Some((o.to.0, poll.clone())),
            _ => None,
        })
        .collect()
}

fn view_for(out: &[Outgoing], who: u64) -> PollView {
    views(out).into_iter().find(|(to, _)| *to == who).map(|(_, v)| v).unwrap_or_else(|| panic!("no poll for {who} in {out:?}"))
}

fn poll_records(hub: &mut Hub) -> Vec<PollRecord> {
    hub.take_records()
        .into_iter()
        .filter_map(|r| match r {
            Record::Poll { poll, .. } => Some(poll),
            _ => None,
        })
        .collect()
}

fn answer(hub: &mut Hub, who: u64, choices: &[u8]) -> Vec<Outgoing> {
    hub.poll_answer(ParticipantId(who), 1, choices.to_vec())
}

#[test]
fn everyone_in_the_call_is_asked_and_only_the_host_sees_the_results_until_they_are_shown() {
    let mut hub = call_of_three();
    let out = hub.poll_start(ParticipantId(1), draft(false));
    assert_eq!(views(&out).iter().map(|(to, _)| *to).collect::<Vec<_>>(), vec![1, 2, 3]);
    let (host, pat) = (view_for(&out, 1), view_for(&out, 2));
    assert!(host.host && host.open && host.results.is_some());
    assert!(!pat.host && pat.results.is_none(), "a guest does not see the results: {pat:?}");
    assert_eq!(pat.options, ["Mars", "Jupiter", "Venus"]);

    // Pat answers: Pat sees the answer taken, the host sees it counted, Sam hears nothing.
    let out = answer(&mut hub, 2, &[1]);
    assert_eq!(views(&out).iter().map(|(to, _)| *to).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(view_for(&out, 2).mine, [1]);
    let results = view_for(&out, 1).results.unwrap();
    assert_eq!((results.counts, results.answered), (vec![0, 1, 0], 1));
    assert_eq!(results.names, vec![Vec::<String>::new(), vec!["Pat".to_string()], Vec::new()], "the host of a named poll sees who");

    // Shown: everyone sees the counts, and each later answer moves them for everyone, names for the host alone.
    let out = hub.poll_share(ParticipantId(1), 1, true);
    assert_eq!(view_for(&out, 3).results.map(|r| r.counts), Some(vec![0, 1, 0]));
    let out = answer(&mut hub, 3, &[0]);
    assert_eq!(views(&out).len(), 3);
    let sam = view_for(&out, 3).results.unwrap();
    assert_eq!((sam.counts, sam.answered, sam.names.len()), (vec![1, 1, 0], 2, 0));
    assert!(hub.poll_share(ParticipantId(1), 1, true).is_empty(), "showing what is shown changes nothing");
}

#[test]
fn one_answer_a_person_changeable_until_the_poll_ends_and_kept_after_they_leave() {
    let mut hub = call_of_three();
    hub.poll_start(ParticipantId(1), draft(false));
    answer(&mut hub, 2, &[0]);
    let out = answer(&mut hub, 2, &[2]);
    assert_eq!(view_for(&out, 1).results.map(|r| (r.counts, r.answered)), Some((vec![0, 0, 1], 1)), "changed, not added");
    hub.handle(Input::Leave { who: ParticipantId(2) });
    let out = answer(&mut hub, 3, &[2]);
    assert_eq!(view_for(&out, 1).results.map(|r| (r.counts, r.answered)), Some((vec![0, 0, 2], 2)), "Pat's answer stays after Pat left");

    let out = hub.poll_end(ParticipantId(1), 1);
    assert!(views(&out).iter().all(|(_, v)| !v.open) && views(&out).len() == 2);
    assert_eq!(error_code(&answer(&mut hub, 3, &[0])), Some(ErrorCode::PollEnded));
    assert!(hub.poll_end(ParticipantId(1), 1).is_empty(), "ending an ended poll changes nothing");
    let kept = poll_records(&mut hub);
    let last = kept.last().unwrap();
    assert!(!last.open);
    assert_eq!(last.votes, vec![(name("Pat"), vec![2]), (name("Sam"), vec![2])]);
}

#[test]
fn an_anonymous_poll_names_nobody_in_what_it_shows_or_what_it_keeps() {
    let mut hub = call_of_three();
    hub.poll_start(ParticipantId(1), draft(true));
    answer(&mut hub, 2, &[1]);
    let out = answer(&mut hub, 3, &[1]);
    let results = view_for(&out, 1).results.unwrap();
    assert_eq!((results.counts, results.names.len()), (vec![0, 2, 0], 0), "the host sees counts, no names");
    hub.poll_end(ParticipantId(1), 1);
    let kept = poll_records(&mut hub);
    assert!(kept.len() >= 3 && kept.iter().all(|r| r.votes.is_empty()), "{kept:?}");
    let text = format!("{kept:?}");
    assert!(!text.contains("Pat") && !text.contains("Sam"), "no name in any record: {text}");
}

#[test]
fn only_the_host_asks_ends_or_shows_and_a_new_poll_ends_the_open_one() {
    let mut hub = call_of_three();
    assert_eq!(error_code(&hub.poll_start(ParticipantId(2), draft(false))), Some(ErrorCode::NotHost));
    hub.poll_start(ParticipantId(1), draft(false));
    assert_eq!(error_code(&hub.poll_end(ParticipantId(2), 1)), Some(ErrorCode::NotHost));
    assert_eq!(error_code(&hub.poll_share(ParticipantId(3), 1, true)), Some(ErrorCode::NotHost));
    assert_eq!(error_code(&hub.poll_end(ParticipantId(1), 9)), Some(ErrorCode::UnknownPoll));
    let out = hub.poll_start(ParticipantId(1), draft(false));
    let polls: Vec<(u32, bool)> = views(&out).iter().filter(|(to, _)| *to == 2).map(|(_, v)| (v.id, v.open)).collect();
    assert_eq!(polls, vec![(1, false), (2, true)], "poll 1 ends, then poll 2 is asked");
}

#[test]
fn a_bad_draft_a_bad_answer_and_a_poll_too_many_are_refused() {
    let mut hub = call_of_three();
    let mut short = draft(false);
    short.options.truncate(1);
    assert_eq!(error_code(&hub.poll_start(ParticipantId(1), short)), Some(ErrorCode::InvalidPoll));
    hub.poll_start(ParticipantId(1), draft(false));
    assert_eq!(error_code(&answer(&mut hub, 2, &[3])), Some(ErrorCode::BadMessage));
    assert_eq!(error_code(&answer(&mut hub, 2, &[0, 1])), Some(ErrorCode::BadMessage), "one answer only");
    assert_eq!(error_code(&hub.poll_answer(ParticipantId(2), 7, vec![0])), Some(ErrorCode::UnknownPoll));
    assert_eq!(error_code(&hub.poll_answer(ParticipantId(9), 1, vec![0])), Some(ErrorCode::NotJoined));
    for _ in 1..POLLS_PER_CALL {
        hub.poll_start(ParticipantId(1), draft(false));
    }
    assert_eq!(error_code(&hub.poll_start(ParticipantId(1), draft(false))), Some(ErrorCode::TooManyPolls));
}

#[test]
fn a_guest_still_waiting_is_not_asked_and_cannot_answer() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, true);
    enter(&mut hub, 2, "Pat", false, true);
    let out = hub.poll_start(ParticipantId(1), draft(false));
    assert_eq!(views(&out).iter().map(|(to, _)| *to).collect::<Vec<_>>(), vec![1]);
    assert_eq!(error_code(&answer(&mut hub, 2, &[0])), Some(ErrorCode::NotAdmitted));
}

#[test]
fn a_latecomer_is_asked_the_open_poll_and_a_call_that_ends_ends_its_poll() {
    let mut hub = call_of_three();
    hub.poll_start(ParticipantId(1), draft(false));
    let out = enter(&mut hub, 4, "Kim", false, false);
    assert!(view_for(&out, 4).open);
    poll_records(&mut hub);
    for who in 1..=4 {
        hub.handle(Input::Leave { who: ParticipantId(who) });
    }
    let kept = poll_records(&mut hub);
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].open, "kept as ended");
    // The next call in the room starts without it.
    let out = enter(&mut hub, 5, "Host", true, false);
    assert!(views(&out).is_empty());
}

#[test]
fn a_person_back_with_a_new_place_answers_once_and_sees_their_answer() {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, false);
    joiner(2).named("Pat").person(Person::Guest("cookie-of-pat".into())).into(&mut hub);
    hub.poll_start(ParticipantId(1), draft(false));
    answer(&mut hub, 2, &[0]);
    // Pat reloads: a new participant, the same browser.
    hub.handle(Input::Leave { who: ParticipantId(2) });
    let out = joiner(5).named("Pat").person(Person::Guest("cookie-of-pat".into())).into(&mut hub);
    assert_eq!(view_for(&out, 5).mine, [0], "Pat's answer is shown as Pat's");
    let out = hub.poll_answer(ParticipantId(5), 1, vec![1]);
    let results = view_for(&out, 1).results.unwrap();
    assert_eq!((results.counts, results.answered), (vec![0, 1, 0], 1), "changed, not counted twice");
    assert_eq!(results.names[1], ["Pat"]);
    // Two guests without a cookie, from one network, are two voters.
    let network = || Person::Address(crate::domain::ClientNetwork::of("192.0.2.7".parse().unwrap()));
    joiner(6).named("Kim").person(network()).into(&mut hub);
    joiner(7).named("Lee").person(network()).into(&mut hub);
    hub.poll_answer(ParticipantId(6), 1, vec![2]);
    let out = hub.poll_answer(ParticipantId(7), 1, vec![2]);
    assert_eq!(view_for(&out, 1).results.map(|r| r.answered), Some(3));
}

#[test]
fn an_away_host_is_held_only_the_latest_state_of_each_poll() {
    let mut hub = call_of_three();
    hub.poll_start(ParticipantId(1), draft(false));
    drop_at(&mut hub, 1, Instant::now());
    for _ in 0..300 {
        let out = hub.poll_answer(ParticipantId(2), 1, vec![0]);
        hub.route(out);
        let out = hub.poll_answer(ParticipantId(2), 1, vec![1]);
        hub.route(out);
    }
    assert!(hub.is_member(ParticipantId(1)), "the host keeps their place");
    let held = hub.seats.get(&ParticipantId(1)).map(|seat| seat.parked.iter().filter(|m| matches!(m, ServerMessage::Poll { .. })).count());
    assert_eq!(held, Some(1), "one poll, one state held");
}

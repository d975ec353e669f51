//! Breakout rooms: who sees, hears and reads whom; the media server's
//! grants follow; the host moves, visits, speaks to all and closes;
//! someone who comes back returns to their group.

use super::*;
use crate::call::breakout::{BreakoutPlan, BreakoutView};
use crate::call::sfu::Command as MediaCommand;

const POLICY: MediaPolicy = MediaPolicy { room_size: 40, consultations: false };

/// A class through the media server: host 1, pupils 2..=5, each with
/// their own browser (so a reload keeps their place).
fn class() -> Hub {
    let mut hub = Hub::new(vec![]).with_media(Some(POLICY));
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    for who in 1..=5 {
        joiner(who).host(who == 1).rules(rules).person(Person::Guest(format!("browser-{who}"))).into(&mut hub);
    }
    hub.media_commands();
    hub
}

/// Pupils 2 and 3 in group 0, 4 and 5 in group 1.
fn plan() -> BreakoutPlan {
    BreakoutPlan { groups: 2, members: vec![(p(2), 0), (p(3), 0), (p(4), 1), (p(5), 1)], choose: false, minutes: 0 }
}

fn p(who: u64) -> ParticipantId {
    ParticipantId(who)
}

fn open(hub: &mut Hub) -> Vec<Outgoing> {
    hub.breakout_open(p(1), plan(), 1_000)
}

/// Who `to` is shown to be with, by the last `resumed` among `out`.
fn company(out: &[Outgoing], to: u64) -> Option<Vec<u64>> {
    out.iter().rev().find_map(|o| match &o.message {
        ServerMessage::Resumed { participants, .. } if o.to == p(to) => Some(participants.iter().map(|x| x.id.0).collect()),
        _ => None,
    })
}

fn state_for(out: &[Outgoing], to: u64) -> BreakoutView {
    out.iter()
        .rev()
        .find_map(|o| match &o.message {
            ServerMessage::Breakouts { state } if o.to == p(to) => Some(state.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no breakout state for {to} in {out:?}"))
}

/// Each grant's group among `commands`, by participant.
fn groups(commands: &[MediaCommand]) -> Vec<(u64, Option<u8>)> {
    commands
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Grant { who, grant } => Some((who.0, grant.group)),
            _ => None,
        })
        .collect()
}

#[test]
fn opening_shows_each_pupil_their_group_alone_and_the_media_server_forwards_within_it() {
    let mut hub = class();
    let out = open(&mut hub);
    assert_eq!(company(&out, 2), Some(vec![3]));
    assert_eq!(company(&out, 5), Some(vec![4]));
    assert_eq!(company(&out, 1), None, "the host stays in the main room, which nobody left for them");
    assert!(out.iter().any(|o| o.to == p(1) && o.message == ServerMessage::ParticipantLeft { id: p(2) }), "the host sees pupils go");
    let pupil = state_for(&out, 2);
    assert!(pupil.open && !pupil.host);
    assert_eq!(pupil.yours, Some(0));
    assert_eq!(pupil.groups.iter().map(|g| g.members.len()).collect::<Vec<_>>(), vec![2, 2]);
    assert_eq!(state_for(&out, 1).main.iter().map(|x| x.id.0).collect::<Vec<_>>(), vec![1]);
    assert_eq!(groups(&hub.media_commands()), vec![(2, Some(0)), (3, Some(0)), (4, Some(1)), (5, Some(1))]);
    assert_eq!(hub.take_records().iter().filter(|r| matches!(r, Record::HostDid { what: "breakouts_open", .. })).count(), 1);
}

#[test]
fn a_groups_chat_and_what_its_members_send_stay_in_the_group() {
    let mut hub = class();
    open(&mut hub);
    let out = hub.handle(Input::Chat { from: p(2), text: chat("our answer is 42"), at_ms: 5 });
    let mut to: Vec<u64> = out.iter().map(|o| o.to.0).collect();
    to.sort_unstable();
    assert_eq!(to, vec![2, 3]);
    let out = media(&mut hub, 4, false, false, None);
    assert_eq!(out.iter().map(|o| o.to.0).collect::<Vec<_>>(), vec![5]);
}

#[test]
fn the_host_visits_a_group_answering_its_call_for_help_and_moves_a_pupil() {
    let mut hub = class();
    open(&mut hub);
    let out = hub.breakout_help(p(4));
    assert_eq!(out.iter().map(|o| o.to.0).collect::<Vec<_>>(), vec![1], "only the host is told");
    assert!(state_for(&out, 1).groups[1].help);
    let out = hub.breakout_move(p(1), p(1), Some(1));
    assert_eq!(company(&out, 1), Some(vec![4, 5]));
    assert!(!state_for(&out, 1).groups[1].help, "answered by the visit");
    assert!(out.iter().any(|o| o.to == p(4) && matches!(&o.message, ServerMessage::ParticipantJoined { participant } if participant.id == p(1))));
    // Pupil 3 goes to group 1: group 0 sees them go, group 1 come.
    let out = hub.breakout_move(p(1), p(3), Some(1));
    assert_eq!(company(&out, 3), Some(vec![1, 4, 5]));
    assert!(out.iter().any(|o| o.to == p(2) && o.message == ServerMessage::ParticipantLeft { id: p(3) }));
    assert!(out.iter().any(|o| o.to == p(5) && matches!(&o.message, ServerMessage::ParticipantJoined { participant } if participant.id == p(3))));
    // A pupil may not move anyone, nor choose where the host did not let them.
    assert_eq!(error_code(&hub.breakout_move(p(2), p(2), Some(1))), Some(ErrorCode::NotHost));
    assert_eq!(error_code(&hub.breakout_choose(p(2), 1)), Some(ErrorCode::NoBreakouts));
    assert_eq!(error_code(&hub.breakout_move(p(1), p(2), Some(9))), Some(ErrorCode::InvalidBreakout));
}

#[test]
fn the_hosts_voice_reaches_every_group_only_while_they_speak_to_all() {
    let mut hub = class();
    open(&mut hub);
    hub.media_commands();
    let out = hub.breakout_voice(p(1), true);
    assert!(state_for(&out, 3).voice_all);
    let everywhere: Vec<(u64, bool)> = hub
        .media_commands()
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Grant { who, grant } => Some((who.0, grant.everywhere)),
            _ => None,
        })
        .collect();
    assert_eq!(everywhere, vec![(1, true)]);
    let out = hub.breakout_say(p(1), chat("Five minutes left"), 9_000);
    let said = state_for(&out, 5).said.unwrap();
    assert_eq!((said.seq, said.text.as_str()), (1, "Five minutes left"));
    assert_eq!(out.len(), 5, "everyone in the call");
}

#[test]
fn a_pupil_who_reloads_comes_back_to_their_group() {
    let mut hub = class();
    open(&mut hub);
    hub.handle(Input::Leave { who: p(4) });
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    let out = joiner(14).rules(rules).person(Person::Guest("browser-4".into())).into(&mut hub);
    let welcome = out.iter().find_map(|o| match &o.message {
        ServerMessage::Welcome { participants, .. } => Some(participants.iter().map(|x| x.id.0).collect::<Vec<_>>()),
        _ => None,
    });
    assert_eq!(welcome, Some(vec![5]), "back with their group, not the whole class");
    assert_eq!(state_for(&out, 14).yours, Some(1));
    assert!(out.iter().any(|o| o.to == p(5) && matches!(o.message, ServerMessage::ParticipantJoined { .. })));
    assert!(!out.iter().any(|o| o.to == p(2) && matches!(o.message, ServerMessage::ParticipantJoined { .. })), "group 0 does not see them");
}

#[test]
fn a_group_given_leave_may_share_its_screen_and_others_may_not() {
    let mut hub = class();
    open(&mut hub);
    let out = hub.breakout_share(p(1), 1, true);
    let rules_of = |out: &[Outgoing], to: u64| {
        out.iter().find_map(|o| match &o.message {
            ServerMessage::Resumed { rules, .. } if o.to == p(to) => Some(*rules),
            _ => None,
        })
    };
    assert!(rules_of(&out, 4).is_some_and(|r| r.may_share_screen));
    assert!(rules_of(&out, 2).is_none(), "group 0's rules did not change");
    assert!(state_for(&out, 2).groups[1].share);
    assert_eq!(error_code(&media(&mut hub, 2, false, true, Some("screen-2"))), Some(ErrorCode::ScreenShareNotAllowed));
    assert!(error_code(&media(&mut hub, 4, false, true, Some("screen-4"))).is_none());
}

#[test]
fn closing_counts_down_then_brings_everyone_back_and_the_timer_closes_on_its_own() {
    let t0 = Instant::now();
    let mut hub = class();
    open(&mut hub);
    assert_eq!(groups(&hub.media_commands()).len(), 4);
    let out = hub.breakout_close(p(1), 20, 1_000);
    assert_eq!(state_for(&out, 2).closing_at_ms, Some(21_000));
    assert!(hub.breakout_clock(20_999).is_empty());
    let out = hub.breakout_clock(21_000);
    assert_eq!(company(&out, 2), Some(vec![1, 3, 4, 5]), "everyone together again");
    assert!(!state_for(&out, 1).open);
    assert_eq!(groups(&hub.media_commands()).len(), 4, "each pupil's grant back to the main room");
    assert!(groups(&hub.media_commands()).is_empty());

    // A timer of one minute: at its end, everyone gets the countdown, then comes back.
    let plan = BreakoutPlan { minutes: 1, ..plan() };
    hub.breakout_open(p(1), plan, 1_000);
    assert!(hub.tick(Now { at: t0, unix_ms: 60_999 }).send.iter().all(|o| !matches!(o.message, ServerMessage::Breakouts { .. })));
    let out = hub.tick(Now { at: t0, unix_ms: 61_000 }).send;
    assert_eq!(state_for(&out, 3).closing_at_ms, Some(61_000 + 30_000));
    let out = hub.tick(Now { at: t0, unix_ms: 91_000 }).send;
    assert!(!state_for(&out, 3).open);
}

#[test]
fn breakouts_are_refused_in_a_mesh_call_and_beyond_their_limits() {
    let mut hub = call_of_three();
    let plan = BreakoutPlan { groups: 2, members: vec![], choose: true, minutes: 0 };
    assert_eq!(error_code(&hub.breakout_open(p(1), plan.clone(), 0)), Some(ErrorCode::WrongTopology));
    let mut hub = class();
    assert_eq!(error_code(&hub.breakout_open(p(1), BreakoutPlan { groups: 21, ..plan.clone() }, 0)), Some(ErrorCode::InvalidBreakout));
    let stranger = BreakoutPlan { members: vec![(p(99), 0)], ..plan.clone() };
    assert_eq!(error_code(&hub.breakout_open(p(1), stranger, 0)), Some(ErrorCode::InvalidBreakout));
    assert_eq!(error_code(&hub.breakout_close(p(1), 0, 0)), Some(ErrorCode::NoBreakouts));
    // Where pupils choose, they pick and may change.
    hub.breakout_open(p(1), plan, 0);
    let out = hub.breakout_choose(p(3), 1);
    assert_eq!(state_for(&out, 3).yours, Some(1));
    assert_eq!(company(&out, 3), Some(vec![]));
    assert_eq!(error_code(&hub.breakout_help(p(2))), Some(ErrorCode::NoBreakouts), "in the main room there is no group to help");
}

#[test]
fn a_call_page_reads_whether_it_is_in_a_group_from_the_start_of_the_message() {
    // The call's bundles do not parse breakout messages (`client::classroom::grouped`):
    // they rely on the order the server writes them in.
    let mut hub = class();
    let out = open(&mut hub);
    let text = |to: u64| {
        let message = out.iter().rev().find(|o| o.to == p(to) && matches!(o.message, ServerMessage::Breakouts { .. })).unwrap();
        serde_json::to_string(&message.message).unwrap()
    };
    assert!(text(2).starts_with(r#"{"type":"breakouts","state":{"open":true"#), "{}", text(2));
    assert!(!text(2).contains(r#""yours":null"#));
    assert!(text(1).contains(r#""yours":null"#), "the host in the main room: {}", text(1));
    let closed = hub.breakout_close(p(1), 0, 5);
    let closed = closed.iter().find(|o| matches!(o.message, ServerMessage::Breakouts { .. })).unwrap();
    assert!(serde_json::to_string(&closed.message).unwrap().starts_with(r#"{"type":"breakouts","state":{"open":false"#));
}

#[test]
fn raised_hands_are_shown_within_a_group_and_all_of_them_to_the_host() {
    let mut hub = class();
    open(&mut hub);
    let out = hub.handle(Input::Hand { who: p(2), raised: true });
    let hands = |to: u64| {
        out.iter().find_map(|o| match &o.message {
            ServerMessage::Hands { raised } if o.to == p(to) => Some(raised.iter().map(|x| x.0).collect::<Vec<_>>()),
            _ => None,
        })
    };
    assert_eq!(hands(3), Some(vec![2]), "the same group");
    assert_eq!(hands(4), Some(vec![]), "another group is not shown it");
    assert_eq!(hands(1), Some(vec![2]), "the host sees every hand");
}

#[test]
fn the_last_host_leaving_brings_every_group_back() {
    let mut hub = class();
    open(&mut hub);
    let out = hub.handle(Input::Leave { who: p(1) });
    assert_eq!(company(&out, 2), Some(vec![3, 4, 5]), "everyone together again");
    assert!(!state_for(&out, 5).open);
}

#[test]
fn leave_to_share_withdrawn_hides_a_screen_still_shared_and_a_new_split_retells_the_rules() {
    let mut hub = class();
    open(&mut hub);
    hub.breakout_share(p(1), 1, true);
    media(&mut hub, 4, false, true, Some("screen-4"));
    let out = hub.breakout_share(p(1), 1, false);
    let shown = out.iter().find_map(|o| match &o.message {
        ServerMessage::Media { id, state } if o.to == p(5) && *id == p(4) => Some(state.screen.clone()),
        _ => None,
    });
    assert_eq!(shown, Some(None), "group 1 no longer sees pupil 4's screen");
    // Opened again with the same groups: pupil 4's page hears it may not share.
    hub.breakout_share(p(1), 1, true);
    let out = open(&mut hub);
    let rules = out.iter().find_map(|o| match &o.message {
        ServerMessage::Resumed { rules, .. } if o.to == p(4) => Some(*rules),
        _ => None,
    });
    assert_eq!(rules.map(|r| r.may_share_screen), Some(false));
}

#[test]
fn someone_away_is_held_the_latest_breakout_state_alone() {
    let t0 = Instant::now();
    let mut hub = class();
    open(&mut hub);
    drop_at(&mut hub, 5, t0);
    for n in 0..300 {
        hub.receive(&caller(1), ClientMessage::BreakoutSay { text: format!("word {n}") }, None, at(t0, n));
    }
    assert!(hub.is_member(p(5)), "still in the call: not overflowed");
    let (_, out) = hub.resume(&token(5), PROTOCOL_VERSION, None, t0);
    let states: Vec<&BreakoutView> = out
        .iter()
        .filter_map(|o| match &o.message {
            ServerMessage::Breakouts { state } => Some(state),
            _ => None,
        })
        .collect();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].said.as_ref().map(|w| w.text.as_str()), Some("word 299"));
}

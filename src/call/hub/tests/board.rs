//! The whiteboard: who may draw, versions that make concurrent edits
//! converge, the whole board for whoever opens it or comes back, limits.

use super::*;
use crate::call::board::{BoardCopy, BoardStatus, DrawRule, Element, ElementRef, Kind, CHUNK_WEIGHT, ELEMENTS_PER_PAGE, PAGES};

fn stroke(id: &str, x: u16) -> Element {
    Element { id: id.into(), v: 0, k: Kind::Pen, c: 0, w: 1, p: vec![x, 10, x + 5, 20], r: Vec::new(), t: String::new() }
}

fn status_for(out: &[Outgoing], who: u64) -> Option<BoardStatus> {
    out.iter().find_map(|o| match &o.message {
        ServerMessage::BoardState { state } if o.to.0 == who => Some(*state),
        _ => None,
    })
}

/// What `who` receives of the board in `out`, applied to their copy.
fn apply(copy: &mut BoardCopy, out: &[Outgoing], who: u64) {
    for o in out.iter().filter(|o| o.to.0 == who) {
        if let ServerMessage::BoardChanged { page, cleared, put, gone } = &o.message {
            copy.apply(*page, *cleared, put.clone(), gone);
        }
    }
}

fn watched_by(out: &[Outgoing]) -> Vec<u64> {
    let mut to: Vec<u64> = out.iter().filter(|o| matches!(o.message, ServerMessage::BoardChanged { .. })).map(|o| o.to.0).collect();
    to.sort();
    to.dedup();
    to
}

#[test]
fn who_may_draw_is_the_hosts_choice_and_looking_needs_no_leave() {
    let mut hub = Hub::new(vec![]);
    enter_with(&mut hub, 1, true, false, class_rules());
    enter_with(&mut hub, 2, false, false, class_rules());
    let out = hub.board_watch(ParticipantId(2), true);
    assert_eq!(status_for(&out, 2).map(|s| (s.may_draw, s.host, s.pages)), Some((false, false, 1)), "in a class, only those let speak draw");
    assert_eq!(error_code(&hub.board_put(ParticipantId(2), 0, vec![stroke("a", 1)])), Some(ErrorCode::MayNotDraw));
    // Let speak: now they may, and are told so while the board is open.
    let out = host_does(&mut hub, HostAction::LetSpeak(ParticipantId(2)));
    assert_eq!(status_for(&out, 2).map(|s| s.may_draw), Some(true));
    assert!(error_code(&hub.board_put(ParticipantId(2), 0, vec![stroke("a", 1)])).is_none());
    // Only the host: the host still draws, nobody else.
    let out = hub.board_rule(ParticipantId(1), DrawRule::Host);
    assert_eq!(status_for(&out, 2).map(|s| (s.may_draw, s.rule)), Some((false, DrawRule::Host)));
    assert!(error_code(&hub.board_put(ParticipantId(1), 0, vec![stroke("b", 1)])).is_none());
    assert_eq!(error_code(&hub.board_rule(ParticipantId(2), DrawRule::Everyone)), Some(ErrorCode::NotHost));
    assert_eq!(error_code(&hub.board_clear(ParticipantId(2), 0)), Some(ErrorCode::NotHost));
    let out = hub.board_rule(ParticipantId(1), DrawRule::Everyone);
    assert_eq!(status_for(&out, 2).map(|s| s.may_draw), Some(true));
}

#[test]
fn concurrent_edits_converge_on_the_hubs_order() {
    let mut hub = call_of_three();
    let mut copies = [BoardCopy::default(), BoardCopy::default(), BoardCopy::default()];
    for who in 1..=3u64 {
        let out = hub.board_watch(ParticipantId(who), true);
        apply(&mut copies[who as usize - 1], &out, who);
    }
    let mut all = Vec::new();
    // Pat and Sam draw at once; each is sent to all three.
    all.extend(hub.board_put(ParticipantId(2), 0, vec![stroke("p1", 10)]));
    all.extend(hub.board_put(ParticipantId(3), 0, vec![stroke("s1", 20)]));
    assert_eq!(watched_by(&all), vec![1, 2, 3]);
    // Both move Pat's stroke from version 1: the first wins, the second is sent the stroke as it is.
    let moved_by_pat = Element { v: 1, ..stroke("p1", 100) };
    let moved_by_sam = Element { v: 1, ..stroke("p1", 200) };
    all.extend(hub.board_put(ParticipantId(2), 0, vec![moved_by_pat]));
    let late = hub.board_put(ParticipantId(3), 0, vec![moved_by_sam]);
    assert_eq!(late.iter().map(|o| o.to.0).collect::<Vec<_>>(), vec![3], "the stale move goes back to Sam alone");
    all.extend(late);
    // The host removes Sam's stroke while Sam moves it from the old version.
    all.extend(hub.board_drop(ParticipantId(1), 0, vec![ElementRef { id: "s1".into(), v: 1 }]));
    all.extend(hub.board_put(ParticipantId(3), 0, vec![Element { v: 1, ..stroke("s1", 300) }]));
    for who in 1..=3u64 {
        apply(&mut copies[who as usize - 1], &all, who);
    }
    assert_eq!(copies[0], copies[1]);
    assert_eq!(copies[1], copies[2]);
    let page = &copies[0].pages[0];
    assert_eq!(page.iter().map(|e| (e.id.as_str(), e.v, e.p[0])).collect::<Vec<_>>(), vec![("p1", 2, 100)]);
    // Undoing the removal names the version it was removed at.
    assert_eq!(copies[0].version(0, "s1"), 2);
    let out = hub.board_put(ParticipantId(1), 0, vec![Element { v: 2, ..stroke("s1", 20) }]);
    assert_eq!(watched_by(&out), vec![1, 2, 3], "back for everyone");
}

#[test]
fn whoever_opens_the_board_or_comes_back_is_sent_it_whole_in_pieces() {
    let mut hub = call_of_three();
    hub.board_watch(ParticipantId(1), true);
    let many: Vec<Element> = (0..600).map(|n| Element { p: (0..40).map(|i| (n + i) % 800).collect(), ..stroke(&format!("e{n}"), 0) }).collect();
    for batch in many.chunks(100) {
        assert!(error_code(&hub.board_put(ParticipantId(1), 0, batch.to_vec())).is_none());
    }
    hub.board_add_page(ParticipantId(1));
    hub.board_put(ParticipantId(1), 1, vec![stroke("second", 5)]);
    // Sam opens it: how it stands, then every page, each message under the limit.
    let out = hub.board_watch(ParticipantId(3), true);
    assert_eq!(status_for(&out, 3).map(|s| s.pages), Some(2));
    let mut copy = BoardCopy::default();
    apply(&mut copy, &out, 3);
    assert_eq!((copy.pages[0].len(), copy.pages[1].len()), (600, 1));
    assert!(out.len() > 3, "sent in pieces");
    for o in &out {
        assert!(serde_json::to_string(&o.message).unwrap().len() < CHUNK_WEIGHT + 8 * 1024);
    }
    // Away, Sam misses changes (not held); back, Sam is sent the board whole again.
    let t0 = Instant::now();
    drop_at(&mut hub, 3, t0);
    let missed = hub.board_put(ParticipantId(1), 1, vec![stroke("while-away", 9)]);
    assert!(missed.iter().any(|o| o.to.0 == 3));
    let routed = hub.route(missed);
    assert!(routed.iter().all(|o| o.to.0 != 3), "not held for Sam while away");
    let (who, out) = hub.resume(&token(3), PROTOCOL_VERSION, None, t0 + Duration::from_secs(1));
    assert_eq!(who, Ok(ParticipantId(3)));
    let mut copy = BoardCopy::default();
    apply(&mut copy, &out, 3);
    assert!(copy.get(1, "while-away").is_some() && copy.pages[0].len() == 600);
}

#[test]
fn a_shown_board_opens_for_everyone_and_for_latecomers() {
    let mut hub = call_of_three();
    let out = hub.board_show(ParticipantId(1), true, 0);
    assert_eq!((1..=3).filter_map(|who| status_for(&out, who)).filter(|s| s.shown).count(), 3);
    assert_eq!(error_code(&hub.board_show(ParticipantId(1), true, 3)), Some(ErrorCode::InvalidBoard), "no such page");
    let out = enter(&mut hub, 4, "Kim", false, false);
    assert_eq!(status_for(&out, 4).map(|s| s.shown), Some(true), "a latecomer is told, and opens it");
    let out = hub.board_show(ParticipantId(1), false, 0);
    assert_eq!(status_for(&out, 4).map(|s| s.shown), Some(false));
}

#[test]
fn the_limits_hold_with_a_clear_refusal() {
    let mut hub = call_of_three();
    let off_board = Element { p: vec![1700, 10], ..stroke("x", 0) };
    assert_eq!(error_code(&hub.board_put(ParticipantId(2), 0, vec![off_board])), Some(ErrorCode::InvalidBoard));
    assert_eq!(error_code(&hub.board_put(ParticipantId(2), 4, vec![stroke("x", 1)])), Some(ErrorCode::InvalidBoard), "no page 4");
    let full: Vec<Element> = (0..ELEMENTS_PER_PAGE).map(|n| stroke(&format!("e{n}"), 1)).collect();
    for batch in full.chunks(500) {
        assert!(error_code(&hub.board_put(ParticipantId(2), 0, batch.to_vec())).is_none());
    }
    assert_eq!(error_code(&hub.board_put(ParticipantId(2), 0, vec![stroke("one-more", 1)])), Some(ErrorCode::BoardFull));
    // Cleared by the host, the page takes drawing again; edits from before the clear are refused quietly.
    hub.board_clear(ParticipantId(1), 0);
    assert!(error_code(&hub.board_put(ParticipantId(2), 0, vec![stroke("one-more", 1)])).is_none());
    hub.board_watch(ParticipantId(2), true);
    let out = hub.board_put(ParticipantId(2), 0, vec![Element { v: 1, ..stroke("e5", 1) }]);
    assert!(matches!(&out[..], [Outgoing { message: ServerMessage::BoardChanged { gone, .. }, .. }] if gone.len() == 1), "{out:?}");
    for _ in 1..PAGES {
        assert!(error_code(&hub.board_add_page(ParticipantId(2))).is_none());
    }
    assert_eq!(error_code(&hub.board_add_page(ParticipantId(2))), Some(ErrorCode::BoardFull));
}

#[test]
fn a_board_ends_with_its_call() {
    let mut hub = call_of_three();
    hub.board_put(ParticipantId(1), 0, vec![stroke("a", 1)]);
    for who in 1..=3 {
        hub.handle(Input::Leave { who: ParticipantId(who) });
    }
    enter(&mut hub, 1, "Host", true, false);
    let out = hub.board_watch(ParticipantId(1), true);
    let mut copy = BoardCopy::default();
    apply(&mut copy, &out, 1);
    assert!(copy.pages.iter().all(Vec::is_empty), "a new call starts with a clean board");
}

#[test]
fn the_host_keeps_the_pages_with_something_on_them() {
    let mut hub = call_of_three();
    hub.take_records();
    assert_eq!(error_code(&hub.board_keep(ParticipantId(2))), Some(ErrorCode::NotHost));
    hub.board_keep(ParticipantId(1));
    assert!(hub.take_records().iter().all(|r| !matches!(r, Record::Board { .. })), "an empty board keeps nothing");
    hub.board_put(ParticipantId(1), 0, vec![stroke("a", 1)]);
    hub.board_add_page(ParticipantId(1));
    hub.board_add_page(ParticipantId(1));
    hub.board_put(ParticipantId(1), 2, vec![Element { k: Kind::Text, t: "Homework".into(), p: vec![10, 50], ..stroke("t", 0) }]);
    hub.board_keep(ParticipantId(1));
    let kept: Vec<Vec<String>> =
        hub.take_records().into_iter().filter_map(|r| if let Record::Board { pages, .. } = r { Some(pages) } else { None }).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].len(), 2, "the empty middle page is left out");
    assert!(kept[0][0].starts_with("<svg") && kept[0][1].contains(">Homework</text>"));
}

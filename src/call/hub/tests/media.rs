//! What the hub tells the media server: a class's call goes through it, and
//! each participant's rights there follow the host's decisions.

use super::*;
use crate::call::sfu::Command as MediaCommand;

const POLICY: MediaPolicy = MediaPolicy { room_size: 40, consultations: false };

/// A class with a media server: host 1 in, guests 2.. let in.
fn class_with_media(guests: u64) -> Hub {
    let mut hub = Hub::new(vec![]).with_media(Some(POLICY));
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    enter_with(&mut hub, 1, true, false, rules);
    for who in 2..2 + guests {
        enter_with(&mut hub, who, false, false, rules);
    }
    hub
}

/// The grants among `commands`, by participant: (audio, screen).
fn grants(commands: &[MediaCommand]) -> Vec<(u64, bool, bool)> {
    commands
        .iter()
        .filter_map(|c| match c {
            MediaCommand::Grant { who, grant } => Some((who.0, grant.audio, grant.screen)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_class_goes_through_the_media_server_and_takes_more_than_a_mesh() {
    let mut hub = class_with_media(6);
    assert_eq!(hub.topology_of(slug('a')), Topology::Sfu);
    assert_eq!(hub.room_size(&slug('a')), 7, "seven: past the mesh's four");
    let commands = hub.media_commands();
    assert_eq!(grants(&commands).len(), 7);
    assert!(hub.media_commands().is_empty(), "nothing changed, nothing to tell");
    // Without a media server, the same class is a mesh of four.
    let mut mesh = Hub::new(vec![]);
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    for who in 1..=5 {
        enter_with(&mut mesh, who, who == 1, false, rules);
    }
    assert_eq!((mesh.topology_of(slug('a')), mesh.room_size(&slug('a'))), (Topology::Mesh, 4));
}

#[test]
fn a_pupil_is_heard_through_the_server_only_between_let_speak_and_mute() {
    let mut hub = class_with_media(1);
    assert_eq!(grants(&hub.media_commands()), vec![(1, true, true), (2, false, false)], "the host is heard; the pupil not yet");
    host_does(&mut hub, HostAction::LetSpeak(ParticipantId(2)));
    assert_eq!(grants(&hub.media_commands()), vec![(2, true, false)]);
    host_does(&mut hub, HostAction::Mute(ParticipantId(2)));
    assert_eq!(grants(&hub.media_commands()), vec![(2, false, false)], "muted: not forwarded, at once");
    // Switching the microphone back on by themselves changes nothing in a class.
    media(&mut hub, 2, true, true, None);
    assert_eq!(grants(&hub.media_commands()), vec![(2, false, false)], "their camera is news; their voice is still not forwarded");
}

/// What the others in the call were told of `who`'s microphone, in order.
fn shown_microphone(out: &[Outgoing], who: u64, to: u64) -> Vec<bool> {
    out.iter()
        .filter_map(|o| match &o.message {
            ServerMessage::Media { id, state } if id.0 == who && o.to.0 == to => Some(state.microphone),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pupil_whose_voice_is_not_forwarded_is_shown_with_the_microphone_off() {
    let mut hub = class_with_media(2);
    // Pupil 2's page forces its microphone on: nobody hears it, so nobody
    // is told it is on.
    let forced = media(&mut hub, 2, true, true, None);
    assert_eq!(shown_microphone(&forced, 2, 1), vec![false], "the teacher sees it off");
    assert_eq!(shown_microphone(&forced, 2, 3), vec![false]);
    // A latecomer is told the same.
    let late = enter_with(&mut hub, 4, false, false, RoomRules { kind: RoomKind::Class, ..class_rules() });
    assert_eq!(shown_microphone(&late, 2, 4), vec![false]);
    // Let speak: now heard, and shown on.
    let let_speak = host_does(&mut hub, HostAction::LetSpeak(ParticipantId(2)));
    assert_eq!(shown_microphone(&let_speak, 2, 1), vec![true]);
    assert_eq!(shown_microphone(&let_speak, 2, 3), vec![true]);
    // Muted by the teacher: off again at once, whatever the page says.
    let muted = host_does(&mut hub, HostAction::Mute(ParticipantId(2)));
    assert_eq!(shown_microphone(&muted, 2, 3), vec![false]);
    assert!(shown_microphone(&media(&mut hub, 2, true, false, None), 2, 3).iter().all(|on| !on));
    // In a browser-to-browser class the pages decide what is sent, so what
    // a page says is what is shown.
    let mut mesh = Hub::new(vec![]);
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    enter_with(&mut mesh, 1, true, false, rules);
    enter_with(&mut mesh, 2, false, false, rules);
    assert_eq!(shown_microphone(&media(&mut mesh, 2, true, true, None), 2, 1), vec![true]);
}

#[test]
fn in_a_large_meeting_a_muted_guest_is_heard_again_once_they_unmute() {
    let mut hub = Hub::new(vec![]).with_media(Some(POLICY));
    let rules = RoomRules { kind: RoomKind::Meeting, limit: 12, ..RoomRules::default() };
    enter_with(&mut hub, 1, true, false, rules);
    enter_with(&mut hub, 2, false, false, rules);
    assert_eq!(hub.topology_of(slug('a')), Topology::Sfu);
    hub.media_commands();
    host_does(&mut hub, HostAction::Mute(ParticipantId(2)));
    assert_eq!(grants(&hub.media_commands()), vec![(2, false, true)]);
    media(&mut hub, 2, true, false, None);
    assert_eq!(grants(&hub.media_commands()), vec![(2, true, true)]);
}

#[test]
fn a_waiting_guest_has_no_grant_and_a_removed_one_loses_theirs() {
    let mut hub = Hub::new(vec![]).with_media(Some(POLICY));
    let rules = RoomRules { kind: RoomKind::Class, ..class_rules() };
    enter_with(&mut hub, 1, true, true, rules);
    enter_with(&mut hub, 2, false, true, rules);
    enter_with(&mut hub, 3, false, true, rules);
    assert_eq!(grants(&hub.media_commands()), vec![(1, true, true)], "those waiting have none");
    hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
    assert_eq!(grants(&hub.media_commands()), vec![(2, false, false)]);
    host_does(&mut hub, HostAction::Remove(ParticipantId(2)));
    assert_eq!(hub.media_commands(), vec![MediaCommand::Revoke { who: ParticipantId(2) }]);
    // An offer from someone waiting is refused before the media server hears of it.
    let refused = hub.receive(&caller(3), ClientMessage::SfuOffer { sdp: "v=0".into(), sources: Default::default() }, None, at(Instant::now(), 0));
    assert_eq!(refusals(&refused, 3), vec![ErrorCode::NotAdmitted]);
    assert!(refused.media.is_empty());
}

#[test]
fn offers_and_views_reach_the_media_server_only_from_its_calls() {
    let mut hub = class_with_media(1);
    hub.media_commands();
    let now = at(Instant::now(), 0);
    let offered = hub.receive(&caller(2), ClientMessage::SfuOffer { sdp: "v=0".into(), sources: Default::default() }, None, now);
    assert!(matches!(offered.media[..], [MediaCommand::Offer { who: ParticipantId(2), .. }]), "{offered:?}");
    let signal = hub.receive(&caller(2), ClientMessage::Signal { to: ParticipantId(1), payload: offer("x") }, None, now);
    assert_eq!(refusals(&signal, 2), vec![ErrorCode::WrongTopology], "no browser-to-browser signals here");
    // In a mesh call the media server is not there to ask.
    let mut mesh = call_of_three();
    let refused = mesh.receive(&caller(2), ClientMessage::SfuView { want: vec![] }, None, now);
    assert_eq!(refusals(&refused, 2), vec![ErrorCode::WrongTopology]);
}

#[test]
fn the_end_of_a_call_closes_every_media_connection() {
    let mut hub = class_with_media(2);
    hub.media_commands();
    hub.close_room(slug('a'));
    let mut revoked: Vec<u64> = hub
        .media_commands()
        .iter()
        .map(|c| match c {
            MediaCommand::Revoke { who } => who.0,
            other => panic!("{other:?}"),
        })
        .collect();
    revoked.sort();
    assert_eq!(revoked, vec![1, 2, 3]);
}

//! Feeds arbitrary bytes through the signaling parser and the call's hub,
//! through the same entry points the server uses (`receive`, `gone`,
//! `tick`). Each input line is one event from one of five connections: the
//! first byte picks the connection (low bits) and what happens (high bits:
//! a message, its connection dropping, or the clock jumping past the grace
//! period); the rest is a message, parsed as the server parses it. Checks
//! that nothing panics, that a relayed signal only ever reaches someone in
//! the sender's room (by a model built from the hub's own welcomes,
//! resumes and leaves), that a room never holds one person twice, and that
//! a closed connection hears nothing more.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use huddle::call::hub::{
    Caller, Effects, Ending, FoundRoom, Hub, JoinFacts, JoinWindow, Lookup, Now, Passcode, Person, RoomId, RoomRules, RESUME_GRACE,
};
use huddle::call::protocol::{ClientMessage, ParticipantId, ResumeToken, ServerMessage};
use huddle::domain::CallRules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut hub = Hub::new(Vec::new());
    let start = Instant::now();
    let mut now = Now { at: start, unix_ms: 0 };
    // Which participant each connection speaks for (its own id until it
    // resumes someone else's place), and which room each participant is in.
    let mut speaks_for: HashMap<u8, ParticipantId> = HashMap::new();
    let mut room_of: HashMap<ParticipantId, RoomId> = HashMap::new();
    // The database's part: each join link stands for one room id.
    let mut room_ids: HashMap<String, RoomId> = HashMap::new();
    for line in data.split(|b| *b == b'\n').take(64) {
        let Some((&first, text)) = line.split_first() else { continue };
        // A lone participant's leave tells nobody, so the model asks the hub.
        room_of.retain(|p, _| hub.is_member(*p));
        let connection = first % 5;
        let who = *speaks_for.entry(connection).or_insert(ParticipantId(u64::from(connection) + 1));
        let effects = match first / 5 % 4 {
            1 => hub.gone(who, Ending::Dropped, now),
            2 => {
                now.at += RESUME_GRACE + Duration::from_secs(1);
                now.unix_ms += 31_000;
                hub.tick(now)
            }
            _ => {
                let Ok(message) = serde_json::from_slice::<ClientMessage>(text) else { continue };
                // Tokens are the connection's own number, so lines can guess them.
                let token = ResumeToken(connection.to_string());
                // Each connection is its own browser; connection 0 signs in as the host.
                let person = Person::Guest(connection.to_string());
                let caller = Caller { who, account: None, account_name: None, person: &person, address: [127, 0, 0, 1].into() };
                // What the database would say: connection 0 owns every room;
                // the top bit turns the lobby on; bit 0x40 a room of four,
                // else two with companions and kept chat; bit 0x20 a class's
                // guest rules; bit 0x10 a room not open yet.
                let facts = match &message {
                    ClientMessage::Join { room, .. } => {
                        let next = RoomId(room_ids.len() as i64 + 1);
                        let id = *room_ids.entry(room.to_string()).or_insert(next);
                        let big = first & 0x40 != 0;
                        let guests = if first & 0x20 != 0 {
                            CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false }
                        } else {
                            CallRules::OPEN
                        };
                        let rules = RoomRules { limit: if big { 4 } else { 2 }, companions: !big, guests, keep_chat: !big, ..RoomRules::default() };
                        let window = if first & 0x10 != 0 { JoinWindow::NotYet } else { JoinWindow::Open };
                        let found = FoundRoom { id, host: connection == 0, lobby: first & 0x80 != 0, rules, window, passcode: Passcode::NoneSet, carried: None };
                        Some(JoinFacts { room: Lookup::Found(found), token })
                    }
                    _ => None,
                };
                // Whoever is welcomed enters the room joined, or the admitting host's.
                let joining = match &facts {
                    Some(JoinFacts { room: Lookup::Found(found), .. }) => Some(found.id),
                    _ => hub.room_of(who),
                };
                if matches!(message, ClientMessage::Leave) {
                    room_of.remove(&who);
                }
                // Held signals come back on a resume with their real senders.
                let sender = if matches!(message, ClientMessage::Resume { .. }) { None } else { Some(who) };
                let effects = hub.receive(&caller, message, facts, now);
                if let Some(resumed) = effects.speaks_for {
                    speaks_for.insert(connection, resumed);
                    assert!(room_of.contains_key(&resumed) || !hub.is_admitted(resumed), "resumed a place nobody had");
                }
                check(&mut room_of, sender, joining, effects);
                continue;
            }
        };
        check(&mut room_of, Some(who), None, effects);
    }
});

/// Checks `effects` against the model and updates it. `sender` is whoever
/// caused it, if one participant did.
fn check(room_of: &mut HashMap<ParticipantId, RoomId>, sender: Option<ParticipantId>, joining: Option<RoomId>, effects: Effects) {
    for closing in &effects.close {
        assert!(
            !effects.send.iter().any(|o| o.to == closing.who && matches!(o.message, ServerMessage::Signal { .. })),
            "a closed connection was still signalled"
        );
        room_of.remove(&closing.who);
    }
    for outgoing in effects.send {
        let (to, message) = (outgoing.to, outgoing.message);
        // Someone not (or no longer) in a call learns nothing about one:
        // only their own wait, refusals, and words with the host.
        if !room_of.contains_key(&to) {
            let allowed = match &message {
                ServerMessage::Welcome { .. } | ServerMessage::Waiting { .. } | ServerMessage::HostHere { .. } | ServerMessage::Error { .. } => true,
                ServerMessage::LobbyChat { guest, .. } => *guest == to,
                _ => false,
            };
            assert!(allowed, "someone outside the call got {message:?}");
        }
        match message {
            ServerMessage::Welcome { participants, .. } => {
                assert!(!room_of.contains_key(&to), "welcomed twice");
                assert!(!participants.iter().any(|p| p.id == to), "welcomed into a room already holding them");
                room_of.insert(to, joining.expect("a welcome answers a join or an admit"));
            }
            ServerMessage::Resumed { participants, .. } => {
                assert!(!participants.iter().any(|p| p.id == to), "someone is in their room twice");
            }
            ServerMessage::ParticipantLeft { id } => {
                room_of.remove(&id);
            }
            ServerMessage::Chat { from, .. } | ServerMessage::Signal { from, .. } => {
                if let Some(sender) = sender {
                    assert_eq!(from, sender, "a signal was stamped with the wrong sender");
                }
                assert_eq!(room_of.get(&to), room_of.get(&from), "a signal crossed rooms");
            }
            _ => {}
        }
    }
}

//! Feeds arbitrary bytes through the signaling parser and the room state
//! machine. Each input line is one event from one of five connections: the
//! first byte picks the connection (low bits) and what happens (high bits:
//! a message, its connection dropping, or the clock jumping past the grace
//! period); the rest is a message, parsed as the server parses it. Checks
//! that nothing panics, that a relayed signal only ever reaches someone in
//! the sender's room (by a model built from the hub's own welcomes,
//! resumes and leaves), and that a room never holds one person twice.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use huddle::domain::{ChatText, DisplayName};
use huddle::call::hub::{HostAction, Hub, Input, Outgoing, RoomId, RoomRules, RESUME_GRACE};
use huddle::call::protocol::{CallRules, ClientMessage, ParticipantId, ResumeToken, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut hub = Hub::new(Vec::new());
    let mut clock = Instant::now();
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
        let out = match first / 5 % 4 {
            1 => hub.handle(Input::Drop { who, at: clock }),
            2 => {
                clock += RESUME_GRACE + Duration::from_secs(1);
                hub.expire(clock)
            }
            _ => {
                let Ok(message) = serde_json::from_slice::<ClientMessage>(text) else { continue };
                let input = match message {
                    ClientMessage::Join { version, room, name, .. } => {
                        let Ok(name) = DisplayName::parse(&name) else { continue };
                        // Tokens are the connection's own number, so lines can guess them.
                        let token = ResumeToken(connection.to_string());
                        let next = RoomId(room_ids.len() as i64 + 1);
                        let room = *room_ids.entry(room.to_string()).or_insert(next);
                        // Connection 0 is the room's host; the top bit turns the lobby on.
                        // Bit 0x40 a room of four, else two with companions and
                        // kept chat; bit 0x20 a class's guest rules.
                        let big = first & 0x40 != 0;
                        let guests = if first & 0x20 != 0 {
                            CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false }
                        } else {
                            CallRules::OPEN
                        };
                        let rules = RoomRules { limit: if big { 4 } else { 2 }, companions: !big, guests, keep_chat: !big };
                        Input::Join { who, version, room, name, account: None, token, host: connection == 0, lobby: first & 0x80 != 0, at_ms: 0, rules }
                    }
                    ClientMessage::Resume { version, token } => {
                        if hub.is_member(who) {
                            continue; // the adapter refuses this before the hub
                        }
                        let (result, out) = hub.resume(&token, version, None, clock);
                        if let Ok(resumed) = result {
                            speaks_for.insert(connection, resumed);
                            assert!(room_of.contains_key(&resumed), "resumed a place nobody had");
                        }
                        // Held signals come back with their real senders.
                        check(&mut room_of, None, None, out);
                        continue;
                    }
                    ClientMessage::Signal { to, payload } => Input::Signal { from: who, to, payload },
                    ClientMessage::Chat { text } => {
                        let Ok(text) = ChatText::parse(&text) else { continue };
                        Input::Chat { from: who, text, at_ms: 0 }
                    }
                    ClientMessage::Admit { id } => Input::Admit { by: who, who: Some(id) },
                    ClientMessage::AdmitAll => Input::Admit { by: who, who: None },
                    ClientMessage::Deny { id } => Input::Deny { by: who, who: id },
                    ClientMessage::Mute { id } => Input::Host { by: who, action: HostAction::Mute(id) },
                    ClientMessage::MuteAll => Input::Host { by: who, action: HostAction::MuteAll },
                    ClientMessage::Remove { id } => Input::Host { by: who, action: HostAction::Remove(id) },
                    ClientMessage::Lock { locked } => Input::Host { by: who, action: HostAction::Lock(locked) },
                    ClientMessage::LowerHand { id } => Input::Host { by: who, action: HostAction::LowerHand(id) },
                    ClientMessage::LetSpeak { id } => Input::Host { by: who, action: HostAction::LetSpeak(id) },
                    ClientMessage::LobbyChat { id, text } => {
                        let Ok(text) = ChatText::parse(&text) else { continue };
                        Input::LobbyChat { by: who, guest: id, text, at_ms: 0 }
                    }
                    ClientMessage::Hand { raised } => Input::Hand { who, raised },
                    ClientMessage::Media { state } => Input::Media { who, state },
                    // The adapter's: it only reads the hub.
                    ClientMessage::IceServers => continue,
                    // The adapter's: it closes connections. The hub's part is close_room.
                    ClientMessage::EndForAll => {
                        if let Ok(room) = hub.host_room(who) {
                            hub.close_room(room);
                        }
                        continue;
                    }
                    ClientMessage::Leave => Input::Leave { who },
                };
                // Whoever is welcomed enters the room joined, or the admitting host's.
                let joining = match &input {
                    Input::Join { room, .. } => Some(*room),
                    Input::Admit { by, .. } => hub.room_of(*by),
                    _ => None,
                };
                if let Input::Leave { who } = &input {
                    room_of.remove(who);
                }
                let out = hub.handle(input);
                check(&mut room_of, Some(who), joining, out);
                continue;
            }
        };
        check(&mut room_of, Some(who), None, out);
    }
});

/// Checks `out` against the model and updates it. `sender` is whoever
/// caused it, if one participant did.
fn check(room_of: &mut HashMap<ParticipantId, RoomId>, sender: Option<ParticipantId>, joining: Option<RoomId>, out: Vec<Outgoing>) {
    for Outgoing { to, message } in out {
        // Someone not (or no longer) in a call learns nothing about one:
        // only their own wait, refusals, and words with the host.
        if !room_of.contains_key(&to) {
            let allowed = match &message {
                ServerMessage::Welcome { .. } | ServerMessage::Waiting { .. } | ServerMessage::Error { .. } => true,
                ServerMessage::LobbyChat { guest, .. } => *guest == to,
                _ => false,
            };
            assert!(allowed, "someone outside the call got {message:?}");
        }
        match message {
            ServerMessage::Welcome { participants, .. } => {
                assert!(!room_of.contains_key(&to), "welcomed twice");
                assert!(!participants.iter().any(|p| p.id == to), "welcomed into a room already holding them");
                room_of.insert(to, joining.expect("a welcome answers a join"));
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

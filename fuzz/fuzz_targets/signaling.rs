//! Feeds arbitrary bytes through the signaling parser and the room state
//! machine. Each input line is one message from one of five connections
//! (chosen by its first byte), parsed as the server parses it. Checks that
//! nothing panics and that a relayed signal only ever reaches someone in the
//! sender's room, by a model built from the hub's own welcomes and leaves.
#![no_main]

use std::collections::HashMap;

use huddle::domain::DisplayName;
use huddle::signaling::hub::{Hub, Input, Outgoing};
use huddle::signaling::protocol::{ClientMessage, ParticipantId, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut hub = Hub::new(Vec::new());
    let mut room_of: HashMap<ParticipantId, String> = HashMap::new();
    for line in data.split(|b| *b == b'\n').take(64) {
        let Some((&who, text)) = line.split_first() else { continue };
        let who = ParticipantId(u64::from(who % 5) + 1);
        let Ok(message) = serde_json::from_slice::<ClientMessage>(text) else { continue };
        let input = match message {
            ClientMessage::Join { version, room, name } => {
                let Ok(name) = DisplayName::parse(&name) else { continue };
                Input::Join { who, version, room, name }
            }
            ClientMessage::Signal { to, payload } => Input::Signal { from: who, to, payload },
            ClientMessage::Leave => Input::Leave { who },
        };
        let sender_room = room_of.get(&who).cloned();
        let joining_room = match &input {
            Input::Join { room, .. } => Some(room.to_string()),
            _ => None,
        };
        if let Input::Leave { who } = &input {
            room_of.remove(who);
        }
        for Outgoing { to, message } in hub.handle(input) {
            match message {
                ServerMessage::Welcome { .. } => {
                    room_of.insert(to, joining_room.clone().expect("a welcome answers a join"));
                }
                ServerMessage::Signal { from, .. } => {
                    assert_eq!(from, who, "a signal was stamped with the wrong sender");
                    assert_eq!(room_of.get(&to), sender_room.as_ref(), "a signal crossed rooms");
                }
                _ => {}
            }
        }
    }
});

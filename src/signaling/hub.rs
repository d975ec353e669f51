//! The room state machine behind signaling.
//!
//! Sans-IO: [`Hub::handle`] takes one [`Input`] and returns the messages to
//! send, addressed by participant. It never touches a socket, a clock or the
//! database, so every rule here is unit-tested by feeding inputs and reading
//! outputs. The invariants it keeps:
//!
//! - a participant is in at most one room, and only after a valid `join`;
//! - a signal reaches exactly the one addressed participant, and only when
//!   both are in the same room; its `from` is the sender's real id;
//! - everyone in a room hears of each join and leave exactly once.

use std::collections::HashMap;

use crate::domain::{DisplayName, RoomSlug};
use crate::signaling::protocol::{
    ErrorCode, IceServer, Participant, ParticipantId, ServerMessage, SignalPayload,
    PROTOCOL_VERSION,
};

/// Most participants a full-mesh call carries well.
pub const MESH_LIMIT: usize = 4;

/// One event for the hub, already authenticated by the adapter: the room
/// exists and the name is the one the server decided on.
#[derive(Debug, Clone)]
pub enum Input {
    /// `who` asks to enter `room` under `name`.
    Join { who: ParticipantId, version: u32, room: RoomSlug, name: DisplayName },
    /// `from` asks to relay `payload` to `to`.
    Signal { from: ParticipantId, to: ParticipantId, payload: SignalPayload },
    /// `who` left or its connection ended. Safe to send more than once.
    Leave { who: ParticipantId },
}

/// A message for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: ParticipantId,
    pub message: ServerMessage,
}

/// All rooms with someone in them.
#[derive(Debug)]
pub struct Hub {
    rooms: HashMap<RoomSlug, Vec<Participant>>,
    /// Which room each joined participant is in.
    membership: HashMap<ParticipantId, RoomSlug>,
    ice_servers: Vec<IceServer>,
    room_limit: usize,
}

impl Hub {
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        Self::with_room_size(ice_servers, MESH_LIMIT)
    }

    /// A hub whose rooms take up to `room_size` participants.
    pub fn with_room_size(ice_servers: Vec<IceServer>, room_size: usize) -> Self {
        Self { rooms: HashMap::new(), membership: HashMap::new(), ice_servers, room_limit: room_size }
    }

    /// Applies one input and says who must be told what.
    pub fn handle(&mut self, input: Input) -> Vec<Outgoing> {
        match input {
            Input::Join { who, version, room, name } => self.join(who, version, room, name),
            Input::Signal { from, to, payload } => self.relay(from, to, payload),
            Input::Leave { who } => self.leave(who),
        }
    }

    /// Number of participants currently in `room`.
    pub fn room_size(&self, room: &RoomSlug) -> usize {
        self.rooms.get(room).map_or(0, Vec::len)
    }

    /// Number of rooms with at least one participant.
    pub fn active_rooms(&self) -> usize {
        self.rooms.len()
    }

    fn join(&mut self, who: ParticipantId, version: u32, room: RoomSlug, name: DisplayName) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        if version != PROTOCOL_VERSION {
            return refuse(ErrorCode::UnsupportedVersion);
        }
        if self.membership.contains_key(&who) {
            return refuse(ErrorCode::AlreadyJoined);
        }
        let present = self.rooms.entry(room.clone()).or_default();
        if present.len() >= self.room_limit {
            return refuse(ErrorCode::RoomFull);
        }
        let you = Participant { id: who, name };
        let mut out: Vec<Outgoing> = present
            .iter()
            .map(|other| Outgoing {
                to: other.id,
                message: ServerMessage::ParticipantJoined { participant: you.clone() },
            })
            .collect();
        out.push(Outgoing {
            to: who,
            message: ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                you: you.clone(),
                participants: present.clone(),
                ice_servers: self.ice_servers.clone(),
            },
        });
        present.push(you);
        self.membership.insert(who, room);
        out
    }

    fn relay(&mut self, from: ParticipantId, to: ParticipantId, payload: SignalPayload) -> Vec<Outgoing> {
        let Some(room) = self.membership.get(&from) else {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        if to == from || self.membership.get(&to) != Some(room) {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        vec![Outgoing { to, message: ServerMessage::Signal { from, payload } }]
    }

    fn leave(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let Some(room) = self.membership.remove(&who) else {
            return Vec::new();
        };
        let Some(present) = self.rooms.get_mut(&room) else {
            return Vec::new();
        };
        present.retain(|p| p.id != who);
        let out = present
            .iter()
            .map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantLeft { id: who } })
            .collect();
        if present.is_empty() {
            self.rooms.remove(&room);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(c: char) -> RoomSlug {
        RoomSlug::parse(&c.to_string().repeat(RoomSlug::CHARS)).unwrap()
    }

    fn name(n: &str) -> DisplayName {
        DisplayName::parse(n).unwrap()
    }

    fn join(hub: &mut Hub, who: u64, room: char, n: &str) -> Vec<Outgoing> {
        hub.handle(Input::Join { who: ParticipantId(who), version: PROTOCOL_VERSION, room: slug(room), name: name(n) })
    }

    fn offer(sdp: &str) -> SignalPayload {
        SignalPayload::Offer { sdp: sdp.into() }
    }

    fn error_code(out: &[Outgoing]) -> Option<ErrorCode> {
        match out {
            [Outgoing { message: ServerMessage::Error { code, .. }, .. }] => Some(*code),
            _ => None,
        }
    }

    #[test]
    fn the_first_joiner_is_welcomed_into_an_empty_room() {
        let mut hub = Hub::new(vec![]);
        let out = join(&mut hub, 1, 'a', "Ada");
        assert_eq!(
            out,
            vec![Outgoing {
                to: ParticipantId(1),
                message: ServerMessage::Welcome {
                    version: PROTOCOL_VERSION,
                    you: Participant { id: ParticipantId(1), name: name("Ada") },
                    participants: vec![],
                    ice_servers: vec![],
                },
            }]
        );
    }

    #[test]
    fn a_joiner_learns_who_is_there_and_they_learn_of_the_joiner() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        let out = join(&mut hub, 2, 'a', "Bo");
        let bo = Participant { id: ParticipantId(2), name: name("Bo") };
        assert!(out.contains(&Outgoing {
            to: ParticipantId(1),
            message: ServerMessage::ParticipantJoined { participant: bo.clone() },
        }));
        let welcome = out.iter().find(|o| o.to == ParticipantId(2)).unwrap();
        match &welcome.message {
            ServerMessage::Welcome { you, participants, .. } => {
                assert_eq!(you, &bo);
                assert_eq!(participants, &vec![Participant { id: ParticipantId(1), name: name("Ada") }]);
            }
            other => panic!("expected a welcome, got {other:?}"),
        }
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn the_welcome_carries_the_configured_ice_servers() {
        let turn = IceServer { urls: vec!["turn:127.0.0.1:3478".into()], username: Some("u".into()), credential: Some("c".into()) };
        let mut hub = Hub::new(vec![turn.clone()]);
        match &join(&mut hub, 1, 'a', "Ada")[0].message {
            ServerMessage::Welcome { ice_servers, .. } => assert_eq!(ice_servers, &vec![turn]),
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    #[test]
    fn a_signal_goes_only_to_its_addressee_stamped_with_the_real_sender() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        join(&mut hub, 2, 'a', "Bo");
        join(&mut hub, 3, 'a', "Cy");
        let out = hub.handle(Input::Signal { from: ParticipantId(3), to: ParticipantId(1), payload: offer("v=0") });
        assert_eq!(
            out,
            vec![Outgoing { to: ParticipantId(1), message: ServerMessage::Signal { from: ParticipantId(3), payload: offer("v=0") } }]
        );
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
    fn joining_twice_on_one_connection_is_refused() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        assert_eq!(error_code(&join(&mut hub, 1, 'b', "Ada")), Some(ErrorCode::AlreadyJoined));
        assert_eq!(hub.room_size(&slug('b')), 0);
    }

    #[test]
    fn a_wrong_protocol_version_is_refused_as_fatal() {
        let mut hub = Hub::new(vec![]);
        let out = hub.handle(Input::Join { who: ParticipantId(1), version: 0, room: slug('a'), name: name("Ada") });
        let code = error_code(&out).unwrap();
        assert_eq!(code, ErrorCode::UnsupportedVersion);
        assert!(code.is_fatal());
        assert_eq!(hub.room_size(&slug('a')), 0);
    }

    #[test]
    fn a_fifth_participant_is_refused_and_the_others_hear_nothing() {
        let mut hub = Hub::new(vec![]);
        for who in 1..=4 {
            join(&mut hub, who, 'a', "P");
        }
        let out = join(&mut hub, 5, 'a', "Late");
        assert_eq!(error_code(&out), Some(ErrorCode::RoomFull));
        assert_eq!(out[0].to, ParticipantId(5));
        assert_eq!(hub.room_size(&slug('a')), 4);
    }

    #[test]
    fn leaving_tells_the_others_once_and_empties_the_room() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        join(&mut hub, 2, 'a', "Bo");
        let out = hub.handle(Input::Leave { who: ParticipantId(2) });
        assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }]);
        assert!(hub.handle(Input::Leave { who: ParticipantId(2) }).is_empty());
        hub.handle(Input::Leave { who: ParticipantId(1) });
        assert_eq!(hub.active_rooms(), 0);
    }

    #[test]
    fn after_leaving_a_participant_can_no_longer_be_reached() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        join(&mut hub, 2, 'a', "Bo");
        hub.handle(Input::Leave { who: ParticipantId(2) });
        let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(2), payload: offer("x") });
        assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
    }

    #[test]
    fn rooms_are_isolated_from_each_others_joins_and_leaves() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        let out = join(&mut hub, 2, 'b', "Eve");
        assert!(out.iter().all(|o| o.to == ParticipantId(2)));
        let out = hub.handle(Input::Leave { who: ParticipantId(2) });
        assert!(out.is_empty());
    }
}

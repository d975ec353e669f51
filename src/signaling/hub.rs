//! The room state machine behind signaling.
//!
//! Sans-IO: [`Hub::handle`] takes one [`Input`] and returns the messages to
//! send, addressed by participant. It never touches a socket, a clock or the
//! database (time comes in with the inputs), so every rule here is
//! unit-tested by feeding inputs and reading outputs. The invariants it keeps:
//!
//! - a participant is in at most one room, and only after a valid `join`;
//! - a signal reaches exactly the one addressed participant, and only when
//!   both are in the same room; its `from` is the sender's real id;
//! - everyone in a room hears of each join and leave exactly once;
//! - a participant whose connection dropped keeps their place, id and
//!   messages for the grace period; nobody hears of it unless they do not
//!   come back in time.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::domain::{ChatText, DisplayName};
use crate::signaling::protocol::{
    ErrorCode, IceServer, Participant, ParticipantId, ResumeToken, ServerMessage, SignalPayload,
    PROTOCOL_VERSION,
};

/// Which room: the database id of a room, which (unlike its join link)
/// never changes, so rotating the link does not split a call in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub i64);

/// Most participants a full-mesh call carries well.
pub const MESH_LIMIT: usize = 4;
/// How long a participant whose connection dropped keeps their place.
pub const RESUME_GRACE: Duration = Duration::from_secs(30);
/// Messages held for a participant who is away. One more, and their place
/// is given up: they could not catch up anyway.
pub const PARKED_LIMIT: usize = 256;

/// One event for the hub, already authenticated by the adapter: the room
/// exists, the name is the one the server decided on, the token is fresh.
#[derive(Debug, Clone)]
pub enum Input {
    /// `who` asks to enter `room` under `name`. `account` is the signed-in
    /// account behind the connection, if any; only it may resume the place.
    Join { who: ParticipantId, version: u32, room: RoomId, name: DisplayName, account: Option<i64>, token: ResumeToken },
    /// `from` asks to relay `payload` to `to`.
    Signal { from: ParticipantId, to: ParticipantId, payload: SignalPayload },
    /// `from` says `text` to their room, at `at_ms` (Unix milliseconds).
    Chat { from: ParticipantId, text: ChatText, at_ms: u64 },
    /// `who` left on purpose: gone at once. Safe to send more than once.
    Leave { who: ParticipantId },
    /// `who`'s connection dropped without a goodbye at `at`. Their place is
    /// kept until the grace period ends; messages for them are held.
    Drop { who: ParticipantId, at: Instant },
}

/// A message for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: ParticipantId,
    pub message: ServerMessage,
}

/// One participant's place in a room.
#[derive(Debug)]
struct Seat {
    room: RoomId,
    account: Option<i64>,
    token: ResumeToken,
    /// Since when they have had no connection, if they are away.
    away_since: Option<Instant>,
    /// What arrived for them while away, in order.
    parked: Vec<ServerMessage>,
}

/// All rooms with someone in them.
#[derive(Debug)]
pub struct Hub {
    /// Each room's participants, in join order.
    rooms: HashMap<RoomId, Vec<Participant>>,
    seats: HashMap<ParticipantId, Seat>,
    tokens: HashMap<ResumeToken, ParticipantId>,
    ice_servers: Vec<IceServer>,
    room_limit: usize,
    grace: Duration,
}

impl Hub {
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        Self::with_room_size(ice_servers, MESH_LIMIT)
    }

    /// A hub whose rooms take up to `room_size` participants.
    pub fn with_room_size(ice_servers: Vec<IceServer>, room_size: usize) -> Self {
        Self {
            rooms: HashMap::new(),
            seats: HashMap::new(),
            tokens: HashMap::new(),
            ice_servers,
            room_limit: room_size,
            grace: RESUME_GRACE,
        }
    }

    /// The same hub, keeping the places of dropped participants for `grace`.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Applies one input and says who must be told what.
    pub fn handle(&mut self, input: Input) -> Vec<Outgoing> {
        let out = match input {
            Input::Join { who, version, room, name, account, token } => self.join(who, version, room, name, account, token),
            Input::Signal { from, to, payload } => self.relay(from, to, payload),
            Input::Chat { from, text, at_ms } => self.chat(from, text, at_ms),
            Input::Leave { who } => self.leave(who),
            Input::Drop { who, at } => {
                if let Some(seat) = self.seats.get_mut(&who) {
                    seat.away_since.get_or_insert(at);
                }
                Vec::new()
            }
        };
        self.route(out)
    }

    /// A new connection presents `token` at `now`. On success, says whose
    /// place it takes; the messages (addressed to that participant and to
    /// the others) are to be sent either way, since places past their grace
    /// period are given up first.
    pub fn resume(
        &mut self,
        token: &ResumeToken,
        version: u32,
        account: Option<i64>,
        now: Instant,
    ) -> (Result<ParticipantId, ErrorCode>, Vec<Outgoing>) {
        if version != PROTOCOL_VERSION {
            return (Err(ErrorCode::UnsupportedVersion), Vec::new());
        }
        let mut out = self.expire(now);
        let who = match self.tokens.get(token) {
            Some(&who) if self.seats.get(&who).is_some_and(|seat| seat.account == account) => who,
            _ => return (Err(ErrorCode::ResumeRefused), out),
        };
        let Some(seat) = self.seats.get_mut(&who) else { return (Err(ErrorCode::ResumeRefused), out) };
        seat.away_since = None;
        let parked = std::mem::take(&mut seat.parked);
        let present = self.rooms.get(&seat.room).map(Vec::as_slice).unwrap_or_default();
        let Some(you) = present.iter().find(|p| p.id == who).cloned() else {
            return (Err(ErrorCode::ResumeRefused), out);
        };
        let participants: Vec<Participant> = present.iter().filter(|p| p.id != who).cloned().collect();
        let resumed = participants
            .iter()
            .map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantResumed { id: who } })
            .collect();
        out.push(Outgoing { to: who, message: ServerMessage::Resumed { you, participants } });
        out.extend(parked.into_iter().map(|message| Outgoing { to: who, message }));
        out.extend(self.route(resumed));
        (Ok(who), out)
    }

    /// Gives up the places of participants away longer than the grace
    /// period at `now`; the others see them leave.
    pub fn expire(&mut self, now: Instant) -> Vec<Outgoing> {
        let grace = self.grace;
        let gone: Vec<ParticipantId> = self
            .seats
            .iter()
            .filter(|(_, seat)| seat.away_since.is_some_and(|since| now.saturating_duration_since(since) >= grace))
            .map(|(id, _)| *id)
            .collect();
        gone.into_iter().flat_map(|who| self.handle(Input::Leave { who })).collect()
    }

    /// Ends the call in `room` (the room was deleted): everyone in it, away
    /// or not, loses their place; nobody is told (the adapter closes their
    /// connections). Returns who was there.
    pub fn close_room(&mut self, room: RoomId) -> Vec<ParticipantId> {
        let present: Vec<ParticipantId> = self.rooms.remove(&room).unwrap_or_default().into_iter().map(|p| p.id).collect();
        for who in &present {
            if let Some(seat) = self.seats.remove(who) {
                self.tokens.remove(&seat.token);
            }
        }
        present
    }

    /// Number of participants currently in `room`, away or not.
    pub fn room_size(&self, room: &RoomId) -> usize {
        self.rooms.get(room).map_or(0, Vec::len)
    }

    /// Number of rooms with at least one participant.
    pub fn active_rooms(&self) -> usize {
        self.rooms.len()
    }

    /// Whether `who` holds a place in a room (connected or away).
    pub fn is_member(&self, who: ParticipantId) -> bool {
        self.seats.contains_key(&who)
    }

    /// Whether `who` holds a place but has no connection.
    pub fn is_away(&self, who: ParticipantId) -> bool {
        self.seats.get(&who).is_some_and(|seat| seat.away_since.is_some())
    }

    /// Holds back what is addressed to away participants; gives up the place
    /// of anyone whose held messages overflow.
    fn route(&mut self, out: Vec<Outgoing>) -> Vec<Outgoing> {
        let mut now = Vec::with_capacity(out.len());
        let mut overflowed = Vec::new();
        for outgoing in out {
            match self.seats.get_mut(&outgoing.to) {
                Some(seat) if seat.away_since.is_some() => {
                    if seat.parked.len() < PARKED_LIMIT {
                        seat.parked.push(outgoing.message);
                    } else if !overflowed.contains(&outgoing.to) {
                        overflowed.push(outgoing.to);
                    }
                }
                _ => now.push(outgoing),
            }
        }
        for who in overflowed {
            now.extend(self.handle(Input::Leave { who }));
        }
        now
    }

    fn join(
        &mut self,
        who: ParticipantId,
        version: u32,
        room: RoomId,
        name: DisplayName,
        account: Option<i64>,
        token: ResumeToken,
    ) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        if version != PROTOCOL_VERSION {
            return refuse(ErrorCode::UnsupportedVersion);
        }
        if self.seats.contains_key(&who) {
            return refuse(ErrorCode::AlreadyJoined);
        }
        let present = self.rooms.entry(room).or_default();
        if present.len() >= self.room_limit {
            if present.is_empty() {
                self.rooms.remove(&room);
            }
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
                resume_token: token.clone(),
            },
        });
        present.push(you);
        self.tokens.insert(token.clone(), who);
        self.seats.insert(who, Seat { room, account, token, away_since: None, parked: Vec::new() });
        out
    }

    fn relay(&mut self, from: ParticipantId, to: ParticipantId, payload: SignalPayload) -> Vec<Outgoing> {
        let Some(room) = self.seats.get(&from).map(|seat| &seat.room) else {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        if to == from || self.seats.get(&to).map(|seat| &seat.room) != Some(room) {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        vec![Outgoing { to, message: ServerMessage::Signal { from, payload } }]
    }

    fn chat(&mut self, from: ParticipantId, text: ChatText, sent_at_ms: u64) -> Vec<Outgoing> {
        let Some(seat) = self.seats.get(&from) else {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        let present = self.rooms.get(&seat.room).map(Vec::as_slice).unwrap_or_default();
        present
            .iter()
            .map(|p| Outgoing { to: p.id, message: ServerMessage::Chat { from, text: text.clone(), sent_at_ms } })
            .collect()
    }

    fn leave(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let Some(seat) = self.seats.remove(&who) else {
            return Vec::new();
        };
        self.tokens.remove(&seat.token);
        let Some(present) = self.rooms.get_mut(&seat.room) else {
            return Vec::new();
        };
        present.retain(|p| p.id != who);
        // Signals held for away participants from someone now gone would
        // only set up a connection to nobody.
        for other in present.iter() {
            if let Some(seat) = self.seats.get_mut(&other.id) {
                seat.parked.retain(|m| !matches!(m, ServerMessage::Signal { from, .. } if *from == who));
            }
        }
        let out = present
            .iter()
            .map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantLeft { id: who } })
            .collect();
        if present.is_empty() {
            self.rooms.remove(&seat.room);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(c: char) -> RoomId {
        RoomId(c as i64)
    }

    fn name(n: &str) -> DisplayName {
        DisplayName::parse(n).unwrap()
    }

    fn token(who: u64) -> ResumeToken {
        ResumeToken(format!("token-of-{who}"))
    }

    fn join(hub: &mut Hub, who: u64, room: char, n: &str) -> Vec<Outgoing> {
        hub.handle(Input::Join {
            who: ParticipantId(who),
            version: PROTOCOL_VERSION,
            room: slug(room),
            name: name(n),
            account: None,
            token: token(who),
        })
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
                    resume_token: token(1),
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
        let out = hub.handle(Input::Join {
            who: ParticipantId(1),
            version: 0,
            room: slug('a'),
            name: name("Ada"),
            account: None,
            token: token(1),
        });
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

    fn drop_at(hub: &mut Hub, who: u64, at: Instant) -> Vec<Outgoing> {
        hub.handle(Input::Drop { who: ParticipantId(who), at })
    }

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
                    you: Participant { id: ParticipantId(2), name: name("Bo") },
                    participants: vec![
                        Participant { id: ParticipantId(1), name: name("Ada") },
                        Participant { id: ParticipantId(3), name: name("Cy") },
                    ],
                },
            }
        );
        let mut told: Vec<_> = out[1..].to_vec();
        told.sort_by_key(|o| o.to);
        assert_eq!(
            told,
            [1, 3]
                .map(|to| Outgoing { to: ParticipantId(to), message: ServerMessage::ParticipantResumed { id: ParticipantId(2) } })
                .to_vec()
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
        hub.handle(Input::Join {
            who: ParticipantId(1),
            version: PROTOCOL_VERSION,
            room: slug('a'),
            name: name("Host"),
            account: Some(7),
            token: token(1),
        });
        drop_at(&mut hub, 1, t0);
        assert_eq!(hub.resume(&ResumeToken("guess".into()), PROTOCOL_VERSION, Some(7), t0).0, Err(ErrorCode::ResumeRefused));
        assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, None, t0).0, Err(ErrorCode::ResumeRefused));
        assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, Some(8), t0).0, Err(ErrorCode::ResumeRefused));
        assert_eq!(hub.resume(&token(1), 0, Some(7), t0).0, Err(ErrorCode::UnsupportedVersion));
        assert!(hub.is_away(ParticipantId(1)), "refused attempts change nothing");
        assert_eq!(hub.resume(&token(1), PROTOCOL_VERSION, Some(7), t0).0, Ok(ParticipantId(1)));
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

    fn chat(text: &str) -> ChatText {
        ChatText::parse(text).unwrap()
    }

    #[test]
    fn a_chat_message_reaches_everyone_in_the_room_and_only_them() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        join(&mut hub, 2, 'a', "Bo");
        join(&mut hub, 3, 'b', "Eve");
        let out = hub.handle(Input::Chat { from: ParticipantId(2), text: chat("hello"), at_ms: 42 });
        let message = ServerMessage::Chat { from: ParticipantId(2), text: chat("hello"), sent_at_ms: 42 };
        assert_eq!(
            out,
            vec![Outgoing { to: ParticipantId(1), message: message.clone() }, Outgoing { to: ParticipantId(2), message }]
        );
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
        assert!(out.iter().any(|o| o.to == ParticipantId(2) && matches!(&o.message, ServerMessage::Chat { text, .. } if text.as_str() == "are you there?")));
    }

    #[test]
    fn closing_a_room_ends_every_place_in_it_and_only_there() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        join(&mut hub, 2, 'a', "Bo");
        join(&mut hub, 3, 'b', "Eve");
        drop_at(&mut hub, 2, Instant::now());
        let mut gone = hub.close_room(slug('a'));
        gone.sort();
        assert_eq!(gone, [ParticipantId(1), ParticipantId(2)]);
        assert_eq!(hub.room_size(&slug('a')), 0);
        assert!(!hub.is_member(ParticipantId(2)));
        assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused));
        assert_eq!(hub.room_size(&slug('b')), 1);
    }
}

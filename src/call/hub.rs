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

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::call::protocol::{
    CallRules, ErrorCode, IceServer, MediaState, Participant, ParticipantId, ResumeToken, ServerMessage, SignalPayload, WaitingGuest,
    PROTOCOL_VERSION,
};
use crate::call::MESH_LIMIT;
use crate::domain::{AccountId, ChatText, DisplayName};

/// Which room: the database id of a room, which (unlike its join link)
/// never changes, so rotating the link does not split a call in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub i64);

/// How long a participant whose connection dropped keeps their place.
pub const RESUME_GRACE: Duration = Duration::from_secs(30);
/// Messages held for a participant who is away. One more, and their place
/// is given up: they could not catch up anyway.
pub const PARKED_LIMIT: usize = 256;
/// Most guests one room's lobby holds.
pub const LOBBY_LIMIT: usize = 50;

/// One event for the hub, already authenticated by the adapter: the room
/// exists, the name is the one the server decided on, the token is fresh.
#[derive(Debug, Clone)]
pub enum Input {
    /// `who` asks to enter `room` under `name`. `account` is the signed-in
    /// account behind the connection, if any; only it may resume the place.
    /// `host`: it is the room's own host. `lobby`: guests wait to be let in.
    /// `at_ms`: now, in Unix milliseconds.
    Join {
        who: ParticipantId,
        version: u32,
        room: RoomId,
        name: DisplayName,
        account: Option<AccountId>,
        token: ResumeToken,
        host: bool,
        lobby: bool,
        at_ms: u64,
        /// The room's own settings for its call.
        rules: RoomRules,
    },
    /// Host `by` lets waiting guest `who` in, or everyone waiting if `None`.
    Admit { by: ParticipantId, who: Option<ParticipantId> },
    /// Host `by` turns waiting guest `who` away.
    Deny { by: ParticipantId, who: ParticipantId },
    /// Host `by` acts on the call.
    Host { by: ParticipantId, action: HostAction },
    /// `who` raises or lowers their hand.
    Hand { who: ParticipantId, raised: bool },
    /// `who` says what they send now.
    Media { who: ParticipantId, state: MediaState },
    /// `from` asks to relay `payload` to `to`.
    Signal { from: ParticipantId, to: ParticipantId, payload: SignalPayload },
    /// `from` says `text` to their room, at `at_ms` (Unix milliseconds). A
    /// guest still waiting says it to the host alone.
    Chat { from: ParticipantId, text: ChatText, at_ms: u64 },
    /// Host `by` says `text` to waiting guest `guest`.
    LobbyChat { by: ParticipantId, guest: ParticipantId, text: ChatText, at_ms: u64 },
    /// `who` left on purpose: gone at once. Safe to send more than once.
    Leave { who: ParticipantId },
    /// `who`'s connection dropped without a goodbye at `at`. Their place is
    /// kept until the grace period ends; messages for them are held.
    Drop { who: ParticipantId, at: Instant },
}

/// What a host may do to the call (ending it is the adapter's, since it
/// closes connections: see [`Hub::close_room`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAction {
    Mute(ParticipantId),
    MuteAll,
    Remove(ParticipantId),
    Lock(bool),
    LowerHand(ParticipantId),
    /// Let a guest unmute themselves where guests may not.
    LetSpeak(ParticipantId),
}

/// A room's own settings for its call, as the `join` that opened it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomRules {
    /// The room's own cap on its call (never above the hub's).
    pub limit: usize,
    /// The host may let companions in one by one past `limit`, up to the
    /// hub's cap (a consultation: two, and whoever the host chooses).
    pub companions: bool,
    /// What guests may do. Its `relay_only` holds for the host too.
    pub guests: CallRules,
    /// The call's chat is kept: each message is also a [`Record::Said`].
    pub keep_chat: bool,
}

impl Default for RoomRules {
    fn default() -> Self {
        Self { limit: usize::MAX, companions: false, guests: CallRules::OPEN, keep_chat: false }
    }
}

/// Something worth keeping beyond the call: who came and went (for the
/// attendance list) and what the host did (for the audit log). The hub notes
/// them; the adapter takes them with [`Hub::take_records`] and stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `who` entered `room`'s call.
    Entered { who: ParticipantId, room: RoomId, name: DisplayName, account: Option<AccountId>, host: bool },
    /// `who` left the call (on purpose, removed, expired, or the call ended).
    Left { who: ParticipantId },
    /// `who` came back after a dropped connection: the same stay.
    Reconnected { who: ParticipantId },
    /// The host `by` did `what` (`admit`, `deny`, `remove`, `lock`,
    /// `unlock`) in `room`, to `target`.
    HostDid { by: ParticipantId, room: RoomId, what: &'static str, target: Option<ParticipantId> },
    /// `name` said `text` in `room`'s call, which keeps its chat.
    Said { room: RoomId, name: DisplayName, host: bool, text: ChatText },
}

/// Who is joining, as [`Input::Join`] says.
#[derive(Debug)]
struct Entry {
    name: DisplayName,
    account: Option<AccountId>,
    token: ResumeToken,
    host: bool,
    /// The room has a lobby.
    lobby: bool,
    at_ms: u64,
    rules: RoomRules,
}

/// A message for one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: ParticipantId,
    pub message: ServerMessage,
}

/// Counts of the hub's people, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Census {
    pub calls: usize,
    pub in_calls: usize,
    pub waiting: usize,
}

/// One participant's place in a room.
#[derive(Debug)]
struct Seat {
    room: RoomId,
    account: Option<AccountId>,
    token: ResumeToken,
    /// Since when they have had no connection, if they are away.
    away_since: Option<Instant>,
    /// What arrived for them while away, in order.
    parked: Vec<ServerMessage>,
    /// The room's own host.
    host: bool,
    /// In the call; `false` while waiting in the lobby.
    admitted: bool,
    /// The host let this guest unmute themselves, where guests may not.
    may_speak: bool,
    /// What they said they send; `None` until they say.
    media: Option<MediaState>,
    /// Whether the room kept its chat when they joined (what their page
    /// told them): only then are their words kept.
    keeps_chat: bool,
}

/// All rooms with someone in them.
#[derive(Debug)]
pub struct Hub {
    /// Each room's participants in the call, in join order.
    rooms: HashMap<RoomId, Vec<Participant>>,
    /// Each room's guests waiting to be let in, longest first.
    lobbies: HashMap<RoomId, Vec<WaitingGuest>>,
    /// Rooms whose host locked them.
    locked: HashSet<RoomId>,
    /// Raised hands per room, in the order they went up.
    hands: HashMap<RoomId, Vec<ParticipantId>>,
    /// Records not yet taken by the adapter.
    journal: Vec<Record>,
    /// Each room's own settings, as its last `join` said.
    settings: HashMap<RoomId, RoomRules>,
    seats: HashMap<ParticipantId, Seat>,
    tokens: HashMap<ResumeToken, ParticipantId>,
    ice_servers: Vec<IceServer>,
    room_limit: usize,
    grace: Duration,
    /// Rooms whose hosts were just sent the waiting list because a guest
    /// came or went; `true` if it changed again since. Further knocks wait
    /// for the next tick (`expire`), so a flood of knocks sends one list a
    /// tick, not one per knock.
    lobby_cooling: HashMap<RoomId, bool>,
}

impl Hub {
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        Self::with_room_size(ice_servers, MESH_LIMIT)
    }

    /// A hub whose rooms take up to `room_size` participants.
    pub fn with_room_size(ice_servers: Vec<IceServer>, room_size: usize) -> Self {
        Self {
            rooms: HashMap::new(),
            lobbies: HashMap::new(),
            locked: HashSet::new(),
            hands: HashMap::new(),
            journal: Vec::new(),
            settings: HashMap::new(),
            seats: HashMap::new(),
            tokens: HashMap::new(),
            ice_servers,
            room_limit: room_size,
            grace: RESUME_GRACE,
            lobby_cooling: HashMap::new(),
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
            Input::Join { who, version, room, name, account, token, host, lobby, at_ms, rules } => {
                self.join(who, version, room, Entry { name, account, token, host, lobby, at_ms, rules })
            }
            Input::Admit { by, who } => self.admit(by, who),
            Input::Deny { by, who } => self.deny(by, who),
            Input::Host { by, action } => self.host_action(by, action),
            Input::Hand { who, raised } => self.hand(who, raised),
            Input::Media { who, state } => self.media(who, state),
            Input::Signal { from, to, payload } => self.relay(from, to, payload),
            Input::Chat { from, text, at_ms } => self.chat(from, text, at_ms),
            Input::LobbyChat { by, guest, text, at_ms } => self.lobby_chat(by, guest, text, at_ms),
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
        account: Option<AccountId>,
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
        if !seat.admitted {
            // Still waiting: still nothing about the room.
            out.push(Outgoing { to: who, message: ServerMessage::Waiting { resume_token: token.clone() } });
            out.extend(parked.into_iter().map(|message| Outgoing { to: who, message }));
            return (Ok(who), out);
        }
        let (room, host) = (seat.room, seat.host);
        self.journal.push(Record::Reconnected { who });
        let rules = self.rules_for(who);
        let present = self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default();
        let Some(you) = present.iter().find(|p| p.id == who).cloned() else {
            return (Err(ErrorCode::ResumeRefused), out);
        };
        let participants: Vec<Participant> = present.iter().filter(|p| p.id != who).cloned().collect();
        let resumed = participants.iter().map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantResumed { id: who } }).collect();
        out.push(Outgoing { to: who, message: ServerMessage::Resumed { you, participants, rules } });
        out.extend(parked.into_iter().map(|message| Outgoing { to: who, message }));
        if host && self.lobbies.contains_key(&room) {
            out.push(Outgoing { to: who, message: self.lobby_message(room) });
        }
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
        let mut out: Vec<Outgoing> = gone.into_iter().flat_map(|who| self.handle(Input::Leave { who })).collect();
        let flushed = self.flush_lobbies();
        out.extend(self.route(flushed));
        out
    }

    /// Ends the call in `room` (the room was deleted): everyone in it, away
    /// or not, loses their place; nobody is told (the adapter closes their
    /// connections). Returns who was there.
    pub fn close_room(&mut self, room: RoomId) -> Vec<ParticipantId> {
        self.locked.remove(&room);
        self.hands.remove(&room);
        let mut present: Vec<ParticipantId> = self.rooms.remove(&room).unwrap_or_default().into_iter().map(|p| p.id).collect();
        self.journal.extend(present.iter().map(|&who| Record::Left { who }));
        present.extend(self.lobbies.remove(&room).unwrap_or_default().into_iter().map(|w| w.id));
        self.settings.remove(&room);
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

    /// How many calls are under way, how many people are in them (away or
    /// not), and how many guests wait in lobbies.
    pub fn census(&self) -> Census {
        Census { calls: self.rooms.len(), in_calls: self.rooms.values().map(Vec::len).sum(), waiting: self.lobbies.values().map(Vec::len).sum() }
    }

    /// The records noted since the last call.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.journal)
    }

    /// The room `who` holds a place in, if any.
    pub fn room_of(&self, who: ParticipantId) -> Option<RoomId> {
        self.seats.get(&who).map(|seat| seat.room)
    }

    /// Whether `who` holds a place in a room (connected or away).
    pub fn is_member(&self, who: ParticipantId) -> bool {
        self.seats.contains_key(&who)
    }

    /// Whether `who` is in a call (not waiting in a lobby).
    pub fn is_admitted(&self, who: ParticipantId) -> bool {
        self.seats.get(&who).is_some_and(|seat| seat.admitted)
    }

    /// The ICE servers every participant gets (TURN credentials are added
    /// per participant by the adapter).
    pub fn ice_servers(&self) -> &[IceServer] {
        &self.ice_servers
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

    fn join(&mut self, who: ParticipantId, version: u32, room: RoomId, entry: Entry) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        if version != PROTOCOL_VERSION {
            return refuse(ErrorCode::UnsupportedVersion);
        }
        if self.seats.contains_key(&who) {
            return refuse(ErrorCode::AlreadyJoined);
        }
        let Entry { name, account, token, host, lobby, at_ms, rules } = entry;
        let keeps_chat = rules.keep_chat;
        // The first join sets them; a call under way keeps them until
        // nobody is in the room or its lobby (see `forget_if_idle`).
        self.settings.entry(room).or_insert(rules);
        if self.locked.contains(&room) && !host {
            return refuse(ErrorCode::RoomLocked);
        }
        let wait = lobby && !host;
        let seat = Seat {
            room,
            account,
            token: token.clone(),
            away_since: None,
            parked: Vec::new(),
            host,
            admitted: !wait,
            may_speak: false,
            media: None,
            keeps_chat,
        };
        if wait {
            let lobby = self.lobbies.entry(room).or_default();
            if lobby.len() >= LOBBY_LIMIT {
                return refuse(ErrorCode::RoomFull);
            }
            lobby.push(WaitingGuest { id: who, name, since_ms: at_ms });
            self.tokens.insert(token.clone(), who);
            self.seats.insert(who, seat);
            let mut out = vec![Outgoing { to: who, message: ServerMessage::Waiting { resume_token: token } }];
            out.extend(self.lobby_changed(room));
            return out;
        }
        if self.rooms.get(&room).map_or(0, Vec::len) >= self.limit_of(room) {
            return refuse(ErrorCode::RoomFull);
        }
        self.tokens.insert(token.clone(), who);
        self.seats.insert(who, seat);
        let mut out = self.enter(room, Participant { id: who, name, host }, token);
        // The host of a lobby room learns who waits (even nobody).
        if host && (lobby || self.lobbies.contains_key(&room)) {
            out.push(Outgoing { to: who, message: self.lobby_message(room) });
        }
        out
    }

    /// `you` enters the call in `room`: welcomed, and announced to those
    /// already in it.
    fn enter(&mut self, room: RoomId, you: Participant, token: ResumeToken) -> Vec<Outgoing> {
        let (account, host) = self.seats.get(&you.id).map_or((None, false), |s| (s.account, s.host));
        let rules = self.rules_for(you.id);
        self.journal.push(Record::Entered { who: you.id, room, name: you.name.clone(), account, host });
        let present = self.rooms.entry(room).or_default();
        let mut out: Vec<Outgoing> =
            present.iter().map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantJoined { participant: you.clone() } }).collect();
        out.push(Outgoing {
            to: you.id,
            message: ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                you: you.clone(),
                participants: present.clone(),
                ice_servers: self.ice_servers.clone(),
                resume_token: token,
                rules,
            },
        });
        let joiner = you.id;
        present.push(you);
        if self.locked.contains(&room) {
            out.push(Outgoing { to: joiner, message: ServerMessage::RoomLocked { locked: true } });
        }
        if let Some(raised) = self.hands.get(&room).filter(|h| !h.is_empty()) {
            out.push(Outgoing { to: joiner, message: ServerMessage::Hands { raised: raised.clone() } });
        }
        for id in self.everyone_in(room).into_iter().filter(|id| *id != joiner) {
            if let Some(state) = self.seats.get(&id).and_then(|seat| seat.media.clone()) {
                out.push(Outgoing { to: joiner, message: ServerMessage::Media { id, state } });
            }
        }
        out
    }

    /// How many `room`'s call takes.
    fn limit_of(&self, room: RoomId) -> usize {
        self.settings.get(&room).map_or(self.room_limit, |rules| rules.limit.min(self.room_limit))
    }

    /// What `who` may do in their call: everything for the host, the room's
    /// guest rules for a guest (unmuting too, once the host let them speak).
    fn rules_for(&self, who: ParticipantId) -> CallRules {
        let Some(seat) = self.seats.get(&who) else { return CallRules::OPEN };
        let mut rules = self.settings.get(&seat.room).map_or(CallRules::OPEN, |r| r.guests);
        if seat.host {
            return CallRules { relay_only: rules.relay_only, ..CallRules::OPEN };
        }
        rules.may_unmute |= seat.may_speak;
        rules
    }

    /// Whether `who` is the host of a room and in its call; the room if so.
    pub fn host_room(&self, who: ParticipantId) -> Result<RoomId, ErrorCode> {
        match self.seats.get(&who) {
            Some(seat) if seat.host && seat.admitted => Ok(seat.room),
            Some(_) => Err(ErrorCode::NotHost),
            None => Err(ErrorCode::NotJoined),
        }
    }

    fn admit(&mut self, by: ParticipantId, who: Option<ParticipantId>) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let waiting: Vec<ParticipantId> = self.lobbies.get(&room).map_or_else(Vec::new, |l| l.iter().map(|w| w.id).collect());
        let chosen: Vec<ParticipantId> = match who {
            Some(who) if waiting.contains(&who) => vec![who],
            Some(_) => return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }],
            None => waiting,
        };
        // One companion at a time may go past a consultation's size.
        let companions = who.is_some() && self.settings.get(&room).is_some_and(|r| r.companions);
        let limit = if companions { self.room_limit } else { self.limit_of(room) };
        let mut out = Vec::new();
        for guest in chosen {
            if self.rooms.get(&room).map_or(0, Vec::len) >= limit {
                out.push(Outgoing { to: by, message: ServerMessage::error(ErrorCode::NoRoomToAdmit) });
                break;
            }
            let Some(lobby) = self.lobbies.get_mut(&room) else { break };
            let Some(at) = lobby.iter().position(|w| w.id == guest) else { continue };
            let entry = lobby.remove(at);
            let Some(seat) = self.seats.get_mut(&guest) else { continue };
            seat.admitted = true;
            let token = seat.token.clone();
            self.journal.push(Record::HostDid { by, room, what: "admit", target: Some(guest) });
            out.extend(self.enter(room, Participant { id: guest, name: entry.name, host: false }, token));
        }
        self.drop_empty_lobby(room);
        out.extend(self.tell_hosts(room));
        out
    }

    fn deny(&mut self, by: ParticipantId, who: ParticipantId) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let Some(lobby) = self.lobbies.get_mut(&room) else {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        };
        let Some(at) = lobby.iter().position(|w| w.id == who) else {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        };
        lobby.remove(at);
        self.drop_empty_lobby(room);
        if let Some(seat) = self.seats.remove(&who) {
            self.tokens.remove(&seat.token);
        }
        self.journal.push(Record::HostDid { by, room, what: "deny", target: Some(who) });
        let mut out = vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::Denied) }];
        out.extend(self.tell_hosts(room));
        out
    }

    fn host_action(&mut self, by: ParticipantId, action: HostAction) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let in_call = |hub: &Self, who: ParticipantId| hub.seats.get(&who).is_some_and(|s| s.room == room && s.admitted);
        let unknown = || vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        match action {
            HostAction::Mute(who) if who != by && in_call(self, who) => self.mute(who),
            HostAction::MuteAll => {
                let others: Vec<ParticipantId> = self.everyone_in(room).into_iter().filter(|&p| p != by).collect();
                others.into_iter().flat_map(|who| self.mute(who)).collect()
            }
            HostAction::LetSpeak(who) if who != by && in_call(self, who) => {
                let Some(seat) = self.seats.get_mut(&who) else { return unknown() };
                let granted = !seat.may_speak;
                seat.may_speak = true;
                let mut out = if granted {
                    self.journal.push(Record::HostDid { by, room, what: "let_speak", target: Some(who) });
                    vec![Outgoing { to: who, message: ServerMessage::MayUnmute { allowed: true } }]
                } else {
                    Vec::new()
                };
                out.extend(self.set_hand(room, who, false));
                out
            }
            HostAction::Remove(who) if who != by && self.seats.get(&who).is_some_and(|s| s.room == room) => {
                self.journal.push(Record::HostDid { by, room, what: "remove", target: Some(who) });
                let mut out = vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::Removed) }];
                out.extend(self.leave(who));
                out
            }
            HostAction::Lock(locked) => {
                let changed = if locked { self.locked.insert(room) } else { self.locked.remove(&room) };
                if !changed {
                    return Vec::new();
                }
                self.journal.push(Record::HostDid { by, room, what: if locked { "lock" } else { "unlock" }, target: None });
                tell(self.everyone_in(room), ServerMessage::RoomLocked { locked })
            }
            HostAction::LowerHand(who) => self.set_hand(room, who, false),
            HostAction::Mute(_) | HostAction::Remove(_) | HostAction::LetSpeak(_) => unknown(),
        }
    }

    /// The host turns `who`'s microphone off. Where guests may not unmute
    /// themselves, a guest the host had let speak must ask again.
    fn mute(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let mut out = vec![Outgoing { to: who, message: ServerMessage::MutedByHost }];
        let guests_may_unmute = self.rules_of_room(who).is_none_or(|r| r.guests.may_unmute);
        if let Some(seat) = self.seats.get_mut(&who).filter(|s| s.may_speak && !guests_may_unmute) {
            seat.may_speak = false;
            out.push(Outgoing { to: who, message: ServerMessage::MayUnmute { allowed: false } });
        }
        out
    }

    /// The settings of the room `who` is in.
    fn rules_of_room(&self, who: ParticipantId) -> Option<RoomRules> {
        self.seats.get(&who).and_then(|seat| self.settings.get(&seat.room)).copied()
    }

    fn hand(&mut self, who: ParticipantId, raised: bool) -> Vec<Outgoing> {
        match self.seats.get(&who) {
            None => vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotJoined) }],
            Some(seat) if !seat.admitted => vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotAdmitted) }],
            Some(seat) => {
                let room = seat.room;
                self.set_hand(room, who, raised)
            }
        }
    }

    /// `who` sends something else now: the others in the call hear of it.
    fn media(&mut self, who: ParticipantId, state: MediaState) -> Vec<Outgoing> {
        let may_share = self.rules_for(who).may_share_screen;
        let Some(seat) = self.seats.get_mut(&who) else {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        if !seat.admitted {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotAdmitted) }];
        }
        if state.screen.is_some() && !may_share {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::ScreenShareNotAllowed) }];
        }
        if seat.media.as_ref() == Some(&state) {
            return Vec::new();
        }
        seat.media = Some(state.clone());
        let room = seat.room;
        let others = self.everyone_in(room).into_iter().filter(|p| *p != who);
        tell(others, ServerMessage::Media { id: who, state })
    }

    /// Raises or lowers `who`'s hand in `room`; everyone in the call hears
    /// the new queue if it changed.
    fn set_hand(&mut self, room: RoomId, who: ParticipantId, raised: bool) -> Vec<Outgoing> {
        let queue = self.hands.entry(room).or_default();
        let had = queue.contains(&who);
        match (raised, had) {
            (true, false) => queue.push(who),
            (false, true) => queue.retain(|p| *p != who),
            _ => return Vec::new(),
        }
        let raised = queue.clone();
        if raised.is_empty() {
            self.hands.remove(&room);
        }
        tell(self.everyone_in(room), ServerMessage::Hands { raised })
    }

    /// Everyone in `room`'s call.
    fn everyone_in(&self, room: RoomId) -> Vec<ParticipantId> {
        self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default().iter().map(|p| p.id).collect()
    }

    fn drop_empty_lobby(&mut self, room: RoomId) {
        if self.lobbies.get(&room).is_some_and(Vec::is_empty) {
            self.lobbies.remove(&room);
        }
        self.forget_if_idle(room);
    }

    /// Forgets `room`'s cap once nobody is in its call or its lobby.
    fn forget_if_idle(&mut self, room: RoomId) {
        if !self.rooms.contains_key(&room) && !self.lobbies.contains_key(&room) {
            self.settings.remove(&room);
        }
    }

    /// The lobby of `room` as its host sees it.
    fn lobby_message(&self, room: RoomId) -> ServerMessage {
        ServerMessage::Lobby { waiting: self.lobbies.get(&room).cloned().unwrap_or_default() }
    }

    /// Tells the hosts in `room`'s call who is waiting now.
    fn tell_hosts(&mut self, room: RoomId) -> Vec<Outgoing> {
        // Whatever was pending is in this list.
        if let Some(pending) = self.lobby_cooling.get_mut(&room) {
            *pending = false;
        }
        tell(self.hosts_in(room), self.lobby_message(room))
    }

    /// A guest came to or left `room`'s lobby: the hosts hear at once,
    /// unless they just did; then with the next tick.
    fn lobby_changed(&mut self, room: RoomId) -> Vec<Outgoing> {
        match self.lobby_cooling.get_mut(&room) {
            Some(pending) => {
                *pending = true;
                Vec::new()
            }
            None => {
                self.lobby_cooling.insert(room, false);
                self.tell_hosts(room)
            }
        }
    }

    /// The tick: rooms whose lobby changed while cooling send their list
    /// now; the others cool down.
    fn flush_lobbies(&mut self) -> Vec<Outgoing> {
        let pending: Vec<RoomId> = self.lobby_cooling.iter().filter(|(_, pending)| **pending).map(|(room, _)| *room).collect();
        self.lobby_cooling.retain(|_, pending| *pending);
        pending.into_iter().flat_map(|room| self.tell_hosts(room)).collect()
    }

    fn relay(&mut self, from: ParticipantId, to: ParticipantId, payload: SignalPayload) -> Vec<Outgoing> {
        let room = match self.seats.get(&from) {
            None => return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }],
            Some(seat) if !seat.admitted => return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotAdmitted) }],
            Some(seat) => seat.room,
        };
        if to == from || !self.seats.get(&to).is_some_and(|seat| seat.admitted && seat.room == room) {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        vec![Outgoing { to, message: ServerMessage::Signal { from, payload } }]
    }

    fn chat(&mut self, from: ParticipantId, text: ChatText, sent_at_ms: u64) -> Vec<Outgoing> {
        let Some(seat) = self.seats.get(&from) else {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        let (room, host, keeps_chat) = (seat.room, seat.host, seat.keeps_chat);
        if !seat.admitted {
            // Waiting: a word for the host alone, if one is here to read it.
            let hosts = self.hosts_in(room);
            if hosts.is_empty() {
                return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::HostAway) }];
            }
            let message = ServerMessage::LobbyChat { guest: from, from_host: false, text, sent_at_ms };
            return tell(hosts.into_iter().chain([from]), message);
        }
        let present = self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default();
        // Kept only if the speaker was told, on joining, that it is.
        if keeps_chat {
            if let Some(you) = present.iter().find(|p| p.id == from) {
                self.journal.push(Record::Said { room, name: you.name.clone(), host, text: text.clone() });
            }
        }
        present.iter().map(|p| Outgoing { to: p.id, message: ServerMessage::Chat { from, text: text.clone(), sent_at_ms } }).collect()
    }

    /// Host `by` says `text` to `guest`, who waits in the lobby: the guest
    /// and every host in the call see it, nobody else.
    fn lobby_chat(&mut self, by: ParticipantId, guest: ParticipantId, text: ChatText, sent_at_ms: u64) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        if !self.lobbies.get(&room).is_some_and(|l| l.iter().any(|w| w.id == guest)) {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        let message = ServerMessage::LobbyChat { guest, from_host: true, text, sent_at_ms };
        tell(self.hosts_in(room).into_iter().chain([guest]), message)
    }

    /// The hosts in `room`'s call.
    fn hosts_in(&self, room: RoomId) -> Vec<ParticipantId> {
        self.everyone_in(room).into_iter().filter(|p| self.seats.get(p).is_some_and(|seat| seat.host)).collect()
    }

    fn leave(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let Some(seat) = self.seats.remove(&who) else {
            return Vec::new();
        };
        self.tokens.remove(&seat.token);
        if !seat.admitted {
            if let Some(lobby) = self.lobbies.get_mut(&seat.room) {
                lobby.retain(|w| w.id != who);
            }
            self.drop_empty_lobby(seat.room);
            return self.lobby_changed(seat.room);
        }
        self.journal.push(Record::Left { who });
        let Some(present) = self.rooms.get_mut(&seat.room) else {
            return Vec::new();
        };
        present.retain(|p| p.id != who);
        let room = seat.room;
        // Signals held for away participants from someone now gone would
        // only set up a connection to nobody.
        for other in present.iter() {
            if let Some(seat) = self.seats.get_mut(&other.id) {
                seat.parked.retain(|m| !matches!(m, ServerMessage::Signal { from, .. } if *from == who));
            }
        }
        let mut out: Vec<Outgoing> =
            present.iter().map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantLeft { id: who } }).collect();
        if present.is_empty() {
            // The call is over: a later one starts unlocked, hands down.
            self.rooms.remove(&room);
            self.locked.remove(&room);
            self.hands.remove(&room);
            self.forget_if_idle(room);
        } else {
            out.extend(self.set_hand(room, who, false));
        }
        out
    }
}

/// `message` for each of `to`.
fn tell(to: impl IntoIterator<Item = ParticipantId>, message: ServerMessage) -> Vec<Outgoing> {
    to.into_iter().map(|to| Outgoing { to, message: message.clone() }).collect()
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
            host: false,
            lobby: false,
            at_ms: 0,
            rules: RoomRules::default(),
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
                    you: Participant { id: ParticipantId(1), name: name("Ada"), host: false },
                    participants: vec![],
                    ice_servers: vec![],
                    resume_token: token(1),
                    rules: CallRules::OPEN,
                },
            }]
        );
    }

    #[test]
    fn a_joiner_learns_who_is_there_and_they_learn_of_the_joiner() {
        let mut hub = Hub::new(vec![]);
        join(&mut hub, 1, 'a', "Ada");
        let out = join(&mut hub, 2, 'a', "Bo");
        let bo = Participant { id: ParticipantId(2), name: name("Bo"), host: false };
        assert!(out.contains(&Outgoing { to: ParticipantId(1), message: ServerMessage::ParticipantJoined { participant: bo.clone() } }));
        let welcome = out.iter().find(|o| o.to == ParticipantId(2)).unwrap();
        match &welcome.message {
            ServerMessage::Welcome { you, participants, .. } => {
                assert_eq!(you, &bo);
                assert_eq!(participants, &vec![Participant { id: ParticipantId(1), name: name("Ada"), host: false }]);
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
        assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::Signal { from: ParticipantId(3), payload: offer("v=0") } }]);
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
            host: false,
            lobby: false,
            at_ms: 0,
            rules: RoomRules::default(),
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
                    you: Participant { id: ParticipantId(2), name: name("Bo"), host: false },
                    participants: vec![
                        Participant { id: ParticipantId(1), name: name("Ada"), host: false },
                        Participant { id: ParticipantId(3), name: name("Cy"), host: false },
                    ],
                    rules: CallRules::OPEN,
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
        hub.handle(Input::Join {
            who: ParticipantId(1),
            version: PROTOCOL_VERSION,
            room: slug('a'),
            name: name("Host"),
            account: Some(AccountId(7)),
            token: token(1),
            host: false,
            lobby: false,
            at_ms: 0,
            rules: RoomRules::default(),
        });
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
        assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: message.clone() }, Outgoing { to: ParticipantId(2), message }]);
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
        assert!(out
            .iter()
            .any(|o| o.to == ParticipantId(2) && matches!(&o.message, ServerMessage::Chat { text, .. } if text.as_str() == "are you there?")));
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

    fn enter(hub: &mut Hub, who: u64, n: &str, host: bool, lobby: bool) -> Vec<Outgoing> {
        hub.handle(Input::Join {
            who: ParticipantId(who),
            version: PROTOCOL_VERSION,
            room: slug('a'),
            name: name(n),
            account: None,
            token: token(who),
            host,
            lobby,
            at_ms: 1000 + who,
            rules: RoomRules::default(),
        })
    }

    fn waiting_ids(message: &ServerMessage) -> Vec<u64> {
        match message {
            ServerMessage::Lobby { waiting } => waiting.iter().map(|w| w.id.0).collect(),
            other => panic!("expected a lobby update, got {other:?}"),
        }
    }

    #[test]
    fn a_guest_in_a_lobby_room_waits_and_learns_nothing_while_the_host_learns_of_them() {
        let mut hub = Hub::new(vec![]);
        let out = enter(&mut hub, 1, "Host", true, true);
        assert!(matches!(out[0].message, ServerMessage::Welcome { .. }));
        assert_eq!(waiting_ids(&out[1].message), Vec::<u64>::new());
        enter(&mut hub, 2, "Companion", false, false); // admitted directly: lobby off for them
        let out = enter(&mut hub, 3, "Pat", false, true);
        assert_eq!(out[0], Outgoing { to: ParticipantId(3), message: ServerMessage::Waiting { resume_token: token(3) } });
        // Only the host hears of the knock; the companion does not.
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].to, ParticipantId(1));
        assert_eq!(waiting_ids(&out[1].message), [3]);
        // Nothing from the call reaches the waiting guest.
        let out = hub.handle(Input::Chat { from: ParticipantId(1), text: chat("private"), at_ms: 0 });
        assert!(out.iter().all(|o| o.to != ParticipantId(3)));
        let out = hub.handle(Input::Signal { from: ParticipantId(1), to: ParticipantId(3), payload: offer("x") });
        assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
        // And the guest can do nothing in it; what they write reaches the
        // host alone (and comes back to them), never the companion.
        let out = hub.handle(Input::Chat { from: ParticipantId(3), text: chat("hello?"), at_ms: 0 });
        let word = ServerMessage::LobbyChat { guest: ParticipantId(3), from_host: false, text: chat("hello?"), sent_at_ms: 0 };
        assert_eq!(out, [Outgoing { to: ParticipantId(1), message: word.clone() }, Outgoing { to: ParticipantId(3), message: word }]);
        let out = hub.handle(Input::Signal { from: ParticipantId(3), to: ParticipantId(1), payload: offer("x") });
        assert_eq!(error_code(&out), Some(ErrorCode::NotAdmitted));
        assert_eq!(hub.room_size(&slug('a')), 2);
    }

    #[test]
    fn the_host_admits_a_guest_who_is_then_welcomed_and_announced() {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
        assert!(out.contains(&Outgoing {
            to: ParticipantId(1),
            message: ServerMessage::ParticipantJoined { participant: Participant { id: ParticipantId(2), name: name("Pat"), host: false } },
        }));
        let welcome = out.iter().find(|o| o.to == ParticipantId(2)).unwrap();
        assert!(
            matches!(&welcome.message, ServerMessage::Welcome { participants, resume_token, .. } if participants.len() == 1 && *resume_token == token(2))
        );
        assert_eq!(waiting_ids(&out.last().unwrap().message), Vec::<u64>::new());
        assert_eq!(hub.room_size(&slug('a')), 2);
    }

    #[test]
    fn until_the_host_is_there_everyone_waits_and_no_one_is_let_in_automatically() {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Early", false, true);
        enter(&mut hub, 2, "Earlier still", false, true);
        let out = enter(&mut hub, 3, "Host", true, true);
        assert_eq!(waiting_ids(&out.last().unwrap().message), [1, 2], "the host sees who waits, longest first");
        assert!(out.iter().all(|o| o.to == ParticipantId(3)), "nobody was let in");
        let out = hub.handle(Input::Admit { by: ParticipantId(3), who: None });
        assert_eq!(hub.room_size(&slug('a')), 3, "admit all");
        assert!(out.iter().any(|o| o.to == ParticipantId(1) && matches!(o.message, ServerMessage::Welcome { .. })));
    }

    #[test]
    fn only_the_host_may_admit_or_deny() {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Companion", false, false);
        enter(&mut hub, 3, "Pat", false, true);
        for input in [
            Input::Admit { by: ParticipantId(2), who: Some(ParticipantId(3)) },
            Input::Admit { by: ParticipantId(3), who: None },
            Input::Deny { by: ParticipantId(2), who: ParticipantId(3) },
        ] {
            let by = match &input {
                Input::Admit { by, .. } | Input::Deny { by, .. } => *by,
                _ => unreachable!(),
            };
            let out = hub.handle(input);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].to, by);
            assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
        }
        assert_eq!(hub.room_size(&slug('a')), 2);
    }

    #[test]
    fn a_denied_guest_is_told_and_gone_and_a_guest_who_leaves_the_lobby_just_disappears() {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        enter(&mut hub, 3, "Sam", false, true);
        let out = hub.handle(Input::Deny { by: ParticipantId(1), who: ParticipantId(2) });
        assert_eq!(out[0], Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::Denied) });
        assert_eq!(waiting_ids(&out[1].message), [3]);
        assert!(!hub.is_member(ParticipantId(2)));
        assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused));
        let out = hub.handle(Input::Leave { who: ParticipantId(3) });
        assert_eq!(out, vec![Outgoing { to: ParticipantId(1), message: ServerMessage::Lobby { waiting: vec![] } }]);
    }

    #[test]
    fn admitting_stops_at_a_full_call_and_the_rest_keep_waiting() {
        let mut hub = Hub::with_room_size(vec![], 2);
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        enter(&mut hub, 3, "Sam", false, true);
        let out = hub.handle(Input::Admit { by: ParticipantId(1), who: None });
        assert!(out.iter().any(|o| o.to == ParticipantId(1) && o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
        assert!(!ErrorCode::NoRoomToAdmit.is_fatal(), "the host stays in the call");
        assert_eq!(waiting_ids(&out.last().unwrap().message), [3]);
    }

    #[test]
    fn a_waiting_guest_who_resumes_is_still_waiting_and_a_host_who_resumes_sees_the_lobby() {
        let mut hub = Hub::new(vec![]);
        let t0 = Instant::now();
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        drop_at(&mut hub, 2, t0);
        let (who, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, t0);
        assert_eq!(who, Ok(ParticipantId(2)));
        assert_eq!(out, vec![Outgoing { to: ParticipantId(2), message: ServerMessage::Waiting { resume_token: token(2) } }]);
        drop_at(&mut hub, 1, t0);
        let (_, out) = hub.resume(&token(1), PROTOCOL_VERSION, None, t0);
        assert!(out.iter().any(|o| o.to == ParticipantId(1)
            && matches!(&o.message, ServerMessage::Lobby { waiting } if waiting.iter().map(|w| w.id).eq([ParticipantId(2)]))));
    }

    fn host_does(hub: &mut Hub, action: HostAction) -> Vec<Outgoing> {
        hub.handle(Input::Host { by: ParticipantId(1), action })
    }

    /// Host 1 with guests 2 and 3 in the call (no lobby).
    fn call_of_three() -> Hub {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Host", true, false);
        enter(&mut hub, 2, "Pat", false, false);
        enter(&mut hub, 3, "Sam", false, false);
        hub
    }

    #[test]
    fn the_host_mutes_one_or_everyone_else() {
        let mut hub = call_of_three();
        assert_eq!(
            host_does(&mut hub, HostAction::Mute(ParticipantId(2))),
            vec![Outgoing { to: ParticipantId(2), message: ServerMessage::MutedByHost }]
        );
        let mut told: Vec<u64> = host_does(&mut hub, HostAction::MuteAll).iter().map(|o| o.to.0).collect();
        told.sort();
        assert_eq!(told, [2, 3]);
        assert_eq!(error_code(&host_does(&mut hub, HostAction::Mute(ParticipantId(9)))), Some(ErrorCode::UnknownParticipant));
    }

    #[test]
    fn a_removed_participant_is_told_and_the_others_see_them_leave() {
        let mut hub = call_of_three();
        let out = host_does(&mut hub, HostAction::Remove(ParticipantId(2)));
        assert_eq!(out[0], Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::Removed) });
        assert!(out.contains(&Outgoing { to: ParticipantId(3), message: ServerMessage::ParticipantLeft { id: ParticipantId(2) } }));
        assert!(!hub.is_member(ParticipantId(2)));
        assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now()).0, Err(ErrorCode::ResumeRefused), "no way back by resuming");
    }

    #[test]
    fn a_locked_room_refuses_newcomers_but_not_its_host_and_unlocks_when_empty() {
        let mut hub = call_of_three();
        let mut told: Vec<u64> = host_does(&mut hub, HostAction::Lock(true)).iter().map(|o| o.to.0).collect();
        told.sort();
        assert_eq!(told, [1, 2, 3], "everyone in the call learns it is locked");
        assert!(host_does(&mut hub, HostAction::Lock(true)).is_empty(), "no news, no message");
        assert_eq!(error_code(&enter(&mut hub, 4, "Late", false, false)), Some(ErrorCode::RoomLocked));
        assert_eq!(error_code(&enter(&mut hub, 5, "Knocker", false, true)), Some(ErrorCode::RoomLocked), "no new knocks");
        for who in 1..=3 {
            hub.handle(Input::Leave { who: ParticipantId(who) });
        }
        assert!(matches!(enter(&mut hub, 6, "Next day", false, false)[0].message, ServerMessage::Welcome { .. }));
    }

    #[test]
    fn hands_queue_in_order_and_the_host_may_lower_any() {
        let mut hub = call_of_three();
        hub.handle(Input::Hand { who: ParticipantId(3), raised: true });
        let out = hub.handle(Input::Hand { who: ParticipantId(2), raised: true });
        assert_eq!(out.len(), 3, "everyone in the call sees the queue");
        assert!(out.iter().all(|o| o.message == ServerMessage::Hands { raised: vec![ParticipantId(3), ParticipantId(2)] }));
        assert!(hub.handle(Input::Hand { who: ParticipantId(2), raised: true }).is_empty(), "raising twice changes nothing");
        let out = host_does(&mut hub, HostAction::LowerHand(ParticipantId(3)));
        assert_eq!(out[0].message, ServerMessage::Hands { raised: vec![ParticipantId(2)] });
        // A guest may lower only their own.
        let out = hub.handle(Input::Host { by: ParticipantId(3), action: HostAction::LowerHand(ParticipantId(2)) });
        assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
        // Leaving lowers your hand.
        let out = hub.handle(Input::Leave { who: ParticipantId(2) });
        assert!(out.iter().any(|o| o.message == ServerMessage::Hands { raised: vec![] }));
    }

    fn media(hub: &mut Hub, who: u64, microphone: bool, camera: bool, screen: Option<&str>) -> Vec<Outgoing> {
        let screen = screen.map(|s| crate::call::protocol::StreamId::try_from(s.to_string()).unwrap());
        hub.handle(Input::Media { who: ParticipantId(who), state: MediaState { microphone, camera, screen } })
    }

    #[test]
    fn what_each_sends_reaches_the_others_and_newcomers() {
        let mut hub = call_of_three();
        let out = media(&mut hub, 2, true, false, Some("{screen-2}"));
        let told: Vec<u64> = out.iter().map(|o| o.to.0).collect();
        assert_eq!(told, vec![1, 3], "everyone else in the call, not the sender");
        let expected = ServerMessage::Media {
            id: ParticipantId(2),
            state: MediaState { microphone: true, camera: false, screen: Some("{screen-2}".to_string().try_into().unwrap()) },
        };
        assert!(out.iter().all(|o| o.message == expected));
        assert!(media(&mut hub, 2, true, false, Some("{screen-2}")).is_empty(), "no change, no news");
        media(&mut hub, 3, false, true, None);
        // Saying "nothing" is news too: the others learn this one sends nothing.
        assert_eq!(media(&mut hub, 1, false, false, None).len(), 2);
        assert!(media(&mut hub, 1, false, false, None).is_empty());
        // A newcomer hears what each one already there sends, after welcome.
        let out = enter(&mut hub, 4, "Newcomer", false, false);
        let to_newcomer: Vec<&ServerMessage> = out.iter().filter(|o| o.to == ParticipantId(4)).map(|o| &o.message).collect();
        assert!(matches!(to_newcomer[0], ServerMessage::Welcome { .. }));
        assert!(to_newcomer.contains(&&expected));
        assert!(to_newcomer
            .contains(&&ServerMessage::Media { id: ParticipantId(3), state: MediaState { microphone: false, camera: true, screen: None } }));
        assert!(to_newcomer.contains(&&ServerMessage::Media { id: ParticipantId(1), state: MediaState::default() }));
        // Someone who has not said yet is not reported at all.
        let out = enter(&mut hub, 5, "Later", false, false);
        assert!(!out.iter().any(|o| matches!(o.message, ServerMessage::Media { id: ParticipantId(4), .. })));
    }

    #[test]
    fn a_guest_may_not_announce_a_screen_where_only_the_host_shares() {
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, false, class_rules());
        enter_with(&mut hub, 2, false, false, class_rules());
        assert_eq!(error_code(&media(&mut hub, 2, false, true, Some("{s}"))), Some(ErrorCode::ScreenShareNotAllowed));
        assert_eq!(media(&mut hub, 2, false, true, None).len(), 1, "camera and microphone are theirs to say");
        assert_eq!(media(&mut hub, 1, true, true, Some("{s}")).len(), 1, "the host shares");
        // Waiting guests say nothing to the call.
        enter_with(&mut hub, 3, false, true, class_rules());
        assert_eq!(error_code(&media(&mut hub, 3, true, true, None)), Some(ErrorCode::NotAdmitted));
        assert_eq!(error_code(&media(&mut hub, 9, true, true, None)), Some(ErrorCode::NotJoined));
    }

    #[test]
    fn guests_may_not_use_host_controls() {
        let mut hub = call_of_three();
        for action in [HostAction::Mute(ParticipantId(3)), HostAction::MuteAll, HostAction::Remove(ParticipantId(3)), HostAction::Lock(true)] {
            let out = hub.handle(Input::Host { by: ParticipantId(2), action });
            assert_eq!(out, vec![Outgoing { to: ParticipantId(2), message: ServerMessage::error(ErrorCode::NotHost) }], "{action:?}");
        }
        assert_eq!(hub.room_size(&slug('a')), 3);
    }

    #[test]
    fn stays_are_recorded_once_with_reconnects_merged_and_host_actions_noted() {
        let mut hub = Hub::new(vec![]);
        let t0 = Instant::now();
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        let records = hub.take_records();
        assert_eq!(records.len(), 1, "a waiting guest is not yet in the call: {records:?}");
        assert!(matches!(&records[0], Record::Entered { who: ParticipantId(1), host: true, .. }));
        hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(2)) });
        let records = hub.take_records();
        assert_eq!(records[0], Record::HostDid { by: ParticipantId(1), room: slug('a'), what: "admit", target: Some(ParticipantId(2)) });
        assert!(matches!(&records[1], Record::Entered { who: ParticipantId(2), host: false, .. }));
        drop_at(&mut hub, 2, t0);
        assert_eq!(hub.resume(&token(2), PROTOCOL_VERSION, None, t0).0, Ok(ParticipantId(2)));
        assert_eq!(hub.take_records(), [Record::Reconnected { who: ParticipantId(2) }]);
        hub.handle(Input::Leave { who: ParticipantId(2) });
        assert_eq!(hub.take_records(), [Record::Left { who: ParticipantId(2) }]);
        hub.close_room(slug('a'));
        assert_eq!(hub.take_records(), [Record::Left { who: ParticipantId(1) }]);
    }

    #[test]
    fn a_rooms_own_cap_holds_for_joins_and_admits_but_never_beyond_the_mesh() {
        let join_capped = |hub: &mut Hub, who: u64, host: bool, lobby: bool, limit: usize| {
            hub.handle(Input::Join {
                who: ParticipantId(who),
                version: PROTOCOL_VERSION,
                room: slug('a'),
                name: name("P"),
                account: None,
                token: token(who),
                host,
                lobby,
                at_ms: 0,
                rules: RoomRules { limit, ..RoomRules::default() },
            })
        };
        let mut hub = Hub::new(vec![]);
        join_capped(&mut hub, 1, true, false, 2);
        join_capped(&mut hub, 2, false, false, 2);
        assert_eq!(error_code(&join_capped(&mut hub, 3, false, false, 2)), Some(ErrorCode::RoomFull));
        // Through the lobby, the host cannot admit past it either.
        join_capped(&mut hub, 4, false, true, 2);
        let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(4)) });
        assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
        // A cap above the mesh is the mesh's.
        let mut hub = Hub::with_room_size(vec![], 2);
        join_capped(&mut hub, 1, false, false, 4);
        join_capped(&mut hub, 2, false, false, 4);
        assert_eq!(error_code(&join_capped(&mut hub, 3, false, false, 4)), Some(ErrorCode::RoomFull));
    }

    /// Joins `who` to room 'a' under `rules`.
    fn enter_with(hub: &mut Hub, who: u64, host: bool, lobby: bool, rules: RoomRules) -> Vec<Outgoing> {
        hub.handle(Input::Join {
            who: ParticipantId(who),
            version: PROTOCOL_VERSION,
            room: slug('a'),
            name: name(&format!("P{who}")),
            account: None,
            token: token(who),
            host,
            lobby,
            at_ms: 0,
            rules,
        })
    }

    fn class_rules() -> RoomRules {
        RoomRules { guests: CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false }, ..RoomRules::default() }
    }

    fn welcome_rules(out: &[Outgoing], to: u64) -> CallRules {
        out.iter()
            .find_map(|o| match &o.message {
                ServerMessage::Welcome { rules, .. } if o.to == ParticipantId(to) => Some(*rules),
                _ => None,
            })
            .expect("a welcome")
    }

    #[test]
    fn guests_are_welcomed_with_the_rooms_rules_and_the_host_with_every_right() {
        let mut hub = Hub::new(vec![]);
        let out = enter_with(&mut hub, 1, true, false, class_rules());
        assert_eq!(welcome_rules(&out, 1), CallRules::OPEN);
        let out = enter_with(&mut hub, 2, false, false, class_rules());
        assert_eq!(welcome_rules(&out, 2), class_rules().guests);
    }

    #[test]
    fn in_a_class_the_host_lets_a_guest_speak_and_muting_takes_it_back() {
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, false, class_rules());
        enter_with(&mut hub, 2, false, false, class_rules());
        hub.handle(Input::Hand { who: ParticipantId(2), raised: true });
        let out = host_does(&mut hub, HostAction::LetSpeak(ParticipantId(2)));
        assert!(out.contains(&Outgoing { to: ParticipantId(2), message: ServerMessage::MayUnmute { allowed: true } }));
        // Letting them speak answers the raised hand.
        assert!(out.contains(&Outgoing { to: ParticipantId(1), message: ServerMessage::Hands { raised: vec![] } }));
        let noted = hub.take_records();
        assert!(noted.contains(&Record::HostDid { by: ParticipantId(1), room: slug('a'), what: "let_speak", target: Some(ParticipantId(2)) }));
        // Resuming keeps the permission.
        hub.handle(Input::Drop { who: ParticipantId(2), at: Instant::now() });
        let (_, out) = hub.resume(&token(2), PROTOCOL_VERSION, None, Instant::now());
        assert!(matches!(&out[0].message, ServerMessage::Resumed { rules, .. } if rules.may_unmute));
        // Muting them takes it back; they must ask again.
        let out = host_does(&mut hub, HostAction::Mute(ParticipantId(2)));
        assert_eq!(
            out,
            [
                Outgoing { to: ParticipantId(2), message: ServerMessage::MutedByHost },
                Outgoing { to: ParticipantId(2), message: ServerMessage::MayUnmute { allowed: false } },
            ]
        );
        // A guest cannot let anyone speak, themselves included.
        let out = hub.handle(Input::Host { by: ParticipantId(2), action: HostAction::LetSpeak(ParticipantId(2)) });
        assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
        // In a meeting muting takes nothing back: guests unmute themselves.
        let mut hub = call_of_three();
        assert_eq!(host_does(&mut hub, HostAction::Mute(ParticipantId(2))).len(), 1);
    }

    #[test]
    fn the_host_and_a_waiting_guest_talk_without_anyone_else_hearing() {
        let mut hub = Hub::new(vec![]);
        // Before any host is here, a waiting guest's words reach nobody.
        enter(&mut hub, 3, "Pat", false, true);
        let out = hub.handle(Input::Chat { from: ParticipantId(3), text: chat("anyone?"), at_ms: 5 });
        assert_eq!(error_code(&out), Some(ErrorCode::HostAway));
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Companion", false, false);
        enter(&mut hub, 4, "Kim", false, true);
        let out = hub.handle(Input::LobbyChat { by: ParticipantId(1), guest: ParticipantId(3), text: chat("Five minutes"), at_ms: 9 });
        let word = ServerMessage::LobbyChat { guest: ParticipantId(3), from_host: true, text: chat("Five minutes"), sent_at_ms: 9 };
        assert_eq!(out, [Outgoing { to: ParticipantId(1), message: word.clone() }, Outgoing { to: ParticipantId(3), message: word }]);
        // Not a guest in the call, nor someone who is not waiting.
        let out = hub.handle(Input::LobbyChat { by: ParticipantId(2), guest: ParticipantId(3), text: chat("hi"), at_ms: 9 });
        assert_eq!(error_code(&out), Some(ErrorCode::NotHost));
        let out = hub.handle(Input::LobbyChat { by: ParticipantId(1), guest: ParticipantId(2), text: chat("hi"), at_ms: 9 });
        assert_eq!(error_code(&out), Some(ErrorCode::UnknownParticipant));
        // Waiting words are never kept, even where the call's chat is.
        assert!(hub.take_records().iter().all(|r| !matches!(r, Record::Said { .. })));
    }

    #[test]
    fn a_consultation_host_may_let_a_companion_in_past_its_size_one_at_a_time() {
        let consultation = RoomRules { limit: 2, companions: true, ..RoomRules::default() };
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, true, consultation);
        for guest in [2, 3, 4, 5] {
            enter_with(&mut hub, guest, false, true, consultation);
        }
        // Admitting everyone stops at the room's size...
        let out = hub.handle(Input::Admit { by: ParticipantId(1), who: None });
        assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
        assert_eq!(hub.room_size(&slug('a')), 2);
        // ...but the host may name a companion, up to what the mesh carries.
        hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(3)) });
        hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(4)) });
        assert_eq!(hub.room_size(&slug('a')), 4);
        let out = hub.handle(Input::Admit { by: ParticipantId(1), who: Some(ParticipantId(5)) });
        assert!(out.iter().any(|o| o.message == ServerMessage::error(ErrorCode::NoRoomToAdmit)));
    }

    #[test]
    fn chat_is_noted_for_keeping_only_where_the_room_keeps_it() {
        let keep = RoomRules { keep_chat: true, ..RoomRules::default() };
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, false, keep);
        enter_with(&mut hub, 2, false, false, keep);
        hub.take_records();
        hub.handle(Input::Chat { from: ParticipantId(2), text: chat("Thank you"), at_ms: 0 });
        assert_eq!(hub.take_records(), [Record::Said { room: slug('a'), name: name("P2"), host: false, text: chat("Thank you") }]);
        let mut hub = call_of_three();
        hub.take_records();
        hub.handle(Input::Chat { from: ParticipantId(2), text: chat("Thank you"), at_ms: 0 });
        assert!(hub.take_records().is_empty());
    }

    #[test]
    fn a_flood_of_knocks_sends_the_host_one_list_at_once_and_one_per_tick() {
        let lobby = RoomRules::default();
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, true, lobby);
        let lists = |out: &[Outgoing]| out.iter().filter(|o| o.to == ParticipantId(1) && matches!(o.message, ServerMessage::Lobby { .. })).count();
        let mut sent = 0;
        for n in 2..42 {
            sent += lists(&enter_with(&mut hub, n, false, true, lobby));
        }
        assert_eq!(sent, 1, "the first knock is told at once, the rest wait for the tick");
        let tick = hub.expire(Instant::now());
        assert_eq!(lists(&tick), 1);
        let ServerMessage::Lobby { waiting } = &tick.iter().find(|o| o.to == ParticipantId(1)).unwrap().message else { unreachable!() };
        assert_eq!(waiting.len(), 40, "that one list has everyone");
        assert_eq!(lists(&hub.expire(Instant::now())), 0, "nothing new, nothing sent");
        // Quiet again: the next knock is told at once.
        hub.expire(Instant::now());
        assert_eq!(lists(&enter_with(&mut hub, 60, false, true, lobby)), 1);
    }

    #[test]
    fn only_the_words_of_those_told_the_chat_is_kept_are_kept() {
        let keep = RoomRules { keep_chat: true, ..RoomRules::default() };
        let mut hub = Hub::new(vec![]);
        enter_with(&mut hub, 1, true, false, keep);
        // The host turned keeping off before this guest joined: they were
        // told it is not kept, so their words are not.
        enter_with(&mut hub, 2, false, false, RoomRules::default());
        hub.take_records();
        hub.handle(Input::Chat { from: ParticipantId(2), text: chat("private"), at_ms: 0 });
        assert!(hub.take_records().is_empty());
        hub.handle(Input::Chat { from: ParticipantId(1), text: chat("noted"), at_ms: 0 });
        assert_eq!(hub.take_records().len(), 1, "the host was told it is kept");
    }

    #[test]
    fn a_call_keeps_the_rules_it_began_with_until_it_is_over() {
        let relay = RoomRules { guests: CallRules { relay_only: true, ..CallRules::OPEN }, ..RoomRules::default() };
        let mut hub = Hub::new(vec![]);
        assert!(welcome_rules(&enter_with(&mut hub, 1, true, false, relay), 1).relay_only);
        // The room's setting changed meanwhile: the call under way keeps its own.
        assert!(welcome_rules(&enter_with(&mut hub, 2, false, false, RoomRules::default()), 2).relay_only);
        hub.handle(Input::Leave { who: ParticipantId(1) });
        hub.handle(Input::Leave { who: ParticipantId(2) });
        assert!(!welcome_rules(&enter_with(&mut hub, 3, true, false, RoomRules::default()), 3).relay_only);
    }

    #[test]
    fn a_room_is_forgotten_entirely_once_nobody_is_in_it_or_its_lobby() {
        let mut hub = Hub::new(vec![]);
        enter(&mut hub, 1, "Host", true, true);
        enter(&mut hub, 2, "Pat", false, true);
        hub.handle(Input::Hand { who: ParticipantId(1), raised: true });
        hub.handle(Input::Leave { who: ParticipantId(1) });
        assert_eq!(hub.settings.len(), 1, "Pat still waits");
        hub.handle(Input::Leave { who: ParticipantId(2) });
        assert!(hub.rooms.is_empty() && hub.lobbies.is_empty() && hub.settings.is_empty() && hub.hands.is_empty() && hub.locked.is_empty());
        enter(&mut hub, 3, "Kim", false, false);
        hub.close_room(slug('a'));
        assert!(hub.settings.is_empty());
    }
}

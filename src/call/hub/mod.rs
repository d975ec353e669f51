//! The call's one decision-maker.
//!
//! Sans-IO: the server calls [`Hub::receive`] once per message from a
//! connection (with what the database said about the room, for a `join`,
//! and the time), [`Hub::gone`] when a connection ends, [`Hub::tick`] once a
//! second and [`Hub::room_deleted`]; each returns the [`Effects`] to carry
//! out: messages to send, connections to close, records to store. It never
//! touches a socket, a clock or the database, so every rule here (who may
//! enter, cooldowns, what a host may do, who gets TURN credentials) is
//! unit-tested by feeding inputs and reading outputs. [`Hub::handle`] is
//! the message-level machine underneath. The invariants it keeps:
//!
//! - a participant is in at most one room, and only after a valid `join`;
//! - a signal reaches exactly the one addressed participant, and only when
//!   both are in the same room; its `from` is the sender's real id;
//! - everyone in a room hears of each join and leave exactly once;
//! - a participant whose connection dropped keeps their place, id and
//!   messages for the grace period; nobody hears of it unless they do not
//!   come back in time.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub(crate) use crate::call::protocol::speaks;
use crate::call::protocol::{
    close, ErrorCode, IceServer, MediaState, Participant, ParticipantId, ResumeToken, ServerMessage, SignalPayload, Topology, WaitingGuest,
    PROTOCOL_VERSION,
};
use crate::call::sfu::{Command as MediaCommand, Grant};
use crate::call::turn::TurnIssuer;
use crate::call::{MediaPolicy, MESH_LIMIT};
use crate::domain::{AccountId, CallRules, ChatText, ClientNetwork, DisplayName, RoomKind};

pub use door::{Cooldown, FoundRoom, JoinFacts, JoinWindow, Lookup, Marks, Passcode, Person, DENY_COOLDOWN, REMOVED_NEARBY_WAIT, REMOVED_WAIT};
pub use polls::PollRecord;
pub use step::{Caller, Closing, Effects, Ending, Now};

pub use crate::call::RoomId;

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
    /// `who` asks to enter `room` as `entry` says. Its `account` is the
    /// signed-in account behind the connection, if any; only it may resume
    /// the place. `host`: it is the room's own host.
    Join { who: ParticipantId, version: u32, room: RoomId, entry: Entry },
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
    LowerAllHands,
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
    /// What the room is for: with its size, it decides the topology.
    pub kind: RoomKind,
    /// How the call carries media: decided by the hub at the first join
    /// (whatever the join says), kept for the call.
    pub topology: Topology,
}

impl Default for RoomRules {
    fn default() -> Self {
        Self { limit: usize::MAX, companions: false, guests: CallRules::OPEN, keep_chat: false, kind: RoomKind::Meeting, topology: Topology::Mesh }
    }
}

/// Something worth keeping beyond the call: who came and went (for the
/// attendance list), what the host did (for the audit log), and who is
/// marked for a cooldown (for other nodes, in cluster mode). The hub notes
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
    /// `participant` (signed in as `account`, from address `client`, in
    /// the call or the lobby of `room`) tried the host's `action` without
    /// being the host.
    Refused { participant: ParticipantId, account: Option<AccountId>, action: &'static str, client: IpAddr, room: RoomId },
    /// The host `by` ended `room`'s call for everyone.
    Ended { by: ParticipantId, room: RoomId },
    /// `person` is marked for `cooldown` in `room` from now on (turned
    /// away, removed): for other nodes to know, should the call move.
    Marked { cooldown: Cooldown, room: RoomId, person: Person },
    /// A poll of `room`'s call was started, answered, shown or ended: it
    /// stands as `poll` says now.
    Poll { room: RoomId, poll: PollRecord },
    /// The host of `room` keeps its whiteboard with the session: each page
    /// that has anything on it, as a whole SVG picture, in order.
    Board { room: RoomId, pages: Vec<String> },
}

/// Who is joining, as [`Input::Join`] says.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: DisplayName,
    pub account: Option<AccountId>,
    pub token: ResumeToken,
    pub host: bool,
    /// The room has a lobby: guests wait to be let in.
    pub lobby: bool,
    /// Now, in Unix milliseconds.
    pub at_ms: u64,
    /// The room's own settings for its call.
    pub rules: RoomRules,
    /// Whose browser it is, for the cooldowns of the turned away and the
    /// removed (see [`door`]).
    pub person: Option<Person>,
    /// Where they come from, for the wait of others from there after a
    /// removal (see [`door`]).
    pub network: Option<ClientNetwork>,
    /// When the host removed this person, if lately (Unix ms).
    pub removed_ms: Option<u64>,
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
    /// The host muted them and they have not turned their microphone on
    /// again since: the media server does not forward their voice.
    held_muted: bool,
    /// What they said they send; `None` until they say.
    media: Option<MediaState>,
    /// Whether the room kept its chat when they joined (what their page
    /// told them): only then are their words kept.
    keeps_chat: bool,
    /// Whose browser holds the place, for cooldowns.
    person: Option<Person>,
    /// Where they come from.
    network: Option<ClientNetwork>,
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
    /// Guests turned away: they may not knock on that room for a while.
    denied: Marks,
    /// People the host removed: coming back, they wait in the lobby.
    removed: Marks,
    /// Addresses of people the host removed: others from there wait in
    /// the lobby for a while, where there is none.
    removed_nearby: Marks,
    /// Turned away or removed in this step, to be marked with its time.
    to_mark: Vec<(Cooldown, RoomId, Person)>,
    /// Makes TURN credentials for those in a call, if TURN is configured.
    turn: Option<TurnIssuer>,
    /// Cluster mode: signs the pass each welcome carries.
    passes: Option<crate::call::pass::PassIssuer>,
    /// Which calls go through the media server, if one runs.
    media: Option<MediaPolicy>,
    /// What the media server was last told each participant may do.
    granted: HashMap<ParticipantId, Grant>,
    /// Each call's polls, in the order they were asked.
    polls: HashMap<RoomId, Vec<polls::Poll>>,
    /// The last poll's key (unique in this hub's life).
    poll_keys: u64,
    /// Each call's breakout rooms, while open.
    breakouts: HashMap<RoomId, breakouts::Breakouts>,
    /// Each call's whiteboard, once someone opened it.
    boards: HashMap<RoomId, board::Board>,
    /// Guests let in while their call was full: the host who did, and the
    /// size of the call they were let in against.
    promised: HashMap<ParticipantId, (ParticipantId, usize)>,
    /// The Unix time of the step under way, in milliseconds (what pages
    /// count breakout timers down from).
    clock_ms: u64,
    /// Calls whose last host left while others stayed: since when (Unix
    /// ms). Ended after [`close::HOSTLESS_MINUTES`] unless a host is back.
    hostless: HashMap<RoomId, u64>,
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
            denied: Marks::new(Cooldown::Denied.keep()),
            removed: Marks::new(Cooldown::Removed.keep()),
            removed_nearby: Marks::new(Cooldown::RemovedNearby.keep()),
            to_mark: Vec::new(),
            turn: None,
            passes: None,
            media: None,
            granted: HashMap::new(),
            polls: HashMap::new(),
            boards: HashMap::new(),
            poll_keys: 0,
            breakouts: HashMap::new(),
            clock_ms: 0,
            hostless: HashMap::new(),
            promised: HashMap::new(),
        }
    }

    /// The same hub, routing the calls `policy` names through the media
    /// server.
    pub fn with_media(mut self, policy: Option<MediaPolicy>) -> Self {
        self.media = policy;
        self
    }

    /// The same hub, giving everyone let into a call their own TURN
    /// credentials from `turn`.
    pub fn with_turn(mut self, turn: Option<TurnIssuer>) -> Self {
        self.turn = turn;
        self
    }

    /// Cluster mode: every welcome carries a pass `issuer` signs.
    pub fn use_passes(&mut self, issuer: crate::call::pass::PassIssuer) {
        self.passes = Some(issuer);
    }

    /// Whether TURN credentials are handed out.
    pub fn has_turn(&self) -> bool {
        self.turn.is_some()
    }

    /// What a browser may probe before joining, with no credentials: see
    /// [`crate::call::turn::stun_probes`].
    pub fn probe_urls(&self) -> Vec<String> {
        let configured = self.ice_servers.iter().flat_map(|server| server.urls.iter());
        crate::call::turn::stun_probes(configured.chain(self.turn.iter().flat_map(|turn| turn.urls().iter())))
    }

    /// The same hub, keeping the places of dropped participants for `grace`.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Applies one input and says who must be told what.
    pub fn handle(&mut self, input: Input) -> Vec<Outgoing> {
        let out = match input {
            Input::Join { who, version, room, entry } => self.join(who, version, room, entry),
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

    /// Who waits in `room`'s lobby now, longest first.
    pub fn waiting_in(&self, room: RoomId) -> &[WaitingGuest] {
        self.lobbies.get(&room).map(Vec::as_slice).unwrap_or_default()
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
                // The board is sent whole to whoever comes back to it.
                Some(seat) if seat.away_since.is_some() && outgoing.message.is_board() => {}
                Some(seat) if seat.away_since.is_some() => {
                    // Of a poll, only its latest state is worth holding.
                    if let ServerMessage::Poll { poll } = &outgoing.message {
                        seat.parked.retain(|held| !matches!(held, ServerMessage::Poll { poll: earlier } if earlier.id == poll.id));
                    }
                    // Of breakout rooms, their latest state.
                    if matches!(outgoing.message, ServerMessage::Breakouts { .. }) {
                        seat.parked.retain(|held| !matches!(held, ServerMessage::Breakouts { .. }));
                    }
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

    /// How many `room`'s call takes.
    fn limit_of(&self, room: RoomId) -> usize {
        let Some(rules) = self.settings.get(&room) else { return self.room_limit };
        let cap = match (rules.topology, self.media) {
            (Topology::Sfu, Some(policy)) => policy.room_size,
            _ => self.room_limit,
        };
        rules.limit.min(cap)
    }

    /// How the call under way in `room` (or its lobby) carries media, if
    /// there is one.
    pub fn call_topology(&self, room: RoomId) -> Option<Topology> {
        self.settings.get(&room).map(|rules| rules.topology)
    }

    /// How `room`'s call carries media.
    pub fn topology_of(&self, room: RoomId) -> Topology {
        self.settings.get(&room).map_or(Topology::Mesh, |rules| rules.topology)
    }

    /// What the media server should let `who` do: `None` for someone not
    /// in a call through it (a waiting guest included).
    fn grant_of(&self, who: ParticipantId, seat: &Seat) -> Option<Grant> {
        if !seat.admitted || self.topology_of(seat.room) != Topology::Sfu {
            return None;
        }
        let rules = self.rules_for(who);
        let media = seat.media.clone().unwrap_or_default();
        Some(Grant {
            room: seat.room,
            group: self.group_of(who),
            everywhere: seat.host && self.voice_everywhere(seat.room),
            host: seat.host,
            audio: self.voice_allowed(who, seat),
            screen: rules.may_share_screen,
            camera_on: media.camera,
            screen_on: media.screen.is_some(),
        })
    }

    /// Whether `who`'s voice may be heard: the host's always; a guest's
    /// where they may unmute (or were let speak) and the host has not muted
    /// them since.
    fn voice_allowed(&self, who: ParticipantId, seat: &Seat) -> bool {
        seat.host || (self.rules_for(who).may_unmute && !seat.held_muted)
    }

    /// What the others are told `who` sends: what they said, except that in
    /// a call through the media server a voice it does not forward is shown
    /// off, whatever their page claims (a page forcing its microphone on
    /// was shown "mic on" while nobody heard it).
    pub(super) fn shown_media(&self, who: ParticipantId) -> Option<MediaState> {
        let seat = self.seats.get(&who)?;
        let mut state = seat.media.clone()?;
        if self.topology_of(seat.room) == Topology::Sfu && !self.voice_allowed(who, seat) {
            state.microphone = false;
        }
        // Nor a screen they may no longer share (a breakout group's leave
        // withdrawn): the media server no longer forwards it.
        if !self.rules_for(who).may_share_screen {
            state.screen = None;
        }
        Some(state)
    }

    /// Tells the others in `who`'s call what `who` is shown to send, if it
    /// is no longer `before`.
    pub(super) fn retell_media(&self, who: ParticipantId, before: Option<MediaState>) -> Vec<Outgoing> {
        let (Some(state), Some(seat)) = (self.shown_media(who), self.seats.get(&who)) else { return Vec::new() };
        if before.as_ref() == Some(&state) || !seat.admitted {
            return Vec::new();
        }
        let others = self.near(who).into_iter().filter(|p| *p != who);
        tell(others, ServerMessage::Media { id: who, state })
    }

    /// What the media server must be told after a step: rights new or
    /// changed, and the connections of those no longer in a call through it.
    pub(super) fn media_commands(&mut self) -> Vec<MediaCommand> {
        if self.media.is_none() || (self.granted.is_empty() && !self.settings.values().any(|r| r.topology == Topology::Sfu)) {
            return Vec::new();
        }
        let mut now: HashMap<ParticipantId, Grant> = HashMap::new();
        for (room, rules) in &self.settings {
            if rules.topology != Topology::Sfu {
                continue;
            }
            for p in self.rooms.get(room).map(Vec::as_slice).unwrap_or_default() {
                if let Some(grant) = self.seats.get(&p.id).and_then(|seat| self.grant_of(p.id, seat)) {
                    now.insert(p.id, grant);
                }
            }
        }
        let mut commands: Vec<MediaCommand> =
            self.granted.keys().filter(|who| !now.contains_key(who)).map(|&who| MediaCommand::Revoke { who }).collect();
        for (who, grant) in &now {
            if self.granted.get(who) != Some(grant) {
                commands.push(MediaCommand::Grant { who: *who, grant: *grant });
            }
        }
        // Revokes first, then grants in a steady order.
        commands.sort_by_key(|c| match c {
            MediaCommand::Revoke { who } => (0, *who),
            MediaCommand::Grant { who, .. } => (1, *who),
            _ => (2, ParticipantId(0)),
        });
        self.granted = now;
        commands
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
        rules.may_share_screen |= self.group_shares(seat.room, self.group_of(who));
        rules
    }

    /// The settings of the room `who` is in.
    fn rules_of_room(&self, who: ParticipantId) -> Option<RoomRules> {
        self.seats.get(&who).and_then(|seat| self.settings.get(&seat.room)).copied()
    }

    /// Everyone in `room`'s call.
    fn everyone_in(&self, room: RoomId) -> Vec<ParticipantId> {
        self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default().iter().map(|p| p.id).collect()
    }

    /// Forgets `room`'s cap once nobody is in its call or its lobby.
    fn forget_if_idle(&mut self, room: RoomId) {
        if !self.rooms.contains_key(&room) && !self.lobbies.contains_key(&room) {
            self.settings.remove(&room);
        }
    }

    /// The hosts in `room`'s call.
    fn hosts_in(&self, room: RoomId) -> Vec<ParticipantId> {
        self.everyone_in(room).into_iter().filter(|p| self.seats.get(p).is_some_and(|seat| seat.host)).collect()
    }

    /// A host is in `room`'s call (all a waiting guest may know of it).
    fn host_here(&self, room: RoomId) -> bool {
        !self.hosts_in(room).is_empty()
    }
}

/// `code`'s error for `to`: their message is refused.
fn refuse(to: ParticipantId, code: ErrorCode) -> Vec<Outgoing> {
    vec![Outgoing { to, message: ServerMessage::error(code) }]
}

/// `message` for each of `to`.
fn tell(to: impl IntoIterator<Item = ParticipantId>, message: ServerMessage) -> Vec<Outgoing> {
    to.into_iter().map(|to| Outgoing { to, message: message.clone() }).collect()
}

mod board;
mod breakouts;
pub mod door;
mod host;
mod joining;
mod lobby;
mod polls;
mod resume;
pub mod step;
mod talk;

#[cfg(test)]
mod tests;

//! The WebSocket adapter around the [`Hub`]: one reader and one writer task
//! per connection, a bounded outbox, a write deadline and a heartbeat.
//!
//! Everything that needs I/O happens here (parsing frames, looking the room
//! up in the database, deciding a participant's name from their session);
//! everything about rooms happens in the hub.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tower_sessions::Session;

use crate::api::rooms::Availability;
use crate::call::hub::{HostAction, Hub, Input, Outgoing, Record, RoomId, RoomRules, RESUME_GRACE};
use crate::call::protocol::{close, CallRules, ClientMessage, ErrorCode, IceServer, ParticipantId, ResumeToken, ServerMessage};
use crate::call::MESH_LIMIT;
use crate::domain::{AccountId, ChatText, DisplayName, RoomKind};
use crate::server::accounts::Account;
use crate::server::client_address::Client;
use crate::server::guest::guest_identity;
use crate::server::metrics::SignalingStats;
use crate::server::rooms;
use crate::server::session::UserSession;
use crate::server::signaling::rate::TokenBucket;
use crate::server::state::AppState;
use crate::server::turn::TurnIssuer;

/// Largest message a client may send; a bigger one closes its socket (1009).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Messages queued for one client before it counts as too slow and is cut off.
const OUTBOX_CAPACITY: usize = 256;
/// How long one write may take before the client counts as gone.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// How often the server pings (browsers answer on their own), and the
/// silence (no message, no pong) after which a connection counts as dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub ping_every: Duration,
    pub silence_limit: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self { ping_every: Duration::from_secs(20), silence_limit: Duration::from_secs(45) }
    }
}

/// Everything about signaling an operator may tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalingSettings {
    pub heartbeat: Heartbeat,
    /// Open connections allowed per client address: coarse flood
    /// protection, sized for a school or clinic behind one address.
    pub max_per_address: usize,
    /// Open connections allowed per signed-in account.
    pub max_per_account: usize,
    /// Participants per room: a full mesh carries four well.
    pub room_size: usize,
    /// How long a participant whose connection dropped keeps their place.
    pub resume_grace: Duration,
}

impl Default for SignalingSettings {
    fn default() -> Self {
        Self { heartbeat: Heartbeat::default(), max_per_address: 100, max_per_account: 10, room_size: MESH_LIMIT, resume_grace: RESUME_GRACE }
    }
}

/// Longest a new connection may take to send `join`.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// Burst and sustained message rate per connection: a join's offers and ICE
/// candidates to three others come to well under 100 messages.
const BURST: u32 = 200;
const PER_SECOND: u32 = 20;
/// Messages dropped for exceeding the rate before the connection is closed.
const FLOOD_LIMIT: u32 = 200;

/// What the writer task sends next.
enum Outbound {
    Message(ServerMessage),
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

/// Messages the writers sent, by kind, for metrics.
#[derive(Debug, Default)]
struct Counters {
    /// Signals and chat passed from one participant to another.
    relayed: AtomicU64,
    /// Refusals by error code, and connections refused for their number.
    refusals: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Counters {
    fn sent(&self, message: &ServerMessage) {
        match message {
            ServerMessage::Signal { .. } | ServerMessage::Chat { .. } => {
                self.relayed.fetch_add(1, Ordering::Relaxed);
            }
            ServerMessage::Error { code, .. } => {
                let reason = serde_json::to_value(code).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                self.refused(reason);
            }
            _ => {}
        }
    }

    fn refused(&self, reason: String) {
        *self.refusals.lock().unwrap_or_else(|p| p.into_inner()).entry(reason).or_default() += 1;
    }
}

/// The hub plus the outbox of every connected socket.
pub struct Signaling {
    inner: Mutex<Inner>,
    counters: Arc<Counters>,
    next_id: AtomicU64,
    /// Set once the server is shutting down: no new connections.
    stopping: std::sync::atomic::AtomicBool,
    settings: SignalingSettings,
}

struct Inner {
    hub: Hub,
    /// Every open socket.
    connections: HashMap<ConnectionId, Connection>,
    /// The connection that currently speaks for each participant. A
    /// participant who is away has none; one who resumed has their newest.
    speaker: HashMap<ParticipantId, ConnectionId>,
    /// Open connections per client address and per account.
    per_address: HashMap<IpAddr, usize>,
    per_account: HashMap<AccountId, usize>,
    /// Guests turned away: they may not knock on that room for a while.
    denied: Marks,
    /// People the host removed: coming back, they wait in the lobby.
    removed: Marks,
    /// Where records for attendance and the audit log go.
    notes: Option<mpsc::Sender<Note>>,
    /// Issues TURN credentials, if a TURN service is configured.
    turn: Option<TurnIssuer>,
}

/// Who a connection belongs to, for the cooldowns that concern a person
/// (turned away, removed): many people share one address at a school or a
/// clinic, so those are keyed to the person, not to where they come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Person {
    /// A signed-in account.
    Account(AccountId),
    /// A guest's browser, by the random identity in its guest cookie.
    Guest(String),
    /// A client that sent no guest cookie: its address is all we know.
    Address(IpAddr),
}

/// Room and person pairs marked for a while (turned away, removed).
struct Marks {
    keep: Duration,
    at: HashMap<(RoomId, Person), Instant>,
}

impl Marks {
    fn new(keep: Duration) -> Self {
        Self { keep, at: HashMap::new() }
    }

    fn mark(&mut self, room: RoomId, person: Person) {
        self.at.insert((room, person), Instant::now());
    }

    /// Whether `person` was marked for `room` within the last `keep`
    /// (older marks are forgotten on the way).
    fn holds(&mut self, room: RoomId, person: &Person) -> bool {
        let keep = self.keep;
        self.at.retain(|_, at| at.elapsed() < keep);
        self.at.contains_key(&(room, person.clone()))
    }
}

/// What the signaling layer asks to be written down.
#[derive(Debug, Clone)]
pub enum Note {
    /// From the hub: stays and host actions.
    Hub(Record),
    /// A host action from someone who is not the host (logged).
    Refused { participant: ParticipantId, account: Option<AccountId>, action: &'static str, client: IpAddr },
    /// The host ended the call for everyone.
    Ended { by: ParticipantId, room: RoomId },
}

/// Notes waiting to be written before more are dropped (and reported).
const NOTE_BACKLOG: usize = 10_000;

/// How long someone removed from a call must wait in the lobby to come back.
const REMOVED_WAIT: Duration = Duration::from_secs(60 * 60);

/// How long a turned-away guest's address may not knock on that room again.
const DENY_COOLDOWN: Duration = Duration::from_secs(120);

/// One socket, for the life of its TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(u64);

struct Connection {
    /// Its writer's queue; `None` once the server has given up on it.
    outbox: Option<mpsc::Sender<Outbound>>,
    /// Which sign-in opened it, for a signed-in account.
    owner: Option<Login>,
    /// The participant it speaks for: until `join` or `resume` succeeds, a
    /// fresh id the hub does not know.
    who: ParticipantId,
    /// The client's address (resolved behind trusted proxies).
    address: IpAddr,
    /// Whose it is: a turned-away guest may not knock again for a while.
    person: Person,
}

impl Connection {
    /// Queues `item`; a client too slow to take it is cut off (dropping the
    /// queue makes its writer close the socket).
    fn queue(&mut self, item: Outbound) {
        let Some(tx) = &self.outbox else { return };
        match tx.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(participant = %self.who, "signaling outbox full; disconnecting a client that stopped reading");
                self.outbox = None;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.outbox = None,
        }
    }
}

/// How a connection ended, as far as the room is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Said goodbye (a close frame), misbehaved, or was ended by the server:
    /// the others see the participant leave now.
    ForGood,
    /// Just dropped (reset, timeout, lost network): the place is kept for
    /// the grace period, in case they come back.
    Dropped,
}

/// A place among the open connections, given back when dropped.
pub struct Admission {
    signaling: Arc<Signaling>,
    address: IpAddr,
    account: Option<AccountId>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut inner = self.signaling.lock();
        release(&mut inner.per_address, self.address);
        if let Some(account) = self.account {
            release(&mut inner.per_account, account);
        }
    }
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = counts.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&key);
        }
    }
}

/// A signed-in account's sign-in (one browser session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    pub account: AccountId,
    pub login: u64,
}

impl Signaling {
    pub fn new(ice_servers: Vec<IceServer>, settings: SignalingSettings) -> Self {
        let inner = Inner {
            hub: Hub::with_room_size(ice_servers, settings.room_size).with_grace(settings.resume_grace),
            connections: HashMap::new(),
            speaker: HashMap::new(),
            per_address: HashMap::new(),
            per_account: HashMap::new(),
            denied: Marks::new(DENY_COOLDOWN),
            removed: Marks::new(REMOVED_WAIT),
            notes: None,
            turn: None,
        };
        Self {
            inner: Mutex::new(inner),
            counters: Arc::default(),
            next_id: AtomicU64::new(1),
            stopping: std::sync::atomic::AtomicBool::new(false),
            settings,
        }
    }

    /// Calls, people, sockets and messages, for metrics.
    pub fn stats(&self) -> SignalingStats {
        let (census, sockets) = {
            let inner = self.lock();
            (inner.hub.census(), inner.connections.len())
        };
        let refusals = self.counters.refusals.lock().unwrap_or_else(|p| p.into_inner());
        SignalingStats {
            census,
            sockets,
            relayed: self.counters.relayed.load(Ordering::Relaxed),
            refusals: refusals.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// The same signaling, giving everyone in a call their own TURN
    /// credentials from `turn`.
    pub fn with_turn(self, turn: Option<TurnIssuer>) -> Self {
        self.lock().turn = turn;
        self
    }

    /// Whether a TURN service is configured.
    pub fn has_turn(&self) -> bool {
        self.lock().turn.is_some()
    }

    /// What a browser may test before joining, with no credentials: see
    /// [`stun_probes`].
    pub fn probe_urls(&self) -> Vec<String> {
        let inner = self.lock();
        let configured = inner.hub.ice_servers().iter().flat_map(|server| server.urls.iter());
        stun_probes(configured.chain(inner.turn.iter().flat_map(|turn| turn.urls().iter())))
    }

    /// Answers `ice_servers` from connection `id`: fresh ones for someone in
    /// a call, a refusal for anyone else.
    fn ice_servers(&self, id: ConnectionId) {
        let mut inner = self.lock();
        let Some(who) = inner.connections.get(&id).map(|c| c.who) else { return };
        let message = if inner.hub.is_admitted(who) {
            let mut ice_servers = inner.hub.ice_servers().to_vec();
            ice_servers.extend(inner.turn.as_ref().map(|turn| turn.issue(who)));
            ServerMessage::IceServers { ice_servers }
        } else if inner.hub.is_member(who) {
            ServerMessage::error(ErrorCode::NotAdmitted)
        } else {
            ServerMessage::error(ErrorCode::NotJoined)
        };
        inner.send(id, message);
    }

    /// From now on, records for attendance and the audit log go to the
    /// returned receiver.
    pub fn take_notes(&self) -> mpsc::Receiver<Note> {
        let (tx, rx) = mpsc::channel(NOTE_BACKLOG);
        self.lock().notes = Some(tx);
        rx
    }

    /// Shutting down: refuses new connections and asks every open one to
    /// close with "going away" (1001).
    pub fn go_away(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for connection in self.lock().connections.values_mut() {
            connection.queue(Outbound::Close(close::GOING_AWAY, "server shutting down"));
        }
    }

    /// Waits until every connection has ended, or `limit` has passed;
    /// `true` if all ended.
    pub async fn wait_until_closed(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.connections() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Takes a place for a new connection from `address` (and `account`),
    /// unless either already has as many as allowed.
    pub fn admit(self: &Arc<Self>, address: IpAddr, account: Option<AccountId>) -> Option<Admission> {
        if self.stopping.load(Ordering::SeqCst) {
            return None;
        }
        let mut inner = self.lock();
        let by_address = inner.per_address.get(&address).copied().unwrap_or(0);
        let by_account = account.map_or(0, |a| inner.per_account.get(&a).copied().unwrap_or(0));
        if by_address >= self.settings.max_per_address || by_account >= self.settings.max_per_account {
            drop(inner);
            self.counters.refused("too_many_connections".into());
            return None;
        }
        *inner.per_address.entry(address).or_default() += 1;
        if let Some(account) = account {
            *inner.per_account.entry(account).or_default() += 1;
        }
        Some(Admission { signaling: Arc::clone(self), address, account })
    }

    /// A new connection: its id and the receiving end of its outbox.
    fn connect(&self, owner: Option<Login>, address: IpAddr, person: Person) -> (ConnectionId, mpsc::Receiver<Outbound>) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (id, who) = (ConnectionId(n), ParticipantId(n));
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let mut inner = self.lock();
        inner.connections.insert(id, Connection { outbox: Some(tx), owner, who, address, person });
        inner.speaker.insert(who, id);
        (id, rx)
    }

    /// Closes the sockets opened by one sign-in (it signed out).
    pub fn close_login(&self, login: Login) {
        self.close_where(|owner| owner == login);
    }

    /// Closes every socket of `account`, except those of `keep` (its own
    /// sign-in, when ending the others).
    pub fn close_account(&self, account: AccountId, keep: Option<u64>) {
        self.close_where(|owner| owner.account == account && Some(owner.login) != keep);
    }

    /// The sign-in behind these sockets ended: their participants leave at
    /// once (no grace period: a signed-out person may not resume) and the
    /// sockets close with [`close::SIGNED_OUT`].
    fn close_where(&self, matches: impl Fn(Login) -> bool) {
        let mut inner = self.lock();
        let doomed: Vec<ConnectionId> = inner.connections.iter().filter(|(_, c)| c.owner.is_some_and(&matches)).map(|(id, _)| *id).collect();
        for id in doomed {
            inner.end(id, Ending::ForGood);
            if let Some(connection) = inner.connections.get_mut(&id) {
                connection.queue(Outbound::Close(close::SIGNED_OUT, "signed out"));
            }
        }
    }

    /// The room was deleted: everyone in its call loses their place and
    /// their connection closes with [`close::ROOM_CLOSED`].
    pub fn close_room(&self, room: RoomId) {
        let mut inner = self.lock();
        for who in inner.hub.close_room(room) {
            let Some(id) = inner.speaker.remove(&who) else { continue };
            if let Some(connection) = inner.connections.get_mut(&id) {
                connection.queue(Outbound::Close(close::ROOM_CLOSED, "room closed"));
            }
        }
        inner.deliver(Vec::new());
    }

    /// The connection ended; the room hears of it as `ending` says.
    fn disconnect(&self, id: ConnectionId, ending: Ending) {
        let mut inner = self.lock();
        inner.end(id, ending);
        inner.connections.remove(&id);
    }

    /// Feeds the hub an input from connection `id`'s participant.
    fn dispatch(&self, id: ConnectionId, input: impl FnOnce(ParticipantId) -> Input) {
        let mut inner = self.lock();
        let Some(who) = inner.connections.get(&id).map(|c| c.who) else { return };
        let out = inner.hub.handle(input(who));
        inner.deliver(out);
    }

    /// Connection `id` presents a resume token. On success it speaks for
    /// that participant from now on; an older connection still speaking for
    /// them is closed with [`close::REPLACED`].
    fn resume(&self, id: ConnectionId, token: &ResumeToken, version: u32, account: Option<AccountId>) {
        let mut inner = self.lock();
        let Some(current) = inner.connections.get(&id).map(|c| c.who) else { return };
        if inner.hub.is_member(current) {
            return inner.send(id, ServerMessage::error(ErrorCode::AlreadyJoined));
        }
        let (result, out) = inner.hub.resume(token, version, account, Instant::now());
        match result {
            Ok(who) => {
                if inner.speaker.get(&current) == Some(&id) {
                    inner.speaker.remove(&current);
                }
                if let Some(connection) = inner.connections.get_mut(&id) {
                    connection.who = who;
                }
                if let Some(older) = inner.speaker.insert(who, id).filter(|older| *older != id) {
                    if let Some(connection) = inner.connections.get_mut(&older) {
                        connection.queue(Outbound::Close(close::REPLACED, "replaced by a newer connection"));
                    }
                }
                inner.deliver(out);
            }
            Err(code) => {
                inner.deliver(out);
                inner.send(id, ServerMessage::error(code));
            }
        }
    }

    /// Whether connection `id` speaks for someone in a room.
    fn is_joined(&self, id: ConnectionId) -> bool {
        let inner = self.lock();
        inner.connections.get(&id).is_some_and(|c| inner.hub.is_member(c.who))
    }

    /// Host action `input` from connection `id`: refused ones are logged
    /// (a guest trying host powers is worth knowing about); a turned-away
    /// guest's address may not knock on the room again for a while.
    fn host_action(&self, id: ConnectionId, input: impl FnOnce(ParticipantId) -> Input) {
        let mut inner = self.lock();
        let Some(by) = inner.connections.get(&id).map(|c| c.who) else { return };
        let input = input(by);
        let action_name = match &input {
            Input::Admit { .. } => "admit",
            Input::Deny { .. } => "deny",
            Input::Host { action: HostAction::Mute(_) | HostAction::MuteAll, .. } => "mute",
            Input::Host { action: HostAction::Remove(_), .. } => "remove",
            Input::Host { action: HostAction::Lock(_), .. } => "lock",
            Input::Host { action: HostAction::LowerHand(_), .. } => "lower_hand",
            Input::Host { action: HostAction::LetSpeak(_), .. } => "let_speak",
            Input::LobbyChat { .. } => "lobby_chat",
            _ => "host_action",
        };
        let (target, code) = match &input {
            Input::Deny { who, .. } => (Some(*who), ErrorCode::Denied),
            Input::Host { action: HostAction::Remove(who), .. } => (Some(*who), ErrorCode::Removed),
            _ => (None, ErrorCode::Denied),
        };
        let room = inner.hub.room_of(by);
        let out = inner.hub.handle(input);
        if let [Outgoing { to, message: ServerMessage::Error { code: ErrorCode::NotHost, .. } }] = out.as_slice() {
            if *to == by {
                inner.refused(id, by, action_name);
            }
        }
        if let Some(guest) = target {
            let done = out.iter().any(|o| o.to == guest && matches!(&o.message, ServerMessage::Error { code: c, .. } if *c == code));
            let person = inner.speaker.get(&guest).and_then(|c| inner.connections.get(c)).map(|c| c.person.clone());
            if let (true, Some(person), Some(room)) = (done, person, room) {
                let marks = if code == ErrorCode::Removed { &mut inner.removed } else { &mut inner.denied };
                marks.mark(room, person);
            }
        }
        inner.deliver(out);
    }

    /// The host on connection `id` ends the call for everyone: every
    /// place in it and its lobby goes, and every connection closes with
    /// [`close::ENDED_BY_HOST`].
    fn end_for_all(&self, id: ConnectionId) {
        let mut inner = self.lock();
        let Some(by) = inner.connections.get(&id).map(|c| c.who) else { return };
        let room = match inner.hub.host_room(by) {
            Ok(room) => room,
            Err(code) => {
                if code == ErrorCode::NotHost {
                    inner.refused(id, by, "end_for_all");
                }
                return inner.send(id, ServerMessage::error(code));
            }
        };
        for who in inner.hub.close_room(room) {
            let Some(connection) = inner.speaker.remove(&who) else { continue };
            if let Some(connection) = inner.connections.get_mut(&connection) {
                connection.queue(Outbound::Close(close::ENDED_BY_HOST, "the host ended the call"));
            }
        }
        tracing::info!(participant = %by, "call ended by its host");
        inner.note(Note::Ended { by, room });
        inner.deliver(Vec::new());
    }

    /// The address and person connection `id` comes from.
    fn origin_of(&self, id: ConnectionId) -> Option<(IpAddr, Person)> {
        self.lock().connections.get(&id).map(|c| (c.address, c.person.clone()))
    }

    /// Whether someone from connection `id` was removed from `room`'s call
    /// lately (they wait in the lobby to come back).
    fn recently_removed(&self, id: ConnectionId, room: RoomId) -> bool {
        let mut inner = self.lock();
        let Some(person) = inner.connections.get(&id).map(|c| c.person.clone()) else { return false };
        inner.removed.holds(room, &person)
    }

    /// Whether a guest from connection `id` was turned away from `room`
    /// lately.
    fn recently_denied(&self, id: ConnectionId, room: RoomId) -> bool {
        let mut inner = self.lock();
        let Some(person) = inner.connections.get(&id).map(|c| c.person.clone()) else { return false };
        inner.denied.holds(room, &person)
    }

    /// Gives up the places of participants away past the grace period.
    pub fn expire_places(&self) {
        let mut inner = self.lock();
        let out = inner.hub.expire(Instant::now());
        inner.deliver(out);
    }

    /// Queues one message for one connection.
    fn send(&self, id: ConnectionId, message: ServerMessage) {
        self.lock().send(id, message);
    }

    /// Asks a connection's writer to close it with `code`.
    fn close(&self, id: ConnectionId, code: u16, reason: &'static str) {
        if let Some(connection) = self.lock().connections.get_mut(&id) {
            connection.queue(Outbound::Close(code, reason));
        }
    }

    /// Number of connected sockets.
    pub fn connections(&self) -> usize {
        self.lock().connections.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The hub's state stays consistent even if a holder panicked: every
        // `handle` call either completes or changes nothing observable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Queues each message on the connection speaking for its addressee.
    /// (Messages for away participants never get here: the hub holds them.)
    fn deliver(&mut self, out: Vec<Outgoing>) {
        for Outgoing { to, mut message } in out {
            let Some(id) = self.speaker.get(&to) else { continue };
            // Only someone let into a call gets TURN credentials, fresh.
            if let (ServerMessage::Welcome { ice_servers, .. }, Some(turn)) = (&mut message, &self.turn) {
                ice_servers.push(turn.issue(to));
            }
            if let Some(connection) = self.connections.get_mut(id) {
                connection.queue(Outbound::Message(message));
            }
        }
        for record in self.hub.take_records() {
            self.note(Note::Hub(record));
        }
    }

    /// Passes `note` on to be written; a full backlog is reported, since a
    /// lost attendance or audit record must not go unnoticed.
    fn note(&mut self, note: Note) {
        let Some(notes) = &self.notes else { return };
        if notes.try_send(note).is_err() {
            tracing::error!("attendance and audit backlog full: a record was not written");
        }
    }

    /// A host action from connection `id`, whose participant is not the
    /// host: logged and audited.
    fn refused(&mut self, id: ConnectionId, participant: ParticipantId, action: &'static str) {
        tracing::warn!(%participant, action, "host action refused");
        let Some(connection) = self.connections.get(&id) else { return };
        let (account, client) = (connection.owner.map(|o| o.account), connection.address);
        self.note(Note::Refused { participant, account, action, client });
    }

    fn send(&mut self, id: ConnectionId, message: ServerMessage) {
        if let Some(connection) = self.connections.get_mut(&id) {
            connection.queue(Outbound::Message(message));
        }
    }

    /// Connection `id` no longer speaks for its participant: they leave, or
    /// are away, as `ending` says. A connection already replaced by a newer
    /// one changes nothing.
    fn end(&mut self, id: ConnectionId, ending: Ending) {
        let Some(who) = self.connections.get(&id).map(|c| c.who) else { return };
        if self.speaker.get(&who) != Some(&id) {
            return;
        }
        self.speaker.remove(&who);
        let input = match ending {
            Ending::ForGood => Input::Leave { who },
            Ending::Dropped => Input::Drop { who, at: Instant::now() },
        };
        let out = self.hub.handle(input);
        self.deliver(out);
    }
}

/// `GET /ws`: upgrades to a signaling socket if the request comes from our
/// own origin.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(&*state.public_origin) {
        return (StatusCode::FORBIDDEN, "This page may only be used from Huddle's own address.").into_response();
    }
    let session = UserSession(session);
    let signed_in = async {
        let Some(account) = session.account(&state).await? else { return Ok(None) };
        let login = session.login().await?.map(|login| Login { account: account.id, login });
        let deadline = session.deadline(state.session_limits).await?;
        Ok::<_, crate::error::AppError>(Some((account, login, deadline)))
    };
    let (account, owner, deadline) = match signed_in.await {
        Ok(Some((account, login, deadline))) => (Some(account), login, deadline),
        Ok(None) => (None, None, None),
        Err(e) => return (e.status(), e.to_string()).into_response(),
    };
    let person = match (&account, guest_identity(&headers)) {
        (Some(account), _) => Person::Account(account.id),
        (None, Some(guest)) => Person::Guest(guest.to_string()),
        (None, None) => Person::Address(client.address),
    };
    let Some(admission) = state.signaling.admit(client.address, account.as_ref().map(|a| a.id)) else {
        return (StatusCode::TOO_MANY_REQUESTS, "Too many open connections. Close another Huddle tab and try again.").into_response();
    };
    // tungstenite's default buffers are 128 KiB each way per socket;
    // signaling messages are small, and idle sockets should cost little.
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE_BYTES * 2)
        .on_upgrade(move |socket| serve(socket, state, account, owner, deadline, admission, person))
}

/// Runs one connection until either side ends it, or until the session that
/// opened it reaches its absolute limit.
async fn serve(
    socket: WebSocket,
    state: AppState,
    account: Option<Account>,
    owner: Option<Login>,
    deadline: Option<SystemTime>,
    admission: Admission,
    person: Person,
) {
    let (id, outbox) = state.signaling.connect(owner, admission.address, person);
    let (sink, stream) = socket.split();
    let mut writer = tokio::spawn(write_loop(sink, outbox, state.signaling.settings.heartbeat.ping_every, Arc::clone(&state.signaling.counters)));
    let expiry = async {
        match deadline {
            Some(at) => tokio::time::sleep(at.duration_since(SystemTime::now()).unwrap_or_default()).await,
            None => std::future::pending().await,
        }
    };
    let mut writer_done = false;
    let (close, ending) = tokio::select! {
        ending = read_loop(stream, id, &state, account.as_ref()) => ending,
        // The writer gave up (write deadline, outbox dropped, shut down).
        _ = &mut writer => {
            writer_done = true;
            (None, Ending::Dropped)
        }
        _ = expiry => (Some((close::SIGNED_OUT, "session ended")), Ending::ForGood),
    };
    if let Some((code, reason)) = close {
        state.signaling.close(id, code, reason);
    }
    state.signaling.disconnect(id, ending);
    // The outbox is gone, so the writer sends a close frame and ends. (A
    // finished task must not be awaited again.)
    if !writer_done && tokio::time::timeout(WRITE_DEADLINE, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Reads until the connection ends; says how the server should close it (if
/// the server is the one closing) and whether the participant may resume.
async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    id: ConnectionId,
    state: &AppState,
    account: Option<&Account>,
) -> (Option<(u16, &'static str)>, Ending) {
    let join_by = tokio::time::Instant::now() + JOIN_DEADLINE;
    let mut joined = false;
    let mut bucket = TokenBucket::new(BURST, PER_SECOND, std::time::Instant::now());
    let mut dropped = 0u32;
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(state.signaling.settings.heartbeat.silence_limit, stream.next()) => frame,
            _ = tokio::time::sleep_until(join_by), if !joined => return (Some((close::POLICY, "join first")), Ending::ForGood),
        };
        let frame = match frame {
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => return read_failure(e),
            // Silent past the limit: longer than any blip worth waiting for.
            Err(_) => return (None, Ending::ForGood),
            // The TCP connection ended without a goodbye.
            Ok(None) => return (None, Ending::Dropped),
        };
        if matches!(frame, Message::Text(_) | Message::Binary(_)) && !bucket.take(std::time::Instant::now()) {
            dropped += 1;
            if dropped == 1 {
                state.signaling.send(id, ServerMessage::error(ErrorCode::RateLimited));
            }
            if dropped > FLOOD_LIMIT {
                return (Some((close::POLICY, "too many messages")), Ending::ForGood);
            }
            continue;
        }
        match frame {
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
                Ok(message) => {
                    if !on_message(message, id, state, account).await {
                        return (None, Ending::Dropped);
                    }
                    // Only getting in counts: a refused join or resume does
                    // not stop the clock.
                    joined = joined || state.signaling.is_joined(id);
                }
                Err(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            },
            Message::Binary(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            // A close frame is a goodbye (a closed tab sends one; a lost
            // network does not).
            Message::Close(_) => return (None, Ending::ForGood),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// The close code for a frame the WebSocket layer could not read.
fn read_failure(error: axum::Error) -> (Option<(u16, &'static str)>, Ending) {
    match error.into_inner().downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => (Some((close::TOO_BIG, "message too big")), Ending::ForGood),
        Some(tungstenite::Error::Utf8(_)) => (Some((close::INVALID_DATA, "text must be UTF-8")), Ending::ForGood),
        _ => (None, Ending::Dropped),
    }
}

/// Handles one parsed message; `false` ends the connection.
async fn on_message(message: ClientMessage, id: ConnectionId, state: &AppState, account: Option<&Account>) -> bool {
    let now_ms = u64::try_from(state.clock.now().as_millisecond()).unwrap_or(0);
    let account_id = account.map(|a| a.id);
    match message {
        ClientMessage::Join { version, room, name, passcode } => {
            // Links that lead nowhere are counted per address: 144-bit links
            // cannot be guessed, but a flood of lookups still costs.
            let address = state.signaling.origin_of(id).map(|(address, _)| address.to_string()).unwrap_or_default();
            let Ok(lookup) = state.room_lookups.begin(&address, std::time::Instant::now()) else {
                state.signaling.send(id, ServerMessage::error(ErrorCode::TooManyWrongLinks));
                return true;
            };
            let found = rooms::find_by_slug(&state.db, &room).await;
            match &found {
                Ok(None) => lookup.failed(std::time::Instant::now()),
                _ => lookup.neither(),
            }
            let (room, host, lobby, rules) = match found {
                Ok(Some(found)) => {
                    // Guests only in a join window; the host whenever.
                    if account_id != Some(found.owner_id) {
                        let refusal = match crate::api::rooms::availability(state, found.id).await {
                            Ok(Availability::Open) => None,
                            Ok(Availability::NotYet { .. }) => Some(ErrorCode::NotOpenYet),
                            Ok(Availability::Ended) => Some(ErrorCode::SessionEnded),
                            Err(_) => return false, // logged
                        };
                        let refusal = refusal.or_else(|| state.signaling.recently_denied(id, RoomId(found.id)).then_some(ErrorCode::Denied));
                        let refusal = match (refusal, found.passcode.as_deref()) {
                            (None, Some(expected)) => {
                                match check_passcode(state, id, found.id, expected, passcode.as_deref().unwrap_or_default()).await {
                                    Ok(refusal) => refusal,
                                    Err(_) => return false, // logged
                                }
                            }
                            (refusal, _) => refusal,
                        };
                        if let Some(code) = refusal {
                            state.signaling.send(id, ServerMessage::error(code));
                            return true; // fatal: the writer closes
                        }
                    }
                    let host = account_id == Some(found.owner_id);
                    // A consultation always has its lobby, whatever is stored.
                    let lobby = found.lobby || !found.kind.lobby_optional() || (!host && state.signaling.recently_removed(id, RoomId(found.id)));
                    (RoomId(found.id), host, lobby, room_rules(&found))
                }
                Ok(None) => {
                    state.signaling.send(id, ServerMessage::error(ErrorCode::UnknownRoom));
                    return true; // the writer closes after this fatal error
                }
                Err(_) => return false, // logged by the lookup
            };
            // A signed-in account's own name wins over anything typed.
            let name = match account {
                Some(account) => account.display_name.clone(),
                None => match DisplayName::parse(&name) {
                    Ok(name) => name,
                    Err(_) => {
                        state.signaling.send(id, ServerMessage::error(ErrorCode::InvalidName));
                        return true;
                    }
                },
            };
            let token = new_resume_token();
            state.signaling.dispatch(id, |who| Input::Join {
                who,
                version,
                room,
                name,
                account: account_id,
                token,
                host,
                lobby,
                at_ms: now_ms,
                rules,
            });
        }
        ClientMessage::Resume { version, token } => state.signaling.resume(id, &token, version, account_id),
        ClientMessage::Signal { to, payload } => state.signaling.dispatch(id, |from| Input::Signal { from, to, payload }),
        ClientMessage::Chat { text } => match ChatText::parse(&text) {
            Ok(text) => {
                state.signaling.dispatch(id, |from| Input::Chat { from, text, at_ms: now_ms });
            }
            Err(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::InvalidChat)),
        },
        ClientMessage::Admit { id: guest } => state.signaling.host_action(id, |by| Input::Admit { by, who: Some(guest) }),
        ClientMessage::AdmitAll => state.signaling.host_action(id, |by| Input::Admit { by, who: None }),
        ClientMessage::Deny { id: guest } => state.signaling.host_action(id, |by| Input::Deny { by, who: guest }),
        ClientMessage::Mute { id: who } => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::Mute(who) }),
        ClientMessage::MuteAll => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::MuteAll }),
        ClientMessage::Remove { id: who } => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::Remove(who) }),
        ClientMessage::Lock { locked } => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::Lock(locked) }),
        ClientMessage::LowerHand { id: who } => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::LowerHand(who) }),
        ClientMessage::LetSpeak { id: who } => state.signaling.host_action(id, |by| Input::Host { by, action: HostAction::LetSpeak(who) }),
        ClientMessage::LobbyChat { id: guest, text } => match ChatText::parse(&text) {
            Ok(text) => state.signaling.host_action(id, |by| Input::LobbyChat { by, guest, text, at_ms: now_ms }),
            Err(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::InvalidChat)),
        },
        ClientMessage::IceServers => state.signaling.ice_servers(id),
        ClientMessage::EndForAll => state.signaling.end_for_all(id),
        ClientMessage::Hand { raised } => state.signaling.dispatch(id, |who| Input::Hand { who, raised }),
        ClientMessage::Media { state: media } => state.signaling.dispatch(id, |who| Input::Media { who, state: media }),
        ClientMessage::Leave => state.signaling.dispatch(id, |who| Input::Leave { who }),
    }
    true
}

/// STUN URLs a browser can try before it has credentials: each configured
/// STUN server, and each UDP TURN server's own STUN service (a TURN server
/// answers STUN binding requests without credentials). TCP and TLS TURN
/// are left out: browsers send STUN over UDP only.
pub fn stun_probes<'a>(urls: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut probes: Vec<String> = Vec::new();
    for url in urls {
        let (address, query) = url.split_once('?').unwrap_or((url, ""));
        let probe = if let Some(rest) = address.strip_prefix("stun:") {
            format!("stun:{rest}")
        } else if let Some(rest) = address.strip_prefix("turn:") {
            if query.split('&').any(|q| q == "transport=tcp") {
                continue;
            }
            format!("stun:{rest}")
        } else {
            continue;
        };
        if !probes.contains(&probe) {
            probes.push(probe);
        }
    }
    probes
}

/// What a stored room's settings mean for its call.
fn room_rules(room: &rooms::Room) -> RoomRules {
    RoomRules {
        limit: room.max_participants.and_then(|m| usize::try_from(m).ok()).unwrap_or(usize::MAX),
        companions: room.kind == RoomKind::Consultation,
        guests: CallRules {
            join_muted: room.guests.join_muted,
            may_unmute: room.guests.may_unmute,
            may_share_screen: room.guests.may_share_screen,
            relay_only: room.relay_only,
        },
        keep_chat: room.guests.keep_chat,
    }
}

/// Checks a guest's passcode for room `room`, throttled per room and
/// person, and (more loosely, since a school shares one address) per room
/// and address: after a few wrong ones, each further try waits longer.
async fn check_passcode(
    state: &AppState,
    id: ConnectionId,
    room: i64,
    expected: &str,
    given: &str,
) -> Result<Option<ErrorCode>, crate::error::AppError> {
    // A connection already gone gets nothing but a refusal.
    let Some((address, person)) = state.signaling.origin_of(id) else { return Ok(Some(ErrorCode::WrongPasscode)) };
    let (person_key, address_key) = (format!("{room}:{person:?}"), format!("{room}:{address}"));
    let throttle = &state.passcode_throttle;
    let now = std::time::Instant::now();
    // Reserved before the (slow) hash, so a burst cannot all be checked.
    let (Ok(by_person), Ok(by_address)) = (throttle.per_person.begin(&person_key, now), throttle.per_address.begin(&address_key, now)) else {
        return Ok(Some(ErrorCode::TooManyPasscodes));
    };
    if rooms::passcode_matches(&state.hasher, expected, given.trim()).await? {
        by_person.succeeded();
        by_address.neither();
        Ok(None)
    } else {
        let now = std::time::Instant::now();
        by_person.failed(now);
        by_address.failed(now);
        tracing::info!(room, "wrong room passcode");
        Ok(Some(ErrorCode::WrongPasscode))
    }
}

/// 256 bits from the OS random source: unguessable, so only the one it was
/// given to can take the place back.
fn new_resume_token() -> ResumeToken {
    ResumeToken(crate::server::token::random_token::<32>())
}

async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut outbox: mpsc::Receiver<Outbound>, ping_every: Duration, counters: Arc<Counters>) {
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    loop {
        let frame = tokio::select! {
            next = outbox.recv() => match next {
                Some(Outbound::Close(code, reason)) => {
                    close(&mut sink, code, reason).await;
                    return;
                }
                Some(Outbound::Message(message)) => {
                    let fatal = matches!(message, ServerMessage::Error { code, .. } if code.is_fatal());
                    let json = match serde_json::to_string(&message) {
                        Ok(json) => json,
                        Err(e) => {
                            tracing::error!(%e, "serialising a signaling message failed");
                            continue;
                        }
                    };
                    if !send(&mut sink, Message::Text(json.into())).await {
                        return;
                    }
                    counters.sent(&message);
                    if fatal {
                        close(&mut sink, close::POLICY, "refused").await;
                        return;
                    }
                    continue;
                }
                None => {
                    close(&mut sink, close::NORMAL, "bye").await;
                    return;
                }
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        if !send(&mut sink, frame).await {
            return;
        }
    }
}

async fn send(sink: &mut SplitSink<WebSocket, Message>, frame: Message) -> bool {
    matches!(tokio::time::timeout(WRITE_DEADLINE, sink.send(frame)).await, Ok(Ok(())))
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }));
    let _ = send(sink, frame).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stun_probes_come_from_stun_and_udp_turn_urls() {
        let urls: Vec<String> = [
            "stun:stun.example.org:3478",
            "turn:turn.example.org:3478?transport=udp",
            "turn:turn.example.org:3478?transport=tcp",
            "turn:other.example.org",
            "turns:turn.example.org:5349",
            "stun:stun.example.org:3478",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(stun_probes(urls.iter()), ["stun:stun.example.org:3478", "stun:turn.example.org:3478", "stun:other.example.org"]);
        assert!(stun_probes([].iter()).is_empty());
    }

    #[test]
    fn a_client_that_stops_reading_is_cut_off_once_its_outbox_is_full() {
        let (tx, mut rx) = mpsc::channel(OUTBOX_CAPACITY);
        let mut connection = Connection {
            outbox: Some(tx),
            owner: None,
            who: ParticipantId(1),
            address: [127, 0, 0, 1].into(),
            person: Person::Address([127, 0, 0, 1].into()),
        };
        for _ in 0..OUTBOX_CAPACITY {
            connection.queue(Outbound::Message(ServerMessage::MutedByHost));
        }
        assert!(connection.outbox.is_some(), "a full outbox is still allowed");
        connection.queue(Outbound::Message(ServerMessage::MutedByHost));
        assert!(connection.outbox.is_none(), "one more and the client is given up on");
        // Nothing more is held for it: the writer drains what was queued,
        // then sees the queue closed and closes the socket.
        let mut drained = 0;
        while let Ok(Outbound::Message(_)) = rx.try_recv() {
            drained += 1;
        }
        assert_eq!(drained, OUTBOX_CAPACITY);
        assert!(matches!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected)));
    }
}

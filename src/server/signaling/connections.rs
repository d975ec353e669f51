//! The registry of open signaling connections around the hub: which
//! connection speaks for which participant, each one's bounded outbox, the
//! caps per address and per account. It passes each event to the hub once,
//! under one lock, and carries out the [`Effects`] that come back.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::call::hub::{Caller, Closing, Cooldown, Effects, Ending, Hub, JoinFacts, Now, Outgoing, Person, Record, RoomId, RESUME_GRACE};
use crate::call::protocol::{close, ClientMessage, IceServer, ParticipantId, ServerMessage, WaitingGuest};
use crate::call::turn::TurnIssuer;
use crate::call::{MediaPolicy, MESH_LIMIT};
use crate::domain::ClientNetwork;
use crate::domain::{AccountId, DisplayName};
use crate::server::clock::Clock;
use crate::server::log_budget::LogBudget;
use crate::server::media::MediaServer;
use crate::server::metrics::SignalingStats;

/// Messages queued for one client before it counts as too slow and is cut off.
pub(super) const OUTBOX_CAPACITY: usize = 256;
/// Records waiting to be written before more are dropped (and reported).
const RECORD_BACKLOG: usize = 10_000;

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
    /// Which calls go through the media server, when one runs.
    pub media: Option<MediaPolicy>,
}

impl Default for SignalingSettings {
    fn default() -> Self {
        Self {
            heartbeat: Heartbeat::default(),
            max_per_address: 100,
            max_per_account: 10,
            room_size: MESH_LIMIT,
            resume_grace: RESUME_GRACE,
            media: None,
        }
    }
}

/// What a writer task sends next.
pub(super) enum Outbound {
    Message(ServerMessage),
    /// Close the socket with this code and reason, then stop.
    Close(u16, &'static str),
}

/// Messages the writers sent, by kind, for metrics.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Signals and chat passed from one participant to another.
    relayed: AtomicU64,
    /// Refusals by error code, and connections refused for their number.
    refusals: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub(super) fn sent(&self, message: &ServerMessage) {
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
    pub(super) counters: Arc<Counters>,
    next_id: AtomicU64,
    /// Set once the server is shutting down: no new connections.
    stopping: AtomicBool,
    pub(super) settings: SignalingSettings,
    /// The application's clock, for the times people see.
    clock: Clock,
}

struct Inner {
    hub: Hub,
    /// Every open socket.
    connections: HashMap<ConnectionId, Connection>,
    /// The connection that currently speaks for each participant. A
    /// participant who is away has none; one who resumed has their newest.
    speaker: HashMap<ParticipantId, ConnectionId>,
    /// Open connections per client address and per account.
    per_address: HashMap<ClientNetwork, usize>,
    per_account: HashMap<AccountId, usize>,
    /// Where records for attendance and the audit log go.
    records: Option<mpsc::Sender<Record>>,
    /// The media server, for calls through it.
    media: Option<MediaServer>,
    /// Cluster mode: where cooldowns go for the other nodes to know.
    share_marks: Option<ShareMarks>,
}

/// Tells other nodes of a cooldown the hub marked.
pub type ShareMarks = Box<dyn Fn(Cooldown, RoomId, Person) + Send>;

/// One socket, for the life of its TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionId(u64);

/// Who is behind a new connection.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The sign-in that opened it, for a signed-in account.
    pub login: Option<Login>,
    /// The signed-in account and its display name.
    pub account: Option<(AccountId, DisplayName)>,
    /// The client's address (resolved behind trusted proxies).
    pub address: IpAddr,
    pub person: Person,
    /// The account's session epoch its sign-in was valid under.
    pub epoch: Option<i64>,
}

struct Connection {
    /// Its writer's queue; `None` once the server has given up on it.
    outbox: Option<mpsc::Sender<Outbound>>,
    /// Shared with the connection's reader, which asks the database about it.
    visitor: Arc<Visitor>,
    /// The participant it speaks for: until `join` or `resume` succeeds, a
    /// fresh id the hub does not know.
    who: ParticipantId,
    /// The session epoch its sign-in is valid under: the visitor's, or the
    /// newer one a kept sign-in moved to.
    epoch: Option<i64>,
}

impl Connection {
    /// Queues `item`; a client too slow to take it is cut off (dropping the
    /// queue makes its writer close the socket).
    fn queue(&mut self, item: Outbound) {
        let Some(tx) = &self.outbox else { return };
        match tx.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                crate::log_within!(
                    LogBudget::new(5, Duration::from_secs(10)),
                    warn,
                    participant = %self.who,
                    "signaling outbox full; disconnecting a client that stopped reading"
                );
                self.outbox = None;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.outbox = None,
        }
    }

    fn caller(&self) -> Caller<'_> {
        let Visitor { account, address, person, .. } = &*self.visitor;
        Caller {
            who: self.who,
            account: account.as_ref().map(|(id, _)| *id),
            account_name: account.as_ref().map(|(_, name)| name),
            person,
            address: *address,
        }
    }
}

/// A place among the open connections, given back when dropped.
pub struct Admission {
    signaling: Arc<Signaling>,
    address: ClientNetwork,
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
    /// Signaling whose calls use `ice_servers`, and give everyone let in
    /// their own TURN credentials from `turn`, on the application's `clock`;
    /// the participant ids it hands out count up from `first_id`.
    pub fn new(ice_servers: Vec<IceServer>, turn: Option<TurnIssuer>, settings: SignalingSettings, clock: Clock, first_id: u64) -> Self {
        let inner = Inner {
            hub: Hub::with_room_size(ice_servers, settings.room_size).with_grace(settings.resume_grace).with_turn(turn).with_media(settings.media),
            connections: HashMap::new(),
            speaker: HashMap::new(),
            per_address: HashMap::new(),
            per_account: HashMap::new(),
            records: None,
            media: None,
            share_marks: None,
        };
        Self {
            inner: Mutex::new(inner),
            counters: Arc::default(),
            next_id: AtomicU64::new(first_id),
            stopping: AtomicBool::new(false),
            settings,
            clock,
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

    /// Who waits in each of `rooms`' lobbies now (rooms nobody waits in
    /// are left out), for the host's dashboard.
    pub fn waiting_in(&self, rooms: impl IntoIterator<Item = RoomId>) -> Vec<(RoomId, Vec<WaitingGuest>)> {
        let inner = self.lock();
        rooms.into_iter().map(|room| (room, inner.hub.waiting_in(room).to_vec())).filter(|(_, waiting)| !waiting.is_empty()).collect()
    }

    /// Cluster mode: every welcome carries a pass `issuer` signs, and
    /// every cooldown the hub marks goes to `share` too.
    pub fn join_cluster(&self, issuer: crate::call::pass::PassIssuer, share: ShareMarks) {
        let mut inner = self.lock();
        inner.hub.use_passes(issuer);
        inner.share_marks = Some(share);
    }

    /// Calls the settings route through the media server go to `server`.
    pub fn attach_media(&self, server: MediaServer) {
        self.lock().media = Some(server);
    }

    /// The media server's address, when one runs.
    pub fn media_address(&self) -> Option<std::net::SocketAddr> {
        self.lock().media.as_ref().map(MediaServer::address)
    }

    /// The most people a room's call may be set to take: a mesh's
    /// (`HUDDLE_ROOM_SIZE`), or the media server's where it runs if larger.
    pub fn largest_call(&self) -> usize {
        let mesh = self.settings.room_size;
        self.settings.media.map_or(mesh, |policy| policy.room_size.max(mesh))
    }

    /// How many a call of a room of `kind`, set to `max_participants`,
    /// takes: that setting, within the cap of how the call would carry
    /// media (a mesh's `HUDDLE_ROOM_SIZE`, the media server's
    /// `HUDDLE_SFU_ROOM_SIZE`), or the cap itself where it is not set.
    pub fn call_size(&self, kind: crate::domain::RoomKind, max_participants: Option<i64>) -> usize {
        let max = max_participants.and_then(|m| usize::try_from(m).ok());
        let cap = match (crate::call::topology_for(kind, max, self.settings.media), self.settings.media) {
            (crate::call::protocol::Topology::Sfu, Some(policy)) => policy.room_size,
            _ => self.settings.room_size,
        };
        max.map_or(cap, |max| max.min(cap))
    }

    /// Whether this server runs a media server.
    pub fn has_media(&self) -> bool {
        self.settings.media.is_some()
    }

    /// How many a call between browsers takes (`HUDDLE_ROOM_SIZE`).
    pub fn mesh_size(&self) -> usize {
        self.settings.room_size
    }

    /// How room `room`'s call carries media: the call under way's, or what
    /// a call starting now would use.
    pub fn topology_for(&self, room: RoomId, kind: crate::domain::RoomKind, max_participants: Option<i64>) -> crate::call::protocol::Topology {
        let inner = self.lock();
        match inner.hub.call_topology(room) {
            Some(topology) => topology,
            None => crate::call::topology_for(kind, max_participants.and_then(|m| usize::try_from(m).ok()), self.settings.media),
        }
    }

    /// A message from the media server for `to`'s connection.
    pub fn deliver(&self, to: ParticipantId, message: ServerMessage) {
        let mut inner = self.lock();
        let Some(id) = inner.speaker.get(&to).copied() else { return };
        if let Some(connection) = inner.connections.get_mut(&id) {
            connection.queue(Outbound::Message(message));
        }
    }

    /// Whether a TURN service is configured.
    pub fn has_turn(&self) -> bool {
        self.lock().hub.has_turn()
    }

    /// What a browser may test before joining, with no credentials.
    pub fn probe_urls(&self) -> Vec<String> {
        self.lock().hub.probe_urls()
    }

    /// From now on, records for attendance and the audit log go to the
    /// returned receiver.
    pub fn take_records(&self) -> mpsc::Receiver<Record> {
        let (tx, rx) = mpsc::channel(RECORD_BACKLOG);
        self.lock().records = Some(tx);
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

    /// From now on, no new connections (the server is about to shut down).
    pub fn stop_admitting(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether the server is shutting down (it takes no new connections).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
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
        let address = ClientNetwork::of(address);
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
    pub(super) fn connect(&self, visitor: Arc<Visitor>) -> (ConnectionId, mpsc::Receiver<Outbound>) {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (id, who) = (ConnectionId(n), ParticipantId(n));
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let mut inner = self.lock();
        let epoch = visitor.epoch;
        inner.connections.insert(id, Connection { outbox: Some(tx), visitor, who, epoch });
        inner.speaker.insert(who, id);
        (id, rx)
    }

    /// Closes the sockets opened by one sign-in (it signed out).
    pub fn close_login(&self, login: Login) {
        self.close_where(|owner| owner == login);
    }

    /// `account` moved to session epoch `epoch`: closes every socket of it,
    /// except those of `keep` (its own sign-in, when ending the others),
    /// which are valid under the new epoch from now on.
    pub fn close_account(&self, account: AccountId, keep: Option<u64>, epoch: i64) {
        if let Some(keep) = keep {
            let kept = Login { account, login: keep };
            for connection in self.lock().connections.values_mut().filter(|c| c.visitor.login == Some(kept)) {
                connection.epoch = Some(epoch);
            }
        }
        self.close_where(|owner| owner.account == account && Some(owner.login) != keep);
    }

    /// The signed-in accounts with a socket here, each with the session
    /// epochs those sockets are valid under (for the regular re-check).
    pub fn signed_in(&self) -> Vec<(AccountId, i64)> {
        let inner = self.lock();
        let mut all: Vec<(AccountId, i64)> = inner.connections.values().filter_map(|c| Some((c.visitor.login?.account, c.epoch?))).collect();
        all.sort_unstable_by_key(|(account, epoch)| (account.0, *epoch));
        all.dedup();
        all
    }

    /// The re-check found `account` at session epoch `current` (or gone:
    /// `None`): its sockets valid under another epoch close, as if the
    /// command that changed it had reached this node.
    pub fn close_stale(&self, account: AccountId, current: Option<i64>) {
        let stale: Vec<u64> = {
            let inner = self.lock();
            inner
                .connections
                .values()
                .filter_map(|c| c.visitor.login.filter(|l| l.account == account && c.epoch != current).map(|l| l.login))
                .collect()
        };
        for login in stale {
            self.close_login(Login { account, login });
        }
    }

    /// The sign-in behind these sockets ended: their participants leave at
    /// once (no grace period: a signed-out person may not resume) and the
    /// sockets close with [`close::SIGNED_OUT`].
    fn close_where(&self, matches: impl Fn(Login) -> bool) {
        let now = self.now();
        let mut inner = self.lock();
        let doomed: Vec<ConnectionId> = inner.connections.iter().filter(|(_, c)| c.visitor.login.is_some_and(&matches)).map(|(id, _)| *id).collect();
        for id in doomed {
            inner.end(id, Ending::ForGood, now);
            if let Some(connection) = inner.connections.get_mut(&id) {
                connection.queue(Outbound::Close(close::SIGNED_OUT, "signed out"));
            }
        }
    }

    /// The room was deleted: everyone in its call loses their place and
    /// their connection closes with [`close::ROOM_CLOSED`].
    pub fn close_room(&self, room: RoomId) {
        let now = self.now();
        let mut inner = self.lock();
        let effects = inner.hub.room_deleted(room, now);
        inner.carry_out(None, effects);
    }

    /// Whether a call, or its lobby, is under way in `room` here.
    pub fn hosts(&self, room: RoomId) -> bool {
        self.lock().hub.call_topology(room).is_some()
    }

    /// Cluster mode: node `node` serves `room`'s call now. Everyone in it
    /// here is told so, and their connections close.
    pub fn move_room(&self, room: RoomId, node: &str) {
        let now = self.now();
        let mut inner = self.lock();
        let effects = inner.hub.room_moved(room, node, now);
        inner.carry_out(None, effects);
    }

    /// The connection ended; the call hears of it as `ending` says.
    pub(super) fn disconnect(&self, id: ConnectionId, ending: Ending) {
        let now = self.now();
        let mut inner = self.lock();
        inner.end(id, ending, now);
        inner.connections.remove(&id);
    }

    /// One message from connection `id` (for a `join`, with what the server
    /// looked up): the hub decides, under one lock, and its effects are
    /// carried out. Says whether the connection then holds a place in a
    /// room.
    pub(super) fn receive(&self, id: ConnectionId, message: ClientMessage, facts: Option<JoinFacts>) -> bool {
        let now = self.now();
        let mut inner = self.lock();
        let Inner { hub, connections, .. } = &mut *inner;
        let Some(connection) = connections.get(&id) else { return false };
        let effects = hub.receive(&connection.caller(), message, facts, now);
        inner.carry_out(Some(id), effects);
        inner.connections.get(&id).is_some_and(|c| inner.hub.is_member(c.who))
    }

    /// The tick: gives up the places of participants away past the grace
    /// period, and sends lobby lists held back.
    pub fn expire_places(&self) {
        let now = self.now();
        let mut inner = self.lock();
        let effects = inner.hub.tick(now);
        inner.carry_out(None, effects);
    }

    /// Queues one message for one connection.
    pub(super) fn send(&self, id: ConnectionId, message: ServerMessage) {
        if let Some(connection) = self.lock().connections.get_mut(&id) {
            connection.queue(Outbound::Message(message));
        }
    }

    /// Asks a connection's writer to close it with `code`.
    pub(super) fn close(&self, id: ConnectionId, code: u16, reason: &'static str) {
        if let Some(connection) = self.lock().connections.get_mut(&id) {
            connection.queue(Outbound::Close(code, reason));
        }
    }

    /// Number of connected sockets.
    pub fn connections(&self) -> usize {
        self.lock().connections.len()
    }

    fn now(&self) -> Now {
        Now { at: Instant::now(), unix_ms: u64::try_from(self.clock.now().as_millisecond()).unwrap_or(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The hub's state stays consistent even if a holder panicked: every
        // call either completes or changes nothing observable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Carries out what the hub decided for an event from connection
    /// `from` (if one sent it).
    fn carry_out(&mut self, from: Option<ConnectionId>, effects: Effects) {
        let Effects { send, close, records, speaks_for, media } = effects;
        if let Some(server) = &self.media {
            for command in media {
                server.send(command);
            }
        }
        if let (Some(id), Some(who)) = (from, speaks_for) {
            self.speak_for(id, who);
        }
        for Outgoing { to, message } in send {
            // Messages for away participants never get here: the hub holds them.
            let Some(id) = self.speaker.get(&to) else { continue };
            if let Some(connection) = self.connections.get_mut(id) {
                connection.queue(Outbound::Message(message));
            }
        }
        for Closing { who, code, reason } in close {
            let Some(id) = self.speaker.remove(&who) else { continue };
            if let Some(connection) = self.connections.get_mut(&id) {
                connection.queue(Outbound::Close(code, reason));
            }
        }
        for record in records {
            match &record {
                Record::Refused { participant, action, .. } => {
                    crate::log_within!(LogBudget::new(5, Duration::from_secs(10)), warn, %participant, action, "host action refused")
                }
                Record::Ended { by, .. } => tracing::info!(participant = %by, "call ended by its host"),
                Record::Marked { cooldown, room, person } => {
                    if let Some(share) = &self.share_marks {
                        share(*cooldown, *room, person.clone());
                    }
                    continue;
                }
                _ => {}
            }
            self.pass_on(record);
        }
    }

    /// Connection `id` resumed `who`'s place: it speaks for them from now
    /// on; an older connection still speaking for them is closed with
    /// [`close::REPLACED`].
    fn speak_for(&mut self, id: ConnectionId, who: ParticipantId) {
        let Some(connection) = self.connections.get_mut(&id) else { return };
        let current = std::mem::replace(&mut connection.who, who);
        if self.speaker.get(&current) == Some(&id) {
            self.speaker.remove(&current);
        }
        if let Some(older) = self.speaker.insert(who, id).filter(|older| *older != id) {
            if let Some(connection) = self.connections.get_mut(&older) {
                connection.queue(Outbound::Close(close::REPLACED, "replaced by a newer connection"));
            }
        }
    }

    /// Passes `record` on to be written; a full backlog is reported, since
    /// a lost attendance or audit record must not go unnoticed.
    fn pass_on(&mut self, record: Record) {
        let Some(records) = &self.records else { return };
        if records.try_send(record).is_err() {
            tracing::error!("attendance and audit backlog full: a record was not written");
        }
    }

    /// Connection `id` no longer speaks for its participant: they leave, or
    /// are away, as `ending` says. A connection already replaced by a newer
    /// one changes nothing.
    fn end(&mut self, id: ConnectionId, ending: Ending, now: Now) {
        let Some(who) = self.connections.get(&id).map(|c| c.who) else { return };
        if self.speaker.get(&who) != Some(&id) {
            return;
        }
        self.speaker.remove(&who);
        let effects = self.hub.gone(who, ending, now);
        self.carry_out(None, effects);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_document_gives_the_socket_limits_in_force() {
        // It said 20 per address; the default is 100.
        let doc = include_str!("../../../docs/signaling-protocol.md").replace("\n  ", " ");
        let settings = SignalingSettings::default();
        assert!(doc.contains(&format!("At most {} open connections per client address", settings.max_per_address)), "per address");
        assert!(doc.contains(&format!("and {} per signed-in account", settings.max_per_account)), "per account");
    }

    #[test]
    fn a_client_that_stops_reading_is_cut_off_once_its_outbox_is_full() {
        let (tx, mut rx) = mpsc::channel(OUTBOX_CAPACITY);
        let address: IpAddr = [127, 0, 0, 1].into();
        let visitor =
            Visitor { login: None, account: None, address, person: Person::Address(crate::domain::ClientNetwork::of(address)), epoch: None };
        let mut connection = Connection { outbox: Some(tx), visitor: Arc::new(visitor), who: ParticipantId(1), epoch: None };
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

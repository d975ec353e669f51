//! Cluster mode (`HUDDLE_REDIS_URL`): several nodes on one PostgreSQL
//! database, each room's call on exactly one of them. This is the adapter
//! of the lease rules ([`crate::call::lease`]): it reads Redis, asks the
//! rules, and writes back with a compare and set, so two nodes deciding at
//! once cannot both win.
//!
//! In Redis, under the prefix (`huddle:` by default):
//! - `node:{node}`: the instance of the node that beats, renewed every third
//!   of its time to live (6 s);
//! - `room:{id}`: the room's holder, `node/instance`, renewed by the holder
//!   every third of the node's time to live, lapsing after 15 s;
//! - `cool:{room}:{cooldown}:{hash}`: a person turned away or removed
//!   (`cooldowns`), for as long as the cooldown lasts;
//! - `thr:{kind}:{hash}`: failures the throttles count (`tally`);
//! - `bus`, `passkey`: sign-outs and deleted rooms (`bus`), the pass key.
//!
//! Nothing else about a call is in Redis: its people, lobby and media live
//! in the holder's hub, and a socket that reaches another node is told to
//! go there (`moved`).

pub mod bus;
mod cooldowns;
pub mod redis;
mod tally;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::call::hub::RoomId;
use crate::call::lease::{claim, renew, Claim, Holder, Renew, Seen};
use crate::server::db::NodeId;
use crate::server::log_budget::LogBudget;
use crate::server::signaling::Signaling;

pub use redis::{Redis, RedisError, RedisUrl, Reply};

/// Writes `ARGV[2]` (or removes the key when it is empty) with a time to
/// live of `ARGV[3]` ms, only if the key still holds `ARGV[1]` (empty: is
/// not there) and, given a second key, that key does not hold `ARGV[4]`
/// (taking a room over: its holder's heartbeat must still be gone, or name
/// another life). 1 if written.
const SET_IF: &str = "local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
if KEYS[2] and (redis.call('GET', KEYS[2]) or '') == ARGV[4] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1";

/// Extends each of `KEYS` by `ARGV[2]` ms if it still holds `ARGV[1]`.
const EXTEND: &str = "for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 1";

/// The heartbeat: `KEYS[1]` names this instance (`ARGV[1]`) for `ARGV[2]`
/// ms, unless another instance beats under the same name. 1 if written.
const BEAT: &str = "local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1";

/// Now, in milliseconds since the Unix epoch (the nodes' clocks agree
/// closely enough for blocks of seconds).
pub(super) fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What an operator sets for cluster mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    pub redis: RedisUrl,
    /// Put before every key, so several deployments can share one Redis.
    pub prefix: String,
    /// How long a room's lease lasts unrenewed.
    pub lease: Duration,
    /// How long a node's heartbeat lasts unrenewed: a node silent this long
    /// counts as gone, and its calls may be taken over.
    pub node_ttl: Duration,
    /// How often a node re-checks its signed-in sockets and calls against
    /// the database, for what the bus may have missed.
    pub recheck: Duration,
}

impl ClusterSettings {
    pub fn new(redis: RedisUrl) -> Self {
        ClusterSettings {
            redis,
            prefix: "huddle:".into(),
            lease: Duration::from_secs(15),
            node_ttl: Duration::from_secs(6),
            recheck: Duration::from_secs(60),
        }
    }
}

/// `text` as it is named in a Redis key: the first 128 bits of its SHA-256,
/// in hex, so no email, cookie or address is written in clear.
fn hashed(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Where a join goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// This node serves the call.
    Here,
    /// This node serves the call, which was under way here, and Redis
    /// cannot be reached: nothing else is asked of it for this join.
    HereWithoutRedis,
    /// Node `node` serves it.
    Elsewhere(String),
}

/// Counts for the metrics.
#[derive(Debug, Default)]
struct ClusterStats {
    placed_here: AtomicU64,
    taken_over: AtomicU64,
    sent_elsewhere: AtomicU64,
    renewed: AtomicU64,
    lost: AtomicU64,
    released: AtomicU64,
    redis_errors: AtomicU64,
    /// Redis round trips and their time in all, in microseconds.
    redis_calls: AtomicU64,
    redis_micros: AtomicU64,
}

/// This node, in the cluster.
pub struct Cluster {
    me: Holder,
    redis: Redis,
    settings: ClusterSettings,
    /// The rooms this node serves, and when a join was last placed here.
    serving: Mutex<HashMap<RoomId, Instant>>,
    /// Placing, renewing and letting go take turns: a room is never let go
    /// while a join is being placed in it.
    turns: tokio::sync::Mutex<()>,
    /// When this node last beat; a node that has not lately does not take
    /// people into its calls without Redis.
    beat_at: Mutex<Option<Instant>>,
    /// Set at a clean stop, or when another process beats under this
    /// node's name: from then on nothing is renewed or placed here.
    stopped: AtomicBool,
    /// Signs and checks the passes of people let into calls, with a key
    /// every node reads from Redis at start.
    passes: std::sync::OnceLock<crate::call::pass::PassIssuer>,
    /// Commands for every node that Redis could not take when they were
    /// published, to send once it can (`bus`).
    unsent: Mutex<Vec<bus::Everywhere>>,
    stats: ClusterStats,
}

impl Cluster {
    /// Node `node`, as a new instance.
    pub fn new(node: &NodeId, settings: ClusterSettings) -> Self {
        let me = Holder { node: node.as_str().to_string(), instance: crate::server::token::random_token::<8>() };
        Cluster {
            me,
            redis: Redis::new(settings.redis.clone()),
            settings,
            serving: Mutex::default(),
            turns: tokio::sync::Mutex::new(()),
            beat_at: Mutex::new(None),
            stopped: AtomicBool::new(false),
            passes: std::sync::OnceLock::new(),
            unsent: Mutex::default(),
            stats: ClusterStats::default(),
        }
    }

    pub fn node(&self) -> &str {
        &self.me.node
    }

    /// The counts since start, for the metrics.
    pub fn figures(&self) -> crate::server::metrics::ClusterFigures {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let s = &self.stats;
        crate::server::metrics::ClusterFigures {
            placed_here: get(&s.placed_here),
            taken_over: get(&s.taken_over),
            sent_elsewhere: get(&s.sent_elsewhere),
            renewed: get(&s.renewed),
            lost: get(&s.lost),
            released: get(&s.released),
            redis_calls: get(&s.redis_calls),
            redis_errors: get(&s.redis_errors),
            redis_seconds: get(&s.redis_micros) as f64 / 1e6,
        }
    }

    /// At start: Redis answers, and this node beats under its name. A
    /// previous life's heartbeat (it was killed and is being restarted) is
    /// waited out; one that goes on beating is another server under the
    /// same name, and this one does not start.
    pub async fn join(&self) -> anyhow::Result<()> {
        self.read_key().await.map_err(|e| anyhow::anyhow!("HUDDLE_REDIS_URL={}: {e}", self.settings.redis))?;
        let deadline = Instant::now() + self.settings.node_ttl + Duration::from_secs(1);
        loop {
            match self.beat().await {
                Ok(true) => return Ok(()),
                Ok(false) if Instant::now() < deadline => tokio::time::sleep(self.settings.node_ttl / 6).await,
                Ok(false) => anyhow::bail!(
                    "HUDDLE_NODE_ID={}: another server is running under this name (its heartbeat goes on); each node needs its own",
                    self.me.node
                ),
                Err(e) => anyhow::bail!("HUDDLE_REDIS_URL={}: {e}", self.settings.redis),
            }
        }
    }

    /// The cluster's key for passes: the one in Redis, or a new one put
    /// there by the first node to start.
    async fn read_key(&self) -> Result<(), RedisError> {
        let key = format!("{}passkey", self.settings.prefix);
        let mine = crate::server::token::random_token::<32>();
        self.call(&[b"SET", key.as_bytes(), mine.as_bytes(), b"NX"]).await?;
        let shared = self.call(&[b"GET", key.as_bytes()]).await?.text()?.ok_or(RedisError::Protocol("no pass key after setting one"))?;
        let _ = self.passes.set(crate::call::pass::PassIssuer::new(shared.into_bytes(), self.me.instance.clone()));
        Ok(())
    }

    /// Signs and checks passes (the cluster's shared key); `None` until
    /// the node joined the cluster.
    pub fn passes(&self) -> Option<&crate::call::pass::PassIssuer> {
        self.passes.get()
    }

    /// Decides where a join for `room` goes: here (taking the room if it is
    /// free, or held by a node that stopped), or to the node that holds it.
    /// When Redis cannot be reached, a call this node serves goes on here
    /// (as long as this node beat lately, so nobody can have taken it);
    /// any other join fails.
    pub async fn place(&self, room: RoomId) -> Result<Placement, RedisError> {
        let _turn = self.turns.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Err(RedisError::Protocol("a join on a node that stopped serving calls"));
        }
        match self.try_place(room).await {
            Err(e) if self.serves(room) && self.beat_lately() => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(10)), warn, "cluster: Redis unreachable, serving a call under way: {e}");
                self.lock().insert(room, Instant::now());
                Ok(Placement::HereWithoutRedis)
            }
            other => other,
        }
    }

    async fn try_place(&self, room: RoomId) -> Result<Placement, RedisError> {
        let key = self.room_key(room);
        let me = self.me.encode();
        // A write fails only when another node wrote between the read and
        // the write: read again (twice more at most).
        for _ in 0..3 {
            let seen = self.seen(&key).await?;
            let written = match claim(&self.me, &seen) {
                Claim::Elsewhere(holder) => {
                    self.stats.sent_elsewhere.fetch_add(1, Ordering::Relaxed);
                    return Ok(Placement::Elsewhere(holder.node));
                }
                Claim::Keep => self.set_if(&key, Some(&me), Some(&me), self.settings.lease, None).await?,
                Claim::Take { over: None } => self.set_if(&key, None, Some(&me), self.settings.lease, None).await?,
                Claim::Take { over: Some(dead) } => {
                    // Only while its heartbeat is still gone (or names
                    // another life): checked in the same step as the write.
                    let beat = (self.node_key(&dead.node), dead.instance.clone());
                    let taken = self.set_if(&key, Some(&dead.encode()), Some(&me), self.settings.lease, Some(beat)).await?;
                    if taken {
                        self.stats.taken_over.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(room = room.0, from = %dead.node, "cluster: took over a call whose node stopped");
                    }
                    taken
                }
            };
            if written {
                self.lock().insert(room, Instant::now());
                self.stats.placed_here.fetch_add(1, Ordering::Relaxed);
                return Ok(Placement::Here);
            }
        }
        Err(RedisError::Protocol("a room's lease changing on every read"))
    }

    /// Which of `nodes` no longer beat: their open attendance in a room
    /// this node serves now belonged to calls that ended with them.
    pub async fn gone(&self, nodes: &[String]) -> Result<Vec<String>, RedisError> {
        let others: Vec<&String> = nodes.iter().filter(|n| **n != self.me.node).collect();
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = others.iter().map(|node| self.node_key(node)).collect();
        let mut mget: Vec<&[u8]> = vec![b"MGET"];
        mget.extend(keys.iter().map(|k| k.as_bytes()));
        let Reply::Array(beats) = self.call(&mget).await? else { return Err(RedisError::Protocol("an MGET answer that is no list")) };
        Ok(others.into_iter().zip(beats).filter(|(_, beat)| *beat == Reply::Nil).map(|(node, _)| node.clone()).collect())
    }

    /// Beats every third of the heartbeat's time to live, until the node
    /// stops. Another process beating under this node's name stops it from
    /// renewing or placing anything: its calls pass to other nodes.
    pub async fn beat_on(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.node_ttl / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !self.stopped.load(Ordering::SeqCst) {
            tick.tick().await;
            match self.beat().await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(node = %self.me.node, "cluster: another server beats under this node's name; this one serves no more calls");
                    self.stopped.store(true, Ordering::SeqCst);
                }
                Err(e) => crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: heartbeat failed: {e}"),
            }
        }
    }

    /// Renews the lease of every room served, every third of the
    /// heartbeat's time to live, for as long as `signaling` lives: a room
    /// whose call ended is let go, and one another node took over (this
    /// node was stopped for a while) is given up, its people sent there.
    pub async fn renew_on(self: Arc<Self>, signaling: std::sync::Weak<Signaling>) {
        let mut tick = tokio::time::interval(self.settings.node_ttl / 3);
        // Woken after a stop: one renewal at once, not a burst.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(signaling) = signaling.upgrade() else { return };
            if let Err(e) = self.renew_all(&signaling).await {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: renewing leases failed: {e}");
            }
        }
    }

    /// At a clean stop: every room let go and the heartbeat removed, so
    /// other nodes take the calls over at once.
    pub async fn leave(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _turn = self.turns.lock().await;
        let rooms: Vec<RoomId> = self.lock().drain().map(|(room, _)| room).collect();
        let me = self.me.encode();
        for room in rooms {
            if let Err(e) = self.set_if(&self.room_key(room), Some(&me), None, self.settings.lease, None).await {
                tracing::warn!(room = room.0, "cluster: a call was not let go at stop (it passes on when its lease lapses): {e}");
            }
        }
        if let Err(e) = self.set_if(&self.node_key(&self.me.node), Some(&self.me.instance), None, self.settings.node_ttl, None).await {
            tracing::warn!("cluster: the heartbeat was not removed at stop (it lapses on its own): {e}");
        }
    }

    /// Whether this node serves `room`'s call.
    pub fn serves(&self, room: RoomId) -> bool {
        self.lock().contains_key(&room)
    }

    /// The rooms this node serves.
    pub fn rooms(&self) -> Vec<RoomId> {
        self.lock().keys().copied().collect()
    }

    /// One renewal round: one read of every served room's lease, one write
    /// extending those still this node's; a Redis error ends the round
    /// (the calls go on, and no other node can take them meanwhile).
    async fn renew_all(&self, signaling: &Signaling) -> Result<(), RedisError> {
        let _turn = self.turns.lock().await;
        if self.stopped.load(Ordering::SeqCst) {
            return Ok(());
        }
        let me = self.me.encode();
        // A call that ended (nobody in it or its lobby) is let go, once no
        // join placed here lately can still be on its way in.
        let ended: Vec<RoomId> = self
            .lock()
            .iter()
            .filter(|(room, placed)| placed.elapsed() > self.settings.lease && !signaling.hosts(**room))
            .map(|(room, _)| *room)
            .collect();
        for room in ended {
            self.lock().remove(&room);
            if self.set_if(&self.room_key(room), Some(&me), None, self.settings.lease, None).await? {
                self.stats.released.fetch_add(1, Ordering::Relaxed);
            }
        }
        let rooms = self.rooms();
        if rooms.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = rooms.iter().map(|room| self.room_key(*room)).collect();
        let mut mget: Vec<&[u8]> = vec![b"MGET"];
        mget.extend(keys.iter().map(|k| k.as_bytes()));
        let Reply::Array(holders) = self.call(&mget).await? else { return Err(RedisError::Protocol("an MGET answer that is no list")) };
        let mut kept = Vec::new();
        for ((room, key), holder) in rooms.iter().zip(&keys).zip(holders) {
            let holder = holder.text()?.as_deref().and_then(Holder::decode);
            match renew(&self.me, holder.as_ref()) {
                Renew::Keep => kept.push(key),
                Renew::Retake => {
                    // Taken by another in the meantime: the next round
                    // finds it lost.
                    if self.set_if(key, None, Some(&me), self.settings.lease, None).await? {
                        self.stats.renewed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Renew::Lost(holder) => {
                    tracing::warn!(room = room.0, to = %holder.node, "cluster: another node took this call over; its people are sent there");
                    self.lock().remove(room);
                    self.stats.lost.fetch_add(1, Ordering::Relaxed);
                    signaling.move_room(*room, &holder.node);
                }
            }
        }
        if !kept.is_empty() {
            let ttl = self.settings.lease.as_millis().to_string();
            let count = kept.len().to_string();
            let mut extend: Vec<&[u8]> = vec![b"EVAL", EXTEND.as_bytes(), count.as_bytes()];
            extend.extend(kept.iter().map(|k| k.as_bytes()));
            extend.extend([me.as_bytes(), ttl.as_bytes()]);
            self.call(&extend).await?;
            self.stats.renewed.fetch_add(kept.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Writes the heartbeat: `false` if another instance beats under this
    /// node's name.
    async fn beat(&self) -> Result<bool, RedisError> {
        let key = self.node_key(&self.me.node);
        let ttl = self.settings.node_ttl.as_millis().to_string();
        let written = self.call(&[b"EVAL", BEAT.as_bytes(), b"1", key.as_bytes(), self.me.instance.as_bytes(), ttl.as_bytes()]).await?.int()? == 1;
        if written {
            *self.beat_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        Ok(written)
    }

    /// Whether this node's heartbeat is surely still in Redis.
    fn beat_lately(&self) -> bool {
        self.beat_at.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|at| at.elapsed() < self.settings.node_ttl)
    }

    /// The room's holder, and the instance its node's heartbeat names.
    async fn seen(&self, room_key: &str) -> Result<Seen, RedisError> {
        let holder = self.call(&[b"GET", room_key.as_bytes()]).await?.text()?.as_deref().and_then(Holder::decode);
        let beat = match &holder {
            Some(holder) => self.call(&[b"GET", self.node_key(&holder.node).as_bytes()]).await?.text()?,
            None => None,
        };
        Ok(Seen { holder, beat })
    }

    /// [`SET_IF`]: `unless` is a heartbeat key and the instance it must not
    /// name.
    async fn set_if(
        &self,
        key: &str,
        expected: Option<&str>,
        new: Option<&str>,
        ttl: Duration,
        unless: Option<(String, String)>,
    ) -> Result<bool, RedisError> {
        let ttl = ttl.as_millis().max(1).to_string();
        let (expected, new) = (expected.unwrap_or(""), new.unwrap_or(""));
        let reply = match &unless {
            None => self.call(&[b"EVAL", SET_IF.as_bytes(), b"1", key.as_bytes(), expected.as_bytes(), new.as_bytes(), ttl.as_bytes()]).await?,
            Some((beat_key, instance)) => {
                let args: [&[u8]; 9] = [
                    b"EVAL",
                    SET_IF.as_bytes(),
                    b"2",
                    key.as_bytes(),
                    beat_key.as_bytes(),
                    expected.as_bytes(),
                    new.as_bytes(),
                    ttl.as_bytes(),
                    instance.as_bytes(),
                ];
                self.call(&args).await?
            }
        };
        Ok(reply.int()? == 1)
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        self.call(&[b"PING"]).await.map(|_| ())
    }

    /// One Redis round trip, timed and counted.
    async fn call(&self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        let started = Instant::now();
        let result = self.redis.call(args).await;
        self.stats.redis_calls.fetch_add(1, Ordering::Relaxed);
        self.stats.redis_micros.fetch_add(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        if result.is_err() {
            self.stats.redis_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn room_key(&self, room: RoomId) -> String {
        format!("{}room:{}", self.settings.prefix, room.0)
    }

    fn node_key(&self, node: &str) -> String {
        format!("{}node:{node}", self.settings.prefix)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomId, Instant>> {
        self.serving.lock().unwrap_or_else(|p| p.into_inner())
    }
}

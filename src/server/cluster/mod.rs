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
//!   every third of the node's time to live, lapsing after 15 s.
//!
//! Nothing else about a call is in Redis: its people, lobby and media live
//! in the holder's hub, and a socket that reaches another node is told to
//! go there (`moved`).

pub mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::call::hub::RoomId;
use crate::call::lease::{claim, renew, Claim, Holder, Renew, Seen};
use crate::server::db::NodeId;
use crate::server::log_budget::LogBudget;
use crate::server::signaling::Signaling;

pub use redis::{Redis, RedisError, RedisUrl};

/// Writes `ARGV[2]` (or removes the key when it is empty) with a time to
/// live of `ARGV[3]` ms, only if the key still holds `ARGV[1]` (empty: is
/// not there). 1 if written.
const SET_IF: &str = "local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1";

/// One more failure in the hash `KEYS[1]`, which is forgotten `ARGV[1]` ms
/// after the last one; the count so far.
const COUNT: &str = "local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n";

/// Blocks `KEYS[1]` until `ARGV[1]` (ms since the epoch), unless it already
/// is until later.
const RAISE: &str = "local u = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if u < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'until', ARGV[1]) end
return 1";

/// Now, in milliseconds since the Unix epoch (the nodes' clocks agree
/// closely enough for blocks of seconds).
fn unix_ms() -> u64 {
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
}

impl ClusterSettings {
    pub fn new(redis: RedisUrl) -> Self {
        ClusterSettings { redis, prefix: "huddle:".into(), lease: Duration::from_secs(15), node_ttl: Duration::from_secs(6) }
    }
}

/// Where a join goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// This node serves the call; if it took it over from a node that
    /// stopped, that node's open attendance in the room is closed.
    Here { took_over: Option<Holder> },
    /// Node `node` serves it.
    Elsewhere(String),
}

/// Counts for the metrics.
#[derive(Debug, Default)]
pub struct ClusterStats {
    pub placed_here: AtomicU64,
    pub taken_over: AtomicU64,
    pub sent_elsewhere: AtomicU64,
    pub renewed: AtomicU64,
    pub lost: AtomicU64,
    pub released: AtomicU64,
    pub redis_errors: AtomicU64,
    /// Redis round trips and their time in all, in microseconds.
    pub redis_calls: AtomicU64,
    pub redis_micros: AtomicU64,
}

/// This node, in the cluster.
pub struct Cluster {
    me: Holder,
    redis: Redis,
    settings: ClusterSettings,
    /// The rooms this node serves, and when a join was last placed here.
    serving: Mutex<HashMap<RoomId, Instant>>,
    pub stats: ClusterStats,
}

impl Cluster {
    /// Node `node`, as a new instance.
    pub fn new(node: &NodeId, settings: ClusterSettings) -> Self {
        let me = Holder { node: node.as_str().to_string(), instance: crate::server::token::random_token::<8>() };
        Cluster { me, redis: Redis::new(settings.redis.clone()), settings, serving: Mutex::default(), stats: ClusterStats::default() }
    }

    pub fn node(&self) -> &str {
        &self.me.node
    }

    /// At start: Redis answers, and no other process beats under this
    /// node's name. Then this node beats.
    pub async fn join(&self) -> anyhow::Result<()> {
        let key = self.node_key(&self.me.node);
        let beating = self.call(&[b"GET", key.as_bytes()]).await.and_then(|r| r.text());
        match beating {
            Err(e) => anyhow::bail!("HUDDLE_REDIS_URL={}: {e}", self.settings.redis),
            Ok(Some(other)) => anyhow::bail!(
                "HUDDLE_NODE_ID={}: another server (instance {other}) is running under this name; each node needs its own",
                self.me.node
            ),
            Ok(None) => {}
        }
        self.beat().await.map_err(|e| anyhow::anyhow!("HUDDLE_REDIS_URL={}: {e}", self.settings.redis))
    }

    /// Decides where a join for `room` goes: here (taking the room if it is
    /// free, or held by a node that stopped), or to the node that holds it.
    /// When Redis cannot be reached, a call this node already serves goes
    /// on here; any other join fails.
    pub async fn place(&self, room: RoomId) -> Result<Placement, RedisError> {
        match self.try_place(room).await {
            Err(e) if self.serves(room) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(10)), warn, "cluster: Redis unreachable, serving a call under way: {e}");
                Ok(Placement::Here { took_over: None })
            }
            other => other,
        }
    }

    async fn try_place(&self, room: RoomId) -> Result<Placement, RedisError> {
        let key = self.room_key(room);
        // A write fails only when another node wrote between the read and
        // the write: read again (twice more at most).
        for _ in 0..3 {
            let seen = self.seen(&key).await?;
            let (expected, took_over) = match claim(&self.me, &seen) {
                Claim::Elsewhere(holder) => {
                    self.stats.sent_elsewhere.fetch_add(1, Ordering::Relaxed);
                    return Ok(Placement::Elsewhere(holder.node));
                }
                Claim::Keep => (Some(self.me.encode()), None),
                Claim::Take { over } => (over.as_ref().map(Holder::encode), over),
            };
            if self.set_if(&key, expected.as_deref(), Some(&self.me.encode()), self.settings.lease).await? {
                self.lock().insert(room, Instant::now());
                self.stats.placed_here.fetch_add(1, Ordering::Relaxed);
                if took_over.is_some() {
                    self.stats.taken_over.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(Placement::Here { took_over });
            }
        }
        Err(RedisError::Protocol("a room's lease changing on every read"))
    }

    /// Beats, and renews the lease of every room served, every third of the
    /// heartbeat's time to live, for as long as `signaling` lives: a room
    /// whose call ended is let go, and one another node took over (this
    /// node was stopped for a while) is given up, its people sent there.
    pub async fn run(self: Arc<Self>, signaling: std::sync::Weak<Signaling>) {
        let mut tick = tokio::time::interval(self.settings.node_ttl / 3);
        // Woken after a stop: one renewal at once, not a burst.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(signaling) = signaling.upgrade() else { return };
            if let Err(e) = self.beat().await {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: heartbeat failed: {e}");
            }
            self.renew_all(&signaling).await;
        }
    }

    /// At a clean stop: every room let go and the heartbeat removed, so
    /// other nodes take the calls over at once.
    pub async fn leave(&self) {
        let rooms: Vec<RoomId> = self.lock().drain().map(|(room, _)| room).collect();
        for room in rooms {
            let _ = self.set_if(&self.room_key(room), Some(&self.me.encode()), None, self.settings.lease).await;
        }
        let _ = self.set_if(&self.node_key(&self.me.node), Some(&self.me.instance), None, self.settings.node_ttl).await;
    }

    /// How long `key` (of `kind`: sign-ins per account, passcodes per
    /// room and person, …) is blocked by failures counted on every node;
    /// `None` if it is not, or if Redis cannot say (each node's own count
    /// still holds then).
    pub async fn blocked(&self, kind: &str, key: &str) -> Option<Duration> {
        let key = self.tally_key(kind, key);
        let until = match self.call(&[b"HGET", key.as_bytes(), b"until"]).await.and_then(|r| r.text()) {
            Ok(until) => until?.parse::<u64>().ok()?,
            Err(e) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: counting failures on this node alone: {e}");
                return None;
            }
        };
        let now = unix_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// One more failure for `key` of `kind` on every node: the key is
    /// blocked as long as `block` says for the count so far, and the count
    /// is forgotten after a quiet `forget_after` (the throttle's rules).
    pub async fn failed(&self, kind: &str, key: &str, forget_after: Duration, block: impl Fn(u32) -> Option<Duration>) {
        let key = self.tally_key(kind, key);
        let forget = forget_after.as_millis().to_string();
        let counted = self.call(&[b"EVAL", COUNT.as_bytes(), b"1", key.as_bytes(), forget.as_bytes()]).await.and_then(|r| r.int());
        let failures = match counted {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(e) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: a failure was counted on this node alone: {e}");
                return;
            }
        };
        if let Some(block) = block(failures) {
            let until = (unix_ms() + u64::try_from(block.as_millis()).unwrap_or(u64::MAX)).to_string();
            if let Err(e) = self.call(&[b"EVAL", RAISE.as_bytes(), b"1", key.as_bytes(), until.as_bytes()]).await {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: a block was kept on this node alone: {e}");
            }
        }
    }

    /// Forgets `key`'s failures on every node (it succeeded).
    pub async fn forget(&self, kind: &str, key: &str) {
        let key = self.tally_key(kind, key);
        if let Err(e) = self.call(&[b"DEL", key.as_bytes()]).await {
            crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: failures were forgotten on this node alone: {e}");
        }
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), RedisError> {
        self.call(&[b"PING"]).await.map(|_| ())
    }

    /// Whether this node serves `room`'s call.
    pub fn serves(&self, room: RoomId) -> bool {
        self.lock().contains_key(&room)
    }

    async fn renew_all(&self, signaling: &Signaling) {
        let rooms: Vec<(RoomId, Instant)> = self.lock().iter().map(|(room, at)| (*room, *at)).collect();
        let me = self.me.encode();
        for (room, placed) in rooms {
            let key = self.room_key(room);
            // A call that ended (no one in it or its lobby) is let go, once
            // no join placed here lately can still be on its way in.
            if !signaling.hosts(room) && placed.elapsed() > self.settings.lease {
                if let Ok(true) = self.set_if(&key, Some(&me), None, self.settings.lease).await {
                    self.stats.released.fetch_add(1, Ordering::Relaxed);
                }
                self.lock().remove(&room);
                continue;
            }
            let holder = match self.call(&[b"GET", key.as_bytes()]).await.and_then(|r| r.text()) {
                Ok(value) => value.as_deref().and_then(Holder::decode),
                // Unreachable: the call goes on, and no other node can take
                // it meanwhile.
                Err(_) => continue,
            };
            let written = match renew(&self.me, holder.as_ref()) {
                Renew::Keep => self.set_if(&key, Some(&me), Some(&me), self.settings.lease).await,
                Renew::Retake => self.set_if(&key, None, Some(&me), self.settings.lease).await,
                Renew::Lost(holder) => {
                    tracing::warn!(room = room.0, to = %holder.node, "cluster: another node took this call over; its people are sent there");
                    self.lock().remove(&room);
                    self.stats.lost.fetch_add(1, Ordering::Relaxed);
                    signaling.move_room(room, &holder.node);
                    continue;
                }
            };
            if let Ok(true) = written {
                self.stats.renewed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    async fn beat(&self) -> Result<(), RedisError> {
        let key = self.node_key(&self.me.node);
        let ttl = self.settings.node_ttl.as_millis().to_string();
        self.call(&[b"SET", key.as_bytes(), self.me.instance.as_bytes(), b"PX", ttl.as_bytes()]).await?;
        Ok(())
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

    async fn set_if(&self, key: &str, expected: Option<&str>, new: Option<&str>, ttl: Duration) -> Result<bool, RedisError> {
        let ttl = ttl.as_millis().max(1).to_string();
        let args: [&[u8]; 7] =
            [b"EVAL", SET_IF.as_bytes(), b"1", key.as_bytes(), expected.unwrap_or("").as_bytes(), new.unwrap_or("").as_bytes(), ttl.as_bytes()];
        Ok(self.call(&args).await?.int()? == 1)
    }

    /// One Redis round trip, timed and counted.
    async fn call(&self, args: &[&[u8]]) -> Result<redis::Reply, RedisError> {
        let started = Instant::now();
        let result = self.redis.call(args).await;
        self.stats.redis_calls.fetch_add(1, Ordering::Relaxed);
        self.stats.redis_micros.fetch_add(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
        if result.is_err() {
            self.stats.redis_errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    /// The key counting failures of `kind` for `key`: a hash of it, so
    /// neither emails nor addresses are written to Redis.
    fn tally_key(&self, kind: &str, key: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{kind}\0{key}").as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{}thr:{kind}:{hex}", self.settings.prefix)
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

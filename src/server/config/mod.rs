//! Configuration from environment variables, each with a default that runs
//! Huddle on this machine with no set-up.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::call::protocol::IceServer;
use crate::call::turn::TurnConfig;
use crate::call::MediaPolicy;
use crate::server::client_address::{ClientHeader, TrustedProxies};
use crate::server::cluster::{ClusterSettings, RedisUrl};
use crate::server::media::MediaAddress;
use crate::server::retention::{Retention, AUDIT_MINIMUM_DAYS};
use crate::server::serve::ConnectionLimits;
use crate::server::signaling::SignalingSettings;

pub use crate::server::db::{Database, NodeId};

/// How long sessions may live. The idle limit is enforced by the session
/// layer (the cookie and the stored record expire); the absolute one here.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Printed by `huddle --help`.
pub const HELP: &str = "\
huddle: self-hosted video meetings for scheduled, private sessions

Usage: huddle                 serve
       huddle --check-config  print the effective settings (secrets masked)
                              and exit; non-zero if one is wrong
       huddle backup FILE     copy the database, consistently, into FILE
                              (a new file) while Huddle runs
       huddle copy-to-postgres URL
                              copy the SQLite database into the empty
                              PostgreSQL database at URL, row for row, and
                              compare (Huddle stopped)
       huddle --help          this text

Configuration (environment variables):
  HUDDLE_ADDR           address to listen on              [default: 127.0.0.1:3000]
  HUDDLE_DATABASE       SQLite file, created if missing, or a PostgreSQL
                        server's postgres://user:password@host/db URL
                                                          [default: ./data/huddle.db]
  HUDDLE_NODE_ID        this server's name among several sharing one
                        database (a-z, 0-9, -; at most 32)  [default: main]
  HUDDLE_REDIS_URL      cluster mode: several nodes on one PostgreSQL
                        database, placed by this Redis, redis://[user:
                        password@]host[:port][/db]        [default: off]
  HUDDLE_REDIS_PREFIX   put before every Redis key        [default: huddle:]
  HUDDLE_LEASE_MS       a room's lease unrenewed lasts    [default: 15000]
  HUDDLE_NODE_TTL_MS    a node silent this long counts as gone and its
                        calls are taken over              [default: 6000]
  HUDDLE_PUBLIC_ORIGIN  origin people reach Huddle at, used for join links
                        and to check where requests come from
                                                          [default: http://HUDDLE_ADDR]
  HUDDLE_TRUSTED_PROXIES
                        comma-separated addresses and CIDR ranges of reverse
                        proxies whose HUDDLE_CLIENT_HEADER names the client
                                                          [default: none]
  HUDDLE_CLIENT_HEADER  the one header those proxies set to name the client:
                        x-forwarded-for, forwarded or x-real-ip (the others
                        are ignored)            [default: x-forwarded-for]
  HUDDLE_TLS_CERT       PEM certificate chain: serve HTTPS ourselves
  HUDDLE_TLS_KEY        PEM private key for HUDDLE_TLS_CERT (both or neither;
                        reloaded when the files change, or on SIGHUP)
  HUDDLE_HTTP_REDIRECT_ADDR
                        also listen here for plain HTTP and redirect it to
                        the https:// public origin        [default: off]
  HUDDLE_METRICS_ADDR   serve Prometheus metrics at /metrics on this
                        separate address                 [default: off]
  HUDDLE_HTTP_HEADER_SECONDS
                        time to send a request's headers  [default: 10]
  HUDDLE_HTTP_IDLE_SECONDS
                        a connection silent this long is closed  [default: 60]
  HUDDLE_MAX_CONNECTIONS
                        open connections in all  [default: open-file limit - 100]
  HUDDLE_MAX_CONNECTIONS_PER_ADDRESS
                        open connections from one address (trusted
                        proxies excepted)                [default: 200]
  HUDDLE_ICE_SERVERS    JSON list of RTCIceServer objects handed to browsers,
                        e.g. [{\"urls\":[\"turn:turn.example.org:3478\"],
                        \"username\":\"u\",\"credential\":\"p\"}]         [default: []]
  HUDDLE_TURN_URLS      comma-separated turn:/turns: URLs of a TURN service
                        sharing HUDDLE_TURN_SECRET (coturn use-auth-secret)
  HUDDLE_TURN_SECRET    the shared secret, 16 characters or more
  HUDDLE_TURN_TTL_MINUTES
                        how long a TURN credential lasts    [default: 60]
  HUDDLE_SESSION_IDLE_MINUTES
                        sign out after this long without a request  [default: 30]
  HUDDLE_SESSION_MAX_HOURS
                        sign out this long after signing in, however active
                                                          [default: 12]
  HUDDLE_SIGN_IN_LIMIT_PER_ACCOUNT
                        failed sign-ins for one email before back-off  [default: 10]
  HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS
                        failed sign-ins from one address before back-off
                                                          [default: 100]
  HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS
                        sign-ups from one address before back-off  [default: 20]
  HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS
                        join links that lead nowhere from one address
                        before back-off                  [default: 100]
  HUDDLE_WS_PING_SECONDS
                        how often signaling sockets are pinged  [default: 20]
  HUDDLE_WS_SILENCE_SECONDS
                        silence after which a socket counts as dead
                                                          [default: 45]
  HUDDLE_WS_MAX_PER_ADDRESS
                        open signaling sockets per client address  [default: 100]
  HUDDLE_WS_MAX_PER_ACCOUNT
                        open signaling sockets per signed-in account  [default: 10]
  HUDDLE_ROOM_SIZE      participants per room (a full mesh)     [default: 4]
  HUDDLE_MEDIA_ADDR     UDP address of the media server, which carries
                        classes and meetings above the mesh's size; all
                        media goes through this one port, or off
                        [default: HUDDLE_ADDR's IP and port, in UDP]
  HUDDLE_MEDIA_PUBLIC_IP
                        the IP browsers reach HUDDLE_MEDIA_ADDR's port at,
                        when that is not the bound one (behind NAT)
                        [default: the bound IP; bound to every address,
                        the machine's first reachable one]
  HUDDLE_SFU_ROOM_SIZE  participants per call through the media server
                        (a class of 40, its teacher and a helper)
                                                          [default: 42]
  HUDDLE_CONSULTATION_SFU
                        on: consultations go through the media server too
                        (their media is then not end-to-end encrypted
                        between the two browsers)       [default: off]
  HUDDLE_JOIN_EARLY_MINUTES
                        how long before a scheduled session guests may join  [default: 15]
  HUDDLE_RESUME_GRACE_SECONDS
                        how long a dropped participant keeps their place  [default: 30]
  HUDDLE_KEEP_ATTENDANCE_DAYS
                        days a finished stay is kept     [default: 365]
  HUDDLE_KEEP_CHAT_DAYS days kept chat is kept            [default: 30]
  HUDDLE_KEEP_AUDIT_DAYS
                        days audit rows are kept (30 or more)  [default: 365]
  HUDDLE_SITE_ROOT      folder with the built browser files (pkg/)
                                                          [default: target/site]
  RUST_LOG              log filter                        [default: info]
";

/// Settings for one Huddle server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// The SQLite database file, or a PostgreSQL server.
    pub database: Database,
    /// This server's name among those sharing the database: the attendance
    /// stays it opens are its own to close.
    pub node: NodeId,
    /// Cluster mode: several nodes, each room's call on one, placed by
    /// Redis.
    pub cluster: Option<ClusterSettings>,
    /// e.g. `https://meet.example.org`, without a trailing slash. `None`:
    /// `http://` plus the address actually bound.
    pub public_origin: Option<String>,
    /// Reverse proxies whose forwarding header names the client.
    pub trusted_proxies: TrustedProxies,
    /// The one header they name it in.
    pub client_header: ClientHeader,
    /// Serve HTTPS ourselves with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// How often the certificate files are checked for a renewal.
    pub tls_reload_every: Duration,
    /// Also answer plain HTTP here, redirecting to the https:// origin.
    pub http_redirect_addr: Option<SocketAddr>,
    /// Serve Prometheus metrics on this separate address.
    pub metrics_addr: Option<SocketAddr>,
    /// Deadlines and caps for HTTP connections; `max_total` is set from the
    /// open-file limit unless `max_connections` is given.
    pub connections: ConnectionLimits,
    pub max_connections: Option<usize>,
    /// ICE servers for browsers; empty means host candidates only.
    pub ice_servers: Vec<IceServer>,
    /// A TURN service sharing a secret with Huddle (coturn's
    /// `use-auth-secret`): everyone in a call gets their own credentials.
    pub turn: Option<TurnConfig>,
    /// Folder holding `pkg/` with the WASM client and the stylesheet.
    pub site_root: String,
    /// Idle and absolute session lifetimes.
    pub session_limits: SessionLimits,
    /// Failed sign-ins allowed per email and per client address before each
    /// further one is answered with a doubling wait.
    pub sign_in_limit_per_account: u32,
    pub sign_in_limit_per_address: u32,
    /// Sign-ups allowed per client address before each further one waits.
    pub sign_up_limit_per_address: u32,
    /// Join links that lead nowhere allowed per client address before each
    /// further lookup waits.
    pub room_lookup_limit_per_address: u32,
    /// How often expired sessions are swept out (and audited).
    pub session_sweep_every: Duration,
    /// Signaling liveness and limits (and which calls go through the media
    /// server, when `media` is set).
    pub signaling: SignalingSettings,
    /// The media server's UDP port, if it runs.
    pub media: Option<MediaAddress>,
    /// How long before a scheduled session its join link lets guests in.
    pub join_early: Duration,
    /// How long attendance, kept chat and audit rows are kept.
    pub retention: Retention,
    /// The application's clock (tests move it).
    pub clock: crate::server::clock::Clock,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database: Database::Sqlite(PathBuf::from("./data/huddle.db")),
            node: NodeId::default(),
            cluster: None,
            public_origin: None,
            trusted_proxies: TrustedProxies::default(),
            client_header: ClientHeader::default(),
            tls: None,
            tls_reload_every: Duration::from_secs(5),
            http_redirect_addr: None,
            metrics_addr: None,
            connections: ConnectionLimits::default(),
            max_connections: None,
            ice_servers: Vec::new(),
            turn: None,
            site_root: "target/site".into(),
            session_limits: SessionLimits { idle: Duration::from_secs(30 * 60), absolute: Duration::from_secs(12 * 3600) },
            sign_in_limit_per_account: 10,
            sign_in_limit_per_address: 100,
            sign_up_limit_per_address: 20,
            room_lookup_limit_per_address: 100,
            session_sweep_every: Duration::from_secs(60),
            signaling: SignalingSettings::default(),
            media: None,
            join_early: Duration::from_secs(15 * 60),
            retention: Retention::default(),
            clock: crate::server::clock::Clock::default(),
        }
    }
}

impl Config {
    /// Reads the `HUDDLE_*` variables; a malformed one is an error naming it.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Same as [`Config::from_env`] with any source of variables.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut config = Self::default();
        if let Some(addr) = get("HUDDLE_ADDR") {
            config.addr = addr.parse().with_context(|| format!("HUDDLE_ADDR={addr:?} is not an address like 127.0.0.1:3000"))?;
        }
        if let Some(db) = get("HUDDLE_DATABASE") {
            config.database = Database::parse(&db);
        }
        if let Some(node) = get("HUDDLE_NODE_ID") {
            config.node = NodeId::parse(&node).map_err(|e| anyhow::anyhow!("HUDDLE_NODE_ID={node:?} {e}"))?;
        }
        config.cluster = cluster_from(&get, &config.database)?;
        if let Some(origin) = get("HUDDLE_PUBLIC_ORIGIN") {
            config.public_origin = Some(parse_origin(&origin)?);
        }
        if let Some(list) = get("HUDDLE_TRUSTED_PROXIES") {
            config.trusted_proxies = TrustedProxies::parse(&list).map_err(|e| anyhow::anyhow!("HUDDLE_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(header) = get("HUDDLE_CLIENT_HEADER") {
            config.client_header = ClientHeader::parse(&header).map_err(|e| anyhow::anyhow!("HUDDLE_CLIENT_HEADER: {e}"))?;
        }
        config.tls = match (get("HUDDLE_TLS_CERT"), get("HUDDLE_TLS_KEY")) {
            (None, None) => None,
            (Some(cert), Some(key)) => Some(TlsFiles { cert: PathBuf::from(cert), key: PathBuf::from(key) }),
            _ => anyhow::bail!("HUDDLE_TLS_CERT and HUDDLE_TLS_KEY go together: set both, or neither"),
        };
        for (name, field) in [("HUDDLE_HTTP_REDIRECT_ADDR", &mut config.http_redirect_addr), ("HUDDLE_METRICS_ADDR", &mut config.metrics_addr)] {
            if let Some(addr) = get(name) {
                *field = Some(addr.trim().parse().with_context(|| format!("{name}={addr:?} is not an address like 127.0.0.1:9100"))?);
            }
        }
        if config.http_redirect_addr.is_some() && !config.public_origin.as_deref().is_some_and(|o| o.starts_with("https://")) {
            anyhow::bail!("HUDDLE_HTTP_REDIRECT_ADDR needs HUDDLE_PUBLIC_ORIGIN to be the https:// address to redirect to");
        }
        if let Some(secs) = get("HUDDLE_HTTP_HEADER_SECONDS") {
            config.connections.header_timeout = Duration::from_secs(positive("HUDDLE_HTTP_HEADER_SECONDS", &secs)?);
        }
        if let Some(secs) = get("HUDDLE_HTTP_IDLE_SECONDS") {
            config.connections.idle_timeout = Duration::from_secs(positive("HUDDLE_HTTP_IDLE_SECONDS", &secs)?);
        }
        if let Some(n) = get("HUDDLE_MAX_CONNECTIONS") {
            config.max_connections = Some(usize::try_from(positive("HUDDLE_MAX_CONNECTIONS", &n)?)?);
        }
        if let Some(n) = get("HUDDLE_MAX_CONNECTIONS_PER_ADDRESS") {
            config.connections.max_per_address = usize::try_from(positive("HUDDLE_MAX_CONNECTIONS_PER_ADDRESS", &n)?)?;
        }
        if let Some(json) = get("HUDDLE_ICE_SERVERS") {
            config.ice_servers = serde_json::from_str(&json).context("HUDDLE_ICE_SERVERS is not a JSON list of {\"urls\": [...]} objects")?;
        }
        config.turn = turn_from(&get)?;
        if let Some(minutes) = get("HUDDLE_SESSION_IDLE_MINUTES") {
            // Fractions allowed (0.1 = 6 s), for tests that cannot wait minutes.
            let minutes = match minutes.trim().parse::<f64>() {
                Ok(m) if m > 0.0 && m.is_finite() => m,
                _ => anyhow::bail!("HUDDLE_SESSION_IDLE_MINUTES={minutes:?} must be a number of minutes above 0"),
            };
            config.session_limits.idle = Duration::from_secs_f64(60.0 * minutes);
        }
        if let Some(hours) = get("HUDDLE_SESSION_MAX_HOURS") {
            config.session_limits.absolute = Duration::from_secs(3600 * positive("HUDDLE_SESSION_MAX_HOURS", &hours)?);
        }
        if let Some(n) = get("HUDDLE_SIGN_IN_LIMIT_PER_ACCOUNT") {
            config.sign_in_limit_per_account = u32::try_from(positive("HUDDLE_SIGN_IN_LIMIT_PER_ACCOUNT", &n)?)?;
        }
        if let Some(n) = get("HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS") {
            config.sign_in_limit_per_address = u32::try_from(positive("HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS", &n)?)?;
        }
        if let Some(n) = get("HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS") {
            config.room_lookup_limit_per_address = u32::try_from(positive("HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS", &n)?)?;
        }
        if let Some(n) = get("HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS") {
            config.sign_up_limit_per_address = u32::try_from(positive("HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS", &n)?)?;
        }
        if let Some(secs) = get("HUDDLE_WS_PING_SECONDS") {
            config.signaling.heartbeat.ping_every = Duration::from_secs(positive("HUDDLE_WS_PING_SECONDS", &secs)?);
        }
        if let Some(secs) = get("HUDDLE_WS_SILENCE_SECONDS") {
            config.signaling.heartbeat.silence_limit = Duration::from_secs(positive("HUDDLE_WS_SILENCE_SECONDS", &secs)?);
        }
        if let Some(minutes) = get("HUDDLE_JOIN_EARLY_MINUTES") {
            let minutes: u64 = minutes.trim().parse().map_err(|_| anyhow::anyhow!("HUDDLE_JOIN_EARLY_MINUTES must be a whole number of minutes"))?;
            config.join_early = Duration::from_secs(minutes * 60);
        }
        if let Some(secs) = get("HUDDLE_RESUME_GRACE_SECONDS") {
            config.signaling.resume_grace = Duration::from_secs(positive("HUDDLE_RESUME_GRACE_SECONDS", &secs)?);
        }
        for (name, field) in [
            ("HUDDLE_WS_MAX_PER_ADDRESS", &mut config.signaling.max_per_address),
            ("HUDDLE_WS_MAX_PER_ACCOUNT", &mut config.signaling.max_per_account),
            ("HUDDLE_ROOM_SIZE", &mut config.signaling.room_size),
        ] {
            if let Some(n) = get(name) {
                *field = usize::try_from(positive(name, &n)?)?;
            }
        }
        if config.signaling.heartbeat.silence_limit <= config.signaling.heartbeat.ping_every {
            anyhow::bail!("HUDDLE_WS_SILENCE_SECONDS must be longer than HUDDLE_WS_PING_SECONDS, or every socket would count as dead");
        }
        for (name, field) in [
            ("HUDDLE_KEEP_ATTENDANCE_DAYS", &mut config.retention.attendance_days),
            ("HUDDLE_KEEP_CHAT_DAYS", &mut config.retention.chat_days),
            ("HUDDLE_KEEP_AUDIT_DAYS", &mut config.retention.audit_days),
        ] {
            if let Some(days) = get(name) {
                *field = u32::try_from(positive(name, &days)?)?;
            }
        }
        if config.retention.audit_days < AUDIT_MINIMUM_DAYS {
            anyhow::bail!("HUDDLE_KEEP_AUDIT_DAYS must be at least {AUDIT_MINIMUM_DAYS}: the audit log is kept at least that long");
        }
        media_from(&get, &mut config)?;
        if let Some(root) = get("HUDDLE_SITE_ROOT").or_else(|| get("LEPTOS_SITE_ROOT")) {
            config.site_root = root;
        }
        Ok(config)
    }
}

/// The PEM files Huddle's own HTTPS is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    /// Every setting in force, as `NAME=value` lines for `--check-config`;
    /// secrets (the TURN secret, ICE server credentials) are masked.
    pub fn describe(&self, origin: &str) -> Vec<(&'static str, String)> {
        let or_off = |v: Option<String>| v.unwrap_or_else(|| "(off)".into());
        let ice: Vec<serde_json::Value> = self
            .ice_servers
            .iter()
            .map(|s| {
                let mut v = serde_json::json!({ "urls": s.urls });
                if s.username.is_some() {
                    v["username"] = "****".into();
                }
                if s.credential.is_some() {
                    v["credential"] = "****".into();
                }
                v
            })
            .collect();
        let s = &self.signaling;
        vec![
            ("HUDDLE_ADDR", self.addr.to_string()),
            ("HUDDLE_DATABASE", self.database.to_string()),
            ("HUDDLE_NODE_ID", self.node.to_string()),
            ("HUDDLE_REDIS_URL", or_off(self.cluster.as_ref().map(|c| c.redis.to_string()))),
            ("HUDDLE_REDIS_PREFIX", or_off(self.cluster.as_ref().map(|c| c.prefix.clone()))),
            ("HUDDLE_LEASE_MS", or_off(self.cluster.as_ref().map(|c| c.lease.as_millis().to_string()))),
            ("HUDDLE_NODE_TTL_MS", or_off(self.cluster.as_ref().map(|c| c.node_ttl.as_millis().to_string()))),
            ("HUDDLE_PUBLIC_ORIGIN", origin.to_string()),
            ("HUDDLE_TRUSTED_PROXIES", if self.trusted_proxies.is_empty() { "(none)".into() } else { self.trusted_proxies.to_string() }),
            ("HUDDLE_CLIENT_HEADER", self.client_header.name().to_string()),
            ("HUDDLE_TLS_CERT", or_off(self.tls.as_ref().map(|t| t.cert.display().to_string()))),
            ("HUDDLE_TLS_KEY", or_off(self.tls.as_ref().map(|t| t.key.display().to_string()))),
            ("HUDDLE_HTTP_REDIRECT_ADDR", or_off(self.http_redirect_addr.map(|a| a.to_string()))),
            ("HUDDLE_METRICS_ADDR", or_off(self.metrics_addr.map(|a| a.to_string()))),
            ("HUDDLE_HTTP_HEADER_SECONDS", self.connections.header_timeout.as_secs().to_string()),
            ("HUDDLE_HTTP_IDLE_SECONDS", self.connections.idle_timeout.as_secs().to_string()),
            ("HUDDLE_MAX_CONNECTIONS", self.max_connections.map_or_else(|| "(from the open-file limit)".into(), |n| n.to_string())),
            ("HUDDLE_MAX_CONNECTIONS_PER_ADDRESS", self.connections.max_per_address.to_string()),
            ("HUDDLE_ICE_SERVERS", serde_json::Value::Array(ice).to_string()),
            ("HUDDLE_TURN_URLS", or_off(self.turn.as_ref().map(|t| t.urls.join(",")))),
            ("HUDDLE_TURN_SECRET", or_off(self.turn.as_ref().map(|_| "****".to_string()))),
            ("HUDDLE_TURN_TTL_MINUTES", or_off(self.turn.as_ref().map(|t| (t.ttl.as_secs() / 60).to_string()))),
            ("HUDDLE_SESSION_IDLE_MINUTES", format!("{}", self.session_limits.idle.as_secs_f64() / 60.0)),
            ("HUDDLE_SESSION_MAX_HOURS", (self.session_limits.absolute.as_secs() / 3600).to_string()),
            ("HUDDLE_SIGN_IN_LIMIT_PER_ACCOUNT", self.sign_in_limit_per_account.to_string()),
            ("HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS", self.sign_in_limit_per_address.to_string()),
            ("HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS", self.sign_up_limit_per_address.to_string()),
            ("HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS", self.room_lookup_limit_per_address.to_string()),
            ("HUDDLE_WS_PING_SECONDS", s.heartbeat.ping_every.as_secs().to_string()),
            ("HUDDLE_WS_SILENCE_SECONDS", s.heartbeat.silence_limit.as_secs().to_string()),
            ("HUDDLE_WS_MAX_PER_ADDRESS", s.max_per_address.to_string()),
            ("HUDDLE_WS_MAX_PER_ACCOUNT", s.max_per_account.to_string()),
            ("HUDDLE_ROOM_SIZE", s.room_size.to_string()),
            ("HUDDLE_MEDIA_ADDR", or_off(self.media.map(|m| m.bind.to_string()))),
            ("HUDDLE_MEDIA_PUBLIC_IP", or_off(self.media.and_then(|m| m.announced()).map(|ip| ip.to_string()))),
            ("HUDDLE_SFU_ROOM_SIZE", or_off(s.media.map(|m| m.room_size.to_string()))),
            ("HUDDLE_CONSULTATION_SFU", or_off(s.media.map(|m| if m.consultations { "on" } else { "off" }.to_string()))),
            ("HUDDLE_JOIN_EARLY_MINUTES", (self.join_early.as_secs() / 60).to_string()),
            ("HUDDLE_RESUME_GRACE_SECONDS", s.resume_grace.as_secs().to_string()),
            ("HUDDLE_KEEP_ATTENDANCE_DAYS", self.retention.attendance_days.to_string()),
            ("HUDDLE_KEEP_CHAT_DAYS", self.retention.chat_days.to_string()),
            ("HUDDLE_KEEP_AUDIT_DAYS", self.retention.audit_days.to_string()),
            ("HUDDLE_SITE_ROOT", self.site_root.clone()),
        ]
    }
}

/// Participants per call through the media server unless set: a class of
/// 40 pupils, its teacher and a helper.
pub const SFU_ROOM_SIZE: usize = 42;

/// Cluster mode, when `HUDDLE_REDIS_URL` is set: it needs PostgreSQL (the
/// nodes share its data), and a heartbeat shorter than the lease.
fn cluster_from(get: &impl Fn(&str) -> Option<String>, database: &Database) -> anyhow::Result<Option<ClusterSettings>> {
    let Some(url) = get("HUDDLE_REDIS_URL") else {
        if let Some(name) = ["HUDDLE_REDIS_PREFIX", "HUDDLE_LEASE_MS", "HUDDLE_NODE_TTL_MS"].into_iter().find(|name| get(name).is_some()) {
            anyhow::bail!("{name} is a cluster setting: it needs HUDDLE_REDIS_URL");
        }
        return Ok(None);
    };
    let redis = RedisUrl::parse(url.trim()).map_err(|e| anyhow::anyhow!("HUDDLE_REDIS_URL {e}"))?;
    if !matches!(database, Database::Postgres(_)) {
        anyhow::bail!("HUDDLE_REDIS_URL (cluster mode) needs HUDDLE_DATABASE to be a postgres:// server the nodes share, not a SQLite file");
    }
    let mut settings = ClusterSettings::new(redis);
    if let Some(prefix) = get("HUDDLE_REDIS_PREFIX") {
        if prefix.is_empty() || prefix.len() > 64 || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            anyhow::bail!("HUDDLE_REDIS_PREFIX={prefix:?} must be 1 to 64 characters with no spaces");
        }
        settings.prefix = prefix;
    }
    for (name, field) in [("HUDDLE_LEASE_MS", &mut settings.lease), ("HUDDLE_NODE_TTL_MS", &mut settings.node_ttl)] {
        if let Some(ms) = get(name) {
            *field = Duration::from_millis(positive(name, &ms)?);
        }
    }
    if settings.node_ttl < Duration::from_millis(300) {
        anyhow::bail!("HUDDLE_NODE_TTL_MS must be at least 300: a node beats every third of it");
    }
    if settings.lease <= settings.node_ttl {
        anyhow::bail!("HUDDLE_LEASE_MS must be longer than HUDDLE_NODE_TTL_MS: a call's lease must outlast its node's heartbeat");
    }
    Ok(Some(settings))
}

fn positive(name: &str, raw: &str) -> anyhow::Result<u64> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => anyhow::bail!("{name}={raw:?} must be a whole number above 0"),
    }
}

/// The media server: on unless `HUDDLE_MEDIA_ADDR=off`, by default beside
/// the web address (its IP, and the same port number in UDP), so a first
/// run serves classes whole. Bound to every address, it announces the
/// machine's first reachable one (`media::announced_ip`) unless
/// `HUDDLE_MEDIA_PUBLIC_IP` names another.
fn media_from(get: &impl Fn(&str) -> Option<String>, config: &mut Config) -> anyhow::Result<()> {
    let raw = get("HUDDLE_MEDIA_ADDR");
    let bind: SocketAddr = match raw.as_deref().map(str::trim) {
        Some("off") => {
            for name in ["HUDDLE_MEDIA_PUBLIC_IP", "HUDDLE_SFU_ROOM_SIZE", "HUDDLE_CONSULTATION_SFU"] {
                if get(name).is_some() {
                    anyhow::bail!("{name} means nothing with HUDDLE_MEDIA_ADDR=off: there is no media server");
                }
            }
            return Ok(());
        }
        None => {
            // Beside a loopback web address (behind a proxy on this
            // machine), a media port that other machines are sent to
            // could not be reached: said now, not found in the first class.
            let elsewhere =
                config.public_origin.as_deref().and_then(|o| o.split("://").nth(1)).map(|host| host.rsplit_once(':').map_or(host, |(h, _)| h));
            let loopback_host = |host: &str| host == "localhost" || host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if let Some(host) = elsewhere.filter(|h| config.addr.ip().is_loopback() && !loopback_host(h)) {
                anyhow::bail!(
                    "HUDDLE_MEDIA_ADDR is not set, so the media server would listen beside HUDDLE_ADDR on {}, which browsers reaching {host} cannot reach: set HUDDLE_MEDIA_ADDR (e.g. 0.0.0.0:7882), or HUDDLE_MEDIA_ADDR=off",
                    config.addr.ip()
                );
            }
            config.addr
        }
        Some(raw) => raw.parse().map_err(|_| anyhow::anyhow!("HUDDLE_MEDIA_ADDR={raw:?} is not a UDP address like 0.0.0.0:7882, or off"))?,
    };
    let public_ip: Option<IpAddr> = match get("HUDDLE_MEDIA_PUBLIC_IP") {
        None => None,
        Some(ip) => Some(ip.trim().parse().map_err(|_| anyhow::anyhow!("HUDDLE_MEDIA_PUBLIC_IP={ip:?} is not an IP address"))?),
    };
    if public_ip.is_some_and(|ip| ip.is_unspecified()) {
        anyhow::bail!("HUDDLE_MEDIA_PUBLIC_IP must be an address browsers can reach, not 0.0.0.0");
    }
    let room_size = match get("HUDDLE_SFU_ROOM_SIZE") {
        None => SFU_ROOM_SIZE,
        Some(n) => usize::try_from(positive("HUDDLE_SFU_ROOM_SIZE", &n)?)?,
    };
    let consultations = match get("HUDDLE_CONSULTATION_SFU").as_deref().map(str::trim) {
        None | Some("off") => false,
        Some("on") => true,
        Some(other) => anyhow::bail!("HUDDLE_CONSULTATION_SFU={other:?} must be on or off"),
    };
    config.media = Some(MediaAddress { bind, public_ip });
    config.signaling.media = Some(MediaPolicy { room_size, consultations });
    Ok(())
}

/// Accepts `http(s)://host[:port]` with nothing after it but an optional `/`.
/// `HUDDLE_TURN_URLS` (comma-separated `turn:`/`turns:` URLs),
/// `HUDDLE_TURN_SECRET` (at least 16 characters; coturn's
/// `static-auth-secret`) and `HUDDLE_TURN_TTL_MINUTES` (default 60): all or
/// none of the first two.
fn turn_from(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<TurnConfig>> {
    let (urls, secret) = match (get("HUDDLE_TURN_URLS"), get("HUDDLE_TURN_SECRET")) {
        (None, None) => return Ok(None),
        (Some(urls), Some(secret)) => (urls, secret),
        _ => anyhow::bail!("HUDDLE_TURN_URLS and HUDDLE_TURN_SECRET go together: set both, or neither"),
    };
    let urls: Vec<String> = urls.split(',').map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect();
    if urls.is_empty() || urls.iter().any(|u| !(u.starts_with("turn:") || u.starts_with("turns:"))) {
        anyhow::bail!("HUDDLE_TURN_URLS must list turn: or turns: URLs, separated by commas");
    }
    if secret.chars().count() < 16 {
        anyhow::bail!("HUDDLE_TURN_SECRET must be at least 16 characters");
    }
    let minutes = match get("HUDDLE_TURN_TTL_MINUTES") {
        None => 60,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(m) if (1..=7 * 24 * 60).contains(&m) => m,
            _ => anyhow::bail!("HUDDLE_TURN_TTL_MINUTES={raw:?} must be 1 to 10080 minutes"),
        },
    };
    Ok(Some(TurnConfig { urls, secret, ttl: Duration::from_secs(minutes * 60) }))
}

fn parse_origin(raw: &str) -> anyhow::Result<String> {
    let origin = raw.trim().trim_end_matches('/');
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| anyhow::anyhow!("HUDDLE_PUBLIC_ORIGIN={raw:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        anyhow::bail!("HUDDLE_PUBLIC_ORIGIN={raw:?} must be a scheme and host only, like https://meet.example.org");
    }
    Ok(origin.to_string())
}

#[cfg(test)]
mod tests;

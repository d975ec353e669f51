//! Serves a router on a listener, over plain TCP or Huddle's own TLS, with
//! HTTP/1.1 (and WebSocket upgrades) and HTTP/2, until told to stop. Each
//! request carries the TCP peer's address (`ConnectInfo`) and whether it
//! came over TLS ([`Transport`]), from which the client is resolved.
//!
//! On the open internet a server meets clients that connect and say
//! nothing, send their headers a byte at a time, or hold thousands of idle
//! connections. So: a deadline for a request's headers and for a TLS
//! handshake, idle connections closed, and a cap on open connections per
//! address and in total, counted for as long as the socket lives (a
//! WebSocket included), with a log line when a cap bites.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::domain::ClientNetwork;
use crate::server::client_address::{Transport, TrustedProxies};

/// Longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadlines and caps for the connections of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// A connection with no bytes either way for this long is closed
    /// (WebSockets are pinged well within it).
    pub idle_timeout: Duration,
    /// Open connections in all.
    pub max_total: usize,
    /// Open connections from one address (trusted proxies are not capped:
    /// everyone behind them shares their address).
    pub max_per_address: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { header_timeout: Duration::from_secs(10), idle_timeout: Duration::from_secs(60), max_total: 10_000, max_per_address: 200 }
    }
}

/// Raises this process's open-file limit to the most it may have, and
/// returns the limit now in force (each connection takes one file).
pub fn raise_file_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    }
}

/// Files kept free for the database, certificates and the like.
const FILES_IN_RESERVE: u64 = 100;

/// The connection cap that fits `file_limit`, and a warning when it is
/// low.
pub fn connections_for(file_limit: u64) -> usize {
    let fit = file_limit.saturating_sub(FILES_IN_RESERVE).max(16);
    if file_limit < 4096 {
        tracing::warn!(
            file_limit,
            connections = fit,
            "the open-file limit is low: Huddle can hold only this many connections; raise it (LimitNOFILE=65536 in the systemd unit, ulimit -n elsewhere)"
        );
    }
    usize::try_from(fit).unwrap_or(usize::MAX)
}

/// Open connections, per address and in all.
#[derive(Debug, Default)]
struct Census {
    per_address: HashMap<ClientNetwork, usize>,
    total: usize,
    /// Connections refused since the last log line about it.
    refused: u64,
    last_said: Option<Instant>,
}

/// Counts connections against [`ConnectionLimits`].
#[derive(Debug)]
pub struct Gate {
    limits: ConnectionLimits,
    trusted: Arc<TrustedProxies>,
    census: Mutex<Census>,
}

/// A connection's place under the caps, given back when its socket closes.
#[derive(Debug)]
pub struct Place {
    gate: Arc<Gate>,
    address: ClientNetwork,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut census = self.gate.lock();
        census.total -= 1;
        if let Some(n) = census.per_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                census.per_address.remove(&self.address);
            }
        }
    }
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    Total,
    Address,
}

impl Gate {
    pub fn new(limits: ConnectionLimits, trusted: Arc<TrustedProxies>) -> Arc<Self> {
        Arc::new(Self { limits, trusted, census: Mutex::new(Census::default()) })
    }

    /// A place for a connection from `address`, unless a cap is reached.
    pub fn enter(self: &Arc<Self>, peer: IpAddr) -> Result<Place, Full> {
        let address = ClientNetwork::of(peer);
        let mut census = self.lock();
        let from_address = census.per_address.get(&address).copied().unwrap_or(0);
        let full = if census.total >= self.limits.max_total {
            Some(Full::Total)
        } else if from_address >= self.limits.max_per_address && !self.trusted.contains(peer) {
            Some(Full::Address)
        } else {
            None
        };
        if let Some(full) = full {
            census.refused += 1;
            // One line per ten seconds at most, however hard the flood.
            if census.last_said.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
                let (refused, open) = (census.refused, census.total);
                match full {
                    Full::Total => {
                        tracing::warn!(refused, open, "refusing connections: the cap on open connections is reached (HUDDLE_MAX_CONNECTIONS)")
                    }
                    Full::Address => tracing::warn!(
                        refused,
                        open,
                        "refusing connections: one address holds as many as allowed (HUDDLE_MAX_CONNECTIONS_PER_ADDRESS)"
                    ),
                }
                census.refused = 0;
                census.last_said = Some(Instant::now());
            }
            return Err(full);
        }
        census.total += 1;
        *census.per_address.entry(address).or_default() += 1;
        Ok(Place { gate: Arc::clone(self), address })
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Census> {
        self.census.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sets what every accepted socket needs: small writes (a page's last
/// bytes, a signaling message) go out at once instead of waiting for the
/// previous one's acknowledgement (Nagle's algorithm against delayed ACK
/// cost every kept-alive request about 40 ms).
pub fn tune(tcp: &TcpStream) {
    let _ = tcp.set_nodelay(true);
}

/// Accepts connections on `listener` and serves `router` on each (through
/// `tls` if given) until `shutdown` completes; then stops accepting and
/// waits up to `grace` for the connections' requests to finish. Upgraded
/// connections (WebSockets) are not waited for here: they belong to their
/// own tasks from the upgrade on.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    gate: Arc<Gate>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(gate.limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let (header_timeout, idle_timeout) = (gate.limits.header_timeout, gate.limits.idle_timeout);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait a moment
                    // rather than spin.
                    tracing::error!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(place) = gate.enter(peer.ip()) else { continue };
        tune(&tcp);
        let activity = Activity::new();
        // Over TLS the client has spoken only once decrypted bytes arrive
        // (`Heard`): the handshake's are not a request.
        let io = Watched { inner: tcp, activity: Arc::clone(&activity), hears: tls.is_none(), _place: place };
        let connection = connection(io, peer, tls.clone(), router.clone(), builder.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Some(served) = connection.await else { return };
            tokio::select! {
                _ = watcher.watch(served) => {}
                // Dropping the connection closes it. Until its first byte,
                // a connection has only the header deadline.
                () = activity.idle_for(header_timeout, idle_timeout) => {}
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after the shutdown grace period; stopping anyway");
    }
}

/// One accepted connection, after its TLS handshake if any: the future
/// that serves it, ready to be watched for shutdown.
async fn connection(
    tcp: Watched<TcpStream>,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    router: Router,
    builder: Builder<TokioExecutor>,
) -> Option<impl hyper_util::server::graceful::GracefulConnection> {
    let transport = Transport { tls: tls.is_some() };
    let service = TowerToHyperService::new(tower::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(transport);
        router.clone().oneshot(request.map(axum::body::Body::new))
    }));
    let activity = Arc::clone(&tcp.activity);
    let io: Box<dyn Io> = match tls {
        None => Box::new(tcp),
        Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => Box::new(Heard { inner: stream, activity }),
            // A failed or abandoned handshake is the client's business; it
            // is not worth a log line per scanner.
            Ok(Err(_)) | Err(_) => return None,
        },
    };
    Some(builder.serve_connection_with_upgrades(TokioIo::new(io), service).into_owned())
}

/// Plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// When a connection last moved a byte either way.
#[derive(Debug)]
struct Activity {
    since: Instant,
    /// Milliseconds after `since`.
    last: AtomicU64,
    /// Whether the client has sent anything yet.
    heard: AtomicBool,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self { since: Instant::now(), last: AtomicU64::new(0), heard: AtomicBool::new(false) })
    }

    fn touch(&self) {
        let now = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// The client sent something of its own.
    fn heard(&self) {
        self.touch();
        self.heard.store(true, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `limit`, or the client has
    /// sent nothing at all for `first`.
    async fn idle_for(&self, first: Duration, limit: Duration) {
        loop {
            let limit = if self.heard.load(Ordering::Relaxed) { limit } else { first };
            let last = self.since + Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = last + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A socket that notes its activity and holds its place under the caps for
/// as long as it lives (an upgraded WebSocket keeps it). Under TLS its
/// bytes are the handshake's and records' (`hears` off): they keep the
/// connection alive, but the client has spoken only when [`Heard`], above
/// the TLS layer, reads plain bytes. A client that finished its handshake
/// and said nothing once lived the idle limit, not the header deadline.
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
    hears: bool,
    _place: Place,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            if self.hears {
                self.activity.heard();
            } else {
                self.activity.touch();
            }
        }
        polled
    }
}

/// A TLS stream whose plain bytes from the client count as it speaking.
struct Heard<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Heard<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.heard();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Heard<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, data)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_accepted_socket_sends_small_writes_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        assert!(!accepted.nodelay().unwrap(), "the default, which tune must change");
        tune(&accepted);
        assert!(accepted.nodelay().unwrap());
        drop(client);
    }

    fn gate(max_total: usize, max_per_address: usize, trusted: &str) -> Arc<Gate> {
        let limits = ConnectionLimits { max_total, max_per_address, ..ConnectionLimits::default() };
        Gate::new(limits, Arc::new(TrustedProxies::parse(trusted).unwrap()))
    }

    #[test]
    fn connections_are_capped_per_address_and_in_all_and_places_come_back() {
        let g = gate(3, 2, "10.0.0.1");
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = g.enter(a).unwrap();
        let _second = g.enter(a).unwrap();
        assert_eq!(g.enter(a).unwrap_err(), Full::Address);
        let _third = g.enter(b).unwrap();
        assert_eq!(g.enter(b).unwrap_err(), Full::Total);
        drop(first);
        assert_eq!(g.open(), 2);
        assert!(g.enter(a).is_ok());
    }

    #[test]
    fn an_ipv6_64_counts_as_one_address() {
        let g = gate(10, 2, "");
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let _a = g.enter(ip("2001:db8::1")).unwrap();
        let _b = g.enter(ip("2001:db8::ffff:2")).unwrap();
        assert_eq!(g.enter(ip("2001:db8::3:3")).unwrap_err(), Full::Address, "the same /64");
        assert!(g.enter(ip("2001:db8:0:1::1")).is_ok(), "the next /64 is someone else");
    }

    #[test]
    fn a_trusted_proxy_is_capped_only_in_all() {
        let g = gate(5, 1, "10.0.0.1");
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let places: Vec<_> = (0..5).map(|_| g.enter(proxy).unwrap()).collect();
        assert_eq!(g.enter(proxy).unwrap_err(), Full::Total);
        drop(places);
    }

    #[test]
    fn the_connection_cap_fits_the_file_limit() {
        assert_eq!(connections_for(1024), 924);
        assert_eq!(connections_for(65536), 65436);
        assert_eq!(connections_for(10), 16);
        assert!(raise_file_limit() >= 1024);
    }
}

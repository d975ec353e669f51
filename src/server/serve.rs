//! Serves a router on a listener, over plain TCP or Huddle's own TLS, with
//! HTTP/1.1 (and WebSocket upgrades) and HTTP/2, until told to stop. Each
//! request carries the TCP peer's address (`ConnectInfo`) and whether it
//! came over TLS ([`Transport`]), from which the client is resolved.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::server::client_address::Transport;

/// Longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections on `listener` and serves `router` on each (through
/// `tls` if given) until `shutdown` completes; then stops accepting and
/// waits up to `grace` for the connections' requests to finish. Upgraded
/// connections (WebSockets) are not waited for here: they belong to their
/// own tasks from the upgrade on.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
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
        // Small writes (a page's last bytes, a signaling message) go out at
        // once instead of waiting for the previous one's ACK.
        let _ = tcp.set_nodelay(true);
        let connection = connection(tcp, peer, tls.clone(), router.clone(), builder.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if let Some(served) = connection.await {
                let _ = watcher.watch(served).await;
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
    tcp: TcpStream,
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
    let io: Box<dyn Io> = match tls {
        None => Box::new(tcp),
        Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => Box::new(stream),
            // A failed or abandoned handshake is the client's business; it
            // is not worth a log line per scanner.
            Ok(Err(_)) | Err(_) => return None,
        },
    };
    Some(builder.serve_connection_with_upgrades(TokioIo::new(io), service).into_owned())
}

/// Plain TCP or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Io for T {}

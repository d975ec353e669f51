//! Huddle's own HTTPS: rustls with a certificate made at test time, HTTP/2
//! for pages, WebSockets over TLS, and a certificate swapped on disk while
//! a call's socket stays open.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle::call::protocol::ServerMessage;
use huddle::server::config::{Config, TlsFiles};
use huddle::startup::Application;
use reqwest::header::{HeaderValue, ORIGIN};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::spawn_app_with;

/// A new self-signed certificate for `localhost`, written to `dir` as
/// `name.crt` and `name.key`; returns its PEM.
fn certificate(dir: &Path, name: &str) -> (TlsFiles, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let files = TlsFiles { cert: dir.join(format!("{name}.crt")), key: dir.join(format!("{name}.key")) };
    std::fs::write(&files.cert, made.cert.pem()).unwrap();
    std::fs::write(&files.key, made.key_pair.serialize_pem()).unwrap();
    (files, made.cert.pem())
}

/// An HTTPS client that trusts only `pem` and reaches `localhost` at `addr`.
fn client_trusting(pem: &str, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

type TlsSocket = tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// A TLS connection to `addr`, its handshake done, trusting only `pem`.
async fn tls_to(pem: &str, addr: std::net::SocketAddr) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap()
}

/// A signaling socket over TLS, trusting only `pem`.
async fn wss(pem: &str, addr: std::net::SocketAddr, origin: &str) -> TlsSocket {
    let tls = tls_to(pem, addr).await;
    let mut request = format!("wss://localhost:{}/ws", addr.port()).into_client_request().unwrap();
    request.headers_mut().insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
    tokio_tungstenite::client_async(request, tls).await.unwrap().0
}

async fn recv(socket: &mut TlsSocket) -> ServerMessage {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return serde_json::from_str(text.as_str()).unwrap(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

use rustls_pki_types::pem::PemObject;

fn tls_config(files: TlsFiles) -> impl Fn(&mut Config) + Send + Sync + 'static {
    move |c: &mut Config| {
        c.tls = Some(files.clone());
        c.tls_reload_every = Duration::from_millis(100);
    }
}

#[tokio::test]
async fn huddle_serves_https_itself_with_http2_pages_and_websockets_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (files, pem) = certificate(dir.path(), "live");
    let app = spawn_app_with(tls_config(files)).await;
    assert!(app.origin.starts_with("https://127.0.0.1:"), "{}", app.origin);
    let client = client_trusting(&pem, app.addr);
    let response = client.get(format!("https://localhost:{}/healthz", app.addr.port())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let home = client.get(format!("https://localhost:{}/", app.addr.port())).send().await.unwrap();
    assert!(home.headers().contains_key("strict-transport-security"));
    // A sign-up over HTTPS gets a Secure session cookie.
    let form = [("email", "host@example.org"), ("display_name", "Dr. Host"), ("password", "correct horse battery")];
    let signed_up = client
        .post(format!("https://localhost:{}/api/signup", app.addr.port()))
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 200);
    let mut socket = wss(&pem, app.addr, &app.origin).await;
    socket.send(Message::text(r#"{"type":"join","version":2,"room":"nope","name":"Pat"}"#)).await.unwrap();
    assert!(matches!(recv(&mut socket).await, ServerMessage::Error { .. }));
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart_and_an_open_call_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let (files, old_pem) = certificate(dir.path(), "live");
    let app = spawn_app_with(tls_config(files.clone())).await;
    let mut call = wss(&old_pem, app.addr, &app.origin).await;
    // Renewal: both files replaced in place, as certbot's deploy hook does.
    let (next, new_pem) = certificate(dir.path(), "renewed");
    let renewed_at = Instant::now();
    std::fs::copy(&next.cert, &files.cert).unwrap();
    std::fs::copy(&next.key, &files.key).unwrap();
    let fresh = client_trusting(&new_pem, app.addr);
    let url = format!("https://localhost:{}/healthz", app.addr.port());
    loop {
        if fresh.get(&url).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(renewed_at.elapsed() < Duration::from_secs(5), "the renewed certificate was not served within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("certificate reload took {:?}", renewed_at.elapsed());
    // A client knowing only the old certificate is now refused...
    assert!(client_trusting(&old_pem, app.addr).get(&url).send().await.is_err());
    // ...while the socket opened before the renewal still talks.
    call.send(Message::text(r#"{"type":"ice_servers"}"#)).await.unwrap();
    assert!(matches!(recv(&mut call).await, ServerMessage::Error { .. }), "the old connection still answers");
}

#[tokio::test]
async fn a_wrong_certificate_or_key_stops_start_up_with_a_sentence_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (good, _) = certificate(dir.path(), "good");
    let (other, _) = certificate(dir.path(), "other");
    let cases: [(TlsFiles, &str); 3] = [
        (TlsFiles { cert: dir.path().join("missing.crt"), key: good.key.clone() }, "missing.crt"),
        (TlsFiles { cert: good.cert.clone(), key: other.key.clone() }, "does not belong"),
        (TlsFiles { cert: good.key.clone(), key: good.key.clone() }, "HUDDLE_TLS_CERT"),
    ];
    for (files, expected) in cases {
        let config = Config {
            addr: ([127, 0, 0, 1], 0).into(),
            database: crate::helpers::fresh_database(dir.path()).await,
            tls: Some(files),
            ..Config::default()
        };
        let error = match Application::build(config).await {
            Ok(_) => panic!("started with a wrong certificate"),
            Err(e) => format!("{e:#}"),
        };
        assert!(error.contains(expected), "{error}");
    }
}

#[tokio::test]
async fn a_client_that_shakes_hands_and_says_nothing_is_closed_at_the_header_deadline() {
    // The probe's finding: over TLS such a connection lived the idle limit
    // (60 s), not the documented header deadline (10 s): the handshake's
    // bytes counted as the client having spoken.
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let (files, pem) = certificate(dir.path(), "a");
    let app = spawn_app_with(move |c| {
        tls_config(files.clone())(c);
        c.connections.header_timeout = Duration::from_millis(800);
        c.connections.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let mut silent = tls_to(&pem, app.addr).await;
    let started = Instant::now();
    let mut buf = [0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;
    assert!(read.is_ok(), "still open after 10 s");
    let closed = started.elapsed();
    assert!(closed < Duration::from_millis(3000), "closed after {closed:?}, not at the header deadline");
}

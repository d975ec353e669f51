//! What a stranger on the open internet may hold: connections that say
//! nothing, headers sent a byte at a time, idle keep-alives, and more
//! connections than one address needs. Raw TCP, so nothing is hidden by an
//! HTTP client's manners.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app_with, TestApp};

fn short_deadlines(c: &mut huddle::server::config::Config) {
    c.connections.header_timeout = Duration::from_millis(800);
    c.connections.idle_timeout = Duration::from_millis(1500);
}

/// Reads until the server closes the connection; how long that took, or
/// `None` if it is still open after `limit`. Whatever the server sent is
/// returned too.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> (Option<Duration>, String) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (Some(started.elapsed()), String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (None, String::from_utf8_lossy(&got).into_owned()),
        }
    }
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.addr).await.unwrap()
}

#[tokio::test]
async fn a_connection_that_says_nothing_is_closed_at_the_header_deadline() {
    let app = spawn_app_with(|c| {
        c.connections.header_timeout = Duration::from_millis(800);
        c.connections.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let mut silent = connect(&app).await;
    let (closed, _) = closed_within(&mut silent, Duration::from_secs(5)).await;
    let closed = closed.expect("an idle connection is closed");
    assert!(closed < Duration::from_millis(2500), "closed after {closed:?}");
}

#[tokio::test]
async fn headers_sent_a_byte_at_a_time_meet_the_header_deadline() {
    let app = spawn_app_with(short_deadlines).await;
    let mut slow = connect(&app).await;
    let started = Instant::now();
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    for byte in request {
        if slow.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let (closed, answer) = closed_within(&mut slow, Duration::from_secs(3)).await;
    assert!(closed.is_some(), "still open after a trickle");
    assert!(started.elapsed() < Duration::from_secs(4), "the trickle went on for {:?}", started.elapsed());
    assert!(!answer.contains("200 OK"), "a trickled request was served: {answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_app_with(short_deadlines).await;
    let mut kept = connect(&app).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (closed, _) = closed_within(&mut kept, Duration::from_secs(5)).await;
    let closed = closed.expect("an idle keep-alive connection is closed");
    assert!(closed < Duration::from_millis(3000), "closed after {closed:?}");
}

#[tokio::test]
async fn one_address_may_hold_only_so_many_connections_and_a_normal_request_still_works() {
    let app = spawn_app_with(|c| {
        c.connections.max_per_address = 20;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(connect(&app).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The next one is accepted by the kernel and closed at once by Huddle.
    let mut over = connect(&app).await;
    let (closed, _) = closed_within(&mut over, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "a connection over the cap was kept");
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.visitor().page("/healthz").await.status(), 200, "places come back");
}

#[tokio::test]
async fn the_total_cap_holds_and_a_websocket_keeps_its_place_while_open() {
    let app = spawn_app_with(|c| c.max_connections = Some(3)).await;
    let visitor = app.visitor();
    let _one = visitor.socket().await;
    let _two = visitor.socket().await;
    let _three = visitor.socket().await;
    let refused = visitor.socket_from(&app.origin).await;
    assert!(refused.is_err(), "a fourth connection got through a cap of three");
    drop(_three);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(visitor.socket_from(&app.origin).await.is_ok(), "a place came back when a socket closed");
}

#[tokio::test]
async fn the_open_file_limit_is_raised_at_start() {
    // Started with a low soft limit, as a login shell often gives.
    let hard = std::process::Command::new("bash").args(["-c", "ulimit -Hn"]).output().unwrap();
    let hard = String::from_utf8_lossy(&hard.stdout).trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new("bash")
        .args(["-c", &format!("ulimit -Sn 256 && exec {}", env!("CARGO_BIN_EXE_huddle"))])
        .env("HUDDLE_ADDR", format!("127.0.0.1:{port}"))
        .env("HUDDLE_DATABASE", crate::helpers::setting(&crate::helpers::fresh_database(dir.path()).await))
        .env("RUST_LOG", "error")
        .spawn()
        .unwrap();
    let mut listening = false;
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "the server did not start");
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().to_string();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers, [hard.as_str(), hard.as_str()], "soft limit raised from 256 to the hard one: {line}");
}

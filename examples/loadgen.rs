//! Load generator for the signaling server.
//!
//! Starts the `huddle` binary on a free port with an empty database, creates
//! rooms, opens sockets that join them and exchange offers, answers,
//! trickled candidates and chat messages at a steady rate (a share of them
//! losing their connection half way and resuming with their token, as after
//! a network blip), then opens idle sockets. Reports relay latency p50/p99/max,
//! messages per second, the server's CPU and RSS, and RSS per idle socket.
//! Every relayed message carries its room, so a message delivered to the
//! wrong room is counted; any such message fails the run.
//!
//! ```text
//! cargo build --release --features ssr
//! cargo run --release --example loadgen --features ssr -- \
//!     --sockets 1000 --rooms 200 --seconds 20 --idle 10000
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle::call::protocol::{ErrorCode, ResumeToken, ServerMessage, SignalPayload, PROTOCOL_VERSION};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Options {
    server: String,
    sockets: usize,
    rooms: usize,
    seconds: u64,
    /// Messages per second each active socket sends.
    rate: u64,
    /// Every n-th active socket drops and resumes half way.
    reconnect_every: usize,
    /// Every n-th message a socket sends is a chat message to its room.
    chat_every: u64,
    /// How long a dropped socket stays away before resuming.
    away_ms: u64,
    idle: usize,
}

fn options() -> Options {
    let mut o = Options {
        server: ["target/release/huddle", "target/debug/huddle"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("target/release/huddle")
            .into(),
        sockets: 1000,
        rooms: 200,
        seconds: 20,
        rate: 5,
        reconnect_every: 10,
        chat_every: 10,
        away_ms: 300,
        idle: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        let number = || value.parse::<usize>().unwrap_or_else(|_| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--server" => o.server = value.clone(),
            "--sockets" => o.sockets = number(),
            "--rooms" => o.rooms = number(),
            "--seconds" => o.seconds = number() as u64,
            "--rate" => o.rate = number() as u64,
            "--reconnect-every" => o.reconnect_every = number(),
            "--chat-every" => o.chat_every = number() as u64,
            "--away-ms" => o.away_ms = number() as u64,
            "--idle" => o.idle = number(),
            other => panic!("unknown option {other}; see the top of examples/loadgen.rs"),
        }
    }
    o
}

/// The server's resident memory (bytes) and CPU time used so far.
fn server_usage(pid: u32) -> (u64, Duration) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<u64> = after_name.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    // utime and stime are fields 14 and 15 of /proc/pid/stat, in clock ticks
    // (100 per second on Linux).
    let ticks = fields.get(10).copied().unwrap_or(0) + fields.get(11).copied().unwrap_or(0);
    (rss_kb * 1024, Duration::from_millis(ticks * 10))
}

struct Stats {
    latencies_us: Mutex<Vec<u64>>,
    chat_latencies_us: Mutex<Vec<u64>>,
    delivered: AtomicU64,
    chats: AtomicU64,
    misrouted: AtomicU64,
    reconnected: AtomicU64,
    /// Signals to a peer that had just left (its leave still on the way):
    /// refused by the server, as they should be.
    to_departed: AtomicU64,
    /// Messages held for a dropped socket and delivered when it resumed:
    /// their delay is the time away, not relay latency, so not counted there.
    held: AtomicU64,
}

#[tokio::main]
async fn main() {
    let o = options();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    // Headroom for uneven room sizes.
    let room_size = o.sockets.div_ceil(o.rooms).max(5) + 2;
    let mut server = std::process::Command::new(&o.server)
        .env("HUDDLE_ADDR", format!("127.0.0.1:{port}"))
        .env("HUDDLE_DATABASE", dir.path().join("load.db"))
        .env("HUDDLE_WS_MAX_PER_ADDRESS", "1000000")
        // Every socket comes from 127.0.0.1.
        .env("HUDDLE_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
        .env("HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS", "1000000")
        .env("HUDDLE_ROOM_SIZE", room_size.to_string())
        .env("RUST_LOG", "error")
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", o.server));
    let origin = format!("http://127.0.0.1:{port}");
    let outcome = run(&o, &origin, server.id()).await;
    let _ = server.kill();
    let _ = server.wait();
    if let Err(problem) = outcome {
        eprintln!("FAIL: {problem}");
        std::process::exit(1);
    }
}

async fn run(o: &Options, origin: &str, pid: u32) -> Result<(), String> {
    let http = reqwest::Client::builder().cookie_store(true).build().map_err(|e| e.to_string())?;
    for _ in 0..100 {
        if http.get(origin).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let form = [("email", "load@example.org"), ("display_name", "Load"), ("password", "load generator password")];
    http.post(format!("{origin}/api/signup")).form(&form).send().await.map_err(|e| e.to_string())?;
    http.post(format!("{origin}/api/login")).form(&[form[0], form[2]]).send().await.map_err(|e| e.to_string())?;
    let rooms = create_rooms(&http, origin, o.rooms).await?;

    // Active sockets: join, then exchange signals for the measured window.
    let stats = Arc::new(Stats {
        latencies_us: Mutex::new(Vec::new()),
        chat_latencies_us: Mutex::new(Vec::new()),
        delivered: AtomicU64::new(0),
        chats: AtomicU64::new(0),
        misrouted: AtomicU64::new(0),
        reconnected: AtomicU64::new(0),
        to_departed: AtomicU64::new(0),
        held: AtomicU64::new(0),
    });
    let epoch = Instant::now();
    let window = Duration::from_secs(o.seconds);
    // Everyone joins first; sending starts together, and latencies count
    // after a second of warm-up, so the connection storm is not measured as
    // relay latency.
    let start_at = Instant::now() + Duration::from_millis(3000 + 3 * o.sockets as u64);
    let measure_from = start_at + Duration::from_secs(1);
    let (rss_before, cpu_before) = server_usage(pid);
    let mut tasks = Vec::new();
    for i in 0..o.sockets {
        let room = i % o.rooms;
        let slug = rooms[room].clone();
        let stats = Arc::clone(&stats);
        let origin = origin.to_string();
        let reconnect = o.reconnect_every > 0 && i % o.reconnect_every == 0;
        let (rate, chat_every, away) = (o.rate, o.chat_every, Duration::from_millis(o.away_ms));
        tasks.push(tokio::spawn(async move {
            let timing = Timing { epoch, start_at, measure_from, window };
            participant(&origin, &slug, room, i, (rate, chat_every), timing, reconnect.then_some(away), &stats).await
        }));
    }
    tokio::time::sleep_until(start_at.into()).await;
    let started = Instant::now();
    let mut failures = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("participant failed: {why}");
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("participant task failed: {e}");
            }
        }
    }
    let elapsed = started.elapsed();
    let (rss_after, cpu_after) = server_usage(pid);

    let mut latencies = stats.latencies_us.lock().map_err(|_| "poisoned")?.clone();
    latencies.sort_unstable();
    let mut chat_latencies = stats.chat_latencies_us.lock().map_err(|_| "poisoned")?.clone();
    chat_latencies.sort_unstable();
    let pct_of = |l: &[u64], p: f64| l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1))).copied().unwrap_or(0);
    let pct = |p: f64| pct_of(&latencies, p);
    let delivered = stats.delivered.load(Ordering::Relaxed);
    let misrouted = stats.misrouted.load(Ordering::Relaxed);
    println!(
        "active: {} sockets in {} rooms for {:.1} s; {} dropped and resumed ({} messages held for them meanwhile, delivered on resume); {} failed",
        o.sockets,
        o.rooms,
        elapsed.as_secs_f64(),
        stats.reconnected.load(Ordering::Relaxed),
        stats.held.load(Ordering::Relaxed),
        failures
    );
    println!(
        "relayed: {delivered} messages, {:.0} per second; misrouted: {misrouted}; refused as sent to a peer that had just left: {}",
        delivered as f64 / elapsed.as_secs_f64(),
        stats.to_departed.load(Ordering::Relaxed)
    );
    println!(
        "relay latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "chat: {} deliveries (everyone in the room, sender included); latency p50 {:.2} ms, p99 {:.2} ms",
        stats.chats.load(Ordering::Relaxed),
        pct_of(&chat_latencies, 0.50) as f64 / 1000.0,
        pct_of(&chat_latencies, 0.99) as f64 / 1000.0
    );
    println!(
        "server: CPU {:.0}% of one core, RSS {:.1} MiB (was {:.1} MiB)",
        100.0 * (cpu_after - cpu_before).as_secs_f64() / elapsed.as_secs_f64(),
        rss_after as f64 / 1048576.0,
        rss_before as f64 / 1048576.0
    );

    if o.idle > 0 {
        let idle_rooms = create_rooms(&http, origin, o.idle.div_ceil(5)).await?;
        let (rss_before, _) = server_usage(pid);
        let mut held = Vec::with_capacity(o.idle);
        for i in 0..o.idle {
            let mut socket = connect(origin).await?;
            join(&mut socket, &idle_rooms[i / 5], &format!("idle{i}")).await?;
            held.push(socket);
        }
        // Let the server settle, reading nothing but pings meanwhile.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss_after, _) = server_usage(pid);
        let per_socket = rss_after.saturating_sub(rss_before) as f64 / o.idle as f64;
        println!(
            "idle: {} sockets held; server RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per idle socket",
            o.idle,
            rss_before as f64 / 1048576.0,
            rss_after as f64 / 1048576.0,
            per_socket / 1024.0
        );
        drop(held);
    }

    if misrouted > 0 {
        return Err(format!("{misrouted} messages reached the wrong room"));
    }
    if failures > 0 {
        return Err(format!("{failures} participants failed"));
    }
    if delivered == 0 {
        return Err("no message was relayed".into());
    }
    if o.chat_every > 0 && stats.chats.load(Ordering::Relaxed) == 0 {
        return Err("no chat message was delivered".into());
    }
    Ok(())
}

async fn create_rooms(http: &reqwest::Client, origin: &str, n: usize) -> Result<Vec<String>, String> {
    let mut slugs = Vec::with_capacity(n);
    for r in 0..n {
        let room: serde_json::Value = http
            .post(format!("{origin}/api/create_room"))
            .form(&[("name", format!("Room {r}"))])
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        slugs.push(room["slug"].as_str().ok_or("no room slug")?.to_string());
    }
    Ok(slugs)
}

async fn connect(origin: &str) -> Result<Socket, String> {
    let mut request = format!("{}/ws", origin.replace("http://", "ws://")).into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("origin", HeaderValue::from_str(origin).map_err(|e| e.to_string())?);
    let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    Ok(socket)
}

/// Joins; returns our id, the ids already in the room and our resume token.
async fn join(socket: &mut Socket, slug: &str, name: &str) -> Result<(u64, Vec<u64>, ResumeToken), String> {
    let hello = json!({"type": "join", "version": PROTOCOL_VERSION, "room": slug, "name": name}).to_string();
    match first_answer(socket, hello).await? {
        ServerMessage::Welcome { you, participants, resume_token, .. } => Ok((you.id.0, participants.iter().map(|p| p.id.0).collect(), resume_token)),
        other => Err(format!("expected a welcome, got {other:?}")),
    }
}

/// Takes a dropped participant's place back; returns its id and the others.
async fn resume(socket: &mut Socket, token: &ResumeToken) -> Result<(u64, Vec<u64>), String> {
    let hello = json!({"type": "resume", "version": PROTOCOL_VERSION, "token": token.0}).to_string();
    match first_answer(socket, hello).await? {
        ServerMessage::Resumed { you, participants, .. } => Ok((you.id.0, participants.iter().map(|p| p.id.0).collect())),
        other => Err(format!("expected to resume, got {other:?}")),
    }
}

async fn first_answer(socket: &mut Socket, hello: String) -> Result<ServerMessage, String> {
    socket.send(Message::text(hello)).await.map_err(|e| e.to_string())?;
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame.map_err(|e| e.to_string())? {
            return serde_json::from_str::<ServerMessage>(text.as_str()).map_err(|e| e.to_string());
        }
    }
    Err("closed before an answer".into())
}

/// When a participant sends and what it measures.
#[derive(Clone, Copy)]
struct Timing {
    /// Zero of the timestamps carried in messages.
    epoch: Instant,
    /// When everyone starts sending.
    start_at: Instant,
    /// Latencies before this are warm-up and not counted.
    measure_from: Instant,
    window: Duration,
}

#[allow(clippy::too_many_arguments)]
async fn participant(
    origin: &str,
    slug: &str,
    room: usize,
    index: usize,
    (rate, chat_every): (u64, u64),
    timing: Timing,
    reconnect_after: Option<Duration>,
    stats: &Stats,
) -> Result<(), String> {
    let Timing { epoch, start_at, window, .. } = timing;
    let deadline = start_at + window;
    let halfway = start_at + window / 2;
    let mut reconnected = reconnect_after.is_none();
    // Stamps older than this were sent while we were away.
    let mut back_at_us = 0u64;
    let mut socket = connect(origin).await?;
    let (me, mut peers, token) = join(&mut socket, slug, &format!("p{index}")).await?;
    {
        // Each socket its own phase within the interval, as real clients are.
        let period = Duration::from_millis(1000 / rate.max(1));
        let phase = period.mul_f64((index % 1000) as f64 / 1000.0);
        let first = tokio::time::Instant::from(start_at.max(Instant::now()) + phase);
        let mut tick = tokio::time::interval_at(first, period);
        let mut sent = 0u64;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = Instant::now();
                    if now >= deadline {
                        let _ = socket.close(None).await;
                        return Ok(());
                    }
                    if !reconnected && now >= halfway {
                        // A network blip: the TCP connection ends with no
                        // WebSocket goodbye; a new one presents the token.
                        reconnected = true;
                        drop(socket);
                        tokio::time::sleep(reconnect_after.unwrap_or_default()).await;
                        socket = connect(origin).await?;
                        let (again, others) = resume(&mut socket, &token).await?;
                        if again != me {
                            return Err(format!("resumed as {again}, not {me}"));
                        }
                        peers = others;
                        back_at_us = epoch.elapsed().as_micros() as u64;
                        stats.reconnected.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if peers.is_empty() {
                        continue;
                    }
                    let stamp = format!("t={};room={room}", epoch.elapsed().as_micros());
                    if chat_every > 0 && sent % chat_every == chat_every - 1 {
                        sent += 1;
                        let message = json!({"type": "chat", "text": stamp}).to_string();
                        if socket.send(Message::text(message)).await.is_err() {
                            return Err("send failed".into());
                        }
                        continue;
                    }
                    let to = peers[(sent as usize) % peers.len()];
                    let payload = match sent % 3 {
                        0 => json!({"kind": "offer", "sdp": stamp}),
                        1 => json!({"kind": "answer", "sdp": stamp}),
                        _ => json!({"kind": "candidate", "candidate": stamp, "sdp_mid": "0", "sdp_m_line_index": 0}),
                    };
                    sent += 1;
                    let message = json!({"type": "signal", "to": to, "payload": payload}).to_string();
                    if socket.send(Message::text(message)).await.is_err() {
                        return Err("send failed".into());
                    }
                }
                frame = socket.next() => {
                    let Some(Ok(frame)) = frame else { return Err("the server closed the socket".into()) };
                    let Message::Text(text) = frame else { continue };
                    match serde_json::from_str::<ServerMessage>(text.as_str()) {
                        Ok(ServerMessage::Signal { payload, .. }) => {
                            let stamp = match payload {
                                SignalPayload::Offer { sdp } | SignalPayload::Answer { sdp } => sdp,
                                SignalPayload::Candidate { candidate, .. } => candidate,
                            };
                            arrived(&stamp, room, back_at_us, &timing, stats, &stats.latencies_us);
                            stats.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::Chat { text, .. }) => {
                            arrived(text.as_str(), room, back_at_us, &timing, stats, &stats.chat_latencies_us);
                            stats.chats.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::ParticipantJoined { participant }) => peers.push(participant.id.0),
                        Ok(ServerMessage::ParticipantLeft { id }) => peers.retain(|p| *p != id.0),
                        Ok(ServerMessage::Error { code: ErrorCode::UnknownParticipant, .. }) => {
                            stats.to_departed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::Error { message, .. }) => return Err(format!("server error: {message}")),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// A stamped message arrived: checks its room, and counts its latency
/// into `latencies` (or, if it was sent while we were away, as held).
fn arrived(stamp: &str, room: usize, back_at_us: u64, timing: &Timing, stats: &Stats, latencies: &Mutex<Vec<u64>>) {
    let (t, their_room) = parse_stamp(stamp);
    if their_room != Some(room) {
        stats.misrouted.fetch_add(1, Ordering::Relaxed);
    }
    if t.is_some_and(|t| t < back_at_us) {
        stats.held.fetch_add(1, Ordering::Relaxed);
    } else if let Some(t) = t.filter(|_| Instant::now() >= timing.measure_from) {
        let latency = (timing.epoch.elapsed().as_micros() as u64).saturating_sub(t);
        if let Ok(mut l) = latencies.lock() {
            l.push(latency);
        }
    }
}

fn parse_stamp(stamp: &str) -> (Option<u64>, Option<usize>) {
    let mut t = None;
    let mut room = None;
    for part in stamp.split(';') {
        if let Some(v) = part.strip_prefix("t=") {
            t = v.parse().ok();
        } else if let Some(v) = part.strip_prefix("room=") {
            room = v.parse().ok();
        }
    }
    (t, room)
}

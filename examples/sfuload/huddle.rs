//! Huddle's side: the host signs up and in, creates the room, and every
//! other participant comes in as a browser does (a class's pupils knock and
//! are admitted), says what it sends (`media`), offers its one connection
//! to the media server (`sfu_offer`), and says what its page shows
//! (`sfu_view`). The teacher lets one pupil speak.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use huddle::call::protocol::{ClientMessage, MediaSource, MediaState, ParticipantId, ServerMessage, VideoWant, PROTOCOL_VERSION};
use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, Simulcast, SimulcastLayer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::peer::{Peer, Window, LAYERS};
use crate::{Role, Workload};

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running Huddle server with its media port.
pub struct Server {
    pub child: Child,
    origin: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `bin` on free ports of 127.0.0.1, pinned to `core`.
    pub fn start(bin: &str, core: usize) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port();
        let media = std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map_err(|e| e.to_string())?;
        let child = Command::new("taskset")
            .args(["-c", &core.to_string(), bin])
            .env("HUDDLE_ADDR", format!("127.0.0.1:{port}"))
            .env("HUDDLE_DATABASE", dir.path().join("sfuload.db"))
            .env("HUDDLE_MEDIA_ADDR", media.to_string())
            .env("HUDDLE_SFU_ROOM_SIZE", "250")
            // Every participant comes from 127.0.0.1, and nobody answers
            // pings while the media runs.
            .env("HUDDLE_WS_MAX_PER_ADDRESS", "100000")
            .env("HUDDLE_MAX_CONNECTIONS_PER_ADDRESS", "100000")
            .env("HUDDLE_ROOM_LOOKUP_LIMIT_PER_ADDRESS", "100000")
            .env("HUDDLE_WS_SILENCE_SECONDS", "3600")
            .env("HUDDLE_WS_PING_SECONDS", "1800")
            .env("RUST_LOG", "error")
            .spawn()
            .map_err(|e| format!("starting {bin}: {e}"))?;
        Ok(Self { child, origin: format!("http://127.0.0.1:{port}"), _dir: dir })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(3999)
}

/// Everyone gathered in the room.
pub struct Gathered {
    pub peers: Vec<Peer>,
    pub sockets: Vec<Socket>,
    pub rss_before: u64,
    /// Each participant's id in the call, by index.
    pub ids: Vec<ParticipantId>,
}

/// Everyone of `workload` in one room of `server`, connected: their peers
/// (to run) and their signaling sockets (to hold open).
/// Also returns the server's resident memory once the host is signed in
/// and the room made (password hashing keeps a work area), before anyone
/// joins.
pub async fn gather(server: &Server, workload: &Workload, epoch: Instant, window: &Window) -> Result<Gathered, String> {
    let origin = &server.origin;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder().cookie_provider(jar.clone()).build().map_err(|e| e.to_string())?;
    for _ in 0..200 {
        if http.get(origin).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let form = [("email", "host@example.org"), ("display_name", "Host"), ("password", "a load benchmark password")];
    let signed_up = http.post(format!("{origin}/api/signup")).form(&form).send().await.map_err(|e| e.to_string())?;
    let signed_in = http.post(format!("{origin}/api/login")).form(&[form[0], form[2]]).send().await.map_err(|e| e.to_string())?;
    if !signed_up.status().is_success() || !signed_in.status().is_success() {
        return Err(format!("sign-up {} / sign-in {}", signed_up.status(), signed_in.status()));
    }
    let kind = if workload.class { "class" } else { "meeting" };
    let room: serde_json::Value = http
        .post(format!("{origin}/api/create_room"))
        .form(&[("name", workload.name), ("kind", kind)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let slug = room["slug"].as_str().ok_or("no room slug")?.to_string();
    let id = room["id"].as_i64().ok_or("no room id")?;
    // The room's own size (a class's default is below a lecture's).
    let size = workload.roles.len().max(2).to_string();
    let set = http
        .post(format!("{origin}/api/set_room_size"))
        .form(&[("room", id.to_string()), ("max_participants", size)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if set.status().is_client_error() || set.status().is_server_error() {
        return Err(format!("room size refused: {}", set.status()));
    }
    let cookie = jar_cookie(&jar, origin);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (rss_before, _) = crate::usage(server.child.id());

    // Everyone joins; guests of a class wait in the lobby (at most 50 at
    // a time) until the host admits them, forty at a time.
    let mut sockets = Vec::with_capacity(workload.roles.len());
    let mut ids = vec![ParticipantId(0); workload.roles.len()];
    let mut waiting = Vec::new();
    for i in 0..workload.roles.len() {
        let mut socket = connect(origin, if i == 0 { cookie.clone() } else { None }).await?;
        send(&mut socket, json!({"type": "join", "version": PROTOCOL_VERSION, "room": slug, "name": format!("p{i}")})).await?;
        match next(&mut socket).await? {
            ServerMessage::Welcome { you, .. } => ids[i] = you.id,
            ServerMessage::Waiting { .. } => waiting.push(i),
            other => return Err(format!("participant {i}: expected a welcome, got {other:?}")),
        }
        sockets.push(socket);
        if waiting.len() == 40 || (i + 1 == workload.roles.len() && !waiting.is_empty()) {
            let want = waiting.len();
            until(&mut sockets[0], |m| matches!(m, ServerMessage::Lobby { waiting } if waiting.len() == want).then_some(())).await?;
            send(&mut sockets[0], serde_json::to_value(ClientMessage::AdmitAll).map_err(|e| e.to_string())?).await?;
            for w in waiting.drain(..) {
                ids[w] = until(&mut sockets[w], |m| match m {
                    ServerMessage::Welcome { you, .. } => Some(you.id),
                    _ => None,
                })
                .await?;
            }
        }
    }
    if let Some(speaker) = workload.let_speak {
        let id = ids[speaker];
        send(&mut sockets[0], serde_json::to_value(ClientMessage::LetSpeak { id }).map_err(|e| e.to_string())?).await?;
    }

    // Each offers its connection and says what its page shows.
    let mut peers = Vec::with_capacity(workload.roles.len());
    for (i, role) in workload.roles.iter().enumerate() {
        let socket = &mut sockets[i];
        let mut peer = Peer::bind(IpAddr::from([127, 0, 0, 1]), i as u16, epoch, window.clone()).await.map_err(|e| e.to_string())?;
        // In groups a page shows the group's pictures: room for them.
        let slots = role.sees.len().max(if workload.groups.is_some() { 6 } else { 1 });
        connect_media(socket, &mut peer, role, slots).await?;
        let want = role.sees.iter().map(|&(who, height)| VideoWant { id: ids[who], source: MediaSource::Camera, height }).collect();
        send(socket, serde_json::to_value(ClientMessage::SfuView { want }).map_err(|e| e.to_string())?).await?;
        peers.push(peer);
    }
    Ok(Gathered { peers, sockets, rss_before, ids })
}

/// Says what `role` sends, offers `peer`'s connection with `slots`
/// picture slots and takes the media server's answer, as a page does.
pub async fn connect_media(socket: &mut Socket, peer: &mut Peer, role: &Role, slots: usize) -> Result<(), String> {
    let state = MediaState { microphone: role.level.is_some(), camera: role.publishes, screen: None };
    send(socket, serde_json::to_value(ClientMessage::Media { state }).map_err(|e| e.to_string())?).await?;
    let (sdp, sources, pending) = offer(peer, role, slots);
    send(socket, serde_json::to_value(ClientMessage::SfuOffer { sdp, sources }).map_err(|e| e.to_string())?).await?;
    let answer = until(socket, |m| match m {
        ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
        _ => None,
    })
    .await?;
    let answer = SdpAnswer::from_sdp_string(&answer).map_err(|e| e.to_string())?;
    peer.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| e.to_string())
}

/// What a page of Huddle offers: its microphone and camera (three layers)
/// whether on or not, `slots` receive slots for pictures and three for
/// voices.
fn offer(peer: &mut Peer, role: &Role, slots: usize) -> (String, BTreeMap<String, MediaSource>, str0m::change::SdpPendingOffer) {
    let mut change = peer.rtc.sdp_api();
    let microphone = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let mut simulcast = Simulcast::new();
    for (rid, _, _) in LAYERS {
        simulcast.add_send_layer(SimulcastLayer::new(rid));
    }
    let camera = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(simulcast));
    for _ in 0..slots {
        change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
    }
    for _ in 0..3 {
        change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
    }
    let (sdp, pending) = change.apply().expect("an offer with media");
    peer.microphone = role.level.map(|level| (microphone, level));
    peer.camera = role.publishes.then_some(camera);
    let sources = BTreeMap::from([(microphone.to_string(), MediaSource::Microphone), (camera.to_string(), MediaSource::Camera)]);
    (sdp.to_sdp_string(), sources, pending)
}

fn jar_cookie(jar: &reqwest::cookie::Jar, origin: &str) -> Option<HeaderValue> {
    use reqwest::cookie::CookieStore;
    let url = origin.parse().ok()?;
    jar.cookies(&url).and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
}

pub async fn connect(origin: &str, cookie: Option<HeaderValue>) -> Result<Socket, String> {
    let mut request = format!("{}/ws", origin.replace("http://", "ws://")).into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert("origin", HeaderValue::from_str(origin).map_err(|e| e.to_string())?);
    if let Some(cookie) = cookie {
        request.headers_mut().insert("cookie", cookie);
    }
    let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    Ok(socket)
}

pub async fn send(socket: &mut Socket, message: serde_json::Value) -> Result<(), String> {
    socket.send(Message::text(message.to_string())).await.map_err(|e| e.to_string())
}

pub async fn next(socket: &mut Socket) -> Result<ServerMessage, String> {
    let read = async {
        while let Some(frame) = socket.next().await {
            if let Message::Text(text) = frame.map_err(|e| e.to_string())? {
                return serde_json::from_str::<ServerMessage>(text.as_str()).map_err(|e| format!("{e}: {text}"));
            }
        }
        Err("the server closed the socket".to_string())
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.map_err(|_| "no message for 20 s".to_string())?
}

/// Reads until `pick` finds what it wants; an error message fails.
pub async fn until<T>(socket: &mut Socket, pick: impl Fn(&ServerMessage) -> Option<T>) -> Result<T, String> {
    loop {
        let message = next(socket).await?;
        if let ServerMessage::Error { .. } = message {
            return Err(format!("refused: {message:?}"));
        }
        if let Some(found) = pick(&message) {
            return Ok(found);
        }
    }
}

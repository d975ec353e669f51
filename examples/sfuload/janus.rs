//! Janus's side: Janus (Debian's `janus`, VideoRoom plugin) started with a
//! throwaway configuration (`scripts/janus-bench.sh`), driven over its
//! WebSocket API. Each participant has one session; a publisher's handle
//! joins as `publisher` and offers its microphone and camera (the same
//! three simulcast layers); a second handle joins as `subscriber` to the
//! streams its role names (the layer a Huddle page would get: `substream`
//! 1 for 360p, 0 for 180p) and answers Janus's offer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind, Simulcast, SimulcastLayer};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use tokio::task::JoinSet;

use crate::peer::{Peer, Received, Window, LAYERS};
use crate::Workload;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ROOM: u64 = 4242;

/// A running Janus.
pub struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Writes a throwaway configuration and starts Janus pinned to `core`.
    pub fn start(core: usize) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/janus-config.sh");
        // ICE-lite like Huddle's media server, and one event loop (not a
        // thread per handle) since it has one core.
        let out = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .env("ICE_LITE", "1")
            .env("EVENT_LOOPS", "1")
            .output()
            .map_err(|e| format!("{}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
        }
        let command = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
        let mut words = command.split_whitespace();
        let program = words.next().ok_or("no janus command printed")?;
        let child = Command::new("taskset")
            .args(["-c", &core.to_string(), program])
            .args(words)
            .stdout(log())
            .stderr(log())
            .spawn()
            .map_err(|e| format!("starting janus: {e}"))?;
        Ok(Self { child, port: 8188, _dir: dir })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where Janus's own output goes: `SFULOAD_JANUS_LOG` names a file.
fn log() -> std::process::Stdio {
    std::env::var_os("SFULOAD_JANUS_LOG").and_then(|path| std::fs::File::create(path).ok()).map_or_else(std::process::Stdio::null, Into::into)
}

/// One participant's session: its socket and session id.
pub struct Session {
    socket: Socket,
    id: u64,
    next: u64,
}

impl Session {
    async fn open(port: u16) -> Result<Self, String> {
        let mut request = format!("ws://127.0.0.1:{port}/").into_client_request().map_err(|e| e.to_string())?;
        request.headers_mut().insert("sec-websocket-protocol", HeaderValue::from_static("janus-protocol"));
        let (socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
        let mut session = Self { socket, id: 0, next: 0 };
        let created = session.request(json!({"janus": "create"})).await?;
        session.id = created["data"]["id"].as_u64().ok_or("no session id")?;
        Ok(session)
    }

    /// Sends `body` with a fresh transaction; returns Janus's first
    /// `success` (or the `event` after an `ack`) for it.
    async fn request(&mut self, mut body: Value) -> Result<Value, String> {
        self.next += 1;
        let transaction = format!("t{}", self.next);
        body["transaction"] = json!(transaction);
        if self.id != 0 {
            body["session_id"] = json!(self.id);
        }
        self.socket.send(Message::text(body.to_string())).await.map_err(|e| e.to_string())?;
        loop {
            let reply = self.read().await?;
            if reply["transaction"].as_str() != Some(transaction.as_str()) {
                continue;
            }
            match reply["janus"].as_str() {
                Some("ack") => continue,
                Some("success") | Some("event") => {
                    if let Some(error) = reply["plugindata"]["data"].get("error") {
                        return Err(format!("janus refused: {error}"));
                    }
                    return Ok(reply);
                }
                _ => return Err(format!("janus: {reply}")),
            }
        }
    }

    async fn read(&mut self) -> Result<Value, String> {
        let read = async {
            while let Some(frame) = self.socket.next().await {
                if let Message::Text(text) = frame.map_err(|e| e.to_string())? {
                    return serde_json::from_str::<Value>(text.as_str()).map_err(|e| e.to_string());
                }
            }
            Err("janus closed the socket".to_string())
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.map_err(|_| "janus said nothing for 20 s".to_string())?
    }

    async fn attach(&mut self) -> Result<u64, String> {
        let attached = self.request(json!({"janus": "attach", "plugin": "janus.plugin.videoroom"})).await?;
        attached["data"]["id"].as_u64().ok_or_else(|| "no handle id".to_string())
    }

    async fn message(&mut self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Value, String> {
        let mut request = json!({"janus": "message", "handle_id": handle, "body": body});
        if let Some(jsep) = jsep {
            request["jsep"] = jsep;
        }
        self.request(request).await
    }
}

/// Everyone of `workload` in one VideoRoom: publishers connect first
/// (their connections start running in `running` at once, since Janus
/// lets nobody subscribe to a feed before its media is up), then each
/// participant's subscription. Returns the sessions to keep alive.
pub async fn gather(
    server: &Server,
    workload: &Workload,
    epoch: Instant,
    window: &Window,
    running: &mut JoinSet<Received>,
) -> Result<Vec<Session>, String> {
    let mut admin = None;
    for _ in 0..100 {
        match Session::open(server.port).await {
            Ok(session) => {
                admin = Some(session);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let mut admin = admin.ok_or("janus did not answer on its WebSocket")?;
    let handle = admin.attach().await?;
    let create = json!({"request": "create", "room": ROOM, "publishers": 250, "videocodec": "vp8", "audiocodec": "opus", "bitrate": 0, "fir_freq": 0, "record": false, "audiolevel_event": false});
    admin.message(handle, create, None).await?;

    let mut sessions = vec![admin];
    let feed = |i: usize| 1000 + i as u64;
    // Each publisher's microphone and camera lines.
    let mut mids: HashMap<usize, (Option<String>, Option<String>)> = HashMap::new();
    for (i, role) in workload.roles.iter().enumerate() {
        if !role.publishes && role.level.is_none() {
            continue;
        }
        let mut session = Session::open(server.port).await?;
        let handle = session.attach().await?;
        session
            .message(handle, json!({"request": "join", "ptype": "publisher", "room": ROOM, "id": feed(i), "display": format!("p{i}")}), None)
            .await?;
        let mut peer = Peer::bind(IpAddr::from([127, 0, 0, 1]), i as u16, epoch, window.clone()).await.map_err(|e| e.to_string())?;
        let mut change = peer.rtc.sdp_api();
        let microphone = role.level.map(|_| change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None));
        let camera = role.publishes.then(|| {
            // Janus reads the first rid as the highest layer.
            let mut simulcast = Simulcast::new();
            for (rid, _, _) in LAYERS.iter().rev() {
                simulcast.add_send_layer(SimulcastLayer::new(rid));
            }
            change.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(simulcast))
        });
        let (offer, pending) = change.apply().ok_or("an offer with media")?;
        let jsep = json!({"type": "offer", "sdp": offer.to_sdp_string(), "trickle": false});
        let reply =
            session.message(handle, json!({"request": "configure", "audio": microphone.is_some(), "video": camera.is_some()}), Some(jsep)).await?;
        let answer = reply["jsep"]["sdp"].as_str().ok_or_else(|| format!("no answer from janus: {reply}"))?;
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|e| e.to_string())?;
        peer.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| e.to_string())?;
        peer.microphone = microphone.zip(role.level);
        peer.camera = camera;
        mids.insert(i, (microphone.map(|m| m.to_string()), camera.map(|m| m.to_string())));
        running.spawn_local(peer.run());
        sessions.push(session);
    }
    // Then each participant's subscription to what its role sees and hears.
    for (i, role) in workload.roles.iter().enumerate() {
        let mut streams = Vec::new();
        let mut layer_of = HashMap::new();
        for &who in &role.hears {
            if let Some(mid) = mids.get(&who).and_then(|m| m.0.clone()) {
                streams.push(json!({"feed": feed(who), "mid": mid}));
            }
        }
        for &(who, height) in &role.sees {
            if let Some(mid) = mids.get(&who).and_then(|m| m.1.clone()) {
                streams.push(json!({"feed": feed(who), "mid": mid}));
                layer_of.insert(feed(who), LAYERS.iter().position(|l| u32::from(l.1) >= height).unwrap_or(LAYERS.len() - 1));
            }
        }
        if streams.is_empty() {
            continue;
        }
        let mut session = Session::open(server.port).await?;
        let handle = session.attach().await?;
        let join = json!({"request": "join", "ptype": "subscriber", "room": ROOM, "streams": streams});
        let mut tries = 0;
        let reply = loop {
            match session.message(handle, join.clone(), None).await {
                Ok(reply) => break reply,
                // A feed whose media is not up yet.
                Err(e) if tries < 100 && e.contains("No such feed") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        };
        let offer = reply["jsep"]["sdp"].as_str().ok_or_else(|| format!("no offer from janus: {reply}"))?;
        let mut peer = Peer::bind(IpAddr::from([127, 0, 0, 1]), 60_000 + i as u16, epoch, window.clone()).await.map_err(|e| e.to_string())?;
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| e.to_string())?;
        let answer = peer.rtc.sdp_api().accept_offer(offer).map_err(|e| e.to_string())?;
        let jsep = json!({"type": "answer", "sdp": answer.to_sdp_string(), "trickle": false});
        session.message(handle, json!({"request": "start"}), Some(jsep)).await?;
        // The layer each picture's tile needs, as Huddle's page asks for.
        let layers: Vec<Value> = reply["plugindata"]["data"]["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| Some(json!({"mid": s["mid"].as_str()?, "substream": layer_of.get(&s["feed_id"].as_u64()?)?})))
            .collect();
        if !layers.is_empty() {
            session.message(handle, json!({"request": "configure", "streams": layers}), None).await?;
        }
        running.spawn_local(peer.run());
        sessions.push(session);
    }
    Ok(sessions)
}

/// Janus ends a session that says nothing for a minute: every session says
/// `keepalive` every 15 s until the task is aborted.
pub async fn keep_alive(mut sessions: Vec<Session>) {
    loop {
        for session in &mut sessions {
            session.next += 1;
            let body = json!({"janus": "keepalive", "session_id": session.id, "transaction": format!("t{}", session.next)});
            let _ = session.socket.send(Message::text(body.to_string())).await;
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

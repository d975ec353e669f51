//! The WebSocket adapter around the [`Hub`]: one reader and one writer task
//! per connection, a bounded outbox, a write deadline and a heartbeat.
//!
//! Everything that needs I/O happens here (parsing frames, looking the room
//! up in the database, deciding a participant's name from their session);
//! everything about rooms happens in the hub.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tower_sessions::Session;

use crate::domain::DisplayName;
use crate::server::accounts::Account;
use crate::server::rooms;
use crate::server::session::UserSession;
use crate::server::state::AppState;
use crate::signaling::hub::{Hub, Input, Outgoing};
use crate::signaling::protocol::{ClientMessage, ErrorCode, IceServer, ParticipantId, ServerMessage};

/// Largest message a client may send; a bigger one closes its socket (1009).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Messages queued for one client before it counts as too slow and is cut off.
const OUTBOX_CAPACITY: usize = 256;
/// How long one write may take before the client counts as gone.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// How often the server pings; browsers answer on their own.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Silence after which a connection is dead (no message, no pong).
const IDLE_LIMIT: Duration = Duration::from_secs(45);

/// Close code for a client that broke the protocol or was refused.
const CLOSE_POLICY: u16 = 1008;
const CLOSE_NORMAL: u16 = 1000;

/// The hub plus the outbox of every connected socket.
pub struct Signaling {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
}

struct Inner {
    hub: Hub,
    outboxes: HashMap<ParticipantId, mpsc::Sender<ServerMessage>>,
    /// Which sign-in opened each socket of a signed-in account.
    owners: HashMap<ParticipantId, Login>,
}

/// A signed-in account's sign-in (one browser session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    pub account: i64,
    pub login: u64,
}

impl Signaling {
    pub fn new(ice_servers: Vec<IceServer>) -> Self {
        let inner = Inner { hub: Hub::new(ice_servers), outboxes: HashMap::new(), owners: HashMap::new() };
        Self { inner: Mutex::new(inner), next_id: AtomicU64::new(1) }
    }

    /// A new connection: its participant id and the receiving end of its outbox.
    fn connect(&self, owner: Option<Login>) -> (ParticipantId, mpsc::Receiver<ServerMessage>) {
        let id = ParticipantId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let mut inner = self.lock();
        inner.outboxes.insert(id, tx);
        if let Some(owner) = owner {
            inner.owners.insert(id, owner);
        }
        (id, rx)
    }

    /// Closes the sockets opened by one sign-in (it signed out).
    pub fn close_login(&self, login: Login) {
        self.close_where(|owner| owner == login);
    }

    /// Closes every socket of `account`, except those of `keep` (its own
    /// sign-in, when ending the others).
    pub fn close_account(&self, account: i64, keep: Option<u64>) {
        self.close_where(|owner| owner.account == account && Some(owner.login) != keep);
    }

    /// Dropping a socket's outbox makes its writer send a close frame; its
    /// reader's exit then tells the room, as for any leave.
    fn close_where(&self, matches: impl Fn(Login) -> bool) {
        let mut inner = self.lock();
        let doomed: Vec<ParticipantId> = inner.owners.iter().filter(|(_, owner)| matches(**owner)).map(|(id, _)| *id).collect();
        for id in doomed {
            inner.outboxes.remove(&id);
        }
    }

    /// The connection ended: the others see `id` leave, its outbox closes.
    fn disconnect(&self, id: ParticipantId) {
        let mut inner = self.lock();
        let out = inner.hub.handle(Input::Leave { who: id });
        inner.outboxes.remove(&id);
        inner.owners.remove(&id);
        inner.deliver(out);
    }

    /// Feeds the hub and queues what it says.
    fn dispatch(&self, input: Input) {
        let mut inner = self.lock();
        let out = inner.hub.handle(input);
        inner.deliver(out);
    }

    /// Queues one message for one connection.
    fn send(&self, to: ParticipantId, message: ServerMessage) {
        self.lock().deliver(vec![Outgoing { to, message }]);
    }

    /// Number of connected sockets.
    pub fn connections(&self) -> usize {
        self.lock().outboxes.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The hub's state stays consistent even if a holder panicked: every
        // `handle` call either completes or changes nothing observable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn deliver(&mut self, out: Vec<Outgoing>) {
        for Outgoing { to, message } in out {
            let Some(tx) = self.outboxes.get(&to) else { continue };
            match tx.try_send(message) {
                Ok(()) => {}
                // The client stopped reading. Dropping the sender makes its
                // writer close the socket, and the reader's exit then tells
                // the room.
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(participant = %to, "signaling outbox full; disconnecting a client that stopped reading");
                    self.outboxes.remove(&to);
                }
                // Already going away; its own task cleans up.
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.outboxes.remove(&to);
                }
            }
        }
    }
}

/// `GET /ws`: upgrades to a signaling socket if the request comes from our
/// own origin.
pub async fn upgrade(State(state): State<AppState>, session: Session, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin != Some(&*state.public_origin) {
        return (StatusCode::FORBIDDEN, "This page may only be used from Huddle's own address.").into_response();
    }
    let session = UserSession(session);
    let signed_in = async {
        let Some(account) = session.account(&state).await? else { return Ok(None) };
        let login = session.login().await?.map(|login| Login { account: account.id, login });
        let deadline = session.deadline(state.session_limits).await?;
        Ok::<_, crate::error::AppError>(Some((account, login, deadline)))
    };
    let (account, owner, deadline) = match signed_in.await {
        Ok(Some((account, login, deadline))) => (Some(account), login, deadline),
        Ok(None) => (None, None, None),
        Err(e) => return (e.status(), e.to_string()).into_response(),
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(socket, state, account, owner, deadline))
}

/// Runs one connection until either side ends it, or until the session that
/// opened it reaches its absolute limit.
async fn serve(socket: WebSocket, state: AppState, account: Option<Account>, owner: Option<Login>, deadline: Option<SystemTime>) {
    let (id, outbox) = state.signaling.connect(owner);
    let (sink, stream) = socket.split();
    let mut writer = tokio::spawn(write_loop(sink, outbox));
    let expiry = async {
        match deadline {
            Some(at) => tokio::time::sleep(at.duration_since(SystemTime::now()).unwrap_or_default()).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = read_loop(stream, id, &state, account.as_ref()) => {}
        _ = &mut writer => {}
        _ = expiry => {}
    }
    state.signaling.disconnect(id);
    // The outbox is gone, so the writer sends a close frame and ends.
    if tokio::time::timeout(WRITE_DEADLINE, &mut writer).await.is_err() {
        writer.abort();
    }
}

async fn read_loop(mut stream: SplitStream<WebSocket>, id: ParticipantId, state: &AppState, account: Option<&Account>) {
    loop {
        let frame = match tokio::time::timeout(IDLE_LIMIT, stream.next()).await {
            Ok(Some(Ok(frame))) => frame,
            // Silent too long, closed, or a protocol error (e.g. too big).
            Err(_) | Ok(None) | Ok(Some(Err(_))) => return,
        };
        match frame {
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
                Ok(message) => {
                    if !on_message(message, id, state, account).await {
                        return;
                    }
                }
                Err(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            },
            Message::Binary(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// Handles one parsed message; `false` ends the connection.
async fn on_message(message: ClientMessage, id: ParticipantId, state: &AppState, account: Option<&Account>) -> bool {
    match message {
        ClientMessage::Join { version, room, name } => {
            match rooms::find_by_slug(&state.db, &room).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    state.signaling.send(id, ServerMessage::error(ErrorCode::UnknownRoom));
                    return true; // the writer closes after this fatal error
                }
                Err(_) => return false, // logged by the lookup
            }
            // A signed-in account's own name wins over anything typed.
            let name = match account {
                Some(account) => account.display_name.clone(),
                None => match DisplayName::parse(&name) {
                    Ok(name) => name,
                    Err(_) => {
                        state.signaling.send(id, ServerMessage::error(ErrorCode::InvalidName));
                        return true;
                    }
                },
            };
            state.signaling.dispatch(Input::Join { who: id, version, room, name });
        }
        ClientMessage::Signal { to, payload } => state.signaling.dispatch(Input::Signal { from: id, to, payload }),
        ClientMessage::Leave => state.signaling.dispatch(Input::Leave { who: id }),
    }
    true
}

async fn write_loop(mut sink: SplitSink<WebSocket, Message>, mut outbox: mpsc::Receiver<ServerMessage>) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let frame = tokio::select! {
            message = outbox.recv() => match message {
                Some(message) => {
                    let fatal = matches!(message, ServerMessage::Error { code, .. } if code.is_fatal());
                    let json = match serde_json::to_string(&message) {
                        Ok(json) => json,
                        Err(e) => {
                            tracing::error!(%e, "serialising a signaling message failed");
                            continue;
                        }
                    };
                    if !send(&mut sink, Message::Text(json.into())).await {
                        return;
                    }
                    if fatal {
                        close(&mut sink, CLOSE_POLICY, "refused").await;
                        return;
                    }
                    continue;
                }
                None => {
                    close(&mut sink, CLOSE_NORMAL, "bye").await;
                    return;
                }
            },
            _ = ping.tick() => Message::Ping(Default::default()),
        };
        if !send(&mut sink, frame).await {
            return;
        }
    }
}

async fn send(sink: &mut SplitSink<WebSocket, Message>, frame: Message) -> bool {
    matches!(tokio::time::timeout(WRITE_DEADLINE, sink.send(frame)).await, Ok(Ok(())))
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }));
    let _ = send(sink, frame).await;
}

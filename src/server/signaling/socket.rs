//! The WebSocket transport of signaling: one reader and one writer task per
//! connection, a bounded outbox, a write deadline, a heartbeat, a message
//! rate limit. A message is parsed here, the database is asked what a
//! `join` needs (see [`door`](super::door)), and the rest is the hub's: the
//! registry ([`Signaling`]) hands it over and carries out what it decides.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tower_sessions::Session;

use crate::call::hub::{Ending, Person};
use crate::call::protocol::{close, ClientMessage, ErrorCode, ServerMessage};
use crate::server::client_address::Client;
use crate::server::guest::guest_identity;
use crate::server::session::UserSession;
use crate::server::signaling::connections::{Admission, ConnectionId, Counters, Login, Outbound, Visitor};
use crate::server::signaling::door;
use crate::server::signaling::rate::TokenBucket;
use crate::server::state::AppState;

/// Largest message a client may send; a bigger one closes its socket (1009).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest `sfu_offer`: a browser's offer to the media server has up to 49
/// picture slots, each naming VP8 alone (about 78 KB from Chromium), or 25
/// naming every codec where a browser cannot narrow them (about 142 KB).
pub const MAX_OFFER_BYTES: usize = 256 * 1024;
/// How an `sfu_offer` begins (serde writes the tag first).
const OFFER_START: &str = r#"{"type":"sfu_offer""#;
/// How long one write may take before the client counts as gone.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Longest a new connection may take to send `join`.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// Burst and sustained message rate per connection: a join's offers and ICE
/// candidates to three others come to well under 100 messages.
const BURST: u32 = 200;
const PER_SECOND: u32 = 20;
/// Messages dropped for exceeding the rate before the connection is closed.
const FLOOD_LIMIT: u32 = 200;

/// `GET /ws`: upgrades to a signaling socket if the request comes from our
/// own origin.
pub async fn upgrade(
    State(state): State<AppState>,
    Extension(client): Extension<Client>,
    session: Session,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
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
    let person = match (&account, guest_identity(&headers)) {
        (Some(account), _) => Person::Account(account.id),
        (None, Some(guest)) => Person::Guest(guest.to_string()),
        (None, None) => Person::Address(crate::domain::ClientNetwork::of(client.address)),
    };
    let Some(admission) = state.signaling.admit(client.address, account.as_ref().map(|a| a.id)) else {
        return (StatusCode::TOO_MANY_REQUESTS, "Too many open connections. Close another Huddle tab and try again.").into_response();
    };
    // tungstenite's default buffers are 128 KiB each way per socket;
    // signaling messages are small, and idle sockets should cost little.
    // The socket takes frames up to an offer's size; every other message
    // is held to MAX_MESSAGE_BYTES as it is read (`serve_reads`).
    ws.max_message_size(MAX_OFFER_BYTES)
        .max_frame_size(MAX_OFFER_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE_BYTES * 2)
        .on_upgrade(move |socket| {
            let epoch = account.as_ref().map(|a| a.session_epoch);
            let visitor = Visitor { login: owner, account: account.map(|a| (a.id, a.display_name)), address: client.address, person, epoch };
            serve(socket, state, visitor, deadline, admission)
        })
}

/// Runs one connection until either side ends it, or until the session that
/// opened it reaches its absolute limit. `_admission` holds its place among
/// the open connections until then.
async fn serve(socket: WebSocket, state: AppState, visitor: Visitor, deadline: Option<SystemTime>, _admission: Admission) {
    let visitor = Arc::new(visitor);
    let (id, outbox) = state.signaling.connect(Arc::clone(&visitor));
    let (sink, stream) = socket.split();
    // Set once the client says it is of a version that reads `tick`.
    let ticks = Arc::new(AtomicBool::new(false));
    let heartbeat = state.signaling.settings.heartbeat.ping_every;
    let mut writer = tokio::spawn(write_loop(sink, outbox, heartbeat, Arc::clone(&ticks), Arc::clone(&state.signaling.counters)));
    let expiry = async {
        match deadline {
            Some(at) => tokio::time::sleep(at.duration_since(SystemTime::now()).unwrap_or_default()).await,
            None => std::future::pending().await,
        }
    };
    let mut writer_done = false;
    let (close, ending) = tokio::select! {
        ending = read_loop(stream, id, &state, &visitor, &ticks) => ending,
        // The writer gave up (write deadline, outbox dropped, shut down).
        _ = &mut writer => {
            writer_done = true;
            (None, Ending::Dropped)
        }
        _ = expiry => (Some((close::SIGNED_OUT, "session ended")), Ending::ForGood),
    };
    if let Some((code, reason)) = close {
        state.signaling.close(id, code, reason);
    }
    state.signaling.disconnect(id, ending);
    // The outbox is gone, so the writer sends a close frame and ends. (A
    // finished task must not be awaited again.)
    if !writer_done && tokio::time::timeout(WRITE_DEADLINE, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Reads until the connection ends; says how the server should close it (if
/// the server is the one closing) and whether the participant may resume.
async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    id: ConnectionId,
    state: &AppState,
    visitor: &Visitor,
    ticks: &AtomicBool,
) -> (Option<(u16, &'static str)>, Ending) {
    let join_by = tokio::time::Instant::now() + JOIN_DEADLINE;
    let mut joined = false;
    let mut bucket = TokenBucket::new(BURST, PER_SECOND, std::time::Instant::now());
    let mut dropped = 0u32;
    loop {
        let frame = tokio::select! {
            frame = tokio::time::timeout(state.signaling.settings.heartbeat.silence_limit, stream.next()) => frame,
            _ = tokio::time::sleep_until(join_by), if !joined => return (Some((close::POLICY, "join first")), Ending::ForGood),
        };
        let frame = match frame {
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => return read_failure(e),
            // Silent past the limit: longer than any blip worth waiting for.
            Err(_) => return (None, Ending::ForGood),
            // The TCP connection ended without a goodbye.
            Ok(None) => return (None, Ending::Dropped),
        };
        if matches!(frame, Message::Text(_) | Message::Binary(_)) && !bucket.take(std::time::Instant::now()) {
            dropped += 1;
            if dropped == 1 {
                state.signaling.send(id, ServerMessage::error(ErrorCode::RateLimited));
            }
            if dropped > FLOOD_LIMIT {
                return (Some((close::POLICY, "too many messages")), Ending::ForGood);
            }
            continue;
        }
        match frame {
            Message::Text(text) if text.len() > MAX_MESSAGE_BYTES && !text.as_str().starts_with(OFFER_START) => {
                return (Some((close::TOO_BIG, "message too big")), Ending::ForGood);
            }
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
                Ok(message) => match on_message(message, id, state, visitor, ticks).await {
                    // Only getting in counts: a refused join or resume does
                    // not stop the clock.
                    Some(member) => joined = joined || member,
                    None => return (None, Ending::Dropped),
                },
                Err(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            },
            Message::Binary(_) => state.signaling.send(id, ServerMessage::error(ErrorCode::BadMessage)),
            // A close frame is a goodbye (a closed tab sends one; a lost
            // network does not).
            Message::Close(_) => return (None, Ending::ForGood),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// The close code for a frame the WebSocket layer could not read.
fn read_failure(error: axum::Error) -> (Option<(u16, &'static str)>, Ending) {
    match error.into_inner().downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => (Some((close::TOO_BIG, "message too big")), Ending::ForGood),
        Some(tungstenite::Error::Utf8(_)) => (Some((close::INVALID_DATA, "text must be UTF-8")), Ending::ForGood),
        _ => (None, Ending::Dropped),
    }
}

/// Handles one parsed message from `visitor`'s connection `id`: whether
/// the connection now holds a place in a call, or `None` to end it (the
/// database failed, which is logged).
async fn on_message(message: ClientMessage, id: ConnectionId, state: &AppState, visitor: &Visitor, ticks: &AtomicBool) -> Option<bool> {
    if let ClientMessage::Join { version, .. } | ClientMessage::Resume { version, .. } = &message {
        ticks.store(*version >= 3, Ordering::Relaxed);
    }
    let facts = match &message {
        ClientMessage::Join { room, passcode, pass, .. } => {
            Some(door::look_up(state, visitor, room, passcode.as_deref(), pass.as_deref()).await.ok()?)
        }
        _ => None,
    };
    Some(state.signaling.receive(id, message, facts))
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outbox: mpsc::Receiver<Outbound>,
    ping_every: Duration,
    ticks: Arc<AtomicBool>,
    counters: Arc<Counters>,
) {
    let tick =
        serde_json::to_string(&ServerMessage::Tick { every_ms: u64::try_from(ping_every.as_millis()).unwrap_or(u64::MAX) }).unwrap_or_default();
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    // The page learns the beat with its first answer, not a beat later: a
    // node that freezes before its first tick would otherwise leave the
    // page waiting on it for ever.
    let mut beat_told = false;
    loop {
        let frame = tokio::select! {
            next = outbox.recv() => match next {
                Some(Outbound::Close(code, reason)) => {
                    close(&mut sink, code, reason).await;
                    return;
                }
                Some(Outbound::Message(message)) => {
                    // A refusal, or "this call is on another node", ends
                    // the connection once sent.
                    let last = match &message {
                        ServerMessage::Error { code, .. } if code.is_fatal() => Some((close::POLICY, "refused")),
                        ServerMessage::Moved { .. } => Some((close::MOVED, "call moved")),
                        _ => None,
                    };
                    let json = match serde_json::to_string(&message) {
                        Ok(json) => json,
                        Err(e) => {
                            tracing::error!(%e, "serialising a signaling message failed");
                            continue;
                        }
                    };
                    // Counted before it leaves: whoever reads the metrics
                    // after the message arrived finds it counted.
                    counters.sent(&message);
                    if !send(&mut sink, Message::Text(json.into())).await {
                        return;
                    }
                    if let Some((code, reason)) = last {
                        close(&mut sink, code, reason).await;
                        return;
                    }
                    if !beat_told && ticks.load(Ordering::Relaxed) {
                        beat_told = true;
                        if !send(&mut sink, Message::Text(tick.clone().into())).await {
                            return;
                        }
                    }
                    continue;
                }
                None => {
                    close(&mut sink, close::NORMAL, "bye").await;
                    return;
                }
            },
            _ = ping.tick() => {
                // The page hears the heartbeat too (WebSocket pings are
                // answered by the browser, unseen by the page).
                if ticks.load(Ordering::Relaxed) {
                    beat_told = true;
                    if !send(&mut sink, Message::Text(tick.clone().into())).await {
                        return;
                    }
                }
                Message::Ping(Default::default())
            }
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

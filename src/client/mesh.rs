//! The full-mesh call: one signaling WebSocket, one `RTCPeerConnection` per
//! other participant, negotiated with the perfect-negotiation pattern.
//!
//! Perfect negotiation: both sides may offer at any time. When offers
//! collide, the *impolite* side (lower participant id) ignores the other's
//! offer and the *polite* side rolls its own back and answers. So
//! simultaneous joins or renegotiations never deadlock. Incoming signaling
//! messages are handled strictly one after another, in arrival order.
//!
//! Reconnecting: if the socket drops, the call stays up (media flows peer to
//! peer without the server) and the client reconnects with exponential
//! back-off and jitter, presenting its resume token. Back in, it restarts
//! ICE on any peer connection that failed meanwhile. If the server no
//! longer holds its place (grace period over, server restarted), it joins
//! afresh on the same socket.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    CloseEvent, HtmlVideoElement, MediaStream, MediaStreamTrack, MessageEvent, RtcConfiguration, RtcIceCandidateInit, RtcIceServer,
    RtcIceTransportPolicy, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpSender, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent, WebSocket,
};

use super::media::{local_stream, screen_stream, set_local_enabled, show, start_screen, stop_local, stop_screen};
use super::{call_method, set_sink, text_field, Repeating};
use crate::call::protocol::{
    close, ClientMessage, ErrorCode, IceServer, MediaState, Participant, ParticipantId, ResumeToken, ServerMessage, SignalPayload, StreamId,
    PROTOCOL_VERSION,
};
use crate::call::ui::{CallUi, ChatLine, Grade, Phase, Quality};
use crate::domain::{DisplayName, RoomSlug};

type Handler = Closure<dyn FnMut(JsValue)>;

thread_local! {
    /// The call this page is in, if any.
    static CALL: RefCell<Option<Rc<Call>>> = const { RefCell::new(None) };
}

fn current() -> Option<Rc<Call>> {
    CALL.with(|c| c.borrow().clone())
}

/// What a signaling socket delivers, in order, tagged with which socket of
/// the call it came from (an old one's late events are ignored).
enum SocketEvent {
    Open,
    Message(ServerMessage),
    Closed { code: u16 },
}

/// First wait before reconnecting, and the longest; each attempt doubles
/// the wait, and a random part spreads out clients that dropped together.
const RETRY_FIRST_MS: f64 = 300.0;
const RETRY_MAX_MS: f64 = 4000.0;

struct Call {
    ui: CallUi,
    room: RoomSlug,
    name: DisplayName,
    passcode: Option<String>,
    socket: RefCell<Option<WebSocket>>,
    /// Which socket is the current one; bumped on every reconnect.
    generation: Cell<u32>,
    events: mpsc::UnboundedSender<(u32, SocketEvent)>,
    /// Failed reconnect attempts since the last success.
    attempts: Cell<u32>,
    /// The pending reconnect timer, if any.
    retry_timer: Cell<Option<i32>>,
    resume_token: RefCell<Option<ResumeToken>>,
    me: Cell<Option<ParticipantId>>,
    ice_servers: RefCell<Vec<IceServer>>,
    /// Connect only through the TURN relay (the room hides addresses).
    relay_only: Cell<bool>,
    peers: RefCell<HashMap<ParticipantId, Rc<Peer>>>,
    /// Each other participant's streams: the camera's, and their screen's
    /// while they share (told apart by the id `media` announced).
    remote: RefCell<HashMap<ParticipantId, Vec<MediaStream>>>,
    /// The connection-statistics poll, while in the call.
    stats: RefCell<Option<Repeating>>,
    /// Why the server refused us, when it did.
    refusal: RefCell<Option<String>>,
    socket_handlers: RefCell<Vec<Handler>>,
    /// This person asked to end the call for everyone.
    ending: Cell<bool>,
    /// The session refresher, for a signed-in person.
    keep_alive: RefCell<Option<Repeating>>,
}

struct Peer {
    pc: RtcPeerConnection,
    polite: bool,
    making_offer: Cell<bool>,
    ignore_offer: Cell<bool>,
    audio: Option<RtcRtpSender>,
    video: Option<RtcRtpSender>,
    /// Senders of the shared screen's tracks, while sharing.
    screen: RefCell<Vec<RtcRtpSender>>,
    /// The last statistics' running totals, for figures per interval.
    last: Cell<Totals>,
    _handlers: Vec<Handler>,
}

/// Running totals from `getStats()`.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    at_ms: f64,
    bytes: f64,
    lost: f64,
    received: f64,
    freezes: f64,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.pc.set_onnegotiationneeded(None);
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
    }
}

impl Peer {
    /// After a signaling outage: an offer still waiting for its answer was
    /// probably lost, so it is withdrawn; a connection that failed or is
    /// failing gets an ICE restart (the renegotiation that follows goes out
    /// through the new socket). A healthy, settled connection is left alone.
    async fn recover(&self) {
        let waiting = self.pc.signaling_state() == RtcSignalingState::HaveLocalOffer;
        let broken = matches!(self.pc.connection_state(), RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected);
        if !waiting && !broken {
            return;
        }
        if waiting && !self.making_offer.get() {
            let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
            if let Err(e) = JsFuture::from(self.pc.set_local_description(&rollback)).await {
                warn!("could not withdraw an unanswered offer: {e:?}");
            }
        }
        restart_ice(&self.pc);
    }

    /// Starts sending `stream` (a shared screen) as well.
    fn add_screen(&self, stream: &MediaStream) {
        let mut senders = self.screen.borrow_mut();
        if !senders.is_empty() {
            return;
        }
        for track in stream.get_tracks().iter() {
            let track: MediaStreamTrack = track.unchecked_into();
            senders.push(self.pc.add_track(&track, stream, &js_sys::Array::new()));
        }
    }

    /// Stops sending the shared screen.
    fn remove_screen(&self) {
        for sender in self.screen.borrow_mut().drain(..) {
            self.pc.remove_track(&sender);
        }
    }

    /// Figures for the last interval, from the browser's statistics.
    async fn measure(&self) -> Option<Quality> {
        let report = JsFuture::from(self.pc.get_stats()).await.ok()?;
        let field = |stat: &JsValue, name: &str| js_sys::Reflect::get(stat, &JsValue::from_str(name)).ok();
        let number = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let text = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_string()).unwrap_or_default();
        let mut now = Totals { at_ms: js_sys::Date::now(), ..Totals::default() };
        let (mut rtt, mut pair_bytes, mut audio_level) = (None, -1.0, 0.0f64);
        let stats: js_sys::Map = report.unchecked_into();
        stats.for_each(&mut |stat, _| match text(&stat, "type").as_str() {
            "candidate-pair" if text(&stat, "state") == "succeeded" && number(&stat, "bytesReceived") > pair_bytes => {
                pair_bytes = number(&stat, "bytesReceived");
                rtt = field(&stat, "currentRoundTripTime").and_then(|v| v.as_f64());
            }
            "inbound-rtp" => {
                now.bytes += number(&stat, "bytesReceived");
                now.lost += number(&stat, "packetsLost").max(0.0);
                now.received += number(&stat, "packetsReceived");
                now.freezes += number(&stat, "freezeCount");
                audio_level = audio_level.max(number(&stat, "audioLevel"));
            }
            _ => {}
        });
        let before = self.last.replace(now);
        let seconds = ((now.at_ms - before.at_ms) / 1000.0).max(0.001);
        let lost = (now.lost - before.lost).max(0.0);
        let arrived = (now.received - before.received).max(0.0);
        let loss_pct = if lost + arrived > 0.0 { (lost / (lost + arrived) * 100.0) as f32 } else { 0.0 };
        let rtt_ms = rtt.map(|s| (s * 1000.0).round() as u32);
        let froze = before.at_ms > 0.0 && now.freezes > before.freezes;
        Some(Quality {
            grade: Grade::of(rtt_ms, loss_pct, froze),
            rtt_ms,
            loss_pct,
            kbps: ((now.bytes - before.bytes).max(0.0) * 8.0 / 1000.0 / seconds) as u32,
            freezes: now.freezes as u32,
            audio_level: audio_level as f32,
        })
    }

    /// Sends or stops sending each kind of media. A switched-off kind is
    /// replaced by no track at all, so nothing of it leaves the browser.
    fn apply(&self, microphone: bool, camera: bool) {
        let stream = local_stream();
        let first = |tracks: Option<js_sys::Array>| tracks.and_then(|t| t.get(0).dyn_into::<MediaStreamTrack>().ok());
        let audio_track = first(stream.as_ref().map(MediaStream::get_audio_tracks));
        let video_track = first(stream.as_ref().map(MediaStream::get_video_tracks));
        for (sender, track, on) in [(&self.audio, audio_track, microphone), (&self.video, video_track, camera)] {
            if let Some(sender) = sender {
                let track = if on { track } else { None };
                let _ = sender.replace_track(track.as_ref());
            }
        }
    }
}

/// Connects to signaling and enters the room as `name`. A signed-in person
/// refreshes their session every `keep_alive_secs` while in the call.
pub fn join(ui: CallUi, slug: String, name: DisplayName, passcode: Option<String>, keep_alive_secs: Option<u64>) {
    close_current();
    let Ok(room) = RoomSlug::parse(&slug) else {
        ui.phase.set(Phase::Failed("This join link is not valid.".into()));
        return;
    };
    let Some(socket) = open_socket() else {
        ui.phase.set(Phase::Failed("Could not reach the server. Check your connection and try again.".into()));
        return;
    };
    ui.phase.set(Phase::Connecting);
    let (events, mut incoming) = mpsc::unbounded::<(u32, SocketEvent)>();
    let call = Rc::new(Call {
        ui,
        room,
        name,
        passcode,
        socket: RefCell::new(None),
        generation: Cell::new(0),
        events,
        attempts: Cell::new(0),
        retry_timer: Cell::new(None),
        resume_token: RefCell::new(None),
        me: Cell::new(None),
        ice_servers: RefCell::new(Vec::new()),
        relay_only: Cell::new(false),
        peers: RefCell::new(HashMap::new()),
        remote: RefCell::new(HashMap::new()),
        stats: RefCell::new(None),
        refusal: RefCell::new(None),
        socket_handlers: RefCell::new(Vec::new()),
        keep_alive: RefCell::new(None),
        ending: Cell::new(false),
    });
    call.use_socket(socket);
    if let Some(secs) = keep_alive_secs {
        *call.keep_alive.borrow_mut() = start_keep_alive(secs);
    }

    let weak = Rc::downgrade(&call);
    spawn_local(async move {
        while let Some((generation, event)) = incoming.next().await {
            let Some(call) = weak.upgrade() else { return };
            if generation != call.generation.get() || !call.is_current() {
                continue; // from a socket this call already gave up
            }
            match event {
                SocketEvent::Open => call.on_open(),
                SocketEvent::Message(message) => call.on_message(message).await,
                SocketEvent::Closed { code } => call.on_closed(code),
            }
        }
    });
    CALL.with(|c| *c.borrow_mut() = Some(call));
}

/// Leaves the call on purpose and turns the camera and microphone off.
pub fn leave() {
    if let Some(call) = current() {
        call.send(&ClientMessage::Leave);
    }
    close_current();
    stop_local();
}

/// Sends `message` on the call's socket, if in a call.
pub fn send(message: ClientMessage) {
    if let Some(call) = current() {
        call.send(&message);
    }
}

/// Host: ends the call for everyone, after asking.
pub fn end_for_all() {
    let Some(call) = current() else { return };
    let sure =
        web_sys::window().and_then(|w| w.confirm_with_message("End the call for everyone? Everyone will be disconnected.").ok()).unwrap_or(false);
    if sure {
        call.ending.set(true);
        call.send(&ClientMessage::EndForAll);
    }
}

/// Host: lets waiting guest `id` in.
pub fn admit(id: ParticipantId) {
    if let Some(call) = current() {
        call.send(&ClientMessage::Admit { id });
    }
}

/// Host: lets everyone waiting in.
pub fn admit_all() {
    if let Some(call) = current() {
        call.send(&ClientMessage::AdmitAll);
    }
}

/// Host: turns waiting guest `id` away.
pub fn deny(id: ParticipantId) {
    if let Some(call) = current() {
        call.send(&ClientMessage::Deny { id });
    }
}

/// Applies the microphone and camera switches to everything being sent.
pub fn apply_send_state() {
    let Some(call) = current() else { return };
    let microphone = call.ui.microphone_on.get_untracked();
    let camera = call.ui.camera_on.get_untracked();
    set_local_enabled("audio", microphone);
    set_local_enabled("video", camera);
    for peer in call.peers.borrow().values() {
        peer.apply(microphone, camera);
    }
    call.announce();
}

/// Shares a screen, window or tab the person picks, shown large to the
/// others; stopping from the browser's own bar stops it here too.
pub fn share_screen() {
    let Some(call) = current() else { return };
    spawn_local(async move {
        let stream = match start_screen().await {
            Ok(stream) => stream,
            Err(e) => {
                // NotAllowedError: the person closed the picker. Nothing to say.
                if text_field(&e, "name").as_deref() != Some("NotAllowedError") {
                    call.ui.notice.try_set(Some("Your screen could not be shared. Try again, or choose a window instead.".into()));
                }
                return;
            }
        };
        let on_ended = Closure::<dyn FnMut()>::new(stop_sharing);
        for track in stream.get_tracks().iter() {
            track.unchecked_into::<MediaStreamTrack>().set_onended(Some(on_ended.as_ref().unchecked_ref()));
        }
        on_ended.forget(); // one small closure per share; it lives as long as the tracks
        call.ui.sharing.try_set(true);
        // Announced first, so the others know the stream when it arrives.
        call.announce();
        for peer in call.peers.borrow().values() {
            peer.add_screen(&stream);
        }
        call.ui.streams.try_update(|n| *n += 1);
    });
}

/// Stops sharing the screen (from the call's button or the browser's bar).
pub fn stop_sharing() {
    stop_screen();
    let Some(call) = current() else { return };
    for peer in call.peers.borrow().values() {
        peer.remove_screen();
    }
    call.ui.sharing.try_set(false);
    call.announce();
}

/// Sends `track` (a newly chosen camera or microphone) instead of the one
/// of its kind sent so far, on every connection, without renegotiating.
pub(crate) fn replace_sent(track: &MediaStreamTrack) {
    let Some(call) = current() else { return };
    let on = if track.kind() == "audio" { call.ui.microphone_on.get_untracked() } else { call.ui.camera_on.get_untracked() };
    for peer in call.peers.borrow().values() {
        let sender = if track.kind() == "audio" { &peer.audio } else { &peer.video };
        if let (Some(sender), true) = (sender, on) {
            let _ = sender.replace_track(Some(track));
        }
    }
}

/// Shows a shared screen in `element`: participant `who`'s, or this
/// person's own (`None`).
pub fn attach_screen(who: Option<ParticipantId>, element: &HtmlVideoElement) {
    let stream = match who {
        None => screen_stream(),
        Some(id) => current().and_then(|call| call.screen_of(id)),
    };
    if let Some(stream) = stream {
        show(element, &stream);
    }
}

/// Shows participant `id`'s camera and plays their sound in `element`,
/// once they arrived, on the chosen speaker.
pub fn attach_remote(id: ParticipantId, element: &HtmlVideoElement) {
    let Some(call) = current() else { return };
    let screen = call.screen_id(id);
    let camera = call
        .remote
        .borrow()
        .get(&id)
        .and_then(|streams| streams.iter().find(|s| screen.as_ref().is_none_or(|screen| screen.as_str() != s.id())).cloned());
    if let Some(stream) = camera {
        show(element, &stream);
    }
    set_sink(element, &call.ui.speaker_id.get_untracked());
}

fn close_current() {
    if let Some(call) = CALL.with(|c| c.borrow_mut().take()) {
        call.shut_down();
    }
}

/// Every `secs`, a request that touches the session (the server pushes its
/// idle deadline forward on each one).
fn start_keep_alive(secs: u64) -> Option<Repeating> {
    let millis = i32::try_from(secs.saturating_mul(1000)).unwrap_or(i32::MAX);
    Repeating::every(millis, || {
        let Some(window) = web_sys::window() else { return };
        let init = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("method"), &JsValue::from_str("POST"));
        call_method(&window, "fetch", &[JsValue::from_str("/api/me"), init.into()]);
    })
}

pub(crate) fn open_socket() -> Option<WebSocket> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    WebSocket::new(&format!("{scheme}://{}/ws", location.host().ok()?)).ok()
}

impl Call {
    fn send(&self, message: &ClientMessage) {
        let Some(socket) = self.socket.borrow().clone() else { return };
        if socket.ready_state() != WebSocket::OPEN {
            return; // reconnecting: recovery after resume makes up for it
        }
        match serde_json::to_string(message) {
            Ok(json) => {
                let _ = socket.send_with_str(&json);
            }
            Err(e) => warn!("could not encode a signaling message: {e}"),
        }
    }

    /// Makes `socket` the call's socket: its events feed the call's queue,
    /// tagged with a new generation; the previous socket is let go.
    fn use_socket(&self, socket: WebSocket) {
        self.drop_socket();
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        let to_queue = self.events.clone();
        let on_open = Handler::new(move |_| {
            let _ = to_queue.unbounded_send((generation, SocketEvent::Open));
        });
        let to_queue = self.events.clone();
        let on_message = Handler::new(move |event: JsValue| {
            let Some(text) = event.unchecked_into::<MessageEvent>().data().as_string() else { return };
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(message) => {
                    let _ = to_queue.unbounded_send((generation, SocketEvent::Message(message)));
                }
                Err(e) => warn!("ignoring an unreadable signaling message: {e}"),
            }
        });
        let to_queue = self.events.clone();
        let on_close = Handler::new(move |event: JsValue| {
            let code = event.unchecked_into::<CloseEvent>().code();
            let _ = to_queue.unbounded_send((generation, SocketEvent::Closed { code }));
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.socket_handlers.borrow_mut() = vec![on_open, on_message, on_close];
        *self.socket.borrow_mut() = Some(socket);
    }

    /// Detaches and closes the current socket, if any.
    fn drop_socket(&self) {
        if let Some(socket) = self.socket.borrow_mut().take() {
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        self.socket_handlers.borrow_mut().clear();
    }

    /// The socket is open: enter the room, or take our place back.
    fn on_open(&self) {
        let token = self.resume_token.borrow().clone();
        match token {
            Some(token) => self.send(&ClientMessage::Resume { version: PROTOCOL_VERSION, token }),
            None => self.send(&ClientMessage::Join {
                version: PROTOCOL_VERSION,
                room: self.room.clone(),
                name: self.name.to_string(),
                passcode: self.passcode.clone(),
            }),
        }
    }

    /// Waits (longer after each failure, with jitter), then opens a new
    /// socket. The call's media keeps flowing meanwhile.
    fn schedule_reconnect(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else { return };
        let attempt = self.attempts.get();
        self.attempts.set(attempt.saturating_add(1));
        let ceiling = (RETRY_FIRST_MS * 2f64.powi(attempt.min(16) as i32)).min(RETRY_MAX_MS);
        let wait = ceiling / 2.0 + js_sys::Math::random() * ceiling / 2.0;
        let weak = Rc::downgrade(self);
        let retry = Closure::once_into_js(move || {
            let Some(call) = weak.upgrade() else { return };
            call.retry_timer.set(None);
            if !call.is_current() {
                return;
            }
            match open_socket() {
                Some(socket) => call.use_socket(socket),
                None => call.schedule_reconnect(),
            }
        });
        if let Ok(timer) = window.set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), wait as i32) {
            self.retry_timer.set(Some(timer));
        }
    }

    fn is_current(self: &Rc<Self>) -> bool {
        CALL.with(|c| c.borrow().as_ref().is_some_and(|active| Rc::ptr_eq(active, self)))
    }

    /// Closes the socket and every peer connection.
    fn shut_down(&self) {
        if let Some(window) = web_sys::window() {
            if let Some(timer) = self.retry_timer.take() {
                window.clear_timeout_with_handle(timer);
            }
        }
        self.keep_alive.borrow_mut().take();
        self.stats.borrow_mut().take();
        self.drop_socket();
        self.peers.borrow_mut().clear();
        self.remote.borrow_mut().clear();
    }

    fn on_closed(self: &Rc<Self>, code: u16) {
        let refusal = self.refusal.borrow_mut().take();
        let hopeless = close::is_final(code);
        // Never in the call yet: nothing to resume, so say what went wrong.
        let never_joined = self.resume_token.borrow().is_none();
        if refusal.is_none() && !hopeless && !never_joined {
            self.ui.phase.try_set(Phase::Reconnecting);
            self.schedule_reconnect();
            return;
        }
        close_current();
        let message = refusal.unwrap_or_else(|| match code {
            close::SIGNED_OUT => "You were signed out, so you left the call. Sign in again to rejoin.".into(),
            close::REPLACED => "This call continued in another window.".into(),
            close::ROOM_CLOSED => "The host deleted this room, so the call has ended.".into(),
            close::ENDED_BY_HOST if self.ending.get() => "You ended the call for everyone.".into(),
            close::ENDED_BY_HOST => "The host ended the call.".into(),
            _ => "The connection to the server was lost. Check your network, then try again.".into(),
        });
        self.ui.phase.try_set(Phase::Failed(message));
    }

    /// Back in after a reconnect: same id, same room. Brings the list of
    /// others up to date and restarts ICE where it failed meanwhile.
    fn on_resumed(self: &Rc<Self>, participants: Vec<Participant>) {
        self.attempts.set(0);
        self.peers.borrow_mut().retain(|id, _| participants.iter().any(|p| p.id == *id));
        self.remote.borrow_mut().retain(|id, _| participants.iter().any(|p| p.id == *id));
        self.ui.others.try_set(participants);
        self.ui.phase.try_set(Phase::InCall);
        let peers: Vec<Rc<Peer>> = self.peers.borrow().values().cloned().collect();
        for peer in peers {
            spawn_local(async move { peer.recover().await });
        }
    }

    /// The server no longer holds our place: start over as a newcomer on
    /// the same socket, with every peer connection made anew.
    fn rejoin(&self) {
        self.resume_token.borrow_mut().take();
        self.me.set(None);
        self.peers.borrow_mut().clear();
        self.remote.borrow_mut().clear();
        self.ui.others.try_set(Vec::new());
        self.ui.waiting.try_set(Vec::new());
        self.ui.phase.try_set(Phase::Connecting);
        self.on_open();
    }

    async fn on_message(self: &Rc<Self>, message: ServerMessage) {
        match message {
            ServerMessage::Welcome { you, participants, ice_servers, resume_token, rules, .. } => {
                self.attempts.set(0);
                self.ui.may_unmute.try_set(rules.may_unmute);
                self.ui.may_share_screen.try_set(rules.may_share_screen);
                self.relay_only.set(rules.relay_only);
                if rules.join_muted {
                    self.ui.microphone_on.try_set(false);
                    apply_send_state();
                }
                *self.resume_token.borrow_mut() = Some(resume_token);
                self.me.set(Some(you.id));
                *self.ice_servers.borrow_mut() = ice_servers;
                self.ui.me.try_set(Some(you));
                self.ui.others.try_set(participants.clone());
                self.ui.phase.try_set(Phase::InCall);
                self.announce();
                self.start_stats();
                // The newcomer offers to everyone already there.
                for participant in participants {
                    if let Err(e) = self.peer(participant.id, true) {
                        warn!("could not set up a connection: {e:?}");
                    }
                }
            }
            ServerMessage::Waiting { resume_token } => {
                self.attempts.set(0);
                *self.resume_token.borrow_mut() = Some(resume_token);
                self.ui.phase.try_set(Phase::Waiting);
            }
            ServerMessage::Lobby { waiting } => {
                self.ui.waiting.try_set(waiting);
            }
            ServerMessage::MutedByHost => {
                self.ui.microphone_on.try_set(false);
                apply_send_state();
                self.ui.notice.try_set(Some("The host muted your microphone.".into()));
            }
            ServerMessage::MayUnmute { allowed } => {
                self.ui.may_unmute.try_set(allowed);
                if allowed {
                    self.ui.notice.try_set(Some("The host lets you speak: unmute your microphone when you are ready.".into()));
                }
            }
            ServerMessage::LobbyChat { guest, from_host, text, .. } => {
                self.ui.lobby_chat.try_update(|words| words.push((guest, from_host, text.as_str().to_string())));
            }
            ServerMessage::RoomLocked { locked } => {
                self.ui.locked.try_set(locked);
            }
            ServerMessage::Hands { raised } => {
                self.ui.hands.try_set(raised);
            }
            ServerMessage::ParticipantJoined { participant } => {
                self.ui.announcement.try_set(format!("{} joined the call.", participant.name));
                self.ui.others.try_update(|others| others.push(participant));
            }
            ServerMessage::ParticipantLeft { id } => {
                self.peers.borrow_mut().remove(&id);
                self.remote.borrow_mut().remove(&id);
                if let Some(name) = self.name_of(id) {
                    self.ui.announcement.try_set(format!("{name} left the call."));
                }
                self.ui.others.try_update(|others| others.retain(|p| p.id != id));
                self.ui.media_of.try_update(|all| all.remove(&id));
                self.ui.quality.try_update(|all| all.remove(&id));
                self.ui.reconnecting.try_update(|all| all.retain(|p| *p != id));
            }
            ServerMessage::Media { id, state } => {
                // A screen that ended leaves its stream behind: let it go.
                if let Some(old) = self.screen_id(id).filter(|old| state.screen.as_ref() != Some(old)) {
                    if let Some(streams) = self.remote.borrow_mut().get_mut(&id) {
                        streams.retain(|s| s.id() != old.as_str());
                    }
                }
                self.ui.media_of.try_update(|all| all.insert(id, state));
            }
            ServerMessage::Resumed { participants, rules, .. } => {
                self.ui.may_unmute.try_set(rules.may_unmute);
                self.ui.may_share_screen.try_set(rules.may_share_screen);
                self.announce();
                // TURN credentials may have run out during a long call.
                self.send(&ClientMessage::IceServers);
                self.on_resumed(participants)
            }
            ServerMessage::IceServers { ice_servers } => {
                *self.ice_servers.borrow_mut() = ice_servers;
                let config = self.rtc_configuration();
                for peer in self.peers.borrow().values() {
                    let _ = peer.pc.set_configuration_with_configuration(&config);
                }
            }
            ServerMessage::ParticipantResumed { id } => {
                let peer = self.peers.borrow().get(&id).cloned();
                if let Some(peer) = peer {
                    peer.recover().await;
                }
            }
            ServerMessage::Chat { from, text, sent_at_ms } => {
                let mine = self.me.get() == Some(from);
                let who = if mine { Some(self.name.to_string()) } else { self.name_of(from) };
                let line = ChatLine {
                    seq: self.ui.chat.with_untracked(Vec::len),
                    who: who.unwrap_or_else(|| "Someone who left".into()),
                    mine,
                    at: super::short_time(sent_at_ms as f64).unwrap_or_default(),
                    text: text.as_str().to_string(),
                };
                self.ui.chat.try_update(|all| all.push(line));
                if !mine && !self.ui.chat_open.get_untracked() {
                    self.ui.unread.try_update(|n| *n += 1);
                }
            }
            ServerMessage::Signal { from, payload } => self.on_signal(from, payload).await,
            ServerMessage::Error { code: ErrorCode::ResumeRefused, .. } => self.rejoin(),
            ServerMessage::Error { code, message } => {
                if code.is_fatal() {
                    *self.refusal.borrow_mut() = Some(message);
                } else {
                    warn!("the server refused a message: {message}");
                }
            }
        }
    }

    async fn on_signal(self: &Rc<Self>, from: ParticipantId, payload: SignalPayload) {
        let peer = match self.peer(from, false) {
            Ok(peer) => peer,
            Err(e) => return warn!("could not set up a connection: {e:?}"),
        };
        let (kind, sdp) = match payload {
            SignalPayload::Offer { sdp } => (RtcSdpType::Offer, sdp),
            SignalPayload::Answer { sdp } => (RtcSdpType::Answer, sdp),
            SignalPayload::Candidate { candidate, sdp_mid, sdp_m_line_index } => {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                let added = JsFuture::from(peer.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await;
                if let Err(e) = added {
                    if !peer.ignore_offer.get() {
                        warn!("could not add an ICE candidate: {e:?}");
                    }
                }
                return;
            }
        };
        let is_offer = kind == RtcSdpType::Offer;
        let collision = is_offer && (peer.making_offer.get() || peer.pc.signaling_state() != RtcSignalingState::Stable);
        peer.ignore_offer.set(!peer.polite && collision);
        if peer.ignore_offer.get() {
            return;
        }
        let description = RtcSessionDescriptionInit::new(kind);
        description.set_sdp(&sdp);
        if let Err(e) = JsFuture::from(peer.pc.set_remote_description(&description)).await {
            return warn!("could not apply the remote description: {e:?}");
        }
        if is_offer {
            match set_local_description(&peer.pc).await {
                Ok(()) => {
                    if let Some(answer) = peer.pc.local_description() {
                        self.send(&ClientMessage::Signal { to: from, payload: SignalPayload::Answer { sdp: answer.sdp() } });
                    }
                }
                Err(e) => warn!("could not answer: {e:?}"),
            }
        }
    }

    async fn make_offer(self: Rc<Self>, to: ParticipantId) {
        let Some(peer) = self.peers.borrow().get(&to).cloned() else { return };
        peer.making_offer.set(true);
        match set_local_description(&peer.pc).await {
            Ok(()) => {
                if let Some(offer) = peer.pc.local_description().filter(|d| d.type_() == RtcSdpType::Offer) {
                    self.send(&ClientMessage::Signal { to, payload: SignalPayload::Offer { sdp: offer.sdp() } });
                }
            }
            Err(e) => warn!("could not make an offer: {e:?}"),
        }
        peer.making_offer.set(false);
    }

    /// The connection to participant `id`, created on first use. The one who
    /// `initiates` also asks to receive kinds it does not send.
    fn peer(self: &Rc<Self>, id: ParticipantId, initiates: bool) -> Result<Rc<Peer>, JsValue> {
        if let Some(peer) = self.peers.borrow().get(&id) {
            return Ok(peer.clone());
        }
        let pc = RtcPeerConnection::new_with_configuration(&self.rtc_configuration())?;
        let (mut audio, mut video) = (None, None);
        if let Some(stream) = local_stream() {
            for track in stream.get_tracks().iter() {
                let track: MediaStreamTrack = track.unchecked_into();
                let sender = pc.add_track(&track, &stream, &js_sys::Array::new());
                if track.kind() == "audio" {
                    audio = Some(sender);
                } else {
                    video = Some(sender);
                }
            }
        }
        if initiates {
            for (kind, sender) in [("audio", &audio), ("video", &video)] {
                if sender.is_none() {
                    let init = RtcRtpTransceiverInit::new();
                    init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                    pc.add_transceiver_with_str_and_init(kind, &init);
                }
            }
        }

        let weak = Rc::downgrade(self);
        let on_negotiation_needed = Handler::new(move |_| {
            if let Some(call) = weak.upgrade() {
                spawn_local(call.make_offer(id));
            }
        });
        let weak = Rc::downgrade(self);
        let on_ice_candidate = Handler::new(move |event: JsValue| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let (Some(call), Some(candidate)) = (weak.upgrade(), event.candidate()) else { return };
            if candidate.candidate().is_empty() {
                return;
            }
            call.send(&ClientMessage::Signal {
                to: id,
                payload: SignalPayload::Candidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_m_line_index: candidate.sdp_m_line_index(),
                },
            });
        });
        let weak = Rc::downgrade(self);
        let on_track = Handler::new(move |event: JsValue| {
            let event: RtcTrackEvent = event.unchecked_into();
            let Some(call) = weak.upgrade() else { return };
            let mut remote = call.remote.borrow_mut();
            let streams = remote.entry(id).or_default();
            match event.streams().get(0).dyn_into::<MediaStream>() {
                Ok(stream) => {
                    if !streams.iter().any(|s| s.id() == stream.id()) {
                        streams.push(stream);
                    }
                }
                Err(_) => {
                    let Some(stream) = streams.first().cloned().or_else(|| MediaStream::new().ok()) else { return };
                    stream.add_track(&event.track());
                    if streams.is_empty() {
                        streams.push(stream);
                    }
                }
            }
            drop(remote);
            call.ui.streams.try_update(|n| *n += 1);
        });
        let weak = Rc::downgrade(self);
        let on_state = Handler::new(move |_| {
            let Some(call) = weak.upgrade() else { return };
            let Some(peer) = call.peers.borrow().get(&id).cloned() else { return };
            let state = peer.pc.connection_state();
            let broken = matches!(state, RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected);
            call.ui.reconnecting.try_update(|all| {
                all.retain(|p| *p != id);
                if broken {
                    all.push(id);
                }
            });
            if state == RtcPeerConnectionState::Failed {
                restart_ice(&peer.pc);
            }
        });
        pc.set_onnegotiationneeded(Some(on_negotiation_needed.as_ref().unchecked_ref()));
        pc.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let me = self.me.get().unwrap_or(ParticipantId(0));
        let peer = Rc::new(Peer {
            pc,
            polite: me > id,
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            audio,
            video,
            screen: RefCell::new(Vec::new()),
            last: Cell::new(Totals::default()),
            _handlers: vec![on_negotiation_needed, on_ice_candidate, on_track, on_state],
        });
        if let Some(screen) = screen_stream() {
            peer.add_screen(&screen);
        }
        peer.apply(self.ui.microphone_on.get_untracked(), self.ui.camera_on.get_untracked());
        self.peers.borrow_mut().insert(id, peer.clone());
        Ok(peer)
    }

    /// Tells the others what this person sends now.
    fn announce(&self) {
        let stream = local_stream();
        let has_audio = stream.as_ref().is_some_and(|s| s.get_audio_tracks().length() > 0);
        let has_video = stream.as_ref().is_some_and(|s| s.get_video_tracks().length() > 0);
        let state = MediaState {
            microphone: self.ui.microphone_on.get_untracked() && has_audio,
            camera: self.ui.camera_on.get_untracked() && has_video,
            screen: screen_stream().and_then(|s| StreamId::try_from(s.id()).ok()),
        };
        self.send(&ClientMessage::Media { state });
    }

    /// The stream id participant `id` announced for their screen.
    fn screen_id(&self, id: ParticipantId) -> Option<StreamId> {
        self.ui.media_of.with_untracked(|all| all.get(&id).and_then(|m| m.screen.clone()))
    }

    /// Participant `id`'s shared screen, once it arrived.
    fn screen_of(&self, id: ParticipantId) -> Option<MediaStream> {
        let screen = self.screen_id(id)?;
        self.remote.borrow().get(&id)?.iter().find(|s| s.id() == screen.as_str()).cloned()
    }

    fn name_of(&self, id: ParticipantId) -> Option<String> {
        self.ui.others.with_untracked(|o| o.iter().find(|p| p.id == id).map(|p| p.name.to_string()))
    }

    /// Every second, each connection's figures into `ui.quality` (the
    /// indicator and the active speaker read them).
    fn start_stats(self: &Rc<Self>) {
        if self.stats.borrow().is_some() {
            return;
        }
        let weak = Rc::downgrade(self);
        *self.stats.borrow_mut() = Repeating::every(1000, move || {
            let Some(call) = weak.upgrade() else { return };
            let peers: Vec<(ParticipantId, Rc<Peer>)> = call.peers.borrow().iter().map(|(id, p)| (*id, p.clone())).collect();
            let ui = call.ui;
            spawn_local(async move {
                for (id, peer) in peers {
                    if let Some(quality) = peer.measure().await {
                        ui.quality.try_update(|all| all.insert(id, quality));
                    }
                }
            });
        });
    }

    fn rtc_configuration(&self) -> RtcConfiguration {
        rtc_configuration(&self.ice_servers.borrow(), self.relay_only.get())
    }
}

/// A peer connection's configuration: these ICE servers, and only the
/// relay if `relay_only`.
pub(crate) fn rtc_configuration(ice_servers: &[IceServer], relay_only: bool) -> RtcConfiguration {
    let servers = js_sys::Array::new();
    for server in ice_servers {
        let ice = RtcIceServer::new();
        let urls = js_sys::Array::new();
        for url in &server.urls {
            urls.push(&JsValue::from_str(url));
        }
        ice.set_urls(&urls);
        if let Some(username) = &server.username {
            ice.set_username(username);
        }
        if let Some(credential) = &server.credential {
            ice.set_credential(credential);
        }
        servers.push(&ice);
    }
    let config = RtcConfiguration::new();
    config.set_ice_servers(&servers);
    if relay_only {
        config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    config
}

/// `setLocalDescription()` with no argument: the browser creates the offer or
/// answer that fits the current state, inside its own operations chain, which
/// is what makes perfect negotiation race-free.
pub(crate) async fn set_local_description(pc: &RtcPeerConnection) -> Result<(), JsValue> {
    let method: js_sys::Function = js_sys::Reflect::get(pc, &JsValue::from_str("setLocalDescription"))?.dyn_into()?;
    let promise: js_sys::Promise = method.call0(pc)?.dyn_into()?;
    JsFuture::from(promise).await.map(|_| ())
}

/// A new ICE round over the same connection (new credentials, new
/// candidates), not a new call: `negotiationneeded` follows.
fn restart_ice(pc: &RtcPeerConnection) {
    call_method(pc, "restartIce", &[]);
}

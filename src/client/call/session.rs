//! Joining the call and staying in it: the signaling socket, leaving,
//! reconnecting with back-off and resuming the place, starting over when
//! the server no longer holds it, and the host's commands sent on it.

use crate::i18n::{t, Text};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::state::*;
use crate::call::protocol::{close, ClientMessage, ErrorCode, Participant, ParticipantId, ServerMessage, OLDEST_VERSION, PROTOCOL_VERSION};
use crate::call::ui::{CallUi, Ending, Phase};
use crate::client::js::{call_method, Repeating};
use crate::client::media::stop_local;
use crate::client::rtc::open_socket;
use crate::domain::{DisplayName, RoomSlug};

thread_local! {
    /// Whether the classroom's messages are passed on (once a page).
    static LISTENING: Cell<bool> = const { Cell::new(false) };
}

/// Connects to signaling and enters the room as `name`. A signed-in person
/// refreshes their session every `keep_alive_secs` while in the call.
pub fn join(ui: CallUi, slug: String, name: DisplayName, passcode: Option<String>, keep_alive_secs: Option<u64>) {
    close_current();
    let Ok(room) = RoomSlug::parse(&slug) else {
        ui.phase.set(Phase::Ended(Ending::Stopped(t(Text::EndedBadLink).into())));
        return;
    };
    let Some(socket) = open_socket(None) else {
        ui.phase.set(Phase::Ended(Ending::Stopped(t(Text::EndedUnreachable).into())));
        return;
    };
    ui.typed_name.set(name.to_string());
    ui.passcode_error.set(None);
    ui.attended.set(Vec::new());
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
        node: RefCell::new(None),
        moves: Cell::new(0),
        version: Cell::new(PROTOCOL_VERSION),
        opened: Cell::new(false),
        socket_at: Cell::new(js_sys::Date::now()),
        heard_at: Cell::new(js_sys::Date::now()),
        silence_limit: Cell::new(None),
        watchdog: RefCell::new(None),
        retry_timer: Cell::new(None),
        resume_token: RefCell::new(None),
        pass: RefCell::new(None),
        carried_from: Cell::new(None),
        awaited: RefCell::new(Vec::new()),
        await_timer: Cell::new(None),
        me: Cell::new(None),
        ice_servers: RefCell::new(Vec::new()),
        relay_only: Cell::new(false),
        peers: RefCell::new(HashMap::new()),
        remote: RefCell::new(HashMap::new()),
        stats: RefCell::new(None),
        refusal: Cell::new(None),
        socket_handlers: RefCell::new(Vec::new()),
        keep_alive: RefCell::new(None),
        ending: Cell::new(false),
        #[cfg(feature = "bundle-sfu")]
        media_link: RefCell::new(None),
    });
    call.use_socket(socket);
    LISTENING.with(|listening| {
        if !listening.replace(true) {
            crate::client::classroom::listen(|text| {
                if let Some(call) = current() {
                    call.send_text(text);
                }
            });
        }
    });
    *call.watchdog.borrow_mut() = start_watchdog(Rc::downgrade(&call));
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
            call.heard_at.set(js_sys::Date::now());
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

/// Host: ends the call for everyone, after asking where `ask` (not when the
/// hang-up's own choice said so).
pub fn end_for_all(ask: bool) {
    let Some(call) = current() else { return };
    let sure = !ask || web_sys::window().and_then(|w| w.confirm_with_message(t(Text::CallEndConfirm)).ok()).unwrap_or(false);
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

fn close_current() {
    if let Some(call) = CALL.with(|c| c.borrow_mut().take()) {
        call.shut_down();
        crate::client::classroom::clear();
    }
}

/// Every second: a socket that never opened, or a server not heard for
/// longer than its heartbeat allows (a frozen server keeps its sockets
/// open), is given up on as if it had closed, and the call reconnects.
fn start_watchdog(call: std::rc::Weak<Call>) -> Option<Repeating> {
    Repeating::every(1000, move || {
        let Some(call) = call.upgrade() else { return };
        if call.socket.borrow().is_none() {
            return; // between sockets: a reconnect is scheduled
        }
        let now = js_sys::Date::now();
        let stuck = !call.opened.get() && now - call.socket_at.get() > OPEN_TIMEOUT_MS;
        let silent = call.opened.get() && call.silence_limit.get().is_some_and(|limit| now - call.heard_at.get() > limit);
        if stuck || silent {
            warn!("{}", if stuck { "the signaling socket did not open in time" } else { "the server went silent" });
            // A silent node may be frozen: the balancer's path finds one
            // that answers.
            if silent {
                call.node.borrow_mut().take();
            }
            call.drop_socket();
            call.on_closed(close::GOING_AWAY);
        }
    })
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

impl Call {
    /// Sends `text`, a message already written, if the socket is open.
    pub(super) fn send_text(&self, text: &str) {
        let Some(socket) = self.socket.borrow().clone() else { return };
        if socket.ready_state() == WebSocket::OPEN {
            let _ = socket.send_with_str(text);
        }
    }

    pub(super) fn send(&self, message: &ClientMessage) {
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
    pub(super) fn use_socket(&self, socket: WebSocket) {
        self.drop_socket();
        self.opened.set(false);
        self.socket_at.set(js_sys::Date::now());
        // Each server says its own beat (one of the version before says none).
        self.silence_limit.set(None);
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        let to_queue = self.events.clone();
        let on_open = Handler::new(move |_| {
            let _ = to_queue.unbounded_send((generation, SocketEvent::Open));
        });
        let to_queue = self.events.clone();
        let ui = self.ui;
        let on_message = Handler::new(move |event: JsValue| {
            let Some(text) = event.unchecked_into::<MessageEvent>().data().as_string() else { return };
            // Polls and breakout rooms are the site's bundle's to read
            // (`classroom`); whether this page is in a breakout group, its own.
            if crate::client::classroom::is_for_classroom(&text) {
                if let Some(grouped) = crate::client::classroom::grouped(&text) {
                    ui.grouped.set(grouped);
                }
                crate::client::classroom::deliver(text);
                return;
            }
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
    pub(super) fn drop_socket(&self) {
        if let Some(socket) = self.socket.borrow_mut().take() {
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        self.socket_handlers.borrow_mut().clear();
    }

    /// The socket is open: enter the room, or take our place back.
    pub(super) fn on_open(&self) {
        self.opened.set(true);
        self.heard_at.set(js_sys::Date::now());
        let token = self.resume_token.borrow().clone();
        match token {
            Some(token) => self.send(&ClientMessage::Resume { version: self.version.get(), token }),
            None => self.send(&ClientMessage::Join {
                version: self.version.get(),
                room: self.room.clone(),
                name: self.name.to_string(),
                passcode: self.passcode.clone(),
                pass: self.pass.borrow().clone(),
            }),
        }
    }

    /// Waits (longer after each failure, with jitter), then opens a new
    /// socket. The call's media keeps flowing meanwhile.
    pub(super) fn schedule_reconnect(self: &Rc<Self>) {
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
            call.reconnect_now();
        });
        if let Ok(timer) = window.set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), wait as i32) {
            self.retry_timer.set(Some(timer));
        }
    }

    /// Opens a new socket at once, at the node's own path when one is
    /// known; one that cannot even be made is tried again later.
    fn reconnect_now(self: &Rc<Self>) {
        let socket = open_socket(self.node.borrow().as_deref());
        match socket {
            Some(socket) => self.use_socket(socket),
            None => self.schedule_reconnect(),
        }
    }

    pub(super) fn is_current(self: &Rc<Self>) -> bool {
        CALL.with(|c| c.borrow().as_ref().is_some_and(|active| Rc::ptr_eq(active, self)))
    }

    /// Closes the socket and every peer connection.
    pub(super) fn shut_down(&self) {
        if let Some(window) = web_sys::window() {
            if let Some(timer) = self.retry_timer.take() {
                window.clear_timeout_with_handle(timer);
            }
        }
        self.keep_alive.borrow_mut().take();
        self.watchdog.borrow_mut().take();
        self.cancel_await();
        self.stats.borrow_mut().take();
        self.drop_socket();
        self.peers.borrow_mut().clear();
        #[cfg(feature = "bundle-sfu")]
        self.media_link.borrow_mut().take();
        self.remote.borrow_mut().clear();
    }

    pub(super) fn on_closed(self: &Rc<Self>, code: u16) {
        // A node's own path that does not open (the node is gone): back to
        // the balancer's, which finds one that serves.
        if !self.opened.get() && self.node.borrow_mut().take().is_some() {
            self.ui.phase.try_set(if self.resume_token.borrow().is_some() { Phase::Reconnecting } else { Phase::Connecting });
            self.schedule_reconnect();
            return;
        }
        let refusal = self.refusal.take();
        // No node could take the call on just now: said, and tried again.
        if refusal == Some(ErrorCode::TryAgain) {
            self.ui.notice.try_set(Some(t(ErrorCode::TryAgain.text()).into()));
            self.ui.phase.try_set(if self.resume_token.borrow().is_some() { Phase::Reconnecting } else { Phase::Connecting });
            self.schedule_reconnect();
            return;
        }
        // A server not yet upgraded (a rolling upgrade) speaks the version
        // before this page's: spoken once more in that.
        if refusal == Some(ErrorCode::UnsupportedVersion) && self.version.get() > OLDEST_VERSION {
            self.version.set(OLDEST_VERSION);
            self.node.borrow_mut().take();
            self.reconnect_now();
            return;
        }
        let hopeless = close::is_final(code);
        // Never in the call yet: nothing to resume, so say what went wrong.
        let never_joined = self.resume_token.borrow().is_none();
        if refusal.is_none() && !hopeless && !never_joined {
            self.ui.phase.try_set(Phase::Reconnecting);
            self.schedule_reconnect();
            return;
        }
        close_current();
        let ending = match refusal {
            Some(ErrorCode::WrongPasscode) => {
                // Back to the form, which keeps the name and asks again.
                self.ui.passcode_error.try_set(Some(t(ErrorCode::WrongPasscode.text()).into()));
                self.ui.phase.try_set(Phase::PreJoin);
                return;
            }
            Some(ErrorCode::Removed) => Ending::Removed,
            Some(ErrorCode::Denied) => Ending::TurnedAway,
            Some(ErrorCode::RoomFull) => Ending::Full,
            Some(ErrorCode::RoomLocked) => Ending::Locked,
            Some(code) => Ending::Stopped(t(code.text()).into()),
            None => match code {
                close::ENDED_BY_HOST => Ending::CallEnded { by_me: self.ending.get() },
                close::HOST_LEFT => Ending::HostGone,
                close::SIGNED_OUT => Ending::Stopped(t(Text::EndedSignedOut).into()),
                close::REPLACED => Ending::Stopped(t(Text::EndedReplaced).into()),
                close::ROOM_CLOSED => Ending::Stopped(t(Text::EndedRoomClosed).into()),
                _ => Ending::Stopped(t(Text::EndedLost).into()),
            },
        };
        self.ui.phase.try_set(Phase::Ended(ending));
    }

    /// Cluster mode: node `node` serves the call. The socket goes there at
    /// once (the server closes this one), and joins or resumes on opening.
    pub(super) fn on_moved(self: &Rc<Self>, node: String) {
        // A node's name is a-z, 0-9 and `-`; anything else stays off the URL.
        if node.is_empty() || node.len() > 32 || !node.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            warn!("ignoring a move to a node with a malformed name");
            return;
        }
        *self.node.borrow_mut() = Some(node);
        if self.resume_token.borrow().is_some() {
            // The call itself moved: it is picked up there.
            self.ui.phase.try_set(Phase::Reconnecting);
        }
        let moves = self.moves.get() + 1;
        self.moves.set(moves);
        self.drop_socket();
        // Sent round and round (a load balancer that does not route the
        // nodes' paths): say so rather than try for ever.
        if moves > MOVES_GIVE_UP {
            close_current();
            self.ui.phase.try_set(Phase::Ended(Ending::Stopped(t(Text::EndedUnreachable).into())));
            return;
        }
        if moves > MOVES_AT_ONCE {
            self.schedule_reconnect();
        } else {
            self.reconnect_now();
        }
    }

    /// Back in after a reconnect: same id, same room. Brings the list of
    /// others up to date and restarts ICE where it failed meanwhile.
    pub(super) fn on_resumed(self: &Rc<Self>, participants: Vec<Participant>) {
        self.attempts.set(0);
        self.moves.set(0);
        self.peers.borrow_mut().retain(|id, _| participants.iter().any(|p| p.id == *id));
        self.remote.borrow_mut().retain(|id, _| participants.iter().any(|p| p.id == *id));
        self.ui.others.try_set(participants);
        self.ui.phase.try_set(Phase::InCall);
        for (_, peer) in self.mesh_peers() {
            spawn_local(async move { peer.recover().await });
        }
        #[cfg(feature = "bundle-sfu")]
        if let Some(link) = self.media_link.borrow().clone() {
            link.recover();
        }
    }

    /// The server no longer holds our place: start over as a newcomer on
    /// the same socket, with every peer connection made anew.
    /// After a moved call's welcome: those this page still has a connection
    /// to whom the new node has not seen arrive within [`CARRY_WAIT_MS`]
    /// are let go (they did not come back).
    pub(super) fn await_carried(self: &Rc<Self>, awaited: Vec<ParticipantId>) {
        self.cancel_await();
        if awaited.is_empty() {
            return;
        }
        self.ui.reconnecting.try_update(|all| all.extend(awaited.iter().copied()));
        *self.awaited.borrow_mut() = awaited;
        let weak = Rc::downgrade(self);
        let give_up = Closure::once_into_js(move || {
            let Some(call) = weak.upgrade() else { return };
            call.await_timer.set(None);
            let gone: Vec<ParticipantId> = call.awaited.borrow_mut().drain(..).collect();
            for id in gone {
                call.forget(id);
            }
        });
        if let Some(window) = web_sys::window() {
            if let Ok(timer) = window.set_timeout_with_callback_and_timeout_and_arguments_0(give_up.unchecked_ref(), CARRY_WAIT_MS) {
                self.await_timer.set(Some(timer));
            }
        }
    }

    /// Stops waiting for the awaited (another move, or the call ended).
    pub(super) fn cancel_await(&self) {
        if let (Some(timer), Some(window)) = (self.await_timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(timer);
        }
    }

    /// Someone is no longer in the call as this page knows it: their
    /// connection, media and tile go.
    pub(super) fn forget(&self, id: ParticipantId) {
        self.peers.borrow_mut().remove(&id);
        self.remote.borrow_mut().remove(&id);
        self.ui.others.try_update(|others| others.retain(|p| p.id != id));
        self.ui.media_of.try_update(|all| all.remove(&id));
        self.ui.quality.try_update(|all| all.remove(&id));
        self.ui.reconnecting.try_update(|all| all.retain(|p| *p != id));
    }

    /// Everyone kept across a move goes (the move did not carry this
    /// person back into the call).
    pub(super) fn drop_kept(&self) {
        self.cancel_await();
        self.awaited.borrow_mut().clear();
        self.peers.borrow_mut().clear();
        self.remote.borrow_mut().clear();
        self.ui.others.try_set(Vec::new());
        self.ui.reconnecting.try_set(Vec::new());
    }

    /// With a pass (the call moved to another node), the browser-to-browser
    /// connections and what they show are kept until the welcome says who
    /// is still there: their media never needed the server.
    pub(super) fn rejoin(&self) {
        self.resume_token.borrow_mut().take();
        let carrying = self.pass.borrow().is_some();
        self.carried_from.set(if carrying { self.me.get() } else { None });
        self.me.set(None);
        #[cfg(feature = "bundle-sfu")]
        self.media_link.borrow_mut().take();
        if carrying {
            self.ui.phase.try_set(Phase::Reconnecting);
        } else {
            self.drop_kept();
            self.ui.phase.try_set(Phase::Connecting);
        }
        self.ui.waiting.try_set(Vec::new());
        self.on_open();
    }
}

//! What the browser holds of the call: the socket and its reconnecting,
//! one peer connection per other participant, the streams that arrived.
//! The behaviour is in the sibling files: `session` (joining, the socket,
//! reconnecting), `messages` (what the server says, into the view's
//! state), `mesh` (the peer connections) and `stats` (their figures).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::mpsc;
use wasm_bindgen::prelude::*;
#[cfg(feature = "bundle-sfu")]
use web_sys::HtmlMediaElement;
use web_sys::{MediaStream, RtcPeerConnection, RtcRtpSender, WebSocket};

#[cfg(feature = "bundle-sfu")]
use crate::call::protocol::SlotFeed;
use crate::call::protocol::{ErrorCode, IceServer, ParticipantId, ResumeToken, ServerMessage};
use crate::call::ui::CallUi;
use crate::client::js::Repeating;
use crate::domain::{DisplayName, RoomSlug};

pub(super) type Handler = Closure<dyn FnMut(JsValue)>;

thread_local! {
    /// The call this page is in, if any.
    pub(super) static CALL: RefCell<Option<Rc<Call>>> = const { RefCell::new(None) };
}

pub(super) fn current() -> Option<Rc<Call>> {
    CALL.with(|c| c.borrow().clone())
}

impl Call {
    /// The browser-to-browser connections, to act on each: none in the
    /// media server's bundle, which then leaves what acts on them out.
    pub(super) fn mesh_peers(&self) -> Vec<(ParticipantId, Rc<Peer>)> {
        if cfg!(feature = "bundle-sfu") {
            return Vec::new();
        }
        self.peers.borrow().iter().map(|(id, peer)| (*id, peer.clone())).collect()
    }
}

/// What a signaling socket delivers, in order, tagged with which socket of
/// the call it came from (an old one's late events are ignored).
pub(super) enum SocketEvent {
    Open,
    Message(ServerMessage),
    Closed { code: u16 },
}

/// First wait before reconnecting, and the longest; each attempt doubles
/// the wait, and a random part spreads out clients that dropped together.
pub(super) const RETRY_FIRST_MS: f64 = 300.0;
pub(super) const RETRY_MAX_MS: f64 = 4000.0;
/// `moved` answers followed at once; after that many in a row (nodes
/// disagreeing for a moment), the next waits as a reconnect does.
pub(super) const MOVES_AT_ONCE: u32 = 5;
/// How long a moved call's page waits for someone it still has a
/// connection to to arrive at the new node.
pub(super) const CARRY_WAIT_MS: i32 = 30_000;
/// A socket that has not opened after this long is given up on (a frozen
/// server's port may take the connection and never answer it).
pub(super) const OPEN_TIMEOUT_MS: f64 = 8000.0;
/// `moved` answers in a row after which the browser stops trying.
pub(super) const MOVES_GIVE_UP: u32 = 20;

pub(super) struct Call {
    pub(super) ui: CallUi,
    pub(super) room: RoomSlug,
    pub(super) name: DisplayName,
    pub(super) passcode: Option<String>,
    pub(super) socket: RefCell<Option<WebSocket>>,
    /// Which socket is the current one; bumped on every reconnect.
    pub(super) generation: Cell<u32>,
    pub(super) events: mpsc::UnboundedSender<(u32, SocketEvent)>,
    /// Failed reconnect attempts since the last success.
    pub(super) attempts: Cell<u32>,
    /// Cluster mode: the node that serves the call, whose own path the
    /// socket opens at (`None`: `/ws`, wherever the balancer sends it).
    pub(super) node: RefCell<Option<String>>,
    /// `moved` answers in a row, without getting in.
    pub(super) moves: Cell<u32>,
    /// The protocol version spoken: this page's, or the one before when a
    /// server not yet upgraded refused it.
    pub(super) version: Cell<u32>,
    /// Whether the current socket opened.
    pub(super) opened: Cell<bool>,
    /// When the current socket was made, and when the server was last
    /// heard on it (`Date.now()` ms).
    pub(super) socket_at: Cell<f64>,
    pub(super) heard_at: Cell<f64>,
    /// Silence after which the connection counts as dead: set by the
    /// server's `tick`, none until the first.
    pub(super) silence_limit: Cell<Option<f64>>,
    /// Checks every second that the socket opened, and that the server is
    /// still heard.
    pub(super) watchdog: RefCell<Option<Repeating>>,
    /// The pending reconnect timer, if any.
    pub(super) retry_timer: Cell<Option<i32>>,
    pub(super) resume_token: RefCell<Option<ResumeToken>>,
    /// Cluster mode: the welcome's pass, shown with `join` when the call
    /// moved to another node, to come back as the same participant.
    pub(super) pass: RefCell<Option<String>>,
    /// Coming back with a pass: who this person was, so the connections to
    /// those still in the call are kept (their media never stopped).
    pub(super) carried_from: Cell<Option<ParticipantId>>,
    /// Those this page still has a connection to whom the call's new node
    /// has not seen yet (they are on their way there too): kept, shown as
    /// reconnecting, until they arrive or [`CARRY_WAIT_MS`] passes.
    pub(super) awaited: RefCell<Vec<ParticipantId>>,
    /// The timer that gives the awaited up.
    pub(super) await_timer: Cell<Option<i32>>,
    pub(super) me: Cell<Option<ParticipantId>>,
    pub(super) ice_servers: RefCell<Vec<IceServer>>,
    /// Connect only through the TURN relay (the room hides addresses).
    pub(super) relay_only: Cell<bool>,
    pub(super) peers: RefCell<HashMap<ParticipantId, Rc<Peer>>>,
    /// Each other participant's streams: the camera's, and their screen's
    /// while they share (told apart by the id `media` announced).
    pub(super) remote: RefCell<HashMap<ParticipantId, Vec<MediaStream>>>,
    /// The connection-statistics poll, while in the call.
    pub(super) stats: RefCell<Option<Repeating>>,
    /// Why the server refused us, when it did.
    pub(super) refusal: Cell<Option<ErrorCode>>,
    pub(super) socket_handlers: RefCell<Vec<Handler>>,
    /// This person asked to end the call for everyone.
    pub(super) ending: Cell<bool>,
    /// The session refresher, for a signed-in person.
    pub(super) keep_alive: RefCell<Option<Repeating>>,
    /// The one connection to the media server, in a call through it.
    #[cfg(feature = "bundle-sfu")]
    pub(super) media_link: RefCell<Option<Rc<MediaLink>>>,
}

/// The one connection to the media server (its behaviour: `sfu`).
#[cfg(feature = "bundle-sfu")]
pub(super) struct MediaLink {
    pub(super) pc: RtcPeerConnection,
    /// Microphone, camera, screen, screen sound.
    pub(super) senders: [RtcRtpSender; 4],
    /// The stream of each receive slot's one track, by `mid`: the same
    /// object for as long as the slot lasts, so a tile showing it is not
    /// restarted when the slots are told again.
    pub(super) streams: RefCell<HashMap<String, MediaStream>>,
    /// What each slot carries now, as the server last said.
    pub(super) slots: RefCell<Vec<SlotFeed>>,
    /// The shared screens received, by whose.
    pub(super) screens: RefCell<HashMap<ParticipantId, MediaStream>>,
    /// One playing element per audio slot: voices are heard whether or not
    /// their picture is shown.
    pub(super) voices: RefCell<HashMap<String, HtmlMediaElement>>,
    /// Each slot's last statistics, and whom it carried then.
    pub(super) last: RefCell<HashMap<String, (Option<ParticipantId>, Totals)>>,
    pub(super) _handlers: Vec<Handler>,
}

#[cfg_attr(feature = "bundle-sfu", allow(dead_code))]
pub(super) struct Peer {
    pub(super) pc: RtcPeerConnection,
    pub(super) polite: bool,
    pub(super) making_offer: Cell<bool>,
    pub(super) ignore_offer: Cell<bool>,
    /// What sends the camera and the microphone: set when the peer is
    /// made, or later when a device starts after joining.
    pub(super) audio: RefCell<Option<RtcRtpSender>>,
    pub(super) video: RefCell<Option<RtcRtpSender>>,
    /// Senders of the shared screen's tracks, while sharing.
    pub(super) screen: RefCell<Vec<RtcRtpSender>>,
    /// The last statistics' running totals, for figures per interval.
    pub(super) last: Cell<Totals>,
    pub(super) _handlers: Vec<Handler>,
}

/// Running totals from `getStats()`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Totals {
    pub(super) at_ms: f64,
    pub(super) bytes: f64,
    pub(super) lost: f64,
    pub(super) received: f64,
    pub(super) freezes: f64,
}

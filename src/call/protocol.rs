//! The signaling messages, as JSON over one WebSocket (`GET /ws`).
//!
//! Every message is an object with a `type` field. The client's first message
//! must be `join`, carrying [`PROTOCOL_VERSION`]. Identity (`from`, `you`,
//! names) is always stamped by the server; nothing a client says about
//! itself is trusted.

use serde::{Deserialize, Serialize};

use super::tag_first::tagged_first;
#[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
use crate::call::board::{BoardStatus, DrawRule, Element, ElementRef};
#[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
use crate::call::breakout::{BreakoutPlan, BreakoutView};
#[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
use crate::call::poll::{PollDraft, PollView};
use crate::domain::{CallRules, ChatText, DisplayName, RoomSlug};

/// Bumped whenever a message changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 3;
/// The oldest version the server still accepts, so pages loaded before an
/// upgrade go on working through it: version 2 has no `tick` (it is not
/// sent one) and cannot follow `moved` (in cluster mode, a join that would
/// be moved is refused with `unsupported_version`, which asks to reload).
pub const OLDEST_VERSION: u32 = 2;

/// Whether the server speaks `version`.
pub fn speaks(version: u32) -> bool {
    (OLDEST_VERSION..=PROTOCOL_VERSION).contains(&version)
}

pub use super::people::{Participant, ParticipantId};

fn is_false(value: &bool) -> bool {
    !*value
}

/// What a participant sends: microphone and camera on or off, and while
/// they share their screen, the id of the `MediaStream` that carries it (so
/// the others tell it from the camera and show it large).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    pub microphone: bool,
    pub camera: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<StreamId>,
}

/// A `MediaStream` id as browsers make them: 1 to 64 letters, digits,
/// `-`, `_`, `{` or `}`. Anything else does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StreamId {
    type Error = &'static str;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        let fits = (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'{' | b'}'));
        if fits {
            Ok(Self(id))
        } else {
            Err("not a stream id")
        }
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

/// How a call's media travels, decided when the call starts and told in
/// `welcome`: browser to browser (a mesh: end-to-end encrypted, up to four
/// people), or through the server's media server (classes, and meetings
/// larger than a mesh carries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    #[default]
    Mesh,
    Sfu,
}

/// What one line of a browser's offer to the media server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaSource {
    Microphone,
    Camera,
    Screen,
    ScreenAudio,
}

impl MediaSource {
    pub fn is_video(self) -> bool {
        matches!(self, Self::Camera | Self::Screen)
    }
}

/// A picture a page shows, for the media server: whose, which (camera or
/// screen) and how tall on screen, in device pixels (0: not visible now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoWant {
    pub id: ParticipantId,
    pub source: MediaSource,
    pub height: u32,
}

/// What one receive slot of a browser's media-server connection carries:
/// the media line (`mid`) and whose stream, or nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotFeed {
    pub mid: String,
    pub id: Option<ParticipantId>,
    pub source: Option<MediaSource>,
}

/// A guest waiting in a room's lobby, as the host sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingGuest {
    pub id: ParticipantId,
    pub name: DisplayName,
    /// When they started waiting (Unix milliseconds, the server's clock).
    pub since_ms: u64,
    /// A host let them in while the call was full: they enter as soon as
    /// a place frees. Left out when not.
    #[serde(default, skip_serializing_if = "is_false")]
    pub next: bool,
    /// This person (their account or browser) was removed from the call
    /// then (Unix milliseconds): the host knows who knocks again. Left out
    /// when not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_ms: Option<u64>,
}

/// One ICE server (STUN or TURN) the browser should use, as in
/// `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The secret that lets a participant come back after a dropped connection
/// and keep their place. Given only to that participant, in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResumeToken(pub String);

/// What the server relays between two participants, untouched.
///
/// On the wire, one object with `kind` first. A browser reads it in one
/// pass (`tag_first`); the server, which also reads it from clients, takes
/// `kind` anywhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", serde(tag = "kind", rename_all = "snake_case"))]
#[cfg_attr(not(feature = "ssr"), serde(remote = "Self", rename_all = "snake_case"))]
pub enum SignalPayload {
    /// An SDP offer.
    Offer { sdp: String },
    /// An SDP answer.
    Answer { sdp: String },
    /// A trickled ICE candidate (`RTCIceCandidateInit`).
    Candidate {
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
        #[serde(default)]
        sdp_m_line_index: Option<u16>,
    },
}

#[cfg(not(feature = "ssr"))]
tagged_first!(SignalPayload, "kind");

/// Messages a browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Enter a room. `name` is used only for guests; a signed-in account's
    /// own display name always wins.
    Join {
        version: u32,
        room: RoomSlug,
        name: String,
        /// The room's passcode, when it has one (the host needs none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passcode: Option<String>,
        /// Cluster mode: the `pass` of the `welcome` into this room's call,
        /// when the call moved to another node: back in as the same
        /// participant, without the lobby.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
    },
    /// Come back after a dropped connection, instead of `join`: the same
    /// participant id, role and room, if the server still holds the place.
    Resume { version: u32, token: ResumeToken },
    /// Relay `payload` to participant `to` in the same room.
    #[cfg(any(feature = "ssr", not(feature = "bundle-sfu")))]
    Signal { to: ParticipantId, payload: SignalPayload },
    /// Say `text` to everyone in the room (you included, so everyone sees
    /// the same order). A `text` that breaks [`ChatText`]'s rules is
    /// refused with `invalid_chat`.
    Chat { text: String },
    /// Host only: let waiting guest `id` into the call.
    Admit { id: ParticipantId },
    /// Host only: let every waiting guest in.
    AdmitAll,
    /// Host only: turn waiting guest `id` away.
    Deny { id: ParticipantId },
    /// Host only: turn participant `id`'s microphone off.
    Mute { id: ParticipantId },
    /// Host only: turn everyone else's microphone off.
    MuteAll,
    /// Host only: put participant `id` out of the call. Coming back, they
    /// wait in the lobby for the host, lobby or not.
    Remove { id: ParticipantId },
    /// Host only: lock (no new guests, no new knocks) or unlock the room.
    Lock { locked: bool },
    /// Host only: end the call for everyone.
    EndForAll,
    /// Raise your hand (join the queue) or lower it.
    Hand { raised: bool },
    /// Host only: lower participant `id`'s hand.
    LowerHand { id: ParticipantId },
    /// Host only: lower every raised hand.
    LowerAllHands,
    /// Host only: turn away everyone waiting in the lobby.
    DenyAll,
    /// Host only: let participant `id` turn their microphone on, in a room
    /// where guests may not unmute themselves. Lowers their hand.
    LetSpeak { id: ParticipantId },
    /// Host only: say `text` to guest `id` waiting in the lobby, without
    /// letting them in. The guest answers with `chat` while waiting.
    LobbyChat { id: ParticipantId, text: String },
    /// Ask for fresh ICE servers (TURN credentials expire), as `welcome`
    /// gave them. Only in the call: while waiting, `not_admitted`.
    IceServers,
    /// What you are sending now; sent after `welcome` and on every change.
    /// The others get it as `media`. A screen where the room does not let
    /// you share is refused with `screen_share_not_allowed`.
    Media { state: MediaState },
    /// Leave the room; the socket may then be closed.
    Leave,
    // The media server's messages are compiled into the server and the
    // bundle of calls through it only (see `Cargo.toml`'s features).
    /// In a call through the media server: the browser's offer for its one
    /// connection to it (the first, or a new one to restart ICE), with what
    /// each of its send lines carries, by `mid`. Answered with
    /// `sfu_answer`; refused with `not_admitted`, `wrong_topology` or
    /// `invalid_offer`.
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuOffer { sdp: String, sources: std::collections::BTreeMap<String, MediaSource> },
    /// In a call through the media server: the pictures this page shows,
    /// most important first. Until a page says, it gets screens, then
    /// hosts, then whoever speaks.
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuView { want: Vec<VideoWant> },
    // Polls (`poll.rs`): sent by the site's bundle, which a call page
    // loads for them; the call's bundles only pass them on.
    /// Host: asks the call `poll`; one still open ends first.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    PollStart { poll: PollDraft },
    /// Answer poll `id` with `choices` (places in its answers); sent
    /// again, it replaces the answer while the poll is open.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    PollAnswer { id: u32, choices: Vec<u8> },
    /// Host: poll `id` takes no more answers.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    PollEnd { id: u32 },
    /// Host: shows poll `id`'s results to everyone, or hides them again.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    PollShare { id: u32, shown: bool },
    // Breakout rooms (`breakout.rs`), in calls through the media server:
    // sent by the site's bundle too.
    /// Host: opens breakout rooms as `plan` says (closed ones first).
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutOpen { plan: BreakoutPlan },
    /// Host: moves `id` (themselves too: a visit) to `group`, or back to
    /// the main room (`None`).
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutMove { id: ParticipantId, group: Option<u8> },
    /// Where the host lets pupils choose: go to `group`.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutChoose { group: u8 },
    /// Ask the host to come to your group.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutHelp,
    /// Host: a word to every group.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutSay { text: String },
    /// Host: your voice is heard in every group (`on`), or only where you are.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutVoice { on: bool },
    /// Host: `group` may share its screen, whatever the class's rules.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutShare { group: u8, allowed: bool },
    /// Host: everyone comes back to the main room in `seconds` (0: now).
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BreakoutClose { seconds: u16 },
    // The whiteboard (`board.rs`), sent by the site's bundle like polls:
    /// Open the board (it is sent whole, then each change) or close it.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardWatch { on: bool },
    /// Draw `items` on `page`: new elements (version 0) or changes to
    /// ones there, each with the version it was made from.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardPut { page: u8, items: Vec<Element> },
    /// Remove `items` from `page`, each as the version you saw.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardDrop { page: u8, items: Vec<ElementRef> },
    /// Host only: clear `page`.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardClear { page: u8 },
    /// Add a page at the end.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardAddPage,
    /// Host only: show `page` to everyone as the call's main picture, or
    /// stop.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardShow { shown: bool, page: u8 },
    /// Host only: who may draw.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardRule { rule: DrawRule },
    /// Host only: keep the board (each page with something on it, as SVG)
    /// with the room's session.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardKeep,
}

/// Messages the server sends: one object with `type` first (`tag_first`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `join`: who you are, who is already here (in join order),
    /// which ICE servers to use, and the token to resume with.
    Welcome {
        version: u32,
        you: Participant,
        participants: Vec<Participant>,
        ice_servers: Vec<IceServer>,
        resume_token: ResumeToken,
        /// What you may do in this call.
        rules: CallRules,
        /// How this call's media travels.
        #[serde(default)]
        topology: Topology,
        /// Cluster mode: give it with `join` if the call moves to another
        /// node (a `resume` there is refused), to come back in as the same
        /// participant without waiting in the lobby again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pass: Option<String>,
    },
    /// Answer to a guest's `join` in a room with a lobby: wait until the
    /// host lets you in (then `welcome` follows) or not (`error`, `denied`).
    /// Nothing about the room comes while waiting but whether a host is in
    /// the call (`host_here`, then `host_here` messages as it changes), so
    /// the guest knows whether anyone can let them in yet. The token
    /// resumes your place in the lobby after a dropped connection.
    Waiting {
        resume_token: ResumeToken,
        host_here: bool,
        /// The host let you in, but the call is full: you enter as soon as
        /// a place frees. Left out when not.
        #[serde(default, skip_serializing_if = "is_false")]
        full: bool,
    },
    /// To waiting guests: a host came into the call (`here`), or the last
    /// host left it.
    HostHere { here: bool },
    /// The host turned your microphone off. You may turn it on again if
    /// your rules allow (`may_unmute` follows when they no longer do).
    MutedByHost,
    /// Whether you may turn your microphone on yourself now: the host let
    /// you speak, or muted you again.
    MayUnmute { allowed: bool },
    /// A word between the host and waiting guest `guest`, from the host if
    /// `from_host`. Only that guest and the hosts in the call get it; the
    /// guest never learns the host's name.
    LobbyChat { guest: ParticipantId, from_host: bool, text: ChatText, sent_at_ms: u64 },
    /// Answer to `ice_servers`: the ICE servers to use from now on, with
    /// fresh TURN credentials.
    IceServers { ice_servers: Vec<IceServer> },
    /// What participant `id` sends now: to everyone else in the call when
    /// it changes, and to a newcomer after `welcome`, for each person
    /// already there. Only a screen announced here is shown as a screen.
    Media { id: ParticipantId, state: MediaState },
    /// Whether the room is locked now (sent to everyone in the call when it
    /// changes, and after `welcome` while locked).
    RoomLocked { locked: bool },
    /// To the hosts in a locked call: someone by this name tried to join
    /// and was turned back by the lock (the host may unlock).
    LockedOut { name: DisplayName },
    /// Raised hands, in the order they went up (to everyone in the call,
    /// whenever it changes).
    Hands { raised: Vec<ParticipantId> },
    /// To the host: everyone waiting in the lobby now, longest first. Sent
    /// whenever it changes, and after the host's `welcome` or `resumed`.
    Lobby { waiting: Vec<WaitingGuest> },
    /// Answer to `resume`: you are back as `you`; `participants` is who is
    /// here now. Messages that arrived for you while you were away follow.
    Resumed {
        you: Participant,
        participants: Vec<Participant>,
        rules: CallRules,
        #[serde(default)]
        topology: Topology,
    },
    /// `id` came back on a new connection. Nothing changed for the call, but
    /// signals sent to it just before it dropped may be lost: finish any
    /// negotiation with it that is still waiting.
    ParticipantResumed { id: ParticipantId },
    /// Someone entered the room after you.
    ParticipantJoined { participant: Participant },
    /// Someone left the room, or lost their connection and did not come
    /// back within the grace period.
    ParticipantLeft { id: ParticipantId },
    /// A chat message from participant `from` of your room, with the
    /// server's time (milliseconds since the Unix epoch).
    Chat { from: ParticipantId, text: ChatText, sent_at_ms: u64 },
    /// `payload` from participant `from` of your room (stamped by the server).
    #[cfg(any(feature = "ssr", not(feature = "bundle-sfu")))]
    Signal { from: ParticipantId, payload: SignalPayload },
    /// The media server's answer to your `sfu_offer`: ICE-lite, its one
    /// address; nothing is trickled either way.
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuAnswer { sdp: String },
    /// What each of your receive slots carries now, whenever it changes.
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuSlots { video: Vec<SlotFeed>, audio: Vec<SlotFeed> },
    /// Who is speaking now, loudest first (at most every 400 ms, when it
    /// changes).
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    Speakers { ids: Vec<ParticipantId> },
    /// Which simulcast layers (rids) of your send line `mid` someone
    /// watches: send only those.
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuLayers { mid: String, active: Vec<String> },
    /// Your media connection failed at the server: make a new one (a new
    /// peer connection and `sfu_offer`).
    #[cfg(any(feature = "ssr", feature = "bundle-sfu"))]
    SfuRestart,
    /// Every `every_ms` (`HUDDLE_WS_PING_SECONDS`), to a client of version 3
    /// or later: the server is alive. A client that hears nothing at all
    /// for twice that (and a little) treats the connection as dead and
    /// reconnects, as a frozen server's sockets stay open.
    Tick { every_ms: u64 },
    /// In cluster mode, answer to `join`: node `node` serves this room's
    /// call. The server closes the connection ([`close::MOVED`]); open a
    /// new one at `/ws/n/{node}` and send `join` there (or `resume`, when
    /// the call you were in moved).
    Moved { node: String },
    /// Your last message was refused; the connection stays open unless the
    /// code says otherwise.
    Error { code: ErrorCode, message: String },
    /// A poll of the call as you are shown it, each time that changes
    /// (and on entering, the latest). The call's bundles pass it to the
    /// site's unread.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    Poll { poll: PollView },
    /// The call's breakout rooms as you are shown them, each time they
    /// change (and on entering, while they are open). Moving you between
    /// groups, the server also sends `resumed` with who is with you now.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    Breakouts { state: BreakoutView },
    /// The board as it stands for you (who may draw, whether the host
    /// shows it, how many pages): when you open it, when that changes
    /// while it is open, and to everyone when the host shows it or stops.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardState { state: BoardStatus },
    /// A change to `page` of the board you have open: first cleared if
    /// `cleared`, then `put` drawn (in place of elements of the same id,
    /// else on top) and `gone` removed. Opening the board, you are sent
    /// each page this way, in pieces.
    #[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
    BoardChanged {
        page: u8,
        #[serde(default, skip_serializing_if = "is_false")]
        cleared: bool,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        put: Vec<Element>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        gone: Vec<ElementRef>,
    },
}

impl ServerMessage {
    /// Whether it is about the whiteboard.
    #[cfg(feature = "ssr")]
    pub fn is_board(&self) -> bool {
        matches!(self, Self::BoardState { .. } | Self::BoardChanged { .. })
    }
}

tagged_first!(ServerMessage, "type");

pub mod close;

mod errors;
pub use errors::ErrorCode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_document_asks_for_the_version_the_server_speaks() {
        // It said `version` must be 1, which the server refuses.
        let doc = include_str!("../../docs/signaling-protocol.md");
        assert!(doc.starts_with(&format!("# Huddle signaling protocol (version {PROTOCOL_VERSION})")));
        assert_eq!(doc.matches("| `version` | number | protocol version; must be `").count(), 2, "join and resume");
        assert_eq!(doc.matches(&format!("must be `{PROTOCOL_VERSION}`")).count(), 2);
        for line in doc.lines().filter(|l| l.contains("\"version\":")) {
            assert!(line.contains(&format!("\"version\":{PROTOCOL_VERSION},")), "{line}");
        }
    }

    #[test]
    fn a_join_message_reads_from_its_documented_json() {
        let json = r#"{"type":"join","version":1,"room":"abcdefghijklmnopqrstuvwx","name":"Ada"}"#;
        let msg: ClientMessage = serde_json::from_str(json).unwrap();
        assert_eq!(
            msg,
            ClientMessage::Join {
                version: 1,
                room: RoomSlug::parse("abcdefghijklmnopqrstuvwx").unwrap(),
                name: "Ada".into(),
                passcode: None,
                pass: None
            }
        );
    }

    #[test]
    fn a_relayed_candidate_writes_its_documented_json() {
        let msg = ServerMessage::Signal {
            from: ParticipantId(7),
            payload: SignalPayload::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        };
        let json: serde_json::Value = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["type"], "signal");
        assert_eq!(json["from"], 7);
        assert_eq!(json["payload"]["kind"], "candidate");
        assert_eq!(json["payload"]["sdp_mid"], "0");
    }

    #[test]
    fn media_state_reads_its_documented_json_and_refuses_odd_stream_ids() {
        let json = r#"{"type":"media","state":{"microphone":true,"camera":false,"screen":"{8a1f-b2}"}}"#;
        let msg: ClientMessage = serde_json::from_str(json).unwrap();
        let screen = Some(StreamId::try_from("{8a1f-b2}".to_string()).unwrap());
        assert_eq!(msg, ClientMessage::Media { state: MediaState { microphone: true, camera: false, screen } });
        let quiet: ClientMessage = serde_json::from_str(r#"{"type":"media","state":{"microphone":false,"camera":false}}"#).unwrap();
        assert_eq!(quiet, ClientMessage::Media { state: MediaState::default() });
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let json = format!(r#"{{"type":"media","state":{{"microphone":true,"camera":true,"screen":{}}}}}"#, serde_json::to_string(bad).unwrap());
            assert!(serde_json::from_str::<ClientMessage>(&json).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn unknown_types_and_bad_slugs_do_not_parse() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"shout"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"join","version":1,"room":"../etc/passwd","name":"x"}"#).is_err());
    }
    #[test]
    fn server_messages_write_their_type_first_and_read_back() {
        let signal = ServerMessage::Signal { from: ParticipantId(7), payload: SignalPayload::Offer { sdp: "v=0".into() } };
        let json = serde_json::to_string(&signal).unwrap();
        assert_eq!(json, r#"{"type":"signal","from":7,"payload":{"kind":"offer","sdp":"v=0"}}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).unwrap(), signal);

        // A variant without fields, and optional fields left out.
        assert_eq!(serde_json::to_string(&ServerMessage::MutedByHost).unwrap(), r#"{"type":"muted_by_host"}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(r#"{"type":"muted_by_host"}"#).unwrap(), ServerMessage::MutedByHost);
        let relay =
            ServerMessage::IceServers { ice_servers: vec![IceServer { urls: vec!["stun:127.0.0.1:3478".into()], username: None, credential: None }] };
        let json = serde_json::to_string(&relay).unwrap();
        assert_eq!(json, r#"{"type":"ice_servers","ice_servers":[{"urls":["stun:127.0.0.1:3478"]}]}"#);
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).unwrap(), relay);

        // From a stream too, whose strings are not borrowed from the input.
        assert_eq!(serde_json::from_reader::<_, ServerMessage>(json.as_bytes()).unwrap(), relay);
    }

    #[test]
    fn server_messages_without_their_type_first_or_with_extra_fields_do_not_parse() {
        for bad in [
            r#"{"from":7,"type":"chat","text":"hi","sent_at_ms":1}"#,
            r#"{"type":"shout"}"#,
            r#"{"type":"muted_by_host","loud":true}"#,
            r#"{"type":7}"#,
            r#"[]"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<ServerMessage>(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn a_client_s_signal_payload_may_name_its_kind_anywhere() {
        let json = r#"{"to":3,"payload":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","kind":"candidate"},"type":"signal"}"#;
        let msg: ClientMessage = serde_json::from_str(json).unwrap();
        let ClientMessage::Signal { payload: SignalPayload::Candidate { candidate, .. }, .. } = msg else { panic!("{msg:?}") };
        assert!(candidate.starts_with("candidate:1"));
    }
}

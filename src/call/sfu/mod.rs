//! The media server (SFU) for classes and large meetings: each browser
//! sends its media once, to the server, which forwards to each receiver
//! what it needs and what the call's rules allow.
//!
//! Sans-IO like the hub, on `str0m` (Sans-IO WebRTC): [`Sfu`] never touches
//! a socket or a clock. The adapter (the server's `media` thread) feeds it
//! datagrams ([`Sfu::receive`]), the time ([`Sfu::tick`]) and the hub's
//! decisions ([`Sfu::command`]), and carries out the [`Output`]s: datagrams
//! to send, messages for a participant's signaling connection.
//!
//! The design (`docs/architecture.md`, `../shared/research/sfu-design.md`):
//!
//! - **The browser offers, the server answers.** Each participant has one
//!   peer connection to the server. Its one offer carries what it sends
//!   (microphone, camera in three simulcast layers, screen and its sound)
//!   and a fixed set of receive slots. Which person a slot carries is a
//!   signaling message (`sfu_slots`), so nobody renegotiates when someone
//!   joins (PulseBeam's answer-only design).
//! - **ICE-lite on one UDP port.** The server only answers connectivity
//!   checks, and only for the credentials of an answer it gave: a guest in
//!   the lobby, who is never given one, cannot get a packet through.
//! - **The hub decides, the SFU enforces.** A [`Grant`] says what each
//!   participant's media may do: a voice the host has not let speak is not
//!   forwarded, whatever its browser sends; nor a screen the room does not
//!   allow. A revoked grant (left, removed, call ended) closes the
//!   connection.
//! - **Forwarding per receiver.** Video slots follow what the receiver
//!   asks to see (`sfu_view`), or screens, then hosts, then speakers; each
//!   gets the simulcast layer its tile's height needs, within the link's
//!   estimate ([`layers`]), switching layers only on a keyframe. Audio
//!   slots carry the loudest voices ([`speakers`]). A slot's numbering runs
//!   on across switches ([`rebase`]). Layers nobody watches are switched
//!   off at the sender (`sfu_layers`).
//! - **One connection's panic is contained.** Every call into one
//!   participant's `Rtc` is caught; a panic drops that participant's media
//!   connection (they are told to start a new one) and nobody else's.

pub mod layers;
pub mod peer;
pub mod rebase;
pub mod speakers;
mod stun;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::SdpOffer;
use str0m::config::DtlsCert;
use str0m::format::CodecSpec;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};
use str0m::{Candidate, Event, IceConnectionState, IceCreds, Input, Output as RtcOutput, Rtc, RtcConfig};

use crate::call::protocol::{ErrorCode, MediaSource, ParticipantId, ServerMessage, SlotFeed, VideoWant};
use crate::call::RoomId;
use crate::domain::ClientNetwork;

use self::layers::{KeyframeGate, Layer};
use self::rebase::{Numbers, Rebase};
use self::speakers::Voice;

/// Receive slots a browser may offer, at most (PulseBeam pre-allocates 25).
pub const MAX_VIDEO_SLOTS: usize = 25;
pub const MAX_AUDIO_SLOTS: usize = 3;
/// Send lines a browser may offer: microphone, camera, screen, its sound.
const MAX_SEND_LINES: usize = 4;
/// Where the server's estimate of each receiver's link starts, before the
/// browser's feedback refines it.
const INITIAL_ESTIMATE_KBPS: u64 = 1_000;
/// What one voice takes of a receiver's link, in bits per second (Opus at
/// its usual rate, with headers).
const VOICE_BPS: u64 = 40_000;
/// The height a slot is assumed to be shown at until the browser says.
const DEFAULT_VIEW_HEIGHT: u32 = 360;
/// How long a layer nobody watches keeps running at its sender, in case
/// someone looks again (LiveKit waits longer before its first change).
const LAYER_IDLE: Duration = Duration::from_secs(3);
/// How often `speakers` may go out.
const SPEAKERS_EVERY: Duration = Duration::from_millis(400);
/// A sender's stream that has sent nothing for this long is not forwarded
/// to a new slot (its camera is off).
const STALE: Duration = Duration::from_millis(1_500);
/// How long a layer may take to start sending after it is switched on (or
/// its track starts) before it counts as one the browser dropped.
const LAYER_START: Duration = Duration::from_secs(2);
/// How often every slot's choice is looked at again, for layers that
/// stopped or started on their own (a browser adapting to its CPU or link).
const REASSIGN_EVERY: Duration = Duration::from_millis(500);
/// Plain STUN binding requests answered each second at most, from one
/// source (an IPv4 address or an IPv6 /64: a browser's check sends a few,
/// and a class may check at once behind one school address) and in all
/// (`answer_probe`).
const PROBE_ANSWERS_PER_SOURCE: u32 = 20;
const PROBE_ANSWERS_PER_SECOND: u32 = 500;

/// Plain STUN answers this second: in all, and per source.
#[derive(Debug, Default)]
struct Probes {
    began: Option<Instant>,
    answered: u32,
    by_source: HashMap<ClientNetwork, u32>,
}

impl Probes {
    /// Whether `source` may have an answer at `now` (counted if so).
    fn allow(&mut self, source: ClientNetwork, now: Instant) -> bool {
        if self.began.is_none_or(|began| now.saturating_duration_since(began) >= Duration::from_secs(1)) {
            *self = Self { began: Some(now), ..Self::default() };
        }
        if self.answered >= PROBE_ANSWERS_PER_SECOND {
            return false;
        }
        let from_source = self.by_source.entry(source).or_default();
        if *from_source >= PROBE_ANSWERS_PER_SOURCE {
            return false;
        }
        *from_source += 1;
        self.answered += 1;
        true
    }
}

/// What the server's media server is told at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The address the browsers send media to: the media port's address as
    /// they can reach it (`HUDDLE_MEDIA_PUBLIC_IP` behind NAT).
    pub address: SocketAddr,
}

/// What one participant's media may do, as the hub decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub room: RoomId,
    pub host: bool,
    /// Their voice is forwarded (the host; a guest allowed to speak and not
    /// muted since).
    pub audio: bool,
    /// Their screen (and its sound) is forwarded.
    pub screen: bool,
    /// What they say they send, for choosing whom to show.
    pub camera_on: bool,
    pub screen_on: bool,
}

/// A decision for the media server, from the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `who` is in a server-routed call with these rights (new or changed).
    Grant { who: ParticipantId, grant: Grant },
    /// `who` is no longer in the call: their media connection closes.
    Revoke { who: ParticipantId },
    /// `who`'s browser offers a connection (or a new offer on it).
    Offer { who: ParticipantId, sdp: String, sources: BTreeMap<String, MediaSource> },
    /// What `who`'s page shows, most important first.
    View { who: ParticipantId, want: Vec<VideoWant> },
}

/// What the adapter is to do.
#[derive(Debug)]
pub enum Output {
    /// Send a datagram from the media port.
    Transmit { destination: SocketAddr, data: Vec<u8> },
    /// Send `message` on `to`'s signaling connection.
    Tell { to: ParticipantId, message: ServerMessage },
}

/// One stream a participant sends, as its offer labelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Feed {
    who: ParticipantId,
    source: MediaSource,
}

/// One simulcast layer of a sent stream (or the only one).
#[derive(Debug, Default)]
struct LayerState {
    /// Picture height, from its last keyframe.
    height: u32,
    /// Bits per second over the last whole second.
    bitrate: u64,
    bytes: u64,
    since: Option<Instant>,
    last_packet: Option<Instant>,
}

/// One of a participant's send lines.
#[derive(Debug)]
struct Track {
    mid: Mid,
    source: MediaSource,
    /// Its simulcast layers, lowest first (`None`: no simulcast).
    rids: Vec<Option<Rid>>,
    layers: HashMap<Option<Rid>, LayerState>,
    voice: Voice,
    /// The layers last told to the browser as wanted, and since when each
    /// unwanted one has been unwanted.
    told: Option<Vec<Rid>>,
    unwanted_since: HashMap<Rid, Instant>,
    /// When the track first sent, and when each layer was last switched
    /// back on: a layer gets `LAYER_START` to begin sending.
    started: Option<Instant>,
    enabled_at: HashMap<Rid, Instant>,
}

impl Track {
    fn fresh(&self, now: Instant) -> bool {
        self.layers.values().any(|l| l.last_packet.is_some_and(|at| now.saturating_duration_since(at) < STALE))
    }

    /// Whether layer `rid` can be forwarded: it sends, or it was switched
    /// off here (and comes back when asked), or it is just starting. A layer
    /// the browser stopped on its own (Chromium drops its top layer when
    /// its CPU or link cannot keep up) cannot, until it sends again.
    fn available(&self, rid: &Option<Rid>, now: Instant) -> bool {
        let recent = |at: Option<&Instant>| at.is_some_and(|at| now.saturating_duration_since(*at) < LAYER_START);
        let fresh = self.layers.get(rid).and_then(|l| l.last_packet).is_some_and(|at| now.saturating_duration_since(at) < STALE);
        let Some(rid) = rid else { return true };
        let switched_off = self.told.as_ref().is_some_and(|told| !told.contains(rid));
        fresh || switched_off || self.started.is_none() || recent(self.started.as_ref()) || recent(self.enabled_at.get(rid))
    }

    /// The layers that can be forwarded now, lowest first, with their rids.
    fn layer_list(&self, now: Instant) -> (Vec<Layer>, Vec<Option<Rid>>) {
        self.rids
            .iter()
            .filter(|rid| self.available(rid, now))
            .map(|rid| (self.layers.get(rid).map_or(Layer { height: 0, bitrate: 0 }, |l| Layer { height: l.height, bitrate: l.bitrate }), *rid))
            .unzip()
    }
}

/// One packet from a sender, as every receiver's slot needs it: read once.
#[derive(Clone, Copy)]
struct Incoming<'a> {
    feed: Feed,
    rid: Option<Rid>,
    packet: &'a RtpPacket,
    spec: CodecSpec,
    keyframe: bool,
    numbers: Numbers,
    vp8: Option<Vp8Descriptor>,
}

/// A stream on offer to the others in a call, for choosing what to show.
struct Offered {
    feed: Feed,
    order: u64,
    host: bool,
    layers: Vec<Layer>,
    rids: Vec<Option<Rid>>,
}

/// One receive slot of a participant's connection.
#[derive(Debug)]
struct Slot {
    mid: Mid,
    /// What it carries, as the receiver was told.
    feed: Option<Feed>,
    /// The layer being forwarded now, and the one wanted (switched to at
    /// its next keyframe).
    current: Option<Option<Rid>>,
    target: Option<Option<Rid>>,
    /// The device-pixel height it is shown at (0: hidden).
    height: u32,
    rebase: Rebase,
    /// The receiver's payload type for the sender's (by codec).
    pts: HashMap<Pt, Pt>,
    /// When a keyframe was last asked for on its behalf while waiting.
    asked_at: Option<Instant>,
}

impl Slot {
    fn new(mid: Mid) -> Self {
        Self {
            mid,
            feed: None,
            current: None,
            target: None,
            height: DEFAULT_VIEW_HEIGHT,
            rebase: Rebase::default(),
            pts: HashMap::new(),
            asked_at: None,
        }
    }
}

/// One participant of a server-routed call.
struct Client {
    grant: Grant,
    /// Order of arrival, for choosing whom to show.
    order: u64,
    rtc: Option<Rtc>,
    creds: IceCreds,
    /// Addresses their packets came from.
    addresses: HashSet<SocketAddr>,
    deadline: Option<Instant>,
    sends: Vec<Track>,
    video: Vec<Slot>,
    audio: Vec<Slot>,
    /// What their page shows, if it said.
    want: Option<Vec<VideoWant>>,
    /// The server's estimate of their link (bits per second).
    estimate: Option<u64>,
    /// What their link was last asked to carry, `(minimum, desired)` in
    /// bits per second (`layers::demand`).
    asked: Option<(u64, u64)>,
    /// The sources they labelled, by mid, from their last offer.
    sources: BTreeMap<String, MediaSource>,
    /// The server's ICE usernames its answers gave (a restart gives new ones).
    ufrags: Vec<String>,
}

impl Client {
    /// Asks their connection to pad up to `minimum` and probe towards
    /// `desired` (bits per second), when either moved by a tenth or more
    /// since last asked (layer rates move a little every second, and each
    /// new request may start a probe). `true` when asked.
    fn ask_link(&mut self, minimum: u64, desired: u64) -> bool {
        let moved = |old: u64, new: u64| old.abs_diff(new) * 10 >= old.max(1);
        if self.asked.is_some_and(|(m, d)| !moved(m, minimum) && !moved(d, desired)) {
            return false;
        }
        let Some(rtc) = self.rtc.as_mut() else { return false };
        self.asked = Some((minimum, desired));
        rtc.bwe().set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
        true
    }

    fn track(&self, source: MediaSource) -> Option<&Track> {
        self.sends.iter().find(|t| t.source == source)
    }

    /// Whether a screen of theirs is being shared now: they say so, and its
    /// pictures have arrived (not necessarily lately: a still screen sends
    /// few).
    fn shares_screen(&self) -> bool {
        self.grant.screen_on && self.track(MediaSource::Screen).is_some_and(|t| t.started.is_some())
    }
}

/// The media server's state: every participant of every server-routed call
/// on this server.
pub struct Sfu {
    config: Config,
    cert: DtlsCert,
    clients: HashMap<ParticipantId, Client>,
    by_address: HashMap<SocketAddr, ParticipantId>,
    by_ufrag: HashMap<String, ParticipantId>,
    /// Each room's current speakers as last told, and when.
    speakers: HashMap<RoomId, (Vec<ParticipantId>, Option<Instant>)>,
    /// When every room's slots were last chosen again on the clock.
    reassigned: Option<Instant>,
    keyframes: KeyframeGate<(ParticipantId, Mid, Option<Rid>)>,
    next_order: u64,
    /// This second's plain STUN answers (`answer_probe`).
    probes: Probes,
    out: Vec<Output>,
    /// Tests: the next drain of this participant's connection panics.
    #[cfg(test)]
    panic_next: Option<ParticipantId>,
}

/// Why an offer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotAdmitted,
    InvalidOffer,
}

impl Sfu {
    /// A media server reached at `config.address`. One DTLS certificate
    /// serves every connection (no key is made per join).
    pub fn new(config: Config) -> Self {
        let cert = str0m::crypto::from_feature_flags().dtls_provider.generate_certificate().expect("the crypto provider makes DTLS certificates");
        Self {
            config,
            cert,
            clients: HashMap::new(),
            by_address: HashMap::new(),
            by_ufrag: HashMap::new(),
            speakers: HashMap::new(),
            reassigned: None,
            keyframes: KeyframeGate::default(),
            next_order: 0,
            probes: Probes::default(),
            out: Vec::new(),
            #[cfg(test)]
            panic_next: None,
        }
    }

    /// What to do now, in order.
    pub fn take_output(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// The earliest time [`Sfu::tick`] is needed.
    pub fn deadline(&self) -> Option<Instant> {
        self.clients.values().filter_map(|c| c.deadline).min()
    }

    /// Participants with a media connection (an answered offer).
    pub fn connections(&self) -> usize {
        self.clients.values().filter(|c| c.rtc.is_some()).count()
    }

    /// Whether `who` has a media connection.
    pub fn is_connected(&self, who: ParticipantId) -> bool {
        self.clients.get(&who).is_some_and(|c| c.rtc.is_some())
    }

    /// A decision from the hub, at `now`.
    pub fn command(&mut self, command: Command, now: Instant) {
        match command {
            Command::Grant { who, grant } => {
                let order = self.next_order;
                let client = self.clients.entry(who).or_insert_with(|| {
                    let creds = IceCreds::new();
                    Client {
                        grant,
                        order,
                        rtc: None,
                        creds,
                        addresses: HashSet::new(),
                        deadline: None,
                        sends: Vec::new(),
                        video: Vec::new(),
                        audio: Vec::new(),
                        want: None,
                        estimate: None,
                        asked: None,
                        sources: BTreeMap::new(),
                        ufrags: Vec::new(),
                    }
                });
                if client.order == order {
                    self.next_order += 1;
                }
                client.grant = grant;
                self.assign(grant.room, now);
            }
            Command::Revoke { who } => self.drop_client(who, false, now),
            Command::Offer { who, sdp, sources } => {
                if let Err(refusal) = self.offer(who, &sdp, sources, now) {
                    let code = match refusal {
                        Refusal::NotAdmitted => ErrorCode::NotAdmitted,
                        Refusal::InvalidOffer => ErrorCode::InvalidOffer,
                    };
                    self.out.push(Output::Tell { to: who, message: ServerMessage::error(code) });
                }
            }
            Command::View { who, want } => {
                let Some(client) = self.clients.get_mut(&who) else { return };
                client.want = Some(want);
                let room = client.grant.room;
                self.assign(room, now);
            }
        }
    }

    /// `who`'s browser offers a connection: answered, or refused.
    fn offer(&mut self, who: ParticipantId, sdp: &str, sources: BTreeMap<String, MediaSource>, now: Instant) -> Result<(), Refusal> {
        let address = self.config.address;
        let cert = self.cert.clone();
        let Some(client) = self.clients.get_mut(&who) else { return Err(Refusal::NotAdmitted) };
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|_| Refusal::InvalidOffer)?;
        let creds = client.creds.clone();
        let answered = catch_unwind(AssertUnwindSafe(|| {
            let rtc = client.rtc.get_or_insert_with(|| {
                let mut rtc = RtcConfig::new()
                    .set_rtp_mode(true)
                    .set_ice_lite(true)
                    .set_local_ice_credentials(creds)
                    .set_dtls_cert(cert)
                    .clear_codecs()
                    .enable_opus(true, false)
                    .enable_vp8(true)
                    .enable_bwe(Some(Bitrate::kbps(INITIAL_ESTIMATE_KBPS)))
                    .build(now);
                if let Ok(candidate) = Candidate::host(address, "udp") {
                    rtc.add_local_candidate(candidate);
                }
                rtc
            });
            rtc.sdp_api().accept_offer(offer).map(|answer| answer.to_sdp_string())
        }));
        let answer = match answered {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => {
                // A first offer that failed leaves no half-made connection.
                if client.sends.is_empty() && client.video.is_empty() {
                    client.rtc = None;
                    client.asked = None;
                }
                return Err(Refusal::InvalidOffer);
            }
            Err(_) => {
                self.drop_client(who, true, now);
                return Err(Refusal::InvalidOffer);
            }
        };
        client.sources = sources;
        // An ICE restart answers with new credentials: checks come with them.
        for line in answer.lines() {
            if let Some(ufrag) = line.strip_prefix("a=ice-ufrag:") {
                let ufrag = ufrag.trim().to_string();
                if !client.ufrags.contains(&ufrag) {
                    client.ufrags.push(ufrag.clone());
                }
                self.by_ufrag.insert(ufrag, who);
            }
        }
        self.out.push(Output::Tell { to: who, message: ServerMessage::SfuAnswer { sdp: answer } });
        let events = self.drain(who, now);
        self.handle_events(who, events, now);
        let room = self.clients.get(&who).map(|c| c.grant.room);
        if let Some(room) = room {
            self.assign(room, now);
        }
        Ok(())
    }

    /// A datagram arrived on the media port at `now`.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Some(who) = self.route(source, data) else {
            self.answer_probe(now, source, data);
            return;
        };
        // Received at the announced address, as str0m knows its own
        // candidate, even where the port is bound to a private one behind NAT.
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.config.address, data) else { return };
        let input = Input::Receive(now, receive);
        let Some(client) = self.clients.get_mut(&who) else { return };
        let Some(rtc) = client.rtc.as_mut() else { return };
        if !rtc.accepts(&input) {
            return;
        }
        client.addresses.insert(source);
        self.by_address.insert(source, who);
        let fed = catch_unwind(AssertUnwindSafe(|| rtc.handle_input(input)));
        match fed {
            Ok(Ok(())) => {}
            // A packet str0m refuses is dropped; the connection goes on.
            Ok(Err(_)) => {}
            Err(_) => return self.drop_client(who, true, now),
        }
        let events = self.drain(who, now);
        self.handle_events(who, events, now);
    }

    /// Whose connection a datagram from `source` belongs to: known
    /// addresses first, then a connectivity check's username (which names
    /// the server's credentials of one answer).
    fn route(&self, source: SocketAddr, data: &[u8]) -> Option<ParticipantId> {
        if let Some(who) = self.by_address.get(&source) {
            return Some(*who);
        }
        if data.first().is_some_and(|b| *b < 2) && data.len() >= 20 {
            let message = str0m::ice::StunMessage::parse(data).ok()?;
            let (local, _) = message.split_username()?;
            return self.by_ufrag.get(local).copied();
        }
        None
    }

    /// Answers a plain STUN binding request (no username: not a call's
    /// connectivity check) with the address it came from, as a STUN server
    /// does. The pre-join check gathers with the media port as its STUN
    /// server, so a browser knows before joining whether UDP reaches it.
    /// The answer is 32 bytes (44 for IPv6). At most
    /// [`PROBE_ANSWERS_PER_SOURCE`] go to one source each second, and
    /// [`PROBE_ANSWERS_PER_SECOND`] in all (the rest are dropped), so the
    /// port cannot be used to flood anyone, and one flooding source does
    /// not use up everyone's answers.
    fn answer_probe(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Some(transaction) = stun::plain_binding_request(data) else { return };
        if self.probes.allow(ClientNetwork::of(source.ip()), now) {
            self.out.push(Output::Transmit { destination: source, data: stun::binding_answer(transaction, source) });
        }
    }

    /// Time passes: every connection whose deadline came is woken, layers
    /// nobody wants are switched off, speakers are told.
    pub fn tick(&mut self, now: Instant) {
        let due: Vec<ParticipantId> = self.clients.iter().filter(|(_, c)| c.deadline.is_some_and(|d| d <= now)).map(|(who, _)| *who).collect();
        for who in due {
            let Some(rtc) = self.clients.get_mut(&who).and_then(|c| c.rtc.as_mut()) else { continue };
            match catch_unwind(AssertUnwindSafe(|| rtc.handle_input(Input::Timeout(now)))) {
                Ok(_) => {}
                Err(_) => {
                    self.drop_client(who, true, now);
                    continue;
                }
            }
            let events = self.drain(who, now);
            self.handle_events(who, events, now);
        }
        self.retry_keyframes(now);
        let rooms: HashSet<RoomId> = self.clients.values().map(|c| c.grant.room).collect();
        let reassign = self.reassigned.is_none_or(|at| now.saturating_duration_since(at) >= REASSIGN_EVERY);
        if reassign {
            self.reassigned = Some(now);
        }
        for room in rooms {
            self.tell_speakers(room, now);
            if reassign {
                // Also tells the layers.
                self.assign(room, now);
            } else {
                self.tell_layers(room, now);
            }
        }
    }

    /// Drains `who`'s connection after a change: datagrams go out, events
    /// come back. A panic inside drops the connection.
    fn drain(&mut self, who: ParticipantId, now: Instant) -> Vec<Event> {
        #[cfg(test)]
        let boom = self.panic_next.take_if(|p| *p == who).is_some();
        #[cfg(not(test))]
        let boom = false;
        let Some(client) = self.clients.get_mut(&who) else { return Vec::new() };
        let Some(rtc) = client.rtc.as_mut() else { return Vec::new() };
        let mut events = Vec::new();
        let mut transmits = Vec::new();
        let drained = catch_unwind(AssertUnwindSafe(|| loop {
            if boom {
                panic!("a test breaks this connection");
            }
            match rtc.poll_output() {
                Ok(RtcOutput::Timeout(at)) => return Some(at),
                Ok(RtcOutput::Transmit(t)) => transmits.push(Output::Transmit { destination: t.destination, data: t.contents.into() }),
                Ok(RtcOutput::Event(event)) => events.push(event),
                Err(_) => return None,
            }
        }));
        self.out.extend(transmits);
        match drained {
            Ok(Some(at)) => {
                client.deadline = Some(at);
                if !rtc.is_alive() {
                    self.drop_client(who, true, now);
                }
                events
            }
            Ok(None) | Err(_) => {
                self.drop_client(who, true, now);
                Vec::new()
            }
        }
    }

    fn handle_events(&mut self, who: ParticipantId, events: Vec<Event>, now: Instant) {
        let mut changed = false;
        for event in events {
            match event {
                Event::MediaAdded(added) => {
                    let Some(client) = self.clients.get_mut(&who) else { return };
                    match added.direction {
                        // What the browser sends.
                        Direction::RecvOnly | Direction::SendRecv => {
                            let labelled = client.sources.get(&added.mid.to_string()).copied();
                            let source = match labelled {
                                // A voice labelled as a picture, or the other
                                // way round, is refused: never forwarded into a
                                // slot of the other kind.
                                Some(source) if source.is_video() != (added.kind == MediaKind::Video) => continue,
                                Some(source) => source,
                                None => match added.kind {
                                    MediaKind::Audio => MediaSource::Microphone,
                                    MediaKind::Video => MediaSource::Camera,
                                },
                            };
                            if client.sends.len() >= MAX_SEND_LINES || client.sends.iter().any(|t| t.source == source || t.mid == added.mid) {
                                continue;
                            }
                            let rids = match &added.simulcast {
                                Some(simulcast) => {
                                    let layers = if simulcast.recv.is_empty() { &simulcast.send } else { &simulcast.recv };
                                    order_rids(layers.iter().map(|l| l.rid).collect())
                                }
                                None => vec![None],
                            };
                            client.sends.push(Track {
                                mid: added.mid,
                                source,
                                rids,
                                layers: HashMap::new(),
                                voice: Voice::default(),
                                told: None,
                                unwanted_since: HashMap::new(),
                                started: None,
                                enabled_at: HashMap::new(),
                            });
                        }
                        // A receive slot.
                        Direction::SendOnly => {
                            let slots = match added.kind {
                                MediaKind::Video if client.video.len() < MAX_VIDEO_SLOTS => &mut client.video,
                                MediaKind::Audio if client.audio.len() < MAX_AUDIO_SLOTS => &mut client.audio,
                                _ => continue,
                            };
                            if !slots.iter().any(|s| s.mid == added.mid) {
                                slots.push(Slot::new(added.mid));
                            }
                        }
                        Direction::Inactive => {}
                    }
                    changed = true;
                }
                Event::RtpPacket(packet) => self.forward(who, packet, now),
                Event::KeyframeRequest(request) => {
                    let Some(client) = self.clients.get(&who) else { continue };
                    let Some(slot) = client.video.iter().find(|s| s.mid == request.mid) else { continue };
                    if let (Some(feed), Some(rid)) = (slot.feed, slot.current.or(slot.target)) {
                        self.ask_keyframe(feed, rid, now);
                    }
                }
                Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                    // Taken into account at the next choice of layers (twice a
                    // second): estimates arrive with every feedback report.
                    if let Some(client) = self.clients.get_mut(&who) {
                        client.estimate = Some(estimate.as_u64());
                    }
                }
                Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                    // Kept: the browser restarts ICE with a new offer, or
                    // the hub revokes the grant when the grace period ends.
                }
                _ => {}
            }
        }
        if changed {
            if let Some(room) = self.clients.get(&who).map(|c| c.grant.room) {
                self.assign(room, now);
            }
        }
    }

    /// One packet from `from`'s browser: counted, checked against their
    /// grant, and written to every slot that carries it.
    fn forward(&mut self, from: ParticipantId, packet: RtpPacket, now: Instant) {
        let Some(client) = self.clients.get_mut(&from) else { return };
        let grant = client.grant;
        let sharing = client.shares_screen();
        let Some(rtc) = client.rtc.as_mut() else { return };
        let Some((mid, rid)) = rtc.direct_api().stream_rx(&packet.header.ssrc).map(|s| (s.mid(), s.rid())) else { return };
        let spec = rtc.codec_config().params().iter().find(|p| p.pt() == packet.header.payload_type).map(|p| p.spec());
        let Some(track) = client.sends.iter_mut().find(|t| t.mid == mid) else { return };
        let source = track.source;
        track.started.get_or_insert(now);
        let layer = track.layers.entry(rid).or_default();
        layer.last_packet = Some(now);
        layer.bytes += packet.payload.len() as u64;
        let since = *layer.since.get_or_insert(now);
        if now.saturating_duration_since(since) >= Duration::from_secs(1) {
            layer.bitrate = layer.bytes * 8 * 1000 / now.saturating_duration_since(since).as_millis().max(1) as u64;
            layer.bytes = 0;
            layer.since = Some(now);
        }
        // Parsed once here, not once per receiver.
        let vp8 = vp8_of(source, &packet.payload);
        let keyframe = vp8.is_some_and(|d| d.starts_keyframe(&packet.payload));
        if keyframe {
            if let Some(height) = vp8_height(&packet.payload) {
                layer.height = height;
            }
        }
        if source == MediaSource::Microphone || source == MediaSource::ScreenAudio {
            if let Some(level) = packet.header.ext_vals.audio_level {
                track.voice.heard(level, now);
            }
        }
        // The class rules, enforced here: what the grant does not allow is
        // not forwarded, whatever the browser sends.
        let allowed = match source {
            MediaSource::Microphone => grant.audio,
            MediaSource::Camera => true,
            MediaSource::Screen => grant.screen,
            // A screen's sound is a voice: heard only from someone who may
            // be heard, and only while their screen is shared (a pupil
            // once relabelled their microphone as screen sound to be heard
            // without leave to speak).
            MediaSource::ScreenAudio => grant.screen && grant.audio && sharing,
        };
        if !allowed {
            return;
        }
        let Some(spec) = spec else { return };
        let room = grant.room;
        let numbers = Numbers {
            seq: *packet.seq_no,
            ts: packet.header.timestamp,
            pid: vp8.and_then(|d| d.picture_id()),
            tl0: vp8.and_then(|d| d.tl0_pic_idx()),
        };
        let incoming = Incoming { feed: Feed { who: from, source }, rid, packet: &packet, spec, keyframe, numbers, vp8 };
        let receivers: Vec<ParticipantId> =
            self.clients.iter().filter(|(who, c)| **who != from && c.grant.room == room && c.rtc.is_some()).map(|(who, _)| *who).collect();
        let mut failed = Vec::new();
        for to in receivers {
            if self.write_to(to, &incoming, now).is_err() {
                failed.push(to);
            }
        }
        for to in failed {
            self.drop_client(to, true, now);
        }
    }

    /// Writes `incoming` to `to`'s slot that carries it. `Err` when `to`'s
    /// connection panicked.
    fn write_to(&mut self, to: ParticipantId, incoming: &Incoming<'_>, now: Instant) -> Result<(), ()> {
        let Incoming { feed, rid, packet, spec, keyframe, numbers, vp8 } = *incoming;
        let Some(client) = self.clients.get_mut(&to) else { return Ok(()) };
        let Some(rtc) = client.rtc.as_mut() else { return Ok(()) };
        let video = feed.source.is_video();
        let slots = if video { &mut client.video } else { &mut client.audio };
        let Some(slot) = slots.iter_mut().find(|s| s.feed == Some(feed)) else { return Ok(()) };
        if video {
            if slot.target == Some(rid) && slot.current != Some(rid) {
                // A layer (or source) switch waits for a keyframe of it.
                if !keyframe {
                    return Ok(());
                }
                slot.current = Some(rid);
                slot.asked_at = None;
                slot.rebase.switch(numbers, 3_000);
            }
            if slot.current != Some(rid) {
                return Ok(());
            }
        } else if !slot.rebase.started() {
            slot.rebase.switch(numbers, 960);
        }
        let Some(out) = slot.rebase.map(numbers) else { return Ok(()) };
        let pt = match slot.pts.get(&packet.header.payload_type) {
            Some(pt) => *pt,
            None => {
                let Some(pt) = rtc.codec_config().params().iter().find(|p| p.spec() == spec).map(|p| p.pt()) else { return Ok(()) };
                slot.pts.insert(packet.header.payload_type, pt);
                pt
            }
        };
        let mid = slot.mid;
        let mut write =
            RtpWrite::new(pt, out.seq.into(), out.ts, packet.timestamp, packet.payload.clone()).marker(packet.header.marker).nackable(video);
        if let Some(level) = packet.header.ext_vals.audio_level {
            write = write.ext_vals(ExtensionValues {
                audio_level: Some(level),
                voice_activity: packet.header.ext_vals.voice_activity,
                ..Default::default()
            });
        }
        if let (Some(pid), Some(descriptor)) = (out.pid, vp8) {
            let mut patch = descriptor.patch().picture_id(pid);
            if let Some(tl0) = out.tl0 {
                patch = patch.tl0_pic_idx(tl0);
            }
            if let Ok(patch) = patch.build() {
                write = write.vp8_patch(patch);
            }
        }
        let written = catch_unwind(AssertUnwindSafe(|| {
            if let Some(stream) = rtc.direct_api().stream_tx_by_mid(mid, None) {
                stream.write_rtp(write);
            }
        }));
        if written.is_err() {
            return Err(());
        }
        let events = self.drain(to, now);
        // A receiver's own packets do not come back through here; its other
        // events (feedback, estimates) are handled as usual.
        self.handle_events(to, events, now);
        Ok(())
    }

    /// Asks `feed`'s sender for a keyframe of layer `rid`, spaced.
    fn ask_keyframe(&mut self, feed: Feed, rid: Option<Rid>, now: Instant) {
        let Some(client) = self.clients.get_mut(&feed.who) else { return };
        let Some(mid) = client.track(feed.source).map(|t| t.mid) else { return };
        if !self.keyframes.allow((feed.who, mid, rid), now) {
            return;
        }
        let Some(rtc) = client.rtc.as_mut() else { return };
        let asked = catch_unwind(AssertUnwindSafe(|| {
            if let Some(stream) = rtc.direct_api().stream_rx_by_mid(mid, rid) {
                stream.request_keyframe(KeyframeRequestKind::Pli);
            }
        }));
        if asked.is_err() {
            return self.drop_client(feed.who, true, now);
        }
        let events = self.drain(feed.who, now);
        self.handle_events(feed.who, events, now);
    }

    /// Slots still waiting for their keyframe ask again (the first request
    /// is often lost), every 250 ms at first, then each second.
    fn retry_keyframes(&mut self, now: Instant) {
        let mut asks = Vec::new();
        for client in self.clients.values_mut() {
            for slot in &mut client.video {
                let (Some(feed), Some(target)) = (slot.feed, slot.target) else { continue };
                if slot.current == Some(target) {
                    continue;
                }
                let wait = if slot.asked_at.is_some() { Duration::from_secs(1) } else { Duration::from_millis(250) };
                if slot.asked_at.is_none_or(|at| now.saturating_duration_since(at) >= wait) {
                    slot.asked_at = Some(now);
                    asks.push((feed, target));
                }
            }
        }
        for (feed, rid) in asks {
            self.ask_keyframe(feed, rid, now);
        }
    }

    /// Chooses what every slot in `room` carries and at which layer, and
    /// tells each receiver whose slots changed.
    fn assign(&mut self, room: RoomId, now: Instant) {
        let members: Vec<ParticipantId> = self.clients.iter().filter(|(_, c)| c.grant.room == room).map(|(who, _)| *who).collect();
        // What each sender offers now.
        let mut videos: Vec<Offered> = Vec::new();
        let mut voices: Vec<(Feed, f32, Option<Instant>)> = Vec::new();
        for who in &members {
            let client = &self.clients[who];
            for track in &client.sends {
                let feed = Feed { who: *who, source: track.source };
                let shown = match track.source {
                    MediaSource::Camera => client.grant.camera_on || track.fresh(now),
                    MediaSource::Screen => client.grant.screen && (client.grant.screen_on || track.fresh(now)),
                    MediaSource::Microphone => {
                        if client.grant.audio {
                            voices.push((feed, track.voice.speaking().unwrap_or(0.0), track.voice.last_spoke));
                        }
                        false
                    }
                    MediaSource::ScreenAudio => {
                        if client.grant.screen && client.grant.audio && client.shares_screen() && track.fresh(now) {
                            voices.push((feed, f32::MAX, None));
                        }
                        false
                    }
                };
                if shown {
                    let (layers, rids) = track.layer_list(now);
                    videos.push(Offered { feed, order: client.order, host: client.grant.host, layers, rids });
                }
            }
        }
        let speaking: Vec<ParticipantId> = self.speakers.get(&room).map(|(s, _)| s.clone()).unwrap_or_default();
        // Links asked to carry a new amount: their timers changed.
        let mut probe = Vec::new();
        for who in members {
            let mut changes = Vec::new();
            let Some(client) = self.clients.get_mut(&who) else { continue };
            if client.rtc.is_none() {
                continue;
            }
            // Video: what the page asked for, else screens, hosts, speakers,
            // then by arrival.
            let others: Vec<&Offered> = videos.iter().filter(|v| v.feed.who != who).collect();
            let mut ranked: Vec<(Feed, u32)> = Vec::new();
            match &client.want {
                Some(want) => {
                    for w in want {
                        let feed = Feed { who: w.id, source: w.source };
                        if others.iter().any(|v| v.feed == feed) && !ranked.iter().any(|(f, _)| *f == feed) {
                            ranked.push((feed, w.height));
                        }
                    }
                }
                None => {
                    let mut auto = others.clone();
                    auto.sort_by_key(|v| {
                        let speaker = speaking.iter().position(|s| *s == v.feed.who).unwrap_or(usize::MAX);
                        (v.feed.source != MediaSource::Screen, !v.host, speaker, v.order)
                    });
                    ranked.extend(auto.into_iter().map(|v| (v.feed, DEFAULT_VIEW_HEIGHT)));
                }
            }
            ranked.truncate(client.video.len());
            // Keep what already shows; fill freed slots with the newcomers.
            for slot in &mut client.video {
                if slot.feed.is_some_and(|f| !ranked.iter().any(|(r, _)| *r == f)) {
                    slot.feed = None;
                    slot.current = None;
                    slot.target = None;
                    changes.push(slot.mid);
                }
            }
            for (feed, height) in &ranked {
                if let Some(slot) = client.video.iter_mut().find(|s| s.feed == Some(*feed)) {
                    slot.height = *height;
                    continue;
                }
                if let Some(slot) = client.video.iter_mut().find(|s| s.feed.is_none()) {
                    slot.feed = Some(*feed);
                    slot.height = *height;
                    slot.current = None;
                    slot.pts.clear();
                    changes.push(slot.mid);
                }
            }
            // Layers: each slot's tile height, within the link's estimate.
            let offered = |slot: &Slot| slot.feed.and_then(|f| videos.iter().find(|v| v.feed == f));
            let layer_lists: Vec<Vec<Layer>> = client.video.iter().map(|s| offered(s).map_or(Vec::new(), |v| v.layers.clone())).collect();
            let rid_lists: Vec<Vec<Option<Rid>>> = client.video.iter().map(|s| offered(s).map_or(Vec::new(), |v| v.rids.clone())).collect();
            let mut chosen: Vec<Option<usize>> =
                client.video.iter().zip(&layer_lists).map(|(s, l)| s.feed.and_then(|_| layers::for_height(l, s.height))).collect();
            // Before any layer's rate is measured, there is nothing to fit.
            if layer_lists.iter().flatten().any(|l| l.bitrate > 0) {
                // Most important first: the slots in the order their feeds rank.
                let rank = |slot: &Slot| slot.feed.and_then(|f| ranked.iter().position(|(r, _)| *r == f)).unwrap_or(usize::MAX);
                let mut order: Vec<usize> = (0..client.video.len()).collect();
                order.sort_by_key(|&i| rank(&client.video[i]));
                let wanted: Vec<Option<usize>> = order.iter().map(|&i| chosen[i]).collect();
                let mut ordered = wanted.clone();
                let refs: Vec<&[Layer]> = order.iter().map(|&i| layer_lists[i].as_slice()).collect();
                // Room for the voices being heard first.
                let voices = client.audio.iter().filter(|s| s.feed.is_some()).count() as u64 * VOICE_BPS;
                if let Some(estimate) = client.estimate {
                    layers::fit(&mut ordered, &refs, (estimate * 9 / 10).saturating_sub(voices));
                    for (&i, choice) in order.iter().zip(&ordered) {
                        chosen[i] = *choice;
                    }
                }
                let (minimum, desired) = layers::demand(&wanted, &ordered, &refs, voices);
                if client.ask_link(minimum, desired) {
                    probe.push(who);
                }
            }
            let mut asks = Vec::new();
            for ((slot, choice), rids) in client.video.iter_mut().zip(chosen).zip(&rid_lists) {
                let Some(feed) = slot.feed else { continue };
                let target = choice.and_then(|i| rids.get(i).cloned());
                if slot.target != target {
                    slot.target = target;
                    slot.asked_at = None;
                    match target {
                        Some(rid) if slot.current != Some(rid) => asks.push((feed, rid)),
                        Some(_) => {}
                        None => slot.current = None,
                    }
                }
            }
            // Audio: the loudest voices (a shared screen's sound first).
            let mut heard: Vec<&(Feed, f32, Option<Instant>)> = voices.iter().filter(|v| v.0.who != who).collect();
            heard.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.who.cmp(&b.0.who)));
            let loudest: Vec<Feed> = heard.into_iter().take(client.audio.len()).map(|v| v.0).collect();
            for slot in &mut client.audio {
                if slot.feed.is_some_and(|f| !loudest.contains(&f)) {
                    slot.feed = None;
                    changes.push(slot.mid);
                }
            }
            for feed in loudest {
                if client.audio.iter().any(|s| s.feed == Some(feed)) {
                    continue;
                }
                if let Some(slot) = client.audio.iter_mut().find(|s| s.feed.is_none()) {
                    slot.feed = Some(feed);
                    slot.pts.clear();
                    // A new voice in the slot continues its numbering.
                    slot.rebase.restart();
                    changes.push(slot.mid);
                }
            }
            if !changes.is_empty() {
                let message = ServerMessage::SfuSlots {
                    video: client.video.iter().map(slot_feed).collect(),
                    audio: client.audio.iter().map(slot_feed).collect(),
                };
                self.out.push(Output::Tell { to: who, message });
            }
            for (feed, rid) in asks {
                self.ask_keyframe(feed, rid, now);
            }
        }
        for who in probe {
            let events = self.drain(who, now);
            self.handle_events(who, events, now);
        }
        self.tell_layers(room, now);
    }

    /// Tells `room` who speaks now, when it changed (at most every 400 ms).
    fn tell_speakers(&mut self, room: RoomId, now: Instant) {
        let mut voices = Vec::new();
        for (who, client) in self.clients.iter_mut().filter(|(_, c)| c.grant.room == room) {
            for track in client.sends.iter_mut().filter(|t| t.source == MediaSource::Microphone) {
                track.voice.close_windows(now);
                if let Some(level) = track.voice.speaking().filter(|_| client.grant.audio) {
                    voices.push((*who, level));
                }
            }
        }
        let ranked = speakers::rank(voices);
        let (told, at) = self.speakers.entry(room).or_default();
        if *told == ranked || at.is_some_and(|at| now.saturating_duration_since(at) < SPEAKERS_EVERY) {
            return;
        }
        *told = ranked.clone();
        *at = Some(now);
        let members: Vec<ParticipantId> = self.clients.iter().filter(|(_, c)| c.grant.room == room && c.rtc.is_some()).map(|(w, _)| *w).collect();
        for to in members {
            self.out.push(Output::Tell { to, message: ServerMessage::Speakers { ids: ranked.clone() } });
        }
        // The loudest voices take the audio slots.
        self.assign(room, now);
    }

    /// Tells each sender in `room` which of its camera's layers someone
    /// watches. The lowest stays on while the camera is (so a new viewer
    /// sees a picture at once); the others go off after being unwatched a
    /// while, and come back on as soon as someone needs them.
    fn tell_layers(&mut self, room: RoomId, now: Instant) {
        let mut wanted: HashMap<Feed, HashSet<Rid>> = HashMap::new();
        for client in self.clients.values().filter(|c| c.grant.room == room) {
            for slot in &client.video {
                if let (Some(feed), Some(Some(rid))) = (slot.feed, slot.target) {
                    wanted.entry(feed).or_default().insert(rid);
                }
                if let (Some(feed), Some(Some(rid))) = (slot.feed, slot.current) {
                    wanted.entry(feed).or_default().insert(rid);
                }
            }
        }
        for (who, client) in self.clients.iter_mut().filter(|(_, c)| c.grant.room == room) {
            for track in client.sends.iter_mut().filter(|t| t.rids.len() > 1) {
                let feed = Feed { who: *who, source: track.source };
                let want = wanted.get(&feed);
                let mut active = Vec::new();
                for (i, rid) in track.rids.iter().enumerate() {
                    let Some(rid) = rid else { continue };
                    if i == 0 || want.is_some_and(|w| w.contains(rid)) {
                        track.unwanted_since.remove(rid);
                        active.push(*rid);
                    } else {
                        let since = *track.unwanted_since.entry(*rid).or_insert(now);
                        let was_on = track.told.as_ref().is_none_or(|t| t.contains(rid));
                        if was_on && now.saturating_duration_since(since) < LAYER_IDLE {
                            active.push(*rid);
                        }
                    }
                }
                for rid in &active {
                    if track.told.as_ref().is_some_and(|told| !told.contains(rid)) {
                        track.enabled_at.insert(*rid, now);
                    }
                }
                if track.told.as_ref() != Some(&active) {
                    // Nothing to tell before the first change: all layers start on.
                    let first = track.told.is_none() && active.len() == track.rids.len();
                    track.told = Some(active.clone());
                    if !first {
                        let message = ServerMessage::SfuLayers { mid: track.mid.to_string(), active: active.iter().map(|r| r.to_string()).collect() };
                        self.out.push(Output::Tell { to: *who, message });
                    }
                }
            }
        }
    }

    /// Closes `who`'s media connection and forgets them. `failed`: it broke
    /// (a panic, or str0m gave up on it), so their browser is told to start
    /// a new one if they are still in the call.
    fn drop_client(&mut self, who: ParticipantId, failed: bool, now: Instant) {
        let Some(mut client) = self.clients.remove(&who) else { return };
        if let Some(mut rtc) = client.rtc.take() {
            let closed = catch_unwind(AssertUnwindSafe(|| {
                rtc.disconnect();
                let mut out = Vec::new();
                while let Ok(RtcOutput::Transmit(t)) = rtc.poll_output() {
                    out.push(Output::Transmit { destination: t.destination, data: t.contents.into() });
                }
                out
            }));
            if let Ok(out) = closed {
                self.out.extend(out);
            }
        }
        for address in &client.addresses {
            self.by_address.remove(address);
        }
        for ufrag in &client.ufrags {
            self.by_ufrag.remove(ufrag);
        }
        self.keyframes.retain(|(sender, _, _)| *sender != who);
        if failed {
            tracing::warn!(participant = %who, "a media connection failed and was closed");
            // Still in the call: a fresh connection, under the same grant.
            let grant = client.grant;
            self.out.push(Output::Tell { to: who, message: ServerMessage::SfuRestart });
            self.command(Command::Grant { who, grant }, now);
        }
        let room = client.grant.room;
        if self.clients.values().all(|c| c.grant.room != room) {
            self.speakers.remove(&room);
        } else {
            self.assign(room, now);
        }
    }
}

fn slot_feed(slot: &Slot) -> SlotFeed {
    SlotFeed { mid: slot.mid.to_string(), id: slot.feed.map(|f| f.who), source: slot.feed.map(|f| f.source) }
}

/// The VP8 payload descriptor of a video packet. Audio has none: an Opus
/// payload can look like one, and patching it would corrupt the sound.
fn vp8_of(source: MediaSource, payload: &[u8]) -> Option<Vp8Descriptor> {
    source.is_video().then(|| Vp8Descriptor::parse(payload).ok()).flatten()
}

/// Whether a VP8 payload begins a keyframe.
fn is_keyframe(payload: &[u8]) -> bool {
    Vp8Descriptor::parse(payload).is_ok_and(|d| d.starts_keyframe(payload))
}

/// The picture height a VP8 keyframe's first packet declares (RFC 6386
/// 9.1: after the 3-byte frame tag, the start code 9d 01 2a, then 14-bit
/// width and height).
fn vp8_height(payload: &[u8]) -> Option<u32> {
    let descriptor_len = {
        let mut n = 1;
        if payload.first()? & 0x80 != 0 {
            let x = *payload.get(1)?;
            n += 1;
            if x & 0x80 != 0 {
                n += if payload.get(n)? & 0x80 != 0 { 2 } else { 1 };
            }
            if x & 0x40 != 0 {
                n += 1;
            }
            if x & 0x30 != 0 {
                n += 1;
            }
        }
        n
    };
    let frame = payload.get(descriptor_len..)?;
    if frame.len() < 10 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    Some(u32::from(u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff))
}

/// Simulcast layers lowest first: the names browsers are told to use (q, h,
/// f; l, m, h) in that order, others as offered.
fn order_rids(rids: Vec<Rid>) -> Vec<Option<Rid>> {
    let rank = |rid: &Rid| match &**rid {
        "q" | "l" | "low" => 0,
        "h" | "m" | "mid" => 1,
        "f" | "high" => 2,
        _ => 1,
    };
    let mut rids = rids;
    // "h" is the top of l/m/h but the middle of q/h/f.
    let lmh = rids.iter().any(|r| &**r == "l" || &**r == "m");
    rids.sort_by_key(|r| if lmh && &**r == "h" { 2 } else { rank(r) });
    rids.into_iter().map(Some).collect()
}

#[cfg(test)]
mod tests;

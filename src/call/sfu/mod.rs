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
//!   estimate ([`layers`]), switching layers only on a keyframe; a link
//!   too weak for the lowest layer gets its lower temporal layers alone (a
//!   quarter or half of its pictures). Audio slots carry the loudest voices
//!   ([`speakers`]), with RED where the receiver agreed to it. A slot's
//!   numbering runs on across switches and dropped pictures ([`rebase`]).
//!   Layers nobody watches are switched off at the sender (`sfu_layers`).
//! - **One connection's panic is contained.** Every call into one
//!   participant's `Rtc` is caught; a panic drops that participant's media
//!   connection (they are told to start a new one) and nobody else's.

mod choosing;
mod forwarding;
pub mod layers;
mod participant;
pub mod peer;
pub mod rebase;
pub mod speakers;
mod stun;
mod vp8;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::SdpOffer;
use str0m::config::DtlsCert;
use str0m::format::CodecSpec;
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};
use str0m::{Candidate, Event, IceConnectionState, IceCreds, Input, Output as RtcOutput, RtcConfig};

use crate::call::protocol::{ErrorCode, MediaSource, ParticipantId, ServerMessage, SlotFeed, VideoWant};
use crate::call::RoomId;
use crate::domain::ClientNetwork;

use self::layers::{KeyframeGate, Layer};
pub use self::participant::Grant;
use self::participant::{Client, Feed, Pick, Slot, Track, DEFAULT_VIEW_HEIGHT};
use self::rebase::Numbers;
use self::stun::Probes;
use self::vp8::{is_keyframe, temporal, vp8_height, vp8_of, Temporal};

/// Receive slots a browser may offer, at most: a gallery page of 7 × 7
/// (PulseBeam pre-allocates 25).
pub const MAX_VIDEO_SLOTS: usize = 49;
pub const MAX_AUDIO_SLOTS: usize = 3;
/// Send lines a browser may offer: microphone, camera, screen, its sound.
const MAX_SEND_LINES: usize = 4;
/// Where the server's estimate of each receiver's link starts, before the
/// browser's feedback refines it.
const INITIAL_ESTIMATE_KBPS: u64 = 1_000;
/// What one voice takes of a receiver's link, in bits per second, before
/// its rate is measured (Opus at its usual rate, with headers).
const VOICE_BPS: u64 = 40_000;
/// What the headers of one voice take on top of its measured payload: 50
/// packets a second of IP, UDP, RTP with extensions and SRTP (about 50
/// bytes each).
const VOICE_HEADERS_BPS: u64 = 20_000;
/// How long a layer nobody watches keeps running at its sender, in case
/// someone looks again (LiveKit waits longer before its first change).
const LAYER_IDLE: Duration = Duration::from_secs(3);
/// How often `speakers` may go out.
const SPEAKERS_EVERY: Duration = Duration::from_millis(400);
/// How often every slot's choice is looked at again, for layers that
/// stopped or started on their own (a browser adapting to its CPU or link).
const REASSIGN_EVERY: Duration = Duration::from_millis(500);
/// What the server's media server is told at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The address the browsers send media to: the media port's address as
    /// they can reach it (`HUDDLE_MEDIA_PUBLIC_IP` behind NAT).
    pub address: SocketAddr,
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
    /// Connections given something (a datagram, a packet to forward, the
    /// time, a keyframe request) whose output is still to be taken: the
    /// settle loop ([`Sfu::settle`]) takes it, one connection at a time.
    dirty: VecDeque<ParticipantId>,
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
            dirty: VecDeque::new(),
            out: Vec::new(),
            #[cfg(test)]
            panic_next: None,
        }
    }

    /// What to do now, in order.
    pub fn take_output(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    /// What is to be done, leaving the queue's room for the next packet's
    /// (the adapter calls this after every datagram).
    pub fn drain_output(&mut self) -> std::vec::Drain<'_, Output> {
        self.out.drain(..)
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
        self.apply(command, now);
        self.settle(now);
    }

    fn apply(&mut self, command: Command, now: Instant) {
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
                        queued: false,
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
                    // Sound with RED (each packet also carries the one
                    // before it): a pupil on a lossy link still hears.
                    .enable_opus(true, true)
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
        self.touch(who);
        let room = self.clients.get(&who).map(|c| c.grant.room);
        if let Some(room) = room {
            self.assign(room, now);
        }
        Ok(())
    }

    /// A datagram arrived on the media port at `now`: taken in, and
    /// everything it sets off settled.
    pub fn receive(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        self.take(now, source, data);
        self.settle(now);
    }

    /// A datagram arrived, given to its connection; what it sets off is left
    /// for [`Sfu::settle_one`], so the adapter can send each receiver's
    /// packet as soon as it is ready rather than after the whole fan-out.
    pub fn take(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
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
        self.touch(who);
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
    /// `stun::PROBE_ANSWERS_PER_SOURCE` go to one source each second, and
    /// `stun::PROBE_ANSWERS_PER_SECOND` in all (the rest are dropped), so the
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
        self.wake_due(now);
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
        self.settle(now);
    }

    /// Time passes for the connections alone: every one whose deadline came
    /// is given the time (a paced packet may leave), and their output taken.
    /// The adapter calls this as soon as [`Sfu::deadline`] has passed, so a
    /// paced burst does not wait for the next tick's speakers and layers.
    pub fn wake(&mut self, now: Instant) {
        self.wake_due(now);
        self.settle(now);
    }

    fn wake_due(&mut self, now: Instant) {
        let due: Vec<ParticipantId> = self.clients.iter().filter(|(_, c)| c.deadline.is_some_and(|d| d <= now)).map(|(who, _)| *who).collect();
        for who in due {
            let Some(rtc) = self.clients.get_mut(&who).and_then(|c| c.rtc.as_mut()) else { continue };
            match catch_unwind(AssertUnwindSafe(|| rtc.handle_input(Input::Timeout(now)))) {
                Ok(_) => self.touch(who),
                Err(_) => self.drop_client(who, true, now),
            }
        }
    }

    /// Marks `who`'s connection as having output to take.
    pub(super) fn touch(&mut self, who: ParticipantId) {
        if let Some(client) = self.clients.get_mut(&who) {
            if !client.queued {
                client.queued = true;
                self.dirty.push_back(who);
            }
        }
    }

    /// The one loop that takes connections' output: each touched connection
    /// in turn is drained (its datagrams go out) and its events handled. An
    /// event that gives another connection something (a packet forwarded, a
    /// keyframe asked for) touches it, and the loop comes to it in turn: no
    /// connection is drained inside another's event handling, and each
    /// connection is drained once per round however many packets it was
    /// given.
    fn settle(&mut self, now: Instant) {
        while self.settle_one(now) {}
    }

    /// One turn of the settle loop: the next touched connection drained and
    /// its events handled. `false` when none was waiting.
    pub fn settle_one(&mut self, now: Instant) -> bool {
        let Some(who) = self.dirty.pop_front() else { return false };
        if let Some(client) = self.clients.get_mut(&who) {
            client.queued = false;
            let events = self.drain(who, now);
            self.handle_events(who, events, now);
        }
        true
    }

    /// Drains `who`'s connection after a change: datagrams go out, events
    /// come back. A panic inside drops the connection.
    fn drain(&mut self, who: ParticipantId, now: Instant) -> Vec<Event> {
        #[cfg(test)]
        let boom = self.panic_next.take_if(|p| *p == who).is_some();
        #[cfg(not(test))]
        let boom = false;
        let Self { clients, out, .. } = self;
        let Some(client) = clients.get_mut(&who) else { return Vec::new() };
        let Some(rtc) = client.rtc.as_mut() else { return Vec::new() };
        let mut events = Vec::new();
        let drained = catch_unwind(AssertUnwindSafe(|| loop {
            if boom {
                panic!("a test breaks this connection");
            }
            match rtc.poll_output() {
                Ok(RtcOutput::Timeout(at)) => return Some(at),
                Ok(RtcOutput::Transmit(t)) => out.push(Output::Transmit { destination: t.destination, data: t.contents.into() }),
                Ok(RtcOutput::Event(event)) => events.push(event),
                Err(_) => return None,
            }
        }));
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
                            client.sends.push(Track::new(added.mid, source, rids));
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
            self.apply(Command::Grant { who, grant }, now);
        }
        let room = client.grant.room;
        if self.clients.values().all(|c| c.grant.room != room) {
            self.speakers.remove(&room);
        } else {
            self.assign(room, now);
        }
    }
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

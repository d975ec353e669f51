//! A stand-in browser for the media server, on str0m: it offers what
//! Huddle's page offers (a microphone, a camera in three simulcast layers,
//! optionally a screen, and receive slots), sends synthetic media (Opus-
//! sized audio with an audio level, VP8 frames with picture ids and
//! keyframes) and counts what it receives, by sender. Sans-IO like the
//! server: the unit tests run it on an in-memory network, the integration
//! tests and the load benchmark over real UDP.
//!
//! Every packet it sends ends with two bytes, its sender's id and its layer
//! (0–2 for the camera's q, h, f; 7 for a screen; 9 for audio), so a
//! receiver can tell whose media reached it, whatever slot carried it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Output as RtcOutput, Rtc, RtcConfig};

use crate::call::protocol::{MediaSource, ParticipantId};

/// The camera's layers, lowest first, and their heights.
pub const RIDS: [&str; 3] = ["q", "h", "f"];
const HEIGHTS: [u16; 3] = [180, 360, 720];
/// The layer byte of a screen's and of an audio packet.
pub const SCREEN_LAYER: u8 = 7;
pub const AUDIO_LAYER: u8 = 9;

/// What a peer offers.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    pub video_slots: usize,
    pub audio_slots: usize,
    pub screen: bool,
    /// What the microphone's line is said to carry (a page that lies).
    pub microphone_as: MediaSource,
}

impl Default for Offer {
    fn default() -> Self {
        Self { video_slots: 2, audio_slots: 3, screen: false, microphone_as: MediaSource::Microphone }
    }
}

/// One packet received: from whom, which layer, its sequence number,
/// whether it began a keyframe, its temporal layer (VP8 with temporal
/// layers), its payload type and its payload's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Got {
    pub sender: u8,
    pub layer: u8,
    pub seq: u64,
    pub keyframe: bool,
    pub tid: Option<u8>,
    pub pt: u8,
    pub len: usize,
}

/// A stand-in browser.
pub struct Peer {
    pub who: ParticipantId,
    pub address: SocketAddr,
    pub rtc: Rtc,
    microphone: Option<Mid>,
    camera: Option<Mid>,
    screen: Option<Mid>,
    pending: Option<SdpPendingOffer>,
    /// Its microphone's level (dBov) while it sends audio.
    pub level: Option<i8>,
    pub camera_on: bool,
    pub screen_on: bool,
    /// Keyframe requests are answered with a keyframe (a sender that does
    /// not shows whether the server waits for one on its own).
    pub answers_requests: bool,
    /// How many of the camera's layers it sends, lowest first (a browser
    /// short of CPU or bandwidth drops its top ones).
    pub layers_sent: usize,
    /// Each camera layer in three temporal layers, as a browser asked for
    /// `L1T3` sends them (TIDs 0, 2, 1, 2, ...; a keyframe is TID 0).
    pub temporal: bool,
    /// Bytes of picture in each video packet (a real camera's are larger
    /// than the default's, which keeps the tests light).
    pub picture_bytes: usize,
    next_audio: Instant,
    next_video: Instant,
    frame: u32,
    /// Audio packets sent (their own numbering: 50 a second to video's 30).
    sounds: u64,
    key_due: [bool; 3],
    screen_key_due: bool,
    /// What arrived, per receive slot.
    pub got: HashMap<Mid, Vec<Got>>,
    /// Keyframe requests the server sent it.
    pub keyframe_requests: Vec<(Mid, Option<Rid>)>,
    /// Datagrams to send, made while taking in what arrived.
    outbox: Vec<(SocketAddr, Vec<u8>)>,
}

impl Peer {
    /// A peer for participant `who`, at `address`, at time `now`.
    pub fn new(who: ParticipantId, address: SocketAddr, now: Instant) -> Self {
        Self::build(who, address, now, false)
    }

    /// A peer that offers audio redundancy and sends its voice in it, as
    /// Chromium does when RED is negotiated.
    pub fn with_red(who: ParticipantId, address: SocketAddr, now: Instant) -> Self {
        Self::build(who, address, now, true)
    }

    fn build(who: ParticipantId, address: SocketAddr, now: Instant, red: bool) -> Self {
        let mut rtc = RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, red).enable_vp8(true).build(now);
        if let Ok(candidate) = Candidate::host(address, "udp") {
            rtc.add_local_candidate(candidate);
        }
        Self {
            who,
            address,
            rtc,
            microphone: None,
            camera: None,
            screen: None,
            pending: None,
            level: None,
            camera_on: false,
            screen_on: false,
            answers_requests: true,
            layers_sent: RIDS.len(),
            temporal: false,
            picture_bytes: 40,
            next_audio: now,
            next_video: now,
            frame: 0,
            sounds: 0,
            key_due: [true; 3],
            screen_key_due: true,
            got: HashMap::new(),
            keyframe_requests: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Its offer (the SDP and what each send line carries), as `sfu_offer`
    /// says it.
    pub fn offer(&mut self, offer: Offer) -> (String, BTreeMap<String, MediaSource>) {
        let mut change = self.rtc.sdp_api();
        let microphone = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        let mut simulcast = Simulcast::new();
        for rid in RIDS {
            simulcast.add_send_layer(SimulcastLayer::new(rid));
        }
        let camera = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, Some(simulcast));
        let screen = offer.screen.then(|| change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None));
        for _ in 0..offer.video_slots {
            change.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        }
        for _ in 0..offer.audio_slots {
            change.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        }
        let (sdp, pending) = change.apply().expect("an offer with media");
        let mut sources = BTreeMap::from([(microphone.to_string(), offer.microphone_as), (camera.to_string(), MediaSource::Camera)]);
        if let Some(screen) = screen {
            sources.insert(screen.to_string(), MediaSource::Screen);
        }
        (self.microphone, self.camera, self.screen, self.pending) = (Some(microphone), Some(camera), screen, Some(pending));
        (sdp.to_sdp_string(), sources)
    }

    /// The server's answer to the last offer.
    pub fn accept(&mut self, answer: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|e| e.to_string())?;
        let pending = self.pending.take().ok_or("no offer outstanding")?;
        self.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| e.to_string())
    }

    /// A datagram from `from` arrived at `now`. Its packet is taken at
    /// once: str0m holds one received packet for the next poll, so two
    /// datagrams fed without a poll between them lose the first.
    pub fn receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if let Ok(receive) = Receive::new(Protocol::Udp, from, self.address, data) {
            let _ = self.rtc.handle_input(Input::Receive(now, receive));
            let out = self.drain();
            self.outbox.extend(out);
        }
    }

    /// Time passes to `now`: it sends what is due and returns the datagrams
    /// to send (destination, bytes).
    pub fn step(&mut self, now: Instant) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.outbox);
        self.send_media(now);
        let _ = self.rtc.handle_input(Input::Timeout(now));
        out.extend(self.drain());
        out
    }

    /// Packets from `sender` on receive slots of `audio` kind, after `mark`.
    pub fn heard(&self, sender: u64, audio: bool, mark: &HashMap<Mid, usize>) -> usize {
        self.got_from(sender, audio, mark).count()
    }

    /// The packets [`Peer::heard`] counts.
    pub fn got_from<'a>(&'a self, sender: u64, audio: bool, mark: &'a HashMap<Mid, usize>) -> impl Iterator<Item = &'a Got> {
        self.got
            .iter()
            .filter(move |(mid, _)| self.rtc.media(**mid).is_some_and(|m| m.kind().is_audio() == audio))
            .flat_map(|(mid, got)| &got[mark.get(mid).copied().unwrap_or(0).min(got.len())..])
            // A packet names its sender by the id's low byte.
            .filter(move |g| g.sender == sender as u8)
    }

    /// Where each slot's count stands now, for [`Peer::heard`].
    pub fn mark(&self) -> HashMap<Mid, usize> {
        self.got.iter().map(|(mid, got)| (*mid, got.len())).collect()
    }

    fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            match self.rtc.poll_output() {
                Ok(RtcOutput::Timeout(_)) | Err(_) => return out,
                Ok(RtcOutput::Transmit(t)) => out.push((t.destination, t.contents.into())),
                Ok(RtcOutput::Event(Event::RtpPacket(p))) => {
                    let Some(mid) = self.rtc.direct_api().stream_rx(&p.header.ssrc).map(|s| s.mid()) else { continue };
                    let n = p.payload.len();
                    if n < 2 {
                        continue;
                    }
                    let got = Got {
                        sender: p.payload[n - 2],
                        layer: p.payload[n - 1],
                        seq: *p.seq_no,
                        keyframe: super::is_keyframe(&p.payload),
                        tid: super::vp8::temporal(&p.payload).map(|t| t.tid),
                        pt: *p.header.payload_type,
                        len: n,
                    };
                    self.got.entry(mid).or_default().push(got);
                }
                Ok(RtcOutput::Event(Event::KeyframeRequest(r))) => {
                    self.keyframe_requests.push((r.mid, r.rid));
                    if !self.answers_requests {
                        continue;
                    }
                    if Some(r.mid) == self.camera {
                        if let Some(i) = r.rid.and_then(|rid| RIDS.iter().position(|x| *x == &*rid)) {
                            self.key_due[i] = true;
                        }
                    } else if Some(r.mid) == self.screen {
                        self.screen_key_due = true;
                    }
                }
                Ok(RtcOutput::Event(_)) => {}
            }
        }
    }

    /// 50 audio packets a second, 30 frames a second on each video layer.
    fn send_media(&mut self, now: Instant) {
        if !self.rtc.is_connected() {
            return;
        }
        let sender = self.who.0 as u8;
        let pt_of = |rtc: &Rtc, codec: Codec| rtc.codec_config().params().iter().find(|p| p.spec().codec == codec).map(|p| p.pt());
        if let (Some(level), Some(mid), Some(pt)) = (self.level, self.microphone, pt_of(&self.rtc, Codec::Opus)) {
            if now >= self.next_audio {
                self.next_audio = now + Duration::from_millis(20);
                self.sounds += 1;
                let n = self.sounds;
                let sound = vec![1, 2, 3, sender, AUDIO_LAYER];
                // With RED (offered by `with_red` only): one redundant block
                // (the previous packet's sound, 960 samples earlier), then
                // this packet's own.
                let red = self.rtc.codec_config().params().iter().find(|p| p.pt() == pt).and_then(|p| p.red());
                let (pt, payload) = match red {
                    Some(red) => {
                        let block = (960u32 << 10) | sound.len() as u32;
                        let mut wrapped = vec![0x80 | *pt, (block >> 16) as u8, (block >> 8) as u8, block as u8, *pt];
                        wrapped.extend(&sound);
                        wrapped.extend(&sound);
                        (red, wrapped)
                    }
                    None => (pt, sound),
                };
                if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
                    let exts = ExtensionValues { audio_level: Some(level), voice_activity: Some(true), ..Default::default() };
                    stream.write_rtp(RtpWrite::new(pt, n.into(), (n * 960) as u32, now, payload).ext_vals(exts));
                }
            }
        }
        if now < self.next_video {
            return;
        }
        self.next_video = now + Duration::from_millis(33);
        self.frame += 1;
        let Some(pt) = pt_of(&self.rtc, Codec::Vp8) else { return };
        let frame = self.frame;
        let periodic = frame.is_multiple_of(90);
        if let (true, Some(mid)) = (self.camera_on, self.camera) {
            for (i, rid) in RIDS.iter().enumerate().take(self.layers_sent) {
                let key = std::mem::take(&mut self.key_due[i]) || periodic;
                let tid = self.temporal.then(|| if key { 0 } else { [0, 2, 1, 2][frame as usize % 4] });
                let payload = vp8((frame % 0x7fff) as u16, key, HEIGHTS[i], tid, self.picture_bytes, sender, i as u8);
                if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, Some(Rid::from(*rid))) {
                    stream.write_rtp(RtpWrite::new(pt, u64::from(frame).into(), frame * 3000, now, payload).marker(true).nackable(true));
                }
            }
        }
        if let (true, Some(mid)) = (self.screen_on, self.screen) {
            let key = std::mem::take(&mut self.screen_key_due) || periodic;
            let payload = vp8((frame % 0x7fff) as u16, key, 720, None, self.picture_bytes, sender, SCREEN_LAYER);
            if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
                stream.write_rtp(RtpWrite::new(pt, u64::from(frame).into(), frame * 3000, now, payload).marker(true).nackable(true));
            }
        }
    }
}

/// A VP8 packet holding one whole frame (RFC 7741 descriptor with a 15-bit
/// picture id and, given `tid`, a temporal layer; a keyframe's header
/// declares its size; `bytes` of picture), marked with the sender and
/// layer in its last two bytes.
fn vp8(picture_id: u16, key: bool, height: u16, tid: Option<u8>, bytes: usize, sender: u8, layer: u8) -> Vec<u8> {
    let extension = if tid.is_some() { 0xa0 } else { 0x80 };
    let mut p = vec![0x90, extension, 0x80 | ((picture_id >> 8) as u8 & 0x7f), picture_id as u8];
    if let Some(tid) = tid {
        // TID, and Y: it depends only on the base layer's last picture.
        p.push(tid << 6 | 0x20);
    }
    if key {
        p.extend([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
        p.extend((height * 16 / 9).to_le_bytes());
        p.extend(height.to_le_bytes());
    } else {
        p.extend([0x01, 0x00, 0x00]);
    }
    p.resize(p.len() + bytes, 0);
    p.extend([sender, layer]);
    p
}

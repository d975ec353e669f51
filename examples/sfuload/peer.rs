//! One load peer: a str0m connection over its own UDP port that publishes
//! synthetic media the size a browser's is, and measures what it receives.
//!
//! What it sends, per second: Opus-sized audio every 20 ms (80 bytes), and
//! a camera in three simulcast layers at 30 frames a second (`q` 180p at
//! 150 kbit/s, `h` 360p at 500 kbit/s, `f` 720p at 1.2 Mbit/s), cut into
//! packets of at most 1,100 bytes, with a keyframe five times a frame's size
//! every 3 s and whenever one is asked for. Every packet ends with a stamp:
//! when it was written (microseconds since the run began), its sender, its
//! layer and its number within that layer, so a receiver measures the delay
//! the server added and what it lost, whichever slot carried it.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use str0m::format::Codec;
use str0m::media::{Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;

/// The camera's layers, lowest first: rid, picture height, bits per second.
pub const LAYERS: [(&str, u16, u32); 3] = [("q", 180, 150_000), ("h", 360, 500_000), ("f", 720, 1_200_000)];
/// The audio "layer" in a stamp.
const AUDIO: u8 = 9;
const STAMP: usize = 15;
const MAX_PAYLOAD: usize = 1_100;
const FRAME: Duration = Duration::from_micros(33_333);
const AUDIO_EVERY: Duration = Duration::from_millis(20);
/// Frames between periodic keyframes (3 s at 30 fps).
const KEYFRAME_EVERY: u32 = 90;

/// What a peer measured while the window was open.
#[derive(Debug, Default)]
pub struct Received {
    pub packets: u64,
    pub audio_packets: u64,
    pub bytes: u64,
    /// Packets missing between two received from the same sender and layer
    /// on the same slot.
    pub lost: u64,
    /// Added delay of each packet, microseconds.
    pub delays_us: Vec<u32>,
}

impl Received {
    pub fn merge(&mut self, other: Received) {
        self.packets += other.packets;
        self.audio_packets += other.audio_packets;
        self.bytes += other.bytes;
        self.lost += other.lost;
        self.delays_us.extend(other.delays_us);
    }
}

/// When a run measures: shared by all its peers, set once all are in.
pub type Window = Rc<Cell<(Instant, Instant)>>;

/// For timing a change (a class moved into groups): from when, and the
/// first and last picture each peer got from each sender since, by
/// (receiver, sender).
#[derive(Clone, Default)]
pub struct Firsts {
    pub since: Rc<Cell<Option<Instant>>>,
    pub seen: Rc<std::cell::RefCell<Seen>>,
}

/// A real VP8 recording of one layer (an IVF file, as `vpxenc` writes
/// it): each frame's bytes and whether it is a keyframe. Sent instead of
/// synthetic pictures when a browser is to decode them (`--pictures`).
pub struct Clip {
    frames: Vec<(bool, Vec<u8>)>,
}

impl Clip {
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if bytes.get(..4) != Some(b"DKIF") {
            return Err(format!("{} is not an IVF file", path.display()));
        }
        let header = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        let mut frames = Vec::new();
        let mut at = header;
        while at + 12 <= bytes.len() {
            let size = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default()) as usize;
            let Some(frame) = bytes.get(at + 12..at + 12 + size) else { break };
            // A VP8 frame tag's lowest bit is 0 for a keyframe (RFC 6386).
            frames.push((frame.first().is_some_and(|b| b & 1 == 0), frame.to_vec()));
            at += 12 + size;
        }
        if !frames.first().is_some_and(|f| f.0) {
            return Err(format!("{} does not start with a keyframe", path.display()));
        }
        Ok(Self { frames })
    }
}

/// First and last picture, by (receiver, sender).
pub type Seen = HashMap<(u16, u16), (Instant, Instant)>;

/// A load peer.
pub struct Peer {
    pub rtc: Rtc,
    pub socket: UdpSocket,
    local: SocketAddr,
    epoch: Instant,
    /// Its number in stamps.
    pub sender: u16,
    /// Its microphone's line and level (dBov), when it sends sound.
    pub microphone: Option<(Mid, i8)>,
    /// Its camera's line, when it sends pictures.
    pub camera: Option<Mid>,
    /// Whether the camera's layers are sent as rid streams (simulcast) or
    /// the top layer alone on a plain line.
    pub simulcast: bool,
    next_audio: Instant,
    next_video: Instant,
    frame: u32,
    key_due: [bool; 3],
    /// Next RTP sequence number per layer (3: audio).
    seq: [u64; 4],
    /// When measuring starts and ends (set once everyone is in; the
    /// connection runs until its end).
    window: Window,
    last: HashMap<Mid, (u16, u8, u32)>,
    pub received: Received,
    /// Packets and losses per (sender, layer), kept only with
    /// `SFULOAD_DEBUG` (printed at the end).
    by_layer: Option<std::collections::BTreeMap<(u16, u8), (u64, u64)>>,
    pub keyframe_requests: u64,
    /// Where to note first pictures, when a change is timed.
    pub firsts: Option<Firsts>,
    /// Real pictures for a browser, per layer, and where each layer is in
    /// its clip.
    pub clips: Option<Rc<[Clip; 3]>>,
    clip_at: [usize; 3],
}

impl Peer {
    /// A peer on a fresh UDP port of `ip`.
    pub async fn bind(ip: std::net::IpAddr, sender: u16, epoch: Instant, window: Window) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        // Default buffers drop packets in bursts (a keyframe, a tick's
        // worth of audio) at these rates even on one machine.
        huddle::server::media::raise_buffers(&socket, 2 * 1024 * 1024);
        let local = socket.local_addr()?;
        let now = Instant::now();
        let mut rtc = RtcConfig::new().set_rtp_mode(true).clear_codecs().enable_opus(true, false).enable_vp8(true).build(now);
        if let Ok(candidate) = Candidate::host(local, "udp") {
            rtc.add_local_candidate(candidate);
        }
        Ok(Self {
            rtc,
            socket,
            local,
            epoch,
            sender,
            microphone: None,
            camera: None,
            simulcast: true,
            next_audio: now,
            next_video: now,
            frame: 0,
            key_due: [true; 3],
            seq: [1; 4],
            window,
            last: HashMap::new(),
            received: Received::default(),
            by_layer: std::env::var_os("SFULOAD_DEBUG").map(|_| Default::default()),
            keyframe_requests: 0,
            firsts: None,
            clips: None,
            clip_at: [usize::from(sender) * 7; 3],
        })
    }

    /// The earliest time it has something to do.
    fn media_due(&self) -> Option<Instant> {
        let audio = self.microphone.map(|_| self.next_audio);
        let video = self.camera.map(|_| self.next_video);
        audio.into_iter().chain(video).min()
    }

    /// Runs the connection until the window closes, sending media once
    /// connected; returns what it measured.
    pub async fn run(mut self) -> Received {
        let mut buf = vec![0u8; 2_000];
        loop {
            let timeout = self.drain();
            let until = self.window.get().1;
            let now = Instant::now();
            if now >= until {
                if let Some(by_layer) = &self.by_layer {
                    eprintln!("peer {}: {by_layer:?} lost {} keyframe requests {}", self.sender, self.received.lost, self.keyframe_requests);
                }
                return self.received;
            }
            let wake = [Some(timeout), self.media_due(), Some(until)].into_iter().flatten().min().unwrap_or(until).max(now);
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    // Each datagram's output is taken before the next goes
                    // in, as str0m asks: then whatever else is queued.
                    if let Ok((n, from)) = received {
                        self.input(from, &buf[..n]);
                        for _ in 0..32 {
                            self.drain();
                            match self.socket.try_recv_from(&mut buf) {
                                Ok((n, from)) => self.input(from, &buf[..n]),
                                Err(_) => break,
                            }
                        }
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    self.send_media(now);
                    let _ = self.rtc.handle_input(Input::Timeout(now));
                }
            }
        }
    }

    fn input(&mut self, from: SocketAddr, data: &[u8]) {
        if let Ok(receive) = Receive::new(Protocol::Udp, from, self.local, data) {
            let _ = self.rtc.handle_input(Input::Receive(Instant::now(), receive));
        }
    }

    /// Carries out the connection's output; returns when it next wants time.
    fn drain(&mut self) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return t,
                Err(_) => return Instant::now() + Duration::from_millis(10),
                Ok(Output::Transmit(t)) => {
                    // A full buffer drops the datagram, as a network would.
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::RtpPacket(p))) => {
                    let now = Instant::now();
                    if let (Some(firsts), Some(s)) = (&self.firsts, p.payload.len().checked_sub(STAMP).map(|at| &p.payload[at..])) {
                        if firsts.since.get().is_some_and(|since| now >= since) && s[10] != AUDIO {
                            firsts.seen.borrow_mut().entry((self.sender, u16::from_be_bytes([s[8], s[9]]))).or_insert((now, now)).1 = now;
                        }
                    }
                    let (from, until) = self.window.get();
                    if now < from || now >= until || p.payload.len() < STAMP {
                        continue;
                    }
                    let Some(mid) = self.rtc.direct_api().stream_rx(&p.header.ssrc).map(|s| s.mid()) else { continue };
                    let s = &p.payload[p.payload.len() - STAMP..];
                    let sent = u64::from_be_bytes(s[..8].try_into().unwrap_or_default());
                    let sender = u16::from_be_bytes([s[8], s[9]]);
                    let layer = s[10];
                    let number = u32::from_be_bytes([s[11], s[12], s[13], s[14]]);
                    let at = now.duration_since(self.epoch).as_micros() as u64;
                    self.received.delays_us.push(at.saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
                    self.received.packets += 1;
                    self.received.bytes += p.payload.len() as u64;
                    if layer == AUDIO {
                        self.received.audio_packets += 1;
                    }
                    let mut lost = 0;
                    if let Some((last_sender, last_layer, last_number)) = self.last.insert(mid, (sender, layer, number)) {
                        if (last_sender, last_layer) == (sender, layer) && number > last_number + 1 {
                            lost = u64::from(number - last_number - 1);
                        }
                    }
                    self.received.lost += lost;
                    if let Some(entry) = self.by_layer.as_mut().map(|m| m.entry((sender, layer)).or_default()) {
                        entry.0 += 1;
                        entry.1 += lost;
                    }
                }
                Ok(Output::Event(Event::KeyframeRequest(r))) => {
                    self.keyframe_requests += 1;
                    if Some(r.mid) == self.camera {
                        let i = r.rid.and_then(|rid| LAYERS.iter().position(|l| l.0 == &*rid)).unwrap_or(LAYERS.len() - 1);
                        self.key_due[i] = true;
                    }
                }
                Ok(Output::Event(_)) => {}
            }
        }
    }

    fn stamp(&self, now: Instant, layer: u8, number: u64) -> [u8; STAMP] {
        let mut s = [0u8; STAMP];
        s[..8].copy_from_slice(&(now.duration_since(self.epoch).as_micros() as u64).to_be_bytes());
        s[8..10].copy_from_slice(&self.sender.to_be_bytes());
        s[10] = layer;
        s[11..].copy_from_slice(&(number as u32).to_be_bytes());
        s
    }

    fn send_media(&mut self, now: Instant) {
        if !self.rtc.is_connected() {
            return;
        }
        let pt_of = |rtc: &Rtc, codec: Codec| rtc.codec_config().params().iter().find(|p| p.spec().codec == codec).map(|p| p.pt());
        if let (Some((mid, level)), Some(pt)) = (self.microphone, pt_of(&self.rtc, Codec::Opus)) {
            while now >= self.next_audio {
                self.next_audio += AUDIO_EVERY;
                let n = self.seq[3];
                self.seq[3] += 1;
                let mut payload = vec![0x78u8; 80 - STAMP];
                payload.extend(self.stamp(now, AUDIO, n));
                if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, None) {
                    let exts = ExtensionValues { audio_level: Some(level), voice_activity: Some(level > -40), ..Default::default() };
                    stream.write_rtp(RtpWrite::new(pt, n.into(), (n * 960) as u32, now, payload).ext_vals(exts));
                }
            }
        }
        let (Some(mid), Some(pt)) = (self.camera, pt_of(&self.rtc, Codec::Vp8)) else { return };
        if now < self.next_video {
            return;
        }
        self.next_video += FRAME;
        if self.next_video < now {
            self.next_video = now + FRAME;
        }
        self.frame += 1;
        let frame = self.frame;
        let simulcast = self.simulcast;
        if let Some(clips) = self.clips.clone() {
            for (i, clip) in clips.iter().enumerate() {
                self.replay(i, clip, mid, pt, now);
            }
            return;
        }
        for (i, (rid, height, bps)) in LAYERS.iter().enumerate() {
            if !simulcast && i + 1 < LAYERS.len() {
                continue;
            }
            let key = std::mem::take(&mut self.key_due[i]) || frame.is_multiple_of(KEYFRAME_EVERY);
            let size = (*bps as usize / 8 / 30) * if key { 5 } else { 1 };
            let chunks = size.div_ceil(MAX_PAYLOAD).max(1);
            for c in 0..chunks {
                let n = self.seq[i];
                self.seq[i] += 1;
                let mut p = vp8_descriptor(frame, c == 0);
                if c == 0 {
                    if key {
                        p.extend([0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
                        p.extend((height * 16 / 9).to_le_bytes());
                        p.extend(height.to_le_bytes());
                    } else {
                        p.extend([0x01, 0x00, 0x00]);
                    }
                }
                let body = (size / chunks).saturating_sub(p.len() + STAMP).max(1);
                p.resize(p.len() + body, 0x5a);
                p.extend(self.stamp(now, i as u8, n));
                let rid = simulcast.then(|| Rid::from(*rid));
                if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, rid) {
                    let last = c + 1 == chunks;
                    stream.write_rtp(RtpWrite::new(pt, n.into(), frame.wrapping_mul(3000), now, p).marker(last).nackable(true));
                }
            }
        }
    }
}

impl Peer {
    /// Sends layer `i`'s next frame of its clip, unstamped (a browser
    /// decodes it); from the next keyframe when one was asked for.
    fn replay(&mut self, i: usize, clip: &Clip, mid: Mid, pt: str0m::media::Pt, now: Instant) {
        let count = clip.frames.len();
        let mut at = self.clip_at[i] % count;
        if std::mem::take(&mut self.key_due[i]) {
            at = (at..count).find(|&f| clip.frames[f].0).unwrap_or(0);
        }
        self.clip_at[i] = at + 1;
        let frame = &clip.frames[at].1;
        let picture = self.frame;
        let chunks: Vec<&[u8]> = frame.chunks(MAX_PAYLOAD).collect();
        for (c, chunk) in chunks.iter().enumerate() {
            let n = self.seq[i];
            self.seq[i] += 1;
            let mut p = vp8_descriptor(picture, c == 0);
            p.extend_from_slice(chunk);
            if let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(mid, Some(Rid::from(LAYERS[i].0))) {
                stream.write_rtp(RtpWrite::new(pt, n.into(), picture.wrapping_mul(3000), now, p).marker(c + 1 == chunks.len()).nackable(true));
            }
        }
    }
}

/// An RFC 7741 descriptor with a 15-bit picture id; `start` marks the
/// first packet of a frame.
fn vp8_descriptor(frame: u32, start: bool) -> Vec<u8> {
    let picture_id = (frame % 0x7fff) as u16;
    vec![if start { 0x90 } else { 0x80 }, 0x80, 0x80 | ((picture_id >> 8) as u8 & 0x7f), picture_id as u8]
}

//! What the media server holds for each participant: the streams they
//! send (with their simulcast layers), the receive slots of their
//! connection, and the connection itself with its grant.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::media::{Mid, Pt, Rid};
use str0m::{IceCreds, Rtc};

use super::layers::Layer;
use super::rebase::Rebase;
use super::speakers::Voice;
use crate::call::protocol::{MediaSource, ParticipantId, VideoWant};
use crate::call::RoomId;

/// The height a slot is assumed to be shown at until the browser says.
pub(super) const DEFAULT_VIEW_HEIGHT: u32 = 360;
/// A sender's stream that has sent nothing for this long is not forwarded
/// to a new slot (its camera is off).
pub(super) const STALE: Duration = Duration::from_millis(1_500);
/// How long a layer may take to start sending after it is switched on (or
/// its track starts) before it counts as one the browser dropped.
const LAYER_START: Duration = Duration::from_secs(2);

/// What one participant's media may do, as the hub decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub room: RoomId,
    pub host: bool,
    /// Their voice is forwarded (the host; a guest allowed to speak and not
    /// muted since).
    pub audio: bool,
    /// Their screen is forwarded (its sound only with `audio` too).
    pub screen: bool,
    /// What they say they send, for choosing whom to show.
    pub camera_on: bool,
    pub screen_on: bool,
}

/// One stream a participant sends, as its offer labelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Feed {
    pub(super) who: ParticipantId,
    pub(super) source: MediaSource,
}

/// One simulcast layer of a sent stream (or the only one).
#[derive(Debug, Default)]
pub(super) struct LayerState {
    /// Picture height, from its last keyframe.
    pub(super) height: u32,
    /// Bits per second over the last whole second.
    pub(super) bitrate: u64,
    pub(super) bytes: u64,
    pub(super) since: Option<Instant>,
    pub(super) last_packet: Option<Instant>,
}

/// One of a participant's send lines.
#[derive(Debug)]
pub(super) struct Track {
    pub(super) mid: Mid,
    pub(super) source: MediaSource,
    /// Its simulcast layers, lowest first (`None`: no simulcast).
    pub(super) rids: Vec<Option<Rid>>,
    pub(super) layers: HashMap<Option<Rid>, LayerState>,
    pub(super) voice: Voice,
    /// The layers last told to the browser as wanted, and since when each
    /// unwanted one has been unwanted.
    pub(super) told: Option<Vec<Rid>>,
    pub(super) unwanted_since: HashMap<Rid, Instant>,
    /// When the track first sent, and when each layer was last switched
    /// back on: a layer gets `LAYER_START` to begin sending.
    pub(super) started: Option<Instant>,
    pub(super) enabled_at: HashMap<Rid, Instant>,
}

impl Track {
    pub(super) fn fresh(&self, now: Instant) -> bool {
        self.layers.values().any(|l| l.last_packet.is_some_and(|at| now.saturating_duration_since(at) < STALE))
    }

    /// Whether layer `rid` can be forwarded: it sends, or it was switched
    /// off here (and comes back when asked), or it is just starting. A layer
    /// the browser stopped on its own (Chromium drops its top layer when
    /// its CPU or link cannot keep up) cannot, until it sends again.
    pub(super) fn available(&self, rid: &Option<Rid>, now: Instant) -> bool {
        let recent = |at: Option<&Instant>| at.is_some_and(|at| now.saturating_duration_since(*at) < LAYER_START);
        let fresh = self.layers.get(rid).and_then(|l| l.last_packet).is_some_and(|at| now.saturating_duration_since(at) < STALE);
        let Some(rid) = rid else { return true };
        let switched_off = self.told.as_ref().is_some_and(|told| !told.contains(rid));
        fresh || switched_off || self.started.is_none() || recent(self.started.as_ref()) || recent(self.enabled_at.get(rid))
    }

    /// The layers that can be forwarded now, lowest first, with their rids.
    pub(super) fn layer_list(&self, now: Instant) -> (Vec<Layer>, Vec<Option<Rid>>) {
        self.rids
            .iter()
            .filter(|rid| self.available(rid, now))
            .map(|rid| (self.layers.get(rid).map_or(Layer { height: 0, bitrate: 0 }, |l| Layer { height: l.height, bitrate: l.bitrate }), *rid))
            .unzip()
    }
}

/// One receive slot of a participant's connection.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) mid: Mid,
    /// What it carries, as the receiver was told.
    pub(super) feed: Option<Feed>,
    /// The layer being forwarded now, and the one wanted (switched to at
    /// its next keyframe).
    pub(super) current: Option<Option<Rid>>,
    pub(super) target: Option<Option<Rid>>,
    /// The device-pixel height it is shown at (0: hidden).
    pub(super) height: u32,
    pub(super) rebase: Rebase,
    /// The receiver's payload type for the sender's (by codec).
    pub(super) pts: HashMap<Pt, Pt>,
    /// When a keyframe was last asked for on its behalf while waiting.
    pub(super) asked_at: Option<Instant>,
}

impl Slot {
    pub(super) fn new(mid: Mid) -> Self {
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
pub(super) struct Client {
    pub(super) grant: Grant,
    /// Order of arrival, for choosing whom to show.
    pub(super) order: u64,
    pub(super) rtc: Option<Rtc>,
    pub(super) creds: IceCreds,
    /// Addresses their packets came from.
    pub(super) addresses: HashSet<SocketAddr>,
    pub(super) deadline: Option<Instant>,
    pub(super) sends: Vec<Track>,
    pub(super) video: Vec<Slot>,
    pub(super) audio: Vec<Slot>,
    /// What their page shows, if it said.
    pub(super) want: Option<Vec<VideoWant>>,
    /// The server's estimate of their link (bits per second).
    pub(super) estimate: Option<u64>,
    /// What their link was last asked to carry, `(minimum, desired)` in
    /// bits per second (`layers::demand`).
    pub(super) asked: Option<(u64, u64)>,
    /// The sources they labelled, by mid, from their last offer.
    pub(super) sources: BTreeMap<String, MediaSource>,
    /// The server's ICE usernames its answers gave (a restart gives new ones).
    pub(super) ufrags: Vec<String>,
    /// Waiting in the settle loop's queue (`Sfu::touch`).
    pub(super) queued: bool,
}

impl Client {
    /// Asks their connection to pad up to `minimum` and probe towards
    /// `desired` (bits per second), when either moved by a tenth or more
    /// since last asked (layer rates move a little every second, and each
    /// new request may start a probe). `true` when asked.
    pub(super) fn ask_link(&mut self, minimum: u64, desired: u64) -> bool {
        let moved = |old: u64, new: u64| old.abs_diff(new) * 10 >= old.max(1);
        if self.asked.is_some_and(|(m, d)| !moved(m, minimum) && !moved(d, desired)) {
            return false;
        }
        let Some(rtc) = self.rtc.as_mut() else { return false };
        self.asked = Some((minimum, desired));
        rtc.bwe().set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
        true
    }

    pub(super) fn track(&self, source: MediaSource) -> Option<&Track> {
        self.sends.iter().find(|t| t.source == source)
    }

    /// Whether a screen of theirs is being shared now: they say so, and its
    /// pictures have arrived (not necessarily lately: a still screen sends
    /// few).
    fn shares_screen(&self) -> bool {
        self.grant.screen_on && self.track(MediaSource::Screen).is_some_and(|t| t.started.is_some())
    }

    /// Whether their `source` may reach anyone: the call's rules, enforced
    /// here, whatever the browser sends.
    pub(super) fn forwards(&self, source: MediaSource) -> bool {
        match source {
            MediaSource::Microphone => self.grant.audio,
            MediaSource::Camera => true,
            MediaSource::Screen => self.grant.screen,
            // A screen's sound is a voice: heard only from someone who may
            // be heard, and only while their screen is shared (a pupil
            // once relabelled their microphone as screen sound to be heard
            // without leave to speak).
            MediaSource::ScreenAudio => self.grant.screen && self.grant.audio && self.shares_screen(),
        }
    }
}

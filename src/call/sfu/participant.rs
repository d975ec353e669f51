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
/// A layer switched back on that did not start (the browser keeps it off
/// for its CPU or its link) is not asked for again before this long: else
/// a slot's layer swings between it and the one below every few seconds,
/// with a keyframe each time.
const LAYER_RETRY: Duration = Duration::from_secs(30);

/// What one participant's media may do, as the hub decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub room: RoomId,
    /// Their breakout group while the call is split: they see and hear
    /// only its members (`None`: the main room).
    pub group: Option<u8>,
    /// Their voice is heard in every group (a host speaking to all).
    pub everywhere: bool,
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
    /// Bytes this second by temporal layer, and bits per second over the
    /// last whole second of the temporal layers up to each (empty: the
    /// sender uses none).
    pub(super) tid_bytes: [u64; 3],
    pub(super) temporal: Vec<u64>,
}

impl LayerState {
    /// Counts one packet of `bytes` (of temporal layer `tid`, if it has
    /// one) at `now`, closing the second when one has passed.
    pub(super) fn count(&mut self, bytes: u64, tid: Option<u8>, now: Instant) {
        self.last_packet = Some(now);
        self.bytes += bytes;
        if let Some(tid) = tid {
            self.tid_bytes[usize::from(tid.min(2))] += bytes;
        }
        let since = *self.since.get_or_insert(now);
        let elapsed = now.saturating_duration_since(since).as_millis() as u64;
        if elapsed >= 1000 {
            let rate = |bytes: u64| bytes * 8 * 1000 / elapsed;
            self.bitrate = rate(self.bytes);
            let seen = self.tid_bytes.iter().rposition(|&b| b > 0).map_or(0, |t| t + 1);
            self.temporal = (0..seen).map(|t| rate(self.tid_bytes[..=t].iter().sum())).collect();
            self.bytes = 0;
            self.tid_bytes = [0; 3];
            self.since = Some(now);
        }
    }
}

/// What a slot forwards of a sender's stream: a simulcast layer (`None`:
/// the only one), and its temporal layers up to `tid` (`None`: all).
pub(super) type Pick = (Option<Rid>, Option<u8>);

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
    /// A send line as an offer labels it, before anything arrives on it.
    pub(super) fn new(mid: Mid, source: MediaSource, rids: Vec<Option<Rid>>) -> Self {
        Self {
            mid,
            source,
            rids,
            layers: HashMap::new(),
            voice: Voice::default(),
            told: None,
            unwanted_since: HashMap::new(),
            started: None,
            enabled_at: HashMap::new(),
        }
    }

    pub(super) fn fresh(&self, now: Instant) -> bool {
        self.layers.values().any(|l| l.last_packet.is_some_and(|at| now.saturating_duration_since(at) < STALE))
    }

    /// Whether layer `rid` sends now.
    fn sends(&self, rid: &Option<Rid>, now: Instant) -> bool {
        self.layers.get(rid).and_then(|l| l.last_packet).is_some_and(|at| now.saturating_duration_since(at) < STALE)
    }

    /// The layers that send now, lowest first.
    pub(super) fn flowing(&self, now: Instant) -> Vec<Option<Rid>> {
        self.rids.iter().filter(|rid| self.sends(rid, now)).copied().collect()
    }

    /// Whether layer `rid` can be forwarded: it sends, or it was switched
    /// off here (and comes back when asked), or it is just starting. A layer
    /// the browser stopped on its own (Chromium drops its top layer when
    /// its CPU or link cannot keep up) cannot, until it sends again.
    pub(super) fn available(&self, rid: &Option<Rid>, now: Instant) -> bool {
        let recent = |at: Option<&Instant>| at.is_some_and(|at| now.saturating_duration_since(*at) < LAYER_START);
        let fresh = self.sends(rid, now);
        let Some(rid) = rid else { return true };
        let switched_off = self.told.as_ref().is_some_and(|told| !told.contains(rid));
        let last_packet = self.layers.get(&Some(*rid)).and_then(|l| l.last_packet);
        let failed = self.enabled_at.get(rid).is_some_and(|&at| {
            let since = now.saturating_duration_since(at);
            since >= LAYER_START && since < LAYER_RETRY && last_packet.is_none_or(|p| p < at)
        });
        fresh || (switched_off && !failed) || self.started.is_none() || recent(self.started.as_ref()) || recent(self.enabled_at.get(rid))
    }

    /// The layers that can be forwarded now, lowest first, with what a
    /// slot forwards of each: below the lowest, its lower temporal layers
    /// alone (a lower frame rate) when it has them.
    pub(super) fn layer_list(&self, now: Instant) -> (Vec<Layer>, Vec<Pick>) {
        let mut list: Vec<(Layer, Pick)> = Vec::new();
        for rid in self.rids.iter().filter(|rid| self.available(rid, now)) {
            let state = self.layers.get(rid);
            let height = state.map_or(0, |l| l.height);
            if list.is_empty() {
                let temporal = state.map_or(&[][..], |l| &l.temporal[..]);
                for (tid, &bitrate) in temporal.iter().enumerate().take(temporal.len().saturating_sub(1)) {
                    list.push((Layer { height, bitrate, tid: Some(tid as u8) }, (*rid, Some(tid as u8))));
                }
            }
            // A layer not measured yet (switched off before it ever sent)
            // costs at least twice the one below: it is not free to ask for.
            let below = list.last().map_or(0, |(l, _)| l.bitrate);
            let bitrate = match state.map_or(0, |l| l.bitrate) {
                0 => 2 * below,
                measured => measured,
            };
            list.push((Layer { height, bitrate, tid: None }, (*rid, None)));
        }
        list.into_iter().unzip()
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
    /// While nothing shows yet: a lower layer that sends now, shown from
    /// its keyframe until the target's comes (a layer switched back on, or
    /// one the browser never starts, can take seconds or never come).
    pub(super) start: Option<Option<Rid>>,
    /// The highest temporal layer forwarded now (`None`: all), and the one
    /// wanted (taken up at the next picture of the base layer).
    pub(super) tid: Option<u8>,
    pub(super) tid_target: Option<u8>,
    /// The device-pixel height it is shown at (0: hidden).
    pub(super) height: u32,
    pub(super) rebase: Rebase,
    /// The receiver's payload type for the sender's (by codec), and
    /// whether the payload must be unwrapped from its redundancy first
    /// (RED the receiver did not agree to).
    pub(super) pts: HashMap<Pt, (Pt, bool)>,
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
            start: None,
            tid: None,
            tid_target: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(rids: &[&str]) -> Track {
        Track::new(Mid::from("1"), MediaSource::Camera, rids.iter().map(|r| Some(Rid::from(*r))).collect())
    }

    /// A second of a layer: `per_tid` bytes of each temporal layer, in
    /// packets 100 ms apart from `at`, closed by an empty one at `at` + 1 s.
    fn a_second(state: &mut LayerState, per_tid: &[u64], at: Instant) {
        for tenth in 0..10u32 {
            for (tid, &bytes) in per_tid.iter().enumerate() {
                state.count(bytes / 10, Some(tid as u8), at + Duration::from_millis(100) * tenth);
            }
        }
        state.count(0, Some(0), at + Duration::from_secs(1));
    }

    #[test]
    fn a_layer_with_temporal_layers_offers_lower_frame_rates_below_it() {
        let t = Instant::now();
        let mut track = camera(&["q", "h"]);
        let q = Rid::from("q");
        let h = Rid::from("h");
        a_second(track.layers.entry(Some(q)).or_default(), &[5_000, 2_500, 5_000], t);
        track.layers.get_mut(&Some(q)).unwrap().height = 120;
        let (layers, picks) = track.layer_list(t + Duration::from_secs(1));
        let rates: Vec<(u64, Option<u8>)> = layers.iter().map(|l| (l.bitrate / 1000, l.tid)).collect();
        assert_eq!(rates[..3], [(40, Some(0)), (60, Some(1)), (100, None)], "T0, T0+T1, everything: {rates:?}");
        assert_eq!(layers[3].bitrate, 2 * layers[2].bitrate, "a layer not measured yet costs twice the one below");
        assert_eq!(picks, vec![(Some(q), Some(0)), (Some(q), Some(1)), (Some(q), None), (Some(h), None)]);
        assert!(layers[..3].iter().all(|l| l.height == 120));
    }

    #[test]
    fn a_layer_switched_on_that_never_started_is_not_offered_again_for_a_while() {
        let t = Instant::now();
        let mut track = camera(&["q", "f"]);
        let (q, f) = (Rid::from("q"), Rid::from("f"));
        track.started = Some(t);
        let keep_q_sending = |track: &mut Track, at: Instant| track.layers.entry(Some(q)).or_default().count(100, None, at);
        // Switched off, then on again at 10 s; it never sends.
        track.told = Some(vec![q]);
        keep_q_sending(&mut track, t + Duration::from_secs(9));
        assert!(track.available(&Some(f), t + Duration::from_secs(9)), "switched off here: comes back when asked");
        track.told = Some(vec![q, f]);
        track.enabled_at.insert(f, t + Duration::from_secs(10));
        assert!(track.available(&Some(f), t + Duration::from_secs(11)), "starting");
        assert!(!track.available(&Some(f), t + Duration::from_secs(13)), "did not start");
        track.told = Some(vec![q]);
        assert!(!track.available(&Some(f), t + Duration::from_secs(20)), "switched off again, still not asked for");
        assert!(track.available(&Some(f), t + Duration::from_secs(10) + LAYER_RETRY), "tried again later");
    }
}

//! Which simulcast layer each receiver gets, and when to ask a sender for a
//! keyframe. Pure rules, after LiveKit's: the smallest layer at least 0.9 ×
//! as tall as the tile the receiver shows it in, the top layer if none is;
//! then, while the chosen layers need more than the receiver's link carries,
//! the least important slot steps down first, and a slot that cannot carry
//! even the lowest layer is paused (its tile shows the person's initials),
//! never sent more than the link takes.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// One layer a sender offers, lowest first: a simulcast layer, or below
/// the lowest one, that layer at a lower frame rate (its lower temporal
/// layers only), for a link too weak for its every picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Its picture height in pixels (0 when not yet known).
    pub height: u32,
    /// What it sends, in bits per second, over the last second.
    pub bitrate: u64,
    /// `Some(t)`: only temporal layers up to `t` (a lower frame rate);
    /// `None`: every picture.
    pub tid: Option<u8>,
}

/// The layer (index into `layers`, lowest first) for a tile `want` device
/// pixels tall, at its full frame rate; `None` for a hidden tile.
pub fn for_height(layers: &[Layer], want: u32) -> Option<usize> {
    let full: Vec<(usize, &Layer)> = layers.iter().enumerate().filter(|(_, l)| l.tid.is_none()).collect();
    if want == 0 || full.is_empty() {
        return None;
    }
    let known = full.iter().all(|(_, l)| l.height > 0);
    let chosen = if known {
        full.iter().position(|(_, l)| l.height * 10 >= want * 9)
    } else {
        // Before the first keyframe says how tall each layer is: by the
        // browsers' usual scale (a quarter, a half, full) of a 720p camera.
        let guess = [180u32, 360, 720];
        guess.iter().take(full.len()).position(|&h| h * 10 >= want * 9)
    };
    Some(full[chosen.unwrap_or(full.len() - 1)].0)
}

/// Fits `chosen` (one entry per slot, most important first: a layer index
/// into that slot's `layers`) into `budget` bits per second, stepping the
/// least important slots down first and pausing (None) those that cannot
/// fit even their lowest layer. The most important keeps its lowest layer
/// whatever the budget: a link whose estimate fell (a network blip) is only
/// measured again while something flows on it.
pub fn fit(chosen: &mut [Option<usize>], layers: &[&[Layer]], budget: u64) {
    while cost(chosen, layers) > budget {
        // The least important slot that can still step down.
        let Some(slot) = (0..chosen.len()).rev().find(|&i| chosen[i].is_some_and(|c| c > 0)) else {
            // All at their lowest: pause from the least important up.
            match (0..chosen.len()).rev().find(|&i| chosen[i].is_some()) {
                Some(i) if i > 0 => chosen[i] = None,
                _ => return,
            }
            continue;
        };
        chosen[slot] = chosen[slot].map(|c| c - 1);
    }
}

/// How far above what its slots need a receiver's link is probed. The
/// connection paces what it sends at its estimate of the link, and the
/// estimate grows only as far as it is probed: probed to just what the
/// pictures need, a keyframe (five frames' worth) queued behind the pacer
/// for tens of milliseconds (sfuload's lecture: p99 added latency 77 ms at
/// 1x, 5 ms at 3x; Chromium paces at 2.5x its estimate). A link that cannot
/// carry it says so, and the estimate stays where the link is.
pub const HEADROOM: u64 = 3;

/// What a receiver's link is asked to carry, in bits per second, as
/// `(minimum, desired)`, with the slots most important first and `voices`
/// (the sound it hears) on top of both: `desired` [`HEADROOM`] times every
/// slot at the layer its tile wants (`wanted`); `minimum`, while some slot is below that,
/// what the link carries now (`fitted`) and the next step up (the most
/// important slot below its wanted layer, one layer higher), and nothing
/// once all fit (no padding on a link that has all it wants). The
/// connection probes towards `desired` and pads up to `minimum`: without
/// them a link whose estimate fell (a blip, or a gallery page of one
/// picture) is measured only by what flows on it, and the pictures paused
/// to fit it may not come back.
pub fn demand(wanted: &[Option<usize>], fitted: &[Option<usize>], layers: &[&[Layer]], voices: u64) -> (u64, u64) {
    let desired = (cost(wanted, layers) + voices) * HEADROOM;
    let Some(below) = wanted.iter().zip(fitted).position(|(w, f)| w.is_some() && (f.is_none() || f < w)) else { return (0, desired) };
    let mut next = fitted.to_vec();
    next[below] = Some(fitted[below].map_or(0, |i| i + 1));
    ((cost(&next, layers) + voices).min(desired), desired)
}

/// What `chosen` layers send together, in bits per second.
fn cost(chosen: &[Option<usize>], layers: &[&[Layer]]) -> u64 {
    chosen.iter().zip(layers).map(|(c, l)| c.and_then(|i| l.get(i)).map_or(0, |l| l.bitrate)).sum()
}

/// At most one keyframe request per key (a sender's layer) in this long:
/// each request makes the sender spend bits on a whole picture.
pub const KEYFRAME_SPACING: Duration = Duration::from_millis(500);

/// Keyframe requests, spaced per key.
#[derive(Debug)]
pub struct KeyframeGate<K> {
    last: HashMap<K, Instant>,
}

impl<K: Eq + Hash> Default for KeyframeGate<K> {
    fn default() -> Self {
        Self { last: HashMap::new() }
    }
}

impl<K: Eq + Hash> KeyframeGate<K> {
    /// Whether a request for `key` may go out at `now` (and notes it if so).
    pub fn allow(&mut self, key: K, now: Instant) -> bool {
        match self.last.get(&key) {
            Some(&at) if now.saturating_duration_since(at) < KEYFRAME_SPACING => false,
            _ => {
                self.last.insert(key, now);
                true
            }
        }
    }

    /// Forgets keys `keep` says no to (a sender gone).
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.last.retain(|k, _| keep(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: [Layer; 3] = [
        Layer { height: 180, bitrate: 150_000, tid: None },
        Layer { height: 360, bitrate: 500_000, tid: None },
        Layer { height: 720, bitrate: 1_500_000, tid: None },
    ];

    #[test]
    fn a_tile_gets_the_smallest_layer_that_fills_it() {
        assert_eq!(for_height(&THREE, 0), None, "hidden: nothing");
        assert_eq!(for_height(&THREE, 120), Some(0));
        assert_eq!(for_height(&THREE, 200), Some(0), "180 is within 0.9 of 200");
        assert_eq!(for_height(&THREE, 201), Some(1));
        assert_eq!(for_height(&THREE, 400), Some(1));
        assert_eq!(for_height(&THREE, 720), Some(2));
        assert_eq!(for_height(&THREE, 2160), Some(2), "nothing taller: the top");
        assert_eq!(for_height(&THREE[..2], 720), Some(1), "a sender of two layers");
        let unknown = [Layer { height: 0, bitrate: 0, tid: None }; 3];
        assert_eq!(for_height(&unknown, 180), Some(0));
        assert_eq!(for_height(&unknown, 700), Some(2));
    }

    /// The lowest layer at a quarter and at half its frame rate, then the
    /// three layers at their full rate.
    const FIVE: [Layer; 5] =
        [Layer { height: 180, bitrate: 60_000, tid: Some(0) }, Layer { height: 180, bitrate: 90_000, tid: Some(1) }, THREE[0], THREE[1], THREE[2]];

    #[test]
    fn a_tile_gets_every_picture_and_a_weak_link_fewer_of_the_lowest() {
        assert_eq!(for_height(&FIVE, 120), Some(2), "the lowest layer's every picture, not a lower frame rate");
        assert_eq!(for_height(&FIVE, 400), Some(3));
        let unknown = FIVE.map(|l| Layer { height: 0, ..l });
        assert_eq!(for_height(&unknown, 180), Some(2));
        // A link too weak for the lowest layer keeps its base layer.
        let layers: [&[Layer]; 1] = [&FIVE];
        let mut chosen = [Some(4)];
        fit(&mut chosen, &layers, 120_000);
        assert_eq!(chosen, [Some(1)], "half the frame rate fits");
        fit(&mut chosen, &layers, 70_000);
        assert_eq!(chosen, [Some(0)], "then a quarter");
        fit(&mut chosen, &layers, 10_000);
        assert_eq!(chosen, [Some(0)], "the most important keeps its lowest");
    }

    #[test]
    fn a_tight_link_steps_the_least_important_down_first_then_pauses() {
        let layers: [&[Layer]; 3] = [&THREE, &THREE, &THREE];
        let mut chosen = [Some(2), Some(1), Some(1)];
        fit(&mut chosen, &layers, 10_000_000);
        assert_eq!(chosen, [Some(2), Some(1), Some(1)], "room enough: unchanged");
        fit(&mut chosen, &layers, 2_000_000);
        assert_eq!(chosen, [Some(2), Some(0), Some(0)], "{chosen:?}");
        fit(&mut chosen, &layers, 1_000_000);
        assert_eq!(chosen, [Some(1), Some(0), Some(0)]);
        fit(&mut chosen, &layers, 400_000);
        assert_eq!(chosen, [Some(0), Some(0), None], "the least important is paused");
        fit(&mut chosen, &layers, 100_000);
        assert_eq!(chosen, [Some(0), None, None], "the most important always keeps its lowest layer");
        fit(&mut chosen, &layers, 0);
        assert_eq!(chosen, [Some(0), None, None]);
    }

    #[test]
    fn a_link_asks_for_what_its_tiles_want_and_pads_towards_the_next_step() {
        let layers: [&[Layer]; 3] = [&THREE, &THREE, &THREE];
        let rates = |c: [Option<usize>; 3]| -> u64 { c.iter().zip(&layers).map(|(c, l)| c.map_or(0, |i| l[i].bitrate)).sum() };
        let wanted = [Some(2), Some(1), Some(1)];
        assert_eq!(demand(&wanted, &wanted, &layers, 0), (0, HEADROOM * rates(wanted)), "all fit: no padding, probed above");
        // A tight link: the third picture paused, the second stepped down.
        let fitted = [Some(2), Some(0), None];
        let (minimum, desired) = demand(&wanted, &fitted, &layers, 0);
        assert_eq!(desired, HEADROOM * rates(wanted));
        assert_eq!(minimum, rates(fitted) + THREE[1].bitrate - THREE[0].bitrate, "the second picture's next layer first");
        // Only pictures paused: the next one's lowest layer.
        let (minimum, _) = demand(&[Some(0), Some(0), Some(0)], &[Some(0), None, None], &layers, 0);
        assert_eq!(minimum, 2 * THREE[0].bitrate);
        // Hidden tiles ask for nothing.
        assert_eq!(demand(&[None, None, None], &[None, None, None], &layers, 0), (0, 0));
    }

    #[test]
    fn keyframe_requests_are_spaced_per_layer() {
        let t = Instant::now();
        let mut gate = KeyframeGate::default();
        assert!(gate.allow(("ada", "f"), t));
        assert!(!gate.allow(("ada", "f"), t + Duration::from_millis(100)));
        assert!(gate.allow(("ada", "q"), t + Duration::from_millis(100)), "another layer is its own");
        assert!(gate.allow(("ada", "f"), t + KEYFRAME_SPACING));
    }
}

//! Who is speaking, from the audio level each packet carries (RFC 6464, in
//! str0m's `ExtensionValues::audio_level`: 0 dBov is loudest, -127 silence).
//! LiveKit's rule: a voice is active when it is louder than -35 dBov in at
//! least 40 % of the packets of a 400 ms window; its loudness is the loudest
//! level seen, lowered by how little of the window was active, and smoothed
//! across windows.

use std::time::{Duration, Instant};

/// One window of packets.
pub const WINDOW: Duration = Duration::from_millis(400);
/// Louder than this (dBov) counts as speech.
const ACTIVE_LEVEL: i8 = -35;
/// Share of a window's packets that must be speech.
const MIN_ACTIVE_SHARE: f32 = 0.4;
/// Smoothing across windows: α = 2 / (N + 1) with N = 2.
const SMOOTHING: f32 = 2.0 / 3.0;
/// Below this smoothed loudness a voice is no longer speaking.
const QUIET: f32 = 1.0;

/// One voice's loudness.
#[derive(Debug, Clone)]
pub struct Voice {
    window_start: Option<Instant>,
    packets: u32,
    active: u32,
    loudest: i8,
    smoothed: f32,
    /// When it last spoke: for ranking the recent speakers.
    pub last_spoke: Option<Instant>,
}

impl Default for Voice {
    fn default() -> Self {
        Self { window_start: None, packets: 0, active: 0, loudest: -127, smoothed: 0.0, last_spoke: None }
    }
}

impl Voice {
    /// One audio packet at `at` with level `level` (dBov, 0 loudest).
    pub fn heard(&mut self, level: i8, at: Instant) {
        self.close_windows(at);
        self.window_start.get_or_insert(at);
        self.packets += 1;
        if level > ACTIVE_LEVEL {
            self.active += 1;
            self.loudest = self.loudest.max(level);
        }
    }

    /// Closes the windows that ended by `now`; a voice that sent nothing
    /// (muted, or stopped at the server) fades.
    pub fn close_windows(&mut self, now: Instant) {
        let Some(start) = self.window_start else { return };
        if now.saturating_duration_since(start) < WINDOW {
            return;
        }
        let share = if self.packets == 0 { 0.0 } else { self.active as f32 / self.packets as f32 };
        let loudness = if share >= MIN_ACTIVE_SHARE {
            // 0 dBov → 127; lowered by 20·log10(share) when part of the window was quiet.
            (127.0 + self.loudest as f32 + 20.0 * share.log10()).max(0.0)
        } else {
            0.0
        };
        self.smoothed = SMOOTHING * loudness + (1.0 - SMOOTHING) * self.smoothed;
        if loudness > 0.0 {
            self.last_spoke = Some(now);
        }
        // Empty windows in between, each fading the voice.
        let whole = (now.saturating_duration_since(start).as_millis() / WINDOW.as_millis()) as i32;
        if whole > 1 {
            self.smoothed *= (1.0 - SMOOTHING).powi(whole - 1);
        }
        self.window_start = if whole > 1 { None } else { Some(start + WINDOW) };
        self.packets = 0;
        self.active = 0;
        self.loudest = -127;
    }

    /// The smoothed loudness, when speaking.
    pub fn speaking(&self) -> Option<f32> {
        (self.smoothed >= QUIET).then_some(self.smoothed)
    }
}

/// Those speaking, loudest first, from `(who, voice)`.
pub fn rank<K: Copy + Ord>(voices: impl IntoIterator<Item = (K, f32)>) -> Vec<K> {
    let mut speaking: Vec<(K, f32)> = voices.into_iter().collect();
    // Quantized, so two voices of nearly the same loudness do not swap places
    // on every window; ties keep a stable order.
    speaking.sort_by(|a, b| ((b.1 / 6.0) as i32).cmp(&((a.1 / 6.0) as i32)).then(a.0.cmp(&b.0)));
    speaking.into_iter().map(|(k, _)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 50 packets a second for `ms`, at `level` every `loud_every`th packet
    /// and silence otherwise.
    fn talk(voice: &mut Voice, from: Instant, ms: u64, level: i8, loud_every: u64) -> Instant {
        let mut at = from;
        for i in 0..ms / 20 {
            at = from + Duration::from_millis(i * 20);
            voice.heard(if i % loud_every == 0 { level } else { -127 }, at);
        }
        at + Duration::from_millis(20)
    }

    #[test]
    fn steady_speech_is_speaking_and_silence_is_not() {
        let t = Instant::now();
        let mut voice = Voice::default();
        let end = talk(&mut voice, t, 1_200, -20, 1);
        voice.close_windows(end);
        assert!(voice.speaking().is_some_and(|l| l > 90.0), "{:?}", voice.speaking());
        let mut quiet = Voice::default();
        let end = talk(&mut quiet, t, 1_200, -50, 1);
        quiet.close_windows(end);
        assert_eq!(quiet.speaking(), None, "-50 dBov is background, not speech");
    }

    #[test]
    fn a_few_loud_packets_are_not_speech() {
        let t = Instant::now();
        let mut voice = Voice::default();
        let end = talk(&mut voice, t, 1_200, -10, 4);
        voice.close_windows(end);
        assert_eq!(voice.speaking(), None, "a quarter of the window is under 40 %");
    }

    #[test]
    fn a_voice_that_stops_fades_within_two_seconds() {
        let t = Instant::now();
        let mut voice = Voice::default();
        let end = talk(&mut voice, t, 800, -20, 1);
        voice.close_windows(end);
        assert!(voice.speaking().is_some());
        voice.close_windows(end + Duration::from_secs(2));
        assert_eq!(voice.speaking(), None);
        assert!(voice.last_spoke.is_some());
    }

    #[test]
    fn ranking_puts_the_loudest_first_and_breaks_near_ties_stably() {
        assert_eq!(rank([(1, 40.0), (2, 90.0), (3, 60.0)]), vec![2, 3, 1]);
        assert_eq!(rank([(2, 61.0), (1, 60.0)]), vec![1, 2], "within one step, by id");
    }
}

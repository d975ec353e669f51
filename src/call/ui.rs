//! The call's state as the view sees it: plain signals that the view in
//! the call page renders (the same on the server and in the
//! browser) and that the browser client writes. Both
//! import it from here; it holds no words a person reads.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::call::protocol::{MediaState, Participant, ParticipantId, WaitingGuest};

/// Where the person is in the life of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Checking camera and microphone, not yet joined.
    PreJoin,
    /// Join pressed; waiting for the server's welcome.
    Connecting,
    /// In the room's lobby, until the host lets them in.
    Waiting,
    /// In the call.
    InCall,
    /// In the call, but the connection to the server dropped: trying to get
    /// back in. Media between participants keeps flowing meanwhile.
    Reconnecting,
    /// Left on purpose.
    Left,
    /// Out of the call, not by their own choice (or by ending it for all).
    Ended(Ending),
}

/// Why someone is no longer in the call (or never got in), each with its
/// own screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The host ended the call for everyone; `by_me` if this person did.
    CallEnded { by_me: bool },
    /// The host left and did not come back: the call ended by itself.
    HostGone,
    /// The host removed this person.
    Removed,
    /// The host did not let this person in.
    TurnedAway,
    /// The call had no room for one more.
    Full,
    /// The host locked the call: nobody new may join until they unlock it.
    Locked,
    /// Anything else (a lost connection, a session not open, a closed
    /// window), in the words to show.
    Stopped(String),
}

/// What the camera and microphone check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCheck {
    Checking,
    Ready { camera: bool, microphone: bool },
    Unavailable(crate::i18n::Text),
}

/// The call's state as the view sees it. Plain signals, so the view renders
/// the same on the server; only the browser client writes most of them.
#[derive(Clone, Copy)]
pub struct CallUi {
    pub phase: RwSignal<Phase>,
    pub me: RwSignal<Option<Participant>>,
    /// Everyone else, in join order.
    pub others: RwSignal<Vec<Participant>>,
    /// For the host: guests waiting in the lobby, longest first.
    pub waiting: RwSignal<Vec<WaitingGuest>>,
    /// For a waiting guest: a host is in the call (and so can let them in).
    pub host_here: RwSignal<bool>,
    /// For the host: the browser may notify them of someone waiting.
    pub notify_waiting: RwSignal<bool>,
    /// The name typed on joining, kept for the next try.
    pub typed_name: RwSignal<String>,
    /// Why the passcode given was refused, shown on the form again.
    pub passcode_error: RwSignal<Option<String>>,
    /// When this person entered the call (Unix ms), for the host's summary.
    pub entered_at_ms: RwSignal<Option<u64>>,
    /// Everyone else seen in the call, in order of arrival, once each.
    pub attended: RwSignal<Vec<String>>,
    pub media: RwSignal<MediaCheck>,
    pub microphone_on: RwSignal<bool>,
    pub camera_on: RwSignal<bool>,
    /// Bumped whenever a video stream appears or changes, so the video
    /// elements re-attach.
    pub streams: RwSignal<u64>,
    /// This person is the room's host (set from the invitation).
    pub host: RwSignal<bool>,
    /// Raised hands, in the order they went up.
    pub hands: RwSignal<Vec<ParticipantId>>,
    /// The host locked the call.
    pub locked: RwSignal<bool>,
    /// Something to tell this person ("The host muted your microphone.").
    pub notice: RwSignal<Option<String>>,
    /// This person may turn their microphone on themselves.
    pub may_unmute: RwSignal<bool>,
    /// Guests raise a hand and wait for the host to let them speak.
    pub ask_to_speak: RwSignal<bool>,
    /// In a breakout group: everyone in it is seen, as in a meeting.
    pub grouped: RwSignal<bool>,
    /// Words between the host and waiting guests: (guest, from the host, text).
    pub lobby_chat: RwSignal<Vec<(ParticipantId, bool, String)>>,
    /// The call's chat, oldest first.
    pub chat: RwSignal<Vec<ChatLine>>,
    pub chat_open: RwSignal<bool>,
    /// Chat messages from others since the panel was last open.
    pub unread: RwSignal<usize>,
    pub people_open: RwSignal<bool>,
    /// What each of the others sends (microphone, camera, screen).
    pub media_of: RwSignal<HashMap<ParticipantId, MediaState>>,
    /// This person shares their screen.
    pub sharing: RwSignal<bool>,
    pub may_share_screen: RwSignal<bool>,
    /// The tile shown large, chosen by this person.
    pub pinned: RwSignal<Option<ParticipantId>>,
    /// Connection figures per other participant, from `getStats()`.
    pub quality: RwSignal<HashMap<ParticipantId, Quality>>,
    /// Who speaks now, loudest first, as the media server says (in a call
    /// through it; a mesh call measures each tile's sound instead).
    pub speakers: RwSignal<Vec<ParticipantId>>,
    /// The page of the people gallery shown, from 0 (calls through the
    /// media server show as many pictures as the screen fits, up to
    /// `picture_slots`, at a time).
    pub gallery_page: RwSignal<usize>,
    /// A host was in the call while this person was: if none is now, they
    /// left (rather than never came).
    pub host_seen: RwSignal<bool>,
    /// Pictures this browser can receive at once from the media server:
    /// the slots it offered (up to [`GALLERY_PAGE`] as its screen fits, or
    /// [`GALLERY_PAGE_PLAIN`] where it cannot narrow its offer to the
    /// server's codecs).
    pub picture_slots: RwSignal<usize>,
    /// Others whose connection to us is being re-established.
    pub reconnecting: RwSignal<Vec<ParticipantId>>,
    /// Said to screen readers: who joined or left.
    pub announcement: RwSignal<String>,
    /// Cameras, microphones and speakers the browser offers.
    pub devices: RwSignal<Vec<Device>>,
    pub camera_id: RwSignal<String>,
    pub microphone_id: RwSignal<String>,
    pub speaker_id: RwSignal<String>,
    /// The browser can choose where sound plays.
    pub speaker_choice: RwSignal<bool>,
    /// The microphone's level now, 0 to 100.
    pub mic_level: RwSignal<u8>,
    /// The pre-join connection check: (passed, what it found), `None`
    /// while checking.
    pub server_check: RwSignal<Option<(bool, String)>>,
    pub network_check: RwSignal<Option<(bool, String)>>,
}

/// Most pictures a call through the media server shows at once: a page
/// of its gallery on a large screen (5 × 5 at 1280 × 800, 7 × 7 from
/// 1920 × 1080), and as many video slots as the browser asks the server
/// for (its `MAX_VIDEO_SLOTS`). Each slot offers the server's codecs alone:
/// 49 slots make an offer of about 78 KB from Chromium.
pub const GALLERY_PAGE: usize = 49;
/// The slots offered by a browser that cannot choose its codecs (every
/// slot then lists them all: 25 make about 142 KB, 49 would pass the
/// server's limit on an offer).
pub const GALLERY_PAGE_PLAIN: usize = 25;

/// How many gallery tiles of about 240 × 125 px a window of `width` ×
/// `height` CSS pixels holds, at least two across and two down (the
/// controls and title take 150 px of its height).
pub fn tiles_fit(width: f64, height: f64) -> usize {
    ((width / 240.0).floor().max(2.0) * ((height - 150.0) / 125.0).floor().max(2.0)) as usize
}

impl Default for CallUi {
    fn default() -> Self {
        Self::new()
    }
}

impl CallUi {
    /// Whoever among the others speaks loudest now, if anyone does.
    pub fn active_speaker(&self) -> Option<ParticipantId> {
        let me = self.me.with(|me| me.as_ref().map(|p| p.id));
        if let Some(loudest) = self.speakers.with(|s| s.iter().copied().find(|id| Some(*id) != me)) {
            return Some(loudest);
        }
        self.quality.with(|all| {
            all.iter().filter(|(_, q)| q.audio_level > 0.05).max_by(|a, b| a.1.audio_level.total_cmp(&b.1.audio_level)).map(|(id, _)| *id)
        })
    }

    pub fn new() -> Self {
        Self {
            phase: RwSignal::new(Phase::PreJoin),
            me: RwSignal::new(None),
            others: RwSignal::new(Vec::new()),
            waiting: RwSignal::new(Vec::new()),
            host_here: RwSignal::new(false),
            notify_waiting: RwSignal::new(false),
            typed_name: RwSignal::new(String::new()),
            passcode_error: RwSignal::new(None),
            entered_at_ms: RwSignal::new(None),
            attended: RwSignal::new(Vec::new()),
            host: RwSignal::new(false),
            hands: RwSignal::new(Vec::new()),
            locked: RwSignal::new(false),
            notice: RwSignal::new(None),
            may_unmute: RwSignal::new(true),
            ask_to_speak: RwSignal::new(false),
            grouped: RwSignal::new(false),
            lobby_chat: RwSignal::new(Vec::new()),
            chat: RwSignal::new(Vec::new()),
            chat_open: RwSignal::new(false),
            unread: RwSignal::new(0),
            people_open: RwSignal::new(false),
            media_of: RwSignal::new(HashMap::new()),
            sharing: RwSignal::new(false),
            may_share_screen: RwSignal::new(true),
            pinned: RwSignal::new(None),
            quality: RwSignal::new(HashMap::new()),
            speakers: RwSignal::new(Vec::new()),
            gallery_page: RwSignal::new(0),
            picture_slots: RwSignal::new(GALLERY_PAGE),
            host_seen: RwSignal::new(false),
            reconnecting: RwSignal::new(Vec::new()),
            announcement: RwSignal::new(String::new()),
            devices: RwSignal::new(Vec::new()),
            camera_id: RwSignal::new(String::new()),
            microphone_id: RwSignal::new(String::new()),
            speaker_id: RwSignal::new(String::new()),
            speaker_choice: RwSignal::new(false),
            mic_level: RwSignal::new(0),
            server_check: RwSignal::new(None),
            network_check: RwSignal::new(None),
            media: RwSignal::new(MediaCheck::Checking),
            microphone_on: RwSignal::new(true),
            camera_on: RwSignal::new(true),
            streams: RwSignal::new(0),
        }
    }
}

/// One chat message as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Its place in the conversation (a stable key for the list).
    pub seq: usize,
    pub who: String,
    pub mine: bool,
    /// The server's time of sending, in the reader's clock ("14:05").
    pub at: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

/// A camera, microphone or speaker the browser offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub kind: DeviceKind,
    pub id: String,
    pub label: String,
}

/// How a connection to one other participant is doing, overall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Grade {
    /// Too early to say (no figures yet).
    #[default]
    Unknown,
    Good,
    Fair,
    Poor,
}

impl Grade {
    /// Its name for styles (`data-grade`), the same in every language.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Good => "good",
            Self::Fair => "fair",
            Self::Poor => "poor",
        }
    }

    /// Poor with a round trip over 400 ms, over 8 % of packets lost or a
    /// video freeze in the last interval; fair over 200 ms or 2 %.
    pub fn of(rtt_ms: Option<u32>, loss_pct: f32, froze: bool) -> Self {
        let Some(rtt) = rtt_ms else { return Self::Unknown };
        if rtt > 400 || loss_pct > 8.0 || froze {
            Self::Poor
        } else if rtt > 200 || loss_pct > 2.0 {
            Self::Fair
        } else {
            Self::Good
        }
    }
}

/// Figures for one connection over the last few seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub grade: Grade,
    pub rtt_ms: Option<u32>,
    pub loss_pct: f32,
    /// Received, audio and video together.
    pub kbps: u32,
    /// Video freezes since the connection started.
    pub freezes: u32,
    /// Their voice's level (0 to 1), for the active speaker.
    pub audio_level: f32,
}

#[cfg(test)]
mod tests {
    use super::{tiles_fit, Grade};

    #[test]
    fn a_connection_is_graded_by_its_worst_figure() {
        assert_eq!(Grade::of(None, 0.0, false), Grade::Unknown, "no round trip measured yet");
        assert_eq!(Grade::of(Some(30), 0.0, false), Grade::Good);
        assert_eq!(Grade::of(Some(200), 2.0, false), Grade::Good, "the limits themselves are still good");
        assert_eq!(Grade::of(Some(201), 0.0, false), Grade::Fair);
        assert_eq!(Grade::of(Some(30), 2.5, false), Grade::Fair);
        assert_eq!(Grade::of(Some(401), 0.0, false), Grade::Poor);
        assert_eq!(Grade::of(Some(30), 9.0, false), Grade::Poor);
        assert_eq!(Grade::of(Some(30), 0.0, true), Grade::Poor, "a video freeze");
    }

    #[test]
    fn a_window_holds_5_by_5_at_1280_by_800_and_more_from_1920_by_1080() {
        assert_eq!(tiles_fit(1280.0, 800.0), 25);
        assert_eq!(tiles_fit(1920.0, 1080.0), 56, "over a page of 49: the slots cap it");
        assert_eq!(tiles_fit(390.0, 844.0), 10, "a phone: two across at least");
    }
}

//! The browser side of a call (feature `hydrate` only): camera and
//! microphone, the signaling socket and one `RTCPeerConnection` per other
//! participant. The call page's view reads the outcome from
//! [`CallUi`](crate::call::ui::CallUi) signals and calls the functions re-exported here.
//!
//! - `call`: the call itself (session and reconnecting, the server's
//!   messages, the mesh, statistics);
//! - `media`: camera, microphone, speaker, screen, the level meter;
//! - `check`: the pre-join connection check;
//! - `rtc` and `js`: small helpers over WebRTC and other browser APIs.

mod alert;
mod call;
mod check;
pub(crate) mod classroom;
mod js;
mod media;
mod rtc;

pub use alert::{ask_to_notify, may_notify, waiting_changed};
#[cfg(feature = "bundle-sfu")]
pub use call::show_pictures;
pub use call::{admit, admit_all, apply_send_state, attach_remote, attach_screen, deny, end_for_all, join, leave, send, share_screen, stop_sharing};
pub use check::check_connection;
pub use classroom::compose;
pub use js::{copy_to_clipboard, fetch_json, local_time, localise_page};
pub use media::{attach_local, play_test_sound};

use crate::call::ui::{CallUi, DeviceKind};

/// Uses device `id` for `kind` from now on, and remembers it: in the
/// preview, and in the call (a new camera or microphone replaces the old
/// one without renegotiating).
pub fn choose_device(ui: CallUi, kind: DeviceKind, id: String) {
    media::choose_device(ui, kind, id, call::replace_sent);
}

/// Starts camera and microphone for the preview and the call; if the person
/// is in the call by the time they start, they are sent and announced.
pub fn start_preview(ui: CallUi) {
    media::start_preview(ui, call::replace_sent);
}

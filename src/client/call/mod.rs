//! The call in the browser.
//!
//! One signaling WebSocket, one `RTCPeerConnection` per other participant.
//!
//! Reconnecting: if the socket drops, the call stays up (media flows peer to
//! peer without the server) and the client reconnects with exponential
//! back-off and jitter, presenting its resume token. Back in, it restarts
//! ICE on any peer connection that failed meanwhile. If the server no
//! longer holds its place (grace period over, server restarted), it joins
//! afresh on the same socket.

mod mesh;
mod messages;
#[cfg(not(feature = "bundle-sfu"))]
mod negotiation;
mod session;
#[cfg(feature = "bundle-sfu")]
mod sfu;
mod state;
mod stats;

pub(crate) use mesh::replace_sent;
pub use mesh::{apply_send_state, attach_remote, attach_screen, share_screen, stop_sharing};
pub use session::{admit, admit_all, deny, end_for_all, join, leave, send};
#[cfg(feature = "bundle-sfu")]
pub use sfu::show_pictures;

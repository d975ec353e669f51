//! Signaling: how participants of one room find each other and exchange the
//! offers, answers and ICE candidates that set up their media connections.
//!
//! - [`protocol`] is the wire format, compiled into both the server and the
//!   browser so the two can never disagree.
//! - `hub` (server) is the room state machine: Sans-IO, no sockets, no clock.
//! - `socket` (server) is the thin WebSocket adapter around the hub.
//!
//! `docs/signaling-protocol.md` specifies every message.

pub mod protocol;

#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod rate;
#[cfg(feature = "ssr")]
pub mod socket;

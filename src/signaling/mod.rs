//! Signaling: how participants of one room find each other and exchange the
//! offers, answers and ICE candidates that set up their media connections.
//!
//! - [`protocol`] is the wire format, compiled into both the server and the
//!   browser so the two can never disagree.
//! - [`hub`] is the room state machine: Sans-IO, no sockets, no clock (used
//!   by the server; also built alone by the fuzz target in `fuzz/`).
//! - `socket` (server) is the WebSocket adapter around the hub.
//!
//! `docs/signaling-protocol.md` specifies every message.

pub mod protocol;

pub mod hub;
#[cfg(feature = "ssr")]
pub mod rate;
#[cfg(feature = "ssr")]
pub mod socket;

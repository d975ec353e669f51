//! The signaling server: the adapters that carry out what the call's hub
//! ([`crate::call::hub`]) decides.
//!
//! - [`socket`]: the WebSocket transport (reading, writing, heartbeat,
//!   message rate).
//! - [`connections`]: the registry of open connections: which speaks for
//!   whom, outboxes, caps per address and account; it hands every event to
//!   the hub under one lock and carries out the effects.
//! - [`door`]: the database look-ups a `join` needs (the room, its
//!   schedule, its passcode), made before the hub decides.

pub mod connections;
pub mod door;
pub mod rate;
pub mod socket;

pub use connections::{Heartbeat, Login, Signaling, SignalingSettings};

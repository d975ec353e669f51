//! The signaling server: the adapters around the call's hub
//! ([`crate::call::hub`]).
//!
//! - `socket` is the WebSocket transport: reading, writing, heartbeat.

pub mod rate;
pub mod socket;

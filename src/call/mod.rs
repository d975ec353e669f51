//! The call: how participants of one room find each other, wait to be let
//! in, talk, and are kept in order by their host.
//!
//! - [`protocol`] is the wire format, compiled into both the server and the
//!   browser so the two can never disagree.
//! - [`hub`] (server) is the call's one decision-maker: Sans-IO, no
//!   sockets, no clock, no database. Every rule about who may enter, who
//!   hears what and what a host may do lives there and is unit-tested by
//!   feeding it inputs; the fuzz target in `fuzz/` drives it the way the
//!   server does.
//!
//! The adapters that carry the hub's decisions out (the WebSocket, the
//! registry of connections, the database look-ups before a join) are the
//! server's (its signaling folder). `docs/signaling-protocol.md`
//! specifies every message.

pub mod protocol;
#[cfg(feature = "ssr")]
pub mod turn;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod hub;

/// Most participants a full-mesh call carries well.
pub const MESH_LIMIT: usize = 4;

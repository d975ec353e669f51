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
//! - [`lease`] (server) holds the rules of cluster mode's room leases:
//!   which node serves a room's call, and when another may take it over.
//!
//! The adapters that carry the hub's decisions out (the WebSocket, the
//! registry of connections, the database look-ups before a join) are the
//! server's (its signaling folder). `docs/signaling-protocol.md`
//! specifies every message.

pub mod board;
pub mod breakout;
pub mod people;
pub mod poll;
pub mod protocol;
mod tag_first;
#[cfg(feature = "ssr")]
pub mod turn;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod lease;
#[cfg(feature = "ssr")]
pub mod pass;
#[cfg(feature = "ssr")]
pub mod sfu;

use crate::call::protocol::Topology;
use crate::domain::RoomKind;

/// Which room: the database id of a room, which (unlike its join link)
/// never changes, so rotating the link does not split a call in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub i64);

/// Most participants a full-mesh call carries well.
pub const MESH_LIMIT: usize = 4;

/// Which calls go through the media server, when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPolicy {
    /// Most participants of a call through the media server.
    pub room_size: usize,
    /// Consultations go through it too (their media is then no longer
    /// end-to-end encrypted between the two browsers).
    pub consultations: bool,
}

/// How a room's call carries media, decided when the call starts: a class
/// always through the media server, so the server enforces its rules from
/// the first minute; a meeting larger than a mesh carries through it; a
/// consultation browser to browser, unless the operator says otherwise.
/// Without a media server (`policy` `None`), every call is a mesh.
pub fn topology_for(kind: RoomKind, limit: Option<usize>, policy: Option<MediaPolicy>) -> Topology {
    let Some(policy) = policy else { return Topology::Mesh };
    match kind {
        RoomKind::Class => Topology::Sfu,
        RoomKind::Consultation if policy.consultations => Topology::Sfu,
        RoomKind::Consultation => Topology::Mesh,
        RoomKind::Meeting if limit.is_some_and(|limit| limit > MESH_LIMIT) => Topology::Sfu,
        RoomKind::Meeting => Topology::Mesh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_large_meetings_go_through_the_media_server_and_consultations_do_not() {
        let policy = Some(MediaPolicy { room_size: 40, consultations: false });
        assert_eq!(topology_for(RoomKind::Class, None, policy), Topology::Sfu);
        assert_eq!(topology_for(RoomKind::Class, Some(2), policy), Topology::Sfu, "even a class of two");
        assert_eq!(topology_for(RoomKind::Meeting, Some(12), policy), Topology::Sfu);
        assert_eq!(topology_for(RoomKind::Meeting, Some(4), policy), Topology::Mesh);
        assert_eq!(topology_for(RoomKind::Meeting, None, policy), Topology::Mesh, "unset: the mesh's own cap");
        assert_eq!(topology_for(RoomKind::Consultation, Some(2), policy), Topology::Mesh);
        let routed = Some(MediaPolicy { room_size: 40, consultations: true });
        assert_eq!(topology_for(RoomKind::Consultation, Some(2), routed), Topology::Sfu);
        assert_eq!(topology_for(RoomKind::Class, None, None), Topology::Mesh, "no media server: a mesh");
    }
}

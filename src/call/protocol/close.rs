//! WebSocket close codes the server uses (`docs/signaling-protocol.md`).

/// The server gave up on a client that stopped reading.
pub const NORMAL: u16 = 1000;
/// The server is shutting down.
pub const GOING_AWAY: u16 = 1001;
/// A text frame that is not UTF-8.
pub const INVALID_DATA: u16 = 1007;
/// A client that broke the protocol or was refused.
pub const POLICY: u16 = 1008;
/// A message over the size limit.
pub const TOO_BIG: u16 = 1009;
/// The participant resumed on a newer connection.
pub const REPLACED: u16 = 4000;
/// The sign-in behind the connection ended (signed out, expired, or
/// ended from another device).
pub const SIGNED_OUT: u16 = 4001;
/// The room was deleted: the call is over for everyone.
pub const ROOM_CLOSED: u16 = 4002;
/// The host ended the call for everyone.
pub const ENDED_BY_HOST: u16 = 4003;
/// Cluster mode: another node serves this call now (`moved` said which).
pub const MOVED: u16 = 4004;
/// The host left and did not come back within [`HOSTLESS_MINUTES`]: the
/// call ended for those still in it.
pub const HOST_LEFT: u16 = 4005;
/// How long a call goes on after its last host left, in minutes.
pub const HOSTLESS_MINUTES: u64 = 10;

/// Whether reconnecting after this close cannot help.
pub fn is_final(code: u16) -> bool {
    matches!(code, INVALID_DATA | POLICY | TOO_BIG | REPLACED | SIGNED_OUT | ROOM_CLOSED | ENDED_BY_HOST | HOST_LEFT)
}

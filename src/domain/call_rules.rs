use serde::{Deserialize, Serialize};

/// What someone may do in a call: the one type for a room's guest rules
/// (as stored and as a kind's defaults) and for what `welcome` tells each
/// participant. The host may do everything; guests what the room says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRules {
    /// Come in with your microphone off.
    pub join_muted: bool,
    /// You may turn your microphone on yourself. If not, wait for
    /// `may_unmute` (raise your hand to ask).
    pub may_unmute: bool,
    /// You may share your screen.
    pub may_share_screen: bool,
    /// Connect only through the TURN relay (`iceTransportPolicy: "relay"`):
    /// the room hides everyone's network address. Everyone's, the host's too.
    #[serde(default)]
    pub relay_only: bool,
}

impl CallRules {
    /// Everything allowed: the host's rules, and a meeting's.
    pub const OPEN: CallRules = CallRules { join_muted: false, may_unmute: true, may_share_screen: true, relay_only: false };
}

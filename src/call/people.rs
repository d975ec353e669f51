//! Who is in a call, as every message names them: a participant's id and
//! what the others are shown of them. The protocol's messages and the
//! classroom's (`breakout`) both speak of people; neither owns them.

use serde::{Deserialize, Serialize};

use crate::domain::DisplayName;

/// A participant's id, unique on this server. It outlives one connection: a
/// participant who resumes after a network blip keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub u64);

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Someone in the room, as the others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: DisplayName,
    /// The room's host (stamped by the server): a guest who types the
    /// host's name is still shown as a guest.
    #[serde(default)]
    pub host: bool,
}

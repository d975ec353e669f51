use serde::{Deserialize, Serialize};

use crate::domain::CallRules;

/// What a room is for. Each kind brings its own defaults, which the host can
/// then change per room (except a consultation's lobby, which stays on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// One guest and their host (a doctor and a patient): always a lobby, a
    /// call of two, plus any companion the host lets in by name.
    Consultation,
    /// A teacher and a class: a lobby, guests join muted and speak when the
    /// host lets them (they raise a hand to ask).
    Class,
    /// A team meeting: everyone speaks; a lobby if the host wants one.
    Meeting,
}

/// What a room's kind sets when it is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomDefaults {
    pub lobby: bool,
    /// The room's own cap on its call, if any.
    pub max_participants: Option<i64>,
    /// What guests may do (never relay-only by default).
    pub guests: CallRules,
    pub keep_chat: bool,
    /// Guests see the host's name before joining and on the host's words
    /// in the lobby: a patient or a pupil knows whom they wait for.
    pub show_host_name: bool,
}

impl RoomKind {
    pub const ALL: [RoomKind; 3] = [RoomKind::Meeting, RoomKind::Consultation, RoomKind::Class];

    /// Reads a kind as forms and the database spell it.
    pub fn parse(raw: &str) -> Result<Self, super::Problem> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw.trim()).ok_or(super::Problem::UnknownKind)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Class => "class",
            Self::Meeting => "meeting",
        }
    }

    pub fn defaults(self) -> RoomDefaults {
        match self {
            Self::Consultation => RoomDefaults {
                lobby: true,
                max_participants: Some(2),
                guests: CallRules { join_muted: false, may_unmute: true, may_share_screen: true, relay_only: false },
                keep_chat: false,
                show_host_name: true,
            },
            Self::Class => RoomDefaults {
                lobby: true,
                max_participants: None,
                guests: CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false },
                keep_chat: false,
                show_host_name: true,
            },
            Self::Meeting => RoomDefaults {
                lobby: false,
                max_participants: None,
                guests: CallRules { join_muted: false, may_unmute: true, may_share_screen: true, relay_only: false },
                keep_chat: false,
                show_host_name: false,
            },
        }
    }

    /// Whether the lobby may be turned off in a room of this kind.
    pub fn lobby_optional(self) -> bool {
        self != Self::Consultation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_own_spelling() {
        for kind in RoomKind::ALL {
            assert_eq!(RoomKind::parse(kind.as_str()), Ok(kind));
        }
        assert!(RoomKind::parse("webinar").is_err());
        assert!(RoomKind::parse("").is_err());
    }

    #[test]
    fn each_kind_brings_the_defaults_it_promises() {
        let consultation = RoomKind::Consultation.defaults();
        assert!(consultation.lobby && !consultation.guests.join_muted && consultation.max_participants == Some(2));
        assert!(!RoomKind::Consultation.lobby_optional());
        let class = RoomKind::Class.defaults();
        assert!(class.lobby && class.guests.join_muted && !class.guests.may_unmute);
        let meeting = RoomKind::Meeting.defaults();
        assert!(!meeting.lobby && meeting.guests.may_unmute && RoomKind::Meeting.lobby_optional());
        for kind in RoomKind::ALL {
            assert!(!kind.defaults().keep_chat, "chat is not kept unless the host asks");
        }
        // A patient and a pupil see whom they wait for; a team's guests
        // only if the host chooses.
        assert!(consultation.show_host_name && class.show_host_name && !meeting.show_host_name);
    }
}

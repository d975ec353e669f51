//! Why the server refused a message: the codes, which of them close the
//! connection, and the sentence for each.

use serde::{Deserialize, Serialize};

use super::ServerMessage;

/// Why the server refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not valid JSON, or not a message this protocol knows.
    BadMessage,
    /// `join` carried a protocol version the server does not speak. Fatal.
    UnsupportedVersion,
    /// No room has this join link. Fatal.
    UnknownRoom,
    /// The room already has the most participants a mesh call carries. Fatal.
    RoomFull,
    /// The guest name is empty, too long or has forbidden characters.
    InvalidName,
    /// A message other than `join` arrived before joining.
    NotJoined,
    /// A second `join` on the same connection.
    AlreadyJoined,
    /// `to` is not a participant of your room.
    UnknownParticipant,
    /// The join link does not let guests in yet: the next session's join
    /// window has not opened. Fatal.
    NotOpenYet,
    /// Every session scheduled in the room is over. Fatal.
    SessionEnded,
    /// A host action (admit, deny) from someone who is not the room's host.
    /// It is logged.
    NotHost,
    /// A message only people in the call may send, from a guest still in
    /// the lobby.
    NotAdmitted,
    /// `admit` when the call already has as many people as it takes.
    NoRoomToAdmit,
    /// The host turned you away, or did a moment ago. Fatal.
    Denied,
    /// The room has a passcode and this was not it. Fatal.
    WrongPasscode,
    /// Too many wrong passcodes from this address for this room: wait a
    /// while. Fatal.
    TooManyPasscodes,
    /// Too many join links that lead nowhere came from this address: wait
    /// a while. Fatal.
    TooManyWrongLinks,
    /// The host locked the room: nobody new comes in. Fatal.
    RoomLocked,
    /// The host put you out of the call. Fatal.
    Removed,
    /// A chat message was empty or over 2,000 characters.
    InvalidChat,
    /// A waiting guest wrote while no host is in the call to read it.
    HostAway,
    /// `media` announced a screen where the room lets only the host share.
    ScreenShareNotAllowed,
    /// `resume` came too late (the grace period is over), the token is
    /// unknown (say, the server restarted) or it is not yours. Join again.
    ResumeRefused,
    /// `sfu_offer` or `sfu_view` in a browser-to-browser call, or `signal`
    /// in a call through the media server.
    WrongTopology,
    /// The media server could not use this offer.
    InvalidOffer,
    /// Too many messages too fast; this one was dropped. Keep it up and the
    /// connection is closed (1008).
    RateLimited,
    /// Cluster mode: no node can take this call on right now (the servers
    /// cannot reach the store that places calls). Try again in a moment.
    /// Fatal.
    TryAgain,
    /// A poll without a question, with fewer than 2 or more than 10
    /// answers, or with a text too long.
    InvalidPoll,
    /// The call has had as many polls as it may.
    TooManyPolls,
    /// No such poll in your call.
    UnknownPoll,
    /// The poll has ended: it takes no more answers.
    PollEnded,
    /// Breakout rooms not as the limits allow, or naming someone not in
    /// the call.
    InvalidBreakout,
    /// No breakout rooms are open (or pupils may not choose theirs).
    NoBreakouts,
    /// Something the whiteboard does not take: an element off the board,
    /// too long or malformed, or a page it does not have.
    InvalidBoard,
    /// The host lets others draw on the board, not you.
    MayNotDraw,
    /// The board holds as much as it may (elements on a page, pages, or
    /// its whole size).
    BoardFull,
}

impl ErrorCode {
    /// Whether the server closes the connection after sending this error.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            Self::UnsupportedVersion
                | Self::UnknownRoom
                | Self::RoomFull
                | Self::NotOpenYet
                | Self::SessionEnded
                | Self::Denied
                | Self::RoomLocked
                | Self::Removed
                | Self::WrongPasscode
                | Self::TooManyPasscodes
                | Self::TooManyWrongLinks
                | Self::TryAgain
        )
    }
}

impl ServerMessage {
    /// An error with the standard wording for `code`.
    #[cfg(feature = "ssr")]
    pub fn error(code: ErrorCode) -> Self {
        Self::Error { code, message: code.words().into() }
    }
}

impl ErrorCode {
    /// The sentence for people, in English (the `message` the server
    /// sends beside the code; browsers show `text()` in their page's language).
    #[cfg(feature = "ssr")]
    pub fn words(self) -> &'static str {
        crate::i18n::Locale::ENGLISH.text(self.text())
    }

    /// The sentence for people, as a message of the locale files.
    pub fn text(self) -> crate::i18n::Text {
        use crate::i18n::Text;
        match self {
            ErrorCode::BadMessage => Text::ErrorsBadMessage,
            ErrorCode::UnsupportedVersion => Text::ErrorsUnsupportedVersion,
            ErrorCode::UnknownRoom => Text::ErrorsUnknownRoom,
            ErrorCode::RoomFull => Text::ErrorsRoomFull,
            ErrorCode::InvalidName => Text::ErrorsInvalidName,
            ErrorCode::NotJoined => Text::ErrorsNotJoined,
            ErrorCode::AlreadyJoined => Text::ErrorsAlreadyJoined,
            ErrorCode::UnknownParticipant => Text::ErrorsUnknownParticipant,
            ErrorCode::NotOpenYet => Text::ErrorsNotOpenYet,
            ErrorCode::SessionEnded => Text::ErrorsSessionEnded,
            ErrorCode::NotHost => Text::ErrorsNotHost,
            ErrorCode::NotAdmitted => Text::ErrorsNotAdmitted,
            ErrorCode::NoRoomToAdmit => Text::ErrorsNoRoomToAdmit,
            ErrorCode::Denied => Text::ErrorsDenied,
            ErrorCode::WrongPasscode => Text::ErrorsWrongPasscode,
            ErrorCode::TooManyPasscodes => Text::ErrorsTooManyPasscodes,
            ErrorCode::TooManyWrongLinks => Text::ErrorsTooManyWrongLinks,
            ErrorCode::RoomLocked => Text::ErrorsRoomLocked,
            ErrorCode::Removed => Text::ErrorsRemoved,
            ErrorCode::InvalidChat => Text::ErrorsInvalidChat,
            ErrorCode::HostAway => Text::ErrorsHostAway,
            ErrorCode::ScreenShareNotAllowed => Text::ErrorsScreenShareNotAllowed,
            ErrorCode::ResumeRefused => Text::ErrorsResumeRefused,
            ErrorCode::RateLimited => Text::ErrorsRateLimited,
            ErrorCode::InvalidOffer => Text::ErrorsInvalidOffer,
            ErrorCode::WrongTopology => Text::ErrorsWrongTopology,
            ErrorCode::TryAgain => Text::ErrorsTryAgain,
            ErrorCode::InvalidPoll => Text::ErrorsInvalidPoll,
            ErrorCode::TooManyPolls => Text::ErrorsTooManyPolls,
            ErrorCode::UnknownPoll => Text::ErrorsUnknownPoll,
            ErrorCode::PollEnded => Text::ErrorsPollEnded,
            ErrorCode::InvalidBreakout => Text::ErrorsInvalidBreakout,
            ErrorCode::NoBreakouts => Text::ErrorsNoBreakouts,
            ErrorCode::InvalidBoard => Text::ErrorsInvalidBoard,
            ErrorCode::MayNotDraw => Text::ErrorsMayNotDraw,
            ErrorCode::BoardFull => Text::ErrorsBoardFull,
        }
    }
}

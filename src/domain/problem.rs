//! Why a typed value was refused, as a code: the page puts it into words
//! in its own language (`Problem::words`), so neither the parsers nor the
//! server functions hold any sentence, and a refusal reads the same in
//! the browser's check and in the server's answer.

use serde::{Deserialize, Serialize};

/// One reason a value was refused. Its numbers are the limit the person
/// must keep to, for the message to name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// Nothing (visible) was typed.
    Missing,
    /// More than `max` characters.
    TooLong { max: u32 },
    /// A password under `min` characters.
    PasswordTooShort { min: u32 },
    /// A password from the list of the most common ones.
    CommonPassword,
    /// Not the current password of the account (changing a setting).
    WrongPassword,
    /// Not shaped like `name@example.org`.
    EmailShape,
    /// Not a join link this server could have made.
    NotAJoinLink,
    /// Not one of the room kinds.
    UnknownKind,
    /// Not one of the languages.
    UnknownLanguage,
    /// Not a date (`YYYY-MM-DD`).
    DateShape,
    /// Not a time of day (`HH:MM`).
    TimeShape,
    /// Not an IANA time zone name.
    UnknownTimeZone,
    /// A wall-clock time that a daylight-saving change skips.
    NoSuchLocalTime,
    /// A session length outside 1..=`max` minutes.
    LengthOutOfRange { max: u32 },
    /// A weekly series outside `min..=max` weeks.
    WeeksOutOfRange { min: u32, max: u32 },
    /// Neither once nor weekly.
    UnknownRepeat,
    /// A session that would start in the past.
    InThePast,
    /// A session that overlaps `title`'s meeting at `when` (already said
    /// in the person's language and the session's time zone).
    Overlaps { title: String, when: String },
    /// A consultation cannot do without its lobby.
    LobbyRequired,
    /// A passcode outside `min..=max` characters.
    PasscodeLength { min: u32, max: u32 },
    /// A room size outside `min..=max` people.
    SizeOutOfRange { min: u32, max: u32 },
    /// Deleting without ticking the confirmation.
    NotConfirmed,
    /// Relay-only calls where no TURN relay is set up.
    NoRelay,
    /// Another email change while one stands (until the next sign-in).
    EmailChangeStands,
}

impl Problem {
    /// More than `max` characters (`max` as the parsers keep it).
    pub fn too_long(max: usize) -> Self {
        Self::TooLong { max: max as u32 }
    }

    /// The code alone (`too_long`), for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::TooLong { .. } => "too_long",
            Self::PasswordTooShort { .. } => "password_too_short",
            Self::CommonPassword => "common_password",
            Self::WrongPassword => "wrong_password",
            Self::EmailShape => "email_shape",
            Self::NotAJoinLink => "not_a_join_link",
            Self::UnknownKind => "unknown_kind",
            Self::UnknownLanguage => "unknown_language",
            Self::DateShape => "date_shape",
            Self::TimeShape => "time_shape",
            Self::UnknownTimeZone => "unknown_time_zone",
            Self::NoSuchLocalTime => "no_such_local_time",
            Self::LengthOutOfRange { .. } => "length_out_of_range",
            Self::WeeksOutOfRange { .. } => "weeks_out_of_range",
            Self::UnknownRepeat => "unknown_repeat",
            Self::InThePast => "in_the_past",
            Self::Overlaps { .. } => "overlaps",
            Self::LobbyRequired => "lobby_required",
            Self::PasscodeLength { .. } => "passcode_length",
            Self::SizeOutOfRange { .. } => "size_out_of_range",
            Self::NotConfirmed => "not_confirmed",
            Self::NoRelay => "no_relay",
            Self::EmailChangeStands => "email_change_stands",
        }
    }
}

/// The code, for logs and serde's messages; people read `Problem::words`.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

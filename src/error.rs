//! The one error type server functions return, shared with the browser so a
//! form can show each message next to the field it concerns.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::Problem;

/// What went wrong, in words a person can act on (`words`, in the page's
/// language; `Display` gives the same in English for logs, a refused
/// value as its field and code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// A form field is invalid (422); shown next to `field`.
    Invalid { field: String, problem: Problem },
    /// Sign-in failed (401). One message whether or not the account exists.
    BadCredentials,
    /// The page needs a signed-in account (401).
    SignInRequired,
    /// Too many failed sign-ins for this account or from this address (429).
    TooManyAttempts { wait_secs: u64 },
    /// Nothing here, or not yours (404).
    NotFound,
    /// Our fault (500); the cause is in the server log, not here.
    Internal,
    /// The request did not reach the server function or its answer was
    /// unreadable (network, missing form field).
    Request(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid { field, problem } => write!(f, "{field}: {problem}"),
            // The server's words in English, from the same messages pages use.
            #[cfg(feature = "ssr")]
            other => f.write_str(&crate::i18n::in_language(crate::i18n::Locale::ENGLISH, || other.words())),
            // The browser carries only its page's language.
            #[cfg(not(feature = "ssr"))]
            other => f.write_str(&other.words()),
        }
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// Throttled: wait `wait` (rounded up to whole seconds, at least one).
    pub fn too_many_attempts(wait: std::time::Duration) -> Self {
        Self::TooManyAttempts { wait_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }
    }

    /// An invalid value for the form field named `field`.
    pub fn invalid(field: &str, problem: Problem) -> Self {
        Self::Invalid { field: field.into(), problem }
    }

    /// The message for `field`, if this error is about that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid { field: f, problem } if f == field => Some(problem.words()),
            _ => None,
        }
    }

    /// The message for the form as a whole, if this error is not about one
    /// field.
    pub fn for_form(&self) -> Option<String> {
        match self {
            Self::Invalid { .. } => None,
            other => Some(other.words()),
        }
    }

    /// What went wrong, in the page's language.
    pub fn words(&self) -> String {
        use crate::i18n::{t, t_count, t_with, Text};
        match self {
            Self::Invalid { problem, .. } => problem.words(),
            Self::BadCredentials => t(Text::ProblemBadCredentials).into(),
            Self::SignInRequired => t(Text::ProblemSignInRequired).into(),
            Self::TooManyAttempts { wait_secs } => {
                let wait = match Wait::of(*wait_secs) {
                    Wait::ASecond => t(Text::ProblemASecond).to_string(),
                    Wait::Seconds(n) => t_count(Text::ProblemSeconds, n),
                    Wait::AMinute => t(Text::ProblemAMinute).to_string(),
                    Wait::Minutes(n) => t_count(Text::ProblemMinutes, n),
                };
                t_with(Text::ProblemTooManyAttempts, &[("wait", &wait)])
            }
            Self::NotFound => t(Text::ProblemNotFound).into(),
            Self::Internal => t(Text::ProblemInternal).into(),
            Self::Request(detail) => t_with(Text::ProblemRequest, &[("detail", detail)]),
        }
    }

    /// Logs an internal failure with its cause chain and hides it from the
    /// client.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(%err, "{context}");
        Self::Internal
    }

    /// The HTTP status for this error.
    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadCredentials | Self::SignInRequired => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Request(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl Problem {
    /// Why the value was refused, in the page's language.
    pub fn words(&self) -> String {
        use crate::i18n::{t, t_count, t_with, Text};
        let range = |text, min: &u32, max: &u32| t_with(text, &[("min", &min.to_string()), ("max", &max.to_string())]);
        match self {
            Self::Missing => t(Text::InvalidMissing).into(),
            Self::TooLong { max } => t_count(Text::InvalidTooLong, u64::from(*max)),
            Self::PasswordTooShort { min } => t_count(Text::InvalidPasswordTooShort, u64::from(*min)),
            Self::CommonPassword => t(Text::InvalidCommonPassword).into(),
            Self::WrongPassword => t(Text::InvalidWrongPassword).into(),
            Self::EmailShape => t(Text::InvalidEmailShape).into(),
            Self::NotAJoinLink => t(Text::InvalidNotAJoinLink).into(),
            Self::UnknownKind => t(Text::InvalidUnknownKind).into(),
            Self::UnknownLanguage => t(Text::InvalidUnknownLanguage).into(),
            Self::DateShape => t(Text::InvalidDateShape).into(),
            Self::TimeShape => t(Text::InvalidTimeShape).into(),
            Self::UnknownTimeZone => t(Text::InvalidUnknownTimeZone).into(),
            Self::NoSuchLocalTime => t(Text::InvalidNoSuchLocalTime).into(),
            Self::LengthOutOfRange { max } => t_count(Text::InvalidLengthOutOfRange, u64::from(*max)),
            Self::WeeksOutOfRange { min, max } => range(Text::InvalidWeeksOutOfRange, min, max),
            Self::UnknownRepeat => t(Text::InvalidUnknownRepeat).into(),
            Self::InThePast => t(Text::InvalidInThePast).into(),
            Self::Overlaps { title, when } => t_with(Text::InvalidOverlaps, &[("title", title), ("when", when)]),
            Self::LobbyRequired => t(Text::InvalidLobbyRequired).into(),
            Self::PasscodeLength { min, max } => range(Text::InvalidPasscodeLength, min, max),
            Self::SizeOutOfRange { min, max } => range(Text::InvalidSizeOutOfRange, min, max),
            Self::NotConfirmed => t(Text::InvalidNotConfirmed).into(),
            Self::NoRelay => t(Text::InvalidNoRelay).into(),
            Self::EmailChangeStands => t(Text::InvalidEmailChangeStands).into(),
        }
    }
}

/// A wait as it is said: a second, some seconds, a minute, some minutes.
enum Wait {
    ASecond,
    Seconds(u64),
    AMinute,
    Minutes(u64),
}

impl Wait {
    fn of(secs: u64) -> Self {
        match secs {
            0 | 1 => Self::ASecond,
            2..=59 => Self::Seconds(secs),
            60..=119 => Self::AMinute,
            _ => Self::Minutes(secs.div_ceil(60)),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::MissingArg(field) => Self::invalid(&field, Problem::Missing),
            other => Self::Request(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{in_language, Locale};

    #[test]
    fn a_refusal_is_said_in_the_reader_s_language_with_its_limit() {
        let zh = Locale::from_tag("zh-CN").unwrap();
        let said = |locale, problem: Problem| in_language(locale, || AppError::invalid("name", problem).for_field("name").unwrap());
        assert_eq!(said(Locale::ENGLISH, Problem::TooLong { max: 500 }), "This can be at most 500 characters.");
        assert_eq!(said(Locale::ENGLISH, Problem::TooLong { max: 1 }), "This can be at most 1 character.");
        assert_eq!(said(zh, Problem::TooLong { max: 500 }), "最多可输入 500 个字符。");
        assert_eq!(said(zh, Problem::SizeOutOfRange { min: 2, max: 40 }), "一次通话可容纳 2 至 40 人。");
        let clash = Problem::Overlaps { title: "复诊".into(), when: "2026年12月1日（周二）09:00–09:45（Asia/Shanghai）".into() };
        assert_eq!(said(zh, clash), "与“复诊”（2026年12月1日（周二）09:00–09:45（Asia/Shanghai））时间重叠。请另选时间。");
        // Another field's problem is not this one's; the log line is the code.
        assert_eq!(AppError::invalid("email", Problem::EmailShape).for_field("name"), None);
        assert_eq!(AppError::invalid("email", Problem::EmailShape).to_string(), "email: email_shape");
    }

    #[test]
    fn the_log_s_words_are_english_whatever_the_page_s_language() {
        let zh = Locale::from_tag("zh-CN").unwrap();
        let logged = |error: AppError| in_language(zh, || error.to_string());
        assert_eq!(logged(AppError::NotFound), "We could not find that.");
        assert_eq!(
            logged(AppError::too_many_attempts(std::time::Duration::from_secs(61 * 2))),
            "Too many sign-in attempts. Please wait 3 minutes and try again."
        );
        assert_eq!(
            logged(AppError::too_many_attempts(std::time::Duration::from_millis(300))),
            "Too many sign-in attempts. Please wait a second and try again."
        );
        assert_eq!(logged(AppError::Request("timed out".into())), "The request could not be completed: timed out");
        assert_eq!(in_language(zh, || AppError::NotFound.words()), "找不到该内容。", "while the page reads its own");
    }
}

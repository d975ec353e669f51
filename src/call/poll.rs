//! A poll on the wire: what the host asks (`PollDraft`), and what each
//! person is shown of it (`PollView`). The hub decides (`hub::polls`);
//! the browser shows it from the site's bundle, loaded on a call page
//! when a poll first comes (`client::classroom`). The rules of a draft
//! live here so that the host's form and the hub check the same.

use serde::{Deserialize, Serialize};

use crate::domain::Problem;

/// Fewest and most answers a poll offers.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 10;
/// Longest question and answer, in characters.
pub const QUESTION_CHARS: usize = 300;
pub const OPTION_CHARS: usize = 100;
/// Most polls one call holds (Jitsi's `POLLS_LIMIT`).
pub const POLLS_PER_CALL: usize = 128;

/// What the host asks: a question, 2 to 10 answers, one answer or
/// several, and whether answers are counted without names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollDraft {
    pub question: String,
    pub options: Vec<String>,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub anonymous: bool,
}

impl PollDraft {
    /// The draft cleaned (each text trimmed, stripped of what must not
    /// reach a page), or what is wrong with it.
    pub fn checked(self) -> Result<PollDraft, PollProblem> {
        let question = crate::domain::text::short_text(&self.question, QUESTION_CHARS).map_err(PollProblem::Question)?;
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&self.options.len()) {
            return Err(PollProblem::OptionCount);
        }
        let options = self
            .options
            .iter()
            .map(|option| crate::domain::text::short_text(option, OPTION_CHARS))
            .collect::<Result<Vec<String>, Problem>>()
            .map_err(PollProblem::Option)?;
        Ok(PollDraft { question, options, ..self })
    }
}

/// Why a draft is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollProblem {
    Question(Problem),
    OptionCount,
    Option(Problem),
}

/// One poll as one person is shown it, each time it changes for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollView {
    /// Its number in this call, from 1.
    pub id: u32,
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    pub anonymous: bool,
    /// Still taking answers.
    pub open: bool,
    /// Its results are shown to everyone.
    pub shown: bool,
    /// You host the call: you may end it and show its results.
    #[serde(default)]
    pub host: bool,
    /// What was answered: for the host always, for everyone once shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<PollResults>,
    /// Your own answers (their places in `options`), if you answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mine: Vec<u8>,
}

/// How many chose each answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResults {
    /// For each answer, how many chose it.
    pub counts: Vec<u32>,
    /// How many people answered (with several answers allowed, fewer than
    /// the sum of `counts`).
    pub answered: u32,
    /// For the host of a named poll: who chose each answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<Vec<String>>,
}

/// Whether `choices` is a valid answer to a poll of `options` answers:
/// at least one, none twice, each one of them, and only one unless
/// `multiple`.
pub fn valid_choices(choices: &[u8], options: usize, multiple: bool) -> bool {
    let mut seen = [false; MAX_OPTIONS];
    !choices.is_empty()
        && (multiple || choices.len() == 1)
        && choices.iter().all(|&c| {
            let c = usize::from(c);
            c < options.min(MAX_OPTIONS) && !std::mem::replace(&mut seen[c], true)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(question: &str, options: &[&str]) -> PollDraft {
        PollDraft { question: question.into(), options: options.iter().map(|o| o.to_string()).collect(), multiple: false, anonymous: false }
    }

    #[test]
    fn a_draft_is_trimmed_and_its_limits_hold() {
        let clean = draft("  Ready? \u{202E}", &[" Yes ", "No"]).checked().unwrap();
        assert_eq!((clean.question.as_str(), clean.options[0].as_str()), ("Ready?", "Yes"));
        assert_eq!(draft("Ready?", &["Yes"]).checked(), Err(PollProblem::OptionCount));
        assert_eq!(draft("Ready?", &["a"; 11]).checked(), Err(PollProblem::OptionCount));
        assert!(draft("Ready?", &["a"; 10]).checked().is_ok());
        assert_eq!(draft("  ", &["Yes", "No"]).checked(), Err(PollProblem::Question(Problem::Missing)));
        assert_eq!(draft(&"q".repeat(301), &["Yes", "No"]).checked(), Err(PollProblem::Question(Problem::too_long(300))));
        assert!(draft(&"q".repeat(300), &["Yes", "No"]).checked().is_ok());
        assert_eq!(draft("Ready?", &["Yes", ""]).checked(), Err(PollProblem::Option(Problem::Missing)));
        assert_eq!(draft("Ready?", &["Yes", &"n".repeat(101)]).checked(), Err(PollProblem::Option(Problem::too_long(100))));
    }

    #[test]
    fn an_answer_is_one_choice_or_several_distinct_ones_among_the_options() {
        assert!(valid_choices(&[1], 2, false));
        assert!(!valid_choices(&[], 2, false));
        assert!(!valid_choices(&[2], 2, false));
        assert!(!valid_choices(&[0, 1], 2, false));
        assert!(valid_choices(&[0, 1], 2, true));
        assert!(!valid_choices(&[1, 1], 3, true));
        assert!(!valid_choices(&[200], 10, true));
    }
}

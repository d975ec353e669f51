//! Breakout rooms on the wire: what the host opens (`BreakoutPlan`), and
//! what each person is shown of them (`BreakoutView`). The hub decides
//! (`hub::breakouts`): a group is a change of who is forwarded to whom by
//! the media server and of whom each page is shown, never a new
//! connection. The browser shows them from the site's bundle, loaded on a
//! call page when they first come (`client::classroom`). The rules of a
//! plan live here so that the host's form and the hub check the same.

use serde::{Deserialize, Serialize};

use crate::call::people::{Participant, ParticipantId};

/// Fewest and most groups (BigBlueButton offers up to 16; Zoom 50).
pub const MIN_GROUPS: u8 = 2;
pub const MAX_GROUPS: u8 = 20;
/// Longest a timer runs, in minutes.
pub const MAX_MINUTES: u16 = 240;
/// Longest countdown before everyone comes back, in seconds.
pub const MAX_COUNTDOWN_S: u16 = 120;

/// What the host opens: how many groups, who goes where (places from 0;
/// anyone left out stays in the main room, or picks a group if `choose`),
/// and for how long (`minutes`, 0 for no timer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakoutPlan {
    pub groups: u8,
    #[serde(default)]
    pub members: Vec<(ParticipantId, u8)>,
    /// Pupils may pick their own group (and change it).
    #[serde(default)]
    pub choose: bool,
    #[serde(default)]
    pub minutes: u16,
}

impl BreakoutPlan {
    /// Whether the plan is within its limits (who is named is the hub's
    /// to check).
    pub fn is_valid(&self) -> bool {
        (MIN_GROUPS..=MAX_GROUPS).contains(&self.groups)
            && self.minutes <= MAX_MINUTES
            && self.members.iter().all(|(_, group)| *group < self.groups)
            && self.members.iter().enumerate().all(|(i, (who, _))| !self.members[..i].iter().any(|(w, _)| w == who))
    }
}

/// `people` spread over `groups` groups as evenly as can be, in the order
/// given (the host's form shuffles first for "automatically"): the first
/// goes to group 0, the second to group 1, and round again.
pub fn fill_evenly(people: &[ParticipantId], groups: u8) -> Vec<(ParticipantId, u8)> {
    let groups = groups.max(1);
    people.iter().enumerate().map(|(i, who)| (*who, (i % usize::from(groups)) as u8)).collect()
}

/// One group as everyone is shown it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    /// Who is in it now (a visiting host included).
    pub members: Vec<Participant>,
    /// It may share its screen, whatever the class's rules.
    #[serde(default)]
    pub share: bool,
    /// Someone in it asked for help and no host has come yet (told to
    /// hosts alone).
    #[serde(default)]
    pub help: bool,
}

/// The call's breakout rooms as one person is shown them, each time they
/// change (and on entering, while they are open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakoutView {
    /// Open: `false` once they closed (then nothing else is said).
    pub open: bool,
    /// Who you are in the call (for a host's visit: moving themselves).
    #[serde(default = "nobody")]
    pub you: ParticipantId,
    pub groups: Vec<GroupView>,
    /// Those still in the main room.
    #[serde(default)]
    pub main: Vec<Participant>,
    /// Your group (places from 0), or `None` in the main room.
    #[serde(default)]
    pub yours: Option<u8>,
    /// You are a host: you may move, visit, speak to all, close.
    #[serde(default)]
    pub host: bool,
    #[serde(default)]
    pub choose: bool,
    /// The server's clock as it sent this (Unix milliseconds): the times
    /// below are counted down from it, whatever the page's clock says.
    #[serde(default)]
    pub now_ms: u64,
    /// When the timer runs out (Unix milliseconds), if there is one.
    #[serde(default)]
    pub ends_at_ms: Option<u64>,
    /// When everyone comes back (Unix milliseconds), once the host closed
    /// them or the timer ran out.
    #[serde(default)]
    pub closing_at_ms: Option<u64>,
    /// A host's voice is heard in every group.
    #[serde(default)]
    pub voice_all: bool,
    /// The host's latest word to every group, numbered (so a page shows
    /// each once) and timed.
    #[serde(default)]
    pub said: Option<HostWord>,
}

fn nobody() -> ParticipantId {
    ParticipantId(0)
}

/// A host's word to every group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostWord {
    pub seq: u32,
    pub text: String,
    pub sent_at_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_refused_outside_its_limits() {
        let ok = BreakoutPlan { groups: 2, members: vec![(ParticipantId(1), 0), (ParticipantId(2), 1)], choose: false, minutes: 10 };
        assert!(ok.is_valid());
        assert!(!BreakoutPlan { groups: 1, ..ok.clone() }.is_valid());
        assert!(!BreakoutPlan { groups: MAX_GROUPS + 1, ..ok.clone() }.is_valid());
        assert!(!BreakoutPlan { minutes: MAX_MINUTES + 1, ..ok.clone() }.is_valid());
        assert!(!BreakoutPlan { members: vec![(ParticipantId(1), 2)], ..ok.clone() }.is_valid());
        assert!(!BreakoutPlan { members: vec![(ParticipantId(1), 0), (ParticipantId(1), 1)], ..ok }.is_valid());
    }

    #[test]
    fn filling_evenly_leaves_groups_at_most_one_apart() {
        let people: Vec<ParticipantId> = (1..=7).map(ParticipantId).collect();
        let filled = fill_evenly(&people, 3);
        let sizes: Vec<usize> = (0..3).map(|g| filled.iter().filter(|(_, group)| *group == g).count()).collect();
        assert_eq!(sizes, vec![3, 2, 2]);
        assert_eq!(filled.len(), 7);
    }
}

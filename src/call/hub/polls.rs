//! Polls: the host asks the call a question, everyone in it answers (and
//! may change their answer until the poll ends), the hub counts. One poll
//! is open at a time; answers of those who left are kept. Each change is
//! a [`Record::Poll`] for the adapter to keep; an anonymous poll's record
//! carries counts alone, so no name of its voters leaves the hub.

use crate::call::poll::{valid_choices, PollDraft, PollResults, PollView, POLLS_PER_CALL};

use super::*;

/// One poll of a call.
#[derive(Debug)]
pub(super) struct Poll {
    /// Unique among this hub's polls: what the adapter keeps it under.
    key: u64,
    /// Its number in the call, from 1.
    id: u32,
    draft: PollDraft,
    open: bool,
    shown: bool,
    /// Each answer (places in the answers, sorted), by whose it is
    /// ([`Hub::voter`]: one a person, however often they come back).
    ballots: HashMap<String, Vec<u8>>,
    /// A named poll's voters, in the order they first answered.
    names: Vec<(String, DisplayName)>,
}

/// A poll as it stands now, for the adapter to keep in place of what it
/// kept under the same `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    pub key: u64,
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    pub anonymous: bool,
    pub open: bool,
    pub counts: Vec<u32>,
    pub answered: u32,
    /// A named poll's answers by name; always empty for an anonymous one.
    pub votes: Vec<(DisplayName, Vec<u8>)>,
}

impl Poll {
    fn counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.draft.options.len()];
        for &choice in self.ballots.values().flatten() {
            if let Some(count) = counts.get_mut(usize::from(choice)) {
                *count += 1;
            }
        }
        counts
    }

    fn answered(&self) -> u32 {
        u32::try_from(self.ballots.len()).unwrap_or(u32::MAX)
    }

    fn record(&self) -> PollRecord {
        let votes = if self.draft.anonymous {
            Vec::new()
        } else {
            self.names.iter().filter_map(|(who, name)| self.ballots.get(who).map(|choices| (name.clone(), choices.clone()))).collect()
        };
        PollRecord {
            key: self.key,
            question: self.draft.question.clone(),
            options: self.draft.options.clone(),
            multiple: self.draft.multiple,
            anonymous: self.draft.anonymous,
            open: self.open,
            counts: self.counts(),
            answered: self.answered(),
            votes,
        }
    }

    /// What `voter` is shown: the results if they host or they are shown;
    /// who chose what only to the host of a named poll.
    fn view(&self, voter: &str, host: bool) -> PollView {
        let results = (host || self.shown).then(|| {
            let names = if host && !self.draft.anonymous {
                (0..self.draft.options.len())
                    .map(|option| {
                        let chose = |choices: &Vec<u8>| choices.iter().any(|&c| usize::from(c) == option);
                        self.names.iter().filter(|(p, _)| self.ballots.get(p).is_some_and(chose)).map(|(_, name)| name.as_str().to_string()).collect()
                    })
                    .collect()
            } else {
                Vec::new()
            };
            PollResults { counts: self.counts(), answered: self.answered(), names }
        });
        PollView {
            id: self.id,
            question: self.draft.question.clone(),
            options: self.draft.options.clone(),
            multiple: self.draft.multiple,
            anonymous: self.draft.anonymous,
            open: self.open,
            shown: self.shown,
            host,
            results,
            mine: self.ballots.get(voter).cloned().unwrap_or_default(),
        }
    }
}

impl Hub {
    /// Whose answer `who` gives: their account's or their browser's (a
    /// page reloaded, or back after the grace period, is a new
    /// participant but the same voter), else their own.
    pub(super) fn voter(&self, who: ParticipantId) -> String {
        match self.seats.get(&who).and_then(|seat| seat.person.as_ref()) {
            Some(person @ (Person::Account(_) | Person::Guest(_))) => person.key(),
            _ => format!("participant:{}", who.0),
        }
    }

    /// Host `by` asks the call `draft`; a poll still open ends first.
    pub(super) fn poll_start(&mut self, by: ParticipantId, draft: PollDraft) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: by, message: ServerMessage::error(code) }];
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(code),
        };
        let Ok(draft) = draft.checked() else { return refuse(ErrorCode::InvalidPoll) };
        let held = self.polls.get(&room).map_or(0, Vec::len);
        if held >= POLLS_PER_CALL {
            return refuse(ErrorCode::TooManyPolls);
        }
        let mut out = Vec::new();
        if let Some(open) = self.polls.get(&room).and_then(|polls| polls.last()).filter(|poll| poll.open).map(|poll| poll.id) {
            out.extend(self.poll_end(by, open));
        }
        self.poll_keys += 1;
        let id = u32::try_from(held + 1).unwrap_or(u32::MAX);
        let poll = Poll { key: self.poll_keys, id, draft, open: true, shown: false, ballots: HashMap::new(), names: Vec::new() };
        self.journal.push(Record::Poll { room, poll: poll.record() });
        self.polls.entry(room).or_default().push(poll);
        out.extend(self.tell_poll(room, id, self.everyone_in(room)));
        out
    }

    /// `who` answers poll `id` with `choices`, or changes their answer.
    pub(super) fn poll_answer(&mut self, who: ParticipantId, id: u32, mut choices: Vec<u8>) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        let room = match self.seats.get(&who) {
            None => return refuse(ErrorCode::NotJoined),
            Some(seat) if !seat.admitted => return refuse(ErrorCode::NotAdmitted),
            Some(seat) => seat.room,
        };
        let name = self.rooms.get(&room).and_then(|present| present.iter().find(|p| p.id == who)).map(|p| p.name.clone());
        let voter = self.voter(who);
        let Some(poll) = self.polls.get_mut(&room).and_then(|polls| polls.iter_mut().find(|poll| poll.id == id)) else {
            return refuse(ErrorCode::UnknownPoll);
        };
        if !poll.open {
            return refuse(ErrorCode::PollEnded);
        }
        choices.sort_unstable();
        if !valid_choices(&choices, poll.draft.options.len(), poll.draft.multiple) {
            return refuse(ErrorCode::BadMessage);
        }
        poll.ballots.insert(voter.clone(), choices);
        if let Some(name) = name.filter(|_| !poll.draft.anonymous && !poll.names.iter().any(|(p, _)| *p == voter)) {
            poll.names.push((voter, name));
        }
        let (record, shown) = (poll.record(), poll.shown);
        self.journal.push(Record::Poll { room, poll: record });
        // The results move for whoever sees them; the one who answered
        // sees their answer taken.
        let mut to = if shown { self.everyone_in(room) } else { self.hosts_in(room) };
        if !to.contains(&who) {
            to.push(who);
        }
        self.tell_poll(room, id, to)
    }

    /// Host `by` ends poll `id`: it takes no more answers.
    pub(super) fn poll_end(&mut self, by: ParticipantId, id: u32) -> Vec<Outgoing> {
        self.poll_change(by, id, true, |poll| std::mem::replace(&mut poll.open, false))
    }

    /// Host `by` shows poll `id`'s results to everyone, or hides them.
    pub(super) fn poll_share(&mut self, by: ParticipantId, id: u32, shown: bool) -> Vec<Outgoing> {
        // Whether its results were shown is not kept.
        self.poll_change(by, id, false, |poll| std::mem::replace(&mut poll.shown, shown) != shown)
    }

    /// Host `by` changes poll `id` as `change` does (saying whether it
    /// changed anything); everyone in the call is shown the outcome, and
    /// if `kept`, it is recorded.
    fn poll_change(&mut self, by: ParticipantId, id: u32, kept: bool, change: impl FnOnce(&mut Poll) -> bool) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: by, message: ServerMessage::error(code) }];
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(code),
        };
        let Some(poll) = self.polls.get_mut(&room).and_then(|polls| polls.iter_mut().find(|poll| poll.id == id)) else {
            return refuse(ErrorCode::UnknownPoll);
        };
        if !change(poll) {
            return Vec::new();
        }
        if kept {
            let record = poll.record();
            self.journal.push(Record::Poll { room, poll: record });
        }
        self.tell_poll(room, id, self.everyone_in(room))
    }

    /// For `who`, entering `room`'s call: the latest poll, if it is open or
    /// its results are shown (for the host, whatever its state).
    pub(super) fn latest_poll_for(&self, room: RoomId, who: ParticipantId) -> Option<Outgoing> {
        let host = self.seats.get(&who).is_some_and(|seat| seat.host);
        let poll = self.polls.get(&room)?.last().filter(|poll| host || poll.open || poll.shown)?;
        Some(Outgoing { to: who, message: ServerMessage::Poll { poll: poll.view(&self.voter(who), host) } })
    }

    /// `room`'s call is over: a poll still open ends (and is kept so), and
    /// the call's polls are forgotten.
    pub(super) fn end_polls(&mut self, room: RoomId) {
        for mut poll in self.polls.remove(&room).unwrap_or_default() {
            if std::mem::replace(&mut poll.open, false) {
                self.journal.push(Record::Poll { room, poll: poll.record() });
            }
        }
    }

    /// Poll `id` of `room`, as each of `to` is shown it.
    fn tell_poll(&self, room: RoomId, id: u32, to: Vec<ParticipantId>) -> Vec<Outgoing> {
        let Some(poll) = self.polls.get(&room).and_then(|polls| polls.iter().find(|poll| poll.id == id)) else { return Vec::new() };
        to.into_iter()
            .map(|who| {
                let host = self.seats.get(&who).is_some_and(|seat| seat.host && seat.admitted);
                Outgoing { to: who, message: ServerMessage::Poll { poll: poll.view(&self.voter(who), host) } }
            })
            .collect()
    }
}

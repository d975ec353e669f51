//! Breakout rooms: the host splits a call through the media server into
//! groups, and brings everyone back. A group is no new connection: the
//! hub changes whom each page is shown (`resumed` with who is with you
//! now, then joins and leaves as people move) and what the media server
//! forwards to whom (each [`Grant`] names its group). A place in a group
//! belongs to the person ([`Hub::voter`]), so someone who reloads or
//! comes back after the grace period returns to their group. The class's
//! rules hold in every group; a group may be given leave to share its
//! screen. Nothing of them is kept beyond the call but the host's actions
//! in the audit log.

use std::collections::BTreeSet;

use crate::call::breakout::{BreakoutPlan, BreakoutView, GroupView, HostWord, MAX_COUNTDOWN_S};

use super::*;

/// How long everyone is given to finish when the timer runs out.
pub const TIMER_COUNTDOWN_S: u64 = 30;

/// A call's breakout rooms while they are open.
#[derive(Debug)]
pub(super) struct Breakouts {
    groups: u8,
    /// Each person's group, by whose place it is ([`Hub::voter`]).
    placed: HashMap<String, u8>,
    choose: bool,
    ends_at_ms: Option<u64>,
    closing_at_ms: Option<u64>,
    voice_all: bool,
    share: BTreeSet<u8>,
    help: BTreeSet<u8>,
    said: Option<HostWord>,
}

/// Where each person in a call is: their group, or the main room.
pub(super) type Scopes = HashMap<ParticipantId, Option<u8>>;

/// Each person in a call, their rules and what they are shown to send.
type Standing = Vec<(ParticipantId, CallRules, Option<MediaState>)>;

impl Hub {
    /// `who`'s breakout group, if breakout rooms are open and they are in one.
    pub(super) fn group_of(&self, who: ParticipantId) -> Option<u8> {
        let seat = self.seats.get(&who).filter(|seat| seat.admitted)?;
        let breakouts = self.breakouts.get(&seat.room)?;
        breakouts.placed.get(&self.voter(who)).copied()
    }

    /// Those who see and hear `who` (and whom `who` sees): everyone in
    /// the call, or while breakout rooms are open, those in the same group
    /// (or the main room). `who` among them.
    pub(super) fn near(&self, who: ParticipantId) -> Vec<ParticipantId> {
        let Some(room) = self.room_of(who) else { return Vec::new() };
        if !self.breakouts.contains_key(&room) {
            return self.everyone_in(room);
        }
        let scope = self.group_of(who);
        self.everyone_in(room).into_iter().filter(|p| self.group_of(*p) == scope).collect()
    }

    /// Whether `group` may share its screen in `room`.
    pub(super) fn group_shares(&self, room: RoomId, group: Option<u8>) -> bool {
        group.is_some_and(|g| self.breakouts.get(&room).is_some_and(|b| b.share.contains(&g)))
    }

    /// Whether a host's voice is heard in every group of `room`.
    pub(super) fn voice_everywhere(&self, room: RoomId) -> bool {
        self.breakouts.get(&room).is_some_and(|b| b.voice_all)
    }

    pub(super) fn scopes(&self, room: RoomId) -> Scopes {
        self.everyone_in(room).into_iter().map(|p| (p, self.group_of(p))).collect()
    }

    /// After people moved in `room` (they were where `before` says): each
    /// who moved is shown who is with them now; those they left see them
    /// go, those they joined see them come.
    fn rescope(&mut self, room: RoomId, before: &Scopes) -> Vec<Outgoing> {
        let after = self.scopes(room);
        let scope = |scopes: &Scopes, who: ParticipantId| scopes.get(&who).copied().flatten();
        let present: Vec<Participant> = self.rooms.get(&room).cloned().unwrap_or_default();
        let moved: Vec<ParticipantId> = present.iter().map(|p| p.id).filter(|p| before.get(p) != after.get(p)).collect();
        let mut out = Vec::new();
        for &who in &moved {
            let Some(you) = present.iter().find(|p| p.id == who) else { continue };
            let (was, now) = (scope(before, who), scope(&after, who));
            for other in present.iter().filter(|p| p.id != who && !moved.contains(&p.id)) {
                let theirs = scope(&after, other.id);
                if theirs == was {
                    out.push(Outgoing { to: other.id, message: ServerMessage::ParticipantLeft { id: who } });
                } else if theirs == now {
                    out.push(Outgoing { to: other.id, message: ServerMessage::ParticipantJoined { participant: you.clone() } });
                    if let Some(state) = self.shown_media(who) {
                        out.push(Outgoing { to: other.id, message: ServerMessage::Media { id: who, state } });
                    }
                }
            }
            if let Some(seat) = self.seats.get_mut(&who).filter(|seat| seat.away_since.is_some()) {
                // Coming back, their `resumed` says who is with them: what
                // was held about the group they left is void.
                seat.parked.retain(|m| {
                    !matches!(m, ServerMessage::ParticipantJoined { .. } | ServerMessage::ParticipantLeft { .. } | ServerMessage::Media { .. })
                });
            }
            out.extend(self.resumed_in_place(who));
            for other in present.iter().filter(|p| p.id != who && scope(&after, p.id) == now) {
                if let Some(state) = self.shown_media(other.id) {
                    out.push(Outgoing { to: who, message: ServerMessage::Media { id: other.id, state } });
                }
            }
        }
        out
    }

    /// `room`'s breakout rooms as each of `to` is shown them (nothing while
    /// none are open). Who is where is worked out once for all of them.
    pub(super) fn breakout_views(&self, room: RoomId, to: impl IntoIterator<Item = ParticipantId>) -> Vec<Outgoing> {
        let Some(breakouts) = self.breakouts.get(&room) else { return Vec::new() };
        let scopes = self.scopes(room);
        let scope = |who: ParticipantId| scopes.get(&who).copied().flatten();
        let present = self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default();
        let in_group = |g: Option<u8>| present.iter().filter(|p| scope(p.id) == g).cloned().collect::<Vec<_>>();
        let groups: Vec<GroupView> =
            (0..breakouts.groups).map(|g| GroupView { members: in_group(Some(g)), share: breakouts.share.contains(&g), help: false }).collect();
        let main = in_group(None);
        to.into_iter()
            .map(|who| {
                let host = self.seats.get(&who).is_some_and(|seat| seat.host);
                let mut groups = groups.clone();
                if host {
                    // Calls for help are for hosts alone.
                    for (g, view) in (0u8..).zip(&mut groups) {
                        view.help = breakouts.help.contains(&g);
                    }
                }
                let state = BreakoutView {
                    open: true,
                    you: who,
                    groups,
                    main: main.clone(),
                    yours: scope(who),
                    host,
                    choose: breakouts.choose,
                    now_ms: self.clock_ms,
                    ends_at_ms: breakouts.ends_at_ms,
                    closing_at_ms: breakouts.closing_at_ms,
                    voice_all: breakouts.voice_all,
                    said: breakouts.said.clone(),
                };
                Outgoing { to: who, message: ServerMessage::Breakouts { state } }
            })
            .collect()
    }

    /// Everyone in `room`'s call is shown its breakout rooms as they stand.
    pub(super) fn tell_breakouts(&self, room: RoomId) -> Vec<Outgoing> {
        self.breakout_views(room, self.everyone_in(room))
    }

    /// Each of `before` (who, their rules and what they were shown to send)
    /// whose rules changed without a move (a group's leave to share given
    /// or withdrawn) hears their rules, and the others what they are now
    /// shown to send.
    fn retell_rules(&self, before: Standing, moved: &Scopes) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for (who, rules, media) in before {
            if moved.get(&who) == Some(&self.group_of(who)) && self.rules_for(who) != rules {
                out.extend(self.resumed_in_place(who));
                out.extend(self.retell_media(who, media));
            }
        }
        out
    }

    /// Everyone in `room`'s call, with their rules and what they are shown
    /// to send, for [`Hub::retell_rules`].
    fn standing(&self, room: RoomId) -> Standing {
        self.everyone_in(room).into_iter().map(|p| (p, self.rules_for(p), self.shown_media(p))).collect()
    }

    /// The room `by` hosts, if its call goes through the media server.
    fn breakout_host(&self, by: ParticipantId) -> Result<RoomId, ErrorCode> {
        let room = self.host_room(by)?;
        if self.topology_of(room) != Topology::Sfu {
            return Err(ErrorCode::WrongTopology);
        }
        Ok(room)
    }

    /// Host `by` opens breakout rooms as `plan` says.
    pub(super) fn breakout_open(&mut self, by: ParticipantId, plan: BreakoutPlan, now_ms: u64) -> Vec<Outgoing> {
        let room = match self.breakout_host(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let in_call = |who: &ParticipantId| self.seats.get(who).is_some_and(|s| s.room == room && s.admitted);
        if !plan.is_valid() || !plan.members.iter().all(|(who, _)| in_call(who)) {
            return refuse(by, ErrorCode::InvalidBreakout);
        }
        let before = self.scopes(room);
        let placed = plan.members.iter().map(|(who, group)| (self.voter(*who), *group)).collect();
        let ends_at_ms = (plan.minutes > 0).then(|| now_ms + u64::from(plan.minutes) * 60_000);
        let breakouts = Breakouts {
            groups: plan.groups,
            placed,
            choose: plan.choose,
            ends_at_ms,
            closing_at_ms: None,
            voice_all: false,
            share: BTreeSet::new(),
            help: BTreeSet::new(),
            said: None,
        };
        let standing = self.standing(room);
        self.breakouts.insert(room, breakouts);
        self.journal.push(Record::HostDid { by, room, what: "breakouts_open", target: None });
        let mut out = self.moved(room, &before);
        // Open again: a group that could share may no longer, for those
        // who stay in it.
        out.extend(self.retell_rules(standing, &before));
        out
    }

    /// Host `by` moves `who` to `group` (or the main room); moving
    /// themselves, a host visits.
    pub(super) fn breakout_move(&mut self, by: ParticipantId, who: ParticipantId, group: Option<u8>) -> Vec<Outgoing> {
        let room = match self.breakout_host(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        if !self.seats.get(&who).is_some_and(|s| s.room == room && s.admitted) {
            return refuse(by, ErrorCode::UnknownParticipant);
        }
        self.place(room, who, group, by)
    }

    /// `who` picks `group`, where the host lets pupils choose.
    pub(super) fn breakout_choose(&mut self, who: ParticipantId, group: u8) -> Vec<Outgoing> {
        let room = match self.seats.get(&who) {
            Some(seat) if seat.admitted => seat.room,
            Some(_) => return refuse(who, ErrorCode::NotAdmitted),
            None => return refuse(who, ErrorCode::NotJoined),
        };
        if !self.breakouts.get(&room).is_some_and(|b| b.choose) {
            return refuse(who, ErrorCode::NoBreakouts);
        }
        self.place(room, who, Some(group), who)
    }

    /// Puts `who` in `group` of `room`'s open breakout rooms, for `asker`.
    fn place(&mut self, room: RoomId, who: ParticipantId, group: Option<u8>, asker: ParticipantId) -> Vec<Outgoing> {
        let voter = self.voter(who);
        let host = self.seats.get(&who).is_some_and(|seat| seat.host);
        let before = self.scopes(room);
        let Some(breakouts) = self.breakouts.get_mut(&room) else { return refuse(asker, ErrorCode::NoBreakouts) };
        match group {
            Some(g) if g >= breakouts.groups => return refuse(asker, ErrorCode::InvalidBreakout),
            Some(g) => {
                breakouts.placed.insert(voter, g);
                if host {
                    // The host came: the group's call for help is answered.
                    breakouts.help.remove(&g);
                }
            }
            None => {
                breakouts.placed.remove(&voter);
            }
        }
        self.moved(room, &before)
    }

    /// What follows a change of who is where: each page shown its
    /// company, everyone the new state.
    fn moved(&mut self, room: RoomId, before: &Scopes) -> Vec<Outgoing> {
        let mut out = self.rescope(room, before);
        out.extend(self.tell_breakouts(room));
        out
    }

    /// `who` asks a host to come to their group.
    pub(super) fn breakout_help(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let Some(room) = self.room_of(who) else { return refuse(who, ErrorCode::NotJoined) };
        let Some(group) = self.group_of(who) else { return refuse(who, ErrorCode::NoBreakouts) };
        let Some(breakouts) = self.breakouts.get_mut(&room) else { return refuse(who, ErrorCode::NoBreakouts) };
        if !breakouts.help.insert(group) {
            return Vec::new();
        }
        // Only hosts are shown who asked.
        self.breakout_views(room, self.hosts_in(room))
    }

    /// Host `by` changes how `room`'s groups are run, as `change` does
    /// (saying whether it changed anything); everyone is shown the result.
    fn breakout_change(&mut self, by: ParticipantId, change: impl FnOnce(&mut Breakouts) -> Result<bool, ErrorCode>) -> Vec<Outgoing> {
        let room = match self.breakout_host(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let Some(breakouts) = self.breakouts.get_mut(&room) else { return refuse(by, ErrorCode::NoBreakouts) };
        match change(breakouts) {
            Ok(true) => self.tell_breakouts(room),
            Ok(false) => Vec::new(),
            Err(code) => refuse(by, code),
        }
    }

    /// Host `by` says `text` to every group.
    pub(super) fn breakout_say(&mut self, by: ParticipantId, text: ChatText, now_ms: u64) -> Vec<Outgoing> {
        self.breakout_change(by, |b| {
            let seq = b.said.as_ref().map_or(1, |w| w.seq + 1);
            b.said = Some(HostWord { seq, text: text.as_str().to_string(), sent_at_ms: now_ms });
            Ok(true)
        })
    }

    /// Host `by`'s voice is heard in every group, or only where they are.
    pub(super) fn breakout_voice(&mut self, by: ParticipantId, on: bool) -> Vec<Outgoing> {
        self.breakout_change(by, |b| Ok(std::mem::replace(&mut b.voice_all, on) != on))
    }

    /// Host `by` lets `group` share its screen, or not.
    pub(super) fn breakout_share(&mut self, by: ParticipantId, group: u8, allowed: bool) -> Vec<Outgoing> {
        let Some(room) = self.room_of(by) else { return refuse(by, ErrorCode::NotJoined) };
        let (standing, scopes) = (self.standing(room), self.scopes(room));
        let mut out = self.breakout_change(by, |b| {
            if group >= b.groups {
                return Err(ErrorCode::InvalidBreakout);
            }
            Ok(if allowed { b.share.insert(group) } else { b.share.remove(&group) })
        });
        out.extend(self.retell_rules(standing, &scopes));
        out
    }

    /// `who` is told who is with them and what they may do now, unless
    /// they are away (coming back, they are told anyway).
    fn resumed_in_place(&self, who: ParticipantId) -> Option<Outgoing> {
        if self.seats.get(&who).is_some_and(|seat| seat.away_since.is_some()) {
            return None;
        }
        self.resumed(who).map(|message| Outgoing { to: who, message })
    }

    /// Host `by` brings everyone back in `seconds` (at once for 0).
    pub(super) fn breakout_close(&mut self, by: ParticipantId, seconds: u16, now_ms: u64) -> Vec<Outgoing> {
        let room = match self.breakout_host(by) {
            Ok(room) if self.breakouts.contains_key(&room) => room,
            Ok(_) => return refuse(by, ErrorCode::NoBreakouts),
            Err(code) => return refuse(by, code),
        };
        if seconds > MAX_COUNTDOWN_S {
            return refuse(by, ErrorCode::InvalidBreakout);
        }
        self.journal.push(Record::HostDid { by, room, what: "breakouts_close", target: None });
        if seconds == 0 {
            return self.close_breakouts(room);
        }
        let at = now_ms + u64::from(seconds) * 1000;
        self.breakout_change(by, |b| Ok(b.closing_at_ms.replace(at) != Some(at)))
    }

    /// Everyone in `room` comes back to the main room.
    pub(super) fn close_breakouts(&mut self, room: RoomId) -> Vec<Outgoing> {
        let before = self.scopes(room);
        if self.breakouts.remove(&room).is_none() {
            return Vec::new();
        }
        let mut out = self.rescope(room, &before);
        let closed = BreakoutView {
            open: false,
            you: ParticipantId(0),
            groups: Vec::new(),
            main: Vec::new(),
            yours: None,
            host: false,
            choose: false,
            now_ms: self.clock_ms,
            ends_at_ms: None,
            closing_at_ms: None,
            voice_all: false,
            said: None,
        };
        out.extend(tell(self.everyone_in(room), ServerMessage::Breakouts { state: closed }));
        out
    }

    /// The clock: groups whose timer ran out are given their countdown;
    /// those whose countdown ended come back.
    pub(super) fn breakout_clock(&mut self, now_ms: u64) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let rooms: Vec<RoomId> = self.breakouts.keys().copied().collect();
        for room in rooms {
            let Some(breakouts) = self.breakouts.get_mut(&room) else { continue };
            match (breakouts.ends_at_ms, breakouts.closing_at_ms) {
                (_, Some(at)) if at <= now_ms => out.extend(self.close_breakouts(room)),
                (Some(end), None) if end <= now_ms => {
                    breakouts.closing_at_ms = Some(now_ms + TIMER_COUNTDOWN_S * 1000);
                    out.extend(self.tell_breakouts(room));
                }
                _ => {}
            }
        }
        out
    }

    /// `room`'s call is over: its breakout rooms go with it.
    pub(super) fn end_breakouts(&mut self, room: RoomId) {
        self.breakouts.remove(&room);
    }
}

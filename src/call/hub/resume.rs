//! Coming back after a dropped connection, and giving up the places of
//! those who did not come back in time.

use super::*;

impl Hub {
    /// A new connection presents `token` at `now`. On success, says whose
    /// place it takes; the messages (addressed to that participant and to
    /// the others) are to be sent either way, since places past their grace
    /// period are given up first.
    pub fn resume(
        &mut self,
        token: &ResumeToken,
        version: u32,
        account: Option<AccountId>,
        now: Instant,
    ) -> (Result<ParticipantId, ErrorCode>, Vec<Outgoing>) {
        if !speaks(version) {
            return (Err(ErrorCode::UnsupportedVersion), Vec::new());
        }
        let mut out = self.expire(now);
        let who = match self.tokens.get(token) {
            Some(&who) if self.seats.get(&who).is_some_and(|seat| seat.account == account) => who,
            _ => return (Err(ErrorCode::ResumeRefused), out),
        };
        let Some(seat) = self.seats.get_mut(&who) else { return (Err(ErrorCode::ResumeRefused), out) };
        seat.away_since = None;
        let parked = std::mem::take(&mut seat.parked);
        if !seat.admitted {
            // Still waiting: still nothing about the room but whether a host
            // is in (held changes follow, ending where this begins).
            let room = seat.room;
            let host_here = self.host_here(room);
            let full = self.waiting_in(room).iter().any(|w| w.id == who && w.next);
            out.push(Outgoing { to: who, message: ServerMessage::Waiting { resume_token: token.clone(), host_here, full } });
            out.extend(parked.into_iter().map(|message| Outgoing { to: who, message }));
            return (Ok(who), out);
        }
        let (room, host) = (seat.room, seat.host);
        self.journal.push(Record::Reconnected { who });
        let Some(message) = self.resumed(who) else {
            return (Err(ErrorCode::ResumeRefused), out);
        };
        let others = self.near(who).into_iter().filter(|p| *p != who);
        let resumed = tell(others, ServerMessage::ParticipantResumed { id: who });
        out.push(Outgoing { to: who, message });
        out.extend(parked.into_iter().map(|message| Outgoing { to: who, message }));
        out.extend(self.board_for(room, who));
        if host && self.lobbies.contains_key(&room) {
            out.push(Outgoing { to: who, message: self.lobby_message(room) });
        }
        out.extend(self.route(resumed));
        (Ok(who), out)
    }

    /// `who`'s place in their call as they are told it without a new
    /// welcome: themselves, who is with them (their breakout group, while
    /// the call is split), what they may do, how media travels.
    pub(super) fn resumed(&self, who: ParticipantId) -> Option<ServerMessage> {
        let room = self.room_of(who)?;
        let present = self.rooms.get(&room)?;
        let you = present.iter().find(|p| p.id == who)?.clone();
        let near = self.near(who);
        let participants = present.iter().filter(|p| p.id != who && near.contains(&p.id)).cloned().collect();
        Some(ServerMessage::Resumed { you, participants, rules: self.rules_for(who), topology: self.topology_of(room) })
    }

    /// Gives up the places of participants away longer than the grace
    /// period at `now`; the others see them leave.
    pub fn expire(&mut self, now: Instant) -> Vec<Outgoing> {
        let grace = self.grace;
        let gone: Vec<ParticipantId> = self
            .seats
            .iter()
            .filter(|(_, seat)| seat.away_since.is_some_and(|since| now.saturating_duration_since(since) >= grace))
            .map(|(id, _)| *id)
            .collect();
        let mut out: Vec<Outgoing> = gone.into_iter().flat_map(|who| self.handle(Input::Leave { who })).collect();
        let flushed = self.flush_lobbies();
        out.extend(self.route(flushed));
        out
    }
}

//! Coming into a call and leaving it: a join (straight in, or into the
//! lobby), the welcome, a goodbye, and a call closed under everyone.

use super::*;

impl Hub {
    pub(super) fn join(&mut self, who: ParticipantId, version: u32, room: RoomId, entry: Entry) -> Vec<Outgoing> {
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        if !speaks(version) {
            return refuse(ErrorCode::UnsupportedVersion);
        }
        if self.seats.contains_key(&who) {
            return refuse(ErrorCode::AlreadyJoined);
        }
        let Entry { name, account, token, host, lobby, at_ms, mut rules, person, network, removed_ms } = entry;
        let keeps_chat = rules.keep_chat;
        let size = (rules.limit != usize::MAX).then_some(rules.limit);
        rules.topology = crate::call::topology_for(rules.kind, size, self.media);
        // The first join sets them; a call under way keeps them until
        // nobody is in the room or its lobby (see `forget_if_idle`).
        self.settings.entry(room).or_insert(rules);
        if self.locked.contains(&room) && !host {
            // The host learns it, and may unlock.
            let mut out = refuse(ErrorCode::RoomLocked);
            out.extend(tell(self.hosts_in(room), ServerMessage::LockedOut { name }));
            return out;
        }
        let wait = lobby && !host;
        let seat = Seat {
            room,
            account,
            token: token.clone(),
            away_since: None,
            parked: Vec::new(),
            host,
            admitted: !wait,
            may_speak: false,
            held_muted: false,
            media: None,
            keeps_chat,
            person,
            network,
        };
        if wait {
            let lobby = self.lobbies.entry(room).or_default();
            if lobby.len() >= LOBBY_LIMIT {
                return refuse(ErrorCode::RoomFull);
            }
            lobby.push(WaitingGuest { id: who, name, since_ms: at_ms, next: false, removed_ms });
            self.tokens.insert(token.clone(), who);
            self.seats.insert(who, seat);
            let host_here = self.host_here(room);
            let mut out = vec![Outgoing { to: who, message: ServerMessage::Waiting { resume_token: token, host_here, full: false } }];
            out.extend(self.lobby_changed(room));
            return out;
        }
        if self.rooms.get(&room).map_or(0, Vec::len) >= self.limit_of(room) {
            return refuse(ErrorCode::RoomFull);
        }
        self.tokens.insert(token.clone(), who);
        self.seats.insert(who, seat);
        let mut out = self.enter(room, Participant { id: who, name, host }, token);
        // The host of a lobby room learns who waits (even nobody).
        if host && (lobby || self.lobbies.contains_key(&room)) {
            out.push(Outgoing { to: who, message: self.lobby_message(room) });
        }
        out
    }

    /// `you` enters the call in `room`: welcomed, and announced to those
    /// already in it.
    pub(super) fn enter(&mut self, room: RoomId, you: Participant, token: ResumeToken) -> Vec<Outgoing> {
        let (account, host) = self.seats.get(&you.id).map_or((None, false), |s| (s.account, s.host));
        let person = self.seats.get(&you.id).and_then(|s| s.person.clone());
        let pass = self.passes.as_ref().zip(person).map(|(issuer, person)| issuer.issue(room, you.id, &person.key()));
        let rules = self.rules_for(you.id);
        // The first host in: those waiting learn someone can let them in.
        let first_host = host && !self.host_here(room);
        let topology = self.topology_of(room);
        self.journal.push(Record::Entered { who: you.id, room, name: you.name.clone(), account, host });
        // While breakout rooms are open: those in the same group (someone
        // coming back to theirs) or the main room (not yet `you`).
        let near = self.near(you.id);
        let present = self.rooms.entry(room).or_default();
        let mut out: Vec<Outgoing> = present
            .iter()
            .filter(|other| near.contains(&other.id))
            .map(|other| Outgoing { to: other.id, message: ServerMessage::ParticipantJoined { participant: you.clone() } })
            .collect();
        out.push(Outgoing {
            to: you.id,
            message: ServerMessage::Welcome {
                version: PROTOCOL_VERSION,
                you: you.clone(),
                participants: present.iter().filter(|p| near.contains(&p.id)).cloned().collect(),
                ice_servers: self.ice_servers.clone(),
                resume_token: token,
                rules,
                topology,
                pass,
            },
        });
        let joiner = you.id;
        present.push(you);
        if self.locked.contains(&room) {
            out.push(Outgoing { to: joiner, message: ServerMessage::RoomLocked { locked: true } });
        }
        if let Some((_, raised)) = self.hands_shown(room, [joiner]).pop().filter(|(_, raised)| !raised.is_empty()) {
            out.push(Outgoing { to: joiner, message: ServerMessage::Hands { raised } });
        }
        out.extend(self.latest_poll_for(room, joiner));
        out.extend(self.board_for(room, joiner));
        if self.breakouts.contains_key(&room) {
            out.extend(self.tell_breakouts(room));
        }
        for id in near {
            if let Some(state) = self.shown_media(id) {
                out.push(Outgoing { to: joiner, message: ServerMessage::Media { id, state } });
            }
        }
        if first_host {
            out.extend(self.tell_waiting(room, ServerMessage::HostHere { here: true }));
        }
        out
    }

    pub(super) fn leave(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        // Those who saw them (their breakout group, while the call is
        // split), worked out while they still hold their place.
        let seen_by: Vec<ParticipantId> = if self.is_admitted(who) { self.near(who).into_iter().filter(|p| *p != who).collect() } else { Vec::new() };
        let Some(seat) = self.seats.remove(&who) else {
            return Vec::new();
        };
        self.tokens.remove(&seat.token);
        self.promised.remove(&who);
        if !seat.admitted {
            if let Some(lobby) = self.lobbies.get_mut(&seat.room) {
                lobby.retain(|w| w.id != who);
            }
            self.drop_empty_lobby(seat.room);
            return self.lobby_changed(seat.room);
        }
        self.journal.push(Record::Left { who });
        self.board_forget(seat.room, who);
        let Some(present) = self.rooms.get_mut(&seat.room) else {
            return Vec::new();
        };
        present.retain(|p| p.id != who);
        let room = seat.room;
        // Signals held for away participants from someone now gone would
        // only set up a connection to nobody.
        for other in present.iter() {
            if let Some(seat) = self.seats.get_mut(&other.id) {
                seat.parked.retain(|m| !matches!(m, ServerMessage::Signal { from, .. } if *from == who));
            }
        }
        let mut out = tell(seen_by, ServerMessage::ParticipantLeft { id: who });
        if seat.host && !self.host_here(room) {
            out.extend(self.tell_waiting(room, ServerMessage::HostHere { here: false }));
            self.hostless.insert(room, self.clock_ms);
        }
        let Some(present) = self.rooms.get(&room) else { return out };
        if present.is_empty() {
            // The call is over: a later one starts unlocked, hands down.
            self.rooms.remove(&room);
            self.locked.remove(&room);
            self.hands.remove(&room);
            self.end_polls(room);
            self.end_breakouts(room);
            self.boards.remove(&room);
            self.hostless.remove(&room);
            out.extend(self.forget_promises(room));
            self.forget_if_idle(room);
        } else {
            out.extend(self.set_hand(room, who, false));
            if self.breakouts.contains_key(&room) {
                // Nobody could close them or hear a call for help: the
                // groups come back with the last host gone.
                out.extend(if self.host_here(room) { self.tell_breakouts(room) } else { self.close_breakouts(room) });
            }
            // Their place goes to whoever the host let in while it was full.
            out.extend(self.fill_freed_places(room));
        }
        out
    }

    /// Ends the call in `room` (the room was deleted): everyone in it, away
    /// or not, loses their place; nobody is told (the adapter closes their
    /// connections). Returns who was there.
    pub fn close_room(&mut self, room: RoomId) -> Vec<ParticipantId> {
        self.locked.remove(&room);
        self.hostless.remove(&room);
        self.hands.remove(&room);
        self.end_polls(room);
        self.end_breakouts(room);
        self.boards.remove(&room);
        let _ = self.forget_promises(room);
        let mut present: Vec<ParticipantId> = self.rooms.remove(&room).unwrap_or_default().into_iter().map(|p| p.id).collect();
        self.journal.extend(present.iter().map(|&who| Record::Left { who }));
        present.extend(self.lobbies.remove(&room).unwrap_or_default().into_iter().map(|w| w.id));
        self.settings.remove(&room);
        for who in &present {
            if let Some(seat) = self.seats.remove(who) {
                self.tokens.remove(&seat.token);
            }
        }
        present
    }
}

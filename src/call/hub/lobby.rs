//! The lobby: guests waiting to be let in, the host admitting or turning
//! them away, the host's word with a waiting guest, and the waiting list
//! the hosts see (sent at once, then at most once a tick under a flood).

use super::*;

impl Hub {
    pub(super) fn admit(&mut self, by: ParticipantId, who: Option<ParticipantId>) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let waiting: Vec<ParticipantId> = self.lobbies.get(&room).map_or_else(Vec::new, |l| l.iter().map(|w| w.id).collect());
        let chosen: Vec<ParticipantId> = match who {
            Some(who) if waiting.contains(&who) => vec![who],
            Some(_) => return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }],
            None => waiting,
        };
        // One companion at a time may go past a consultation's size.
        let companions = who.is_some() && self.settings.get(&room).is_some_and(|r| r.companions);
        let limit = if companions { self.room_limit } else { self.limit_of(room) };
        let mut out = Vec::new();
        let mut full = false;
        for guest in chosen {
            if self.rooms.get(&room).map_or(0, Vec::len) >= limit {
                // Full: let in as soon as a place frees, in the order let in.
                full = true;
                out.extend(self.promise_place(room, guest, by, limit));
                continue;
            }
            out.extend(self.let_in(room, guest, by));
        }
        if full {
            out.push(Outgoing { to: by, message: ServerMessage::error(ErrorCode::NoRoomToAdmit) });
        }
        self.drop_empty_lobby(room);
        out.extend(self.tell_hosts(room));
        out
    }

    /// Waiting guest `guest` enters `room`'s call, let in by host `by`.
    fn let_in(&mut self, room: RoomId, guest: ParticipantId, by: ParticipantId) -> Vec<Outgoing> {
        let Some(lobby) = self.lobbies.get_mut(&room) else { return Vec::new() };
        let Some(at) = lobby.iter().position(|w| w.id == guest) else { return Vec::new() };
        let entry = lobby.remove(at);
        self.promised.remove(&guest);
        let Some(seat) = self.seats.get_mut(&guest) else { return Vec::new() };
        seat.admitted = true;
        let token = seat.token.clone();
        self.journal.push(Record::HostDid { by, room, what: "admit", target: Some(guest) });
        self.enter(room, Participant { id: guest, name: entry.name, host: false }, token)
    }

    /// Host `by` let waiting guest `guest` in while `room`'s call is full:
    /// they are told so, and enter when a place frees.
    fn promise_place(&mut self, room: RoomId, guest: ParticipantId, by: ParticipantId, limit: usize) -> Vec<Outgoing> {
        let Some(entry) = self.lobbies.get_mut(&room).and_then(|l| l.iter_mut().find(|w| w.id == guest)) else { return Vec::new() };
        if std::mem::replace(&mut entry.next, true) {
            return Vec::new();
        }
        self.promised.insert(guest, (by, limit));
        let Some(seat) = self.seats.get(&guest) else { return Vec::new() };
        vec![Outgoing { to: guest, message: ServerMessage::Waiting { resume_token: seat.token.clone(), host_here: true, full: true } }]
    }

    /// `room`'s call ended: those let in while it was full wait for a host
    /// again, and are told so.
    pub(super) fn forget_promises(&mut self, room: RoomId) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let Some(lobby) = self.lobbies.get_mut(&room) else { return out };
        for guest in lobby.iter_mut().filter(|w| w.next) {
            guest.next = false;
            self.promised.remove(&guest.id);
            if let Some(seat) = self.seats.get(&guest.id) {
                out.push(Outgoing {
                    to: guest.id,
                    message: ServerMessage::Waiting { resume_token: seat.token.clone(), host_here: false, full: false },
                });
            }
        }
        out
    }

    /// A place may have freed in `room`'s call: whoever was let in while it
    /// was full enters (in the lobby's order, longest waiting first) while
    /// there is room under the limit they were let in against.
    pub(super) fn fill_freed_places(&mut self, room: RoomId) -> Vec<Outgoing> {
        let mut out = Vec::new();
        loop {
            let present = self.rooms.get(&room).map_or(0, Vec::len);
            let next = self.waiting_in(room).iter().filter(|w| w.next).find_map(|w| self.promised.get(&w.id).map(|p| (w.id, *p)));
            let Some((guest, (by, _))) = next.filter(|(_, (_, limit))| present < *limit) else { break };
            out.extend(self.let_in(room, guest, by));
        }
        if !out.is_empty() {
            self.drop_empty_lobby(room);
            out.extend(self.tell_hosts(room));
        }
        out
    }

    pub(super) fn deny(&mut self, by: ParticipantId, who: ParticipantId) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let Some(turned_away) = self.turn_away(by, room, who) else {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        };
        let mut out = vec![turned_away];
        out.extend(self.tell_hosts(room));
        out
    }

    /// Host `by` turns away everyone waiting; the hosts see the list once.
    pub(super) fn deny_all(&mut self, by: ParticipantId) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let waiting: Vec<ParticipantId> = self.waiting_in(room).iter().map(|w| w.id).collect();
        if waiting.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Outgoing> = waiting.into_iter().filter_map(|who| self.turn_away(by, room, who)).collect();
        out.extend(self.tell_hosts(room));
        out
    }

    /// Waiting guest `who` leaves `room`'s lobby, turned away by `by`:
    /// what they are told, or `None` if they were not waiting there.
    fn turn_away(&mut self, by: ParticipantId, room: RoomId, who: ParticipantId) -> Option<Outgoing> {
        let lobby = self.lobbies.get_mut(&room)?;
        let at = lobby.iter().position(|w| w.id == who)?;
        lobby.remove(at);
        self.promised.remove(&who);
        self.drop_empty_lobby(room);
        if let Some(seat) = self.seats.remove(&who) {
            self.tokens.remove(&seat.token);
            // Turned away: they may not knock on this room again for a while.
            self.to_mark.extend(seat.person.map(|person| (Cooldown::Denied, room, person)));
        }
        self.journal.push(Record::HostDid { by, room, what: "deny", target: Some(who) });
        Some(Outgoing { to: who, message: ServerMessage::error(ErrorCode::Denied) })
    }

    /// Host `by` says `text` to `guest`, who waits in the lobby: the guest
    /// and every host in the call see it, nobody else.
    pub(super) fn lobby_chat(&mut self, by: ParticipantId, guest: ParticipantId, text: ChatText, sent_at_ms: u64) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        if !self.lobbies.get(&room).is_some_and(|l| l.iter().any(|w| w.id == guest)) {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        let message = ServerMessage::LobbyChat { guest, from_host: true, text, sent_at_ms };
        tell(self.hosts_in(room).into_iter().chain([guest]), message)
    }

    pub(super) fn drop_empty_lobby(&mut self, room: RoomId) {
        if self.lobbies.get(&room).is_some_and(Vec::is_empty) {
            self.lobbies.remove(&room);
        }
        self.forget_if_idle(room);
    }

    /// The lobby of `room` as its host sees it.
    pub(super) fn lobby_message(&self, room: RoomId) -> ServerMessage {
        ServerMessage::Lobby { waiting: self.lobbies.get(&room).cloned().unwrap_or_default() }
    }

    /// Tells everyone waiting in `room`'s lobby `message`.
    pub(super) fn tell_waiting(&self, room: RoomId, message: ServerMessage) -> Vec<Outgoing> {
        tell(self.waiting_in(room).iter().map(|w| w.id), message)
    }

    /// Tells the hosts in `room`'s call who is waiting now.
    pub(super) fn tell_hosts(&mut self, room: RoomId) -> Vec<Outgoing> {
        // Whatever was pending is in this list.
        if let Some(pending) = self.lobby_cooling.get_mut(&room) {
            *pending = false;
        }
        tell(self.hosts_in(room), self.lobby_message(room))
    }

    /// A guest came to or left `room`'s lobby: the hosts hear at once,
    /// unless they just did; then with the next tick.
    pub(super) fn lobby_changed(&mut self, room: RoomId) -> Vec<Outgoing> {
        match self.lobby_cooling.get_mut(&room) {
            Some(pending) => {
                *pending = true;
                Vec::new()
            }
            None => {
                self.lobby_cooling.insert(room, false);
                self.tell_hosts(room)
            }
        }
    }

    /// The tick: rooms whose lobby changed while cooling send their list
    /// now; the others cool down.
    pub(super) fn flush_lobbies(&mut self) -> Vec<Outgoing> {
        let pending: Vec<RoomId> = self.lobby_cooling.iter().filter(|(_, pending)| **pending).map(|(room, _)| *room).collect();
        self.lobby_cooling.retain(|_, pending| *pending);
        pending.into_iter().flat_map(|room| self.tell_hosts(room)).collect()
    }
}

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
        for guest in chosen {
            if self.rooms.get(&room).map_or(0, Vec::len) >= limit {
                out.push(Outgoing { to: by, message: ServerMessage::error(ErrorCode::NoRoomToAdmit) });
                break;
            }
            let Some(lobby) = self.lobbies.get_mut(&room) else { break };
            let Some(at) = lobby.iter().position(|w| w.id == guest) else { continue };
            let entry = lobby.remove(at);
            let Some(seat) = self.seats.get_mut(&guest) else { continue };
            seat.admitted = true;
            let token = seat.token.clone();
            self.journal.push(Record::HostDid { by, room, what: "admit", target: Some(guest) });
            out.extend(self.enter(room, Participant { id: guest, name: entry.name, host: false }, token));
        }
        self.drop_empty_lobby(room);
        out.extend(self.tell_hosts(room));
        out
    }

    pub(super) fn deny(&mut self, by: ParticipantId, who: ParticipantId) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let Some(lobby) = self.lobbies.get_mut(&room) else {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        };
        let Some(at) = lobby.iter().position(|w| w.id == who) else {
            return vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        };
        lobby.remove(at);
        self.drop_empty_lobby(room);
        if let Some(seat) = self.seats.remove(&who) {
            self.tokens.remove(&seat.token);
            // Turned away: they may not knock on this room again for a while.
            self.to_mark.extend(seat.person.map(|person| (Cooldown::Denied, room, person)));
        }
        self.journal.push(Record::HostDid { by, room, what: "deny", target: Some(who) });
        let mut out = vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::Denied) }];
        out.extend(self.tell_hosts(room));
        out
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

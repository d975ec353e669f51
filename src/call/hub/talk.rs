//! What participants say to each other: signals between two of them,
//! chat, raised hands, and what each sends.

use super::*;

impl Hub {
    pub(super) fn relay(&mut self, from: ParticipantId, to: ParticipantId, payload: SignalPayload) -> Vec<Outgoing> {
        let room = match self.seats.get(&from) {
            None => return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }],
            Some(seat) if !seat.admitted => return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotAdmitted) }],
            Some(seat) => seat.room,
        };
        if self.topology_of(room) == Topology::Sfu {
            // Media goes through the media server: browsers do not meet.
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::WrongTopology) }];
        }
        if to == from || !self.seats.get(&to).is_some_and(|seat| seat.admitted && seat.room == room) {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        }
        vec![Outgoing { to, message: ServerMessage::Signal { from, payload } }]
    }

    pub(super) fn chat(&mut self, from: ParticipantId, text: ChatText, sent_at_ms: u64) -> Vec<Outgoing> {
        let Some(seat) = self.seats.get(&from) else {
            return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        let (room, host, keeps_chat) = (seat.room, seat.host, seat.keeps_chat);
        if !seat.admitted {
            // Waiting: a word for the host alone, if one is here to read it.
            let hosts = self.hosts_in(room);
            if hosts.is_empty() {
                return vec![Outgoing { to: from, message: ServerMessage::error(ErrorCode::HostAway) }];
            }
            let message = ServerMessage::LobbyChat { guest: from, from_host: false, text, sent_at_ms };
            return tell(hosts.into_iter().chain([from]), message);
        }
        let present = self.rooms.get(&room).map(Vec::as_slice).unwrap_or_default();
        // Kept only if the speaker was told, on joining, that it is.
        if keeps_chat {
            if let Some(you) = present.iter().find(|p| p.id == from) {
                self.journal.push(Record::Said { room, name: you.name.clone(), host, text: text.clone() });
            }
        }
        // In a breakout group, its own chat.
        tell(self.near(from), ServerMessage::Chat { from, text, sent_at_ms })
    }

    pub(super) fn hand(&mut self, who: ParticipantId, raised: bool) -> Vec<Outgoing> {
        match self.seats.get(&who) {
            None => vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotJoined) }],
            Some(seat) if !seat.admitted => vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotAdmitted) }],
            Some(seat) => {
                let room = seat.room;
                self.set_hand(room, who, raised)
            }
        }
    }

    /// Raises or lowers `who`'s hand in `room`; everyone in the call hears
    /// the new queue if it changed.
    pub(super) fn set_hand(&mut self, room: RoomId, who: ParticipantId, raised: bool) -> Vec<Outgoing> {
        let queue = self.hands.entry(room).or_default();
        let had = queue.contains(&who);
        match (raised, had) {
            (true, false) => queue.push(who),
            (false, true) => queue.retain(|p| *p != who),
            _ => return Vec::new(),
        }
        if queue.is_empty() {
            self.hands.remove(&room);
        }
        self.hands_shown(room, self.everyone_in(room))
            .into_iter()
            .map(|(to, raised)| Outgoing { to, message: ServerMessage::Hands { raised } })
            .collect()
    }

    /// `room`'s raised hands as each of `to` is shown them: all of them to
    /// a host; while the call is split, their own group's (or the main
    /// room's) to the others. Who is where is worked out once.
    pub(super) fn hands_shown(&self, room: RoomId, to: impl IntoIterator<Item = ParticipantId>) -> Vec<(ParticipantId, Vec<ParticipantId>)> {
        let raised = self.hands.get(&room).cloned().unwrap_or_default();
        let split = self.breakouts.contains_key(&room).then(|| self.scopes(room));
        to.into_iter()
            .map(|who| {
                let shown = match &split {
                    Some(scopes) if !self.seats.get(&who).is_some_and(|seat| seat.host) => {
                        raised.iter().copied().filter(|p| scopes.get(p) == scopes.get(&who)).collect()
                    }
                    _ => raised.clone(),
                };
                (who, shown)
            })
            .collect()
    }

    /// `who` sends something else now: the others in the call hear of it.
    pub(super) fn media(&mut self, who: ParticipantId, state: MediaState) -> Vec<Outgoing> {
        let may_share = self.rules_for(who).may_share_screen;
        let Some(seat) = self.seats.get(&who) else {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotJoined) }];
        };
        if !seat.admitted {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::NotAdmitted) }];
        }
        if state.screen.is_some() && !may_share {
            return vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::ScreenShareNotAllowed) }];
        }
        let before = self.shown_media(who);
        let Some(seat) = self.seats.get_mut(&who) else { return Vec::new() };
        if state.microphone {
            // Turning the microphone on again after the host muted them: heard
            // again, where they may unmute (the grant decides).
            seat.held_muted = false;
        }
        seat.media = Some(state);
        self.retell_media(who, before)
    }
}

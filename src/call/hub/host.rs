//! The host's controls over the call: muting, letting a guest speak,
//! removing, locking, lowering hands.

use super::*;

impl Hub {
    /// Whether `who` is the host of a room and in its call; the room if so.
    pub fn host_room(&self, who: ParticipantId) -> Result<RoomId, ErrorCode> {
        match self.seats.get(&who) {
            Some(seat) if seat.host && seat.admitted => Ok(seat.room),
            Some(_) => Err(ErrorCode::NotHost),
            None => Err(ErrorCode::NotJoined),
        }
    }

    pub(super) fn host_action(&mut self, by: ParticipantId, action: HostAction) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return vec![Outgoing { to: by, message: ServerMessage::error(code) }],
        };
        let in_call = |hub: &Self, who: ParticipantId| hub.seats.get(&who).is_some_and(|s| s.room == room && s.admitted);
        let unknown = || vec![Outgoing { to: by, message: ServerMessage::error(ErrorCode::UnknownParticipant) }];
        match action {
            HostAction::Mute(who) if who != by && in_call(self, who) => self.mute(who),
            HostAction::MuteAll => {
                let others: Vec<ParticipantId> = self.everyone_in(room).into_iter().filter(|&p| p != by).collect();
                others.into_iter().flat_map(|who| self.mute(who)).collect()
            }
            HostAction::LetSpeak(who) if who != by && in_call(self, who) => {
                let before = self.shown_media(who);
                let Some(seat) = self.seats.get_mut(&who) else { return unknown() };
                let granted = !seat.may_speak;
                seat.may_speak = true;
                let mut out = if granted {
                    self.journal.push(Record::HostDid { by, room, what: "let_speak", target: Some(who) });
                    vec![Outgoing { to: who, message: ServerMessage::MayUnmute { allowed: true } }]
                } else {
                    Vec::new()
                };
                out.extend(self.set_hand(room, who, false));
                out.extend(self.retell_media(who, before));
                out.extend(self.board_rules_changed(who));
                out
            }
            HostAction::Remove(who) if who != by && self.seats.get(&who).is_some_and(|s| s.room == room) => {
                self.journal.push(Record::HostDid { by, room, what: "remove", target: Some(who) });
                // Coming back, they wait in the lobby for a while.
                let person = self.seats.get(&who).and_then(|seat| seat.person.clone());
                self.to_mark.extend(person.map(|person| (Cooldown::Removed, room, person)));
                // Nor may they walk straight back in from a new browser.
                let network = self.seats.get(&who).and_then(|seat| seat.network);
                self.to_mark.extend(network.map(|network| (Cooldown::RemovedNearby, room, Person::Address(network))));
                let mut out = vec![Outgoing { to: who, message: ServerMessage::error(ErrorCode::Removed) }];
                out.extend(self.leave(who));
                out
            }
            HostAction::Lock(locked) => {
                let changed = if locked { self.locked.insert(room) } else { self.locked.remove(&room) };
                if !changed {
                    return Vec::new();
                }
                self.journal.push(Record::HostDid { by, room, what: if locked { "lock" } else { "unlock" }, target: None });
                tell(self.everyone_in(room), ServerMessage::RoomLocked { locked })
            }
            HostAction::LowerHand(who) => self.set_hand(room, who, false),
            HostAction::LowerAllHands => match self.hands.remove(&room) {
                Some(_) => tell(self.everyone_in(room), ServerMessage::Hands { raised: Vec::new() }),
                None => Vec::new(),
            },
            HostAction::Mute(_) | HostAction::Remove(_) | HostAction::LetSpeak(_) => unknown(),
        }
    }

    /// The host turns `who`'s microphone off. Where guests may not unmute
    /// themselves, a guest the host had let speak must ask again.
    pub(super) fn mute(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let mut out = vec![Outgoing { to: who, message: ServerMessage::MutedByHost }];
        let before = self.shown_media(who);
        let guests_may_unmute = self.rules_of_room(who).is_none_or(|r| r.guests.may_unmute);
        if let Some(seat) = self.seats.get_mut(&who).filter(|s| !s.host) {
            seat.held_muted = true;
        }
        if let Some(seat) = self.seats.get_mut(&who).filter(|s| s.may_speak && !guests_may_unmute) {
            seat.may_speak = false;
            out.push(Outgoing { to: who, message: ServerMessage::MayUnmute { allowed: false } });
            out.extend(self.board_rules_changed(who));
        }
        out.extend(self.retell_media(who, before));
        out
    }

    /// Calls left without a host for [`close::HOSTLESS_MINUTES`] by `now_ms`
    /// end: everyone still in them, or in their lobby, loses their place.
    /// Returns who, to be told with [`close::HOST_LEFT`]; a call whose host
    /// came back, or that emptied, is forgotten.
    pub(super) fn end_hostless(&mut self, now_ms: u64) -> Vec<ParticipantId> {
        let limit = close::HOSTLESS_MINUTES * 60_000;
        let rooms: Vec<(RoomId, u64)> = self.hostless.iter().map(|(&room, &since)| (room, since)).collect();
        let mut ended = Vec::new();
        for (room, since) in rooms {
            if !self.rooms.contains_key(&room) || self.host_here(room) {
                self.hostless.remove(&room);
            } else if now_ms.saturating_sub(since) >= limit {
                self.hostless.remove(&room);
                ended.extend(self.close_room(room));
            }
        }
        ended
    }
}

//! The entry points the server calls, each once per event under one lock:
//! a message from a connection, a connection ending, the tick, a room
//! deleted. Each returns the [`Effects`] the server carries out.

use crate::call::protocol::{close, ClientMessage};

use super::*;

/// Who sent a message: the participant their connection speaks for (until
/// a `join` or `resume` succeeds, a fresh id the hub does not know) and who
/// is behind it (borrowed from the connection: nothing is copied per
/// message).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub who: ParticipantId,
    /// The signed-in account behind the connection, if any.
    pub account: Option<AccountId>,
    /// That account's display name: it wins over anything typed.
    pub account_name: Option<&'a DisplayName>,
    /// Whose browser it is, for cooldowns.
    pub person: &'a Person,
    /// The client's address (behind trusted proxies), for the audit log.
    pub address: IpAddr,
}

/// The time of an event, as the server's clocks say: a monotonic instant
/// for grace periods and cooldowns, Unix milliseconds for what people see
/// (and what TURN credentials expire by).
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub at: Instant,
    pub unix_ms: u64,
}

/// How a connection ended, as far as the call is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Said goodbye (a close frame), misbehaved, or was ended by the server:
    /// the others see the participant leave now.
    ForGood,
    /// Just dropped (reset, timeout, lost network): the place is kept for
    /// the grace period, in case they come back.
    Dropped,
}

/// A connection to close, by the participant it speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    pub who: ParticipantId,
    pub code: u16,
    pub reason: &'static str,
}

/// What the server is to do after one event.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Messages, each to the connection speaking for its addressee.
    pub send: Vec<Outgoing>,
    /// Connections to close once what is queued for them is sent; they
    /// no longer speak for anyone.
    pub close: Vec<Closing>,
    /// Records for attendance, the call's kept chat and the audit log.
    pub records: Vec<Record>,
    /// After a `resume`: the connection speaks for this participant now.
    pub speaks_for: Option<ParticipantId>,
    /// For the media server: rights given or changed, connections to close,
    /// offers and views to carry out.
    pub media: Vec<MediaCommand>,
}

impl Hub {
    /// One message from `from`'s connection at `now`. For a `join`, `facts`
    /// is what the server looked up about the room.
    pub fn receive(&mut self, from: &Caller<'_>, message: ClientMessage, facts: Option<JoinFacts>, now: Now) -> Effects {
        let who = from.who;
        self.clock_ms = now.unix_ms;
        let refuse = |code| vec![Outgoing { to: who, message: ServerMessage::error(code) }];
        let mut effects = Effects::default();
        let out = match message {
            ClientMessage::Join { version, name, .. } => {
                let (out, carried) = self.knock(from, version, &name, facts, now);
                effects.speaks_for = carried;
                out
            }
            ClientMessage::Resume { version, token } => {
                if self.is_member(who) {
                    refuse(ErrorCode::AlreadyJoined)
                } else {
                    let (result, mut out) = self.resume(&token, version, from.account, now.at);
                    match result {
                        Ok(resumed) => effects.speaks_for = Some(resumed),
                        Err(code) => out.extend(refuse(code)),
                    }
                    out
                }
            }
            ClientMessage::Signal { to, payload } => self.handle(Input::Signal { from: who, to, payload }),
            ClientMessage::Chat { text } => match ChatText::parse(&text) {
                Ok(text) => self.handle(Input::Chat { from: who, text, at_ms: now.unix_ms }),
                Err(_) => refuse(ErrorCode::InvalidChat),
            },
            ClientMessage::Hand { raised } => self.handle(Input::Hand { who, raised }),
            ClientMessage::Media { state } => self.handle(Input::Media { who, state }),
            ClientMessage::Leave => self.handle(Input::Leave { who }),
            ClientMessage::IceServers => self.ice_servers_for(who, now),
            ClientMessage::SfuOffer { sdp, sources } => match self.media_caller(who) {
                Ok(()) => {
                    effects.media.push(MediaCommand::Offer { who, sdp, sources });
                    Vec::new()
                }
                Err(code) => refuse(code),
            },
            ClientMessage::SfuView { want } => match self.media_caller(who) {
                Ok(()) => {
                    effects.media.push(MediaCommand::View { who, want });
                    Vec::new()
                }
                Err(code) => refuse(code),
            },
            ClientMessage::Admit { id } => self.as_host(from, "admit", Input::Admit { by: who, who: Some(id) }, &mut effects),
            ClientMessage::AdmitAll => self.as_host(from, "admit", Input::Admit { by: who, who: None }, &mut effects),
            ClientMessage::Deny { id } => self.as_host(from, "deny", Input::Deny { by: who, who: id }, &mut effects),
            ClientMessage::Mute { id } => self.as_host(from, "mute", Input::Host { by: who, action: HostAction::Mute(id) }, &mut effects),
            ClientMessage::MuteAll => self.as_host(from, "mute", Input::Host { by: who, action: HostAction::MuteAll }, &mut effects),
            ClientMessage::Remove { id } => self.as_host(from, "remove", Input::Host { by: who, action: HostAction::Remove(id) }, &mut effects),
            ClientMessage::Lock { locked } => self.as_host(from, "lock", Input::Host { by: who, action: HostAction::Lock(locked) }, &mut effects),
            ClientMessage::LowerHand { id } => {
                self.as_host(from, "lower_hand", Input::Host { by: who, action: HostAction::LowerHand(id) }, &mut effects)
            }
            ClientMessage::DenyAll => self.routed(from, Some("deny"), &mut effects, |hub| hub.deny_all(who)),
            ClientMessage::LowerAllHands => {
                self.as_host(from, "lower_hand", Input::Host { by: who, action: HostAction::LowerAllHands }, &mut effects)
            }
            ClientMessage::LetSpeak { id } => {
                self.as_host(from, "let_speak", Input::Host { by: who, action: HostAction::LetSpeak(id) }, &mut effects)
            }
            ClientMessage::LobbyChat { id, text } => match ChatText::parse(&text) {
                Ok(text) => self.as_host(from, "lobby_chat", Input::LobbyChat { by: who, guest: id, text, at_ms: now.unix_ms }, &mut effects),
                Err(_) => refuse(ErrorCode::InvalidChat),
            },
            // Polls and breakout rooms: a host's actions audited, all routed
            // as `handle` routes (held for whoever is away).
            ClientMessage::PollStart { poll } => self.routed(from, Some("poll_start"), &mut effects, |hub| hub.poll_start(who, poll)),
            ClientMessage::PollAnswer { id, choices } => self.routed(from, None, &mut effects, |hub| hub.poll_answer(who, id, choices)),
            ClientMessage::PollEnd { id } => self.routed(from, Some("poll_end"), &mut effects, |hub| hub.poll_end(who, id)),
            ClientMessage::PollShare { id, shown } => self.routed(from, Some("poll_share"), &mut effects, |hub| hub.poll_share(who, id, shown)),
            ClientMessage::BreakoutOpen { plan } => {
                self.routed(from, Some("breakout_open"), &mut effects, |hub| hub.breakout_open(who, plan, now.unix_ms))
            }
            ClientMessage::BreakoutMove { id, group } => {
                self.routed(from, Some("breakout_move"), &mut effects, |hub| hub.breakout_move(who, id, group))
            }
            ClientMessage::BreakoutChoose { group } => self.routed(from, None, &mut effects, |hub| hub.breakout_choose(who, group)),
            ClientMessage::BreakoutHelp => self.routed(from, None, &mut effects, |hub| hub.breakout_help(who)),
            ClientMessage::BreakoutSay { text } => match ChatText::parse(&text) {
                Ok(text) => self.routed(from, Some("breakout_say"), &mut effects, |hub| hub.breakout_say(who, text, now.unix_ms)),
                Err(_) => refuse(ErrorCode::InvalidChat),
            },
            ClientMessage::BreakoutVoice { on } => self.routed(from, Some("breakout_voice"), &mut effects, |hub| hub.breakout_voice(who, on)),
            ClientMessage::BreakoutShare { group, allowed } => {
                self.routed(from, Some("breakout_share"), &mut effects, |hub| hub.breakout_share(who, group, allowed))
            }
            ClientMessage::BreakoutClose { seconds } => {
                self.routed(from, Some("breakout_close"), &mut effects, |hub| hub.breakout_close(who, seconds, now.unix_ms))
            }
            // The whiteboard: drawing is not audited, a host's decisions are.
            ClientMessage::BoardWatch { on } => self.routed(from, None, &mut effects, |hub| hub.board_watch(who, on)),
            ClientMessage::BoardPut { page, items } => self.routed(from, None, &mut effects, |hub| hub.board_put(who, page, items)),
            ClientMessage::BoardDrop { page, items } => self.routed(from, None, &mut effects, |hub| hub.board_drop(who, page, items)),
            ClientMessage::BoardAddPage => self.routed(from, None, &mut effects, |hub| hub.board_add_page(who)),
            ClientMessage::BoardClear { page } => self.routed(from, Some("board_clear"), &mut effects, |hub| hub.board_clear(who, page)),
            ClientMessage::BoardShow { shown, page } => self.routed(from, Some("board_show"), &mut effects, |hub| hub.board_show(who, shown, page)),
            ClientMessage::BoardKeep => self.routed(from, Some("board_keep"), &mut effects, |hub| hub.board_keep(who)),
            ClientMessage::BoardRule { rule } => self.routed(from, Some("board_rule"), &mut effects, |hub| hub.board_rule(who, rule)),
            ClientMessage::EndForAll => match self.audit_host(from, "end_for_all", &mut effects) {
                Ok(room) => {
                    let gone = self.close_room(room);
                    effects.close.extend(gone.into_iter().map(|who| Closing { who, code: close::ENDED_BY_HOST, reason: "the host ended the call" }));
                    effects.records.push(Record::Ended { by: who, room });
                    Vec::new()
                }
                Err(code) => refuse(code),
            },
        };
        effects.send = out;
        self.finish(effects, now)
    }

    /// `who`'s connection ended at `now`, as `ending` says.
    pub fn gone(&mut self, who: ParticipantId, ending: Ending, now: Now) -> Effects {
        self.clock_ms = now.unix_ms;
        let input = match ending {
            Ending::ForGood => Input::Leave { who },
            Ending::Dropped => Input::Drop { who, at: now.at },
        };
        let send = self.handle(input);
        self.finish(Effects { send, ..Effects::default() }, now)
    }

    /// The regular tick: places past their grace period are given up,
    /// lobby lists held back under a flood of knocks are sent, and calls
    /// left too long without a host end.
    pub fn tick(&mut self, now: Now) -> Effects {
        self.clock_ms = now.unix_ms;
        let mut send = self.expire(now.at);
        let timed = self.breakout_clock(now.unix_ms);
        send.extend(self.route(timed));
        let close = self.end_hostless(now.unix_ms).into_iter().map(|who| Closing { who, code: close::HOST_LEFT, reason: "the host left" }).collect();
        self.finish(Effects { send, close, ..Effects::default() }, now)
    }

    /// The room was deleted: everyone in its call or lobby loses their
    /// place and their connection closes with [`close::ROOM_CLOSED`].
    pub fn room_deleted(&mut self, room: RoomId, now: Now) -> Effects {
        let close = self.close_room(room).into_iter().map(|who| Closing { who, code: close::ROOM_CLOSED, reason: "room closed" }).collect();
        self.finish(Effects { close, ..Effects::default() }, now)
    }

    /// Cluster mode: node `node` serves `room`'s call now (this one lost
    /// its lease while it could not renew it). Everyone in the call or its
    /// lobby leaves it here, is told where it went, and their connection
    /// closes with [`close::MOVED`]: they join again there.
    pub fn room_moved(&mut self, room: RoomId, node: &str, now: Now) -> Effects {
        let who = self.close_room(room);
        let send = who.iter().map(|&to| Outgoing { to, message: ServerMessage::Moved { node: node.to_string() } }).collect();
        let close = who.into_iter().map(|who| Closing { who, code: close::MOVED, reason: "call moved" }).collect();
        self.finish(Effects { send, close, ..Effects::default() }, now)
    }

    /// Host action `input` from `from`, under the name `action` (refused,
    /// for someone not the host, by the handler itself).
    fn as_host(&mut self, from: &Caller<'_>, action: &'static str, input: Input, effects: &mut Effects) -> Vec<Outgoing> {
        let _ = self.audit_host(from, action, effects);
        self.handle(input)
    }

    /// An action of `from` done outside `handle` (polls, breakout rooms,
    /// the lobby's deny all): noted for the audit log under `audited` if it
    /// is the host's (refused by `act` itself for anyone else), and routed
    /// as `handle` routes.
    fn routed(
        &mut self,
        from: &Caller<'_>,
        audited: Option<&'static str>,
        effects: &mut Effects,
        act: impl FnOnce(&mut Self) -> Vec<Outgoing>,
    ) -> Vec<Outgoing> {
        if let Some(action) = audited {
            let _ = self.audit_host(from, action, effects);
        }
        let out = act(self);
        self.route(out)
    }

    /// The room `from` hosts. A host's action from someone who is not the
    /// host is worth knowing about: it is noted for the audit log, then
    /// refused like any other.
    fn audit_host(&self, from: &Caller<'_>, action: &'static str, effects: &mut Effects) -> Result<RoomId, ErrorCode> {
        let hosted = self.host_room(from.who);
        if let (Err(ErrorCode::NotHost), Some(seat)) = (hosted, self.seats.get(&from.who)) {
            let (participant, account, client, room) = (from.who, from.account, from.address, seat.room);
            effects.records.push(Record::Refused { participant, account, action, client, room });
        }
        hosted
    }

    /// Whether `who` may speak to the media server: in a call through it.
    fn media_caller(&self, who: ParticipantId) -> Result<(), ErrorCode> {
        match self.seats.get(&who) {
            None => Err(ErrorCode::NotJoined),
            Some(seat) if !seat.admitted => Err(ErrorCode::NotAdmitted),
            Some(seat) if self.topology_of(seat.room) != Topology::Sfu => Err(ErrorCode::WrongTopology),
            Some(_) => Ok(()),
        }
    }

    /// Answers `ice_servers`: fresh ones for someone in a call, a refusal
    /// for anyone else.
    fn ice_servers_for(&self, who: ParticipantId, now: Now) -> Vec<Outgoing> {
        let message = if self.is_admitted(who) {
            let mut ice_servers = self.ice_servers.clone();
            ice_servers.extend(self.turn.as_ref().map(|turn| turn.issue(who, now.unix_ms / 1000)));
            ServerMessage::IceServers { ice_servers }
        } else if self.is_member(who) {
            ServerMessage::error(ErrorCode::NotAdmitted)
        } else {
            ServerMessage::error(ErrorCode::NotJoined)
        };
        vec![Outgoing { to: who, message }]
    }

    /// Rounds a step off: only someone let into a call gets TURN
    /// credentials, fresh, with their welcome; cooldowns take the step's
    /// time; what the hub noted goes out as records.
    fn finish(&mut self, mut effects: Effects, now: Now) -> Effects {
        if let Some(turn) = &self.turn {
            for Outgoing { to, message } in &mut effects.send {
                if let ServerMessage::Welcome { ice_servers, .. } = message {
                    ice_servers.push(turn.issue(*to, now.unix_ms / 1000));
                }
            }
        }
        self.mark_cooldowns(now.at);
        effects.records.extend(self.take_records());
        // Rights first: an offer needs its grant, a revoke ends the offer.
        let mut media = self.media_commands();
        media.append(&mut effects.media);
        effects.media = media;
        effects
    }
}

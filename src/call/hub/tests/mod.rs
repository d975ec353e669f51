//! The hub's tests, one behaviour per file, over one harness: a hub is
//! fed inputs and what it says is read back. No sockets, no clock (time is
//! an `Instant` the test chooses), no database.

use std::time::{Duration, Instant};

use super::*;
use crate::call::protocol::{ClientMessage, MediaState, SignalPayload, PROTOCOL_VERSION};

mod board;
mod breakouts;
mod door;
mod host;
mod joining;
mod lobby;
mod media;
mod polls;
mod records;
mod resume;
mod step;
mod talk;

pub(super) fn slug(c: char) -> RoomId {
    RoomId(c as i64)
}

pub(super) fn name(n: &str) -> DisplayName {
    DisplayName::parse(n).unwrap()
}

pub(super) fn token(who: u64) -> ResumeToken {
    ResumeToken(format!("token-of-{who}"))
}

pub(super) fn chat(text: &str) -> ChatText {
    ChatText::parse(text).unwrap()
}

pub(super) fn offer(sdp: &str) -> SignalPayload {
    SignalPayload::Offer { sdp: sdp.into() }
}

/// One `join`, built up: by default a guest of room 'a' named "P<who>",
/// no account, no lobby, the room's default rules, at time 0.
pub(super) struct Joiner {
    who: u64,
    room: char,
    name: String,
    account: Option<AccountId>,
    host: bool,
    lobby: bool,
    at_ms: u64,
    version: u32,
    rules: RoomRules,
    person: Option<Person>,
}

pub(super) fn joiner(who: u64) -> Joiner {
    Joiner {
        who,
        room: 'a',
        name: format!("P{who}"),
        account: None,
        host: false,
        lobby: false,
        at_ms: 0,
        version: PROTOCOL_VERSION,
        rules: RoomRules::default(),
        person: None,
    }
}

impl Joiner {
    pub(super) fn room(self, room: char) -> Self {
        Self { room, ..self }
    }
    pub(super) fn named(self, name: &str) -> Self {
        Self { name: name.into(), ..self }
    }
    pub(super) fn account(self, account: AccountId) -> Self {
        Self { account: Some(account), ..self }
    }
    pub(super) fn host(self, host: bool) -> Self {
        Self { host, ..self }
    }
    pub(super) fn lobby(self, lobby: bool) -> Self {
        Self { lobby, ..self }
    }
    pub(super) fn at_ms(self, at_ms: u64) -> Self {
        Self { at_ms, ..self }
    }
    pub(super) fn version(self, version: u32) -> Self {
        Self { version, ..self }
    }
    pub(super) fn rules(self, rules: RoomRules) -> Self {
        Self { rules, ..self }
    }
    pub(super) fn person(self, person: Person) -> Self {
        Self { person: Some(person), ..self }
    }
    pub(super) fn input(self) -> Input {
        let entry = Entry {
            name: name(&self.name),
            account: self.account,
            token: token(self.who),
            host: self.host,
            lobby: self.lobby,
            at_ms: self.at_ms,
            rules: self.rules,
            person: self.person,
            network: None,
            removed_ms: None,
        };
        Input::Join { who: ParticipantId(self.who), version: self.version, room: slug(self.room), entry }
    }
    pub(super) fn into(self, hub: &mut Hub) -> Vec<Outgoing> {
        hub.handle(self.input())
    }
}

/// A guest `n` joins `room`, which has no lobby.
pub(super) fn join(hub: &mut Hub, who: u64, room: char, n: &str) -> Vec<Outgoing> {
    joiner(who).room(room).named(n).into(hub)
}

/// `who` comes to room 'a' as `n`, as its host or not, through its lobby or
/// not (knocking at 1000 + who ms).
pub(super) fn enter(hub: &mut Hub, who: u64, n: &str, host: bool, lobby: bool) -> Vec<Outgoing> {
    joiner(who).named(n).host(host).lobby(lobby).at_ms(1000 + who).into(hub)
}

/// `who` comes to room 'a' under `rules`.
pub(super) fn enter_with(hub: &mut Hub, who: u64, host: bool, lobby: bool, rules: RoomRules) -> Vec<Outgoing> {
    joiner(who).host(host).lobby(lobby).rules(rules).into(hub)
}

/// Host 1 with guests 2 and 3 in the call (no lobby).
pub(super) fn call_of_three() -> Hub {
    let mut hub = Hub::new(vec![]);
    enter(&mut hub, 1, "Host", true, false);
    enter(&mut hub, 2, "Pat", false, false);
    enter(&mut hub, 3, "Sam", false, false);
    hub
}

/// A class: guests join muted, may not unmute or share their screen.
pub(super) fn class_rules() -> RoomRules {
    RoomRules { guests: CallRules { join_muted: true, may_unmute: false, may_share_screen: false, relay_only: false }, ..RoomRules::default() }
}

pub(super) fn drop_at(hub: &mut Hub, who: u64, at: Instant) -> Vec<Outgoing> {
    hub.handle(Input::Drop { who: ParticipantId(who), at })
}

/// Host 1 does `action`.
pub(super) fn host_does(hub: &mut Hub, action: HostAction) -> Vec<Outgoing> {
    hub.handle(Input::Host { by: ParticipantId(1), action })
}

pub(super) fn media(hub: &mut Hub, who: u64, microphone: bool, camera: bool, screen: Option<&str>) -> Vec<Outgoing> {
    let screen = screen.map(|s| crate::call::protocol::StreamId::try_from(s.to_string()).unwrap());
    hub.handle(Input::Media { who: ParticipantId(who), state: MediaState { microphone, camera, screen } })
}

/// The error code of a lone refusal, if that is what `out` is.
pub(super) fn error_code(out: &[Outgoing]) -> Option<ErrorCode> {
    match out {
        [Outgoing { message: ServerMessage::Error { code, .. }, .. }] => Some(*code),
        _ => None,
    }
}

/// Who waits, by id, in a lobby update.
pub(super) fn waiting_ids(message: &ServerMessage) -> Vec<u64> {
    match message {
        ServerMessage::Lobby { waiting } => waiting.iter().map(|w| w.id.0).collect(),
        other => panic!("expected a lobby update, got {other:?}"),
    }
}

/// The rules in `to`'s welcome among `out`.
pub(super) fn welcome_rules(out: &[Outgoing], to: u64) -> CallRules {
    out.iter()
        .find_map(|o| match &o.message {
            ServerMessage::Welcome { rules, .. } if o.to == ParticipantId(to) => Some(*rules),
            _ => None,
        })
        .expect("a welcome")
}

/// Connection `who`'s caller: a guest browser of its own, from 127.0.0.1.
/// (Its person lives as long as the test: a few bytes, leaked.)
pub(super) fn caller(who: u64) -> Caller<'static> {
    Caller {
        who: ParticipantId(who),
        account: None,
        account_name: None,
        person: Box::leak(Box::new(Person::Guest(format!("browser-{who}")))),
        address: [127, 0, 0, 1].into(),
    }
}

/// `secs` seconds after `t0`, at Unix time 1,800,000,000 s + `secs`.
pub(super) fn at(t0: Instant, secs: u64) -> Now {
    Now { at: t0 + Duration::from_secs(secs), unix_ms: (1_800_000_000 + secs) * 1000 }
}

/// Room 'a' as the database describes it: open, no passcode, a lobby if
/// `lobby`; `host` says whether the caller owns it.
pub(super) fn found(host: bool, lobby: bool) -> FoundRoom {
    FoundRoom {
        id: slug('a'),
        host,
        lobby,
        rules: RoomRules::default(),
        window: JoinWindow::Open,
        passcode: Passcode::NoneSet,
        carried: None,
        marked: Vec::new(),
    }
}

/// `from` sends a `join` for a room the server found as `room`, typing `n`.
pub(super) fn knock(hub: &mut Hub, from: &Caller<'_>, room: FoundRoom, n: &str, now: Now) -> Effects {
    let message = ClientMessage::Join {
        version: PROTOCOL_VERSION,
        room: crate::domain::RoomSlug::parse("aaaaaaaaaaaaaaaaaaaaaaaa").unwrap(),
        name: n.into(),
        passcode: None,
        pass: None,
    };
    let facts = JoinFacts { room: Lookup::Found(room), token: token(from.who.0) };
    hub.receive(from, message, Some(facts), now)
}

/// The codes of the refusals among `effects` sent to `to`.
pub(super) fn refusals(effects: &Effects, to: u64) -> Vec<ErrorCode> {
    effects
        .send
        .iter()
        .filter(|o| o.to == ParticipantId(to))
        .filter_map(|o| match &o.message {
            ServerMessage::Error { code, .. } => Some(*code),
            _ => None,
        })
        .collect()
}

//! Who may enter: a `join` with what the server looked up about its room
//! (does it exist, is it open now, was the passcode right), decided here
//! together with the cooldowns of people turned away or removed.

use super::*;

/// How long a turned-away guest may not knock on that room again.
pub const DENY_COOLDOWN: Duration = Duration::from_secs(120);
/// How long someone removed from a call must wait in the lobby to come back.
pub const REMOVED_WAIT: Duration = Duration::from_secs(60 * 60);
/// How long, after a removal, anyone from the removed person's address (an
/// IPv6 /64) waits in the lobby of a room that has none: a removed guest
/// came straight back from a new browser, a stranger to their cookie.
pub const REMOVED_NEARBY_WAIT: Duration = Duration::from_secs(10 * 60);

/// Who a connection belongs to, for the cooldowns that concern a person
/// (turned away, removed): many people share one address at a school or a
/// clinic, so those are keyed to the person, not to where they come from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Person {
    /// A signed-in account.
    Account(AccountId),
    /// A guest's browser, by the random identity in its guest cookie.
    Guest(String),
    /// A client that sent no guest cookie: its address (an IPv6 /64) is
    /// all we know.
    Address(ClientNetwork),
}

impl Person {
    /// Who they are, as a pass names them (`crate::call::pass`).
    pub fn key(&self) -> String {
        match self {
            Person::Account(id) => format!("account:{}", id.0),
            Person::Guest(cookie) => format!("guest:{cookie}"),
            Person::Address(network) => format!("network:{network}"),
        }
    }
}

/// Which cooldown a person is marked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cooldown {
    /// Turned away from the lobby: no knocking for [`DENY_COOLDOWN`].
    Denied,
    /// Removed from the call: back only through the lobby for [`REMOVED_WAIT`].
    Removed,
    /// From the address of someone removed: through the lobby for
    /// [`REMOVED_NEARBY_WAIT`].
    RemovedNearby,
}

impl Cooldown {
    /// How long a mark holds.
    pub fn keep(self) -> Duration {
        match self {
            Cooldown::Denied => DENY_COOLDOWN,
            Cooldown::Removed => REMOVED_WAIT,
            Cooldown::RemovedNearby => REMOVED_NEARBY_WAIT,
        }
    }

    /// Its name, as the store other nodes read names it.
    pub fn name(self) -> &'static str {
        match self {
            Cooldown::Denied => "denied",
            Cooldown::Removed => "removed",
            Cooldown::RemovedNearby => "removed_nearby",
        }
    }
}

/// Room and person pairs marked, each until its mark runs out.
#[derive(Debug)]
pub struct Marks {
    keep: Duration,
    until: HashMap<(RoomId, Person), Instant>,
}

impl Marks {
    pub fn new(keep: Duration) -> Self {
        Self { keep, until: HashMap::new() }
    }

    /// Marks `person` for `room` from `now`, for the whole `keep`.
    pub fn mark(&mut self, room: RoomId, person: Person, now: Instant) {
        self.mark_left(room, person, self.keep, now);
    }

    /// Marks `person` for `room` for `left` from `now` (a mark made on
    /// another node, with that much of it left), unless a mark already
    /// holds longer.
    fn mark_left(&mut self, room: RoomId, person: Person, left: Duration, now: Instant) {
        let until = now + left.min(self.keep);
        let kept = self.until.entry((room, person)).or_insert(until);
        *kept = (*kept).max(until);
    }

    /// How long ago `person` was marked for `room`, if the mark still holds
    /// at `now`.
    pub fn marked_ago(&self, room: RoomId, person: &Person, now: Instant) -> Option<Duration> {
        let until = *self.until.get(&(room, person.clone()))?;
        (now < until).then(|| self.keep.saturating_sub(until - now))
    }

    /// Whether a mark of `person` for `room` holds at `now` (marks run out
    /// are forgotten on the way).
    pub fn holds(&mut self, room: RoomId, person: &Person, now: Instant) -> bool {
        self.until.retain(|_, until| now < *until);
        self.until.contains_key(&(room, person.clone()))
    }
}

/// What the server looked up for a `join`, and the fresh resume token the
/// place will have if one is given.
#[derive(Debug, Clone)]
pub struct JoinFacts {
    pub room: Lookup,
    pub token: ResumeToken,
}

/// What the join link led to.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// No room has that link.
    NotFound,
    /// Too many links from this address led nowhere lately: not looked up.
    TooManyWrongLinks,
    /// Cluster mode: node `node` serves this room's call; nothing else was
    /// checked here (the passcode, the lobby and the schedule are that
    /// node's to check).
    Elsewhere {
        node: String,
    },
    /// Cluster mode: the store that places calls could not be reached, and
    /// this node does not serve the room's call.
    Unplaced,
    Found(FoundRoom),
}

/// A room as stored, in the terms the call needs.
#[derive(Debug, Clone)]
pub struct FoundRoom {
    pub id: RoomId,
    /// The caller's account owns it.
    pub host: bool,
    /// Guests wait in its lobby (always, for a consultation).
    pub lobby: bool,
    pub rules: RoomRules,
    /// Whether guests may come in now.
    pub window: JoinWindow,
    /// The passcode check, for a guest of a room that has one.
    pub passcode: Passcode,
    /// Cluster mode: the participant this person was in the room's call
    /// before it moved here, by the pass they showed (checked by the door).
    pub carried: Option<ParticipantId>,
    /// Cluster mode: the cooldowns other nodes marked this person (or,
    /// for [`Cooldown::RemovedNearby`], their network) for in this room,
    /// each with the time it has left.
    pub marked: Vec<(Cooldown, Duration)>,
}

/// Whether a room's guests may come in now, by its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinWindow {
    Open,
    /// Its next session has not opened yet.
    NotYet,
    /// Its last session is over.
    Ended,
}

/// What checking the guest's passcode said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passcode {
    /// The room has none.
    NoneSet,
    /// The room has one, and it was not checked (the host needs none, and
    /// a closed room is refused anyway).
    NotChecked,
    Right,
    Wrong,
    /// Too many wrong ones lately: not checked.
    TooMany,
}

impl Hub {
    /// `from` knocks with a `join`, `typed` being the name they typed: the
    /// host comes in whenever; a guest only while the room is open, not
    /// while turned away, and with the right passcode. Someone removed
    /// lately waits in the lobby, whatever the room's setting.
    /// A person with a pass for the call (it moved here from a node that
    /// stopped) comes back in as the same participant, past the lobby,
    /// unless a cooldown holds them or someone has that id here already;
    /// the second value is the participant the connection speaks for then.
    pub(super) fn knock(
        &mut self,
        from: &Caller<'_>,
        version: u32,
        typed: &str,
        facts: Option<JoinFacts>,
        now: Now,
    ) -> (Vec<Outgoing>, Option<ParticipantId>) {
        // A connection already in a call asks for no second place (a pass
        // must not leave its first one behind, held by nobody).
        if self.seats.contains_key(&from.who) {
            return (vec![Outgoing { to: from.who, message: ServerMessage::error(ErrorCode::AlreadyJoined) }], None);
        }
        let carried = match &facts {
            Some(JoinFacts { room: Lookup::Found(room), .. }) => room.carried.filter(|id| !self.seats.contains_key(id)),
            _ => None,
        };
        let mut out = self.knock_as(from, carried, version, typed, facts, now);
        let seated = carried.filter(|id| self.seats.contains_key(id));
        // Refused under the carried id: the refusal goes to the connection.
        if let (Some(id), None) = (carried, seated) {
            for message in out.iter_mut().filter(|m| m.to == id) {
                message.to = from.who;
            }
        }
        (out, seated)
    }

    fn knock_as(
        &mut self,
        from: &Caller<'_>,
        carried: Option<ParticipantId>,
        version: u32,
        typed: &str,
        facts: Option<JoinFacts>,
        now: Now,
    ) -> Vec<Outgoing> {
        let who = carried.unwrap_or(from.who);
        let refuse = |code| vec![Outgoing { to: from.who, message: ServerMessage::error(code) }];
        let Some(JoinFacts { room, token }) = facts else { return refuse(ErrorCode::UnknownRoom) };
        let room = match room {
            Lookup::Found(room) => room,
            Lookup::NotFound => return refuse(ErrorCode::UnknownRoom),
            Lookup::TooManyWrongLinks => return refuse(ErrorCode::TooManyWrongLinks),
            // A page of version 2 cannot follow: reloaded, it can.
            Lookup::Elsewhere { .. } if version < 3 => return refuse(ErrorCode::UnsupportedVersion),
            Lookup::Elsewhere { node } => return vec![Outgoing { to: from.who, message: ServerMessage::Moved { node } }],
            Lookup::Unplaced => return refuse(ErrorCode::TryAgain),
        };
        let network = ClientNetwork::of(from.address);
        self.take_marks(&room, from.person, network, now.at);
        if !room.host {
            let refusal = match room.window {
                JoinWindow::Open => None,
                JoinWindow::NotYet => Some(ErrorCode::NotOpenYet),
                JoinWindow::Ended => Some(ErrorCode::SessionEnded),
            };
            let refusal = refusal.or_else(|| self.denied.holds(room.id, from.person, now.at).then_some(ErrorCode::Denied)).or(match room.passcode {
                Passcode::NoneSet | Passcode::Right => None,
                Passcode::NotChecked | Passcode::Wrong => Some(ErrorCode::WrongPasscode),
                Passcode::TooMany => Some(ErrorCode::TooManyPasscodes),
            });
            if let Some(code) = refusal {
                return refuse(code);
            }
        }
        // A signed-in account's own name wins over anything typed.
        let name = match from.account_name {
            Some(name) => name.clone(),
            None => match DisplayName::parse(typed) {
                Ok(name) => name,
                Err(_) => return refuse(ErrorCode::InvalidName),
            },
        };
        let removed = self.removed.holds(room.id, from.person, now.at) || self.removed_nearby.holds(room.id, &Person::Address(network), now.at);
        let lobby = (room.lobby && carried.is_none()) || (!room.host && removed);
        // The host is told when the one knocking is someone they removed.
        let removed_ms = self
            .removed
            .marked_ago(room.id, from.person, now.at)
            .filter(|_| !room.host)
            .map(|ago| now.unix_ms.saturating_sub(ago.as_millis() as u64));
        let entry = Entry {
            name,
            account: from.account,
            token,
            host: room.host,
            lobby,
            at_ms: now.unix_ms,
            rules: room.rules,
            person: Some(from.person.clone()),
            network: Some(network),
            removed_ms,
        };
        self.handle(Input::Join { who, version, room: room.id, entry })
    }

    /// Marks those turned away or removed in this step, at `now`, and
    /// records each mark (in cluster mode, other nodes learn of it).
    pub(super) fn mark_cooldowns(&mut self, now: Instant) {
        for (cooldown, room, person) in std::mem::take(&mut self.to_mark) {
            self.journal.push(Record::Marked { cooldown, room, person: person.clone() });
            self.marks(cooldown).mark(room, person, now);
        }
    }

    /// What other nodes marked the person knocking on `room` for, as this
    /// node's own marks.
    fn take_marks(&mut self, room: &FoundRoom, person: &Person, network: ClientNetwork, now: Instant) {
        for &(cooldown, left) in &room.marked {
            let marked = match cooldown {
                Cooldown::RemovedNearby => Person::Address(network),
                Cooldown::Denied | Cooldown::Removed => person.clone(),
            };
            self.marks(cooldown).mark_left(room.id, marked, left, now);
        }
    }

    fn marks(&mut self, cooldown: Cooldown) -> &mut Marks {
        match cooldown {
            Cooldown::Denied => &mut self.denied,
            Cooldown::Removed => &mut self.removed,
            Cooldown::RemovedNearby => &mut self.removed_nearby,
        }
    }
}

//! Refused host actions in the append-only audit log, a few at a time.
//!
//! A guest who tries a host's action (admit, mute, end...) is worth a row:
//! someone probing a call. But every row is kept for months, and a script
//! can try thousands a second, from new connections each time (a waiting
//! guest reconnects and is a new participant). So refusals are written in
//! full only a few a minute per client address (its /64 for IPv6) and per
//! room, across connections; the rest are counted, and once the room's
//! minute is over one row says how many more there were.
//!
//! Sans-IO: time comes in, decisions go out; `attendance::write_records`
//! carries them out.

use std::collections::HashMap;
use std::net::IpAddr;

use jiff::Timestamp;

use crate::call::RoomId;
use crate::domain::ClientNetwork;

/// Refusals written in full from one address (or /64) in a window.
pub const IN_FULL_PER_ADDRESS: u32 = 3;
/// Refusals written in full in one room in a window, whoever they come from.
pub const IN_FULL_PER_ROOM: u32 = 10;
/// The window refusals are counted in.
pub const WINDOW_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    written: u32,
    held_back: u32,
}

impl Window {
    fn new(now: Timestamp) -> Self {
        Self { started: now, written: 0, held_back: 0 }
    }

    fn over(&self, now: Timestamp) -> bool {
        now.as_second() - self.started.as_second() >= WINDOW_SECONDS
    }
}

/// What to do with one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Write it in full.
    Write,
    /// Count it: it is said in its room's summary.
    HoldBack,
}

/// This minute's refusals, per address and per room.
#[derive(Debug, Default)]
pub struct RefusalTally {
    by_address: HashMap<ClientNetwork, Window>,
    by_room: HashMap<RoomId, Window>,
}

impl RefusalTally {
    /// A refusal from `address` in `room` at `now`. Call [`Self::due`]
    /// first, so a room whose minute is over says its count before a new
    /// one starts.
    pub fn refused(&mut self, address: IpAddr, room: RoomId, now: Timestamp) -> Tally {
        let by_address = self.by_address.entry(ClientNetwork::of(address)).or_insert_with(|| Window::new(now));
        if by_address.over(now) {
            *by_address = Window::new(now);
        }
        let by_room = self.by_room.entry(room).or_insert_with(|| Window::new(now));
        if by_address.written < IN_FULL_PER_ADDRESS && by_room.written < IN_FULL_PER_ROOM {
            by_address.written += 1;
            by_room.written += 1;
            Tally::Write
        } else {
            by_room.held_back += 1;
            Tally::HoldBack
        }
    }

    /// Rooms whose minute is over, with how many refusals were held back
    /// (only those with some); their windows, and every address's that is
    /// over, are forgotten.
    pub fn due(&mut self, now: Timestamp) -> Vec<(RoomId, u32)> {
        self.by_address.retain(|_, w| !w.over(now));
        self.take_rooms(|w| w.over(now))
    }

    /// Every room's count held back so far, minute over or not (the
    /// server is stopping); all is forgotten.
    pub fn flush(&mut self) -> Vec<(RoomId, u32)> {
        self.by_address.clear();
        self.take_rooms(|_| true)
    }

    fn take_rooms(&mut self, done: impl Fn(&Window) -> bool) -> Vec<(RoomId, u32)> {
        let mut taken: Vec<(RoomId, u32)> =
            self.by_room.iter().filter(|(_, w)| done(w) && w.held_back > 0).map(|(room, w)| (*room, w.held_back)).collect();
        taken.sort_by_key(|(room, _)| room.0);
        self.by_room.retain(|_, w| !done(w));
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_gets_a_few_rows_a_minute_however_many_connections_it_opens() {
        let mut tally = RefusalTally::default();
        let room = RoomId(7);
        let firsts: Vec<Tally> = (0..3).map(|_| tally.refused(ip("203.0.113.5"), room, at(0))).collect();
        assert_eq!(firsts, [Tally::Write; 3]);
        for s in 0..280 {
            assert_eq!(tally.refused(ip("203.0.113.5"), room, at(s % 59)), Tally::HoldBack);
        }
        assert_eq!(tally.due(at(59)), [], "the minute is not over");
        assert_eq!(tally.due(at(60)), [(room, 280)], "then its count is said, once");
        assert_eq!(tally.due(at(61)), []);
        assert_eq!(tally.refused(ip("203.0.113.5"), room, at(61)), Tally::Write, "a new minute");
        // One IPv6 network is one address.
        let v6: Vec<Tally> = (1..=4).map(|n| tally.refused(ip(&format!("2001:db8:1:2::{n}")), room, at(61))).collect();
        assert_eq!(v6, [Tally::Write, Tally::Write, Tally::Write, Tally::HoldBack]);
    }

    #[test]
    fn a_room_gets_a_few_rows_a_minute_however_many_addresses_try() {
        let mut tally = RefusalTally::default();
        let (room, other) = (RoomId(7), RoomId(8));
        let written = (0..40).filter(|n| tally.refused(ip(&format!("198.51.100.{n}")), room, at(0)) == Tally::Write).count();
        assert_eq!(written, IN_FULL_PER_ROOM as usize);
        assert_eq!(tally.refused(ip("198.51.100.200"), other, at(1)), Tally::Write, "another room has its own");
        assert_eq!(tally.due(at(60)), [(room, 30)]);
    }

    #[test]
    fn stopping_says_what_was_held_back_before_its_minute_is_over() {
        let mut tally = RefusalTally::default();
        let room = RoomId(7);
        for _ in 0..5 {
            tally.refused(ip("203.0.113.5"), room, at(0));
        }
        assert_eq!(tally.due(at(10)), []);
        assert_eq!(tally.flush(), [(room, 2)]);
        assert_eq!(tally.flush(), []);
    }
}

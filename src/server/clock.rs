//! The time as the application sees it: the system clock, which tests can
//! shift to any moment (join windows open and close at set times).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

/// The system clock plus an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_nanos: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let offset = SignedDuration::from_nanos(self.offset_nanos.load(Ordering::Relaxed));
        Timestamp::now().checked_add(offset).unwrap_or_else(|_| Timestamp::now())
    }

    /// From now on, time runs on from `at`.
    pub fn set(&self, at: Timestamp) {
        // Nanoseconds, so the clock is never set to a hair before `at`.
        let offset = at.duration_since(Timestamp::now()).as_nanos();
        self.offset_nanos.store(i64::try_from(offset).unwrap_or(0), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_runs_on_from_the_moment_it_was_set_to() {
        let clock = Clock::default();
        let at: Timestamp = "2030-01-01T09:00:00Z".parse().unwrap();
        clock.set(at);
        let shown = clock.now();
        assert!(shown >= at && shown < at.checked_add(SignedDuration::from_secs(5)).unwrap(), "{shown}");
        let copy = clock.clone();
        copy.set("2031-01-01T00:00:00Z".parse().unwrap());
        assert!(clock.now() > "2030-12-31T00:00:00Z".parse::<Timestamp>().unwrap(), "clones share the time");
    }
}

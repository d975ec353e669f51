//! Log lines anyone on the internet can cause (a refused host action, a
//! wrong passcode, a cross-site post) are written at most a few per window
//! each; the rest are counted, and the next line written says how many it
//! stands for. A flood then costs the log a line or two a second, not one
//! per request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A budget for one kind of line.
#[derive(Debug)]
pub struct LogBudget {
    per_window: u32,
    window: Duration,
    state: Mutex<Spent>,
}

#[derive(Debug)]
struct Spent {
    since: Option<Instant>,
    written: u32,
    dropped: u64,
}

impl LogBudget {
    /// At most `per_window` lines each `window`.
    pub const fn new(per_window: u32, window: Duration) -> Self {
        Self { per_window, window, state: Mutex::new(Spent { since: None, written: 0, dropped: 0 }) }
    }

    /// Whether a line may be written at `now`: `Some(n)` with the number of
    /// lines dropped since the last one written (to log with it), `None`
    /// to drop this one.
    pub fn allow(&self, now: Instant) -> Option<u64> {
        let mut spent = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if spent.since.is_none_or(|since| now.saturating_duration_since(since) >= self.window) {
            spent.since = Some(now);
            spent.written = 0;
        }
        if spent.written < self.per_window {
            spent.written += 1;
            Some(std::mem::take(&mut spent.dropped))
        } else {
            spent.dropped += 1;
            None
        }
    }
}

/// Logs at `level` through `budget`, adding `dropped` (the lines not
/// written since the last one) to the fields.
#[macro_export]
macro_rules! log_within {
    ($budget:expr, $level:ident, $($field:tt)+) => {{
        static BUDGET: $crate::server::log_budget::LogBudget = $budget;
        if let Some(dropped) = BUDGET.allow(std::time::Instant::now()) {
            tracing::$level!(dropped, $($field)+);
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gets_a_few_lines_a_window_and_the_next_one_says_how_many_were_dropped() {
        let budget = LogBudget::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let allowed: Vec<Option<u64>> = (0..1000).map(|_| budget.allow(t0)).collect();
        assert_eq!(&allowed[..3], [Some(0), Some(0), Some(0)]);
        assert!(allowed[3..].iter().all(Option::is_none));
        assert_eq!(budget.allow(t0 + Duration::from_secs(9)), None);
        assert_eq!(budget.allow(t0 + Duration::from_secs(10)), Some(998), "997 in the flood and one more");
        assert_eq!(budget.allow(t0 + Duration::from_secs(10)), Some(0));
    }
}

//! A token bucket per connection: bursts up to `capacity` messages (a join's
//! offers and ICE candidates come in bursts), then `per_second` sustained.
//! Time is passed in.

use std::time::Instant;

/// How many messages a connection may send right now.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(capacity: u32, per_second: u32, now: Instant) -> Self {
        Self { capacity: f64::from(capacity), per_second: f64::from(per_second), tokens: f64::from(capacity), last: now }
    }

    /// Takes one token; `false` when the bucket is empty.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_up_to_capacity_passes_then_stops() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(5, 1, now);
        assert!((0..5).all(|_| bucket.take(now)));
        assert!(!bucket.take(now));
    }

    #[test]
    fn tokens_come_back_at_the_sustained_rate_up_to_capacity() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(5, 10, start);
        (0..5).for_each(|_| {
            bucket.take(start);
        });
        let later = start + Duration::from_millis(300);
        assert_eq!((0..10).filter(|_| bucket.take(later)).count(), 3);
        let much_later = later + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.take(much_later)).count(), 5, "refill must stop at capacity");
    }
}

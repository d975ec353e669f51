//! Sign-in throttling: after `limit` failures for a key (an account's email,
//! a client address), each further failure blocks that key for twice as long
//! as the last, from one second up to a cap. Blocks always expire, and a
//! key's record is forgotten after a quiet hour, so nobody can lock a real
//! user out for good. Time is passed in, so the rules are tested without
//! waiting.
//!
//! An attempt whose check takes time (a password hash) is reserved with
//! [`Throttle::begin`] before the check and counts against the limit while
//! it runs, so a burst sent at once cannot all be checked before the first
//! failure is counted.
//!
//! In cluster mode the failures are also counted in Redis, so a load
//! balancer spreading attempts over several nodes gives nobody more tries:
//! a key blocked there is blocked on every node. If Redis cannot be
//! reached, each node's own count still holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server::cluster::Cluster;

/// First block once over the limit; each further failure doubles it.
const FIRST_BLOCK: Duration = Duration::from_secs(1);
/// The longest any block lasts.
const LONGEST_BLOCK: Duration = Duration::from_secs(15 * 60);
/// A key with no failure for this long starts afresh.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    /// Attempts reserved and still being checked.
    in_flight: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

/// How long a key is blocked after its `failures`-th failure, with `limit`
/// allowed: from the first over the limit, one second doubling to a cap.
fn block_after(failures: u32, limit: u32) -> Option<Duration> {
    let over = failures.checked_sub(limit)?.checked_sub(1)?;
    Some(FIRST_BLOCK.saturating_mul(1 << over.min(20)).min(LONGEST_BLOCK))
}

/// Failure counts per key.
pub struct Throttle {
    limit: u32,
    records: Mutex<HashMap<String, Record>>,
    /// Cluster mode: counted in Redis too, under this kind of key.
    shared: Option<(Arc<Cluster>, &'static str)>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").field("limit", &self.limit).field("shared", &self.shared.as_ref().map(|(_, kind)| kind)).finish()
    }
}

impl Throttle {
    /// Allows `limit` failures per key before blocking.
    pub fn new(limit: u32) -> Self {
        Self { limit, records: Mutex::new(HashMap::new()), shared: None }
    }

    /// Cluster mode: failures counted across every node, as `kind`.
    pub fn shared(self, cluster: Option<&Arc<Cluster>>, kind: &'static str) -> Self {
        Self { shared: cluster.map(|c| (Arc::clone(c), kind)), ..self }
    }

    /// `Err(wait)` while `key` is blocked (what the rules' tests read).
    #[cfg(test)]
    fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let records = self.lock();
        match records.get(key).and_then(|r| r.blocked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Reserves an attempt for `key`: `Err(wait)` while it is blocked, or
    /// while the failures so far and the attempts still being checked are
    /// over the limit (so past it, one attempt at a time). The reservation ends with the returned [`Attempt`]:
    /// as a failure, a success, or (dropped) neither.
    pub async fn begin(&self, key: &str, now: Instant) -> Result<Attempt<'_>, Duration> {
        let attempt = self.begin_here(key, now)?;
        if let Some((cluster, kind)) = &self.shared {
            if let Some(wait) = cluster.blocked(kind, key).await {
                return Err(wait);
            }
        }
        Ok(attempt)
    }

    /// [`Throttle::begin`], with this node's own counts alone.
    fn begin_here(&self, key: &str, now: Instant) -> Result<Attempt<'_>, Duration> {
        let mut records = self.lock();
        records.retain(|_, r| r.in_flight > 0 || now.duration_since(r.last_failure) < FORGET_AFTER);
        let record = records.entry(key.to_string()).or_insert(Record { failures: 0, in_flight: 0, last_failure: now, blocked_until: None });
        if let Some(until) = record.blocked_until.filter(|until| *until > now) {
            return Err(until - now);
        }
        // Past the limit, one check at a time: the others wait for its
        // verdict (which, a failure, blocks them longer).
        if record.in_flight > 0 && record.failures.saturating_add(record.in_flight) > self.limit {
            return Err(FIRST_BLOCK);
        }
        record.in_flight += 1;
        Ok(Attempt { throttle: self, key: key.to_string(), open: true })
    }

    /// Counts a failure for `key`, blocking it once over the limit.
    fn failure(&self, key: &str, now: Instant) {
        let mut records = self.lock();
        records.retain(|_, r| r.in_flight > 0 || now.duration_since(r.last_failure) < FORGET_AFTER);
        let record = records.entry(key.to_string()).or_insert(Record { failures: 0, in_flight: 0, last_failure: now, blocked_until: None });
        record.failures = record.failures.saturating_add(1);
        record.last_failure = now;
        if let Some(block) = block_after(record.failures, self.limit) {
            record.blocked_until = Some(now + block);
        }
    }

    /// Forgets `key`'s failures (after a successful sign-in).
    fn success(&self, key: &str) {
        self.lock().remove(key);
    }

    /// An attempt reserved by `begin` ended without a verdict.
    fn release(&self, key: &str) {
        if let Some(record) = self.lock().get_mut(key) {
            record.in_flight = record.in_flight.saturating_sub(1);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An attempt reserved with [`Throttle::begin`]; dropped without a verdict
/// (an error on the way), it simply stops counting.
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: String,
    open: bool,
}

impl Attempt<'_> {
    /// The attempt failed: it counts as a failure (on every node, in
    /// cluster mode).
    pub async fn failed(mut self, now: Instant) {
        // Counted before its reservation ends: never a moment when it
        // counts as neither, for another attempt to slip through.
        self.throttle.failure(&self.key, now);
        self.close();
        if let Some((cluster, kind)) = &self.throttle.shared {
            let limit = self.throttle.limit;
            cluster.failed(kind, &self.key, FORGET_AFTER, |failures| block_after(failures, limit)).await;
        }
    }

    /// The attempt succeeded: the key's failures are forgotten.
    pub async fn succeeded(mut self) {
        self.close();
        self.throttle.success(&self.key);
        if let Some((cluster, kind)) = &self.throttle.shared {
            cluster.forget(kind, &self.key).await;
        }
    }

    /// The attempt ends without counting either way.
    pub fn neither(mut self) {
        self.close();
    }

    fn close(&mut self) {
        if std::mem::take(&mut self.open) {
            self.throttle.release(&self.key);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_times(t: &Throttle, key: &str, n: u32, now: Instant) {
        for _ in 0..n {
            t.failure(key, now);
        }
    }

    #[test]
    fn failures_up_to_the_limit_do_not_block() {
        let t = Throttle::new(3);
        let now = Instant::now();
        fail_times(&t, "a", 3, now);
        assert_eq!(t.check("a", now), Ok(()));
    }

    #[test]
    fn each_failure_over_the_limit_doubles_the_block() {
        let t = Throttle::new(3);
        let now = Instant::now();
        fail_times(&t, "a", 4, now);
        assert_eq!(t.check("a", now), Err(Duration::from_secs(1)));
        t.failure("a", now);
        assert_eq!(t.check("a", now), Err(Duration::from_secs(2)));
        t.failure("a", now);
        assert_eq!(t.check("a", now), Err(Duration::from_secs(4)));
    }

    #[test]
    fn a_block_always_expires_and_never_exceeds_fifteen_minutes() {
        let t = Throttle::new(1);
        let now = Instant::now();
        fail_times(&t, "a", 200, now);
        assert_eq!(t.check("a", now), Err(LONGEST_BLOCK));
        assert_eq!(t.check("a", now + LONGEST_BLOCK), Ok(()));
    }

    #[test]
    fn keys_are_independent_and_success_clears_one() {
        let t = Throttle::new(1);
        let now = Instant::now();
        fail_times(&t, "a", 2, now);
        assert!(t.check("a", now).is_err());
        assert_eq!(t.check("b", now), Ok(()));
        t.success("a");
        assert_eq!(t.check("a", now), Ok(()));
    }

    #[tokio::test]
    async fn attempts_being_checked_count_so_a_burst_cannot_all_be_checked() {
        let t = Throttle::new(3);
        let now = Instant::now();
        let mut burst = Vec::new();
        for _ in 0..100 {
            burst.extend(t.begin("a", now).await.ok());
        }
        assert_eq!(burst.len(), 4, "the limit plus the one failure that blocks");
        for attempt in burst {
            attempt.failed(now).await;
        }
        assert!(t.begin("a", now).await.is_err(), "blocked after the burst");
    }

    #[tokio::test]
    async fn an_attempt_dropped_or_ended_without_a_verdict_stops_counting() {
        let t = Throttle::new(0);
        let now = Instant::now();
        let first = t.begin("a", now).await.unwrap();
        assert_eq!(t.begin("a", now).await.unwrap_err(), FIRST_BLOCK);
        drop(first);
        t.begin("a", now).await.unwrap().neither();
        t.begin("a", now).await.unwrap().succeeded().await;
        assert!(t.begin("a", now).await.is_ok());
        t.begin("b", now).await.unwrap().failed(now).await;
        assert!(t.begin("b", now).await.is_err(), "a failure over a limit of 0 blocks");
    }

    #[test]
    fn the_block_doubles_from_one_second_past_the_limit_to_fifteen_minutes() {
        assert_eq!([3, 4, 5, 6].map(|f| block_after(f, 3)), [None, Some(FIRST_BLOCK), Some(2 * FIRST_BLOCK), Some(4 * FIRST_BLOCK)]);
        assert_eq!(block_after(0, 0), None);
        assert_eq!(block_after(u32::MAX, 0), Some(LONGEST_BLOCK));
    }

    #[test]
    fn a_quiet_hour_forgets_old_failures() {
        let t = Throttle::new(2);
        let start = Instant::now();
        fail_times(&t, "a", 2, start);
        let later = start + FORGET_AFTER + Duration::from_secs(1);
        t.failure("a", later);
        assert_eq!(t.check("a", later), Ok(()), "old failures still counted");
    }
}

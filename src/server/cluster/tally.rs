//! Failure counts every node shares (the throttles' in cluster mode): a
//! Redis hash per key, with its count and the instant it is blocked until,
//! forgotten after a quiet while. The rules (how long a block lasts) stay
//! the throttle's; Redis only counts.

use std::time::Duration;

use super::{unix_ms, Cluster};
use crate::server::log_budget::LogBudget;

/// One more failure in the hash `KEYS[1]`, which is forgotten `ARGV[1]` ms
/// after the last one; the count so far.
const COUNT: &str = "local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n";

/// Blocks `KEYS[1]` until `ARGV[1]` (ms since the epoch), unless it already
/// is until later.
const RAISE: &str = "local u = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if u < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'until', ARGV[1]) end
return 1";

impl Cluster {
    /// How long `key` (of `kind`: sign-ins per account, passcodes per
    /// room and person, …) is blocked by failures counted on every node;
    /// `None` if it is not, or if Redis cannot say (each node's own count
    /// still holds then).
    pub async fn blocked(&self, kind: &str, key: &str) -> Option<Duration> {
        let key = self.tally_key(kind, key);
        let until = match self.call(&[b"HGET", key.as_bytes(), b"until"]).await.and_then(|r| r.text()) {
            Ok(until) => until?.parse::<u64>().ok()?,
            Err(e) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: counting failures on this node alone: {e}");
                return None;
            }
        };
        let now = unix_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// One more failure for `key` of `kind` on every node: the key is
    /// blocked as long as `block` says for the count so far, and the count
    /// is forgotten after a quiet `forget_after` (the throttle's rules).
    pub async fn failed(&self, kind: &str, key: &str, forget_after: Duration, block: impl Fn(u32) -> Option<Duration>) {
        let key = self.tally_key(kind, key);
        let forget = forget_after.as_millis().to_string();
        let counted = self.call(&[b"EVAL", COUNT.as_bytes(), b"1", key.as_bytes(), forget.as_bytes()]).await.and_then(|r| r.int());
        let failures = match counted {
            Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
            Err(e) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: a failure was counted on this node alone: {e}");
                return;
            }
        };
        if let Some(block) = block(failures) {
            let until = (unix_ms() + u64::try_from(block.as_millis()).unwrap_or(u64::MAX)).to_string();
            if let Err(e) = self.call(&[b"EVAL", RAISE.as_bytes(), b"1", key.as_bytes(), until.as_bytes()]).await {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: a block was kept on this node alone: {e}");
            }
        }
    }

    /// Forgets `key`'s failures on every node (it succeeded).
    pub async fn forget(&self, kind: &str, key: &str) {
        let key = self.tally_key(kind, key);
        if let Err(e) = self.call(&[b"DEL", key.as_bytes()]).await {
            crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: failures were forgotten on this node alone: {e}");
        }
    }

    /// The key counting failures of `kind` for `key`: a hash of it, so
    /// neither emails nor addresses are written to Redis.
    fn tally_key(&self, kind: &str, key: &str) -> String {
        format!("{}thr:{kind}:{}", self.settings.prefix, super::hashed(&format!("{kind}\0{key}")))
    }
}

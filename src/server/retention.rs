//! How long records are kept: attendance, kept chat and the audit log each
//! have a number of days (`HUDDLE_KEEP_*_DAYS`; polls and kept whiteboards
//! go with attendance), and a daily sweep deletes what is older. The audit
//! log keeps at least 30 days whatever is set (its delete trigger refuses
//! younger rows).

use std::time::Duration;

use crate::server::db::{sql, Db};
use jiff::{SignedDuration, Timestamp};

use crate::error::AppError;
use crate::server::clock::Clock;

/// Days each kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub attendance_days: u32,
    pub chat_days: u32,
    pub audit_days: u32,
}

/// The shortest the audit log may be kept, in days.
pub const AUDIT_MINIMUM_DAYS: u32 = 30;

impl Default for Retention {
    fn default() -> Self {
        Self { attendance_days: 365, chat_days: 30, audit_days: 365 }
    }
}

/// Rows deleted by one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub attendance: u64,
    pub chat: u64,
    pub audit: u64,
    /// Polls kept as long as attendance: a named one says who was there.
    pub polls: u64,
    /// Kept whiteboards, as long as attendance: what a session's people drew.
    pub boards: u64,
}

/// The moment `days` before `now`, as the tables write time (UTC, RFC 3339
/// with milliseconds), so that text comparison orders it correctly.
fn cutoff(now: Timestamp, days: u32) -> Result<String, AppError> {
    let then =
        now.checked_sub(SignedDuration::from_hours(24 * i64::from(days))).map_err(|e| AppError::internal("computing a retention cut-off", e))?;
    Ok(then.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Deletes what is older than `retention` allows at `now`: stays that
/// ended before the cut-off, kept chat sent before it, audit rows written
/// before it, polls asked and whiteboards kept before it.
pub async fn sweep(db: &Db, retention: Retention, now: Timestamp) -> Result<Swept, AppError> {
    let delete = |statement: &'static str, days: u32| async move {
        let done = sql::query(statement).bind(cutoff(now, days)?).execute(db).await;
        done.map_err(|e| AppError::internal("deleting old records failed", e))
    };
    Ok(Swept {
        attendance: delete("DELETE FROM attendance WHERE left_at IS NOT NULL AND left_at < $1", retention.attendance_days).await?,
        chat: delete("DELETE FROM kept_chat WHERE sent_at < $1", retention.chat_days).await?,
        audit: delete("DELETE FROM audit_events WHERE at < $1", retention.audit_days.max(AUDIT_MINIMUM_DAYS)).await?,
        polls: delete("DELETE FROM polls WHERE opened_at < $1", retention.attendance_days).await?,
        boards: delete("DELETE FROM boards WHERE kept_at < $1", retention.attendance_days).await?,
    })
}

/// Sweeps at start and then once a day, until the server stops.
pub async fn daily(db: Db, retention: Retention, clock: Clock) {
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tick.tick().await;
        match sweep(&db, retention, clock.now()).await {
            Ok(swept) if swept != Swept::default() => {
                tracing::info!(
                    attendance = swept.attendance,
                    chat = swept.chat,
                    audit = swept.audit,
                    polls = swept.polls,
                    boards = swept.boards,
                    "old records deleted"
                );
            }
            // A failure is logged by `AppError::internal`; tomorrow tries again.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_off_is_written_as_the_tables_write_time() {
        let now: Timestamp = "2026-11-26T15:00:00Z".parse().unwrap();
        assert_eq!(cutoff(now, 30).unwrap(), "2026-10-27T15:00:00.000Z");
        assert!(cutoff(now, 1).unwrap().as_str() > "2026-11-25T14:59:59.999999999Z");
    }
}

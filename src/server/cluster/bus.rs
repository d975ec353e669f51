//! What one node does that every node must carry out: a sign-out closes
//! that sign-in's sockets wherever they are, ending the other sessions or
//! changing the password closes the account's, deleting a room ends its
//! call on the node that serves it.
//!
//! The bus is a Redis stream (`{prefix}bus`), not pub/sub: each node reads
//! on from the last entry it saw, so one whose connection to Redis broke
//! for a moment misses nothing. A sign-out or a deleted room Redis could
//! not take is kept and sent once it answers again. Meanwhile (and should
//! the publishing node stop first) the regular re-check closes what it
//! can: a socket whose account moved to a newer session epoch, or whose
//! room is gone, within a minute.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Cluster, Redis, RedisError, Reply};
use crate::call::hub::RoomId;
use crate::domain::AccountId;
use crate::server::db::{sql, Db};
use crate::server::log_budget::LogBudget;
use crate::server::signaling::{Login, Signaling};

/// Entries the stream keeps (roughly): far more than nodes fall behind by.
const KEEP: &str = "10000";
/// How long one read waits for a new entry.
const WAIT_MS: &str = "1000";
/// Commands kept while Redis cannot take them, at most.
const UNSENT: usize = 1000;

/// One command for every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Everywhere {
    /// A sign-in ended (signed out, or expired): its sockets close.
    CloseLogin { account: AccountId, login: u64 },
    /// The account moved to session epoch `epoch` (its password changed,
    /// or its other sessions were ended): its sockets close, except those
    /// of sign-in `keep`, which is valid under the new epoch.
    CloseAccount { account: AccountId, keep: Option<u64>, epoch: i64 },
    /// The room was deleted: its call ends.
    CloseRoom { room: i64 },
}

impl Everywhere {
    /// Carries the command out on this node and, in cluster mode, has
    /// every other node carry it out.
    pub async fn everywhere(&self, signaling: &Signaling, cluster: Option<&Cluster>) {
        self.apply(signaling);
        if let Some(cluster) = cluster {
            cluster.publish(self).await;
        }
    }

    /// Carries the command out on this node.
    pub fn apply(&self, signaling: &Signaling) {
        match *self {
            Everywhere::CloseLogin { account, login } => signaling.close_login(Login { account, login }),
            Everywhere::CloseAccount { account, keep, epoch } => signaling.close_account(account, keep, epoch),
            Everywhere::CloseRoom { room } => signaling.close_room(RoomId(room)),
        }
    }
}

impl Cluster {
    /// Has every other node carry `command` out (this one did already).
    /// Redis unreachable, a sign-out or a deleted room is kept and sent
    /// once Redis answers again: carried out late, or twice, they close
    /// only what should be closed. A new session epoch is not kept (late,
    /// it would close sign-ins made since); the others' regular re-check
    /// compares epochs with the database instead.
    pub async fn publish(&self, command: &Everywhere) {
        if let Err(e) = self.add(command).await {
            let keep = !matches!(command, Everywhere::CloseAccount { .. });
            tracing::error!(
                kept = keep,
                "cluster: a command for every node was carried out on this node only ({e}); a kept one is sent once Redis answers, the re-check closes what the rest would have"
            );
            if keep {
                let mut unsent = self.unsent.lock().unwrap_or_else(|p| p.into_inner());
                unsent.push(command.clone());
                keep_newest(&mut unsent);
            }
        }
    }

    /// Sends what [`Cluster::publish`] could not, in order, as far as
    /// Redis takes it.
    async fn send_unsent(&self) {
        let unsent = std::mem::take(&mut *self.unsent.lock().unwrap_or_else(|p| p.into_inner()));
        for (sent, command) in unsent.iter().enumerate() {
            if self.add(command).await.is_err() {
                let mut later = self.unsent.lock().unwrap_or_else(|p| p.into_inner());
                let newer = std::mem::take(&mut *later);
                later.extend(unsent.into_iter().skip(sent));
                later.extend(newer);
                keep_newest(&mut later);
                return;
            }
        }
        if !unsent.is_empty() {
            tracing::info!(commands = unsent.len(), "cluster: what Redis could not take earlier reached the other nodes");
        }
    }

    /// Appends `command` to the bus.
    async fn add(&self, command: &Everywhere) -> Result<(), RedisError> {
        let json = serde_json::to_string(command).map_err(|_| RedisError::Protocol("a command that does not serialize"))?;
        let key = self.bus_key();
        self.call(&[b"XADD", key.as_bytes(), b"MAXLEN", b"~", KEEP.as_bytes(), b"*", b"from", self.me.instance.as_bytes(), b"do", json.as_bytes()])
            .await
            .map(|_| ())
    }

    /// Reads the bus on a connection of its own, from the newest entry at
    /// start, carrying out what other nodes published (and, once a read
    /// succeeds, sending what this node could not publish); and every
    /// `recheck` period re-checks this node's signed-in sockets and calls
    /// against the database. Until the node stops.
    pub async fn listen(self: Arc<Self>, signaling: std::sync::Weak<Signaling>, db: Db) {
        let reader = Redis::new(self.settings.redis.clone());
        let key = self.bus_key();
        let mut last: Option<String> = None;
        let mut rechecked = Instant::now();
        while !self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            let Some(signaling) = signaling.upgrade() else { return };
            if rechecked.elapsed() >= self.settings.recheck {
                rechecked = Instant::now();
                self.recheck(&signaling, &db).await;
            }
            let read = match &last {
                Some(from) => read_after(&reader, &key, from).await,
                None => newest(&reader, &key).await.map(|id| {
                    last = Some(id);
                    Vec::new()
                }),
            };
            match read {
                Ok(entries) => {
                    self.send_unsent().await;
                    for (id, from, command) in entries {
                        last = Some(id);
                        match command {
                            Some(command) if from != self.me.instance => command.apply(&signaling),
                            Some(_) => {}
                            None => {
                                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: an unreadable bus entry was skipped")
                            }
                        }
                    }
                }
                Err(e) => {
                    crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: reading the bus failed: {e}");
                    drop(signaling);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// What the bus may have missed (an entry published while Redis was
    /// down): signed-in sockets whose account moved to a newer session
    /// epoch (or is gone) close, and calls whose room was deleted end.
    async fn recheck(&self, signaling: &Signaling, db: &Db) {
        for (account, epoch) in signaling.signed_in() {
            match crate::server::accounts::find(db, account).await {
                Ok(found) => {
                    let current = found.map(|a| a.session_epoch);
                    if current != Some(epoch) {
                        signaling.close_stale(account, current);
                    }
                }
                Err(_) => return, // logged by `AppError::internal`; next time
            }
        }
        for room in self.rooms() {
            let exists = sql::query_as::<(i64,)>("SELECT count(*) FROM rooms WHERE id = $1").bind(room.0).fetch_one(db).await;
            match exists {
                Ok((0,)) => signaling.close_room(room),
                Ok(_) => {}
                Err(e) => {
                    crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: re-checking rooms failed: {e}");
                    return;
                }
            }
        }
    }

    fn bus_key(&self) -> String {
        format!("{}bus", self.settings.prefix)
    }
}

/// Leaves the newest [`UNSENT`] of `unsent`.
fn keep_newest(unsent: &mut Vec<Everywhere>) {
    if unsent.len() > UNSENT {
        unsent.drain(..unsent.len() - UNSENT);
        crate::log_within!(LogBudget::new(1, Duration::from_secs(60)), warn, "cluster: too many commands unsent; the oldest are dropped");
    }
}

/// The id of the stream's newest entry (`0-0` while it has none).
async fn newest(reader: &Redis, key: &str) -> Result<String, RedisError> {
    let Reply::Array(entries) = reader.call(&[b"XREVRANGE", key.as_bytes(), b"+", b"-", b"COUNT", b"1"]).await? else {
        return Err(RedisError::Protocol("an XREVRANGE answer that is no list"));
    };
    match entries.into_iter().next() {
        Some(Reply::Array(mut entry)) if !entry.is_empty() => Ok(entry.swap_remove(0).text()?.unwrap_or_else(|| "0-0".into())),
        _ => Ok("0-0".into()),
    }
}

/// The entries after `from` (waiting up to a second for one): each id,
/// the instance that published it, and its command (`None` if unreadable).
async fn read_after(reader: &Redis, key: &str, from: &str) -> Result<Vec<(String, String, Option<Everywhere>)>, RedisError> {
    let reply = reader.call(&[b"XREAD", b"COUNT", b"100", b"BLOCK", WAIT_MS.as_bytes(), b"STREAMS", key.as_bytes(), from.as_bytes()]).await?;
    let Reply::Array(streams) = reply else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for stream in streams {
        let Reply::Array(mut stream) = stream else { continue };
        let Some(Reply::Array(entries)) = stream.pop() else { continue };
        for entry in entries {
            let Reply::Array(mut entry) = entry else { continue };
            let (Some(Reply::Array(fields)), Some(id)) = (entry.pop(), entry.pop()) else { continue };
            let Some(id) = id.text()? else { continue };
            let (mut from, mut command) = (String::new(), None);
            for pair in fields.chunks(2) {
                if let [name, value] = pair {
                    match (name.clone().text()?.as_deref(), value.clone().text()?) {
                        (Some("from"), Some(v)) => from = v,
                        (Some("do"), Some(v)) => command = serde_json::from_str(&v).ok(),
                        _ => {}
                    }
                }
            }
            out.push((id, from, command));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_travel_as_tagged_json_and_back() {
        let all = [
            Everywhere::CloseLogin { account: AccountId(3), login: u64::MAX },
            Everywhere::CloseAccount { account: AccountId(3), keep: Some(9), epoch: 4 },
            Everywhere::CloseAccount { account: AccountId(3), keep: None, epoch: 5 },
            Everywhere::CloseRoom { room: 12 },
        ];
        for command in all {
            let json = serde_json::to_string(&command).unwrap();
            assert_eq!(serde_json::from_str::<Everywhere>(&json).unwrap(), command, "{json}");
        }
        assert_eq!(serde_json::to_string(&Everywhere::CloseRoom { room: 1 }).unwrap(), r#"{"do":"close_room","room":1}"#);
    }
}

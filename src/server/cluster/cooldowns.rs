//! Cooldowns every node knows of: a person turned away from a room's lobby
//! or removed from its call is marked in Redis for as long as the cooldown
//! lasts, so that the node a call moves to (its own having stopped) holds
//! them as the first did. The rules (who is marked, for how long, what a
//! mark means) stay the hub's ([`crate::call::hub::door`]); Redis only
//! remembers, under a SHA-256 of the person: no account id, cookie or
//! address is written in clear (a guess can still be checked against a
//! hash: Redis is trusted as the database is).

use std::time::Duration;

use super::Cluster;
use crate::call::hub::{Cooldown, Person, RoomId};
use crate::domain::ClientNetwork;
use crate::server::log_budget::LogBudget;

/// The time to live of each of `KEYS` in ms (negative: not there).
const LEFT: &str = "local left = {}
for i, key in ipairs(KEYS) do left[i] = redis.call('PTTL', key) end
return left";

impl Cluster {
    /// Marks `person` for `cooldown` in `room` on every node, for as long
    /// as it lasts. When Redis cannot be reached, the mark holds on this
    /// node alone (where the call is).
    pub async fn mark(&self, cooldown: Cooldown, room: RoomId, person: &Person) {
        let key = self.cooldown_key(cooldown, room, person);
        let keep = cooldown.keep().as_millis().to_string();
        if let Err(e) = self.call(&[b"SET", key.as_bytes(), b"1", b"PX", keep.as_bytes()]).await {
            crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: a cooldown holds on this node alone: {e}");
        }
    }

    /// The cooldowns any node marked `person` (or, for those removed
    /// nearby, `network`) for in `room`, each with the time it has left.
    /// Empty when Redis cannot say: this node's own marks still hold.
    pub async fn marked(&self, room: RoomId, person: &Person, network: ClientNetwork) -> Vec<(Cooldown, Duration)> {
        let asked = [(Cooldown::Denied, person.clone()), (Cooldown::Removed, person.clone()), (Cooldown::RemovedNearby, Person::Address(network))];
        let keys: Vec<String> = asked.iter().map(|(cooldown, person)| self.cooldown_key(*cooldown, room, person)).collect();
        let mut eval: Vec<&[u8]> = vec![b"EVAL", LEFT.as_bytes(), b"3"];
        eval.extend(keys.iter().map(|k| k.as_bytes()));
        let left = match self.call(&eval).await {
            Ok(super::Reply::Array(left)) => left,
            Ok(_) => return Vec::new(),
            Err(e) => {
                crate::log_within!(LogBudget::new(5, Duration::from_secs(60)), warn, "cluster: other nodes' cooldowns unknown for a join: {e}");
                return Vec::new();
            }
        };
        asked
            .iter()
            .zip(left)
            .filter_map(|((cooldown, _), left)| match left {
                super::Reply::Int(ms) if ms > 0 => Some((*cooldown, Duration::from_millis(ms.unsigned_abs()))),
                _ => None,
            })
            .collect()
    }

    /// `{prefix}cool:{room}:{cooldown}:{hash of the person}`.
    fn cooldown_key(&self, cooldown: Cooldown, room: RoomId, person: &Person) -> String {
        format!("{}cool:{}:{}:{}", self.settings.prefix, room.0, cooldown.name(), super::hashed(&person.key()))
    }
}

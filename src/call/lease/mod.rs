//! Which node holds a room's call, in cluster mode: the rules of the room
//! lease, with no Redis and no clock in them. The adapter
//! (`server::cluster`) reads what the store holds, asks these functions what
//! to do, and writes only if what it read is still there (a compare and
//! set), so two nodes deciding at once cannot both win.
//!
//! The store holds, per room, its holder (`node/instance`, with a time to
//! live the holder keeps renewing), and per node a heartbeat naming the
//! instance that beats. A lease passes to another node only when its holder
//! no longer beats: its heartbeat expired (it died or froze), or names a
//! newer instance (it restarted, so its calls are gone).

use std::fmt;

/// One life of one node: its name (`HUDDLE_NODE_ID`) and the instance, a
/// random name each process start gets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub node: String,
    pub instance: String,
}

impl Holder {
    /// How the store holds it: `node/instance`.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.node, self.instance)
    }

    /// Reads what [`Holder::encode`] wrote; anything else is nobody.
    pub fn decode(stored: &str) -> Option<Holder> {
        let (node, instance) = stored.split_once('/')?;
        (!node.is_empty() && !instance.is_empty()).then(|| Holder { node: node.into(), instance: instance.into() })
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.node, self.instance)
    }
}

/// What the store said about a room, read before deciding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    /// Who holds the room's lease, if anyone.
    pub holder: Option<Holder>,
    /// The instance the holder's node heartbeat names, if it beats.
    pub beat: Option<String>,
}

/// What a node does when someone asks to join a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Hold it: write this node as the holder if the store still holds
    /// `over` (nobody, or a holder that stopped beating). Having taken it
    /// over from a dead holder, its open attendance is this node's to close.
    Take { over: Option<Holder> },
    /// It is this node's already: renew it and serve.
    Keep,
    /// A live node holds it: send the person there.
    Elsewhere(Holder),
}

/// Whether `me` may serve a join for a room whose store reads `seen`.
pub fn claim(me: &Holder, seen: &Seen) -> Claim {
    match &seen.holder {
        None => Claim::Take { over: None },
        Some(holder) if holder == me => Claim::Keep,
        Some(holder) if seen.beat.as_deref() == Some(holder.instance.as_str()) => Claim::Elsewhere(holder.clone()),
        Some(holder) => Claim::Take { over: Some(holder.clone()) },
    }
}

/// What a node does at its regular renewal of a room it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renew {
    /// Still its own: extend it.
    Keep,
    /// Nobody holds it (the store lost it, or it lapsed while this node
    /// was stopped and nobody took it): take it again if still nobody's.
    Retake,
    /// Another node took it over (this one stopped beating for a while):
    /// give the call up and send its people to the new holder.
    Lost(Holder),
}

/// What `me` does about a room it serves whose store now holds `holder`.
pub fn renew(me: &Holder, holder: Option<&Holder>) -> Renew {
    match holder {
        None => Renew::Retake,
        Some(holder) if holder == me => Renew::Keep,
        Some(holder) => Renew::Lost(holder.clone()),
    }
}

#[cfg(test)]
mod tests;

//! The lease rules against an in-memory store with a time to live on each
//! key and a clock the test moves: what Redis does for the adapter.

use std::collections::{BTreeSet, HashMap};

use super::*;

const LEASE_MS: u64 = 15_000;
const BEAT_MS: u64 = 6_000;

/// Keys with a value and the instant they lapse, and a compare and set:
/// the two things the adapter asks of Redis.
#[derive(Default)]
struct Store {
    now: u64,
    keys: HashMap<String, (String, u64)>,
}

impl Store {
    fn get(&self, key: &str) -> Option<String> {
        self.keys.get(key).filter(|(_, until)| *until > self.now).map(|(value, _)| value.clone())
    }

    /// Writes `new` (or removes the key) only if the key still holds
    /// `expected`.
    fn set_if(&mut self, key: &str, expected: Option<&str>, new: Option<&str>, ttl: u64) -> bool {
        if self.get(key).as_deref() != expected {
            return false;
        }
        match new {
            Some(value) => self.keys.insert(key.into(), (value.into(), self.now + ttl)),
            None => self.keys.remove(key),
        };
        true
    }

    /// [`Store::set_if`], only while `beat_key` does not name `instance`
    /// (in the same step, as the adapter's script does).
    fn take_if(&mut self, key: &str, expected: &str, new: &str, ttl: u64, beat_key: &str, instance: &str) -> bool {
        if self.get(beat_key).as_deref() == Some(instance) {
            return false;
        }
        self.set_if(key, Some(expected), Some(new), ttl)
    }

    fn seen(&self, room: u32) -> Seen {
        let holder = self.get(&format!("room:{room}")).and_then(|v| Holder::decode(&v));
        let beat = holder.as_ref().and_then(|h| self.get(&format!("node:{}", h.node)));
        Seen { holder, beat }
    }
}

/// A node as the adapter runs it: it beats, claims on a join, renews what
/// it serves, and gives up what it lost.
struct Node {
    me: Holder,
    serving: BTreeSet<u32>,
    /// Frozen (`kill -STOP`): it does nothing, and time passes.
    frozen: bool,
    lives: u32,
}

impl Node {
    fn new(name: &str) -> Self {
        Node { me: holder(name, 1), serving: BTreeSet::new(), frozen: false, lives: 1 }
    }

    fn beat(&self, store: &mut Store) {
        let key = format!("node:{}", self.me.node);
        let current = store.get(&key);
        store.set_if(&key, current.as_deref(), Some(&self.me.instance), BEAT_MS);
    }

    /// Someone asks this node to join `room`: it serves them, or names the
    /// node that does. The read, the decision and the conditional write
    /// are separate steps, as they are over the network; `between` runs
    /// between the read and the write (another node's move).
    fn join(&mut self, store: &mut Store, room: u32, mut between: impl FnMut(&mut Store)) -> Result<(), Holder> {
        for attempt in 0..3 {
            let seen = store.seen(room);
            if attempt == 0 {
                between(store);
            }
            let key = format!("room:{room}");
            match claim(&self.me, &seen) {
                Claim::Elsewhere(holder) => return Err(holder),
                Claim::Keep => {
                    if store.set_if(&key, Some(&self.me.encode()), Some(&self.me.encode()), LEASE_MS) {
                        self.serving.insert(room);
                        return Ok(());
                    }
                }
                Claim::Take { over: None } => {
                    if store.set_if(&key, None, Some(&self.me.encode()), LEASE_MS) {
                        self.serving.insert(room);
                        return Ok(());
                    }
                }
                Claim::Take { over: Some(dead) } => {
                    let beat_key = format!("node:{}", dead.node);
                    if store.take_if(&key, &dead.encode(), &self.me.encode(), LEASE_MS, &beat_key, &dead.instance) {
                        self.serving.insert(room);
                        return Ok(());
                    }
                }
            }
            // What was read changed meanwhile: read again.
        }
        panic!("three reads in a row changed under the node");
    }

    /// The regular renewal of every room it serves; a lost one is given up.
    fn renew(&mut self, store: &mut Store) {
        for room in self.serving.clone() {
            let key = format!("room:{room}");
            let holder = store.get(&key).and_then(|v| Holder::decode(&v));
            let me = self.me.encode();
            match renew(&self.me, holder.as_ref()) {
                Renew::Keep => {
                    store.set_if(&key, Some(&me), Some(&me), LEASE_MS);
                }
                Renew::Retake => {
                    if !store.set_if(&key, None, Some(&me), LEASE_MS) {
                        self.serving.remove(&room);
                    }
                }
                Renew::Lost(_) => {
                    self.serving.remove(&room);
                }
            }
        }
    }

    /// A restart: a new instance, with no calls.
    fn restart(&mut self) {
        self.lives += 1;
        self.me = holder(&self.me.node, self.lives);
        self.serving.clear();
        self.frozen = false;
    }
}

fn holder(node: &str, life: u32) -> Holder {
    Holder { node: node.into(), instance: format!("i{life}") }
}

#[test]
fn a_holder_is_written_and_read_back_and_nothing_else_is_a_holder() {
    let a = holder("a", 1);
    assert_eq!(Holder::decode(&a.encode()), Some(a));
    for junk in ["", "a", "a/", "/i1"] {
        assert_eq!(Holder::decode(junk), None, "{junk:?}");
    }
}

#[test]
fn a_free_room_is_taken_and_a_held_one_is_kept_or_pointed_to() {
    let (a, b) = (holder("a", 1), holder("b", 1));
    assert_eq!(claim(&a, &Seen::default()), Claim::Take { over: None });
    let held = Seen { holder: Some(a.clone()), beat: Some("i1".into()) };
    assert_eq!(claim(&a, &held), Claim::Keep);
    assert_eq!(claim(&b, &held), Claim::Elsewhere(a.clone()));
    // Its node stopped beating, or beats as a newer life: taken over.
    assert_eq!(claim(&b, &Seen { holder: Some(a.clone()), beat: None }), Claim::Take { over: Some(a.clone()) });
    assert_eq!(claim(&b, &Seen { holder: Some(a.clone()), beat: Some("i2".into()) }), Claim::Take { over: Some(a.clone()) });
    // Its own previous life is no different from another node.
    assert_eq!(claim(&holder("a", 2), &Seen { holder: Some(a.clone()), beat: Some("i2".into()) }), Claim::Take { over: Some(a) });
}

#[test]
fn a_lease_passes_to_another_node_only_after_its_holder_stops_beating() {
    let mut store = Store::default();
    let (mut a, mut b) = (Node::new("a"), Node::new("b"));
    a.beat(&mut store);
    b.beat(&mut store);
    a.join(&mut store, 7, |_| {}).unwrap();
    // a freezes: its heartbeat lapses after BEAT_MS, its lease later.
    a.frozen = true;
    store.now += BEAT_MS - 1;
    b.beat(&mut store);
    assert_eq!(b.join(&mut store, 7, |_| {}), Err(a.me.clone()), "a still beats: people are sent to a");
    store.now += 1;
    b.join(&mut store, 7, |_| {}).expect("a's heartbeat lapsed: b takes the room over");
    assert_eq!(store.seen(7).holder, Some(b.me.clone()));
    // a wakes: its first renewal finds the room lost and gives it up.
    a.frozen = false;
    a.beat(&mut store);
    a.renew(&mut store);
    assert!(a.serving.is_empty(), "a gave the call up");
    assert_eq!(a.join(&mut store, 7, |_| {}), Err(b.me.clone()), "a now sends people to b");
}

#[test]
fn a_holder_that_beats_again_between_the_read_and_the_write_keeps_its_room() {
    let mut store = Store::default();
    let (mut a, mut b) = (Node::new("a"), Node::new("b"));
    a.beat(&mut store);
    b.beat(&mut store);
    a.join(&mut store, 5, |_| {}).unwrap();
    store.now += BEAT_MS; // a froze: its heartbeat lapsed
    b.beat(&mut store);
    // b reads "a is gone"; a wakes and beats before b writes.
    let result = b.join(&mut store, 5, |store| a.beat(store));
    assert_eq!(result, Err(a.me.clone()), "b reads again and sends its joiner to a");
    assert_eq!(store.seen(5).holder, Some(a.me.clone()));
}

#[test]
fn a_restarted_holder_loses_its_rooms_at_once() {
    let mut store = Store::default();
    let (mut a, mut b) = (Node::new("a"), Node::new("b"));
    a.beat(&mut store);
    b.beat(&mut store);
    a.join(&mut store, 1, |_| {}).unwrap();
    a.restart();
    a.beat(&mut store);
    // No waiting for the heartbeat to lapse: it names the new life.
    b.join(&mut store, 1, |_| {}).expect("the old life's calls are gone");
    assert_eq!(a.join(&mut store, 1, |_| {}), Err(b.me.clone()));
}

#[test]
fn two_first_joiners_on_two_nodes_end_up_in_one_call() {
    let mut store = Store::default();
    let (mut a, mut b) = (Node::new("a"), Node::new("b"));
    a.beat(&mut store);
    b.beat(&mut store);
    // Both read "nobody"; b writes first, between a's read and a's write.
    let a_result = a.join(&mut store, 3, |store| {
        b.join(store, 3, |_| {}).unwrap();
    });
    assert_eq!(a_result, Err(holder("b", 1)), "a's write failed, it read again and sends its joiner to b");
    assert!(a.serving.is_empty());
    assert_eq!(store.seen(3).holder, Some(holder("b", 1)));
}

#[test]
fn a_lease_the_store_lost_is_taken_again_by_its_holder() {
    let mut store = Store::default();
    let mut a = Node::new("a");
    a.beat(&mut store);
    a.join(&mut store, 4, |_| {}).unwrap();
    store.keys.clear(); // Redis restarted empty
    a.renew(&mut store);
    assert_eq!(store.seen(4).holder, Some(a.me.clone()));
    assert!(a.serving.contains(&4));
}

/// Many nodes joining, renewing, freezing, waking and restarting in a
/// random order, time moving in steps no longer than a third of a
/// heartbeat (a running node beats and renews on time): at no instant do
/// two running nodes serve one room.
#[test]
fn at_no_instant_do_two_running_nodes_serve_one_room() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut store = Store::default();
    let mut nodes: Vec<Node> = ["a", "b", "c"].into_iter().map(Node::new).collect();
    let mut last_renew = vec![0u64; nodes.len()];
    let (mut takeovers, mut redirects) = (0, 0);
    for _ in 0..20_000 {
        store.now += next(BEAT_MS / 3);
        for (i, node) in nodes.iter_mut().enumerate() {
            if node.frozen {
                continue;
            }
            node.beat(&mut store);
            if store.now - last_renew[i] >= LEASE_MS / 3 {
                node.renew(&mut store);
                last_renew[i] = store.now;
            }
        }
        let i = next(nodes.len() as u64) as usize;
        match next(20) {
            0 => nodes[i].frozen = true,
            1 if nodes[i].frozen => {
                // Woken: its overdue renewal runs before anything else.
                nodes[i].frozen = false;
                nodes[i].beat(&mut store);
                nodes[i].renew(&mut store);
                last_renew[i] = store.now;
            }
            2 => nodes[i].restart(),
            _ if !nodes[i].frozen => {
                let room = next(3) as u32;
                let before = store.seen(room).holder;
                match nodes[i].join(&mut store, room, |_| {}) {
                    Ok(()) if before.as_ref().is_some_and(|h| *h != nodes[i].me) => takeovers += 1,
                    Ok(()) => {}
                    Err(holder) => {
                        redirects += 1;
                        assert_ne!(holder, nodes[i].me);
                    }
                }
            }
            _ => {}
        }
        for room in 0..3 {
            let serving: Vec<&str> = nodes.iter().filter(|n| !n.frozen && n.serving.contains(&room)).map(|n| n.me.node.as_str()).collect();
            assert!(serving.len() <= 1, "room {room} served by {serving:?} at {} ms", store.now);
        }
    }
    assert!(takeovers > 50 && redirects > 1000, "the walk took over {takeovers} times and redirected {redirects}");
}

//! Cluster mode: several nodes on one PostgreSQL database and one Redis
//! (`scripts/with-postgres.sh scripts/with-redis.sh`), each room's call on
//! exactly one node. Two nodes run in this process (or one as its own
//! process, to be killed); each test has its own Redis key prefix.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use huddle::call::protocol::{close, ClientMessage, ErrorCode, ServerMessage};
use huddle::server::cluster::{ClusterSettings, Redis, RedisUrl};
use huddle::server::config::{Config, Database, NodeId};
use huddle::server::db::sql;
use huddle::startup::Application;

use crate::helpers::{fresh_database, join_message, setting, spawn_app_with, unstarted, TestApp, Visitor};

/// Short, so a stopped node's calls pass on within a second here (the
/// defaults are 6 s and 15 s): for the node a test stops, in a process of
/// its own. Nodes in this process (whose runtime every test server
/// shares, on two cores) beat on the calmer `NODE_TTL_HERE`, so a busy
/// moment never reads as a stopped node.
const NODE_TTL: Duration = Duration::from_millis(900);
const LEASE: Duration = Duration::from_millis(3000);
const NODE_TTL_HERE: Duration = Duration::from_millis(3000);
const LEASE_HERE: Duration = Duration::from_millis(9000);

fn redis_url() -> RedisUrl {
    let url = std::env::var("HUDDLE_TEST_REDIS").expect("the cluster tests need a Redis in HUDDLE_TEST_REDIS (run them under scripts/with-redis.sh)");
    RedisUrl::parse(&url).expect("HUDDLE_TEST_REDIS is a redis:// URL")
}

/// Keys of this test's own.
fn prefix() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!("t{}_{}:", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

fn settings(redis: RedisUrl, prefix: &str) -> ClusterSettings {
    ClusterSettings { prefix: prefix.to_string(), lease: LEASE_HERE, node_ttl: NODE_TTL_HERE, ..ClusterSettings::new(redis) }
}

/// [`settings`], with the short times to live of a node the test stops.
fn short(redis: RedisUrl, prefix: &str) -> ClusterSettings {
    ClusterSettings { lease: LEASE, node_ttl: NODE_TTL, ..settings(redis, prefix) }
}

async fn shared_database() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(dir.path()).await;
    assert!(matches!(database, Database::Postgres(_)), "the cluster tests need PostgreSQL in HUDDLE_TEST_DATABASE (scripts/with-postgres.sh)");
    (dir, database)
}

/// Node `name` of the cluster whose keys start with `prefix`.
async fn node(database: &Database, cluster: ClusterSettings, name: &str) -> TestApp {
    node_with(database, cluster, name, |_| {}).await
}

/// [`node`], after `tweak` has adjusted the rest of its configuration.
async fn node_with(database: &Database, cluster: ClusterSettings, name: &str, tweak: impl Fn(&mut Config) + Send + Sync + 'static) -> TestApp {
    let (shared, name) = (database.clone(), NodeId::parse(name).unwrap());
    let mut app = spawn_app_with(move |c| {
        c.database = shared.clone();
        c.node = name.clone();
        c.cluster = Some(cluster.clone());
        tweak(c);
    })
    .await;
    // What the test reads is the shared database, not the one the helper
    // made for it.
    app.database = database.clone();
    app
}

/// Nodes `a` and `b` on one database, and the Redis they share.
struct Pair {
    a: TestApp,
    b: TestApp,
    redis: Redis,
    prefix: String,
    _dir: tempfile::TempDir,
}

async fn pair() -> Pair {
    let (dir, database) = shared_database().await;
    let prefix = prefix();
    let a = node(&database, settings(redis_url(), &prefix), "a").await;
    let b = node(&database, settings(redis_url(), &prefix), "b").await;
    Pair { a, b, redis: Redis::new(redis_url()), prefix, _dir: dir }
}

impl Pair {
    async fn holder(&self, room: i64) -> Option<String> {
        get(&self.redis, &format!("{}room:{room}", self.prefix)).await
    }
}

async fn get(redis: &Redis, key: &str) -> Option<String> {
    redis.call(&[b"GET", key.as_bytes()]).await.unwrap().text().unwrap()
}

async fn count(app: &TestApp, query: &'static str, room: i64) -> i64 {
    let (n,): (i64,) = sql::query_as(query).bind(room).fetch_one(&app.db().await).await.unwrap();
    n
}

/// Waits up to 5 s for `query` about `room` to count `want`.
async fn eventually(app: &TestApp, query: &'static str, room: i64, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while count(app, query, room).await != want {
        assert!(Instant::now() < deadline, "{query} (room {room}) did not come to {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Joins `slug` as `name` from `visitor` at `app`; says what came back.
async fn knock(visitor: &Visitor, slug: &str, name: &str) -> (crate::helpers::Socket, ServerMessage) {
    let mut socket = visitor.socket().await;
    socket.send(join_message(slug, name)).await;
    let answer = socket.recv().await;
    (socket, answer)
}

fn moved_to(node: &str) -> ServerMessage {
    ServerMessage::Moved { node: node.into() }
}

#[tokio::test]
async fn a_join_that_reaches_another_node_is_sent_to_the_one_serving_the_call() {
    let Pair { a, b, .. } = &pair().await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;

    // Pat's socket lands on b: told to go to a, before anything is checked.
    let pat = b.visitor();
    let (mut wrong, answer) = knock(&pat, &room.slug, "Pat").await;
    assert_eq!(answer, moved_to("a"));
    wrong.expect_closed(Some(close::MOVED)).await;
    // Followed, it is one call.
    let (_right, answer) = knock(&pat.at(a), &room.slug, "Pat").await;
    let ServerMessage::Welcome { participants, .. } = answer else { panic!("expected a welcome, got {answer:?}") };
    assert_eq!(participants.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Dr. Host"]);
    assert!(matches!(host_socket.recv().await, ServerMessage::ParticipantJoined { .. }));
    // The host's sign-in works on b too (one database): b sends them to a.
    let (_, answer) = knock(&host.at(b), &room.slug, "").await;
    assert_eq!(answer, moved_to("a"));
}

#[tokio::test]
async fn the_lease_names_the_node_and_lapses_unrenewed_once_the_call_is_over() {
    let (_dir, database) = shared_database().await;
    let prefix = prefix();
    let a = node(&database, short(redis_url(), &prefix), "a").await;
    let cluster = Pair { b: node(&database, settings(redis_url(), &prefix), "b").await, a, redis: Redis::new(redis_url()), prefix, _dir };
    let host = cluster.a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;
    let holder = cluster.holder(room.id).await.expect("a holds the room's lease");
    assert!(holder.starts_with("a/"), "{holder}");
    // Held past its time to live while the call goes on: it is renewed.
    tokio::time::sleep(LEASE + NODE_TTL).await;
    assert_eq!(cluster.holder(room.id).await, Some(holder));
    // The call over, the lease is let go (within a lease and a renewal).
    host_socket.send(ClientMessage::Leave).await;
    let deadline = Instant::now() + 2 * LEASE + NODE_TTL;
    while cluster.holder(room.id).await.is_some() {
        assert!(Instant::now() < deadline, "the lease of a call that ended was kept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_first_joiners_on_two_nodes_end_up_in_one_call() {
    let Pair { a, b, .. } = &pair().await;
    let host = a.host("host@example.org", "Dr. Host").await;
    for round in 0..5 {
        let room = host.create_room(&format!("Class {round}")).await;
        let (pat, sam) = (a.visitor(), b.visitor());
        let ((on_a, to_a), (on_b, to_b)) = tokio::join!(knock(&pat, &room.slug, "Pat"), knock(&sam, &room.slug, "Sam"));
        let (mut first, follower, server) = if to_a == moved_to("b") && matches!(to_b, ServerMessage::Welcome { .. }) {
            (on_b, pat, b)
        } else if to_b == moved_to("a") && matches!(to_a, ServerMessage::Welcome { .. }) {
            (on_a, sam, a)
        } else {
            panic!("round {round}: one welcome and one move to its node expected, got {to_a:?} and {to_b:?}")
        };
        let (_second, answer) = knock(&follower.at(server), &room.slug, "Follower").await;
        let ServerMessage::Welcome { participants, .. } = answer else { panic!("expected a welcome, got {answer:?}") };
        assert_eq!(participants.len(), 1, "round {round}: one call, with the first joiner in it");
        assert!(matches!(first.recv().await, ServerMessage::ParticipantJoined { .. }));
    }
}

#[tokio::test]
async fn a_node_that_lost_its_lease_sends_its_call_to_the_new_holder() {
    // As when a node was stopped (`kill -STOP`) long enough for another to
    // take its call over: the store names b while a still serves it.
    let cluster = pair().await;
    let host = cluster.a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;
    let (mut pat, _) = knock(&cluster.a.visitor(), &room.slug, "Pat").await;
    let key = format!("{}room:{}", cluster.prefix, room.id);
    cluster.redis.call(&[b"SET", key.as_bytes(), b"b/elsewhere", b"PX", b"60000"]).await.unwrap();
    // At a's next renewal, everyone is told where the call went.
    assert!(matches!(host_socket.recv().await, ServerMessage::ParticipantJoined { .. }));
    for socket in [&mut host_socket, &mut pat] {
        let next = tokio::time::timeout(NODE_TTL_HERE, socket.recv()).await.expect("told within a renewal");
        assert_eq!(next, moved_to("b"));
        socket.expect_closed(Some(close::MOVED)).await;
    }
    // Their stays on a end; they begin again on b.
    let closed = "SELECT count(*) FROM attendance WHERE room_id = $1 AND node = 'a' AND left_at IS NOT NULL";
    eventually(&cluster.a, closed, room.id, 2).await;
    // b takes the call up (its named holder is no live instance of b).
    let (_, answer) = knock(&host.at(&cluster.b), &room.slug, "").await;
    assert!(matches!(answer, ServerMessage::Welcome { .. }), "{answer:?}");
    assert!(cluster.holder(room.id).await.is_some_and(|h| h.starts_with("b/") && h != "b/elsewhere"));
}

#[tokio::test]
async fn a_node_stopping_cleanly_lets_its_calls_go_at_once() {
    let (dir, database) = shared_database().await;
    // Times to live far longer than the test: only letting go frees them.
    let long = |prefix: &str| ClusterSettings { lease: Duration::from_secs(120), node_ttl: Duration::from_secs(60), ..settings(redis_url(), prefix) };
    let prefix = prefix();
    let a = node(&database, long(&prefix), "a").await;
    let b = node(&database, long(&prefix), "b").await;
    let redis = Redis::new(redis_url());
    let host = a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;
    drop(a);
    host_socket.expect_closed(Some(close::GOING_AWAY)).await;
    // Drained: by the time its people are told to go, the call is let go
    // and the node no longer beats.
    assert_eq!(get(&redis, &format!("{prefix}room:{}", room.id)).await, None, "a let its call go before sending its people off");
    assert_eq!(get(&redis, &format!("{prefix}node:a")).await, None, "a's heartbeat went with its clean stop");
    let (_, answer) = knock(&host.at(&b), &room.slug, "").await;
    assert!(matches!(answer, ServerMessage::Welcome { .. }), "b serves the call at once: {answer:?}");
    drop(dir);
}

#[tokio::test]
async fn a_sign_out_and_a_deleted_room_reach_the_node_serving_the_call() {
    // Through the bus: the re-check, a minute away, is not what does it.
    let Pair { a, b, .. } = &pair().await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let (room, other) = (host.create_room("Class").await, host.create_room("Other").await);
    let mut in_call = host.socket().await;
    in_call.join(&room.slug, "").await;
    let (mut pat, _) = knock(&a.visitor(), &other.slug, "Pat").await;
    // Deleted through b: the call on a ends.
    let deleted = host.at(b).call("delete_room", &[("room", &other.id.to_string()), ("confirm", "yes")]).await;
    assert!(deleted.status().is_success() || deleted.status().is_redirection(), "{}", deleted.status());
    pat.expect_closed(Some(close::ROOM_CLOSED)).await;
    // The host's other sessions ended through b ("sign out everywhere
    // else"): the phone's socket on a closes, this session's stays.
    let phone = a.visitor();
    phone.sign_in("host@example.org", "correct horse battery").await;
    let mut phone_socket = phone.socket().await;
    phone_socket.join(&room.slug, "").await;
    assert_eq!(host.at(b).call("sign_out_everywhere_else", &[]).await.status(), 200);
    phone_socket.expect_closed_within(Some(close::SIGNED_OUT), Duration::from_secs(3)).await;
    // Signed out through b: the socket on a closes.
    host.at(b).call("logout", &[]).await;
    in_call.expect_closed_within(Some(close::SIGNED_OUT), Duration::from_secs(3)).await;
}

#[tokio::test]
async fn what_the_bus_missed_the_re_check_closes() {
    // As if the commands were published while Redis was down: the
    // database changes, no node is told, and the re-check (each second
    // here, a minute by default) finds out.
    let (_dir, database) = shared_database().await;
    let a = &node(&database, ClusterSettings { recheck: Duration::from_secs(1), ..settings(redis_url(), &prefix()) }, "a").await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let (room, other) = (host.create_room("Class").await, host.create_room("Other").await);
    let mut in_call = host.socket().await;
    in_call.join(&room.slug, "").await;
    let (mut pat, _) = knock(&a.visitor(), &other.slug, "Pat").await;
    let db = a.db().await;
    sql::query("DELETE FROM rooms WHERE id = $1").bind(other.id).execute(&db).await.unwrap();
    pat.expect_closed(Some(close::ROOM_CLOSED)).await;
    sql::query("UPDATE accounts SET session_epoch = session_epoch + 1").execute(&db).await.unwrap();
    in_call.expect_closed(Some(close::SIGNED_OUT)).await;
}

/// A node (`huddle` itself) as its own process, to be killed.
struct NodeProcess {
    child: Child,
    app: TestApp,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node_process(database: &Database, prefix: &str, name: &str) -> NodeProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_huddle"))
        .env("HUDDLE_ADDR", format!("127.0.0.1:{port}"))
        .env("HUDDLE_DATABASE", setting(database))
        .env("HUDDLE_NODE_ID", name)
        .env("HUDDLE_REDIS_URL", std::env::var("HUDDLE_TEST_REDIS").unwrap())
        .env("HUDDLE_REDIS_PREFIX", prefix)
        .env("HUDDLE_NODE_TTL_MS", NODE_TTL.as_millis().to_string())
        .env("HUDDLE_LEASE_MS", LEASE.as_millis().to_string())
        .env("HUDDLE_PUBLIC_ORIGIN", format!("http://127.0.0.1:{port}"))
        .env("HUDDLE_MEDIA_ADDR", "off")
        .env("RUST_LOG", "error")
        .spawn()
        .expect("the server binary starts");
    NodeProcess { child, app: unstarted(database.clone(), ([127, 0, 0, 1], port).into()) }
}

/// Waits until the node answers `/readyz` (its port is open before it
/// joins the cluster); panics if it exits or takes over 10 s.
async fn listening(node: &mut NodeProcess) {
    for _ in 0..200 {
        if let Some(exit) = node.child.try_wait().unwrap() {
            panic!("the node exited: {exit}");
        }
        if node.app.visitor().http.get(format!("http://{}/readyz", node.app.addr)).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the node did not start serving");
}

/// Joins at `app` until a welcome comes: while the stopped node still
/// counts as alive, `moved` sends the person back to it.
async fn rejoin(visitor: &Visitor, slug: &str, name: &str, limit: Duration) -> (crate::helpers::Socket, ServerMessage) {
    let deadline = Instant::now() + limit;
    loop {
        let (socket, answer) = knock(visitor, slug, name).await;
        if matches!(answer, ServerMessage::Welcome { .. }) {
            return (socket, answer);
        }
        assert_eq!(answer, moved_to("a"), "only a move back to the stopped node while it counts as alive");
        assert!(Instant::now() < deadline, "the call was not taken over within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Node a as a process of its own (to be killed or frozen) and node b in
/// this process, a host in a call on a: the database's folder, the key
/// prefix, both nodes, the host, their room and their socket.
struct OnProcess {
    _dir: tempfile::TempDir,
    prefix: String,
    a: NodeProcess,
    b: TestApp,
    host: Visitor,
    room: huddle::api::rooms::RoomSummary,
    host_socket: crate::helpers::Socket,
}

async fn call_on_a_process() -> OnProcess {
    let (dir, database) = shared_database().await;
    let prefix = prefix();
    let mut a = node_process(&database, &prefix, "a");
    listening(&mut a).await;
    let b = node(&database, settings(redis_url(), &prefix), "b").await;
    let host = a.app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;
    OnProcess { _dir: dir, prefix, a, b, host, room, host_socket }
}

#[tokio::test]
async fn a_killed_node_s_call_is_taken_over_with_everyone_once_and_its_stays_closed() {
    let OnProcess { mut a, b, host, room, mut host_socket, .. } = call_on_a_process().await;
    let pat = a.app.visitor();
    let (_pat_socket, _) = knock(&pat, &room.slug, "Pat").await;
    let open_on = |node: &'static str| match node {
        "a" => "SELECT count(*) FROM attendance WHERE room_id = $1 AND node = 'a' AND left_at IS NULL",
        _ => "SELECT count(*) FROM attendance WHERE room_id = $1 AND node = 'b' AND left_at IS NULL",
    };
    eventually(&b, open_on("a"), room.id, 2).await;
    // What the host did on a is in the audit log, once.
    host_socket.send(ClientMessage::Lock { locked: true }).await;
    host_socket.send(ClientMessage::Lock { locked: false }).await;
    let call_audit = "SELECT count(*) FROM audit_events WHERE action LIKE 'call_%' AND target = 'room:' || $1";
    eventually(&b, call_audit, room.id, 2).await;

    a.child.kill().expect("kill -9");
    let killed = Instant::now();
    host_socket.expect_closed(None).await;
    let (mut host_back, welcome) = rejoin(&host.at(&b), &room.slug, "", Duration::from_secs(15)).await;
    let gap = killed.elapsed();
    let ServerMessage::Welcome { participants, .. } = welcome else { unreachable!() };
    assert!(participants.is_empty(), "a fresh call on b: {participants:?}");
    let (_, welcome) = rejoin(&pat.at(&b), &room.slug, "Pat", Duration::from_secs(5)).await;
    let ServerMessage::Welcome { participants, .. } = welcome else { unreachable!() };
    assert_eq!(participants.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Dr. Host"], "everyone once");
    assert!(matches!(host_back.recv().await, ServerMessage::ParticipantJoined { .. }));
    // a's stays in the room were closed by b; the new ones are b's.
    assert_eq!(count(&b, open_on("a"), room.id).await, 0);
    eventually(&b, open_on("b"), room.id, 2).await;
    assert_eq!(count(&b, call_audit, room.id).await, 2, "the call's audit rows, none written again by the takeover");
    println!("call taken over {} ms after its node was killed (heartbeat {} ms)", gap.as_millis(), NODE_TTL.as_millis());
}

#[tokio::test]
async fn a_node_restarted_at_once_under_its_name_waits_its_previous_life_out() {
    // As a supervisor restarts a killed node: its previous life's heartbeat
    // is still in Redis for up to its time to live.
    let (_dir, database) = shared_database().await;
    let prefix = prefix();
    let mut first = node_process(&database, &prefix, "a");
    listening(&mut first).await;
    first.child.kill().expect("kill -9");
    let mut again = node_process(&database, &prefix, "a");
    listening(&mut again).await;
}

#[tokio::test]
async fn a_frozen_node_s_call_moves_on_and_when_it_wakes_it_sends_its_people_there() {
    let OnProcess { a, b, host, room, host_socket: mut on_a, prefix, .. } = call_on_a_process().await;

    signal(&a.child, "-STOP");
    let frozen = Instant::now();
    // The browser notices the silence and tries b: sent to a while a's
    // heartbeat lives, then the call is taken over.
    let (_on_b, _) = rejoin(&host.at(&b), &room.slug, "", Duration::from_secs(15)).await;
    println!("call taken over {} ms after its node froze (heartbeat {} ms)", frozen.elapsed().as_millis(), NODE_TTL.as_millis());
    signal(&a.child, "-CONT");
    // Woken, a renews, finds the call taken and sends its people on.
    let next = tokio::time::timeout(Duration::from_secs(5), on_a.recv()).await.expect("told within a renewal");
    assert_eq!(next, moved_to("b"));
    on_a.expect_closed(Some(close::MOVED)).await;
    assert!(cluster_holder(&prefix, room.id).await.is_some_and(|h| h.starts_with("b/")), "b keeps the call");
}

fn signal(child: &Child, which: &str) {
    let status = Command::new("kill").args([which, &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill {which}");
}

async fn cluster_holder(prefix: &str, room: i64) -> Option<String> {
    get(&Redis::new(redis_url()), &format!("{prefix}room:{room}")).await
}

#[tokio::test]
async fn without_redis_new_calls_are_refused_to_try_again_and_calls_under_way_go_on() {
    // A Redis of this test's own, to stop and start again.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
    let redis_dir = tempfile::tempdir().unwrap();
    let start_redis = || {
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(redis_dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(Stopped)
            .expect("redis-server starts")
    };
    let redis_server = start_redis();
    let url = RedisUrl::parse(&format!("redis://127.0.0.1:{port}")).unwrap();
    let redis = Redis::new(url.clone());
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.call(&[b"PING"]).await.is_err() {
        assert!(Instant::now() < deadline, "the test's Redis did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_dir, database) = shared_database().await;
    let a = node(&database, settings(url.clone(), "solo:"), "a").await;
    let b = node(&database, settings(url, "solo:"), "b").await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let (under_way, other) = (host.create_room("Under way").await, host.create_room("Not yet").await);
    let mut host_socket = host.socket().await;
    host_socket.join(&under_way.slug, "").await;

    assert_eq!(a.visitor().page("/readyz").await.status(), 200);
    drop(redis_server);
    assert_eq!(a.visitor().page("/readyz").await.status(), 503, "not ready for new work without Redis");
    let (_, answer) = knock(&a.visitor(), &other.slug, "Pat").await;
    assert_eq!(crate::helpers::error_code(&answer), Some(ErrorCode::TryAgain), "a new call is refused, to try again: {answer:?}");
    let (_sam, answer) = knock(&a.visitor(), &under_way.slug, "Sam").await;
    assert!(matches!(answer, ServerMessage::Welcome { .. }), "the call under way takes people in: {answer:?}");
    // The host signs out through b meanwhile: b cannot tell a yet.
    host.at(&b).call("logout", &[]).await;

    // Redis back, empty: the call under way is held again, new ones start.
    let _redis_server = start_redis();
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_quietly(&redis, &format!("solo:room:{}", under_way.id)).await.is_none() {
        assert!(Instant::now() < deadline, "the call under way was not held again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, answer) = knock(&a.visitor(), &other.slug, "Pat").await;
    assert!(matches!(answer, ServerMessage::Welcome { .. }), "{answer:?}");
    assert_eq!(a.visitor().page("/readyz").await.status(), 200);
    // b sent the sign-out on once Redis took it: the host's socket on a closes.
    host_socket.expect_closed_within(Some(close::SIGNED_OUT), Duration::from_secs(5)).await;
}

/// A process stopped (`kill -9`) when dropped, a failing test's too.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get_quietly(redis: &Redis, key: &str) -> Option<String> {
    redis.call(&[b"GET", key.as_bytes()]).await.ok()?.text().ok()?
}

#[tokio::test]
async fn a_second_node_under_a_name_already_running_does_not_start() {
    let (_dir, database) = shared_database().await;
    let prefix = prefix();
    let _a = node(&database, settings(redis_url(), &prefix), "a").await;
    let config = Config {
        addr: ([127, 0, 0, 1], 0).into(),
        database: database.clone(),
        node: NodeId::parse("a").unwrap(),
        cluster: Some(settings(redis_url(), &prefix)),
        ..Config::default()
    };
    let error = Application::build(config).await.err().expect("refused").to_string();
    assert!(error.contains("HUDDLE_NODE_ID=a") && error.contains("another server"), "{error}");
}

#[tokio::test]
async fn failed_sign_ins_spread_over_two_nodes_are_counted_as_one() {
    // Ten failures allowed per account (the default); each node sees
    // only half of them, and still the eleventh blocks on both.
    let Pair { a, b, .. } = &pair().await;
    a.host("ada@example.org", "Ada").await;
    let attacker = a.visitor();
    for attempt in 0..11 {
        let node = if attempt % 2 == 0 { a } else { b };
        assert_eq!(attacker.at(node).sign_in("ada@example.org", "guess guess").await.status(), 401, "failure {attempt}");
    }
    for node in [a, b] {
        let blocked = attacker.at(node).sign_in("ada@example.org", "correct horse battery").await;
        assert_eq!(blocked.status(), 429, "blocked on every node, the right password too");
    }
}

#[tokio::test]
async fn wrong_passcodes_on_two_nodes_are_counted_as_one() {
    // A room's call goes wherever its lease is free when someone knocks:
    // a guesser whose tries land on a, then b, then a (the lease let go
    // between tries, as when a call ends) is throttled on every node.
    let cluster = pair().await;
    let (a, b) = (&cluster.a, &cluster.b);
    let host = a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    host.call("set_room_passcode", &[("room", &room.id.to_string()), ("passcode", "4812")]).await;
    let key = format!("{}room:{}", cluster.prefix, room.id);
    let guesser = a.visitor();
    let try_on = |node: &TestApp, passcode: &str| {
        let mut join = join_message(&room.slug, "Pat");
        if let ClientMessage::Join { passcode: given, .. } = &mut join {
            *given = Some(passcode.to_string());
        }
        let (visitor, key, redis) = (guesser.at(node), key.clone(), &cluster.redis);
        async move {
            // The node that held the call may take its lease back (a
            // renewal) before this one places the join: then `moved`
            // (answered before any passcode is checked), and again.
            loop {
                redis.call(&[b"DEL", key.as_bytes()]).await.unwrap();
                let mut socket = visitor.socket().await;
                socket.send(join.clone()).await;
                match socket.recv().await {
                    ServerMessage::Moved { .. } => continue,
                    answer => return crate::helpers::error_code(&answer),
                }
            }
        }
    };
    // Five failures are allowed a person; the sixth blocks them for 1 s,
    // the seventh for 2, the eighth for 4 (each tried once the block before
    // it is over): the last two tries below fall well within that.
    let guesses = ["0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777"];
    for (n, guess) in guesses.into_iter().enumerate() {
        let node = if n % 2 == 0 { a } else { b };
        if n >= 6 {
            tokio::time::sleep(Duration::from_millis(1100 << (n - 6))).await;
        }
        assert_eq!(try_on(node, guess).await, Some(ErrorCode::WrongPasscode), "{guess}");
    }
    // Four failures seen by each node (under its own limit), eight by the
    // cluster: throttled.
    for node in [a, b] {
        assert_eq!(try_on(node, "4812").await, Some(ErrorCode::TooManyPasscodes), "even the right one waits, on every node");
    }
}

#[tokio::test]
async fn a_page_of_the_previous_version_is_asked_to_reload_rather_than_moved() {
    use huddle::call::protocol::OLDEST_VERSION;
    let Pair { a, b, .. } = &pair().await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    host.socket().await.join(&room.slug, "").await;
    let mut old = b.visitor().socket().await;
    let slug = huddle::domain::RoomSlug::parse(&room.slug).unwrap();
    old.send(ClientMessage::Join { version: OLDEST_VERSION, room: slug, name: "Pat".into(), passcode: None, pass: None }).await;
    old.expect_error(ErrorCode::UnsupportedVersion).await;
}

#[tokio::test]
async fn each_node_s_metrics_carry_its_name_and_count_placements_and_redirects() {
    let (_dir, database) = shared_database().await;
    let prefix = prefix();
    let with_metrics = |c: &mut Config| c.metrics_addr = Some(([127, 0, 0, 1], 0).into());
    let a = node_with(&database, settings(redis_url(), &prefix), "a", with_metrics).await;
    let b = node_with(&database, settings(redis_url(), &prefix), "b", with_metrics).await;
    let host = a.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut host_socket = host.socket().await;
    host_socket.join(&room.slug, "").await;
    let (_, answer) = knock(&b.visitor(), &room.slug, "Pat").await;
    assert_eq!(answer, moved_to("a"));
    let scrape = |app: &TestApp| {
        let url = format!("http://{}/metrics", app.metrics_addr.expect("a metrics listener"));
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let (on_a, on_b) = (scrape(&a).await, scrape(&b).await);
    for line in [r#"huddle_cluster_placements_total{node="a",result="here"} 1"#, r#"huddle_calls{node="a"} 1"#] {
        assert!(on_a.lines().any(|l| l == line), "{line} in:\n{on_a}");
    }
    assert!(on_a.lines().any(|l| l.starts_with(r#"huddle_redis_round_trips_total{node="a"} "#)), "{on_a}");
    let redirect = r#"huddle_cluster_placements_total{node="b",result="elsewhere"} 1"#;
    assert!(on_b.lines().any(|l| l == redirect), "{redirect} in:\n{on_b}");
    assert!(!on_b.contains(r#"node="a""#), "b speaks for itself only");
}

/// A host signed up on `app`, their consultation (always a lobby), and
/// their socket in its call.
async fn consultation_on(app: &TestApp) -> (Visitor, huddle::api::rooms::RoomSummary, crate::helpers::Socket) {
    let host = app.host("host@example.org", "Dr. Host").await;
    let created = host.call("create_room", &[("name", "Clinic"), ("kind", "consultation")]).await;
    let room: huddle::api::rooms::RoomSummary = created.json().await.unwrap();
    let mut socket = host.socket().await;
    socket.join(&room.slug, "").await;
    (host, room, socket)
}

/// `welcome`'s pass.
fn pass_of(welcome: &ServerMessage) -> String {
    match welcome {
        ServerMessage::Welcome { pass: Some(pass), .. } => pass.clone(),
        other => panic!("a welcome with a pass expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_guest_whose_call_moved_comes_back_with_their_pass_as_the_same_participant_past_the_lobby() {
    let cluster = pair().await;
    let (a, b) = (&cluster.a, &cluster.b);
    let (host, room, mut host_socket) = consultation_on(a).await;
    let pat = a.visitor();
    pat.page(&format!("/r/{}", room.slug)).await; // the guest cookie
    let mut pat_socket = pat.socket().await;
    pat_socket.send(join_message(&room.slug, "Pat")).await;
    assert!(matches!(pat_socket.recv().await, ServerMessage::Waiting { .. }));
    let pat_id = waiting(&mut host_socket, "Pat").await;
    host_socket.send(ClientMessage::Admit { id: pat_id }).await;
    let welcome = pat_socket.recv().await;
    let pass = pass_of(&welcome);

    // The call moves to b (as when a was stopped long enough).
    let key = format!("{}room:{}", cluster.prefix, room.id);
    cluster.redis.call(&[b"SET", key.as_bytes(), b"b/elsewhere", b"PX", b"60000"]).await.unwrap();
    let next = tokio::time::timeout(NODE_TTL_HERE, pat_socket.recv()).await.expect("told within a renewal");
    assert_eq!(next, moved_to("b"));

    // Someone else showing Pat's pass (before Pat is back, so that id is
    // free) is just a guest in the lobby: a pass is its person's alone.
    let slug = huddle::domain::RoomSlug::parse(&room.slug).unwrap();
    let with_pass = |name: &str, pass: &str| ClientMessage::Join {
        version: huddle::call::protocol::PROTOCOL_VERSION,
        room: slug.clone(),
        name: name.into(),
        passcode: None,
        pass: Some(pass.to_string()),
    };
    let sam = b.visitor();
    sam.page(&format!("/r/{}", room.slug)).await;
    let mut sam_socket = sam.socket().await;
    sam_socket.send(with_pass("Sam", &pass)).await;
    assert!(matches!(sam_socket.recv().await, ServerMessage::Waiting { .. }), "a pass is its person's alone");

    // On b, with the pass: the same participant, straight into the call.
    let mut back = pat.at(b).socket().await;
    back.send(with_pass("Pat", &pass)).await;
    let welcome = back.recv().await;
    assert_eq!(crate::helpers::you(&welcome), pat_id, "the same participant, past the lobby");
    // The host, back too, finds Pat under the id their page knows.
    let (_, host_welcome) = knock(&host.at(b), &room.slug, "").await;
    let ServerMessage::Welcome { participants, .. } = host_welcome else { panic!("{host_welcome:?}") };
    assert_eq!(participants.iter().map(|p| p.id).collect::<Vec<_>>(), [pat_id]);
}

/// The id of the guest `name` once `host`'s lobby lists them.
async fn waiting(host: &mut crate::helpers::Socket, name: &str) -> huddle::call::protocol::ParticipantId {
    loop {
        if let ServerMessage::Lobby { waiting } = host.recv().await {
            if let Some(guest) = waiting.iter().find(|g| g.name.as_str() == name) {
                return guest.id;
            }
        }
    }
}

#[tokio::test]
async fn those_turned_away_or_removed_are_held_so_by_the_node_the_call_moves_to() {
    let cluster = pair().await;
    let (a, b) = (&cluster.a, &cluster.b);
    let (_host, room, mut host_socket) = consultation_on(a).await;
    let guest = || async {
        let visitor = a.visitor();
        visitor.page(&format!("/r/{}", room.slug)).await; // the guest cookie
        visitor
    };
    // On a: Pat is turned away; Kim is let in, then removed.
    let pat = guest().await;
    let (_pat_socket, answer) = knock(&pat, &room.slug, "Pat").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "{answer:?}");
    let pat_id = waiting(&mut host_socket, "Pat").await;
    host_socket.send(ClientMessage::Deny { id: pat_id }).await;
    let kim = guest().await;
    let (mut kim_socket, _) = knock(&kim, &room.slug, "Kim").await;
    let kim_id = waiting(&mut host_socket, "Kim").await;
    host_socket.send(ClientMessage::Admit { id: kim_id }).await;
    let pass = pass_of(&kim_socket.recv().await);
    host_socket.send(ClientMessage::Remove { id: kim_id }).await;
    assert_eq!(kim_socket.recv().await, ServerMessage::error(ErrorCode::Removed));
    // The marks reach Redis (written beside the call, not in its way).
    let pattern = format!("{}cool:{}:*", cluster.prefix, room.id);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let Ok(huddle::server::cluster::Reply::Array(keys)) = cluster.redis.call(&[b"KEYS", pattern.as_bytes()]).await else { panic!("KEYS") };
        if keys.len() == 3 {
            break; // Pat turned away; Kim removed, and her network.
        }
        assert!(Instant::now() < deadline, "the cooldowns did not reach Redis: {keys:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The call moves to b, which has none of a's memory.
    let key = format!("{}room:{}", cluster.prefix, room.id);
    cluster.redis.call(&[b"SET", key.as_bytes(), b"b/elsewhere", b"PX", b"60000"]).await.unwrap();
    let moved = async { while host_socket.recv().await != moved_to("b") {} };
    tokio::time::timeout(NODE_TTL_HERE, moved).await.expect("told within a renewal");
    // Pat is still turned away at b's door.
    let (_, answer) = knock(&pat.at(b), &room.slug, "Pat").await;
    assert_eq!(answer, ServerMessage::error(ErrorCode::Denied));
    // Everyone here shares 127.0.0.1: without the mark on Kim's network,
    // only the mark on Kim herself can hold her.
    let nearby = format!("{}cool:{}:removed_nearby:*", cluster.prefix, room.id);
    let Ok(huddle::server::cluster::Reply::Array(keys)) = cluster.redis.call(&[b"KEYS", nearby.as_bytes()]).await else { panic!("KEYS") };
    assert_eq!(keys.len(), 1);
    let huddle::server::cluster::Reply::Bulk(nearby) = &keys[0] else { panic!("a key: {keys:?}") };
    cluster.redis.call(&[b"DEL", nearby]).await.unwrap();
    // Kim, pass and all, waits in the lobby rather than walking back in.
    let mut kim_socket = kim.at(b).socket().await;
    let slug = huddle::domain::RoomSlug::parse(&room.slug).unwrap();
    let version = huddle::call::protocol::PROTOCOL_VERSION;
    kim_socket.send(ClientMessage::Join { version, room: slug, name: "Kim".into(), passcode: None, pass: Some(pass) }).await;
    let answer = kim_socket.recv().await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "removed, so through the lobby: {answer:?}");
}

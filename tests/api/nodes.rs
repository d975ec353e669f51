//! Several servers on one database (`HUDDLE_NODE_ID`): what each start
//! leaves to the others, and what must happen once even when two do it.

use huddle::server::db::sql;
use std::time::Duration;

use huddle::server::config::{NodeId, SessionLimits};

use crate::attendance::eventually;
use crate::helpers::{spawn_app, spawn_app_with, you, TestApp};

/// A second server, named `node`, on `app`'s database file.
async fn beside(app: &TestApp, node: &str) -> TestApp {
    let database = app.database.clone();
    let node = NodeId::parse(node).unwrap();
    spawn_app_with(move |c| {
        c.database = database.clone();
        c.node = node.clone();
    })
    .await
}

#[tokio::test]
async fn a_server_starting_closes_only_the_stays_its_own_last_run_left_open() {
    let mut app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let mut guest = app.visitor().socket().await;
    guest.join(&room.slug, "Pat").await;
    let open = "SELECT count(*) FROM attendance WHERE left_at IS NULL";
    eventually(&app, open, 1).await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE node = 'main'", 1).await;

    // Another server starting on the same database: Pat's call is under way
    // on the first, and stays so.
    let other = beside(&app, "b").await;
    let mut second = other.visitor().socket().await;
    second.join(&room.slug, "Sam").await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NULL AND node = 'b'", 1).await;
    assert_eq!(count(&app, open).await, 2, "starting server b closed server main's stay");

    // The first one restarting ends its own call's stays, not b's.
    drop(guest);
    app.restart().await;
    eventually(&app, "SELECT count(*) FROM attendance WHERE left_at IS NULL AND node = 'main'", 0).await;
    assert_eq!(count(&app, "SELECT count(*) FROM attendance WHERE left_at IS NULL AND node = 'b'").await, 1);
}

async fn count(app: &TestApp, query: &'static str) -> i64 {
    let (n,): (i64,) = sql::query_as(query).fetch_one(&app.db().await).await.unwrap();
    n
}

#[tokio::test]
async fn no_two_runs_of_any_server_give_two_people_the_same_id() {
    let mut app = spawn_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let first = you(&app.visitor().socket().await.join(&room.slug, "Pat").await);
    let other = beside(&app, "b").await;
    let beside_it = you(&other.visitor().socket().await.join(&room.slug, "Sam").await);
    app.restart().await;
    let again = you(&app.visitor().socket().await.join(&room.slug, "Kim").await);
    let starts = [first.0 >> 32, beside_it.0 >> 32, again.0 >> 32];
    assert!(starts[0] >= 1 && starts[0] < starts[1] && starts[1] < starts[2], "each start has its own ids: {starts:?}");
    assert!(again.0 < 1 << 53, "an id a browser's JavaScript reads exactly");
    assert_eq!(count(&app, "SELECT count(*) FROM instances").await, 3);
}

#[tokio::test]
async fn two_sweeps_at_once_audit_each_expired_session_once() {
    // The server's own sweep waits an hour: the test sweeps, twice at once.
    let app = spawn_app_with(|c| {
        c.session_limits = SessionLimits { idle: Duration::from_secs(1), absolute: Duration::from_secs(3600) };
        c.session_sweep_every = Duration::from_secs(3600);
    })
    .await;
    app.host("ada@example.org", "Ada").await;
    app.host("bo@example.org", "Bo").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (one, two) = (app.db().await, app.db().await);
    let (a, b) = tokio::join!(huddle::server::session::sweep_expired(&one), huddle::server::session::sweep_expired(&two));
    let (a, b) = (a.expect("the first sweep"), b.expect("the second sweep"));
    assert_eq!(a.len() + b.len(), 2, "two sign-ins expired, each reported by one sweep");
    assert_eq!(count(&app, "SELECT count(*) FROM audit_events WHERE action = 'session_expired'").await, 2);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions").await, 0);
}

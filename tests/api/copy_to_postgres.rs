//! `huddle copy-to-postgres URL`: a SQLite deployment moved to PostgreSQL
//! (run in the PostgreSQL pass; it needs `HUDDLE_TEST_DATABASE`).

use std::process::Command;

use huddle::server::config::Database;
use huddle::server::db::sql;

use crate::helpers::{fresh_database, setting, spawn_app_with, spawn_sqlite_app, TestApp};

const TABLES: [&str; 11] = [
    "accounts",
    "rooms",
    "scheduled_sessions",
    "attendance",
    "kept_chat",
    "polls",
    "boards",
    "known_devices",
    "audit_events",
    "instances",
    "sessions",
];

fn copy(from: &Database, to: &Database) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_huddle"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HUDDLE_")) {
        command.env_remove(key);
    }
    command.env("RUST_LOG", "error").env("HUDDLE_DATABASE", setting(from)).args(["copy-to-postgres", &setting(to)]).output().expect("huddle runs")
}

async fn counts(app: &TestApp) -> Vec<i64> {
    let db = app.db().await;
    let mut counts = Vec::new();
    for table in TABLES {
        let (n,): (i64,) = sql::query_as(format!("SELECT count(*) FROM {table}")).fetch_one(&db).await.unwrap();
        counts.push(n);
    }
    counts
}

#[tokio::test]
async fn a_sqlite_deployment_is_copied_row_for_row_and_serves_from_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let target = fresh_database(dir.path()).await;
    assert!(matches!(target, Database::Postgres(_)), "this test needs PostgreSQL in HUDDLE_TEST_DATABASE (scripts/with-postgres.sh)");
    // A deployment with something in every table.
    let mut sqlite = spawn_sqlite_app().await;
    let host = sqlite.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    let scheduled = host
        .call(
            "schedule_session",
            &[
                ("room", &id),
                ("title", "Check-up"),
                ("date", "2030-01-07"),
                ("time", "09:00"),
                ("time_zone", "Europe/Paris"),
                ("duration_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(scheduled.status(), 200);
    let kept = host.call("set_room_guests", &[("room", &id), ("may_share_screen", "on"), ("keep_chat", "on")]).await;
    assert_eq!(kept.status(), 200);
    let mut in_call = host.socket().await;
    in_call.join(&room.slug, "").await;
    in_call.send(huddle::call::protocol::ClientMessage::Chat { text: "Good morning".into() }).await;
    let _ = in_call.recv().await;
    let poll =
        huddle::call::poll::PollDraft { question: "Coffee?".into(), options: vec!["Yes".into(), "No".into()], multiple: false, anonymous: false };
    in_call.send(huddle::call::protocol::ClientMessage::PollStart { poll }).await;
    let _ = in_call.recv().await;
    let stroke = huddle::call::board::Element {
        id: "s1".into(),
        v: 0,
        k: huddle::call::board::Kind::Pen,
        c: 0,
        w: 1,
        p: vec![10, 10, 90, 40],
        r: Vec::new(),
        t: String::new(),
    };
    in_call.send(huddle::call::protocol::ClientMessage::BoardPut { page: 0, items: vec![stroke] }).await;
    in_call.send(huddle::call::protocol::ClientMessage::BoardKeep).await;
    drop(in_call);
    // Attendance and kept chat are written a moment after the call.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let before = loop {
        let before = counts(&sqlite).await;
        let empty: Vec<&str> = TABLES.iter().zip(&before).filter(|(_, n)| **n == 0).map(|(t, _)| *t).collect();
        if empty.is_empty() {
            break before;
        }
        assert!(std::time::Instant::now() < deadline, "rows in every table: none in {empty:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let database = sqlite.database.clone();
    // Huddle stopped, as the command asks.
    sqlite.stop();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let output = copy(&database, &target);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("accounts: 1 rows copied and compared") && said.contains("done:"), "{said}");

    // Served from PostgreSQL: the same rows, the same sign-in, new ids after the old.
    let pg = {
        let target = target.clone();
        spawn_app_with(move |c| c.database = target.clone()).await
    };
    let mut pg = pg;
    pg.database = target.clone();
    let after = counts(&pg).await;
    for ((table, b), a) in TABLES.iter().zip(&before).zip(&after) {
        let started = if *table == "instances" { 1 } else { 0 }; // the PostgreSQL server's own start
        assert_eq!(*a, b + started, "{table}");
    }
    let me = host.at(&pg).me().await;
    assert_eq!(me["display_name"], "Dr. Host", "the sign-in carried over: {me}");
    let newer = host.at(&pg).create_room("Second").await;
    assert!(newer.id > room.id, "new ids continue after the copied ones");

    // Not twice: the database is no longer empty.
    let again = copy(&database, &target);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"), "{}", String::from_utf8_lossy(&again.stderr));
}

#[tokio::test]
async fn the_sqlite_and_postgresql_schemas_have_the_same_tables_and_columns() {
    // Every migration is written twice (migrations/sqlite, migrations/
    // postgres): a column added to one only is caught here.
    let sqlite = spawn_sqlite_app().await;
    let dir = tempfile::tempdir().unwrap();
    let target = fresh_database(dir.path()).await;
    assert!(matches!(target, Database::Postgres(_)), "this test needs PostgreSQL in HUDDLE_TEST_DATABASE (scripts/with-postgres.sh)");
    let mut pg = {
        let target = target.clone();
        spawn_app_with(move |c| c.database = target.clone()).await
    };
    pg.database = target;
    let (lite, pgdb) = (sqlite.db().await, pg.db().await);
    let tables: Vec<(String,)> =
        sql::query_as("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name")
            .fetch_all(&lite)
            .await
            .unwrap();
    let pg_tables: Vec<(String,)> = sql::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' ORDER BY 1",
    )
    .fetch_all(&pgdb)
    .await
    .unwrap();
    assert_eq!(tables, pg_tables, "the same tables");
    for (table,) in tables {
        let here: Vec<(String, String)> =
            sql::query_as(format!("SELECT name, lower(type) FROM pragma_table_info('{table}') ORDER BY name")).fetch_all(&lite).await.unwrap();
        let there: Vec<(String, String)> = sql::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1",
        )
        .bind(table.clone())
        .fetch_all(&pgdb)
        .await
        .unwrap();
        // The one column PostgreSQL's schema left out: read by nothing.
        let here: Vec<(String, String)> = here.into_iter().filter(|(c, _)| !(table == "rooms" && c == "max_participants")).collect();
        let names = |cols: &[(String, String)]| cols.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>();
        assert_eq!(names(&here), names(&there), "{table}'s columns");
        for ((column, lite_type), (_, pg_type)) in here.iter().zip(&there) {
            // The session store's SQLite table declares its expiry an
            // integer, and keeps RFC 3339 text in it.
            let alike = matches!(
                (lite_type.as_str(), pg_type.as_str()),
                ("integer", "bigint" | "boolean") | ("text", "text" | "timestamp with time zone") | ("blob", "bytea")
            ) || (table == "sessions" && column == "expiry_date" && pg_type == "timestamp with time zone");
            assert!(alike, "{table}.{column}: {lite_type} in SQLite, {pg_type} in PostgreSQL");
        }
    }
}

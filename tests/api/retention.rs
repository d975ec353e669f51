//! Nothing is kept for ever: old stays, kept chat and audit rows go with
//! the daily sweep, and the audit log stays append-only for 30 days.

use crate::helpers::spawn_app_with;
use huddle::server::db::sql;

#[tokio::test]
async fn old_records_are_deleted_at_start_and_daily_and_recent_ones_stay() {
    let mut app = spawn_app_with(|c| {
        c.retention.chat_days = 7;
        c.retention.attendance_days = 90;
        c.retention.audit_days = 30;
    })
    .await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let db = app.db().await;
    for (table, columns, old, new) in [
        (
            "attendance",
            "(room_id, display_name, role, joined_at, left_at)",
            "($1, 'Old', 'guest', '2020-01-01T10:00:00Z', '2020-01-01T11:00:00Z')",
            "($1, 'New', 'guest', '2099-01-01T10:00:00Z', NULL)",
        ),
        (
            "kept_chat",
            "(room_id, display_name, role, text, sent_at)",
            "($1, 'Old', 'guest', 'old words', '2020-01-01T10:00:00Z')",
            "($1, 'New', 'guest', 'new words', $2)",
        ),
    ] {
        for values in [old, new] {
            let statement = sql::query(format!("INSERT INTO {table} {columns} VALUES {values}")).bind(room.id);
            let statement = if values.contains("$2") { statement.bind(jiff::Timestamp::now().to_string()) } else { statement };
            statement.execute(&db).await.unwrap();
        }
    }
    sql::query("INSERT INTO audit_events (at, actor, action, outcome) VALUES ('2020-01-01T00:00:00.000Z', 'anonymous', 'sign_in', 'failure')")
        .execute(&db)
        .await
        .unwrap();
    // Recent audit rows cannot be deleted, by anyone.
    assert!(sql::query("DELETE FROM audit_events WHERE action = 'sign_up'").execute(&db).await.is_err());
    db.close().await;

    app.restart().await;
    let db = app.db().await;
    let mut left = Vec::new();
    for _ in 0..50 {
        left = Vec::new();
        for query in
            ["SELECT display_name FROM attendance", "SELECT display_name FROM kept_chat", "SELECT actor FROM audit_events WHERE at < '2021-01-01'"]
        {
            left.push(sql::query_as::<(String,)>(query).fetch_all(&db).await.unwrap().into_iter().map(|(v,)| v).collect::<Vec<_>>());
        }
        if left[0].len() == 1 && left[1].len() == 1 && left[2].is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, [vec!["New".to_string()], vec!["New".to_string()], Vec::<String>::new()]);
    let (recent,): (i64,) = sql::query_as("SELECT COUNT(*) FROM audit_events").fetch_one(&db).await.unwrap();
    assert!(recent >= 2, "this month's sign-up and sign-in stay");
}

#[test]
fn the_audit_log_cannot_be_set_to_keep_less_than_thirty_days() {
    let err = huddle::server::config::Config::from_lookup(|k| (k == "HUDDLE_KEEP_AUDIT_DAYS").then(|| "7".to_string())).unwrap_err();
    assert!(err.to_string().contains("HUDDLE_KEEP_AUDIT_DAYS"), "{err}");
}

use std::time::Duration;

use huddle::server::config::SessionLimits;
use huddle::server::db::sql;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// The audit rows concerning `account`, oldest first: (action, outcome, actor, has client address).
async fn audit_rows(app: &TestApp, account: i64) -> Vec<(String, String, String, bool)> {
    sql::query_as::<(String, String, String, Option<String>)>(
        "SELECT action, outcome, actor, client_addr FROM audit_events WHERE account_id = $1 ORDER BY id",
    )
    .bind(account)
    .fetch_all(&app.db().await)
    .await
    .unwrap()
    .into_iter()
    .map(|(a, o, actor, client)| (a, o, actor, client.is_some()))
    .collect()
}

fn row(action: &str, outcome: &str, actor: &str) -> (String, String, String, bool) {
    (action.into(), outcome.into(), actor.into(), true)
}

#[tokio::test]
async fn login_rotates_the_session_id() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let before = ada.cookie().unwrap();
    assert_eq!(ada.sign_in("ada@example.org", "correct horse battery").await.status(), 200);
    let after = ada.cookie().unwrap();
    assert_ne!(before, after, "the session id did not change on sign-in");
    assert!(app.me_with_cookie(before).await.is_null(), "the old session id still works");
    assert_eq!(ada.me().await["display_name"], "Ada");
}

#[tokio::test]
async fn sign_up_in_out_and_failures_are_audited_with_the_client_address() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    assert_eq!(app.visitor().sign_in("ada@example.org", "not the password").await.status(), 401);
    assert_eq!(ada.call("logout", &[]).await.status(), 200);
    assert_eq!(
        audit_rows(&app, 1).await,
        vec![
            row("sign_up", "success", "account:1"),
            row("sign_in", "success", "account:1"),
            row("sign_in", "failure", "anonymous"),
            row("sign_out", "success", "account:1"),
        ]
    );
    // An unknown email is recorded too, tied to no account.
    app.visitor().sign_in("nobody@example.org", "whatever you say").await;
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM audit_events WHERE account_id IS NULL AND action = 'sign_in' AND outcome = 'failure'")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn the_audit_log_never_holds_passwords_or_session_ids() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    app.visitor().sign_in("ada@example.org", "a wrong guess!").await;
    let cookies = ada.cookie().unwrap().to_str().unwrap().to_string();
    let cookie = cookies.split("; ").find_map(|c| c.strip_prefix("huddle_session=")).expect("a session cookie").to_string();
    let dump: Vec<(String,)> = sql::query_as(
        "SELECT actor || ' ' || action || ' ' || coalesce(target,'') || ' ' || outcome || ' ' || coalesce(client_addr,'') FROM audit_events",
    )
    .fetch_all(&app.db().await)
    .await
    .unwrap();
    for (line,) in dump {
        for secret in ["correct horse battery", "a wrong guess!", cookie.as_str()] {
            assert!(!line.contains(secret), "audit row {line:?} contains a secret");
        }
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let db = app.db().await;
    let update = sql::query("UPDATE audit_events SET outcome = 'failure'").execute(&db).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    // Deleting is refused too, for rows younger than 30 days (retention
    // deletes only older ones).
    let delete = sql::query("DELETE FROM audit_events").execute(&db).await;
    assert!(delete.unwrap_err().to_string().contains("kept at least 30 days"));
}

#[tokio::test]
async fn the_account_page_lists_the_owners_recent_security_events() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    app.visitor().sign_in("ada@example.org", "not the password").await;
    let html = ada.page("/account").await.text().await.unwrap();
    assert!(html.contains("ada@example.org"));
    assert!(html.contains("Account created"));
    assert!(html.contains("Failed"), "the failed sign-in is not shown");
    // Someone else's events are not.
    let bo = app.host("bo@example.org", "Bo").await;
    let html = bo.page("/account").await.text().await.unwrap();
    assert!(!html.contains("Failed"));
}

#[tokio::test]
async fn the_account_page_needs_a_sign_in() {
    let app = spawn_app().await;
    let response = app.visitor().page("/account").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server() {
    let app = spawn_app_with(|c| c.session_limits = SessionLimits { idle: Duration::from_secs(1), absolute: Duration::from_secs(3600) }).await;
    let ada = app.host("ada@example.org", "Ada").await;
    let cookie = ada.cookie().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Even a client that ignores the cookie's Max-Age gets no session.
    assert!(app.me_with_cookie(cookie).await.is_null());
}

#[tokio::test]
async fn an_idle_expiry_is_audited_when_the_session_is_swept() {
    let app = spawn_app_with(|c| {
        c.session_limits = SessionLimits { idle: Duration::from_secs(1), absolute: Duration::from_secs(3600) };
        c.session_sweep_every = Duration::from_millis(300);
    })
    .await;
    app.host("ada@example.org", "Ada").await;
    app.visitor(); // a visitor without a session leaves nothing to audit
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let expired: Vec<_> = audit_rows(&app, 1).await.into_iter().filter(|r| r.0 == "session_expired").collect();
    assert_eq!(expired.len(), 1, "idle expiry was not audited exactly once");
    let (left,): (i64,) = sql::query_as("SELECT count(*) FROM sessions").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(left, 0, "the expired session was not deleted");
}

#[tokio::test]
async fn activity_keeps_a_session_alive_past_the_idle_limit() {
    let app = spawn_app_with(|c| c.session_limits = SessionLimits { idle: Duration::from_secs(2), absolute: Duration::from_secs(3600) }).await;
    let ada = app.host("ada@example.org", "Ada").await;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(ada.me().await["display_name"], "Ada", "an active session was signed out");
    }
}

#[tokio::test]
async fn an_active_session_still_ends_at_the_absolute_limit() {
    let app = spawn_app_with(|c| c.session_limits = SessionLimits { idle: Duration::from_secs(3600), absolute: Duration::from_secs(2) }).await;
    let ada = app.host("ada@example.org", "Ada").await;
    assert_eq!(ada.me().await["display_name"], "Ada");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(ada.me().await.is_null(), "the session outlived its absolute limit");
    let expired: Vec<_> = audit_rows(&app, 1).await.into_iter().filter(|r| r.0 == "session_expired").collect();
    assert_eq!(expired.len(), 1);
}

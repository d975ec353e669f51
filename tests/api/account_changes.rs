use huddle::server::db::sql;
use std::time::Duration;

use huddle::server::config::SessionLimits;

use crate::helpers::{spawn_app, spawn_app_with, Socket};
use huddle::call::protocol::ClientMessage;

const PASSWORD: &str = "correct horse battery";

/// A socket joined to a fresh room of `host`'s.
async fn in_a_call(host: &crate::helpers::Visitor) -> Socket {
    let slug = host.create_room("Clinic").await.slug;
    let mut socket = host.socket().await;
    socket.join(&slug, "ignored").await;
    socket
}

/// Asserts the server closes `socket` within one second.
async fn closed_within_a_second(socket: &mut Socket) {
    tokio::time::timeout(Duration::from_secs(1), socket.expect_closed(None)).await.expect("the socket was still open after 1 s");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let response = ada.call("change_password", &[("current_password", "a wrong one"), ("new_password", "a brand new secret")]).await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "current_password");
    assert_eq!(app.visitor().sign_in("ada@example.org", PASSWORD).await.status(), 200, "the password changed anyway");
}

#[tokio::test]
async fn a_new_password_must_be_valid() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let response = ada.call("change_password", &[("current_password", PASSWORD), ("new_password", "short")]).await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "new_password");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_keeps_this_one_and_closes_call_sockets() {
    let app = spawn_app().await;
    let laptop = app.host("ada@example.org", "Ada").await;
    let phone = app.visitor();
    assert_eq!(phone.sign_in("ada@example.org", PASSWORD).await.status(), 200);
    let mut phone_call = in_a_call(&phone).await;
    let mut laptop_call = in_a_call(&laptop).await;
    let laptop_id_before = laptop.cookie().unwrap();

    let response = laptop.call("change_password", &[("current_password", PASSWORD), ("new_password", "a brand new secret")]).await;
    assert_eq!(response.status(), 200);
    assert_ne!(laptop.cookie().unwrap(), laptop_id_before, "the session id did not change with the password");
    assert!(app.me_with_cookie(laptop_id_before).await.is_null(), "the pre-change session id still works");
    closed_within_a_second(&mut phone_call).await;
    closed_within_a_second(&mut laptop_call).await;

    assert_eq!(laptop.me().await["display_name"], "Ada", "this session should stay signed in");
    assert!(phone.me().await.is_null(), "the other session survived the password change");
    assert_eq!(app.visitor().sign_in("ada@example.org", PASSWORD).await.status(), 401);
    assert_eq!(app.visitor().sign_in("ada@example.org", "a brand new secret").await.status(), 200);
}

#[tokio::test]
async fn signing_out_closes_that_sessions_call_sockets_within_a_second() {
    let app = spawn_app().await;
    let laptop = app.host("ada@example.org", "Ada").await;
    let phone = app.visitor();
    phone.sign_in("ada@example.org", PASSWORD).await;
    let mut laptop_call = in_a_call(&laptop).await;
    let mut phone_call = in_a_call(&phone).await;
    assert_eq!(laptop.call("logout", &[]).await.status(), 200);
    closed_within_a_second(&mut laptop_call).await;
    // The phone's call carries on.
    phone_call.send(ClientMessage::Leave).await;
    phone_call.expect_silence().await;
    assert_eq!(phone.me().await["display_name"], "Ada");
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_only_this_session() {
    let app = spawn_app().await;
    let laptop = app.host("ada@example.org", "Ada").await;
    let phone = app.visitor();
    phone.sign_in("ada@example.org", PASSWORD).await;
    let mut phone_call = in_a_call(&phone).await;
    let mut laptop_call = in_a_call(&laptop).await;
    assert_eq!(laptop.call("sign_out_everywhere_else", &[]).await.status(), 200);
    closed_within_a_second(&mut phone_call).await;
    assert!(phone.me().await.is_null());
    assert_eq!(laptop.me().await["display_name"], "Ada");
    laptop_call.send(ClientMessage::Leave).await;
    laptop_call.expect_silence().await;
}

#[tokio::test]
async fn the_absolute_session_limit_closes_call_sockets() {
    let app = spawn_app_with(|c| c.session_limits = SessionLimits { idle: Duration::from_secs(3600), absolute: Duration::from_secs(2) }).await;
    let ada = app.host("ada@example.org", "Ada").await;
    let mut call = in_a_call(&ada).await;
    tokio::time::timeout(Duration::from_secs(4), call.expect_closed(None)).await.expect("the socket outlived the session");
}

#[tokio::test]
async fn name_and_email_change_with_the_password() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    app.host("bo@example.org", "Bo").await;

    let wrong = ada.call("change_profile", &[("display_name", "Dr. Ada"), ("email", "dr.ada@example.org"), ("password", "nope nope nope")]).await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(wrong.json::<serde_json::Value>().await.unwrap()["Invalid"]["field"], "password");

    // A taken email is answered like a free one (nobody learns who is
    // registered), is not taken, and its owner sees the attempt.
    let taken = ada.call("change_profile", &[("display_name", "Dr. Ada"), ("email", "BO@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(taken.status().as_u16(), 200);
    ada.call("logout", &[]).await;
    assert_eq!(ada.sign_in("ada@example.org", PASSWORD).await.status(), 200, "Ada keeps hers");
    assert_eq!(ada.me().await["email"], "ada@example.org");
    let bo_saw: (String, String) = sql::query_as("SELECT action, outcome FROM audit_events WHERE account_id = 2 ORDER BY id DESC LIMIT 1")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert_eq!(bo_saw, ("profile_change".to_string(), "failure".to_string()));
    assert_eq!(app.visitor().sign_in("bo@example.org", PASSWORD).await.status(), 200, "Bo keeps his email");

    let ok = ada.call("change_profile", &[("display_name", "Dr. Ada"), ("email", "Dr.Ada@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(ok.status(), 200);
    let me = ada.me().await;
    assert_eq!(me["display_name"], "Dr. Ada");
    assert_eq!(me["email"], "dr.ada@example.org");
    assert_eq!(app.visitor().sign_in("dr.ada@example.org", PASSWORD).await.status(), 200);
}

/// `visitor` asks for `email` (keeping the name Sam): the answer's status
/// and body.
async fn ask(visitor: &crate::helpers::Visitor, email: &str) -> (u16, String) {
    let answer = visitor.call("change_profile", &[("display_name", "Sam"), ("email", email), ("password", PASSWORD)]).await;
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// `visitor`'s account page up to its events, with `asked` and `before`
/// written as ASKED and BEFORE.
async fn account_page(visitor: &crate::helpers::Visitor, asked: &str, before: &str) -> String {
    use crate::helpers::Html;
    let html = visitor.page("/account").await.html().await;
    let start = html.find(r#"<section class="card">"#).expect("the account's card");
    let end = html.find(r#"<table class="events">"#).expect("its events");
    html[start..end].replace(asked, "ASKED").replace(before, "BEFORE")
}

#[tokio::test]
async fn after_asking_for_a_taken_email_or_a_free_one_the_owner_is_shown_the_same() {
    // The probe's finding: a taken email was answered like a free one, but
    // the email shown afterwards was the old one, which told them apart.
    let app = spawn_app().await;
    app.host("bo@example.org", "Bo").await;
    let ada = app.host("ada@example.org", "Sam").await;
    let cy = app.host("cy@example.org", "Sam").await;
    assert_eq!(ask(&ada, "bo@example.org").await, ask(&cy, "new@example.org").await, "the same answer");
    assert_eq!(ada.me().await, serde_json::json!({"display_name": "Sam", "email": "bo@example.org", "email_before": "ada@example.org"}));
    assert_eq!(cy.me().await, serde_json::json!({"display_name": "Sam", "email": "new@example.org", "email_before": "cy@example.org"}));
    // The account page: the same, but for the addresses themselves.
    let ada_page = account_page(&ada, "bo@example.org", "ada@example.org").await;
    let cy_page = account_page(&cy, "new@example.org", "cy@example.org").await;
    assert_eq!(ada_page, cy_page);
    assert!(ada_page.contains("You asked to sign in with ASKED from now on.") && ada_page.contains(r#"value="ASKED""#), "{ada_page}");
    // Asking again for the same address is no new request; another one,
    // even back to the old address, waits for a sign-in, the same way
    // whichever way the first went (which address is in force differs).
    assert_eq!(ask(&ada, "bo@example.org").await.0, 200);
    for (visitor, back) in [(&ada, "ada@example.org"), (&cy, "cy@example.org")] {
        for email in [back, "third@example.org"] {
            let (status, body) = ask(visitor, email).await;
            assert_eq!((status, body.contains("email_change_stands")), (422, true), "{body}");
        }
    }
    assert_eq!(account_page(&ada, "bo@example.org", "ada@example.org").await, account_page(&cy, "new@example.org", "cy@example.org").await);
    // A sign-in tells them how it went anyway (one address works); then
    // the note goes.
    for (visitor, works) in [(&ada, "ada@example.org"), (&cy, "new@example.org")] {
        visitor.call("logout", &[]).await;
        assert_eq!(visitor.sign_in(works, PASSWORD).await.status(), 200);
        let me = visitor.me().await;
        assert_eq!((me["email"].as_str(), &me["email_before"]), (Some(works), &serde_json::Value::Null));
    }
    assert_eq!(app.visitor().sign_in("bo@example.org", PASSWORD).await.status(), 200, "Bo keeps his email");
}

#[tokio::test]
async fn account_changes_are_audited() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    ada.call("change_password", &[("current_password", "wrong!!!"), ("new_password", "a brand new secret")]).await;
    ada.call("change_password", &[("current_password", PASSWORD), ("new_password", "a brand new secret")]).await;
    ada.call("sign_out_everywhere_else", &[]).await;
    let rows: Vec<(String, String)> =
        sql::query_as("SELECT action, outcome FROM audit_events WHERE account_id = 1 AND action NOT IN ('sign_up', 'sign_in') ORDER BY id")
            .fetch_all(&app.db().await)
            .await
            .unwrap();
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, o)| (a.as_str(), o.as_str())).collect();
    assert_eq!(rows, [("password_change", "failure"), ("password_change", "success"), ("sign_out_everywhere_else", "success")]);
}

#[tokio::test]
async fn a_session_that_idles_out_closes_its_call_sockets_and_frees_the_room() {
    let app = spawn_app_with(|c| {
        c.session_limits = SessionLimits { idle: Duration::from_secs(2), absolute: Duration::from_secs(3600) };
        c.session_sweep_every = Duration::from_millis(300);
    })
    .await;
    let ada = app.host("ada@example.org", "Ada").await;
    // A socket alone, with no page asking to stay signed in.
    let mut call = in_a_call(&ada).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), call.expect_closed(Some(4001))).await;
    assert!(closed.is_ok(), "the socket outlived its idle session");
}

#[tokio::test]
async fn email_changes_are_throttled_so_the_form_cannot_test_which_emails_exist() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let mut statuses = Vec::new();
    let mut signs_in_with = "ada@example.org".to_string();
    for n in 0..8 {
        let email = format!("probe{n}@example.org");
        let status = ada.call("change_profile", &[("display_name", "Ada"), ("email", &email), ("password", PASSWORD)]).await.status().as_u16();
        statuses.push(status);
        if status == 200 {
            signs_in_with = email;
        }
        // One change at a time: the next comes after signing in again.
        ada.call("logout", &[]).await;
        assert_eq!(ada.sign_in(&signs_in_with, PASSWORD).await.status(), 200);
    }
    assert_eq!(&statuses[..6], [200; 6]);
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    // The name alone may still change.
    let me = ada.me().await;
    let email = me["email"].as_str().unwrap().to_string();
    assert_eq!(ada.call("change_profile", &[("display_name", "Dr. Ada"), ("email", &email), ("password", PASSWORD)]).await.status(), 200);
}

#[tokio::test]
async fn the_dashboards_poll_of_waiting_guests_does_not_keep_an_idle_session_alive_while_a_real_request_does() {
    let app = spawn_app_with(|c| c.session_limits = SessionLimits { idle: Duration::from_secs(2), absolute: Duration::from_secs(3600) }).await;
    let polled = app.host("ada@example.org", "Ada").await;
    let active = app.host("bo@example.org", "Bo").await;
    // Both ask something every half second for 3 s: one only polls the
    // waiting list, the other loads its rooms.
    let first = polled.http_get("/api/waiting_now").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.unwrap(), "[]", "nobody waits");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        statuses.push(polled.http_get("/api/waiting_now").await.status().as_u16());
        assert_eq!(active.call("my_rooms", &[]).await.status(), 200);
    }
    // Idle after 2 s: the poll itself is then refused.
    assert_eq!(statuses.last(), Some(&401), "{statuses:?}");
    assert_eq!(polled.me().await, serde_json::Value::Null, "a tab that only polls is idle, and signed out");
    assert_eq!(active.me().await["display_name"], "Bo", "a tab in use stays signed in");
}

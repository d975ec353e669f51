use crate::helpers::{spawn_app, spawn_process};
use huddle::server::db::sql;

#[tokio::test]
async fn sign_up_creates_an_account_and_sends_the_person_to_sign_in() {
    let app = spawn_app().await;
    let ada = app.visitor();
    let response = ada.sign_up("Ada@Example.org", "Dr. Ada", "correct horse battery").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["location"], "/login?registered=1");
    assert!(ada.me().await.is_null());
    assert_eq!(ada.sign_in("ada@example.org", "correct horse battery").await.status(), 200);
    let me = ada.me().await;
    assert_eq!(me["display_name"], "Dr. Ada");
    assert_eq!(me["email"], "ada@example.org");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let (hash,): (String,) = sql::query_as("SELECT password_hash FROM accounts").fetch_one(&app.db().await).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains("correct horse"));
}

#[tokio::test]
async fn invalid_sign_up_fields_get_a_message_for_that_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for (email, name, password, field) in [
        ("not-an-email", "Ada", "correct horse battery", "email"),
        ("ada@example.org", "", "correct horse battery", "display_name"),
        ("ada@example.org", &"x".repeat(65), "correct horse battery", "display_name"),
        ("ada@example.org", "Ada", "short", "password"),
        ("ada@example.org", "Ada", "Password123", "password"),
        ("ada@example.org", "Ada", "iloveyou", "password"),
    ] {
        let response = visitor.sign_up(email, name, password).await;
        assert_eq!(response.status(), 422, "{field}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{body}");
        assert!(body["Invalid"]["problem"]["code"].as_str().is_some_and(|code| !code.is_empty()), "{body}");
    }
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM accounts").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
    assert!(visitor.me().await.is_null());
}

#[tokio::test]
async fn sign_up_with_an_existing_email_looks_the_same_and_changes_nothing() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let taken = app.visitor().sign_up("ADA@example.org", "Impostor", "another password").await;
    let fresh = app.visitor().sign_up("new@example.org", "Newcomer", "another password").await;
    assert_eq!(taken.status(), fresh.status());
    assert_eq!(taken.headers()["location"], fresh.headers()["location"]);
    assert_eq!(taken.text().await.unwrap(), fresh.text().await.unwrap());
    // The real account is untouched and the impostor's password does nothing.
    assert_eq!(app.visitor().sign_in("ada@example.org", "another password").await.status(), 401);
    assert_eq!(app.visitor().sign_in("ada@example.org", "correct horse battery").await.status(), 200);
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM accounts WHERE display_name = 'Impostor'").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
}

/// Median time of `n` runs of each of two requests, interleaved so that
/// drift in the machine's load hits both alike.
async fn median_times<A, B, FA, FB>(n: usize, mut a: A, mut b: B) -> (f64, f64)
where
    A: FnMut(usize) -> FA,
    B: FnMut(usize) -> FB,
    FA: std::future::Future<Output = reqwest::Response>,
    FB: std::future::Future<Output = reqwest::Response>,
{
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..n {
        let start = std::time::Instant::now();
        a(i).await;
        ta.push(start.elapsed().as_secs_f64());
        let start = std::time::Instant::now();
        b(i).await;
        tb.push(start.elapsed().as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(ta), median(tb))
}

fn within_ten_percent(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.10 * a.max(b)
}

/// Rounds of timing: a path that does more work than the other is slower
/// in every round, while a disturbance of the machine (another process,
/// the database's own housekeeping) spoils one. So two requests take the
/// same time when the medians of `n` interleaved runs each come within
/// 10 % in one of three rounds. Each round's medians, and whether one
/// matched; run `i` of the requests is numbered across rounds.
async fn same_time<A, B, FA, FB>(n: usize, mut a: A, mut b: B) -> (bool, Vec<(f64, f64)>)
where
    A: FnMut(usize) -> FA,
    B: FnMut(usize) -> FB,
    FA: std::future::Future<Output = reqwest::Response>,
    FB: std::future::Future<Output = reqwest::Response>,
{
    let mut rounds = Vec::new();
    for round in 0..3 {
        let (x, y) = median_times(n, |i| a(round * n + i), |i| b(round * n + i)).await;
        rounds.push((x, y));
        if within_ten_percent(x, y) {
            return (true, rounds);
        }
    }
    (false, rounds)
}

#[tokio::test]
async fn unknown_email_and_wrong_password_take_the_same_time() {
    let server = spawn_process().await;
    let visitor = &server.visitor;
    visitor.sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let unknown_emails: Vec<String> = (0..150).map(|i| format!("nobody{i}@example.org")).collect();
    let (same, rounds) =
        same_time(50, |_| visitor.sign_in("ada@example.org", "wrong password!"), |i| visitor.sign_in(&unknown_emails[i], "wrong password!")).await;
    eprintln!("sign-in, (wrong password, unknown email) in seconds, by round: {rounds:.4?}");
    assert!(same, "a wrong password and an unknown email took different times in every round: {rounds:.4?}");
}

#[tokio::test]
async fn sign_up_with_a_taken_email_takes_the_same_time_as_a_new_one() {
    let server = spawn_process().await;
    let visitor = &server.visitor;
    visitor.sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let new_emails: Vec<String> = (0..150).map(|i| format!("new{i}@example.org")).collect();
    let (same, rounds) = same_time(
        50,
        |_| visitor.sign_up("ada@example.org", "Someone", "another password"),
        |i| visitor.sign_up(&new_emails[i], "Someone", "another password"),
    )
    .await;
    eprintln!("sign-up, (taken email, new email) in seconds, by round: {rounds:.4?}");
    assert!(same, "a taken and a new email took different times in every round: {rounds:.4?}");
}

#[tokio::test]
async fn sign_in_with_the_right_password_works() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let again = app.visitor();
    let response = again.sign_in("ada@example.org", "correct horse battery").await;
    assert_eq!(response.status(), 200);
    assert_eq!(again.me().await["display_name"], "Ada");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_are_indistinguishable() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let wrong_password = app.visitor().sign_in("ada@example.org", "wrong password!").await;
    let unknown_email = app.visitor().sign_in("nobody@example.org", "wrong password!").await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let a = wrong_password.text().await.unwrap();
    let b = unknown_email.text().await.unwrap();
    assert_eq!(a, b);
    assert!(a.contains("BadCredentials"));
}

#[tokio::test]
async fn a_password_differing_only_after_character_72_does_not_sign_in() {
    let app = spawn_app().await;
    let long = format!("{}A", "p".repeat(80));
    assert_eq!(app.visitor().sign_up("ada@example.org", "Ada", &long).await.status(), 200);
    let almost = format!("{}B", "p".repeat(80));
    assert_eq!(app.visitor().sign_in("ada@example.org", &almost).await.status(), 401);
    assert_eq!(app.visitor().sign_in("ada@example.org", &long).await.status(), 200);
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    let stolen_cookie = ada.cookie().expect("a session cookie");
    assert_eq!(ada.call("logout", &[]).await.status(), 200);
    assert!(ada.me().await.is_null());
    // Replaying the old cookie from elsewhere finds no session.
    assert_eq!(app.me_with_cookie(stolen_cookie).await, serde_json::Value::Null);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    app.visitor().sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let response = app.visitor().sign_in("ada@example.org", "correct horse battery").await;
    let cookies: Vec<&str> = response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).collect();
    let cookie = cookies.iter().find(|c| c.starts_with("huddle_session=")).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
}

#[tokio::test]
async fn a_sign_in_survives_a_server_restart() {
    let mut app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    app.restart().await;
    // Same browser, same cookie, new server process state, new port.
    assert_eq!(app.me_with_cookie(ada.cookie().unwrap()).await["display_name"], "Ada");
}

#[tokio::test]
async fn the_help_flag_lists_every_setting() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_huddle")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in ["HUDDLE_ADDR", "HUDDLE_DATABASE", "HUDDLE_PUBLIC_ORIGIN", "HUDDLE_ICE_SERVERS", "127.0.0.1:3000", "./data/huddle.db"] {
        assert!(help.contains(setting), "--help does not mention {setting}");
    }
}

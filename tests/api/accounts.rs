use crate::helpers::spawn_app;

#[tokio::test]
async fn sign_up_creates_an_account_and_signs_it_in() {
    let app = spawn_app().await;
    let ada = app.visitor();
    let response = ada.sign_up("Ada@Example.org", "Dr. Ada", "correct horse battery").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["location"], "/rooms");
    let me = ada.me().await;
    assert_eq!(me["display_name"], "Dr. Ada");
    assert_eq!(me["email"], "ada@example.org");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM accounts").fetch_one(&app.db().await).await.unwrap();
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
    ] {
        let response = visitor.sign_up(email, name, password).await;
        assert_eq!(response.status(), 422, "{field}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{body}");
        assert!(body["Invalid"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
    assert!(visitor.me().await.is_null());
}

#[tokio::test]
async fn a_second_account_with_the_same_email_is_refused() {
    let app = spawn_app().await;
    app.host("ada@example.org", "Ada").await;
    let response = app.visitor().sign_up("ADA@example.org", "Impostor", "another password").await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "email");
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
    let replay = reqwest::Client::new()
        .post(ada.url("/api/me"))
        .header("cookie", stolen_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.json::<serde_json::Value>().await.unwrap(), serde_json::Value::Null);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = app.visitor().sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("huddle_session="), "{cookie}");
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
    let after = reqwest::Client::new()
        .post(format!("{}/api/me", app.origin))
        .header("cookie", ada.cookie().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(after.json::<serde_json::Value>().await.unwrap()["display_name"], "Ada");
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

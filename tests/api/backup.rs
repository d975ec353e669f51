//! `huddle backup FILE` while Huddle runs and writes, and `huddle
//! --check-config`: the binary itself, as an operator runs it.

use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::helpers::spawn_sqlite_app;

fn huddle() -> Command {
    without_settings(Command::new(env!("CARGO_BIN_EXE_huddle")))
}

/// `command` with no `HUDDLE_*` setting of the test run's.
fn without_settings(mut command: Command) -> Command {
    command.env("RUST_LOG", "error");
    for (key, _) in std::env::vars() {
        if key.starts_with("HUDDLE_") {
            command.env_remove(key);
        }
    }
    command
}

#[tokio::test]
async fn a_backup_taken_during_writes_opens_and_holds_every_acknowledged_row() {
    let app = spawn_sqlite_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let room = host.create_room(&format!("Room {n}")).await;
                acknowledged.lock().unwrap().push(room.id);
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before: Vec<i64> = acknowledged.lock().unwrap().clone();
    let copy = app.dir.path().join("copy.db");
    let database = app.dir.path().join("huddle.db");
    let backup = huddle().arg("backup").arg(&copy).env("HUDDLE_DATABASE", &database).output().unwrap();
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(String::from_utf8_lossy(&backup.stdout).contains("bytes"));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    assert!(acknowledged.lock().unwrap().len() > before.len(), "writes went on while the backup ran");

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", copy.display())).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
    assert_eq!(check, "ok");
    let saved: Vec<i64> = sqlx::query_scalar("SELECT id FROM rooms").fetch_all(&pool).await.unwrap();
    let missing: Vec<&i64> = before.iter().filter(|id| !saved.contains(id)).collect();
    assert!(missing.is_empty(), "acknowledged rooms missing from the backup: {missing:?}");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&pool).await.unwrap();
    assert_eq!(accounts, 1);

    // The copy is never overwritten.
    let again = huddle().arg("backup").arg(&copy).env("HUDDLE_DATABASE", &database).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // Nor is a database made up where there was none.
    let nowhere = app.dir.path().join("nowhere.db");
    let none = huddle().arg("backup").arg(app.dir.path().join("x.db")).env("HUDDLE_DATABASE", &nowhere).output().unwrap();
    assert!(!none.status.success() && !nowhere.exists());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no database"));
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_backup_is_its_owners_alone_and_holds_no_session_id_that_signs_anyone_in() {
    // The probe's finding: backups were 0644 under a usual umask, and held
    // live session ids in plain text; one sent as the cookie signed in as
    // its owner.
    let app = spawn_sqlite_app().await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let database = app.dir.path().join("huddle.db");
    assert_eq!(mode(&database), 0o600, "a database Huddle creates is its owner's alone");
    let copy = app.dir.path().join("copy.db");
    // Under the usual umask, whatever the test runner's.
    let backup = without_settings(Command::new("sh"))
        .env("HUDDLE_DATABASE", &database)
        .arg("-c")
        .arg(r#"umask 022 && exec "$0" backup "$1""#)
        .arg(env!("CARGO_BIN_EXE_huddle"))
        .arg(&copy)
        .output()
        .unwrap();
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert_eq!(mode(&copy), 0o600, "under umask 022");

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", copy.display())).await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions").fetch_all(&pool).await.unwrap();
    assert!(!ids.is_empty(), "the host's session is in the copy");
    let cookie = host.cookie().unwrap().to_str().unwrap().to_string();
    let real = cookie.split("; ").find_map(|c| c.strip_prefix("huddle_session=")).expect("a session cookie").to_string();
    assert!(!ids.contains(&real), "the copy does not hold the id itself");
    for id in ids {
        let me = app.me_with_cookie(format!("huddle_session={id}").parse().unwrap()).await;
        assert!(me.is_null(), "an id from the backup signed in: {me}");
    }
    let me = app.me_with_cookie(format!("huddle_session={real}").parse().unwrap()).await;
    assert_eq!(me["email"], "host@example.org", "while the browser's own cookie still works: {me}");
}

#[test]
fn check_config_prints_the_settings_with_secrets_masked() {
    let output = huddle()
        .arg("--check-config")
        .env("HUDDLE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
        .env("HUDDLE_TURN_URLS", "turn:turn.example.org:3478")
        .env("HUDDLE_TURN_SECRET", "a-very-secret-turn-key")
        .env("HUDDLE_ICE_SERVERS", r#"[{"urls":["turn:t.example.org"],"username":"alice","credential":"ice-password"}]"#)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("HUDDLE_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1/32"), "{stdout}");
    assert!(stdout.contains("HUDDLE_TURN_SECRET=****"), "{stdout}");
    assert!(stdout.contains("HUDDLE_WS_MAX_PER_ADDRESS=100"), "{stdout}");
    for secret in ["a-very-secret-turn-key", "ice-password", "alice"] {
        assert!(!stdout.contains(secret), "{secret} printed: {stdout}");
    }
}

#[test]
fn check_config_refuses_a_bad_setting_with_a_sentence_naming_it() {
    for (name, value, named) in [
        ("HUDDLE_TRUSTED_PROXIES", "10.0.0.0/40", "HUDDLE_TRUSTED_PROXIES"),
        ("HUDDLE_METRICS_ADDR", "everywhere", "HUDDLE_METRICS_ADDR"),
        ("HUDDLE_TLS_CERT", "/nonexistent/cert.pem", "HUDDLE_TLS_CERT and HUDDLE_TLS_KEY go together"),
        ("HUDDLE_HTTP_REDIRECT_ADDR", "127.0.0.1:8080", "HUDDLE_PUBLIC_ORIGIN"),
    ] {
        let output = huddle().arg("--check-config").env(name, value).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}={value} was accepted");
        assert!(stderr.contains(named), "{name}: {stderr}");
    }
    let output = huddle()
        .arg("--check-config")
        .env("HUDDLE_TLS_CERT", "/nonexistent/cert.pem")
        .env("HUDDLE_TLS_KEY", "/nonexistent/key.pem")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("/nonexistent/cert.pem"), "{stderr}");
}

#[test]
fn a_postgresql_database_is_not_copied_but_pointed_to_its_own_tools() {
    let refused =
        huddle().arg("backup").arg("/tmp/never-written.db").env("HUDDLE_DATABASE", "postgres://huddle:secret@127.0.0.1:1/huddle").output().unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("pg_dump") && !said.contains("secret"), "{said}");
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}

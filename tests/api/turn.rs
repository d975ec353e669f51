//! TURN credentials: coturn's shared-secret scheme, time-limited, and only
//! for participants let into a call.

use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ErrorCode, IceServer, ServerMessage};
use huddle::call::turn::{password, TurnConfig};
use serde_json::json;

use crate::helpers::{spawn_app_with, Socket};

const SECRET: &str = "a test secret of some length";

fn with_turn(config: &mut huddle::server::config::Config) {
    config.turn = Some(TurnConfig { urls: vec!["turn:127.0.0.1:3478".into()], secret: SECRET.into(), ttl: Duration::from_secs(600) });
}

/// The TURN entry among `servers`, checked: a username `expiry:opaque`
/// expiring `ttl` from now, and the HMAC password coturn expects.
fn check_turn(servers: &[IceServer]) -> String {
    let turn = servers.iter().find(|s| s.urls == ["turn:127.0.0.1:3478"]).expect("a TURN server");
    let username = turn.username.clone().expect("a username");
    let (expiry, opaque) = username.split_once(':').expect("expiry:opaque");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expiry: u64 = expiry.parse().expect("an expiry in Unix seconds");
    assert!((now + 595..=now + 605).contains(&expiry), "expires {} s from now, not 600", expiry as i64 - now as i64);
    assert!(!opaque.is_empty());
    assert_eq!(turn.credential.as_deref(), Some(password(SECRET, &username).as_str()));
    username
}

async fn ask(socket: &mut Socket) -> ServerMessage {
    socket.send(ClientMessage::IceServers).await;
    socket.recv().await
}

#[tokio::test]
async fn only_participants_in_a_call_get_turn_credentials_and_fresh_ones_on_request() {
    let app = spawn_app_with(with_turn).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    assert_eq!(host.call("set_room_lobby", &[("room", &id), ("lobby", "on")]).await.status(), 200);

    // Nobody gets any before joining.
    let mut stranger = app.visitor().socket().await;
    stranger.send(ClientMessage::IceServers).await;
    assert_eq!(stranger.recv().await, ServerMessage::error(ErrorCode::NotJoined));

    let mut call = host.socket().await;
    let ServerMessage::Welcome { ice_servers, .. } = call.join(&room.slug, "ignored").await else { panic!("no welcome") };
    let first = check_turn(&ice_servers);
    assert!(matches!(call.recv().await, ServerMessage::Lobby { .. }));

    // A waiting guest gets none, and is refused when asking.
    let mut guest = app.knock(&room.slug, "Pat").await;
    assert_eq!(ask(&mut guest).await, ServerMessage::error(ErrorCode::NotAdmitted));

    // Let in, they get their own.
    let ServerMessage::Lobby { waiting } = call.recv().await else { panic!("no lobby update") };
    call.send(ClientMessage::Admit { id: waiting[0].id }).await;
    let ServerMessage::Welcome { ice_servers, .. } = guest.recv().await else { panic!("no welcome") };
    let guests = check_turn(&ice_servers);
    assert_ne!(guests, first, "each participant has their own credential");

    // Asking again gives fresh ones.
    let ServerMessage::IceServers { ice_servers } = ask(&mut guest).await else { panic!("no ice servers") };
    check_turn(&ice_servers);
}

#[tokio::test]
async fn without_turn_configured_nobody_gets_credentials() {
    let app = spawn_app_with(|_| {}).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let mut call = host.socket().await;
    let ServerMessage::Welcome { ice_servers, .. } = call.join(&room.slug, "ignored").await else { panic!("no welcome") };
    assert!(ice_servers.iter().all(|s| s.credential.is_none()));
    assert_eq!(ask(&mut call).await, ServerMessage::IceServers { ice_servers: vec![] });
}

#[tokio::test]
async fn hiding_addresses_needs_a_relay_and_then_holds_for_everyone_in_the_call() {
    // No TURN here: turning it on is refused with a reason, nothing saved.
    let app = spawn_app_with(|_| {}).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let refused = host.call("set_room_privacy", &[("room", &room.id.to_string()), ("relay_only", "on")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains(r#""code":"no_relay""#));
    let listed: Vec<serde_json::Value> = host.call("my_rooms", &[]).await.json().await.unwrap();
    assert_eq!(listed[0]["relay_only"], false);

    let app = spawn_app_with(with_turn).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    let saved: serde_json::Value = host.call("set_room_privacy", &[("room", &id), ("relay_only", "on")]).await.json().await.unwrap();
    assert_eq!(saved["relay_only"], true);
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.call("set_room_privacy", &[("room", &id)]).await.status(), 404);
    // Host and guest alike are told to use the relay only.
    let mut call = host.socket().await;
    let ServerMessage::Welcome { rules, .. } = call.join(&room.slug, "ignored").await else { panic!("no welcome") };
    assert!(rules.relay_only);
    let mut guest = app.visitor().socket().await;
    let ServerMessage::Welcome { rules, .. } = guest.join(&room.slug, "Pat").await else { panic!("no welcome") };
    assert!(rules.relay_only && rules.may_unmute);
    // Turned off, the call under way keeps it (nobody's address leaks to a
    // latecomer); the next call connects directly.
    host.call("set_room_privacy", &[("room", &id)]).await;
    let mut late = app.visitor().socket().await;
    let ServerMessage::Welcome { rules, .. } = late.join(&room.slug, "Kim").await else { panic!("no welcome") };
    assert!(rules.relay_only);
    // Everyone leaves (keeping their sockets open: a socket dropped with
    // unread messages is reset, and its last frames may be lost).
    let mut gone = [late, guest, call];
    for socket in &mut gone {
        socket.send(ClientMessage::Leave).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut next = host.socket().await;
    let ServerMessage::Welcome { rules, participants, .. } = next.join(&room.slug, "ignored").await else { panic!("no welcome") };
    assert!(!rules.relay_only, "{participants:?}");
}

#[tokio::test]
async fn a_visitor_before_joining_learns_only_where_to_test_the_network() {
    let app = spawn_app_with(|config| {
        with_turn(config);
        config.ice_servers = vec![IceServer { urls: vec!["stun:127.0.0.1:19302".into()], username: None, credential: None }];
    })
    .await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let response = app.visitor().call("invitation", &[("slug", room.slug.as_str())]).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let invitation: serde_json::Value = serde_json::from_str(&body).unwrap();
    // The STUN server as configured, and the TURN server's own STUN service.
    assert_eq!(invitation["probe_urls"], json!(["stun:127.0.0.1:19302", "stun:127.0.0.1:3478"]));
    assert!(!body.contains("turn:") && !body.contains("credential") && !body.contains("huddle-"), "{body}");
}

#[tokio::test]
async fn someone_removed_gets_no_new_credentials_and_theirs_last_an_hour_by_default() {
    assert_eq!(
        huddle::server::config::Config::from_lookup(|k| match k {
            "HUDDLE_TURN_URLS" => Some("turn:127.0.0.1:3478".into()),
            "HUDDLE_TURN_SECRET" => Some(SECRET.into()),
            _ => None,
        })
        .unwrap()
        .turn
        .unwrap()
        .ttl,
        Duration::from_secs(3600)
    );
    let app = spawn_app_with(with_turn).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Team").await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    let visitor = app.visitor();
    visitor.page(&format!("/r/{}", room.slug)).await; // the browser's guest identity
    let mut pat = visitor.socket().await;
    let ServerMessage::Welcome { you, .. } = pat.join(&room.slug, "Pat").await else { panic!("no welcome") };
    call.recv().await; // Pat joined
    call.send(ClientMessage::Remove { id: you.id }).await;
    pat.expect_error(ErrorCode::Removed).await;
    // Back from the same browser: waiting, and no credentials.
    let mut back = app.knock_as(&visitor, &room.slug, "Pat").await;
    assert_eq!(ask(&mut back).await, ServerMessage::error(ErrorCode::NotAdmitted));
}

/// Asks a real coturn (Debian's, on 127.0.0.1) for a relay with `server`'s
/// credential; whether it was granted.
fn coturn_grants(port: u16, server: &IceServer) -> bool {
    let status = std::process::Command::new("turnutils_uclient")
        .args(["-y", "-n", "1", "-m", "1", "-l", "100", "-p", &port.to_string()])
        .args(["-u", server.username.as_deref().unwrap(), "-w", server.credential.as_deref().unwrap(), "127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("turnutils_uclient (Debian's coturn) runs");
    status.success()
}

#[tokio::test]
async fn a_real_coturn_refuses_a_credential_once_its_hour_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut coturn = std::process::Command::new("turnserver")
        .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", &format!("--listening-port={port}")])
        .args(["--use-auth-secret", &format!("--static-auth-secret={SECRET}"), "--realm=huddle.test"])
        .arg(format!("--db={}", dir.path().join("db").display()))
        .arg(format!("--pidfile={}", dir.path().join("pid").display()))
        .args(["--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--log-file=stdout"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("turnserver (Debian's coturn) starts");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let config = TurnConfig { urls: vec![format!("turn:127.0.0.1:{port}")], secret: SECRET.into(), ttl: Duration::from_secs(3600) };
    let issuer = huddle::call::turn::TurnIssuer::new(config);
    let now = jiff::Timestamp::now().as_second() as u64;
    let fresh = issuer.issue(huddle::call::protocol::ParticipantId(1), now);
    // Issued an hour and a minute ago: what someone removed back then holds.
    let stale = issuer.issue(huddle::call::protocol::ParticipantId(2), now - 3660);
    let (fresh_ok, stale_ok) = (coturn_grants(port, &fresh), coturn_grants(port, &stale));
    let _ = coturn.kill();
    let _ = coturn.wait();
    assert!(fresh_ok, "a fresh credential gets a relay");
    assert!(!stale_ok, "a credential past its hour is refused");
}

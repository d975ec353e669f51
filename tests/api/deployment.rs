//! Running Huddle for real: behind a trusted proxy (client addresses from
//! forwarding headers, and only from trusted peers), cooldowns that concern
//! one person rather than everyone on their network, its own HTTPS with
//! certificate reloads, health, metrics, backups and `--check-config`.

use huddle::server::db::sql;
use std::time::Duration;

use huddle::call::protocol::{ClientMessage, ErrorCode, ServerMessage, SignalPayload};
use huddle::server::client_address::{ClientHeader, TrustedProxies};

use crate::helpers::{join_message, spawn_app_with, you, TestApp, Visitor};

const PASSWORD: &str = "correct horse battery";

fn trusting_loopback(c: &mut huddle::server::config::Config) {
    c.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
}

fn trusting_someone_else(c: &mut huddle::server::config::Config) {
    c.trusted_proxies = TrustedProxies::parse("10.9.9.9").unwrap();
}

/// A visitor as a proxy forwards them: from `address`.
fn from(app: &TestApp, address: &str) -> Visitor {
    app.visitor_with(&[("x-forwarded-for", address)])
}

/// A guest browser with its own identity cookie, behind `address`.
fn guest(app: &TestApp, address: &str, identity: char) -> Visitor {
    let cookie = format!("huddle_guest={}", identity.to_string().repeat(22));
    app.visitor_with(&[("x-forwarded-for", address), ("cookie", &cookie)])
}

async fn audited_addresses(app: &TestApp) -> Vec<Option<String>> {
    let rows: Vec<(Option<String>,)> =
        sql::query_as("SELECT client_addr FROM audit_events WHERE action = 'sign_in' ORDER BY id").fetch_all(&app.db().await).await.unwrap();
    rows.into_iter().map(|(a,)| a).collect()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_sign_in_throttle_and_audit_use_the_forwarded_address() {
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.sign_in_limit_per_address = 2;
    })
    .await;
    app.host("ada@example.org", "Ada").await;
    let stuffer = from(&app, "203.0.113.7");
    for n in 0..3 {
        assert_eq!(stuffer.sign_in(&format!("user{n}@example.org"), "guess guess").await.status(), 401);
    }
    assert_eq!(stuffer.sign_in("user9@example.org", "guess guess").await.status(), 429);
    // Someone else behind the same proxy is not held back.
    let other = from(&app, "203.0.113.8");
    assert_eq!(other.sign_in("ada@example.org", "guess guess").await.status(), 401);
    assert_eq!(other.sign_in("ada@example.org", PASSWORD).await.status(), 200);
    assert_eq!(audited_addresses(&app).await.last().unwrap().as_deref(), Some("203.0.113.8"));
    assert!(audited_addresses(&app).await.contains(&Some("203.0.113.8".into())));
}

#[tokio::test]
async fn from_an_untrusted_peer_forwarding_headers_are_ignored() {
    let app = spawn_app_with(|c| {
        trusting_someone_else(c);
        c.sign_in_limit_per_address = 2;
    })
    .await;
    app.host("ada@example.org", "Ada").await;
    // A new made-up address each time does not escape the throttle.
    for n in 0..3 {
        let liar = from(&app, &format!("198.51.100.{n}"));
        assert_eq!(liar.sign_in(&format!("user{n}@example.org"), "guess guess").await.status(), 401);
    }
    assert_eq!(from(&app, "198.51.100.99").sign_in("user9@example.org", "guess guess").await.status(), 429);
    let liar = from(&app, "198.51.100.50");
    assert_eq!(liar.sign_in("ada@example.org", PASSWORD).await.status(), 429);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(liar.sign_in("ada@example.org", PASSWORD).await.status(), 200);
    assert_eq!(audited_addresses(&app).await.last().unwrap().as_deref(), Some("127.0.0.1"), "the peer, not the claim");
}

#[tokio::test]
async fn socket_limits_count_forwarded_addresses_only_from_a_trusted_proxy() {
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.signaling.max_per_address = 2;
    })
    .await;
    let a = from(&app, "203.0.113.1");
    let _one = a.socket().await;
    let _two = a.socket().await;
    let refused = a.socket_from(&app.origin).await.err().expect("a third socket from one address is refused");
    assert!(refused.to_string().contains("429"), "{refused}");
    let _other = from(&app, "203.0.113.2").socket().await;

    let app = spawn_app_with(|c| {
        trusting_someone_else(c);
        c.signaling.max_per_address = 2;
    })
    .await;
    let _one = from(&app, "203.0.113.1").socket().await;
    let _two = from(&app, "203.0.113.2").socket().await;
    let refused = from(&app, "203.0.113.3").socket_from(&app.origin).await.err().expect("the claim is ignored");
    assert!(refused.to_string().contains("429"), "{refused}");
}

/// A host in the call of a room with a lobby; the host's socket and the slug.
async fn host_with_lobby(app: &TestApp) -> (crate::helpers::Socket, String) {
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Clinic").await;
    let saved = host.call("set_room_lobby", &[("room", &room.id.to_string()), ("lobby", "on")]).await;
    assert_eq!(saved.status(), 200);
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    assert!(matches!(call.recv().await, ServerMessage::Lobby { .. }));
    (call, room.slug)
}

async fn knock(visitor: &Visitor, slug: &str, name: &str) -> (crate::helpers::Socket, ServerMessage) {
    let mut socket = visitor.socket().await;
    socket.send(join_message(slug, name)).await;
    let answer = socket.recv().await;
    (socket, answer)
}

/// `visitor` knocks as `name` and the host on `call` turns them away, which
/// they are told; the answer to their knock.
async fn knock_and_be_denied(call: &mut crate::helpers::Socket, visitor: &Visitor, slug: &str, name: &str) -> ServerMessage {
    let (mut socket, answer) = knock(visitor, slug, name).await;
    let id = match call.recv().await {
        ServerMessage::Lobby { waiting } => waiting[0].id,
        other => panic!("expected the lobby, got {other:?}"),
    };
    call.send(ClientMessage::Deny { id }).await;
    socket.expect_error(ErrorCode::Denied).await;
    answer
}

#[tokio::test]
async fn a_guest_turned_away_does_not_keep_others_on_the_same_network_out() {
    let app = spawn_app_with(trusting_loopback).await;
    let (mut call, slug) = host_with_lobby(&app).await;
    let answer = knock_and_be_denied(&mut call, &guest(&app, "203.0.113.5", 'p'), &slug, "Pat").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }));
    // Sam, on the same school network, may knock.
    let (_sam, answer) = knock(&guest(&app, "203.0.113.5", 's'), &slug, "Sam").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "{answer:?}");
    // Pat, from anywhere, may not yet.
    let (_, answer) = knock(&guest(&app, "198.51.100.1", 'p'), &slug, "Pat").await;
    assert_eq!(crate::helpers::error_code(&answer), Some(ErrorCode::Denied));
}

#[tokio::test]
async fn a_removed_guest_waits_to_come_back_and_for_a_while_so_does_anyone_new_from_their_address() {
    let app = spawn_app_with(trusting_loopback).await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Team").await.slug;
    let mut call = host.socket().await;
    call.join(&slug, "ignored").await;
    let mut pat = guest(&app, "203.0.113.5", 'p').socket().await;
    let pat_id = you(&pat.join(&slug, "Pat").await);
    call.recv().await; // Pat joined
    call.send(ClientMessage::Remove { id: pat_id }).await;
    pat.expect_error(ErrorCode::Removed).await;
    // Pat, back from another address, waits to be let in.
    let (_, answer) = knock(&guest(&app, "198.51.100.1", 'p'), &slug, "Pat").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "{answer:?}");
    // A new browser behind Pat's address waits too, for a while, though the
    // room has no lobby: it may be Pat. The host can let them in.
    let (_, answer) = knock(&guest(&app, "203.0.113.5", 's'), &slug, "Sam").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "{answer:?}");
    // Someone from elsewhere walks straight in.
    let mut kim = guest(&app, "203.0.113.6", 'k').socket().await;
    assert!(matches!(kim.join(&slug, "Kim").await, ServerMessage::Welcome { .. }));
}

#[tokio::test]
async fn opening_a_join_link_gives_the_browser_a_guest_identity_once() {
    let app = spawn_app_with(|_| {}).await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Clinic").await.slug;
    let visitor = app.visitor();
    let first = visitor.page(&format!("/r/{slug}")).await;
    let cookie = first.headers().get_all("set-cookie").iter().find(|c| c.to_str().unwrap().starts_with("huddle_guest="));
    let cookie = cookie.expect("a guest identity").to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let again = visitor.page(&format!("/r/{slug}")).await;
    assert!(!again.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("huddle_guest=")));
    assert!(visitor.page("/").await.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("huddle_guest=")));
}

#[tokio::test]
async fn healthz_answers_200_with_nothing_to_tell_strangers() {
    let app = spawn_app_with(|_| {}).await;
    let response = app.visitor().page("/healthz").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().is_empty());
    // Ready for new work too (cluster mode's Redis: tests/api/cluster.rs).
    let response = app.visitor().page("/readyz").await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_draining_server_is_not_ready_and_takes_no_new_socket_while_its_calls_go_on() {
    // What a clean stop does first (SIGTERM; in cluster mode it then lets
    // its calls go and tells their people to move): a load balancer sees
    // `/readyz` fail and sends new work elsewhere.
    let app = spawn_app_with(|_| {}).await;
    let host = app.host("host@example.org", "Dr. Host").await;
    let room = host.create_room("Class").await;
    let mut in_call = host.socket().await;
    in_call.join(&room.slug, "").await;
    app.signaling.as_ref().expect("a running server").stop_admitting();
    assert_eq!(app.visitor().page("/readyz").await.status(), 503);
    assert_eq!(app.visitor().page("/healthz").await.status(), 200, "alive, only not taking new work");
    assert!(app.visitor().socket_from(&app.origin).await.is_err(), "no new socket");
    assert!(host.socket_from(&app.origin).await.is_err(), "not the host's either");
    // The call under way goes on.
    in_call.send(huddle::call::protocol::ClientMessage::Chat { text: "still here".into() }).await;
    assert!(matches!(in_call.recv().await, huddle::call::protocol::ServerMessage::Chat { .. }), "the call carries on");
}

#[tokio::test]
async fn plain_http_is_redirected_to_the_https_origin() {
    let app = spawn_app_with(|c| {
        c.public_origin = Some("https://meet.example.org".into());
        c.http_redirect_addr = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let redirect = app.redirect_addr.expect("the redirect listener is bound");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client.get(format!("http://{redirect}/r/abc?x=1")).send().await.unwrap();
    assert_eq!(response.status(), 308);
    assert_eq!(response.headers()["location"], "https://meet.example.org/r/abc?x=1");
}

/// One metric's value in a scrape, summed over its label sets.
fn metric(scrape: &str, name: &str) -> f64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn the_metrics_listener_shows_a_call_as_it_happens_and_the_public_port_does_not() {
    let app = spawn_app_with(|c| c.metrics_addr = Some(([127, 0, 0, 1], 0).into())).await;
    let metrics = format!("http://{}/metrics", app.metrics_addr.expect("a metrics listener"));
    let scrape = || async { reqwest::get(&metrics).await.unwrap().text().await.unwrap() };
    let before = scrape().await;
    assert_eq!(metric(&before, "huddle_calls"), 0.0);
    let host = app.host("host@example.org", "Dr. Host").await;
    let slug = host.create_room("Team").await.slug;
    let mut call = host.socket().await;
    call.join(&slug, "ignored").await;
    let mut pat = app.visitor().socket().await;
    let pat_id = you(&pat.join(&slug, "Pat").await);
    call.recv().await; // Pat joined
    call.send(ClientMessage::Signal { to: pat_id, payload: SignalPayload::Offer { sdp: "v=0".into() } }).await;
    assert!(matches!(pat.recv().await, ServerMessage::Signal { .. }));
    pat.send(ClientMessage::MuteAll).await;
    pat.expect_error(ErrorCode::NotHost).await;
    let during = scrape().await;
    assert_eq!(metric(&during, "huddle_calls"), 1.0, "{during}");
    assert_eq!(metric(&during, "huddle_people_in_calls"), 2.0);
    assert_eq!(metric(&during, "huddle_signaling_sockets"), 2.0);
    assert_eq!(metric(&during, "huddle_signaling_messages_relayed_total"), 1.0);
    // Every series names its node.
    assert!(during.contains(r#"huddle_signaling_refusals_total{node="main",reason="not_host"} 1"#), "{during}");
    assert!(metric(&during, "huddle_http_request_duration_seconds_count") > 0.0);
    assert!(during.contains(r#"route="/api/{*fn_name}""#) || during.contains("route=\"/api/"), "{during}");
    assert!(!during.contains(&slug), "no join link in a label");
    assert!(app.visitor().sign_in("host@example.org", "guess guess").await.status() == 401);
    let after = scrape().await;
    assert!(after.contains(r#"huddle_sign_in_failures_total{node="main",reason="bad_credentials"} 1"#), "{after}");
    assert_eq!(app.visitor().page("/metrics").await.status(), 404, "not on the public port");
}

#[tokio::test]
async fn without_a_guest_identity_a_denial_falls_back_to_the_resolved_address() {
    let app = spawn_app_with(trusting_loopback).await;
    let (mut call, slug) = host_with_lobby(&app).await;
    knock_and_be_denied(&mut call, &from(&app, "203.0.113.5"), &slug, "Pat").await;
    let (_, answer) = knock(&from(&app, "203.0.113.5"), &slug, "Pat").await;
    assert_eq!(crate::helpers::error_code(&answer), Some(ErrorCode::Denied), "the same forwarded address");
    let (_, answer) = knock(&from(&app, "203.0.113.6"), &slug, "Sam").await;
    assert!(matches!(answer, ServerMessage::Waiting { .. }), "another forwarded address: {answer:?}");
}

#[tokio::test]
async fn a_client_naming_itself_in_headers_the_proxy_does_not_set_is_still_one_address() {
    // Caddy replaces X-Forwarded-For and passes on a client's own
    // Forwarded and X-Real-IP. Rotating those once gave 40 sign-ups against
    // a limit of 20; only the header the proxy sets is read now.
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.sign_up_limit_per_address = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..6 {
        let forged = format!("for=198.51.100.{n}");
        let real_ip = format!("198.51.101.{n}");
        let visitor = app.visitor_with(&[("x-forwarded-for", "203.0.113.7"), ("forwarded", &forged), ("x-real-ip", &real_ip)]);
        statuses.push(visitor.sign_up(&format!("new{n}@example.org"), "New", PASSWORD).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "three, and the one that goes over");
    let audited: Vec<Option<String>> = sql::query_as::<(Option<String>,)>("SELECT DISTINCT client_addr FROM audit_events WHERE action = 'sign_up'")
        .fetch_all(&app.db().await)
        .await
        .unwrap()
        .into_iter()
        .map(|(a,)| a)
        .collect();
    assert_eq!(audited, [Some("203.0.113.7".to_string())], "no forged address in the audit log");
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_in_throttles_and_socket_limits() {
    // One household or office holds a whole /64: counted address by
    // address, one client was as many as it liked.
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.sign_up_limit_per_address = 2;
        c.signaling.max_per_address = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for n in 1..=5 {
        let visitor = from(&app, &format!("2001:db8:1:2::{n:x}"));
        statuses.push(visitor.sign_up(&format!("v6-{n}@example.org"), "New", PASSWORD).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429], "one /64, one count");
    let elsewhere = from(&app, "2001:db8:1:3::1").sign_up("v6-other@example.org", "New", PASSWORD).await;
    assert_eq!(elsewhere.status(), 200, "the next /64 is someone else");
    let mut open = Vec::new();
    for n in 1..=3 {
        open.push(from(&app, &format!("2001:db8:1:2:{n:x}::1")).socket().await);
    }
    let fourth = from(&app, "2001:db8:1:2:ffff::9").socket_from(&app.origin).await;
    assert!(fourth.is_err(), "a fourth socket from the same /64 is refused");
    assert!(from(&app, "2001:db8:1:3::2").socket_from(&app.origin).await.is_ok());
}

#[tokio::test]
async fn forwarded_https_is_believed_from_a_trusted_proxy_only() {
    let hsts = |response: &reqwest::Response| response.headers().contains_key("strict-transport-security");
    let app = spawn_app_with(trusting_loopback).await;
    assert!(hsts(&app.visitor_with(&[("x-forwarded-proto", "https")]).page("/").await));
    assert!(!hsts(&app.visitor_with(&[("forwarded", "for=203.0.113.9;proto=https")]).page("/").await), "not the header the proxy sets");
    assert!(!hsts(&app.visitor().page("/").await));
    let app = spawn_app_with(|c| {
        trusting_loopback(c);
        c.client_header = ClientHeader::Forwarded;
    })
    .await;
    assert!(hsts(&app.visitor_with(&[("forwarded", "for=203.0.113.9;proto=https")]).page("/").await));
    assert!(!hsts(&app.visitor_with(&[("x-forwarded-proto", "https")]).page("/").await));
    let app = spawn_app_with(trusting_someone_else).await;
    assert!(!hsts(&app.visitor_with(&[("x-forwarded-proto", "https")]).page("/").await));
}

#[tokio::test]
async fn from_an_untrusted_peer_a_denial_ignores_the_claimed_address() {
    let app = spawn_app_with(trusting_someone_else).await;
    let (mut call, slug) = host_with_lobby(&app).await;
    knock_and_be_denied(&mut call, &from(&app, "203.0.113.5"), &slug, "Pat").await;
    // Claiming another address does not make a cookieless client someone else.
    let (_, answer) = knock(&from(&app, "203.0.113.6"), &slug, "Pat").await;
    assert_eq!(crate::helpers::error_code(&answer), Some(ErrorCode::Denied));
}

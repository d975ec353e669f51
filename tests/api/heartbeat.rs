use std::time::{Duration, Instant};

use futures_util::StreamExt;
use huddle::call::protocol::ServerMessage;
use huddle::server::signaling::Heartbeat;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app_with, you, TestApp};

async fn fast_heartbeat_app() -> (TestApp, String) {
    let app =
        spawn_app_with(|c| c.signaling.heartbeat = Heartbeat { ping_every: Duration::from_millis(100), silence_limit: Duration::from_millis(500) })
            .await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    (app, slug)
}

#[tokio::test]
async fn the_server_pings_at_the_configured_interval() {
    let (app, slug) = fast_heartbeat_app().await;
    let mut socket = app.visitor().socket().await;
    socket.join(&slug, "Ada").await;
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(650);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until.into(), socket.stream.next()).await {
        if matches!(frame, Message::Ping(_)) {
            pings += 1;
        }
    }
    assert!((4..=8).contains(&pings), "{pings} pings in 650 ms at a 100 ms interval");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_and_the_others_see_it_leave() {
    let (app, slug) = fast_heartbeat_app().await;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    let mut frozen = app.visitor().socket().await;
    let frozen_id = you(&frozen.join(&slug, "Frozen").await);
    assert!(matches!(ada.recv().await, ServerMessage::ParticipantJoined { .. }));
    // `frozen` is never read again, so it never answers a ping. `ada` is read
    // (by `recv`), so it does.
    let started = Instant::now();
    assert_eq!(ada.recv().await, ServerMessage::ParticipantLeft { id: frozen_id });
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    drop(frozen);
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let (app, slug) = fast_heartbeat_app().await;
    let mut ada = app.visitor().socket().await;
    ada.join(&slug, "Ada").await;
    // Three silence limits of reading (and so answering pings) without a message.
    assert!(ada.next_frame(Duration::from_millis(1500)).await.is_none(), "the server said something or closed");
}

#[tokio::test]
async fn a_page_of_this_version_hears_the_heartbeat_and_one_of_the_previous_version_does_not() {
    use huddle::call::protocol::{ClientMessage, OLDEST_VERSION, PROTOCOL_VERSION};
    let (app, slug) = fast_heartbeat_app().await;
    for (version, ticks_wanted) in [(PROTOCOL_VERSION, true), (OLDEST_VERSION, false)] {
        let mut socket = app.visitor().socket().await;
        let room = huddle::domain::RoomSlug::parse(&slug).unwrap();
        socket.send(ClientMessage::Join { version, room, name: "Ada".into(), passcode: None, pass: None }).await;
        assert!(matches!(socket.recv().await, ServerMessage::Welcome { .. }), "version {version} is welcome");
        let mut ticks = 0;
        let until = Instant::now() + Duration::from_millis(450);
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until.into(), socket.stream.next()).await {
            if let Message::Text(text) = frame {
                assert_eq!(serde_json::from_str::<ServerMessage>(text.as_str()).unwrap(), ServerMessage::Tick { every_ms: 100 });
                ticks += 1;
            }
        }
        if ticks_wanted {
            assert!((2..=6).contains(&ticks), "{ticks} ticks in 450 ms at a 100 ms beat");
        } else {
            assert_eq!(ticks, 0, "a page of version {version} does not know `tick`");
        }
    }
    // Older than that: refused, with a sentence asking to reload.
    let mut old = app.visitor().socket().await;
    let room = huddle::domain::RoomSlug::parse(&slug).unwrap();
    old.send(ClientMessage::Join { version: OLDEST_VERSION - 1, room, name: "Ada".into(), passcode: None, pass: None }).await;
    old.expect_error(huddle::call::protocol::ErrorCode::UnsupportedVersion).await;
}

/// A node that freezes before its first beat must still be noticed: the
/// page hears the beat (and so its silence limit) with its welcome.
#[tokio::test]
async fn a_page_hears_the_beat_with_its_welcome_not_a_beat_later() {
    let app =
        spawn_app_with(|c| c.signaling.heartbeat = Heartbeat { ping_every: Duration::from_secs(60), silence_limit: Duration::from_secs(120) }).await;
    let slug = app.host("host@example.org", "Host").await.create_room("Clinic").await.slug;
    let mut socket = app.visitor().socket().await;
    socket.join(&slug, "Ada").await;
    let until = Instant::now() + Duration::from_secs(2);
    let mut heard = None;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(until.into(), socket.stream.next()).await {
        if let Message::Text(text) = frame {
            if let Ok(tick @ ServerMessage::Tick { .. }) = serde_json::from_str::<ServerMessage>(text.as_str()) {
                heard = Some(tick);
                break;
            }
        }
    }
    assert_eq!(heard, Some(ServerMessage::Tick { every_ms: 60_000 }), "the beat is told at once, not 60 s later");
}

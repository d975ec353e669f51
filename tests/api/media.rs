//! The media server through its real UDP port on 127.0.0.1, with str0m
//! stand-in browsers (`huddle::call::sfu::peer`, no Chromium) joining over
//! the real signaling WebSocket: a class's call goes through the server,
//! the teacher is seen and heard, a pupil is heard only while let speak,
//! and a guest in the lobby or removed has no media connection.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use huddle::call::protocol::{ClientMessage, ErrorCode, ParticipantId, ServerMessage, Topology};
use huddle::call::sfu::peer::{Offer, Peer};
use huddle::call::MediaPolicy;
use huddle::server::media::MediaAddress;
use str0m::media::Mid;
use tokio::net::UdpSocket;

use crate::helpers::{spawn_app_with, you, Socket, TestApp};

async fn media_app() -> TestApp {
    spawn_app_with(|config| {
        config.media = Some(MediaAddress { bind: "127.0.0.1:0".parse().unwrap(), public_ip: None });
        config.signaling.media = Some(MediaPolicy { room_size: 40, consultations: false });
    })
    .await
}

/// A stand-in browser: its signaling socket, its peer, its UDP port.
struct Browser {
    call: Socket,
    peer: Peer,
    udp: UdpSocket,
}

impl Browser {
    /// Offers a connection over `call` and takes the answer.
    async fn connect(mut call: Socket, who: ParticipantId) -> Self {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut peer = Peer::new(who, udp.local_addr().unwrap(), Instant::now());
        let (sdp, sources) = peer.offer(Offer::default());
        call.send(ClientMessage::SfuOffer { sdp, sources }).await;
        let answer = until(&mut call, |m| match m {
            ServerMessage::SfuAnswer { sdp } => Some(sdp.clone()),
            _ => None,
        })
        .await;
        assert!(answer.contains("a=ice-lite"), "the media server is ICE-lite");
        peer.accept(&answer).unwrap();
        Self { call, peer, udp }
    }
}

/// Reads `call` until `pick` finds what it wants (other messages, like the
/// media server's slot and speaker updates, are skipped).
async fn until<T>(call: &mut Socket, pick: impl Fn(&ServerMessage) -> Option<T>) -> T {
    loop {
        if let Some(found) = pick(&call.recv().await) {
            return found;
        }
    }
}

/// Runs the browsers' media for `time`, over real UDP.
async fn drive(browsers: &mut [&mut Browser], time: Duration) {
    let end = Instant::now() + time;
    let mut buf = vec![0u8; 2000];
    while Instant::now() < end {
        for b in browsers.iter_mut() {
            while let Ok((n, from)) = b.udp.try_recv_from(&mut buf) {
                b.peer.receive(Instant::now(), from, &buf[..n]);
            }
            for (to, data) in b.peer.step(Instant::now()) {
                let _ = b.udp.send_to(&data, to).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn mark(b: &Browser) -> HashMap<Mid, usize> {
    b.peer.mark()
}

#[tokio::test]
async fn a_class_goes_through_the_media_server_which_enforces_who_is_heard() {
    let app = media_app().await;
    let host = app.host("teacher@example.org", "Ms Teacher").await;
    let room: serde_json::Value = host.call("create_room", &[("name", "Year 5"), ("kind", "class")]).await.json().await.unwrap();
    let slug = room["slug"].as_str().unwrap();

    let mut teacher_call = host.socket().await;
    let welcome = teacher_call.join(slug, "ignored").await;
    assert!(matches!(welcome, ServerMessage::Welcome { topology: Topology::Sfu, .. }), "a class goes through the media server: {welcome:?}");
    let teacher_id = you(&welcome);

    // A pupil waiting in the lobby has no media connection.
    let mut pupil_call = app.knock(slug, "Pupil").await;
    pupil_call.send(ClientMessage::SfuOffer { sdp: "v=0".into(), sources: Default::default() }).await;
    pupil_call.expect_error(ErrorCode::NotAdmitted).await;
    let pupil_id = until(&mut teacher_call, |m| match m {
        ServerMessage::Lobby { waiting } => waiting.first().map(|w| w.id),
        _ => None,
    })
    .await;
    teacher_call.send(ClientMessage::Admit { id: pupil_id }).await;
    let welcome = until(&mut pupil_call, |m| matches!(m, ServerMessage::Welcome { .. }).then(|| m.clone())).await;
    assert!(matches!(welcome, ServerMessage::Welcome { topology: Topology::Sfu, .. }));
    // Browser-to-browser signals have no place in this call.
    pupil_call.send(ClientMessage::Signal { to: teacher_id, payload: huddle::call::protocol::SignalPayload::Answer { sdp: "x".into() } }).await;
    until(&mut pupil_call, |m| matches!(m, ServerMessage::Error { code: ErrorCode::WrongTopology, .. }).then_some(())).await;

    let mut teacher = Browser::connect(teacher_call, teacher_id).await;
    let mut pupil = Browser::connect(pupil_call, pupil_id).await;
    teacher.peer.camera_on = true;
    teacher.peer.level = Some(-20);
    // The pupil's browser sends its voice although not let speak.
    pupil.peer.camera_on = true;
    pupil.peer.level = Some(-15);
    drive(&mut [&mut teacher, &mut pupil], Duration::from_secs(3)).await;
    assert!(pupil.peer.rtc.is_connected() && teacher.peer.rtc.is_connected(), "both connected over UDP");
    let seen = pupil.peer.heard(teacher_id.0, false, &HashMap::new());
    let heard = pupil.peer.heard(teacher_id.0, true, &HashMap::new());
    assert!(seen > 20 && heard > 40, "the pupil sees ({seen} frames) and hears ({heard} packets) the teacher");
    assert!(teacher.peer.heard(pupil_id.0, false, &HashMap::new()) > 20, "the teacher sees the pupil");
    assert_eq!(teacher.peer.heard(pupil_id.0, true, &HashMap::new()), 0, "a pupil not let speak is not heard");

    // Let speak: heard. Muted: not, at once.
    teacher.call.send(ClientMessage::LetSpeak { id: pupil_id }).await;
    drive(&mut [&mut teacher, &mut pupil], Duration::from_secs(2)).await;
    let after_let = teacher.peer.heard(pupil_id.0, true, &HashMap::new());
    assert!(after_let > 20, "heard once let speak: {after_let}");
    teacher.call.send(ClientMessage::Mute { id: pupil_id }).await;
    drive(&mut [&mut teacher, &mut pupil], Duration::from_millis(200)).await;
    let muted = mark(&teacher);
    drive(&mut [&mut teacher, &mut pupil], Duration::from_secs(1)).await;
    assert_eq!(teacher.peer.heard(pupil_id.0, true, &muted), 0, "muted: no longer forwarded");

    // Removed: the pupil's media is no longer forwarded.
    teacher.call.send(ClientMessage::Remove { id: pupil_id }).await;
    drive(&mut [&mut teacher, &mut pupil], Duration::from_millis(200)).await;
    let removed = mark(&teacher);
    drive(&mut [&mut teacher, &mut pupil], Duration::from_secs(1)).await;
    assert_eq!(teacher.peer.heard(pupil_id.0, false, &removed), 0, "nothing of a removed pupil's reaches the teacher");
}

#[tokio::test]
async fn a_meeting_within_the_mesh_size_stays_browser_to_browser_and_refuses_media_server_offers() {
    let app = media_app().await;
    let host = app.host("team@example.org", "Lead").await;
    let room = host.create_room("Team").await;
    let mut call = host.socket().await;
    let welcome = call.join(&room.slug, "ignored").await;
    assert!(matches!(welcome, ServerMessage::Welcome { topology: Topology::Mesh, .. }), "{welcome:?}");
    call.send(ClientMessage::SfuOffer { sdp: "v=0".into(), sources: Default::default() }).await;
    call.expect_error(ErrorCode::WrongTopology).await;
}

#[tokio::test]
async fn a_malformed_offer_is_refused_and_the_media_server_goes_on() {
    let app = media_app().await;
    let host = app.host("t@example.org", "T").await;
    let room: serde_json::Value = host.call("create_room", &[("name", "Class"), ("kind", "class")]).await.json().await.unwrap();
    let mut call = host.socket().await;
    let welcome = call.join(room["slug"].as_str().unwrap(), "ignored").await;
    let id = you(&welcome);
    call.send(ClientMessage::SfuOffer { sdp: "this is not SDP".into(), sources: Default::default() }).await;
    until(&mut call, |m| matches!(m, ServerMessage::Error { code: ErrorCode::InvalidOffer, .. }).then_some(())).await;
    // The same connection then offers properly and is answered.
    let mut browser = Browser::connect(call, id).await;
    drive(&mut [&mut browser], Duration::from_secs(1)).await;
    assert!(browser.peer.rtc.is_connected(), "connected after the refused offer");
}

#[tokio::test]
async fn each_page_loads_one_browser_bundle_a_call_page_its_own_call_s() {
    let app = media_app().await;
    let host = app.host("b@example.org", "B").await;
    let class: serde_json::Value = host.call("create_room", &[("name", "Class"), ("kind", "class")]).await.json().await.unwrap();
    let meeting = host.create_room("Team").await;
    let page = |path: String| {
        let host = &host;
        async move { host.page(&path).await.text().await.unwrap() }
    };
    let class_page = page(format!("/r/{}", class["slug"].as_str().unwrap())).await;
    assert!(
        class_page.contains("/pkg/huddle-sfu.js") && !class_page.contains("/pkg/huddle-mesh.js"),
        "a class's call page loads the media server's bundle"
    );
    assert!(!class_page.contains("/pkg/huddle.js"), "and not the site's as well");
    let meeting_page = page(format!("/r/{}", meeting.slug)).await;
    assert!(meeting_page.contains("/pkg/huddle-mesh.js") && !meeting_page.contains("/pkg/huddle-sfu.js"), "a small meeting's, the mesh's");
    let dashboard = page("/rooms".into()).await;
    assert!(
        dashboard.contains("/pkg/huddle.js") && !dashboard.contains("huddle-mesh") && !dashboard.contains("huddle-sfu"),
        "the dashboard, the site's"
    );
}

#[tokio::test]
async fn the_pre_join_check_of_a_class_probes_the_media_port_which_answers_plain_stun() {
    let app = media_app().await;
    let host = app.host("p@example.org", "P").await;
    let class: serde_json::Value = host.call("create_room", &[("name", "Class"), ("kind", "class")]).await.json().await.unwrap();
    let meeting = host.create_room("Team").await;
    let class_page = host.page(&format!("/r/{}", class["slug"].as_str().unwrap())).await.text().await.unwrap();
    let meeting_page = host.page(&format!("/r/{}", meeting.slug)).await.text().await.unwrap();
    assert!(!meeting_page.contains("stun:127.0.0.1"), "a mesh call has no media port to probe");
    // The page hands its check the media port as a STUN server.
    let at = class_page.find("stun:127.0.0.1:").expect("the class's page names the media port to probe");
    let port: String = class_page[at + "stun:127.0.0.1:".len()..].chars().take_while(char::is_ascii_digit).collect();
    let media = format!("127.0.0.1:{port}");

    // A STUN client's plain binding request over real UDP: the answer
    // carries the address the request came from (XOR-MAPPED-ADDRESS).
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    request.extend([7; 12]);
    udp.send_to(&request, &media).await.unwrap();
    let mut answer = [0; 64];
    let (len, from) = tokio::time::timeout(Duration::from_secs(5), udp.recv_from(&mut answer)).await.expect("an answer").unwrap();
    assert_eq!(from.to_string(), media);
    assert_eq!(&answer[..2], [0x01, 0x01], "a binding success");
    assert_eq!(&answer[8..20], [7; 12], "to this transaction");
    assert_eq!(len, 32);
    let port = u16::from_be_bytes([answer[26], answer[27]]) ^ 0x2112;
    let ip: Vec<u8> = answer[28..32].iter().zip([0x21, 0x12, 0xa4, 0x42]).map(|(a, m)| a ^ m).collect();
    assert_eq!((ip, port), (vec![127, 0, 0, 1], udp.local_addr().unwrap().port()));
}

#[tokio::test]
async fn a_room_may_be_set_larger_than_a_mesh_only_where_the_media_server_runs() {
    let app = media_app().await;
    let host = app.host("s@example.org", "S").await;
    let room = host.create_room("Assembly").await;
    let id = room.id.to_string();
    let response = host.call("set_room_size", &[("room", &id), ("max_participants", "12")]).await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    assert_eq!(saved["max_participants"], 12, "{saved}");
    assert_eq!(host.call("set_room_size", &[("room", &id), ("max_participants", "41")]).await.status(), 422, "above HUDDLE_SFU_ROOM_SIZE");
    // A meeting of 12 goes through the media server.
    let mut call = host.socket().await;
    assert!(matches!(call.join(&room.slug, "ignored").await, ServerMessage::Welcome { topology: Topology::Sfu, .. }));
    // Without a media server, four is the most.
    let plain = crate::helpers::spawn_app().await;
    let host = plain.host("p@example.org", "P").await;
    let room = host.create_room("Team").await;
    assert_eq!(host.call("set_room_size", &[("room", &room.id.to_string()), ("max_participants", "5")]).await.status(), 422);
    // Unless HUDDLE_ROOM_SIZE says more: then rooms may be set to it, and
    // that many are let in.
    let wide = crate::helpers::spawn_app_with(|config| config.signaling.room_size = 6).await;
    let host = wide.host("w@example.org", "W").await;
    let room = host.create_room("Wide").await;
    let id = room.id.to_string();
    assert_eq!(host.call("set_room_size", &[("room", &id), ("max_participants", "7")]).await.status(), 422);
    assert_eq!(host.call("set_room_size", &[("room", &id), ("max_participants", "6")]).await.status(), 200);
    let mut here = Vec::new();
    for n in 0..6 {
        let mut guest = wide.visitor().socket().await;
        assert!(matches!(guest.join(&room.slug, &format!("G{n}")).await, ServerMessage::Welcome { topology: Topology::Mesh, .. }), "guest {n} of 6");
        here.push(guest);
    }
    let mut seventh = wide.visitor().socket().await;
    seventh.send(crate::helpers::join_message(&room.slug, "G6")).await;
    seventh.expect_error(ErrorCode::RoomFull).await;
}

#[tokio::test]
async fn a_rooms_settings_show_the_size_its_call_really_takes() {
    let app = media_app().await;
    let host = app.host("t@example.org", "T").await;
    let class: serde_json::Value = host.call("create_room", &[("name", "Year 5"), ("kind", "class")]).await.json().await.unwrap();
    let meeting = host.create_room("Team").await;
    let size_field = |page: &str| {
        let at = page.find(r#"name="max_participants""#).expect("the size field");
        let tag = &page[page[..at].rfind('<').unwrap()..at + page[at..].find('>').unwrap()];
        tag.split(r#"value=""#).nth(1).and_then(|v| v.split('"').next()).map(str::to_string)
    };
    let page = host.page(&format!("/rooms/{}", class["id"])).await.text().await.unwrap();
    assert_eq!(size_field(&page).as_deref(), Some("40"), "a class goes through the media server: its size");
    assert!(page.contains("2 to 40. A meeting of up to 4 goes browser to browser"), "the real range");
    let page = host.page(&format!("/rooms/{}", meeting.id)).await.text().await.unwrap();
    assert_eq!(size_field(&page).as_deref(), Some("4"), "a meeting left unset is a mesh");
    // Without a media server, the mesh's range alone.
    let plain = crate::helpers::spawn_app().await;
    let host = plain.host("p@example.org", "P").await;
    let room = host.create_room("Team").await;
    let page = host.page(&format!("/rooms/{}", room.id)).await.text().await.unwrap();
    assert!(page.contains("2 to 4: every browser sends its video to every other"), "{page}");
}

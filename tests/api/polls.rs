//! Polls over real sockets and a real database: asked, answered, changed,
//! ended, kept (an anonymous one without a name anywhere), and downloaded
//! by the host as CSV.

use huddle::call::poll::{PollDraft, PollView};
use huddle::call::protocol::{ClientMessage, ServerMessage};
use huddle::server::db::sql;

use crate::attendance::eventually;
use huddle::api::rooms::RoomSummary;

use crate::helpers::{spawn_app, Socket, TestApp, Visitor};

fn draft(question: &str, anonymous: bool) -> PollDraft {
    PollDraft { question: question.into(), options: vec!["Yes".into(), "No".into(), "Not sure".into()], multiple: false, anonymous }
}

/// The next poll message `socket` hears (anything else skipped).
async fn next_poll(socket: &mut crate::helpers::Socket) -> PollView {
    until_poll(socket, |_| true).await
}

/// The first poll message `socket` hears that `wanted` says it wants.
async fn until_poll(socket: &mut crate::helpers::Socket, wanted: impl Fn(&PollView) -> bool) -> PollView {
    loop {
        if let ServerMessage::Poll { poll } = socket.recv().await {
            if wanted(&poll) {
                return poll;
            }
        }
    }
}

/// A teacher in the call of their room "Year 5", and Ada, a guest, in it
/// too (the teacher's socket has heard her come).
async fn class_with_ada() -> (TestApp, Visitor, RoomSummary, Socket, Socket) {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Ms. Teacher").await;
    let room = host.create_room("Year 5").await;
    let mut teacher = host.socket().await;
    teacher.join(&room.slug, "ignored").await;
    let mut ada = app.visitor().socket().await;
    ada.join(&room.slug, "Ada").await;
    teacher.recv().await;
    (app, host, room, teacher, ada)
}

#[tokio::test]
async fn a_named_and_an_anonymous_poll_are_answered_kept_and_downloaded() {
    let (app, host, room, mut teacher, mut ada) = class_with_ada().await;
    let mut bo = app.visitor().socket().await;
    bo.join(&room.slug, "Bo, Jr.").await;

    // A named poll: asked, answered twice by Ada (changed), once by Bo.
    teacher.send(ClientMessage::PollStart { poll: draft("Did you read chapter 3?", false) }).await;
    let asked = next_poll(&mut ada).await;
    assert!(asked.open && asked.results.is_none() && asked.question == "Did you read chapter 3?");
    next_poll(&mut bo).await;
    next_poll(&mut teacher).await;
    ada.send(ClientMessage::PollAnswer { id: asked.id, choices: vec![0] }).await;
    assert_eq!(next_poll(&mut ada).await.mine, [0]);
    ada.send(ClientMessage::PollAnswer { id: asked.id, choices: vec![2] }).await;
    bo.send(ClientMessage::PollAnswer { id: asked.id, choices: vec![2] }).await;
    // Bo's answer may come before Ada's change: wait for both.
    let seen = until_poll(&mut teacher, |p| p.results.as_ref().is_some_and(|r| r.counts == [0, 0, 2])).await;
    let results = seen.results.unwrap();
    assert_eq!(results.answered, 2, "Ada's change replaced her answer");
    assert_eq!(results.names[2], ["Ada", "Bo, Jr."]);

    // An anonymous one: starting it ends the first.
    teacher.send(ClientMessage::PollStart { poll: draft("How hard was it?", true) }).await;
    let anonymous = until_poll(&mut ada, |p| p.id == 2).await;
    assert!(anonymous.anonymous && anonymous.open && anonymous.question == "How hard was it?");
    ada.send(ClientMessage::PollAnswer { id: anonymous.id, choices: vec![1] }).await;
    bo.send(ClientMessage::PollAnswer { id: anonymous.id, choices: vec![1] }).await;
    eventually(&app, "SELECT count(*) FROM polls WHERE answered = 2 AND anonymous", 1).await;
    teacher.send(ClientMessage::PollEnd { id: anonymous.id }).await;
    eventually(&app, "SELECT count(*) FROM polls WHERE closed_at IS NOT NULL", 2).await;

    // Kept: the named poll with names, the anonymous one with counts alone.
    let db = app.db().await;
    let rows: Vec<(String, String, String, bool)> =
        sql::query_as("SELECT question, counts, votes, anonymous FROM polls ORDER BY id").fetch_all(&db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].1.as_str(), rows[0].2.as_str()), ("[0,0,2]", r#"[["Ada",[2]],["Bo, Jr.",[2]]]"#));
    assert_eq!((rows[1].1.as_str(), rows[1].2.as_str(), rows[1].3), ("[0,2,0]", "[]", true));
    let everything: Vec<(String,)> =
        sql::query_as("SELECT question || options || counts || votes FROM polls WHERE anonymous").fetch_all(&db).await.unwrap();
    assert!(!everything[0].0.contains("Ada") && !everything[0].0.contains("Bo"), "{everything:?}");

    // The host's download (in Chinese: `languages.rs`).
    let response = host.page(&format!("/rooms/{}/polls.csv", room.id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 7, "a header and three answers a poll: {csv}");
    assert!(lines[3].starts_with("Did you read chapter 3?,") && lines[3].ends_with(",no,Not sure,2,2,\"Ada; Bo, Jr.\""), "{}", lines[3]);
    assert!(lines[5].starts_with("How hard was it?,") && lines[5].ends_with(",yes,No,2,2,"), "{}", lines[5]);

    // Nobody else gets it.
    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.page(&format!("/rooms/{}/polls.csv", room.id)).await.status(), 404);
    assert_eq!(app.visitor().page(&format!("/rooms/{}/polls.csv", room.id)).await.status(), 401);
}

#[tokio::test]
async fn a_guest_cannot_ask_and_a_bad_poll_gets_a_clear_refusal_without_closing_the_socket() {
    let (_app, _host, _room, mut teacher, mut ada) = class_with_ada().await;
    ada.send(ClientMessage::PollStart { poll: draft("Mine?", false) }).await;
    ada.expect_error(huddle::call::protocol::ErrorCode::NotHost).await;
    let mut bad = draft("", false);
    bad.options.push("x".repeat(101));
    teacher.send(ClientMessage::PollStart { poll: bad }).await;
    teacher.expect_error(huddle::call::protocol::ErrorCode::InvalidPoll).await;
    ada.send(ClientMessage::PollAnswer { id: 1, choices: vec![0] }).await;
    ada.expect_error(huddle::call::protocol::ErrorCode::UnknownPoll).await;
    // Both still in the call.
    teacher.send(ClientMessage::PollStart { poll: draft("Still here?", false) }).await;
    assert!(next_poll(&mut ada).await.open);
}

#[tokio::test]
async fn a_sessions_polls_are_those_asked_in_its_window_and_the_room_page_lists_them() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Ms. Teacher").await;
    let room = host.create_room("Year 5").await;
    let (created, start) = crate::attendance::nine_oclock_in_ten_days(&host, room.id, &[]).await;
    let ask = |question: &'static str| ClientMessage::PollStart { poll: draft(question, false) };
    // One poll in the session's window, one long after it.
    app.clock.set(start + jiff::SignedDuration::from_mins(5));
    let mut teacher = host.socket().await;
    teacher.join(&room.slug, "ignored").await;
    teacher.send(ask("In the lesson?")).await;
    eventually(&app, "SELECT count(*) FROM polls", 1).await;
    app.clock.set(start + jiff::SignedDuration::from_hours(3));
    teacher.send(ask("Long after?")).await;
    eventually(&app, "SELECT count(*) FROM polls", 2).await;

    let csv = host.page(&format!("/rooms/{}/polls.csv?session={}", room.id, created["id"])).await.text().await.unwrap();
    assert!(csv.contains("In the lesson?") && !csv.contains("Long after?"), "{csv}");
    let page = host.page(&format!("/rooms/{}", room.id)).await.text().await.unwrap();
    assert!(page.contains("In the lesson?") && page.contains("Long after?"), "both on the room's page");
    assert!(page.contains(&format!("/rooms/{}/polls.csv", room.id)));
    // The session's card lists the poll asked during it, and only that one.
    let card = page.split(r#"<ul class="session-polls">"#).nth(1).and_then(|rest| rest.split("</ul>").next()).expect("the session's polls");
    assert!(card.contains("In the lesson?") && card.contains("0 people have answered.") && !card.contains("Long after?"), "{card}");
}

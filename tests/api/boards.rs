//! Whiteboards kept with their room, over real sockets and a real
//! database: the host keeps a call's board, the room's settings page lists
//! it, and each page downloads as SVG, for the room's host alone.

use huddle::call::board::{Element, Kind};
use huddle::call::hub::{Record, RoomId};
use huddle::call::protocol::{ClientMessage, ErrorCode};
use huddle::server::db::sql;

use crate::attendance::eventually;
use crate::helpers::{spawn_app, spawn_app_with, Socket};

fn pen(id: &str) -> Element {
    Element { id: id.into(), v: 0, k: Kind::Pen, c: 0, w: 1, p: vec![100, 100, 300, 200, 500, 150], r: Vec::new(), t: String::new() }
}

fn words(id: &str, text: &str) -> Element {
    Element { id: id.into(), v: 0, k: Kind::Text, c: 0, w: 1, p: vec![200, 400], r: Vec::new(), t: text.into() }
}

/// The host draws on the board's first and third pages (the second stays
/// empty) and keeps it with the session.
async fn draw_and_keep(call: &mut Socket, text: &str) {
    call.send(ClientMessage::BoardPut { page: 0, items: vec![pen("stroke-1")] }).await;
    call.send(ClientMessage::BoardAddPage).await;
    call.send(ClientMessage::BoardAddPage).await;
    call.send(ClientMessage::BoardPut { page: 2, items: vec![words("words-1", text)] }).await;
    call.send(ClientMessage::BoardKeep).await;
}

#[tokio::test]
async fn a_kept_board_is_listed_and_each_page_downloads_as_svg_for_the_host_alone() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Ms. Teacher").await;
    let room = host.create_room("Year 5").await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;

    // Nothing kept yet: the settings page says so.
    let page = host.page(&format!("/rooms/{}", room.id)).await.text().await.unwrap();
    assert!(page.contains(r##"<a href="#boards">Whiteboards"##), "the section is in the page's list: {page}");
    assert!(page.contains(r#"id="boards""#) && page.contains("No whiteboards kept yet."), "the empty state");

    // A guest cannot keep it; the host can.
    let mut ada = app.visitor().socket().await;
    ada.join(&room.slug, "Ada").await;
    ada.send(ClientMessage::BoardKeep).await;
    ada.expect_error(ErrorCode::NotHost).await;
    draw_and_keep(&mut call, "Homework: <b>page</b> 3 & 4").await;
    eventually(&app, "SELECT count(*) FROM boards", 1).await;
    let db = app.db().await;
    let (board, count, kept_at): (i64, i64, String) = sql::query_as("SELECT id, page_count, kept_at FROM boards").fetch_one(&db).await.unwrap();
    assert_eq!(count, 2, "the empty middle page is left out");
    let kept_at: jiff::Timestamp = kept_at.parse().expect("kept_at is an RFC 3339 time");

    // Listed for the host: the server function and the settings page.
    let listed: Vec<serde_json::Value> = host.call("room_boards", &[("room", &room.id.to_string())]).await.json().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["id"].as_i64(), listed[0]["pages"].as_u64()), (Some(board), Some(2)));
    assert_eq!(listed[0]["kept_at_ms"].as_i64(), Some(kept_at.as_millisecond()));
    let page = host.page(&format!("/rooms/{}", room.id)).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"<time data-at-ms="{}">"#, kept_at.as_millisecond())), "when it was kept");
    assert!(page.contains("2 pages") && !page.contains("No whiteboards kept yet."));
    for n in [1, 2] {
        assert!(page.contains(&format!(r#"href="/rooms/{}/boards/{board}/{n}.svg""#, room.id)), "page {n}'s link");
        assert!(page.contains(&format!("Page {n} (SVG)")));
    }
    assert!(!page.contains(&format!("/boards/{board}/3.svg")));

    // Each page downloads as an SVG file that runs nothing, whatever opens it.
    let first = host.page(&format!("/rooms/{}/boards/{board}/1.svg", room.id)).await;
    assert_eq!(first.status(), 200);
    let headers = first.headers().clone();
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"whiteboard-{board}-page-1.svg\""));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none';") && policy.contains("sandbox") && !policy.contains("script-src"), "{policy}");
    let svg = first.text().await.unwrap();
    assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1600 900""#) && svg.ends_with("</svg>"), "{svg}");
    assert!(svg.contains("<path d=\"M100 100 L300 200 L500 150\"") && !svg.contains("<text"), "{svg}");
    let second = host.page(&format!("/rooms/{}/boards/{board}/2.svg", room.id)).await;
    assert_eq!(second.headers()["content-disposition"], format!("attachment; filename=\"whiteboard-{board}-page-2.svg\""));
    let svg = second.text().await.unwrap();
    assert!(svg.contains(">Homework: &lt;b&gt;page&lt;/b&gt; 3 &amp; 4</text>") && !svg.contains("<path"), "{svg}");

    // No other page, board or name.
    for path in ["3.svg", "0.svg", "01.svg", "1.png", "1"] {
        assert_eq!(host.page(&format!("/rooms/{}/boards/{board}/{path}", room.id)).await.status(), 404, "{path}");
    }
    assert_eq!(host.page(&format!("/rooms/{}/boards/{}/1.svg", room.id, board + 1)).await.status(), 404);

    // Nobody else gets it: another host (also through a room of their own),
    // and a guest who is signed in to nothing.
    let eve = app.host("eve@example.org", "Eve").await;
    let eves = eve.create_room("Eve's").await;
    assert_eq!(eve.page(&format!("/rooms/{}/boards/{board}/1.svg", room.id)).await.status(), 404);
    assert_eq!(eve.page(&format!("/rooms/{}/boards/{board}/1.svg", eves.id)).await.status(), 404);
    assert_eq!(host.page(&format!("/rooms/{}/boards/{board}/1.svg", eves.id)).await.status(), 404, "a board is its own room's");
    assert_eq!(eve.call("room_boards", &[("room", &room.id.to_string())]).await.status(), 404);
    let guest = app.visitor();
    assert_eq!(guest.page(&format!("/rooms/{}/boards/{board}/1.svg", room.id)).await.status(), 401);
    assert_eq!(guest.call("room_boards", &[("room", &room.id.to_string())]).await.status(), 401);

    // Kept again later: the newest first.
    app.clock.set(jiff::Timestamp::now() + jiff::SignedDuration::from_mins(10));
    call.send(ClientMessage::BoardKeep).await;
    eventually(&app, "SELECT count(*) FROM boards", 2).await;
    let listed: Vec<serde_json::Value> = host.call("room_boards", &[("room", &room.id.to_string())]).await.json().await.unwrap();
    let ids: Vec<i64> = listed.iter().filter_map(|b| b["id"].as_i64()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] > board && ids[1] == board, "{ids:?}");

    // Deleting the room deletes its boards.
    drop((call, ada));
    let deleted = host.call("delete_room", &[("room", &room.id.to_string()), ("confirm", "yes")]).await;
    assert_eq!(deleted.status(), 200, "{}", deleted.text().await.unwrap_or_default());
    eventually(&app, "SELECT count(*) FROM boards", 0).await;
}

#[tokio::test]
async fn an_empty_board_is_not_kept_and_a_record_that_is_not_svg_is_refused_without_stopping_the_writer() {
    let app = spawn_app().await;
    let host = app.host("host@example.org", "Ms. Teacher").await;
    let room = host.create_room("Year 5").await;
    let mut call = host.socket().await;
    call.join(&room.slug, "ignored").await;
    call.send(ClientMessage::BoardKeep).await;

    // The records' writer itself, on the same database: a page that is not
    // an SVG document keeps nothing of its board, and the next is written.
    let (records, receiver) = tokio::sync::mpsc::channel(8);
    let node = huddle::server::db::NodeId::parse("test").unwrap();
    let writer = tokio::spawn(huddle::server::attendance::write_records(app.db().await, node, app.clock.clone(), receiver));
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1600 900"><rect width="1600" height="900" fill="#ffffff"/></svg>"##;
    let room_id = RoomId(room.id);
    records.send(Record::Board { room: room_id, pages: vec![svg.into(), "<html><script>alert(1)</script></html>".into()] }).await.unwrap();
    records.send(Record::Board { room: room_id, pages: Vec::new() }).await.unwrap();
    records.send(Record::Board { room: room_id, pages: vec![svg.into(), svg.into()] }).await.unwrap();
    drop(records);
    writer.await.unwrap();
    let db = app.db().await;
    let rows: Vec<(i64, String, String)> = sql::query_as("SELECT page_count, pages, node FROM boards").fetch_all(&db).await.unwrap();
    assert_eq!(rows.len(), 1, "the host's empty board, the bad record and the empty one kept nothing: {rows:?}");
    assert_eq!(rows[0].0, 2);
    assert_eq!(serde_json::from_str::<Vec<String>>(&rows[0].1).unwrap(), [svg, svg]);
    assert_eq!(rows[0].2, "test");
}

#[tokio::test]
async fn kept_boards_go_with_the_attendance_retention() {
    let mut app = spawn_app_with(|c| c.retention.attendance_days = 90).await;
    let host = app.host("host@example.org", "Host").await;
    let room = host.create_room("Clinic").await;
    let db = app.db().await;
    let svg = r#"["<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"]"#;
    for (kept_at, node) in [("2020-01-01T10:00:00Z", "old"), ("2099-01-01T10:00:00Z", "new")] {
        sql::query("INSERT INTO boards (room_id, pages, page_count, kept_at, node) VALUES ($1, $2, 1, $3, $4)")
            .bind(room.id)
            .bind(svg)
            .bind(kept_at)
            .bind(node)
            .execute(&db)
            .await
            .unwrap();
    }
    db.close().await;
    // The sweep runs at start.
    app.restart().await;
    eventually(&app, "SELECT count(*) FROM boards WHERE node = 'old'", 0).await;
    eventually(&app, "SELECT count(*) FROM boards WHERE node = 'new'", 1).await;
}

use huddle::domain::RoomSlug;

use crate::helpers::spawn_app;

#[tokio::test]
async fn creating_a_room_requires_signing_in() {
    let app = spawn_app().await;
    let response = app.visitor().call("create_room", &[("name", "Clinic")]).await;
    assert_eq!(response.status(), 401);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn created_rooms_are_listed_newest_first_with_unguessable_join_links() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let first = host.create_room("Consultations").await;
    let second = host.create_room("Year 9 French").await;
    let listed: Vec<serde_json::Value> = host.call("my_rooms", &[]).await.json().await.unwrap();
    let names: Vec<_> = listed.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Year 9 French", "Consultations"]);
    for room in [&first, &second] {
        assert_eq!(room.join_link, format!("{}/r/{}", app.origin, room.slug));
        assert!(RoomSlug::parse(&room.slug).is_ok());
    }
    assert_ne!(first.slug, second.slug);
}

#[tokio::test]
async fn another_account_does_not_see_my_rooms() {
    let app = spawn_app().await;
    let ada = app.host("ada@example.org", "Ada").await;
    ada.create_room("Private clinic").await;
    let bo = app.host("bo@example.org", "Bo").await;
    let listed: Vec<serde_json::Value> = bo.call("my_rooms", &[]).await.json().await.unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn an_invalid_room_name_gets_a_field_message_and_saves_nothing() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    for name in ["", "   ", &"r".repeat(81), "\u{7}\u{202E}"] {
        let response = host.call("create_room", &[("name", name)]).await;
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["Invalid"]["field"], "name");
    }
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn control_and_bidi_characters_are_stripped_from_room_names() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic\u{202E}\u{0007} A").await;
    assert_eq!(room.name, "Clinic A");
}

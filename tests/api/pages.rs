use crate::helpers::spawn_app;

#[tokio::test]
async fn the_home_page_says_what_huddle_is_and_links_to_sign_up_and_sign_in() {
    let app = spawn_app().await;
    let response = app.visitor().page("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("video"), "the home page should say what Huddle is");
    assert!(html.contains(r#"href="/signup""#));
    assert!(html.contains(r#"href="/login""#));
}

#[tokio::test]
async fn the_sign_up_form_has_a_visible_label_for_every_field_and_posts_without_javascript() {
    let app = spawn_app().await;
    let html = app.visitor().page("/signup").await.text().await.unwrap();
    assert!(html.contains(r#"action="/api/signup""#), "the form must post to its server function");
    for field in ["email", "display_name", "password"] {
        assert!(html.contains(&format!(r#"<label for="field-{field}">"#)), "no label for {field}");
        assert!(html.contains(&format!(r#"name="{field}""#)), "no input for {field}");
    }
}

#[tokio::test]
async fn a_form_posted_without_javascript_signs_up_and_redirects_to_sign_in() {
    let app = spawn_app().await;
    let browser = app.visitor();
    let response = browser
        .post_form("signup", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "correct horse battery")])
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?registered=1");
    let login = browser.page("/login?registered=1").await.text().await.unwrap();
    assert!(login.contains("your account is ready"));
    let response = browser.post_form("login", &[("email", "ada@example.org"), ("password", "correct horse battery")]).await;
    assert_eq!(response.headers()["location"], "/rooms");
    let rooms = browser.page("/rooms").await;
    assert_eq!(rooms.status(), 200);
    assert!(rooms.text().await.unwrap().contains("Your rooms"));
}

#[tokio::test]
async fn a_failed_form_without_javascript_returns_to_its_page_showing_the_error() {
    let app = spawn_app().await;
    let browser = app.visitor();
    let response = browser.post_form("login", &[("email", "nobody@example.org"), ("password", "wrong password")]).await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!("{}/login?", app.origin)), "{back}");
    let page = browser.http.get(back.replace(&app.origin, &browser.url(""))).header("accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("That email and password do not match an account"), "the error is not shown");
}

#[tokio::test]
async fn creating_a_room_without_javascript_returns_to_the_list_showing_it() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let response = host.post_form("create_room", &[("name", "Consultations")]).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/rooms");
    let html = host.page("/rooms").await.text().await.unwrap();
    assert!(html.contains("Consultations"));
}

#[tokio::test]
async fn the_rooms_page_sends_signed_out_visitors_to_sign_in() {
    let app = spawn_app().await;
    let response = app.visitor().page("/rooms").await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login");
}

#[tokio::test]
async fn the_rooms_page_lists_each_room_with_its_join_link_and_a_copy_button() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Consultations").await;
    let html = host.page("/rooms").await.text().await.unwrap();
    assert!(html.contains("Consultations"));
    assert!(html.contains(&format!(r#"value="{}""#, room.join_link)));
    assert!(html.contains(">Copy link</button>"));
}

#[tokio::test]
async fn markup_in_names_is_shown_as_text() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "<b>Ada</b>").await;
    let room = host.create_room("<img src=x onerror=alert(1)>").await;
    let breakout = host.create_room("</title><script>alert(1)</script>").await;
    let html = host.page(&format!("/r/{}", breakout.slug)).await.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "room name broke out of the title");
    let html = host.page("/rooms").await.text().await.unwrap();
    assert!(!html.contains("<img src=x"), "room name rendered as markup");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let html = host.page(&format!("/r/{}", room.slug)).await.text().await.unwrap();
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>Ada</b>"), "display name rendered as markup");
}

#[tokio::test]
async fn a_join_link_opens_the_pre_join_screen_for_a_guest() {
    let app = spawn_app().await;
    let room = app.host("ada@example.org", "Ada").await.create_room("Consultations").await;
    let guest = app.visitor();
    let response = guest.page(&format!("/r/{}", room.slug)).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Consultations"));
    assert!(html.contains(r#"<label for="field-display_name">Your name</label>"#));
    assert!(html.contains(r#"value="""#), "a guest's name field starts empty");
    assert!(html.contains("<video"));
}

#[tokio::test]
async fn the_pre_join_name_is_prefilled_for_a_signed_in_visitor() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Dr. Ada").await;
    let room = host.create_room("Consultations").await;
    let html = host.page(&format!("/r/{}", room.slug)).await.text().await.unwrap();
    assert!(html.contains(r#"value="Dr. Ada""#));
}

#[tokio::test]
async fn an_unknown_join_link_is_a_clear_404() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for path in ["/r/AAAAAAAAAAAAAAAAAAAAAAAA", "/r/not-a-slug", "/no/such/page"] {
        let response = visitor.page(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.text().await.unwrap().contains("We could not find that"), "{path}");
    }
}

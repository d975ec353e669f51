use crate::helpers::{spawn_app, Html};

#[tokio::test]
async fn the_home_page_says_what_huddle_is_and_links_to_sign_up_and_sign_in() {
    let app = spawn_app().await;
    let response = app.visitor().page("/").await;
    assert_eq!(response.status(), 200);
    let html = response.html().await;
    assert!(html.contains("video"), "the home page should say what Huddle is");
    assert!(html.contains(r#"href="/signup""#));
    assert!(html.contains(r#"href="/login""#));
}

#[tokio::test]
async fn the_sign_up_form_has_a_visible_label_for_every_field_and_posts_without_javascript() {
    let app = spawn_app().await;
    let html = app.visitor().page("/signup").await.html().await;
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
    let response = browser.post_form("signup", &[("email", "ada@example.org"), ("display_name", "Ada"), ("password", "correct horse battery")]).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?registered=1");
    let login = browser.page("/login?registered=1").await.html().await;
    assert!(login.contains("your account is ready"));
    let response = browser.post_form("login", &[("email", "ada@example.org"), ("password", "correct horse battery")]).await;
    assert_eq!(response.headers()["location"], "/rooms");
    let rooms = browser.page("/rooms").await;
    assert_eq!(rooms.status(), 200);
    assert!(rooms.html().await.contains("Your rooms"));
}

#[tokio::test]
async fn a_failed_form_without_javascript_returns_to_its_page_showing_the_error() {
    let app = spawn_app().await;
    let browser = app.visitor();
    let response = browser.post_form("login", &[("email", "nobody@example.org"), ("password", "wrong password")]).await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!("{}/login?", app.origin)), "{back}");
    let page = browser.http.get(back.replace(&app.origin, &browser.url(""))).header("accept", "text/html").send().await.unwrap().html().await;
    assert!(page.contains("That email and password do not match an account"), "the error is not shown");
}

#[tokio::test]
async fn a_refused_form_gets_back_what_was_typed_but_never_the_password() {
    let app = spawn_app().await;
    let browser = app.visitor();
    let response = browser.post_form("signup", &[("email", "pat@example.org"), ("display_name", "Pat Doe"), ("password", "short12")]).await;
    assert_eq!(response.status(), 302);
    let cookies: Vec<&str> = response.headers().get_all("set-cookie").iter().filter_map(|c| c.to_str().ok()).collect();
    let kept = cookies.iter().find(|c| c.starts_with("huddle_typed=")).expect("what was typed is kept");
    assert!(kept.contains("HttpOnly") && kept.contains("SameSite=Strict") && kept.contains("Max-Age=60"), "{kept}");
    assert!(kept.contains("pat%40example.org") && kept.contains("Pat+Doe"), "{kept}");
    assert!(!kept.contains("short12") && !kept.contains("password"), "a password is never kept: {kept}");
    let back = response.headers()["location"].to_str().unwrap().to_string();
    let page = browser.http.get(back.replace(&app.origin, &browser.url(""))).header("accept", "text/html").send().await.unwrap();
    let forgets =
        page.headers().get_all("set-cookie").iter().any(|c| c.to_str().is_ok_and(|c| c.starts_with("huddle_typed=;") && c.contains("Max-Age=0")));
    let html = page.html().await;
    assert!(html.contains(r#"value="pat@example.org""#) && html.contains(r#"value="Pat Doe""#), "the form shows what was typed");
    assert!(forgets, "the page that shows it forgets it");
    // A success keeps nothing.
    let ok = browser.post_form("signup", &[("email", "pat@example.org"), ("display_name", "Pat Doe"), ("password", "correct horse battery")]).await;
    assert!(ok.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap_or_default().starts_with("huddle_typed=pat")));
}

#[tokio::test]
async fn creating_a_room_without_javascript_returns_to_the_list_showing_it() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let response = host.post_form("create_room", &[("name", "Consultations")]).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/rooms");
    let html = host.page("/rooms").await.html().await;
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
    let html = host.page("/rooms").await.html().await;
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
    let html = host.page(&format!("/r/{}", breakout.slug)).await.html().await;
    assert!(!html.contains("<script>alert(1)"), "room name broke out of the title");
    let html = host.page("/rooms").await.html().await;
    assert!(!html.contains("<img src=x"), "room name rendered as markup");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let html = host.page(&format!("/r/{}", room.slug)).await.html().await;
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
    let html = response.html().await;
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
    let html = host.page(&format!("/r/{}", room.slug)).await.html().await;
    assert!(html.contains(r#"value="Dr. Ada""#));
}

#[tokio::test]
async fn an_unknown_join_link_is_a_clear_404() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for path in ["/r/AAAAAAAAAAAAAAAAAAAAAAAA", "/r/not-a-slug", "/no/such/page"] {
        let response = visitor.page(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.html().await.contains("We could not find that"), "{path}");
    }
}

#[tokio::test]
async fn a_rooms_settings_page_is_its_hosts_alone() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Consultations").await;
    let path = format!("/rooms/{}", room.id);
    let list = host.page("/rooms").await.html().await;
    assert!(list.contains(&format!("href=\"{path}\"")), "the list links to the settings");

    let response = host.page(&path).await;
    assert_eq!(response.status(), 200);
    let html = response.html().await;
    for text in [
        "<label for=\"field-name\">Room name</label>",
        "Rename room",
        "Most people in the call, you included",
        "Save size",
        "Guests wait in a lobby until I let them in",
        "Save lobby setting",
        "Make a new link",
        "Delete room",
        "Yes, delete this room and its join link for good",
        &room.join_link,
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    assert!(html.contains("action=\"/api/rename_room\""), "posts without JavaScript");

    let eve = app.host("eve@example.org", "Eve").await;
    assert_eq!(eve.page(&path).await.status(), 404);
    assert_eq!(eve.page("/rooms/999999").await.status(), 404);
    assert_eq!(eve.page("/rooms/not-a-number").await.status(), 404);
    let signed_out = app.visitor().page(&path).await;
    assert_eq!(signed_out.status(), 302);
    assert_eq!(signed_out.headers()["location"], "/login");
}

#[tokio::test]
async fn managing_a_room_without_javascript_returns_to_its_page_saying_what_changed() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();

    let response = host.post_form("rename_room", &[("room", &id), ("name", "Tuesday clinic")]).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], format!("/rooms/{id}?saved=name#general"));
    let html = host.page(&format!("/rooms/{id}?saved=name")).await.html().await;
    assert!(html.contains("Tuesday clinic") && html.contains("new name is saved"));

    let response = host.post_form("new_room_link", &[("room", &id)]).await;
    assert_eq!(response.headers()["location"], format!("/rooms/{id}?saved=link#general"));
    let html = host.page(&format!("/rooms/{id}?saved=link")).await.html().await;
    assert!(html.contains("The old one no longer works") && !html.contains(&room.join_link));

    // Delete without ticking the box: back to the page, with the reason.
    let response = host.post_form("delete_room", &[("room", &id)]).await;
    assert_eq!(response.status(), 302);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!("{}/rooms/{id}?", app.origin)), "{back}");
    let page = host.http.get(back.replace(&app.origin, &host.url(""))).header("accept", "text/html").send().await.unwrap().html().await;
    assert!(page.contains("Tick the box to confirm"), "the reason is shown");

    let response = host.post_form("delete_room", &[("room", &id), ("confirm", "yes")]).await;
    assert_eq!(response.headers()["location"], "/rooms");
    assert!(!host.page("/rooms").await.html().await.contains("Tuesday clinic"));
}

#[tokio::test]
async fn scheduling_without_javascript_lists_the_session_on_the_room_and_the_dashboard() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let id = room.id.to_string();
    let settings = host.page(&format!("/rooms/{id}")).await.html().await;
    for label in ["Title", "Date", "Start time", "Time zone", "Length in minutes", "Number of weeks", "Note for the guest (optional)"] {
        assert!(settings.contains(&format!(">{label}</label>")), "no visible label {label}");
    }
    assert!(settings.contains("<option value=\"Europe/Berlin\">"), "time zone suggestions");
    assert!(settings.contains("Nothing scheduled yet."));

    let date = jiff::Zoned::now().checked_add(jiff::Span::new().days(5)).unwrap().date().to_string();
    let form = [
        ("room", id.as_str()),
        ("title", "Follow-up with Pat"),
        ("date", &date),
        ("time", "14:30"),
        ("time_zone", "Europe/Berlin"),
        ("duration_minutes", "20"),
        ("repeat", "once"),
        ("weeks", ""),
        ("note", ""),
    ];
    let response = host.post_form("schedule_session", &form).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], format!("/rooms/{id}?saved=session#schedule"));
    let settings = host.page(&format!("/rooms/{id}?saved=session")).await.html().await;
    assert!(settings.contains("The session is scheduled"));
    assert!(settings.contains("Follow-up with Pat") && settings.contains("14:30–14:50 (Europe/Berlin)"));
    assert!(settings.contains("Download calendar file for Follow-up with Pat"));
    assert!(settings.contains("value=\"Europe/Berlin\""), "the next form suggests the same zone");

    let dashboard = host.page("/rooms").await.html().await;
    assert!(dashboard.contains("Upcoming") && dashboard.contains("Follow-up with Pat"));
    assert!(dashboard.contains("Start Follow-up with Pat"));
    assert!(dashboard.contains(&room.join_link));
}

#[tokio::test]
async fn the_settings_page_lists_attendance_with_its_download() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let path = format!("/rooms/{}", room.id);
    assert!(host.page(&path).await.html().await.contains("Nobody has joined a call here yet."));
    let mut guest = app.visitor().socket().await;
    guest.join(&room.slug, "Pat Guest").await;
    let mut html = String::new();
    for _ in 0..50 {
        html = host.page(&path).await.html().await;
        if html.contains("Pat Guest") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(html.contains("<td>Pat Guest</td>") && html.contains("still in the call"), "the stay is listed");
    assert!(html.contains(&format!("href=\"/rooms/{}/attendance.csv\"", room.id)));
    assert!(html.contains("<th scope=\"col\">Joined</th>"));
}

#[tokio::test]
async fn text_that_closes_a_textarea_stays_text_in_it() {
    // The probe's finding: `</textarea>` in a welcome note, or in the
    // kept-typing cookie echoed into the session note, made real elements
    // on the settings page (injected fields joined the outer form).
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let room = host.create_room("Clinic").await;
    let planted = r#"</textarea><input name="planted" value="1"><b id="planted">"#;
    let saved = host.call("set_room_greeting", &[("room", &room.id.to_string()), ("welcome_note", planted)]).await;
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap_or_default());
    let html = host.page(&format!("/rooms/{}", room.id)).await.html().await;
    assert!(!html.contains(r#"<input name="planted""#) && !html.contains(r#"<b id="planted">"#), "the welcome note made elements");
    assert!(html.contains(r#"&lt;/textarea&gt;&lt;input name="planted" value="1"&gt;"#), "it is shown as the text it is");

    let typed: String = form_urlencoded_note(planted);
    host.jar.add_cookie_str(&format!("huddle_typed={typed}; Path=/"), &host.url("/").parse().unwrap());
    let html = host.page(&format!("/rooms/{}", room.id)).await.html().await;
    let note = html.find(r#"<textarea id="field-note""#).expect("the session note");
    let note = &html[note..note + html[note..].find("</textarea>").expect("its end")];
    assert!(note.contains("&lt;/textarea&gt;"), "the kept note is shown as text: {note}");
    assert_eq!(html.matches(r#"<input name="planted""#).count(), 0, "the kept note made elements");
}

/// `note=<text>`, as a refused form keeps it in its cookie.
fn form_urlencoded_note(text: &str) -> String {
    let encoded: String = text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    format!("note={encoded}")
}

/// Starting a server must not stall the pages another one is rendering.
/// leptos suppresses resource loads process-wide while it generates a
/// route list, and a resource first polled meanwhile waits forever
/// (leptos-rs/leptos#4773), so Huddle generates its route list once per
/// process. Several servers in one process are what the tests run.
#[tokio::test]
async fn pages_render_while_other_servers_start() {
    let app = spawn_app().await;
    let starting = tokio::spawn(async {
        for _ in 0..15 {
            drop(spawn_app().await);
        }
    });
    let visitor = app.visitor();
    let mut rendered = 0;
    while !starting.is_finished() {
        let page = tokio::time::timeout(std::time::Duration::from_secs(5), async { visitor.page("/").await.html().await });
        let html = page.await.unwrap_or_else(|_| panic!("the home page hung after {rendered} renders while other servers started"));
        assert!(html.contains(r#"href="/login""#));
        rendered += 1;
    }
    starting.await.expect("the servers start");
    assert!(rendered > 0, "no page was rendered while the servers started");
}

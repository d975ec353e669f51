use reqwest::header::{HeaderMap, ORIGIN};

use crate::helpers::{spawn_app, spawn_app_with, Html};
use huddle::server::db::sql;

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let csp = get("content-security-policy");
    for part in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP allows inline script");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    let permissions = get("permissions-policy");
    for feature in ["camera=(self)", "microphone=(self)", "display-capture=(self)"] {
        assert!(permissions.contains(feature), "{what}: {permissions:?} lacks {feature}");
    }
}

#[tokio::test]
async fn security_headers_are_on_every_response_errors_included() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let responses = [
        ("home page", visitor.page("/").await),
        ("404 page", visitor.page("/no/such/page").await),
        ("failed server function", visitor.sign_in("nobody@example.org", "wrong password").await),
        ("missing file", visitor.http.get(visitor.url("/pkg/missing.js")).send().await.unwrap()),
        ("cross-site refusal", visitor.http.post(visitor.url("/api/login")).header(ORIGIN, "http://evil.example").send().await.unwrap()),
    ];
    for (what, response) in &responses {
        assert_security_headers(response.headers(), what);
    }
    assert_eq!(responses[1].1.status(), 404);
    assert_eq!(responses[4].1.status(), 403);
}

#[tokio::test]
async fn a_page_policy_admits_only_its_own_nonced_hydration_script() {
    let app = spawn_app().await;
    let response = app.visitor().page("/").await;
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    let html = response.text().await.unwrap();
    let nonce = html.split(r#"<script type="module" nonce=""#).nth(1).and_then(|rest| rest.split('"').next()).expect("a nonced hydration script");
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp}");
    let other = app.visitor().page("/").await.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_ne!(csp, other, "the nonce must differ per response");
}

#[tokio::test]
async fn cross_site_server_function_call_is_refused() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    for (header, value) in [("origin", "http://evil.example"), ("origin", "null"), ("sec-fetch-site", "cross-site")] {
        let response = host.http.post(host.url("/api/create_room")).header(header, value).form(&[("name", "Forged")]).send().await.unwrap();
        assert_eq!(response.status(), 403, "{header}: {value}");
    }
    let (count,): (i64,) = sql::query_as("SELECT count(*) FROM rooms").fetch_one(&app.db().await).await.unwrap();
    assert_eq!(count, 0, "a forged request created a room");
    // The same request from our own pages works.
    let response = host
        .http
        .post(host.url("/api/create_room"))
        .header("origin", app.origin.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&[("name", "Real")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn no_state_changes_on_get() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let response = host.http.get(host.url("/api/logout")).send().await.unwrap();
    assert!(!response.status().is_success(), "GET /api/logout answered {}", response.status());
    assert_eq!(host.me().await["display_name"], "Ada", "GET signed the user out");
}

#[tokio::test]
async fn signed_in_pages_are_not_cached() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    for path in ["/rooms", "/"] {
        let response = host.page(path).await;
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let app = spawn_app().await;
    let host = app.host("ada@example.org", "Ada").await;
    let name = "a".repeat(100 * 1024);
    let response = host.call("create_room", &[("name", &name)]).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_hsts_is_sent() {
    let app = spawn_app_with(|config| config.public_origin = Some("https://meet.example.org".into())).await;
    app.visitor().sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let response = app.visitor().sign_in("ada@example.org", "correct horse battery").await;
    let cookies: Vec<&str> = response.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).collect();
    let cookie = cookies.iter().find(|c| c.contains("huddle_session=")).expect("a session cookie");
    assert!(cookie.starts_with("__Host-huddle_session="), "the __Host- prefix over https: {cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

#[tokio::test]
async fn over_plain_http_there_is_no_hsts() {
    let app = spawn_app().await;
    let response = app.visitor().page("/").await;
    assert!(response.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn over_https_helper_cookies_carry_the_host_prefix_and_plain_ones_are_not_believed() {
    let app = spawn_app_with(|config| config.public_origin = Some("https://meet.example.org".into())).await;
    let visitor = app.visitor();
    visitor.sign_up("ada@example.org", "Ada", "correct horse battery").await;
    let signed_in = visitor.sign_in("ada@example.org", "correct horse battery").await;
    let set: Vec<String> = signed_in.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_string()).collect();
    let device = set.iter().find(|c| c.contains("huddle_device=")).expect("a known-device cookie");
    assert!(device.starts_with("__Host-huddle_device=") && device.contains("Secure") && device.contains("Path=/"), "{device}");
    let session = set.iter().find_map(|c| c.split(';').next().filter(|pair| pair.starts_with("__Host-huddle_session="))).expect("a session");
    let host = app.visitor_with(&[("cookie", session)]);
    let room = host.create_room("Clinic").await;

    let opened = app.visitor().page(&format!("/r/{}", room.slug)).await;
    let guest = opened.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).find(|c| c.contains("huddle_guest=")).unwrap();
    assert!(guest.starts_with("__Host-huddle_guest=") && guest.contains("Secure"), "{guest}");
    let switched = app.visitor().page("/language?to=zh-CN&back=/").await;
    let lang = switched.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).find(|c| c.contains("huddle_lang=")).unwrap();
    assert!(lang.starts_with("__Host-huddle_lang=zh-CN") && lang.contains("Secure"), "{lang}");

    // Read back under the prefixed name only: a plain one could have been
    // planted by a sibling subdomain or over plain http.
    let page_lang = |cookie: &'static str| {
        let visitor = app.visitor_with(&[("cookie", cookie), ("accept-language", "en")]);
        async move { visitor.page("/").await.html().await.contains(r#"<html lang="zh-CN""#) }
    };
    assert!(page_lang("__Host-huddle_lang=zh-CN").await);
    assert!(!page_lang("huddle_lang=zh-CN").await, "a plain-named cookie is not believed over https");
    let identity = "A".repeat(22);
    let planted = format!("huddle_guest={identity}");
    let again = app.visitor_with(&[("cookie", &planted)]).page(&format!("/r/{}", room.slug)).await;
    assert!(
        again.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("__Host-huddle_guest=")),
        "a planted plain identity is not taken: the browser gets its own"
    );
}

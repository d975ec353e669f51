//! Huddle in the person's language: chosen from `Accept-Language` on a
//! first visit, switched with a link (no JavaScript) and kept in a cookie;
//! `<html lang>` follows, and a translated page carries no word of the
//! other language.

use crate::helpers::{spawn_app, TestApp, Visitor};

/// The pages translated so far, walked in both languages.
const TRANSLATED: [&str; 4] = ["/", "/login", "/signup", "/no-such-page"];

async fn page(visitor: &Visitor, path: &str) -> String {
    visitor.page(path).await.text().await.unwrap()
}

fn html_lang(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("an <html lang>") + "<html lang=\"".len();
    &html[start..start + html[start..].find('"').unwrap()]
}

/// What a person reads on a page: its text (outside scripts and styles)
/// and its `aria-label`, `title`, `placeholder` and `alt` attributes,
/// leaving out elements marked as being in another language (the switch's
/// links, named in their own language).
fn readable(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        if skip_until.is_none() && !text.trim().is_empty() {
            out.push(text.trim().to_string());
        }
        let close = open + rest[open..].find('>').expect("a closed tag");
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(end) = skip_until {
            if tag.eq_ignore_ascii_case(end) {
                skip_until = None;
            }
            continue;
        }
        let name = tag.split([' ', '/']).next().unwrap_or_default().to_ascii_lowercase();
        if name == "script" || name == "style" {
            skip_until = Some(if name == "script" { "/script" } else { "/style" });
            continue;
        }
        if tag.contains(" lang=\"") && !tag.starts_with("html") {
            skip_until = Some("/a");
            continue;
        }
        for attribute in ["aria-label=\"", "title=\"", "placeholder=\"", "alt=\""] {
            if let Some(at) = tag.find(&format!(" {attribute}")) {
                let value = &tag[at + 1 + attribute.len()..];
                out.push(value[..value.find('"').unwrap_or(value.len())].to_string());
            }
        }
    }
    out
}

/// Names and codes that stay as they are in every language.
const KEPT: [&str; 5] = ["Huddle", "UTC", "CSV", "IP", "TURN"];

/// Latin-letter words in `text`, beyond names and codes that stay as they
/// are: those above, and anything written as an address, a path or a time
/// zone (`name@example.org`, `Asia/Shanghai`).
fn latin_words(text: &str) -> Vec<String> {
    let is_code = |token: &str| token.contains(['@', '/']) || token.trim_matches(|c: char| !c.is_ascii_alphanumeric()).contains('.');
    text.split(|c: char| c.is_whitespace() || !c.is_ascii())
        .filter(|token| !is_code(token))
        .flat_map(|token| token.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|word| word.len() >= 2 && !KEPT.contains(word))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_walker_passes_codes_and_catches_words() {
    assert!(latin_words("请输入类似 name@example.org 的电子邮箱地址。").is_empty());
    assert!(latin_words("2026年12月1日（周二）09:00–09:45（Asia/Shanghai）").is_empty());
    assert!(latin_words("下载出席记录（CSV）").is_empty());
    assert_eq!(latin_words("保存 settings（Save）"), ["settings", "Save"]);
    assert_eq!(latin_words("Next: 2026"), ["Next"]);
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The Latin-letter words a person reads on a page (see `latin_words`).
fn latin_left(html: &str) -> Vec<String> {
    readable(html).iter().flat_map(|text| latin_words(text)).collect()
}

/// The page a refused plain-form post sends the browser back to.
async fn sent_back(app: &TestApp, visitor: &Visitor, refused: reqwest::Response) -> String {
    let back = refused.headers()["location"].to_str().unwrap().replace(&app.origin, "");
    page(visitor, &back).await
}

#[tokio::test]
async fn the_browser_s_language_is_served_with_html_lang_and_a_vary_header() {
    let app = spawn_app().await;
    for (accept, lang) in [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-SG", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("zh-TW,en;q=0.8", "en"),
        ("en-GB,zh-CN;q=0.5", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr;q=0.9,zh;q=0.3", "zh-CN"),
    ] {
        let visitor = app.visitor_with(&[("accept-language", accept)]);
        let response = visitor.page("/").await;
        let vary = response.headers().get_all("vary").iter().map(|v| v.to_str().unwrap().to_ascii_lowercase()).collect::<Vec<_>>().join(",");
        assert!(vary.contains("accept-language") && vary.contains("cookie"), "{accept}: vary {vary:?}");
        let html = response.text().await.unwrap();
        assert_eq!(html_lang(&html), lang, "{accept}");
        assert_eq!(html.contains("私密视频会面"), lang == "zh-CN", "{accept}: the page's text follows");
    }
    let none = page(&app.visitor(), "/").await;
    assert_eq!(html_lang(&none), "en", "no Accept-Language: English");
}

#[tokio::test]
async fn the_switch_keeps_the_choice_over_the_browser_s_and_goes_back_only_to_this_site() {
    let app = spawn_app().await;
    let visitor = app.visitor_with(&[("accept-language", "en-US")]);
    let login = page(&visitor, "/login").await;
    // The switch is a plain link to the same page in the other language, named in it.
    assert!(login.contains("href=\"/language?to=zh-CN&amp;back=%2Flogin\""), "the switch on the sign-in page");
    assert!(login.contains(" lang=\"zh-CN\" hreflang=\"zh-CN\">简体中文"), "named in itself");

    let switched = visitor.http.get(visitor.url("/language?to=zh-CN&back=%2Flogin%3Fregistered%3D1")).send().await.unwrap();
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()["location"], "/login?registered=1");
    let cookie = switched.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("huddle_lang=zh-CN;") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let after = page(&visitor, "/login?registered=1").await;
    assert_eq!(html_lang(&after), "zh-CN", "the choice wins over Accept-Language: en-US");
    assert!(after.contains("谢谢。") && after.contains("hreflang=\"en\">English"));

    // And back to English.
    visitor.http.get(visitor.url("/language?to=en&back=%2F")).send().await.unwrap();
    assert_eq!(html_lang(&page(&visitor, "/").await), "en");

    // Anywhere else, or nothing: the home page. An unknown language: a sentence, and no cookie.
    for back in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example", "%2F%5Cevil.example", ""] {
        let response = visitor.http.get(visitor.url(&format!("/language?to=zh-CN&back={back}"))).send().await.unwrap();
        assert_eq!(response.headers()["location"], "/", "{back}");
    }
    let unknown = visitor.http.get(visitor.url("/language?to=xx&back=%2F")).send().await.unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(unknown.headers().get("set-cookie").is_none());
    assert_eq!(unknown.text().await.unwrap(), "请选择以下语言之一：en, zh-CN。", "said in the language chosen last");
    let english = app.visitor_with(&[("accept-language", "en-US")]);
    let unknown = english.http.get(english.url("/language?to=xx&back=%2F")).send().await.unwrap();
    assert_eq!(unknown.text().await.unwrap(), "Choose one of these languages: en, zh-CN.");
}

#[tokio::test]
async fn translated_pages_read_in_one_language_only() {
    let app: TestApp = spawn_app().await;
    let chinese = app.visitor_with(&[("accept-language", "zh-CN")]);
    let english = app.visitor_with(&[("accept-language", "en")]);
    for path in TRANSLATED {
        let zh = page(&chinese, path).await;
        let left = latin_left(&zh);
        assert!(left.is_empty(), "{path} in Chinese still reads {left:?}");
        assert!(readable(&zh).iter().any(|t| has_chinese(t)), "{path}: some Chinese");
        let en = page(&english, path).await;
        let leaked: Vec<String> = readable(&en).into_iter().filter(|t| has_chinese(t)).collect();
        assert!(leaked.is_empty(), "{path} in English reads {leaked:?}");
    }

    // A new host's dashboard: creating a room, today's and coming sessions.
    chinese.sign_up("li@example.org", "李医生", "correct horse battery").await;
    chinese.sign_in("li@example.org", "correct horse battery").await;
    let dashboard = page(&chinese, "/rooms").await;
    assert!(dashboard.contains("创建房间") && dashboard.contains("今天没有预约。"), "the dashboard in Chinese");
    let left = latin_left(&dashboard);
    assert!(left.is_empty(), "the dashboard in Chinese still reads {left:?}");
}

#[tokio::test]
async fn an_account_keeps_its_language_and_brings_it_to_every_browser_it_signs_in_on() {
    let app = spawn_app().await;
    let first = app.visitor_with(&[("accept-language", "en-GB")]);
    first.sign_up("ada@example.org", "Ada", "correct horse battery").await;
    first.sign_in("ada@example.org", "correct horse battery").await;
    let account = page(&first, "/account").await;
    assert!(account.contains("<option value=\"zh-CN\" lang=\"zh-CN\">简体中文"), "the setting offers each language named in itself");

    // Something else than a language: refused with a sentence, nothing kept.
    let refused = first.call("set_language", &[("language", "klingon")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("huddle_lang=")));
    assert!(refused.text().await.unwrap().contains(r#""problem":{"code":"unknown_language"}"#));
    assert_eq!(html_lang(&page(&first, "/account").await), "en");

    let saved = first.call("set_language", &[("language", "zh-CN")]).await;
    assert!(saved.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("huddle_lang=zh-CN;")), "this browser switches");
    let after = page(&first, "/account?done=language").await;
    assert_eq!(html_lang(&after), "zh-CN");
    assert!(after.contains("已保存：在您登录的每台设备上，Huddle 都会使用您的语言。"));
    for words in ["我的账户", "名字和电子邮箱", "更改密码", "在其他所有地方退出登录", "最近的安全事件", "账户已创建"]
    {
        assert!(after.contains(words), "the account page in Chinese: {words}");
    }

    // Another browser, set to English, signing in: Chinese, from the account.
    let second = app.visitor_with(&[("accept-language", "en-US")]);
    assert_eq!(html_lang(&page(&second, "/").await), "en");
    second.sign_in("ada@example.org", "correct horse battery").await;
    assert_eq!(html_lang(&page(&second, "/rooms").await), "zh-CN");
    // The switch still wins on a browser afterwards.
    second.http.get(second.url("/language?to=en&back=%2F")).send().await.unwrap();
    assert_eq!(html_lang(&page(&second, "/rooms").await), "en");
}

#[tokio::test]
async fn a_refused_form_says_why_in_the_page_s_language() {
    let app = spawn_app().await;
    let chinese = app.visitor_with(&[("accept-language", "zh-CN")]);
    let response = chinese.post_form("login", &[("email", "nobody@example.org"), ("password", "wrong password")]).await;
    let page = sent_back(&app, &chinese, response).await;
    assert!(page.contains("电子邮箱和密码与任何账户都不匹配。请再试一次。"), "the refusal in Chinese");
    assert!(!crate::helpers::shown(page).contains("do not match"), "and not in English");
}

#[tokio::test]
async fn the_calendar_file_and_the_attendance_and_polls_csv_come_in_the_person_s_language() {
    let app = spawn_app().await;
    let host = app.host_with(&[("accept-language", "zh-CN")], "li@example.org", "李医生").await;
    let room = host.create_room("复诊").await;
    let date = jiff::Zoned::now().checked_add(jiff::Span::new().days(3)).unwrap().date().to_string();
    let fields = [
        ("room", room.id.to_string()),
        ("title", "复诊".into()),
        ("date", date),
        ("time", "09:00".into()),
        ("time_zone", "Asia/Shanghai".into()),
        ("duration_minutes", "30".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created: serde_json::Value = host.call("schedule_session", &fields).await.json().await.unwrap();
    let calendar = host.page(created["calendar"].as_str().unwrap()).await.text().await.unwrap();
    assert!(calendar.contains("DESCRIPTION:在 Huddle 上加入复诊："), "{calendar}");
    assert!(calendar.contains("DESCRIPTION:复诊将在 15 分钟后开始"), "{calendar}");
    let csv = host.page(&format!("/rooms/{}/attendance.csv", room.id)).await.text().await.unwrap();
    assert!(csv.starts_with("姓名,身份,加入时间（UTC）,离开时间（UTC）,分钟数,重新连接次数\r\n"), "{csv}");
    let polls = host.page(&format!("/rooms/{}/polls.csv", room.id)).await.text().await.unwrap();
    assert!(polls.starts_with("问题,开始时间（UTC）,"), "the polls' download too: {polls}");

    // The same files for someone reading English.
    let english = app.host("ada@example.org", "Ada").await;
    let room = english.create_room("Clinic").await;
    let csv = english.page(&format!("/rooms/{}/attendance.csv", room.id)).await.text().await.unwrap();
    assert!(csv.starts_with("name,role,joined (UTC),left (UTC),minutes,reconnects\r\n"));
    let polls = english.page(&format!("/rooms/{}/polls.csv", room.id)).await.text().await.unwrap();
    assert!(polls.starts_with("question,opened (UTC),"), "{polls}");
}

/// A Chinese-reading host's own pages once there is something on them: a
/// room's settings with a scheduled session, and the dashboard listing it.
/// Each reads Chinese only, times in Chinese order; a form refused there
/// says why in Chinese, naming the clash in Chinese too.
#[tokio::test]
async fn a_host_s_room_and_schedule_read_in_chinese_with_chinese_dates() {
    let app = spawn_app().await;
    let host = app.host_with(&[("accept-language", "zh-CN,zh;q=0.9")], "li@example.org", "李医生").await;
    let room = host.create_room("复诊").await;
    let date =
        jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date().checked_add(jiff::Span::new().days(3)).unwrap();
    let weekday = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][date.weekday().to_monday_zero_offset() as usize];
    let said = format!("{}年{}月{}日（{weekday}）09:00–09:30（Asia/Shanghai）", date.year(), date.month(), date.day());
    let (room_id, date) = (room.id.to_string(), date.to_string());
    let fields = |title: &'static str, time: &'static str| {
        vec![
            ("room", room_id.clone()),
            ("title", title.into()),
            ("date", date.clone()),
            ("time", time.into()),
            ("time_zone", "Asia/Shanghai".into()),
            ("duration_minutes", "30".into()),
            ("repeat", "weekly".into()),
            ("weeks", "4".into()),
        ]
    };
    let first = fields("王女士复诊", "09:00");
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(host.call("schedule_session", &first).await.status(), 200);

    for path in [format!("/rooms/{}", room.id), "/rooms".to_string(), "/account".to_string()] {
        let zh = page(&host, &path).await;
        let left = latin_left(&zh);
        assert!(left.is_empty(), "{path} in Chinese still reads {left:?}");
        if path != "/account" {
            assert!(zh.contains(&said), "{path}: the meeting said the Chinese way: {said}");
        }
    }
    let settings = page(&host, &format!("/rooms/{}", room.id)).await;
    for words in ["<title>复诊的设置", "安排预约", "每周一次，共 4 次", "取消王女士复诊", "下载出席记录（CSV）", "还没有人在这里加入过通话。"]
    {
        assert!(settings.contains(words), "the settings in Chinese: {words}");
    }

    // A clash, posted as a plain form: the sentence and its date in Chinese.
    let clash = fields("第二次", "09:15");
    let clash: Vec<(&str, &str)> = clash.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = sent_back(&app, &host, host.post_form("schedule_session", &clash).await).await;
    assert!(refused.contains(&format!("与“王女士复诊”（{said}）时间重叠。请另选时间。")), "the clash in Chinese: {refused}");
    // An empty title, in the reader's language at the field.
    let mut untitled = clash.clone();
    untitled[1].1 = "  ";
    let refused = sent_back(&app, &host, host.post_form("schedule_session", &untitled).await).await;
    let at_field = &refused[refused.find("id=\"field-title-error\"").expect("the title's error")..];
    assert!(at_field[..at_field.find("</p>").unwrap()].contains("请填写此项。"), "the field's error in Chinese");

    // A patient opening the link before the session: the invitation, the
    // pre-join check as the server renders it, and when the session starts.
    let patient = app.visitor_with(&[("accept-language", "zh-CN")]);
    let link = room.join_link.replace(&app.origin, "");
    let invitation = page(&patient, &link).await;
    let left = latin_left(&invitation);
    assert!(left.is_empty(), "the join page in Chinese still reads {left:?}");
    assert!(invitation.contains(&format!("“王女士复诊”将于{said}开始。")), "when it starts, the Chinese way");

    // The same pages for an English reader: no Chinese but what was typed.
    host.http.get(host.url("/language?to=en&back=%2F")).send().await.unwrap();
    for path in [format!("/rooms/{}", room.id), "/rooms".to_string(), "/account".to_string(), link.clone()] {
        let en = page(&host, &path).await;
        let leaked: Vec<String> = readable(&en).into_iter().filter(|t| has_chinese(t) && !t.contains("复诊") && !t.contains("李医生")).collect();
        assert!(leaked.is_empty(), "{path} in English reads {leaked:?}");
    }
    let en = page(&host, &format!("/rooms/{}", room.id)).await;
    assert!(en.contains("Weekly, 4 times") && en.contains(":00–09:30 (Asia/Shanghai)"), "and the meeting said the English way");
}

/// Refusals that are not a page (a download that is not there, a form from
/// another website, a switch to an unknown language) are plain text in the
/// person's language too.
#[tokio::test]
async fn refusals_outside_pages_come_in_the_person_s_language() {
    let app = spawn_app().await;
    let chinese = app.host_with(&[("accept-language", "zh-CN")], "li@example.org", "李医生").await;
    let english = app.host("ada@example.org", "Ada").await;
    for (visitor, said) in [(&chinese, "找不到该内容。"), (&english, "We could not find that.")] {
        for path in ["/rooms/999/attendance.csv", "/rooms/999/chat.txt", "/rooms/999/sessions/1/calendar.ics"] {
            let missing = visitor.http.get(visitor.url(path)).send().await.unwrap();
            assert_eq!(missing.status(), 404, "{path}");
            assert_eq!(missing.text().await.unwrap(), said, "{path}");
        }
    }
    let cross_site = chinese.http.post(chinese.url("/api/logout")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(cross_site.text().await.unwrap(), "此请求来自其他网站，已被拒绝。请直接打开 Huddle 后再试。");
    let unknown = chinese.http.get(chinese.url("/language?to=xx&back=%2F")).send().await.unwrap();
    assert_eq!(unknown.text().await.unwrap(), "请选择以下语言之一：en, zh-CN。");
}

//! The classroom tools (polls, breakout rooms, the whiteboard) run from the site's
//! bundle, which a call page loads the first time one is needed
//! (`public/classroom.js`), so the call's bundles stay within their
//! budget. Between the two bundles, on the page's `window`: the call's
//! bundle keeps the latest poll message in `huddlePoll` and fires
//! `huddle-poll`, the latest breakout message in `huddleBreakouts` and
//! fires `huddle-breakouts`, each whiteboard message in `huddleBoard` and
//! fires `huddle-board` (or sets `huddlePollCompose` and fires
//! `huddle-poll-compose` when the host opens a new poll, with `"poll"` or
//! `"breakouts"` for which form, `"board"` to open the board); the
//! site's bundle puts a message for the server in `huddleSend` and fires
//! `huddle-send`, which the call's bundle sends on its socket. Events are
//! handled as they are fired, so each global is read as it was set.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The loader's element id: present once it was asked for.
const LOADER_ID: &str = "huddle-classroom";
/// What the call's bundle passes on to the server: poll, breakout and
/// whiteboard messages alone.
const SENDABLE: [&str; 3] = [r#"{"type":"poll_"#, r#"{"type":"breakout_"#, r#"{"type":"board_"#];
/// The longest message passed on (a long pen stroke is under 30 KB; the
/// server takes up to 64 KB).
const SENDABLE_BYTES: usize = 60 * 1024;

pub(crate) const POLL: &str = "huddlePoll";
pub(crate) const POLL_EVENT: &str = "huddle-poll";
pub(crate) const BREAKOUTS: &str = "huddleBreakouts";
pub(crate) const BREAKOUTS_EVENT: &str = "huddle-breakouts";
/// What a breakout message starts with (a poll's: `{"type":"poll"`).
const BREAKOUTS_START: &str = r#"{"type":"breakouts""#;
pub(crate) const BOARD: &str = "huddleBoard";
pub(crate) const BOARD_EVENT: &str = "huddle-board";
const BOARD_START: &str = r#"{"type":"board_"#;
pub(crate) const COMPOSE: &str = "huddlePollCompose";
pub(crate) const COMPOSE_EVENT: &str = "huddle-poll-compose";
pub(crate) const SEND: &str = "huddleSend";
pub(crate) const SEND_EVENT: &str = "huddle-send";

/// Whether `text`, a message from the server, is for the classroom.
pub(crate) fn is_for_classroom(text: &str) -> bool {
    text.starts_with(r#"{"type":"poll""#) || text.starts_with(BREAKOUTS_START) || text.starts_with(BOARD_START)
}

/// For a breakout message: whether this page is in a group now. Read
/// from the text as the server writes it (a quote inside a name is
/// always escaped, so no name can look like these keys).
pub(crate) fn grouped(text: &str) -> Option<bool> {
    text.strip_prefix(BREAKOUTS_START).map(|rest| rest.starts_with(r#","state":{"open":true"#) && !rest.contains(r#""yours":null"#))
}

/// A poll, breakout or whiteboard message from the server: kept for the
/// classroom, loaded if it is not yet, and told.
pub(crate) fn deliver(text: String) {
    let Some(window) = web_sys::window() else { return };
    let (global, event) = if text.starts_with(BREAKOUTS_START) {
        (BREAKOUTS, BREAKOUTS_EVENT)
    } else if text.starts_with(BOARD_START) {
        (BOARD, BOARD_EVENT)
    } else {
        (POLL, POLL_EVENT)
    };
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str(global), &JsValue::from_str(&text));
    load(&window);
    fire(&window, event);
}

/// The call is over for this page: no poll, breakout or board shows any more.
pub(crate) fn clear() {
    let Some(window) = web_sys::window() else { return };
    let loaded = window.document().is_some_and(|d| d.get_element_by_id(LOADER_ID).is_some());
    if loaded {
        for (global, event) in [(POLL, POLL_EVENT), (BREAKOUTS, BREAKOUTS_EVENT), (BOARD, BOARD_EVENT)] {
            let _ = js_sys::Reflect::set(&window, &JsValue::from_str(global), &JsValue::from_str(""));
            fire(&window, event);
        }
    }
}

/// The host opens a form: `"poll"` (a new poll) or `"breakouts"` (with a
/// line for each person in the call, `pages::breakout::people_of`); or
/// anyone opens the board: `"board"`.
pub fn compose(form: &str) {
    let Some(window) = web_sys::window() else { return };
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str(COMPOSE), &JsValue::from_str(form));
    load(&window);
    fire(&window, COMPOSE_EVENT);
}

/// From now on, what the classroom gives to send goes to `send` (poll,
/// breakout and board messages only, of a sane size). The listener lives as long as the page.
pub(crate) fn listen(send: impl Fn(&str) + 'static) {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let Some(window) = web_sys::window() else { return };
        let text = js_sys::Reflect::get(&window, &JsValue::from_str(SEND)).ok().and_then(|v| v.as_string()).unwrap_or_default();
        if SENDABLE.iter().any(|start| text.starts_with(start)) && text.len() <= SENDABLE_BYTES {
            send(&text);
        }
    });
    let _ = window.add_event_listener_with_callback(SEND_EVENT, handler.as_ref().unchecked_ref());
    handler.forget();
}

pub(crate) fn fire(window: &web_sys::Window, name: &str) {
    if let Ok(event) = web_sys::Event::new(name) {
        let _ = window.dispatch_event(&event);
    }
}

/// Adds the loader's script once.
fn load(window: &web_sys::Window) {
    let Some(document) = window.document() else { return };
    if document.get_element_by_id(LOADER_ID).is_some() {
        return;
    }
    let Ok(script) = document.create_element("script") else { return };
    let _ = script.set_attribute("id", LOADER_ID);
    let _ = script.set_attribute("type", "module");
    let _ = script.set_attribute("src", "/classroom.js");
    if let Some(head) = document.head() {
        let _ = head.append_child(&script);
    }
}

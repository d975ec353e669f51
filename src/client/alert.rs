//! How a host hears of a waiting guest when their eyes are elsewhere: the
//! tab's title, a chime, and (if they asked for it) a notification from
//! the browser while the page is out of sight.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::call::ui::CallUi;
use crate::client::js::{call_method, text_field};
use crate::client::media::play_notes;

thread_local! {
    /// The page's own title, before any count of who waits.
    static OWN_TITLE: std::cell::OnceCell<String> = const { std::cell::OnceCell::new() };
}

/// Says in the tab's title how many wait ("(2) waiting · Clinic"), or
/// gives the page its own title back.
fn show_waiting_in_title(n: usize) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let own = OWN_TITLE.with(|own| own.get_or_init(|| document.title()).clone());
    let counted = crate::i18n::t_count(crate::i18n::Text::WaitingNowTabTitle, n as u64);
    document.set_title(&if n == 0 { own } else { crate::i18n::fill(&counted, &[("title", &own)]) });
}

/// Who waits changed, from `before` (`None` on the first look) to `now`
/// (each one's key and the sentence that announces them): the title counts
/// them, and the first newcomer is announced. Returns the keys, for the
/// next change.
pub fn waiting_changed<K: PartialEq>(before: Option<Vec<K>>, now: Vec<(K, String)>, speaker: &str, notify: bool) -> Vec<K> {
    show_waiting_in_title(now.len());
    if let Some(before) = &before {
        if let Some((_, text)) = now.iter().find(|(key, _)| !before.contains(key)) {
            someone_is_waiting(speaker, notify, text);
        }
    }
    now.into_iter().map(|(key, _)| key).collect()
}

/// Someone new is waiting: a soft chime on `speaker` (the default when
/// empty), and a notification if `notify` and the host is looking at
/// another tab or window.
fn someone_is_waiting(speaker: &str, notify: bool, text: &str) {
    play_notes(speaker, [880.0, 1175.0]);
    let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
    if hidden && notify {
        let Ok(constructor) = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Notification")) else { return };
        let Ok(constructor) = constructor.dyn_into::<js_sys::Function>() else { return };
        let _ = js_sys::Reflect::construct(&constructor, &js_sys::Array::of1(&JsValue::from_str(text)));
    }
}

/// The browser already lets Huddle notify (asked once, remembered).
pub fn may_notify() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Notification"))
        .ok()
        .and_then(|n| text_field(&n, "permission"))
        .is_some_and(|p| p == "granted")
}

/// Asks the browser for leave to notify; says on screen what came of it.
pub fn ask_to_notify(ui: CallUi, granted: &'static str, refused: &'static str) {
    let Ok(notification) = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Notification")) else { return };
    if notification.is_undefined() {
        ui.notice.set(Some(refused.into()));
        return;
    }
    let asked = call_method(&notification, "requestPermission", &[]);
    wasm_bindgen_futures::spawn_local(async move {
        let answer = match asked.map(|p| p.dyn_into::<js_sys::Promise>()) {
            Some(Ok(promise)) => JsFuture::from(promise).await.ok(),
            _ => None,
        };
        let allowed = answer.and_then(|a| a.as_string()).or_else(|| text_field(&notification, "permission")).as_deref() == Some("granted");
        ui.notify_waiting.set(allowed);
        ui.notice.set(Some(if allowed { granted } else { refused }.into()));
    });
}

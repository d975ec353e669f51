//! The browser side of a call (feature `hydrate` only): camera and
//! microphone, the signaling socket and one `RTCPeerConnection` per other
//! participant. The view in `crate::pages::call` reads the outcome from
//! [`CallUi`](crate::pages::call::CallUi) signals and calls the functions re-exported here.

mod check;
mod media;
mod mesh;

pub use check::check_connection;
pub use media::{attach_local, choose_device, play_test_sound, start_preview};
pub use mesh::{
    admit, admit_all, apply_send_state, attach_remote, attach_screen, deny, end_for_all, join, leave, send, share_screen,
    stop_sharing,
};

use wasm_bindgen::{JsCast, JsValue};

/// Copies `text` with the asynchronous clipboard API, where the browser has it.
pub fn copy_to_clipboard(text: &str) {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")) else { return };
    let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) else { return };
    if let Some(write) = write.dyn_ref::<js_sys::Function>() {
        let _ = write.call1(&clipboard, &JsValue::from_str(text));
    }
}

/// `at_ms` (Unix milliseconds) as the browser's own locale and time zone
/// write a date and time, e.g. "Tuesday, 1 December 2026 at 09:00".
pub fn local_time(at_ms: i64) -> Option<String> {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &JsValue::from_str("dateStyle"), &JsValue::from_str("full")).ok()?;
    js_sys::Reflect::set(&options, &JsValue::from_str("timeStyle"), &JsValue::from_str("short")).ok()?;
    let format = js_sys::Reflect::get(&date, &JsValue::from_str("toLocaleString")).ok()?.dyn_into::<js_sys::Function>().ok()?;
    format.call2(&date, &JsValue::UNDEFINED, &options).ok()?.as_string()
}

/// `at_ms` (Unix milliseconds) as the browser writes a time of day ("14:05").
pub(crate) fn short_time(at_ms: f64) -> Option<String> {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms));
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &JsValue::from_str("hour"), &JsValue::from_str("2-digit")).ok()?;
    js_sys::Reflect::set(&options, &JsValue::from_str("minute"), &JsValue::from_str("2-digit")).ok()?;
    let format = js_sys::Reflect::get(&date, &JsValue::from_str("toLocaleTimeString")).ok()?.dyn_into::<js_sys::Function>().ok()?;
    format.call2(&date, &JsValue::UNDEFINED, &options).ok()?.as_string()
}

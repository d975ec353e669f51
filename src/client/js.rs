//! Small bridges to browser APIs that web-sys does not bind (or not in
//! every browser), timers, and the reader's own date and time format.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// `target.name(...args)`, for methods web-sys does not bind (or not in
/// every browser): `None` if the browser lacks the method or it threw.
pub(crate) fn call_method(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let method = js_sys::Reflect::get(target, &JsValue::from_str(name)).ok()?.dyn_into::<js_sys::Function>().ok()?;
    method.apply(target, &args.iter().collect::<js_sys::Array>()).ok()
}

/// `target[name]` as a string, if it is one.
pub(crate) fn text_field(target: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).ok()?.as_string()
}

/// A callback the browser runs every `ms` milliseconds, until dropped.
pub(crate) struct Repeating {
    timer: i32,
    _tick: Closure<dyn FnMut()>,
}

impl Repeating {
    pub(crate) fn every(ms: i32, tick: impl FnMut() + 'static) -> Option<Self> {
        let tick = Closure::<dyn FnMut()>::new(tick);
        let timer = web_sys::window()?.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), ms).ok()?;
        Some(Self { timer, _tick: tick })
    }
}

impl Drop for Repeating {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.timer);
        }
    }
}

/// Copies `text` with the asynchronous clipboard API, where the browser has it.
pub fn copy_to_clipboard(text: &str) {
    let Some(window) = web_sys::window() else { return };
    let Ok(clipboard) = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard")) else { return };
    call_method(&clipboard, "writeText", &[JsValue::from_str(text)]);
}

/// `at_ms` (Unix milliseconds) as the browser's locale and time zone write
/// it, with `options` (`Intl.DateTimeFormat` options).
fn locale_string(at_ms: f64, options: &[(&str, &str)]) -> Option<String> {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms));
    let settings = js_sys::Object::new();
    for (name, value) in options {
        js_sys::Reflect::set(&settings, &JsValue::from_str(name), &JsValue::from_str(value)).ok()?;
    }
    call_method(&date, "toLocaleString", &[JsValue::UNDEFINED, settings.into()])?.as_string()
}

/// A date and time, e.g. "Tuesday, 1 December 2026 at 09:00".
pub fn local_time(at_ms: i64) -> Option<String> {
    locale_string(at_ms as f64, &[("dateStyle", "full"), ("timeStyle", "short")])
}

/// A time of day, e.g. "14:05".
pub(crate) fn short_time(at_ms: f64) -> Option<String> {
    locale_string(at_ms, &[("hour", "2-digit"), ("minute", "2-digit")])
}

/// Plays `target` (a media element or an `AudioContext`) on speaker
/// `device`, where the browser can choose; the default when empty.
pub(crate) fn set_sink(target: &JsValue, device: &str) {
    if !device.is_empty() {
        call_method(target, "setSinkId", &[JsValue::from_str(device)]);
    }
}

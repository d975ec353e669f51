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

/// `Intl.DateTimeFormat` options from `(name, value)` pairs.
fn intl_options(options: &[(&str, &str)]) -> Option<js_sys::Object> {
    let settings = js_sys::Object::new();
    for (name, value) in options {
        js_sys::Reflect::set(&settings, &JsValue::from_str(name), &JsValue::from_str(value)).ok()?;
    }
    Some(settings)
}

/// `at_ms` (Unix milliseconds) as the page's language writes it in the
/// browser's time zone, with `options` (`Intl.DateTimeFormat` options).
fn locale_string(at_ms: f64, options: &[(&str, &str)]) -> Option<String> {
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms));
    // In the page's language, whatever the browser's.
    let language = JsValue::from_str(crate::i18n::locale().tag());
    call_method(&date, "toLocaleString", &[language, intl_options(options)?.into()])?.as_string()
}

/// A meeting from `from_ms` to `to_ms` as the page's language writes a
/// range in the browser's time zone ("Tue, 1 Dec 2026, 09:00 – 09:45",
/// "2026年12月1日周二 09:00–09:45").
fn locale_range(from_ms: f64, to_ms: f64) -> Option<String> {
    let settings = intl_options(&[
        ("weekday", "short"),
        ("day", "numeric"),
        ("month", "short"),
        ("year", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ])?;
    let language = js_sys::Array::of1(&JsValue::from_str(crate::i18n::locale().tag()));
    let format = js_sys::Intl::DateTimeFormat::new(&language, &settings);
    let (from, to) = (js_sys::Date::new(&JsValue::from_f64(from_ms)), js_sys::Date::new(&JsValue::from_f64(to_ms)));
    call_method(&format, "formatRange", &[from.into(), to.into()])?.as_string()
}

/// A date and time, e.g. "Tuesday, 1 December 2026 at 09:00".
pub fn local_time(at_ms: i64) -> Option<String> {
    locale_string(at_ms as f64, &[("dateStyle", "full"), ("timeStyle", "short")])
}

/// Times on server-rendered pages in the reader's own zone: the server does
/// not know it, so it writes UTC or the session's zone, and this rewrites
/// each `<time data-at-ms>` ("1 Dec 2026, 09:00"; a range with
/// `data-end-ms`), keeping the server's text as a tooltip,
/// and gives an untouched time zone field (marked by `#zone-from-browser`)
/// the browser's zone. Run on every page once the WASM loads (no island of
/// its own: each island costs the bundle about 1.5 KB). Without JavaScript
/// the UTC text stays, which is still right.
pub fn localise_page() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Ok(times) = document.query_selector_all("time[data-at-ms]") {
        for i in 0..times.length() {
            let Some(time) = times.get(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
            let Some(at) = time.get_attribute("data-at-ms").and_then(|ms| ms.parse::<i64>().ok()) else { continue };
            let end = time.get_attribute("data-end-ms").and_then(|ms| ms.parse::<i64>().ok());
            let local = match end {
                Some(end) => locale_range(at as f64, end as f64),
                None => locale_string(at as f64, &[("dateStyle", "medium"), ("timeStyle", "short")]),
            };
            if let Some(local) = local {
                let _ = time.set_attribute("title", &time.text_content().unwrap_or_default());
                time.set_text_content(Some(&local));
            }
        }
    }
    let field = document.get_element_by_id("field-time_zone").and_then(|f| f.dyn_into::<web_sys::HtmlInputElement>().ok());
    if let (Some(field), Some(_)) = (field, document.get_element_by_id("zone-from-browser")) {
        let zone = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
        if let Some(zone) = text_field(&zone, "timeZone").filter(|_| field.value() == "UTC") {
            field.set_value(&zone);
        }
    }
}

/// GETs `url` (this site's) and reads its JSON answer. `Err` carries the
/// HTTP status of a refusal (401: signed out), or 0 when the network or
/// the answer failed (the caller tries again later).
pub async fn fetch_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, u16> {
    let window = web_sys::window().ok_or(0u16)?;
    let answer = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url)).await.map_err(|_| 0u16)?;
    let response: web_sys::Response = answer.dyn_into().map_err(|_| 0u16)?;
    if !response.ok() {
        return Err(response.status());
    }
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| 0u16)?).await.map_err(|_| 0u16)?;
    serde_json::from_str(&text.as_string().unwrap_or_default()).map_err(|_| 0u16)
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

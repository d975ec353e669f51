//! This person's camera and microphone.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::pages::call::{CallUi, MediaCheck};

thread_local! {
    /// The local camera/microphone stream, while the room page uses it.
    static LOCAL: RefCell<Option<MediaStream>> = const { RefCell::new(None) };
}

/// The local stream, if the browser gave us one.
pub(crate) fn local_stream() -> Option<MediaStream> {
    LOCAL.with(|l| l.borrow().clone())
}

/// Starts camera and microphone (once) for the preview and the call.
/// Falls back to camera only, then microphone only, and says what is missing.
pub fn start_preview(ui: CallUi) {
    if let Some(stream) = local_stream() {
        report(ui, &stream);
        return;
    }
    ui.media.set(MediaCheck::Checking);
    wasm_bindgen_futures::spawn_local(async move {
        let mut last_error = JsValue::UNDEFINED;
        for (video, audio) in [(true, true), (true, false), (false, true)] {
            match get_user_media(video, audio).await {
                Ok(stream) => {
                    LOCAL.with(|l| *l.borrow_mut() = Some(stream.clone()));
                    report(ui, &stream);
                    ui.streams.update(|n| *n += 1);
                    return;
                }
                Err(e) => last_error = e,
            }
        }
        let name = js_sys::Reflect::get(&last_error, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let why = if name == "NotAllowedError" {
            "Your browser is not letting Huddle use the camera or microphone. Allow them in the address bar, then reload. You can still join to watch and listen."
        } else {
            "No camera or microphone could be started. Check that one is connected and not used by another app. You can still join to watch and listen."
        };
        ui.media.set(MediaCheck::Unavailable(why.into()));
    });
}

fn report(ui: CallUi, stream: &MediaStream) {
    ui.media.set(MediaCheck::Ready {
        camera: stream.get_video_tracks().length() > 0,
        microphone: stream.get_audio_tracks().length() > 0,
    });
}

async fn get_user_media(video: bool, audio: bool) -> Result<MediaStream, JsValue> {
    let devices = web_sys::window().ok_or(JsValue::NULL)?.navigator().media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&JsValue::from_bool(video));
    constraints.set_audio(&JsValue::from_bool(audio));
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    stream.dyn_into::<MediaStream>()
}

/// Shows the local stream in `element` (muted: nobody wants their own echo).
pub fn attach_local(element: &HtmlVideoElement) {
    element.set_muted(true);
    if let Some(stream) = local_stream() {
        show(element, &stream);
    }
}

/// Points `element` at `stream` unless it already shows it (re-setting
/// would restart playback and flicker).
pub(crate) fn show(element: &HtmlVideoElement, stream: &MediaStream) {
    if element.src_object().map(|s| s.id()) != Some(stream.id()) {
        element.set_src_object(Some(stream));
        let _ = element.play();
    }
}

/// Enables or disables the local tracks of one kind ("audio" or "video").
pub(crate) fn set_local_enabled(kind: &str, enabled: bool) {
    if let Some(stream) = local_stream() {
        for track in stream.get_tracks().iter() {
            let track: MediaStreamTrack = track.unchecked_into();
            if track.kind() == kind {
                track.set_enabled(enabled);
            }
        }
    }
}

/// Stops camera and microphone (the camera light goes off).
pub(crate) fn stop_local() {
    if let Some(stream) = LOCAL.with(|l| l.borrow_mut().take()) {
        for track in stream.get_tracks().iter() {
            track.unchecked_into::<MediaStreamTrack>().stop();
        }
    }
}

//! This person's camera and microphone.

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AnalyserNode, AudioContext, HtmlVideoElement, MediaStream, MediaStreamTrack};

use crate::call::ui::{CallUi, Device, DeviceKind, MediaCheck};
use crate::client::js::{call_method, set_sink, text_field, Repeating};

// Careful: `MediaStream::clone` is the DOM's `clone()` (a new stream with
// new tracks that keep the camera on), not `Clone::clone`; these statics
// hold the very stream the browser gave, via `Clone::clone(&stream)`.
thread_local! {
    /// The local camera/microphone stream, while the room page uses it.
    static LOCAL: RefCell<Option<MediaStream>> = const { RefCell::new(None) };
    /// The shared screen, while sharing.
    static SCREEN: RefCell<Option<MediaStream>> = const { RefCell::new(None) };
    /// The microphone level meter, while the microphone runs.
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// Where each choice of device is remembered, in the browser's storage.
fn storage_key(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Camera => "huddle.camera",
        DeviceKind::Microphone => "huddle.microphone",
        DeviceKind::Speaker => "huddle.speaker",
    }
}

fn remembered(kind: DeviceKind) -> Option<String> {
    let storage = web_sys::window()?.local_storage().ok()??;
    storage.get_item(storage_key(kind)).ok().flatten().filter(|id| !id.is_empty())
}

fn remember(kind: DeviceKind, id: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(storage_key(kind), id);
    }
}

/// The shared screen's stream, while sharing.
pub(crate) fn screen_stream() -> Option<MediaStream> {
    SCREEN.with(|s| s.borrow().clone())
}

/// The local stream, if the browser gave us one.
pub(crate) fn local_stream() -> Option<MediaStream> {
    LOCAL.with(|l| l.borrow().clone())
}

/// Starts camera and microphone (once) for the preview and the call: the
/// ones chosen last time if they are still there, else any. Falls back to
/// camera only, then microphone only, and says what is missing. Tracks
/// that start once the person is already in a call (a slow permission
/// prompt) are handed to `in_call` to be sent.
pub(crate) fn start_preview(ui: CallUi, in_call: fn(&MediaStreamTrack)) {
    if let Some(stream) = local_stream() {
        report(ui, &stream);
        return;
    }
    ui.media.set(MediaCheck::Checking);
    wasm_bindgen_futures::spawn_local(async move {
        // The page's own script may have started the camera already.
        if let Some(stream) = early_preview().await {
            return adopt(ui, stream, in_call).await;
        }
        let mut last_error = JsValue::UNDEFINED;
        let chosen = (Some(remembered(DeviceKind::Camera)), Some(remembered(DeviceKind::Microphone)), true);
        let any = |video: bool, audio: bool| (video.then_some(None), audio.then_some(None), false);
        let has_choice = matches!(chosen, (Some(Some(_)), _, _) | (_, Some(Some(_)), _));
        let attempts = has_choice.then_some(chosen).into_iter().chain([any(true, true), any(true, false), any(false, true)]);
        for (video, audio, exact) in attempts {
            match get_user_media(video, audio, exact).await {
                Ok(stream) => return adopt(ui, stream, in_call).await,
                Err(e) => last_error = e,
            }
        }
        let why = if text_field(&last_error, "name").as_deref() == Some("NotAllowedError") {
            crate::i18n::Text::PrejoinMediaBlocked
        } else {
            crate::i18n::Text::PrejoinMediaFailed
        };
        ui.media.set(MediaCheck::Unavailable(why));
        refresh_devices(ui).await;
    });
}

/// Lists the devices the browser offers and which of them are in use.
async fn refresh_devices(ui: CallUi) {
    let Some(Ok(devices)) = web_sys::window().map(|w| w.navigator().media_devices()) else { return };
    let Ok(promise) = devices.enumerate_devices() else { return };
    let Ok(list) = JsFuture::from(promise).await else { return };
    let mut found = Vec::new();
    for info in js_sys::Array::from(&list).iter() {
        let text = |field: &str| text_field(&info, field).unwrap_or_default();
        let kind = match text("kind").as_str() {
            "videoinput" => DeviceKind::Camera,
            "audioinput" => DeviceKind::Microphone,
            "audiooutput" => DeviceKind::Speaker,
            _ => continue,
        };
        let id = text("deviceId");
        if id.is_empty() {
            continue; // no permission yet: the browser hides them
        }
        let label = text("label");
        let n = found.iter().filter(|d: &&Device| d.kind == kind).count() + 1;
        let unnamed = match kind {
            DeviceKind::Camera => crate::i18n::Text::DevicesUnnamedCamera,
            DeviceKind::Microphone => crate::i18n::Text::DevicesUnnamedMicrophone,
            DeviceKind::Speaker => crate::i18n::Text::DevicesUnnamedSpeaker,
        };
        let label = if label.is_empty() { crate::i18n::t_with(unnamed, &[("number", &n.to_string())]) } else { label };
        found.push(Device { kind, id, label });
    }
    if let Some(stream) = local_stream() {
        for track in stream.get_tracks().iter() {
            let track: MediaStreamTrack = track.unchecked_into();
            let chosen = if track.kind() == "audio" { ui.microphone_id } else { ui.camera_id };
            if let Some(id) = track_device(&track) {
                chosen.set(id);
            }
        }
    }
    if let Some(id) = remembered(DeviceKind::Speaker).filter(|id| found.iter().any(|d| &d.id == id)) {
        ui.speaker_id.set(id);
    }
    let element = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("HTMLMediaElement")).ok();
    let prototype = element.and_then(|e| js_sys::Reflect::get(&e, &JsValue::from_str("prototype")).ok());
    let sink = prototype.is_some_and(|p| js_sys::Reflect::has(&p, &JsValue::from_str("setSinkId")).unwrap_or(false));
    ui.speaker_choice.set(sink && found.iter().any(|d| d.kind == DeviceKind::Speaker));
    ui.devices.set(found);
}

/// Which device a track comes from.
fn track_device(track: &MediaStreamTrack) -> Option<String> {
    text_field(&call_method(track, "getSettings", &[])?, "deviceId")
}

/// Uses device `id` for `kind` from now on, and remembers it; a new camera
/// or microphone track is handed to `in_call` to send instead of the old.
pub(crate) fn choose_device(ui: CallUi, kind: DeviceKind, id: String, in_call: fn(&MediaStreamTrack)) {
    remember(kind, &id);
    resume_audio();
    if kind == DeviceKind::Speaker {
        ui.speaker_id.set(id);
        return;
    }
    spawn_local(async move {
        let video = kind == DeviceKind::Camera;
        let got = get_user_media(video.then(|| Some(id.clone())), (!video).then(|| Some(id.clone())), true).await;
        let fresh = got.ok().and_then(|s| s.get_tracks().get(0).dyn_into::<MediaStreamTrack>().ok());
        let Some(track) = fresh else {
            ui.notice.set(Some(crate::i18n::t(crate::i18n::Text::CallDeviceFailed).into()));
            return;
        };
        let on = if video { ui.camera_on.get_untracked() } else { ui.microphone_on.get_untracked() };
        track.set_enabled(on);
        let stream = match local_stream() {
            Some(stream) => stream,
            None => match MediaStream::new() {
                Ok(stream) => stream,
                Err(_) => return,
            },
        };
        for old in stream.get_tracks().iter() {
            let old: MediaStreamTrack = old.unchecked_into();
            if old.kind() == track.kind() {
                stream.remove_track(&old);
                old.stop();
            }
        }
        stream.add_track(&track);
        LOCAL.with(|l| *l.borrow_mut() = Some(Clone::clone(&stream)));
        report(ui, &stream);
        if !video {
            start_meter(ui, &stream);
        }
        in_call(&track);
        ui.streams.update(|n| *n += 1);
    });
}

/// Reads the microphone's level ten times a second into `ui.mic_level`.
struct Meter {
    context: AudioContext,
    _reading: Repeating,
}

impl Drop for Meter {
    fn drop(&mut self) {
        let _ = self.context.close();
    }
}

fn start_meter(ui: CallUi, stream: &MediaStream) {
    METER.with(|m| m.borrow_mut().take());
    if stream.get_audio_tracks().length() == 0 {
        return;
    }
    let Ok(context) = AudioContext::new() else { return };
    let Ok(source) = context.create_media_stream_source(stream) else { return };
    let Ok(analyser) = context.create_analyser() else { return };
    analyser.set_fft_size(512);
    if source.connect_with_audio_node(&analyser).is_err() {
        return;
    }
    let Some(reading) = Repeating::every(100, move || {
        let _ = ui.mic_level.try_set(level(&analyser));
    }) else {
        return;
    };
    METER.with(|m| *m.borrow_mut() = Some(Meter { context, _reading: reading }));
    let Some(window) = web_sys::window() else { return };
    // A page nobody has clicked yet may not run audio: the meter starts
    // with the first click or key press anywhere.
    for event in ["pointerdown", "keydown"] {
        let resume = Closure::once_into_js(resume_audio);
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(event, resume.unchecked_ref(), &options);
    }
}

/// The loudness now, 0 to 100, from the waveform's root mean square.
fn level(analyser: &AnalyserNode) -> u8 {
    let mut samples = vec![0u8; analyser.fft_size() as usize];
    analyser.get_byte_time_domain_data(&mut samples);
    let sum: f32 = samples.iter().map(|&s| ((s as f32 - 128.0) / 128.0).powi(2)).sum();
    let rms = (sum / samples.len().max(1) as f32).sqrt();
    (rms * 300.0).min(100.0) as u8
}

/// Browsers start audio only after a click or key press: called from those.
fn resume_audio() {
    METER.with(|m| {
        if let Some(meter) = m.borrow().as_ref() {
            let _ = meter.context.resume();
        }
    });
}

/// A short two-note chime on the chosen speaker.
pub fn play_test_sound(ui: CallUi) {
    resume_audio();
    play_notes(&ui.speaker_id.get_untracked(), [660.0, 880.0]);
}

/// Two short notes, 0.35 s apart, on `speaker` (the default when empty).
pub(crate) fn play_notes(speaker: &str, notes: [f32; 2]) {
    let Ok(context) = AudioContext::new() else { return };
    set_sink(&context, speaker);
    let start = context.current_time();
    for (i, frequency) in notes.into_iter().enumerate() {
        let (Ok(tone), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else { return };
        tone.frequency().set_value(frequency);
        let at = start + i as f64 * 0.35;
        let _ = gain.gain().set_value_at_time(0.0, at);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.3, at + 0.03);
        let _ = gain.gain().linear_ramp_to_value_at_time(0.0, at + 0.3);
        let _ = tone.connect_with_audio_node(&gain).and_then(|_| gain.connect_with_audio_node(&context.destination()));
        let _ = tone.start_with_when(at).and_then(|_| tone.stop_with_when(at + 0.32));
    }
    let done = Closure::once_into_js(move || {
        let _ = context.close();
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(done.unchecked_ref(), 1500);
    }
}

/// Asks the browser for a screen, window or tab to share, with its sound
/// where the browser offers it.
/// The browser can share a screen (phones' browsers cannot).
pub(crate) fn can_share_screen() -> bool {
    let devices = web_sys::window().and_then(|w| w.navigator().media_devices().ok());
    devices.is_some_and(|d| js_sys::Reflect::has(&d, &JsValue::from_str("getDisplayMedia")).unwrap_or(false))
}

pub(crate) async fn start_screen() -> Result<MediaStream, JsValue> {
    let devices = web_sys::window().ok_or(JsValue::NULL)?.navigator().media_devices()?;
    let constraints = js_sys::Object::new();
    js_sys::Reflect::set(&constraints, &JsValue::from_str("video"), &JsValue::TRUE)?;
    js_sys::Reflect::set(&constraints, &JsValue::from_str("audio"), &JsValue::TRUE)?;
    let get: js_sys::Function = js_sys::Reflect::get(&devices, &JsValue::from_str("getDisplayMedia"))?.dyn_into()?;
    let stream: MediaStream = JsFuture::from(get.call1(&devices, &constraints)?.dyn_into::<js_sys::Promise>()?).await?.dyn_into()?;
    SCREEN.with(|s| *s.borrow_mut() = Some(Clone::clone(&stream)));
    Ok(stream)
}

/// Stops sharing the screen; the stream that was shared, if any.
pub(crate) fn stop_screen() -> Option<MediaStream> {
    let stream = SCREEN.with(|s| s.borrow_mut().take())?;
    for track in stream.get_tracks().iter() {
        let track: MediaStreamTrack = track.unchecked_into();
        track.set_onended(None);
        track.stop();
    }
    Some(stream)
}

/// Makes `stream` the local one: the preview's and the call's.
async fn adopt(ui: CallUi, stream: MediaStream, in_call: fn(&MediaStreamTrack)) {
    LOCAL.with(|l| *l.borrow_mut() = Some(Clone::clone(&stream)));
    // Switched off on the preview before they started: off.
    set_local_enabled("audio", ui.microphone_on.get_untracked());
    set_local_enabled("video", ui.camera_on.get_untracked());
    report(ui, &stream);
    ui.streams.update(|n| *n += 1);
    start_meter(ui, &stream);
    for track in stream.get_tracks().iter() {
        in_call(track.unchecked_ref());
    }
    refresh_devices(ui).await;
}

/// The stream the page's early script started (`pages/early_preview.js`),
/// taken once; `None` if it did not start one, failed or was stopped.
async fn early_preview() -> Option<MediaStream> {
    let window: JsValue = web_sys::window()?.into();
    let key = JsValue::from_str("__huddlePreview");
    let promise = js_sys::Reflect::get(&window, &key).ok()?.dyn_into::<js_sys::Promise>().ok()?;
    let _ = js_sys::Reflect::delete_property(window.unchecked_ref::<js_sys::Object>(), &key);
    let stream = JsFuture::from(promise).await.ok()?.dyn_into::<MediaStream>().ok()?;
    stream.active().then_some(stream)
}

fn report(ui: CallUi, stream: &MediaStream) {
    ui.media.set(MediaCheck::Ready { camera: stream.get_video_tracks().length() > 0, microphone: stream.get_audio_tracks().length() > 0 });
}

/// Camera and microphone, each not at all (`None`), any (`Some(None)`) or
/// the given device (preferably, or `exact`ly).
async fn get_user_media(video: Option<Option<String>>, audio: Option<Option<String>>, exact: bool) -> Result<MediaStream, JsValue> {
    let devices = web_sys::window().ok_or(JsValue::NULL)?.navigator().media_devices()?;
    let constraints = web_sys::MediaStreamConstraints::new();
    let want = |choice: Option<Option<String>>| -> Result<JsValue, JsValue> {
        Ok(match choice {
            None => JsValue::FALSE,
            Some(None) => JsValue::TRUE,
            Some(Some(id)) => {
                let device = js_sys::Object::new();
                js_sys::Reflect::set(&device, &JsValue::from_str(if exact { "exact" } else { "ideal" }), &JsValue::from_str(&id))?;
                let wanted = js_sys::Object::new();
                js_sys::Reflect::set(&wanted, &JsValue::from_str("deviceId"), &device)?;
                wanted.into()
            }
        })
    };
    constraints.set_video(&want(video)?);
    constraints.set_audio(&want(audio)?);
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
        play(element);
    }
}

/// Empties `element` unless it is empty already (each emptying is a new
/// load, which cuts short a play() still under way).
pub(crate) fn show_nothing(element: &HtmlVideoElement) {
    if element.src_object().is_some() {
        element.set_src_object(None);
    }
}

/// Starts `element` playing. A play() cut short by a new stream (the
/// gallery moved on before the picture came) is expected, not an error
/// for the console.
fn play(element: &HtmlVideoElement) {
    if let Ok(playing) = element.play() {
        spawn_local(async move {
            let _ = JsFuture::from(playing).await;
        });
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

/// Stops camera and microphone (the camera light goes off), the level
/// meter and any screen sharing.
pub(crate) fn stop_local() {
    METER.with(|m| m.borrow_mut().take());
    stop_screen();
    if let Some(stream) = LOCAL.with(|l| l.borrow_mut().take()) {
        for track in stream.get_tracks().iter() {
            track.unchecked_into::<MediaStreamTrack>().stop();
        }
    }
}

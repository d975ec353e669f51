//! A call through the media server (the `bundle-sfu` bundle): one
//! `RTCPeerConnection` to the server, which this browser offers once and
//! the server answers. The offer carries what this browser sends (the
//! microphone; the camera in three simulcast layers; a screen and its
//! sound, with no track until shared) and a fixed set of receive slots.
//! Which person a slot carries comes over signaling (`sfu_slots`), so
//! nothing is renegotiated when someone joins or leaves; switching devices,
//! muting or sharing a screen only replaces a sender's track.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    HtmlMediaElement, MediaStream, MediaStreamTrack, RtcPeerConnection, RtcPeerConnectionState, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::state::*;
use crate::call::protocol::{ClientMessage, MediaSource, ParticipantId, SlotFeed, VideoWant};
use crate::call::ui::{tiles_fit, GALLERY_PAGE, GALLERY_PAGE_PLAIN};
use crate::client::js::{call_method, set_sink, text_field};
use crate::client::media::{local_stream, screen_stream};
use crate::client::rtc::restart_ice;

/// Voices this browser receives at once (the loudest three).
const AUDIO_SLOTS: usize = 3;
/// The codecs the media server speaks: VP8 and its retransmissions, Opus
/// and RED. An offer naming only these is a third of one naming all.
const SERVER_CODECS: [&str; 4] = ["video/vp8", "video/rtx", "audio/opus", "audio/red"];
/// The camera's simulcast layers, lowest first, how much each scales the
/// picture down, and the most bits per second each may take if not
/// Chromium's choice: the lowest at 100 kbit/s (Chromium gives a 120p layer
/// up to about 140), what a pupil on a weak link gets, with the voice.
const LAYERS: [(&str, f64, Option<u32>); 3] = [("q", 4.0, Some(100_000)), ("h", 2.0, None), ("f", 1.0, None)];
/// The microphone's most bits per second.
const VOICE_MAX_BITRATE: u32 = 24_000;

impl Drop for MediaLink {
    fn drop(&mut self) {
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
        for voice in self.voices.borrow().values() {
            voice.remove();
        }
    }
}

impl MediaLink {
    /// Sends or stops sending the microphone and the camera (no track: no
    /// bytes leave the browser), without renegotiating.
    pub(super) fn apply(&self, microphone: bool, camera: bool) {
        let stream = local_stream();
        let first = |tracks: Option<js_sys::Array>| tracks.and_then(|t| t.get(0).dyn_into::<MediaStreamTrack>().ok());
        let audio = first(stream.as_ref().map(MediaStream::get_audio_tracks)).filter(|_| microphone);
        let video = first(stream.as_ref().map(MediaStream::get_video_tracks)).filter(|_| camera);
        let _ = self.senders[0].replace_track(audio.as_ref());
        let _ = self.senders[1].replace_track(video.as_ref());
    }

    /// Sends `screen`'s picture and sound, or stops (`None`).
    pub(super) fn share(&self, screen: Option<&MediaStream>) {
        let first = |tracks: js_sys::Array| tracks.get(0).dyn_into::<MediaStreamTrack>().ok();
        let video = screen.and_then(|s| first(s.get_video_tracks()));
        let audio = screen.and_then(|s| first(s.get_audio_tracks()));
        let _ = self.senders[2].replace_track(video.as_ref());
        let _ = self.senders[3].replace_track(audio.as_ref());
    }

    /// Sends the layers of the camera the server says someone watches.
    pub(super) fn set_layers(&self, active: &[String]) {
        let sender = &self.senders[1];
        let Some(parameters) = call_method(sender, "getParameters", &[]) else { return };
        let Ok(encodings) = js_sys::Reflect::get(&parameters, &"encodings".into()) else { return };
        let encodings: js_sys::Array = encodings.unchecked_into();
        for encoding in encodings.iter() {
            let rid = js_sys::Reflect::get(&encoding, &"rid".into()).ok().and_then(|r| r.as_string()).unwrap_or_default();
            let _ = js_sys::Reflect::set(&encoding, &"active".into(), &active.contains(&rid).into());
        }
        if let Some(done) = call_method(sender, "setParameters", &[parameters]) {
            spawn_local(async move {
                if let Err(e) = JsFuture::from(js_sys::Promise::from(done)).await {
                    warn!("could not change the camera's layers: {e:?}");
                }
            });
        }
    }

    /// What each slot carries now, as the server says.
    pub(super) fn assign(&self, call: &Call, video: Vec<SlotFeed>, audio: Vec<SlotFeed>) {
        *self.slots.borrow_mut() = video.into_iter().chain(audio).collect();
        self.refresh(call);
    }

    /// The others' streams as the tiles take them (a camera's, a screen's)
    /// and the voices playing, from the slots and the tracks that arrived.
    fn refresh(&self, call: &Call) {
        let speaker = call.ui.speaker_id.get_untracked();
        let streams = self.streams.borrow();
        let slots = self.slots.borrow();
        let (video, audio): (Vec<&SlotFeed>, Vec<&SlotFeed>) =
            slots.iter().partition(|s| s.source.is_none_or(MediaSource::is_video) && !self.is_audio(&s.mid));
        let mut remote: HashMap<ParticipantId, Vec<MediaStream>> = HashMap::new();
        let mut screens = HashMap::new();
        for slot in video {
            let (Some(id), Some(stream)) = (slot.id, streams.get(&slot.mid)) else { continue };
            if slot.source == Some(MediaSource::Screen) {
                screens.insert(id, stream.clone());
            } else {
                remote.entry(id).or_default().push(stream.clone());
            }
        }
        *call.remote.borrow_mut() = remote;
        *self.screens.borrow_mut() = screens;
        let mut voices = self.voices.borrow_mut();
        for slot in audio {
            let Some(stream) = streams.get(&slot.mid) else { continue };
            let element = voices.entry(slot.mid.clone()).or_insert_with(|| voice_element(stream));
            element.set_muted(slot.id.is_none());
            set_sink(element, &speaker);
        }
        call.ui.streams.try_update(|n| *n += 1);
    }

    /// Whether receive slot `mid` is one of the audio ones.
    fn is_audio(&self, mid: &str) -> bool {
        self.streams.borrow().get(mid).is_some_and(|s| s.get_audio_tracks().length() > 0)
    }

    /// Whether participant `id`'s screen is among what this page receives.
    pub(super) fn screen_of(&self, id: ParticipantId) -> Option<MediaStream> {
        self.screens.borrow().get(&id).cloned()
    }

    /// After a signaling outage or a failed connection: a new ICE round over
    /// the same connection, offered again.
    pub(super) fn recover(&self) {
        if matches!(self.pc.connection_state(), RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected) {
            restart_ice(&self.pc);
        }
    }
}

/// Tells the media server which pictures this page shows (`true`: large)
/// and whose screen, so it sends those alone, each at the size it needs;
/// `small` is a small tile's height in CSS pixels where the page knows it
/// (a gallery of 25 needs the smallest layer, not half the window).
pub fn show_pictures(pictures: &[(ParticipantId, bool)], small: Option<u32>, screen: Option<ParticipantId>) {
    let Some(call) = current() else { return };
    let Some(window) = web_sys::window() else { return };
    // Device pixels: the large picture takes most of the window's height.
    let ratio = window.device_pixel_ratio().clamp(1.0, 2.0);
    let tall = window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(720.0).min(720.0) * ratio;
    let small = small.map_or(tall / 2.0, |h| f64::from(h) * ratio);
    let height = |large: bool| (if large { tall } else { small }) as u32;
    let mut want: Vec<VideoWant> = screen.map(|id| VideoWant { id, source: MediaSource::Screen, height: height(true) }).into_iter().collect();
    want.extend(pictures.iter().map(|&(id, large)| VideoWant { id, source: MediaSource::Camera, height: height(large) }));
    call.send(&ClientMessage::SfuView { want });
}

/// Picture slots to offer: what the largest window this screen allows
/// fits ([`tiles_fit`], either way up), from 25 to
/// [`GALLERY_PAGE`]. Each slot costs a link its share of the server's
/// reports, which a weak one feels (a pupil at 150 kbit/s kept 8 pictures
/// a second with 25 slots, 1 with 49), so only a screen that shows more
/// asks for more.
fn slots_for_screen() -> usize {
    let screen = web_sys::window().and_then(|w| js_sys::Reflect::get(&w, &"screen".into()).ok());
    let size = |name: &str| screen.as_ref().and_then(|s| js_sys::Reflect::get(s, &name.into()).ok()).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let (width, height) = (size("width"), size("height"));
    tiles_fit(width, height).max(tiles_fit(height, width)).clamp(GALLERY_PAGE_PLAIN, GALLERY_PAGE)
}

/// Of the codecs this browser receives of `kind` ("video" or "audio"),
/// those the media server speaks (`None` where it cannot tell).
fn server_codecs(kind: &str) -> Option<js_sys::Array> {
    let receiver = js_sys::Reflect::get(&js_sys::global(), &"RTCRtpReceiver".into()).ok()?;
    let capabilities = call_method(&receiver, "getCapabilities", &[kind.into()])?;
    let codecs: js_sys::Array = js_sys::Reflect::get(&capabilities, &"codecs".into()).ok()?.dyn_into().ok()?;
    let spoken = |codec: &JsValue| text_field(codec, "mimeType").is_some_and(|m| SERVER_CODECS.contains(&m.to_ascii_lowercase().as_str()));
    Some(codecs.iter().filter(spoken).collect())
}

/// A hidden element playing one audio slot.
fn voice_element(stream: &MediaStream) -> HtmlMediaElement {
    let document = web_sys::window().and_then(|w| w.document()).expect("a page");
    let element: HtmlMediaElement = document.create_element("audio").expect("an audio element").unchecked_into();
    element.set_autoplay(true);
    element.set_src_object(Some(stream));
    if let Some(body) = document.body() {
        let _ = body.append_child(&element);
    }
    element
}

impl Call {
    /// Connects to the media server: the one peer connection, offered.
    pub(super) fn connect_media(self: &Rc<Self>) {
        self.media_link.borrow_mut().take();
        let pc = match RtcPeerConnection::new_with_configuration(&self.rtc_configuration()) {
            Ok(pc) => pc,
            Err(e) => return warn!("could not make the media connection: {e:?}"),
        };
        let send_only = || {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Sendonly);
            init
        };
        // A voice at 24 kbit/s (Opus's speech sweet spot, below Chromium's
        // 32): sent with RED (each packet also carries the one before), it
        // still leaves a pupil on a 150 kbit/s link room for a picture.
        let microphone_init = send_only();
        let voice = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&voice, &"maxBitrate".into(), &VOICE_MAX_BITRATE.into());
        let _ = js_sys::Reflect::set(&microphone_init, &"sendEncodings".into(), &js_sys::Array::of1(&voice));
        let microphone = pc.add_transceiver_with_str_and_init("audio", &microphone_init);
        let camera_init = send_only();
        let encodings = js_sys::Array::new();
        for (rid, scale, max_bitrate) in LAYERS {
            let encoding = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&encoding, &"rid".into(), &rid.into());
            let _ = js_sys::Reflect::set(&encoding, &"scaleResolutionDownBy".into(), &scale.into());
            // Three temporal layers: the server can forward a quarter or
            // half of the pictures to a link too weak for them all.
            let _ = js_sys::Reflect::set(&encoding, &"scalabilityMode".into(), &"L1T3".into());
            if let Some(max_bitrate) = max_bitrate {
                let _ = js_sys::Reflect::set(&encoding, &"maxBitrate".into(), &max_bitrate.into());
            }
            encodings.push(&encoding);
        }
        let _ = js_sys::Reflect::set(&camera_init, &"sendEncodings".into(), &encodings);
        let camera = pc.add_transceiver_with_str_and_init("video", &camera_init);
        let screen = pc.add_transceiver_with_str_and_init("video", &send_only());
        let screen_audio = pc.add_transceiver_with_str_and_init("audio", &send_only());
        // Every line names the server's codecs alone, where the browser
        // can say so; then it receives a page of the largest gallery (a
        // browser that cannot offers fewer slots, each listing every codec).
        let codecs = |kind: &str| server_codecs(kind).unwrap_or_default();
        let (video, audio) = (codecs("video"), codecs("audio"));
        let narrow = |transceiver: &RtcRtpTransceiver, codecs: &js_sys::Array| {
            codecs.length() > 0 && call_method(transceiver.as_ref(), "setCodecPreferences", &[codecs.into()]).is_some()
        };
        let narrowed = [(&microphone, &audio), (&camera, &video), (&screen, &video), (&screen_audio, &audio)]
            .into_iter()
            .fold(true, |all, (transceiver, codecs)| narrow(transceiver, codecs) && all);
        let slots = if narrowed { slots_for_screen() } else { GALLERY_PAGE_PLAIN };
        self.ui.picture_slots.set(slots);
        let receive = RtcRtpTransceiverInit::new();
        receive.set_direction(RtcRtpTransceiverDirection::Recvonly);
        for (kind, n, codecs) in [("video", slots, &video), ("audio", AUDIO_SLOTS, &audio)] {
            for _ in 0..n {
                let transceiver = pc.add_transceiver_with_str_and_init(kind, &receive);
                if narrowed {
                    narrow(&transceiver, codecs);
                }
            }
        }

        let weak = Rc::downgrade(self);
        let on_track = Handler::new(move |event: JsValue| {
            let event: RtcTrackEvent = event.unchecked_into();
            let (Some(call), Some(mid)) = (weak.upgrade(), event.transceiver().mid()) else { return };
            let Some(link) = call.media_link.borrow().clone() else { return };
            let Ok(stream) = MediaStream::new() else { return };
            stream.add_track(&event.track());
            link.streams.borrow_mut().insert(mid, stream);
            // The server may have named the slot before its track arrived.
            link.refresh(&call);
        });
        let weak = Rc::downgrade(self);
        let on_state = Handler::new(move |_| {
            let Some(call) = weak.upgrade() else { return };
            let Some(link) = call.media_link.borrow().clone() else { return };
            let state = link.pc.connection_state();
            let me = call.me.get().unwrap_or(ParticipantId(0));
            let broken = matches!(state, RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected);
            call.ui.reconnecting.try_update(|all| {
                all.retain(|p| *p != me);
                if broken {
                    all.push(me);
                }
            });
            if state == RtcPeerConnectionState::Failed {
                call.offer_media(true);
            }
        });
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        let link = Rc::new(MediaLink {
            pc,
            senders: [microphone.sender(), camera.sender(), screen.sender(), screen_audio.sender()],
            streams: RefCell::new(HashMap::new()),
            slots: RefCell::new(Vec::new()),
            screens: RefCell::new(HashMap::new()),
            voices: RefCell::new(HashMap::new()),
            last: RefCell::new(HashMap::new()),
            _handlers: vec![on_track, on_state],
        });
        link.apply(self.ui.microphone_on.get_untracked(), self.ui.camera_on.get_untracked());
        link.share(screen_stream().as_ref());
        *self.media_link.borrow_mut() = Some(link);
        self.offer_media(false);
    }

    /// Offers the media connection to the server (again, with new ICE
    /// credentials, when `restart`).
    pub(super) fn offer_media(self: &Rc<Self>, restart: bool) {
        let Some(link) = self.media_link.borrow().clone() else { return };
        let call = self.clone();
        spawn_local(async move {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"iceRestart".into(), &restart.into());
            let Some(made) = call_method(&link.pc, "createOffer", &[options.into()]) else { return };
            let offer = match JsFuture::from(js_sys::Promise::from(made)).await {
                Ok(offer) => offer.unchecked_into::<RtcSessionDescriptionInit>(),
                Err(e) => return warn!("could not make the media offer: {e:?}"),
            };
            if let Err(e) = JsFuture::from(link.pc.set_local_description(&offer)).await {
                return warn!("could not apply the media offer: {e:?}");
            }
            let Some(local) = link.pc.local_description() else { return };
            let mut sources = BTreeMap::new();
            let labels = [MediaSource::Microphone, MediaSource::Camera, MediaSource::Screen, MediaSource::ScreenAudio];
            let transceivers = link.pc.get_transceivers();
            for (i, source) in labels.into_iter().enumerate() {
                let transceiver: web_sys::RtcRtpTransceiver = transceivers.get(i as u32).unchecked_into();
                if let Some(mid) = transceiver.mid() {
                    sources.insert(mid, source);
                }
            }
            call.send(&ClientMessage::SfuOffer { sdp: local.sdp(), sources });
        });
    }

    /// The server's answer to the media offer.
    pub(super) fn media_answer(self: &Rc<Self>, sdp: String) {
        let Some(link) = self.media_link.borrow().clone() else { return };
        spawn_local(async move {
            let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            answer.set_sdp(&sdp);
            if let Err(e) = JsFuture::from(link.pc.set_remote_description(&answer)).await {
                warn!("could not apply the media server's answer: {e:?}");
            }
        });
    }
}

//! What is sent, and what arrived, on the call's connections: the
//! microphone and camera switches, a shared screen, a new device; the
//! others' streams into tiles. Both bundles share it: a mesh call acts on
//! its one `RTCPeerConnection` per other participant (made in
//! `negotiation`), a call through the media server on its one connection
//! (`sfu`).
//!
//! The mesh's connections use perfect negotiation: both sides may offer at any time. When offers
//! collide, the *impolite* side (lower participant id) ignores the other's
//! offer and the *polite* side rolls its own back and answers. So
//! simultaneous joins or renegotiations never deadlock. Incoming signaling
//! messages are handled strictly one after another, in arrival order.

use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    HtmlVideoElement, MediaStream, MediaStreamTrack, RtcConfiguration, RtcPeerConnectionState, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState,
};

use super::state::*;
use crate::call::protocol::ParticipantId;
use crate::call::ui::CallUi;
use crate::client::js::{set_sink, text_field};
use crate::client::media::{local_stream, screen_stream, set_local_enabled, show, show_nothing, start_screen, stop_screen};
use crate::client::rtc::{restart_ice, rtc_configuration};

impl Drop for Peer {
    fn drop(&mut self) {
        self.pc.set_onnegotiationneeded(None);
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.set_onconnectionstatechange(None);
        self.pc.close();
    }
}

impl Peer {
    /// After a signaling outage: an offer still waiting for its answer was
    /// probably lost, so it is withdrawn; a connection that failed or is
    /// failing gets an ICE restart (the renegotiation that follows goes out
    /// through the new socket). A healthy, settled connection is left alone.
    pub(super) async fn recover(&self) {
        let waiting = self.pc.signaling_state() == RtcSignalingState::HaveLocalOffer;
        let broken = matches!(self.pc.connection_state(), RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected);
        if !waiting && !broken {
            return;
        }
        if waiting && !self.making_offer.get() {
            let rollback = RtcSessionDescriptionInit::new(RtcSdpType::Rollback);
            if let Err(e) = JsFuture::from(self.pc.set_local_description(&rollback)).await {
                warn!("could not withdraw an unanswered offer: {e:?}");
            }
        }
        restart_ice(&self.pc);
    }

    /// Starts sending `stream` (a shared screen) as well.
    pub(super) fn add_screen(&self, stream: &MediaStream) {
        let mut senders = self.screen.borrow_mut();
        if !senders.is_empty() {
            return;
        }
        for track in stream.get_tracks().iter() {
            let track: MediaStreamTrack = track.unchecked_into();
            senders.push(self.pc.add_track(&track, stream, &js_sys::Array::new()));
        }
    }

    /// Stops sending the shared screen.
    pub(super) fn remove_screen(&self) {
        for sender in self.screen.borrow_mut().drain(..) {
            self.pc.remove_track(&sender);
        }
    }

    /// Sends or stops sending each kind of media. A switched-off kind is
    /// replaced by no track at all, so nothing of it leaves the browser.
    pub(super) fn apply(&self, microphone: bool, camera: bool) {
        let stream = local_stream();
        let first = |tracks: Option<js_sys::Array>| tracks.and_then(|t| t.get(0).dyn_into::<MediaStreamTrack>().ok());
        let audio_track = first(stream.as_ref().map(MediaStream::get_audio_tracks));
        let video_track = first(stream.as_ref().map(MediaStream::get_video_tracks));
        for (sender, track, on) in [(&self.audio, audio_track, microphone), (&self.video, video_track, camera)] {
            if let Some(sender) = sender.borrow().as_ref() {
                let track = if on { track } else { None };
                let _ = sender.replace_track(track.as_ref());
            }
        }
    }
}

/// Applies the microphone and camera switches to the preview and to
/// everything being sent.
pub fn apply_send_state(ui: CallUi) {
    let microphone = ui.microphone_on.get_untracked();
    let camera = ui.camera_on.get_untracked();
    // Before joining too: the preview shows what will be sent.
    set_local_enabled("audio", microphone);
    set_local_enabled("video", camera);
    let Some(call) = current() else { return };
    for (_, peer) in call.mesh_peers() {
        peer.apply(microphone, camera);
    }
    #[cfg(feature = "bundle-sfu")]
    if let Some(link) = call.media_link.borrow().as_ref() {
        link.apply(microphone, camera);
    }
    call.announce();
}

/// Shares a screen, window or tab the person picks, shown large to the
/// others; stopping from the browser's own bar stops it here too.
pub fn share_screen() {
    let Some(call) = current() else { return };
    spawn_local(async move {
        let stream = match start_screen().await {
            Ok(stream) => stream,
            Err(e) => {
                // NotAllowedError: the person closed the picker. Nothing to say.
                if text_field(&e, "name").as_deref() != Some("NotAllowedError") {
                    call.ui.notice.try_set(Some(crate::i18n::t(crate::i18n::Text::CallScreenFailed).into()));
                }
                return;
            }
        };
        let on_ended = Closure::<dyn FnMut()>::new(stop_sharing);
        for track in stream.get_tracks().iter() {
            track.unchecked_into::<MediaStreamTrack>().set_onended(Some(on_ended.as_ref().unchecked_ref()));
        }
        on_ended.forget(); // one small closure per share; it lives as long as the tracks
        call.ui.sharing.try_set(true);
        // Announced first, so the others know the stream when it arrives.
        call.announce();
        for (_, peer) in call.mesh_peers() {
            peer.add_screen(&stream);
        }
        #[cfg(feature = "bundle-sfu")]
        if let Some(link) = call.media_link.borrow().as_ref() {
            link.share(Some(&stream));
        }
        call.ui.streams.try_update(|n| *n += 1);
    });
}

/// Stops sharing the screen (from the call's button or the browser's bar).
pub fn stop_sharing() {
    stop_screen();
    let Some(call) = current() else { return };
    for (_, peer) in call.mesh_peers() {
        peer.remove_screen();
    }
    #[cfg(feature = "bundle-sfu")]
    if let Some(link) = call.media_link.borrow().as_ref() {
        link.share(None);
    }
    call.ui.sharing.try_set(false);
    call.announce();
}

/// Sends `track` (a newly chosen camera or microphone, or one that started
/// late) on every connection: instead of the one of its kind sent so far,
/// without renegotiating, or as a new track where none was sent yet. Then
/// tells the others what this person sends now.
pub(crate) fn replace_sent(track: &MediaStreamTrack) {
    let Some(call) = current() else { return };
    let (microphone, camera) = (call.ui.microphone_on.get_untracked(), call.ui.camera_on.get_untracked());
    let stream = local_stream();
    for (_, peer) in call.mesh_peers() {
        let mut sender = if track.kind() == "audio" { peer.audio.borrow_mut() } else { peer.video.borrow_mut() };
        match (sender.as_ref(), stream.as_ref()) {
            (Some(_), _) => {}
            // A device that started after the connection was made (a
            // slow permission prompt): sent from now on, which renegotiates.
            (None, Some(stream)) => *sender = Some(peer.pc.add_track(track, stream, &js_sys::Array::new())),
            (None, None) => continue,
        }
        drop(sender);
        peer.apply(microphone, camera);
    }
    #[cfg(feature = "bundle-sfu")]
    if let Some(link) = call.media_link.borrow().as_ref() {
        link.apply(microphone, camera);
    }
    // The others learn at once that this person now sends it.
    call.announce();
}

/// Shows a shared screen in `element`: participant `who`'s, or this
/// person's own (`None`).
pub fn attach_screen(who: Option<ParticipantId>, element: &HtmlVideoElement) {
    let stream = match who {
        None => screen_stream(),
        Some(id) => current().and_then(|call| call.screen_of(id)),
    };
    if let Some(stream) = stream {
        show(element, &stream);
    }
}

/// Shows participant `id`'s camera and plays their sound in `element`,
/// once they arrived, on the chosen speaker.
pub fn attach_remote(id: ParticipantId, element: &HtmlVideoElement) {
    let Some(call) = current() else { return };
    let screen = call.screen_id(id);
    let camera = call
        .remote
        .borrow()
        .get(&id)
        .and_then(|streams| streams.iter().find(|s| screen.as_ref().is_none_or(|screen| screen.as_str() != s.id())).cloned());
    match camera {
        Some(stream) => show(element, &stream),
        // Through the media server a person's picture can stop coming (they
        // left the page of the gallery): their tile must not keep showing
        // the slot, which now carries someone else.
        None => show_nothing(element),
    }
    set_sink(element, &call.ui.speaker_id.get_untracked());
}

impl Call {
    pub(super) fn rtc_configuration(&self) -> RtcConfiguration {
        rtc_configuration(&self.ice_servers.borrow(), self.relay_only.get())
    }
}

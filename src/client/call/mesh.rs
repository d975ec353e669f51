//! The full mesh: one `RTCPeerConnection` per other participant, made and
//! negotiated with the perfect-negotiation pattern, and what is sent on
//! them (camera, microphone, a shared screen).
//!
//! Perfect negotiation: both sides may offer at any time. When offers
//! collide, the *impolite* side (lower participant id) ignores the other's
//! offer and the *polite* side rolls its own back and answers. So
//! simultaneous joins or renegotiations never deadlock. Incoming signaling
//! messages are handled strictly one after another, in arrival order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    HtmlVideoElement, MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState,
    RtcTrackEvent,
};

use super::state::*;
use crate::call::protocol::{ClientMessage, ParticipantId, SignalPayload};
use crate::call::ui::CallUi;
use crate::client::js::{set_sink, text_field};
use crate::client::media::{local_stream, screen_stream, set_local_enabled, show, start_screen, stop_screen};
use crate::client::rtc::{restart_ice, rtc_configuration, set_local_description};

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
    for peer in call.peers.borrow().values() {
        peer.apply(microphone, camera);
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
                    call.ui.notice.try_set(Some("Your screen could not be shared. Try again, or choose a window instead.".into()));
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
        for peer in call.peers.borrow().values() {
            peer.add_screen(&stream);
        }
        call.ui.streams.try_update(|n| *n += 1);
    });
}

/// Stops sharing the screen (from the call's button or the browser's bar).
pub fn stop_sharing() {
    stop_screen();
    let Some(call) = current() else { return };
    for peer in call.peers.borrow().values() {
        peer.remove_screen();
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
    for peer in call.peers.borrow().values() {
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
    if let Some(stream) = camera {
        show(element, &stream);
    }
    set_sink(element, &call.ui.speaker_id.get_untracked());
}

impl Call {
    pub(super) async fn on_signal(self: &Rc<Self>, from: ParticipantId, payload: SignalPayload) {
        let peer = match self.peer(from, false) {
            Ok(peer) => peer,
            Err(e) => return warn!("could not set up a connection: {e:?}"),
        };
        let (kind, sdp) = match payload {
            SignalPayload::Offer { sdp } => (RtcSdpType::Offer, sdp),
            SignalPayload::Answer { sdp } => (RtcSdpType::Answer, sdp),
            SignalPayload::Candidate { candidate, sdp_mid, sdp_m_line_index } => {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                let added = JsFuture::from(peer.pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await;
                if let Err(e) = added {
                    if !peer.ignore_offer.get() {
                        warn!("could not add an ICE candidate: {e:?}");
                    }
                }
                return;
            }
        };
        let is_offer = kind == RtcSdpType::Offer;
        let collision = is_offer && (peer.making_offer.get() || peer.pc.signaling_state() != RtcSignalingState::Stable);
        peer.ignore_offer.set(!peer.polite && collision);
        if peer.ignore_offer.get() {
            return;
        }
        let description = RtcSessionDescriptionInit::new(kind);
        description.set_sdp(&sdp);
        if let Err(e) = JsFuture::from(peer.pc.set_remote_description(&description)).await {
            return warn!("could not apply the remote description: {e:?}");
        }
        if is_offer {
            match set_local_description(&peer.pc).await {
                Ok(()) => {
                    if let Some(answer) = peer.pc.local_description() {
                        self.send(&ClientMessage::Signal { to: from, payload: SignalPayload::Answer { sdp: answer.sdp() } });
                    }
                }
                Err(e) => warn!("could not answer: {e:?}"),
            }
        }
    }

    pub(super) async fn make_offer(self: Rc<Self>, to: ParticipantId) {
        let Some(peer) = self.peers.borrow().get(&to).cloned() else { return };
        peer.making_offer.set(true);
        match set_local_description(&peer.pc).await {
            Ok(()) => {
                if let Some(offer) = peer.pc.local_description().filter(|d| d.type_() == RtcSdpType::Offer) {
                    self.send(&ClientMessage::Signal { to, payload: SignalPayload::Offer { sdp: offer.sdp() } });
                }
            }
            Err(e) => warn!("could not make an offer: {e:?}"),
        }
        peer.making_offer.set(false);
    }

    /// The connection to participant `id`, created on first use. The one who
    /// `initiates` also asks to receive kinds it does not send.
    pub(super) fn peer(self: &Rc<Self>, id: ParticipantId, initiates: bool) -> Result<Rc<Peer>, JsValue> {
        if let Some(peer) = self.peers.borrow().get(&id) {
            return Ok(peer.clone());
        }
        let pc = RtcPeerConnection::new_with_configuration(&self.rtc_configuration())?;
        let (mut audio, mut video) = (None, None);
        if let Some(stream) = local_stream() {
            for track in stream.get_tracks().iter() {
                let track: MediaStreamTrack = track.unchecked_into();
                let sender = pc.add_track(&track, &stream, &js_sys::Array::new());
                if track.kind() == "audio" {
                    audio = Some(sender);
                } else {
                    video = Some(sender);
                }
            }
        }
        if initiates {
            for (kind, sender) in [("audio", &audio), ("video", &video)] {
                if sender.is_none() {
                    let init = RtcRtpTransceiverInit::new();
                    init.set_direction(RtcRtpTransceiverDirection::Recvonly);
                    pc.add_transceiver_with_str_and_init(kind, &init);
                }
            }
        }

        let weak = Rc::downgrade(self);
        let on_negotiation_needed = Handler::new(move |_| {
            if let Some(call) = weak.upgrade() {
                spawn_local(call.make_offer(id));
            }
        });
        let weak = Rc::downgrade(self);
        let on_ice_candidate = Handler::new(move |event: JsValue| {
            let event: RtcPeerConnectionIceEvent = event.unchecked_into();
            let (Some(call), Some(candidate)) = (weak.upgrade(), event.candidate()) else { return };
            if candidate.candidate().is_empty() {
                return;
            }
            call.send(&ClientMessage::Signal {
                to: id,
                payload: SignalPayload::Candidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_m_line_index: candidate.sdp_m_line_index(),
                },
            });
        });
        let weak = Rc::downgrade(self);
        let on_track = Handler::new(move |event: JsValue| {
            let event: RtcTrackEvent = event.unchecked_into();
            let Some(call) = weak.upgrade() else { return };
            let mut remote = call.remote.borrow_mut();
            let streams = remote.entry(id).or_default();
            match event.streams().get(0).dyn_into::<MediaStream>() {
                Ok(stream) => {
                    if !streams.iter().any(|s| s.id() == stream.id()) {
                        streams.push(stream);
                    }
                }
                Err(_) => {
                    let Some(stream) = streams.first().cloned().or_else(|| MediaStream::new().ok()) else { return };
                    stream.add_track(&event.track());
                    if streams.is_empty() {
                        streams.push(stream);
                    }
                }
            }
            drop(remote);
            call.ui.streams.try_update(|n| *n += 1);
        });
        let weak = Rc::downgrade(self);
        let on_state = Handler::new(move |_| {
            let Some(call) = weak.upgrade() else { return };
            let Some(peer) = call.peers.borrow().get(&id).cloned() else { return };
            let state = peer.pc.connection_state();
            let broken = matches!(state, RtcPeerConnectionState::Failed | RtcPeerConnectionState::Disconnected);
            call.ui.reconnecting.try_update(|all| {
                all.retain(|p| *p != id);
                if broken {
                    all.push(id);
                }
            });
            if state == RtcPeerConnectionState::Failed {
                restart_ice(&peer.pc);
            }
        });
        pc.set_onnegotiationneeded(Some(on_negotiation_needed.as_ref().unchecked_ref()));
        pc.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));

        let me = self.me.get().unwrap_or(ParticipantId(0));
        let peer = Rc::new(Peer {
            pc,
            polite: me > id,
            making_offer: Cell::new(false),
            ignore_offer: Cell::new(false),
            audio: RefCell::new(audio),
            video: RefCell::new(video),
            screen: RefCell::new(Vec::new()),
            last: Cell::new(Totals::default()),
            _handlers: vec![on_negotiation_needed, on_ice_candidate, on_track, on_state],
        });
        if let Some(screen) = screen_stream() {
            peer.add_screen(&screen);
        }
        peer.apply(self.ui.microphone_on.get_untracked(), self.ui.camera_on.get_untracked());
        self.peers.borrow_mut().insert(id, peer.clone());
        Ok(peer)
    }

    pub(super) fn rtc_configuration(&self) -> RtcConfiguration {
        rtc_configuration(&self.ice_servers.borrow(), self.relay_only.get())
    }
}

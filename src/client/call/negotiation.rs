//! Browser-to-browser negotiation, one `RTCPeerConnection` per other
//! participant, with the perfect-negotiation pattern (see `mesh`): left out
//! of the media server's bundle, whose one connection is `sfu`'s.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::logging::warn;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, MediaStreamTrack, RtcIceCandidateInit, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

use super::state::*;
use crate::call::protocol::{ClientMessage, ParticipantId, SignalPayload};
use crate::client::media::{local_stream, screen_stream};
use crate::client::rtc::{restart_ice, set_local_description};

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
}

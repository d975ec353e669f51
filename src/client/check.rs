//! The pre-join connection check: does this browser reach Huddle's server
//! (a WebSocket to the signaling endpoint), and does its media get through:
//! to the call's media server (its port answers plain STUN), or else to
//! the network servers that help calls through firewalls (STUN, and the
//! TURN relay's own STUN service, which needs no credentials)?

use std::cell::Cell;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionIceEvent};

use crate::call::protocol::IceServer;
use crate::call::ui::CallUi;
use crate::client::rtc::{open_socket, rtc_configuration, set_local_description};
use crate::i18n::{t, t_with, Text};

/// How long each part of the check may take.
const TIMEOUT_MS: i32 = 6000;

/// Runs both checks, writing each outcome to the view as it comes.
/// `media`: the media server's port, in a call through it.
pub fn check_connection(ui: CallUi, probes: Vec<String>, media: Option<String>) {
    ui.server_check.set(None);
    ui.network_check.set(None);
    spawn_local(async move {
        let started = js_sys::Date::now();
        let reached = reach_server().await;
        ui.server_check.try_set(Some(match reached {
            true => (true, t_with(Text::CheckServerOk, &[("ms", &((js_sys::Date::now() - started) as u64).to_string())])),
            false => (false, t(Text::CheckServerDown).into()),
        }));
        let network = match media {
            Some(ref port) if probe(std::slice::from_ref(port)).await.unwrap_or(false) => (true, Text::CheckMediaOk),
            Some(_) if !probes.is_empty() && probe(&probes).await.unwrap_or(false) => (true, Text::CheckMediaRelay),
            Some(_) => (false, Text::CheckMediaBlocked),
            None if probes.is_empty() => (true, Text::CheckDirect),
            None if probe(&probes).await.unwrap_or(false) => (true, Text::CheckReady),
            None => (false, Text::CheckBlocked),
        };
        ui.network_check.try_set(Some((network.0, t(network.1).into())));
    });
}

/// Opens a signaling WebSocket and closes it again: true if it opened in time.
async fn reach_server() -> bool {
    let Some(socket) = open_socket(None) else { return false };
    let (tx, mut rx) = mpsc::unbounded::<bool>();
    let opened = tx.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        let _ = opened.unbounded_send(true);
    });
    let failed = tx.clone();
    let on_fail = Closure::<dyn FnMut()>::new(move || {
        let _ = failed.unbounded_send(false);
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onerror(Some(on_fail.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_fail.as_ref().unchecked_ref()));
    let timer = after(TIMEOUT_MS, tx, false);
    let outcome = rx.next().await.unwrap_or(false);
    clear(timer);
    socket.set_onopen(None);
    socket.set_onerror(None);
    socket.set_onclose(None);
    let _ = socket.close();
    outcome
}

/// Gathers ICE candidates with the `probes` as STUN servers: true if one
/// gave a public address, or gathering ended in time with no server error.
async fn probe(probes: &[String]) -> Result<bool, JsValue> {
    let servers: Vec<IceServer> = probes.iter().map(|url| IceServer { urls: vec![url.clone()], username: None, credential: None }).collect();
    let pc = RtcPeerConnection::new_with_configuration(&rtc_configuration(&servers, false))?;
    let _channel = pc.create_data_channel("check");
    // Some(type) for a candidate, None when gathering ended or time ran out.
    let (tx, mut rx) = mpsc::unbounded::<Option<String>>();
    let found = tx.clone();
    let on_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(move |event: RtcPeerConnectionIceEvent| {
        // "candidate:… typ srflx raddr …": the type; None at the end.
        let kind = event
            .candidate()
            .map(|c| c.candidate())
            .filter(|line| !line.is_empty())
            .map(|line| line.split(" typ ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_default().to_string());
        let _ = found.unbounded_send(kind);
    });
    let errors = Rc::new(Cell::new(0u32));
    let counted = errors.clone();
    let on_error = Closure::<dyn FnMut()>::new(move || counted.set(counted.get() + 1));
    pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    js_sys::Reflect::set(&pc, &JsValue::from_str("onicecandidateerror"), on_error.as_ref())?;
    let timer = after(TIMEOUT_MS, tx, None);
    set_local_description(&pc).await?;
    let (mut candidates, mut public) = (0, false);
    while let Some(Some(kind)) = rx.next().await {
        candidates += 1;
        public |= kind == "srflx" || kind == "relay";
    }
    clear(timer);
    let complete = pc.ice_gathering_state() == RtcIceGatheringState::Complete;
    pc.set_onicecandidate(None);
    let _ = js_sys::Reflect::set(&pc, &JsValue::from_str("onicecandidateerror"), &JsValue::NULL);
    pc.close();
    Ok(public || (complete && candidates > 0 && errors.get() == 0))
}

/// Sends `value` on `tx` after `ms`; the timer's handle and callback.
fn after<T: 'static>(ms: i32, tx: mpsc::UnboundedSender<T>, value: T) -> Option<(i32, Closure<dyn FnMut()>)> {
    let mut value = Some(value);
    let fire = Closure::<dyn FnMut()>::new(move || {
        if let Some(value) = value.take() {
            let _ = tx.unbounded_send(value);
        }
    });
    let handle = web_sys::window()?.set_timeout_with_callback_and_timeout_and_arguments_0(fire.as_ref().unchecked_ref(), ms).ok()?;
    Some((handle, fire))
}

fn clear(timer: Option<(i32, Closure<dyn FnMut()>)>) {
    if let (Some((handle, _)), Some(window)) = (timer, web_sys::window()) {
        window.clear_timeout_with_handle(handle);
    }
}

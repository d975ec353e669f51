//! Small WebRTC helpers shared by the call and the pre-join check.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcBundlePolicy, RtcConfiguration, RtcIceServer, RtcIceTransportPolicy, RtcPeerConnection, WebSocket};

use crate::call::protocol::IceServer;
use crate::client::js::call_method;

/// Opens a signaling socket: at `/ws`, wherever the load balancer sends
/// it, or in cluster mode at node `node`'s own path, `/ws/n/{node}`.
pub(crate) fn open_socket(node: Option<&str>) -> Option<WebSocket> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    let path = match node {
        Some(node) => format!("/ws/n/{node}"),
        None => "/ws".to_string(),
    };
    WebSocket::new(&format!("{scheme}://{}{path}", location.host().ok()?)).ok()
}

/// A peer connection's configuration: these ICE servers, and only the
/// relay if `relay_only`. Every media line shares one transport from the
/// start (`max-bundle`): both ends of a Huddle call bundle, and without it
/// the browser gathers for each line until the answer comes, which behind
/// a relay is one TURN allocation per line (sixteen for a class) where one
/// is used.
pub(crate) fn rtc_configuration(ice_servers: &[IceServer], relay_only: bool) -> RtcConfiguration {
    let servers = js_sys::Array::new();
    for server in ice_servers {
        let ice = RtcIceServer::new();
        let urls = js_sys::Array::new();
        for url in &server.urls {
            urls.push(&JsValue::from_str(url));
        }
        ice.set_urls(&urls);
        if let Some(username) = &server.username {
            ice.set_username(username);
        }
        if let Some(credential) = &server.credential {
            ice.set_credential(credential);
        }
        servers.push(&ice);
    }
    let config = RtcConfiguration::new();
    config.set_ice_servers(&servers);
    config.set_bundle_policy(RtcBundlePolicy::MaxBundle);
    if relay_only {
        config.set_ice_transport_policy(RtcIceTransportPolicy::Relay);
    }
    config
}

/// `setLocalDescription()` with no argument: the browser creates the offer or
/// answer that fits the current state, inside its own operations chain, which
/// is what makes perfect negotiation race-free.
pub(crate) async fn set_local_description(pc: &RtcPeerConnection) -> Result<(), JsValue> {
    let method: js_sys::Function = js_sys::Reflect::get(pc, &JsValue::from_str("setLocalDescription"))?.dyn_into()?;
    let promise: js_sys::Promise = method.call0(pc)?.dyn_into()?;
    JsFuture::from(promise).await.map(|_| ())
}

/// A new ICE round over the same connection (new credentials, new
/// candidates), not a new call: `negotiationneeded` follows.
pub(crate) fn restart_ice(pc: &RtcPeerConnection) {
    call_method(pc, "restartIce", &[]);
}

//! Connection figures: each peer connection's `getStats()` once a second,
//! into the view's quality badges and the active speaker.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::state::*;
use crate::call::ui::{Grade, Quality};
use crate::client::js::Repeating;

impl Peer {
    /// Figures for the last interval, from the browser's statistics.
    pub(super) async fn measure(&self) -> Option<Quality> {
        let report = JsFuture::from(self.pc.get_stats()).await.ok()?;
        let field = |stat: &JsValue, name: &str| js_sys::Reflect::get(stat, &JsValue::from_str(name)).ok();
        let number = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let text = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_string()).unwrap_or_default();
        let mut now = Totals { at_ms: js_sys::Date::now(), ..Totals::default() };
        let (mut rtt, mut pair_bytes, mut audio_level) = (None, -1.0, 0.0f64);
        let stats: js_sys::Map = report.unchecked_into();
        stats.for_each(&mut |stat, _| match text(&stat, "type").as_str() {
            "candidate-pair" if text(&stat, "state") == "succeeded" && number(&stat, "bytesReceived") > pair_bytes => {
                pair_bytes = number(&stat, "bytesReceived");
                rtt = field(&stat, "currentRoundTripTime").and_then(|v| v.as_f64());
            }
            "inbound-rtp" => {
                now.bytes += number(&stat, "bytesReceived");
                now.lost += number(&stat, "packetsLost").max(0.0);
                now.received += number(&stat, "packetsReceived");
                now.freezes += number(&stat, "freezeCount");
                audio_level = audio_level.max(number(&stat, "audioLevel"));
            }
            _ => {}
        });
        let before = self.last.replace(now);
        let seconds = ((now.at_ms - before.at_ms) / 1000.0).max(0.001);
        let lost = (now.lost - before.lost).max(0.0);
        let arrived = (now.received - before.received).max(0.0);
        let loss_pct = if lost + arrived > 0.0 { (lost / (lost + arrived) * 100.0) as f32 } else { 0.0 };
        let rtt_ms = rtt.map(|s| (s * 1000.0).round() as u32);
        let froze = before.at_ms > 0.0 && now.freezes > before.freezes;
        Some(Quality {
            grade: Grade::of(rtt_ms, loss_pct, froze),
            rtt_ms,
            loss_pct,
            kbps: ((now.bytes - before.bytes).max(0.0) * 8.0 / 1000.0 / seconds) as u32,
            freezes: now.freezes as u32,
            audio_level: audio_level as f32,
        })
    }
}

impl Call {
    /// Every second, each connection's figures into `ui.quality` (the
    /// indicator and the active speaker read them).
    pub(super) fn start_stats(self: &Rc<Self>) {
        if self.stats.borrow().is_some() {
            return;
        }
        let weak = Rc::downgrade(self);
        *self.stats.borrow_mut() = Repeating::every(1000, move || {
            let Some(call) = weak.upgrade() else { return };
            let peers = call.mesh_peers();
            let ui = call.ui;
            spawn_local(async move {
                for (id, peer) in peers {
                    if let Some(quality) = peer.measure().await {
                        ui.quality.try_update(|all| all.insert(id, quality));
                    }
                }
            });
        });
    }
}

//! Connection figures: `getStats()` once a second, into the view's quality
//! badges (and, in a mesh call, the active speaker).
//!
//! In a mesh call each other person has a connection of their own, and its
//! figures are theirs. Through the media server there is one connection,
//! so a person's figures are those of the receive slots carrying them (how
//! their picture and voice reach this browser) with the round trip to the
//! server. Figures are per interval: running totals are kept per
//! connection, or per slot while it carries the same person.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::RtcPeerConnection;

use super::state::*;
use crate::call::ui::{Grade, Quality};
use crate::client::js::Repeating;

/// One reading of a connection: the round trip of the candidate pair in
/// use (seconds), and each inbound stream's totals with its `mid`.
struct Reading {
    rtt: Option<f64>,
    inbound: Vec<(String, Totals, f64)>,
}

async fn read(pc: &RtcPeerConnection) -> Option<Reading> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let field = |stat: &JsValue, name: &str| js_sys::Reflect::get(stat, &JsValue::from_str(name)).ok();
    let number = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_f64()).unwrap_or(0.0);
    let text = |stat: &JsValue, name: &str| field(stat, name).and_then(|v| v.as_string()).unwrap_or_default();
    let at_ms = js_sys::Date::now();
    let mut reading = Reading { rtt: None, inbound: Vec::new() };
    let mut pair_bytes = -1.0;
    let stats: js_sys::Map = report.unchecked_into();
    stats.for_each(&mut |stat, _| match text(&stat, "type").as_str() {
        "candidate-pair" if text(&stat, "state") == "succeeded" && number(&stat, "bytesReceived") > pair_bytes => {
            pair_bytes = number(&stat, "bytesReceived");
            reading.rtt = field(&stat, "currentRoundTripTime").and_then(|v| v.as_f64());
        }
        "inbound-rtp" => {
            let totals = Totals {
                at_ms,
                bytes: number(&stat, "bytesReceived"),
                lost: number(&stat, "packetsLost").max(0.0),
                received: number(&stat, "packetsReceived"),
                freezes: number(&stat, "freezeCount"),
            };
            reading.inbound.push((text(&stat, "mid"), totals, number(&stat, "audioLevel")));
        }
        _ => {}
    });
    Some(reading)
}

/// The figures between two readings' totals.
fn figures(before: Totals, now: Totals, rtt: Option<f64>, audio_level: f64) -> Quality {
    let seconds = ((now.at_ms - before.at_ms) / 1000.0).max(0.001);
    let lost = (now.lost - before.lost).max(0.0);
    let arrived = (now.received - before.received).max(0.0);
    let loss_pct = if lost + arrived > 0.0 { (lost / (lost + arrived) * 100.0) as f32 } else { 0.0 };
    let rtt_ms = rtt.map(|s| (s * 1000.0).round() as u32);
    let froze = before.at_ms > 0.0 && now.freezes > before.freezes;
    Quality {
        grade: Grade::of(rtt_ms, loss_pct, froze),
        rtt_ms,
        loss_pct,
        kbps: ((now.bytes - before.bytes).max(0.0) * 8.0 / 1000.0 / seconds) as u32,
        freezes: now.freezes as u32,
        audio_level: audio_level as f32,
    }
}

fn add(sum: &mut Totals, more: Totals) {
    sum.at_ms = more.at_ms;
    sum.bytes += more.bytes;
    sum.lost += more.lost;
    sum.received += more.received;
    sum.freezes += more.freezes;
}

#[cfg(not(feature = "bundle-sfu"))]
impl Peer {
    /// This connection's figures for the last interval: everything it
    /// receives is one person's.
    async fn measure(&self) -> Option<Quality> {
        let reading = read(&self.pc).await?;
        let mut now = Totals { at_ms: js_sys::Date::now(), ..Totals::default() };
        let mut audio_level = 0.0f64;
        for (_, totals, level) in reading.inbound {
            add(&mut now, totals);
            audio_level = audio_level.max(level);
        }
        let before = self.last.replace(now);
        Some(figures(before, now, reading.rtt, audio_level))
    }
}

#[cfg(feature = "bundle-sfu")]
impl MediaLink {
    /// Each person's figures for the last interval, from the slots that
    /// carried them at both readings.
    async fn measure(&self) -> Vec<(crate::call::protocol::ParticipantId, Quality)> {
        use std::collections::HashMap;
        let Some(reading) = read(&self.pc).await else { return Vec::new() };
        let holders: HashMap<String, _> = self.slots.borrow().iter().filter_map(|slot| Some((slot.mid.clone(), slot.id?))).collect();
        let mut last = self.last.borrow_mut();
        let mut people: HashMap<_, (Totals, Totals)> = HashMap::new();
        for (mid, totals, _) in reading.inbound {
            let holder = holders.get(&mid).copied();
            match (last.insert(mid, (holder, totals)), holder) {
                (Some((was, before)), Some(id)) if was == holder => {
                    let person = people.entry(id).or_default();
                    add(&mut person.0, before);
                    add(&mut person.1, totals);
                }
                _ => {}
            }
        }
        people.into_iter().map(|(id, (before, now))| (id, figures(before, now, reading.rtt, 0.0))).collect()
    }
}

impl Call {
    /// Every second, the connections' figures into `ui.quality` (the
    /// indicator reads them, and the active speaker in a mesh call).
    pub(super) fn start_stats(self: &Rc<Self>) {
        if self.stats.borrow().is_some() {
            return;
        }
        let weak = Rc::downgrade(self);
        *self.stats.borrow_mut() = Repeating::every(1000, move || {
            let Some(call) = weak.upgrade() else { return };
            let ui = call.ui;
            #[cfg(not(feature = "bundle-sfu"))]
            let peers = call.mesh_peers();
            #[cfg(feature = "bundle-sfu")]
            let link = call.media_link.borrow().clone();
            spawn_local(async move {
                #[cfg(not(feature = "bundle-sfu"))]
                for (id, peer) in peers {
                    if let Some(quality) = peer.measure().await {
                        ui.quality.try_update(|all| all.insert(id, quality));
                    }
                }
                #[cfg(feature = "bundle-sfu")]
                if let Some(link) = link {
                    let figures = link.measure().await;
                    ui.quality.try_update(|all| all.extend(figures));
                }
            });
        });
    }
}

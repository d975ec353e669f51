//! The video tiles: this person's own camera, each other participant's,
//! and the connection-quality badge on them.

use leptos::prelude::*;

use super::actions::{command, ordinal, role_of};
use crate::call::protocol::{ClientMessage, ParticipantId};
use crate::call::ui::{CallUi, Grade};

/// This person's own camera, always muted (no echo of oneself).
#[component]
pub(super) fn LocalVideo(ui: CallUi, class: &'static str, label: &'static str) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    Effect::new(move |_| {
        ui.streams.track();
        #[cfg(feature = "hydrate")]
        if let Some(element) = video.get() {
            crate::client::attach_local(&element);
        }
    });
    view! {
        <video node_ref=video class=class aria-label=label autoplay=true playsinline=true prop:muted=true></video>
    }
}

/// Another participant's video and sound, with their name, what they send,
/// how the connection to them is doing, and (for the host) what may be done.
#[component]
pub(super) fn RemoteTile(ui: CallUi, id: ParticipantId, name: String) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    Effect::new(move |_| {
        ui.streams.track();
        ui.speaker_id.track();
        #[cfg(feature = "hydrate")]
        if let Some(element) = video.get() {
            crate::client::attach_remote(id, &element);
        }
    });
    let place = move || ui.hands.with(|h| h.iter().position(|p| *p == id));
    let hand = move || place().map(|n| format!(" · hand raised ({} in line)", ordinal(n + 1)));
    let sends = move || {
        ui.media_of.with(|all| {
            all.get(&id).map(|m| format!("{}{}", if m.microphone { "" } else { " · muted" }, if m.camera { "" } else { " · camera off" }))
        })
    };
    let label = name.clone();
    let caption = name.clone();
    let pin_label = format!("Pin {name}");
    let pinned = move || ui.pinned.get() == Some(id);
    let controls = move || {
        ui.host.get().then(|| {
            let lower = place()
                .map(|_| command(ui, format!("Lower {label}'s hand"), ClientMessage::LowerHand { id }, format!("You lowered {label}'s hand.")));
            let speak = ui
                .ask_to_speak
                .get()
                .then(|| command(ui, format!("Let {label} speak"), ClientMessage::LetSpeak { id }, format!("{label} may unmute now.")));
            view! {
                {command(ui, format!("Mute {name}"), ClientMessage::Mute { id }, format!("You muted {name}."))}
                {command(ui, format!("Remove {name}"), ClientMessage::Remove { id }, format!("You removed {name} from the call."))}
                {speak}
                {lower}
            }
        })
    };
    view! {
        <figure class="tile remote" class:pinned=pinned class:speaking=move || ui.active_speaker() == Some(id) data-participant=id.to_string()>
            <video node_ref=video aria-label=format!("Video of {caption}") autoplay=true playsinline=true></video>
            <figcaption>{caption.clone()} {sends} {hand} <span class="role">{move || role_of(ui, id)}</span></figcaption>
            {move || ui.reconnecting.with(|r| r.contains(&id)).then(|| view! { <p class="tile-state" role="status">"Reconnecting…"</p> })}
            <div class="tile-controls">
                <QualityBadge ui id/>
                <button type="button" aria-pressed=move || pinned().to_string()
                    on:click=move |_| ui.pinned.update(|p| *p = if *p == Some(id) { None } else { Some(id) })>{pin_label}</button>
                {controls}
            </div>
        </figure>
    }
}

/// "Connection: good", with the figures behind it on demand.
#[component]
pub fn QualityBadge(ui: CallUi, id: ParticipantId) -> impl IntoView {
    let quality = move || ui.quality.with(|all| all.get(&id).cloned().unwrap_or_default());
    let summary = move || format!("Connection: {}", grade_word(quality().grade));
    let grade = move || grade_word(quality().grade);
    let figures = move || {
        let q = quality();
        let rtt = q.rtt_ms.map_or_else(|| "not measured yet".to_string(), |ms| format!("{ms} ms"));
        view! {
            <dl>
                <dt>"Round trip"</dt><dd>{rtt}</dd>
                <dt>"Packets lost"</dt><dd>{format!("{:.1} %", q.loss_pct)}</dd>
                <dt>"Receiving"</dt><dd>{format!("{} kbit/s", q.kbps)}</dd>
                <dt>"Video freezes"</dt><dd>{q.freezes}</dd>
            </dl>
        }
    };
    view! {
        <details class="quality" data-grade=grade>
            <summary>{summary}</summary>
            {figures}
        </details>
    }
    .into_any()
}

/// The grade in words.
pub(super) fn grade_word(grade: Grade) -> &'static str {
    match grade {
        Grade::Unknown => "checking",
        Grade::Good => "good",
        Grade::Fair => "fair",
        Grade::Poor => "poor",
    }
}

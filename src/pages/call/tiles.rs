//! The video tiles: this person's own camera, each other participant's,
//! and the connection-quality badge on them.

use crate::i18n::{t, t_with, Text};
use leptos::prelude::*;

use super::actions::{command, let_speak, role_of};
use super::widgets::{fixed, menu};
use crate::call::protocol::{ClientMessage, MediaState, ParticipantId};
use crate::call::ui::CallUi;
use crate::call::ui::Grade;
use crate::domain::DisplayName;

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
/// how the connection to them is doing, and a menu of what may be done
/// (pin for everyone; mute, remove, let speak, lower hand for the host).
#[component]
pub(super) fn RemoteTile(ui: CallUi, id: ParticipantId, name: DisplayName) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    Effect::new(move |_| {
        ui.streams.track();
        ui.speaker_id.track();
        #[cfg(feature = "hydrate")]
        if let Some(element) = video.get() {
            crate::client::attach_remote(id, &element);
        }
    });
    let initials = name.initials();
    let name = name.to_string();
    let place = move || ui.hands.with(|h| h.iter().position(|p| *p == id));
    let hand = move || {
        place().map(
            |n| view! { {fixed("hand")}<span class="hand-place">" · "{t_with(Text::PeopleHandRaised, &[("place", &(n + 1).to_string())])}</span> },
        )
    };
    // Until they say, they are taken to send what they have.
    let sends = move |kind: fn(&MediaState) -> bool| ui.media_of.with(|all| all.get(&id).is_none_or(kind));
    let muted =
        move || (!sends(|m| m.microphone)).then(|| view! { {fixed("mic-off")}<span class="visually-hidden">" · "{t(Text::PeopleMuted)}</span> });
    let camera_off = move || (!sends(|m| m.camera)).then_some(view! { <span class="visually-hidden">" · "{t(Text::PeopleCameraOff)}</span> });
    let label = name.clone();
    let caption = name.clone();
    let pinned = move || ui.pinned.get() == Some(id);
    let pin_text = (t_with(Text::TilePin, &[("name", &name)]), t_with(Text::TileUnpin, &[("name", &name)]));
    let items = move || {
        let (pin, unpin) = pin_text.clone();
        let host = ui.host.get().then(|| {
            let lower = place()
                .map(|_| command(ui, t_with(Text::TileLowerHand, &[("name", &label)]), ClientMessage::LowerHand { id }, t_with(Text::TileLoweredHand, &[("name", &label)])));
            let speak = ui.ask_to_speak.get().then(|| let_speak(ui, id, &label));
            view! {
                {command(ui, t_with(Text::TileMute, &[("name", &label)]), ClientMessage::Mute { id }, t_with(Text::TileMuted, &[("name", &label)]))}
                {speak}
                {lower}
                {command(ui, t_with(Text::TileRemove, &[("name", &label)]), ClientMessage::Remove { id }, t_with(Text::TileRemoved, &[("name", &label)]))}
            }
        });
        view! {
            <button type="button" aria-pressed=move || pinned().to_string()
                on:click=move |_| ui.pinned.update(|p| *p = if *p == Some(id) { None } else { Some(id) })>
                {move || if pinned() { unpin.clone() } else { pin.clone() }}
            </button>
            {host}
        }
    };
    view! {
        <figure class="tile remote" class:pinned=pinned class:speaking=move || ui.active_speaker() == Some(id)
            class:camera-off=move || !sends(|m| m.camera) data-participant=id.to_string()>
            <video node_ref=video aria-label=t_with(Text::TileVideoOf, &[("name", &caption)]) autoplay=true playsinline=true></video>
            <div class="avatar" aria-hidden="true"><span>{initials}</span></div>
            <figcaption>{caption.clone()} {muted} {camera_off} {hand} <span class="role">{move || role_of(ui, id)}</span></figcaption>
            {move || ui.reconnecting.with(|r| r.contains(&id)).then(|| view! { <p class="tile-state" role="status">{t(Text::TileReconnecting)}</p> })}
            <div class="tile-tools">
                <QualityBadge ui id/>
                {menu(t_with(Text::TileOptionsFor, &[("name", &name)]), "ellipsis-vertical", "tile-menu", ViewFn::from(items))}
            </div>
        </figure>
    }
}

/// "Connection: good", with the figures behind it on demand: of the
/// connection to them in a mesh call, of the path from them through the
/// media server otherwise (`client::call::stats`).
#[component]
pub fn QualityBadge(ui: CallUi, id: ParticipantId) -> impl IntoView {
    let quality = move || ui.quality.with(|all| all.get(&id).cloned().unwrap_or_default());
    let summary = move || t_with(Text::TileConnection, &[("grade", grade_word(quality().grade))]);
    // Styled by a name that is the same in every language.
    let grade = move || quality().grade.as_str();
    let figures = move || {
        let q = quality();
        let rtt = q.rtt_ms.map_or_else(|| t(Text::TileNotMeasured).to_string(), |ms| t_with(Text::TileMilliseconds, &[("ms", &ms.to_string())]));
        view! {
            <dl>
                <dt>{t(Text::TileRoundTrip)}</dt><dd>{rtt}</dd>
                <dt>{t(Text::TilePacketsLost)}</dt><dd>{tenths(q.loss_pct)}" %"</dd>
                <dt>{t(Text::TileReceiving)}</dt><dd>{t_with(Text::TileKbps, &[("kbps", &q.kbps.to_string())])}</dd>
                <dt>{t(Text::TileFreezes)}</dt><dd>{q.freezes}</dd>
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
        Grade::Unknown => t(Text::TileChecking),
        Grade::Good => t(Text::TileGood),
        Grade::Fair => t(Text::TileFair),
        Grade::Poor => t(Text::TilePoor),
    }
}

/// `value` to one decimal ("2.5"), in whole numbers: `{:.1}` on an `f32`
/// adds the standard library's `f32` printing to the call's bundle (its
/// `f64` printing stays, for serde's error messages).
fn tenths(value: f32) -> String {
    let tenths = (value.max(0.0) * 10.0).round() as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

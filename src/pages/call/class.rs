//! A call through the media server: a class's own layout. The host sees a
//! page of the gallery at a time (as many pictures as the media server
//! sends at once) and the queue of raised hands; a pupil (a guest of a room
//! where guests ask to speak) sees the teacher and whoever speaks (a pupil
//! the teacher let speak, with their microphone on). Only the
//! media server's bundle carries it (see `Cargo.toml`); a mesh call shows
//! everyone.

use leptos::prelude::*;

#[cfg(feature = "bundle-sfu")]
use crate::call::protocol::ClientMessage;
use crate::call::protocol::{Participant, ParticipantId};
use crate::call::ui::CallUi;

/// How a gallery of `count` pictures (more than four, in a call through
/// the media server, none pinned) is laid out: the columns that make the
/// largest 4:3 tiles fit the window's stage, and each tile's width in CSS
/// pixels.
#[cfg(feature = "bundle-sfu")]
pub(super) fn gallery_tiles(ui: CallUi, count: usize) -> Option<(usize, u32)> {
    if count <= 4 || ui.pinned.with(Option::is_some) {
        return None;
    }
    // The stage: the window less the margins, the title and the controls.
    let (width, height) = window_size();
    let (width, height) = (width - 16.0, height - 170.0);
    (1..=count)
        .map(|cols| {
            let (across, down) = (cols as f64, count.div_ceil(cols) as f64);
            let tile = ((width - 8.0 * (across - 1.0)) / across).min((height - 8.0 * (down - 1.0)) / down * 4.0 / 3.0);
            (cols, tile.max(0.0) as u32)
        })
        .max_by_key(|&(cols, tile)| (tile, usize::MAX - cols))
}

/// The window's inner width and height in CSS pixels (0 where unknown).
#[cfg(feature = "bundle-sfu")]
fn window_size() -> (f64, f64) {
    let size = |v: Result<wasm_bindgen::JsValue, _>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    web_sys::window().map_or((0.0, 0.0), |w| (size(w.inner_width()), size(w.inner_height())))
}

#[cfg(not(feature = "bundle-sfu"))]
pub(super) fn gallery_tiles(_: CallUi, _: usize) -> Option<(usize, u32)> {
    None
}

/// Who gets a tile, the gallery's pager and the host's queue of hands.
#[cfg(not(feature = "bundle-sfu"))]
pub(super) fn class_view(
    ui: CallUi,
    _presenter: impl Fn() -> Option<(Option<ParticipantId>, String)> + Copy + 'static,
) -> (impl Fn() -> Vec<Participant> + Copy + Send + Sync + 'static, (), ()) {
    (move || ui.others.get(), (), ())
}

/// Who gets a tile, the gallery's pager and the host's queue of hands.
#[cfg(feature = "bundle-sfu")]
pub(super) fn class_view(
    ui: CallUi,
    presenter: impl Fn() -> Option<(Option<ParticipantId>, String)> + Copy + Send + Sync + 'static,
) -> (impl Fn() -> Vec<Participant> + Copy + Send + Sync + 'static, impl IntoView, impl IntoView) {
    use super::actions::let_speak;
    use super::widgets::fixed;
    use crate::i18n::{t, t_with, Text};

    // In a breakout group, pupils see each other.
    let pupil_view = move || ui.ask_to_speak.get() && !ui.host.get() && !ui.grouped.get();
    let talking = move |id: ParticipantId| ui.media_of.with(|all| all.get(&id).is_some_and(|m| m.microphone));
    // Whether `p` belongs on the first page: they may speak, their hand is
    // up, or they speak now.
    let first = move |p: &Participant| talking(p.id) || ui.hands.with(|h| h.contains(&p.id)) || ui.active_speaker() == Some(p.id);
    // The gallery's order: whoever may speak now (the teacher, a pupil let
    // speak), has a hand up or speaks first, so they are on the first page;
    // then in the order they came.
    let gallery = move || {
        let mut others = ui.others.get();
        others.sort_by_key(|p| !first(p));
        others
    };
    // A page holds what this window fits (`tiles_fit`, again whenever it is
    // resized), up to the picture slots this browser offered.
    let resized = RwSignal::new(0u32);
    let listening = window_event_listener_untyped("resize", move |_| resized.update(|n| *n = n.wrapping_add(1)));
    on_cleanup(move || listening.remove());
    let per_page = move || {
        resized.track();
        let (width, height) = window_size();
        crate::call::ui::tiles_fit(width, height).min(ui.picture_slots.get())
    };
    let page_of = move |total: usize| ui.gallery_page.get().min(total.saturating_sub(1) / per_page());
    let shown = move || {
        if pupil_view() {
            // In a class a pupil's microphone is on only once the teacher let
            // them speak: they are shown beside the teacher, as is whoever
            // the media server hears loudest, and a pinned tile.
            let (speaking, pinned) = (ui.active_speaker(), ui.pinned.get());
            let others = ui.others.get();
            return others.into_iter().filter(|p| p.host || talking(p.id) || Some(p.id) == speaking || Some(p.id) == pinned).collect();
        }
        let others = gallery();
        let (page, size) = (page_of(others.len()), per_page());
        others.into_iter().skip(page * size).take(size).collect::<Vec<_>>()
    };
    // The media server sends only the pictures shown, each at the size shown.
    Effect::new(move |_| {
        let shown = shown();
        let large = shown.len() <= 1 || pupil_view();
        let pictures: Vec<(ParticipantId, bool)> = shown.iter().map(|p| (p.id, large && (p.host || !pupil_view()))).collect();
        // A gallery's tiles are 4:3, as wide as `gallery_tiles` fits them.
        let small = gallery_tiles(ui, shown.len()).map(|(_, width)| width * 3 / 4);
        crate::client::show_pictures(&pictures, small, presenter().and_then(|(who, _)| who));
    });
    // Pages of the gallery, and everyone on the other pages by name, with
    // their hand and microphone.
    let pager = move || {
        let everyone = gallery();
        let (total, size) = (everyone.len(), per_page());
        (!pupil_view() && total > size).then(|| {
            let pages = total.div_ceil(size);
            let page = page_of(total);
            let (first, last) = (page * size + 1, ((page + 1) * size).min(total));
            let elsewhere = everyone.into_iter().enumerate().filter(|(n, _)| n / size != page).map(|(_, p)| {
                let id = p.id;
                let hand = move || ui.hands.with(|h| h.contains(&id)).then(|| view! { {fixed("hand")}<span class="visually-hidden">" "{t(Text::ClassHandRaised)}</span> });
                let mic = move || talking(id).then(|| view! { {fixed("mic")}<span class="visually-hidden">" "{t(Text::ClassMicrophoneOn)}</span> });
                view! { <li>{p.name.to_string()}{hand}{mic}</li> }
            });
            view! {
                <nav class="pager" aria-label=t(Text::ClassPages)>
                    <button type="button" disabled={page == 0} on:click=move |_| ui.gallery_page.set(page.saturating_sub(1))>{t(Text::ClassPrevious)}</button>
                    <span>{t_with(Text::ClassShown, &[("first", &first.to_string()), ("last", &last.to_string()), ("total", &total.to_string())])}</span>
                    <button type="button" disabled={page + 1 >= pages} on:click=move |_| ui.gallery_page.set(page + 1)>{t(Text::ClassNext)}</button>
                </nav>
                <ul class="off-page" aria-label=t(Text::ClassElsewhere)>{elsewhere.collect_view()}</ul>
            }
        })
    };
    // The host's queue of raised hands, first up first, with "Let … speak".
    let queue = move || {
        let raised = ui.hands.get();
        (ui.host.get() && !raised.is_empty()).then(|| {
            let names: Vec<(ParticipantId, String)> =
                ui.others.with(|o| raised.iter().filter_map(|id| o.iter().find(|p| p.id == *id).map(|p| (p.id, p.name.to_string()))).collect());
            let several = names.len() > 1;
            view! {
                <section class="hands-queue" aria-labelledby="hands-heading">
                    <h2 id="hands-heading">{t(Text::ClassHands)}</h2>
                    <ol>{names.into_iter().map(|(id, name)| view! { <li>{name.clone()}" "{let_speak(ui, id, &name)}</li> }).collect_view()}</ol>
                    {several.then(|| view! {
                        <button type="button" on:click=move |_| super::actions::send(ClientMessage::LowerAllHands)>{t(Text::ClassLowerAll)}</button>
                    })}
                </section>
            }
        })
    };
    (shown, pager, queue)
}

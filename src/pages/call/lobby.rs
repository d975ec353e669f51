//! The host's lobby: who waits, for how long, letting them in or turning
//! them away, and a word with a waiting guest.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use super::actions::send;
use super::widgets::fixed;
use crate::call::protocol::{ClientMessage, ParticipantId, WaitingGuest};
use crate::call::ui::CallUi;

/// For the host: who waits in the lobby, with Admit and Deny for each.
#[component]
pub(super) fn Lobby(ui: CallUi) -> impl IntoView {
    let count = move || ui.waiting.with(Vec::len);
    // Ticks every 20 s, so "waiting 3 min" keeps up.
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    if let Ok(timer) = set_interval_with_handle(move || tick.update(|t| *t = t.wrapping_add(1)), std::time::Duration::from_secs(20)) {
        on_cleanup(move || timer.clear());
    }
    // Closures rather than `<Show>`: the same output for a smaller bundle.
    let heading = move || t_count(Text::LobbyWaiting, count() as u64);
    let all = move || {
        (count() > 1).then(|| {
            view! {
                <button type="button" class="primary" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::client::admit_all();
                }>{t(Text::LobbyAdmitAll)}</button>
                <button type="button" on:click=move |_| send(ClientMessage::DenyAll)>{t(Text::LobbyDenyAll)}</button>
            }
        })
    };
    // The count and what acts on everyone stay at the top as the list scrolls.
    view! {
        <section class="lobby" aria-labelledby="lobby-heading" hidden=move || count() == 0>
            <div class="lobby-head">
                <h2 id="lobby-heading">{heading}</h2>
                {all}
            </div>
            <ul>
                <For each=move || ui.waiting.get() key=|w| (w.id, w.next) let:guest>
                    <WaitingItem ui guest tick/>
                </For>
            </ul>
        </section>
    }
    .into_any()
}

/// One compact line per waiting guest: name, time waited, Admit, Deny, and
/// a message icon that opens the box (it opens by itself when they write).
#[component]
pub(super) fn WaitingItem(ui: CallUi, guest: WaitingGuest, tick: RwSignal<u32>) -> impl IntoView {
    let id = guest.id;
    let name = guest.name.to_string();
    let since = guest.since_ms;
    let next = guest.next;
    let removed = guest.removed_ms;
    let waited = move || {
        tick.track();
        waited_for(since)
    };
    // Someone the host removed, knocking again: said, so the host knows.
    let removed_line = move || {
        tick.track();
        removed.map(removed_ago)
    };
    let writing = RwSignal::new(false);
    let write_to = t_with(Text::LobbyWriteTo, &[("name", &name)]);
    let tooltip = write_to.clone();
    view! {
        <li>
            <span class="who">{name.clone()}</span>
            <span class="since">{waited}</span>
            <span class="removed" hidden=removed.is_none()>{removed_line}</span>
            <span class="next" hidden=!next>{t(Text::LobbyNext)}</span>
            <button type="button" class="primary" hidden=next aria-label=t_with(Text::LobbyAdmit, &[("name", &name)]) on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::admit(id);
                let _ = id;
            }>{t(Text::LobbyAdmitShort)}</button>
            <button type="button" aria-label=t_with(Text::LobbyDeny, &[("name", &name)]) on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::deny(id);
                let _ = id;
            }>{t(Text::LobbyDenyShort)}</button>
            <button type="button" class="write" title=tooltip aria-expanded=move || writing.get().to_string()
                aria-controls=format!("lobby-words-{id}") on:click=move |_| writing.update(|w| *w = !*w)>
                {fixed("message-square")}<span class="visually-hidden">{write_to}</span>
            </button>
            <LobbyWords ui guest=Some((id, name.clone())) writing=Some(writing)/>
        </li>
    }
}

/// Words between the host and a waiting guest, and a box to add one. For
/// the host, `guest` is whom they write to (id, name); for the waiting guest
/// it is `None`, and the box appears once the host has written.
#[component]
pub(super) fn LobbyWords(
    ui: CallUi,
    guest: Option<(ParticipantId, String)>,
    /// For the guest: the host's name, if the host shows it ("Host" if not).
    #[prop(default = None)]
    host_name: Option<String>,
    /// For the host: whether this guest's box is open (their icon's toggle).
    #[prop(default = None)]
    writing: Option<RwSignal<bool>>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let to = guest.as_ref().map(|(id, _)| *id);
    let (field, label, button, host_says, you_say) = match &guest {
        Some((id, name)) => (
            format!("lobby-message-{id}"),
            t_with(Text::LobbyMessageTo, &[("name", name)]),
            t_with(Text::LobbySendTo, &[("name", name)]),
            t(Text::WaitingYou).to_string(),
            name.clone(),
        ),
        None => (
            "lobby-message".to_string(),
            t(Text::WaitingReply).to_string(),
            t(Text::WaitingSend).to_string(),
            host_name.unwrap_or_else(|| t(Text::WaitingHost).to_string()),
            t(Text::WaitingYou).to_string(),
        ),
    };
    let words = move || {
        ui.lobby_chat.with(|all| {
            all.iter()
                .filter(|(g, _, _)| to.is_none_or(|id| *g == id))
                .map(|(_, from_host, text)| t_with(Text::WaitingLine, &[("who", if *from_host { &host_says } else { &you_say }), ("text", text)]))
                .map(|line| view! { <li>{line}</li> })
                .collect_view()
        })
    };
    // The guest's box opens once the host has written; the host's box when
    // the host opens it, or when the guest writes (so the answer is at hand).
    let theirs =
        move || ui.lobby_chat.with(|all| all.iter().filter(|(g, from_host, _)| to.is_none_or(|id| *g == id) && *from_host == to.is_none()).count());
    let open = move || match writing {
        Some(writing) => writing.get(),
        None => theirs() > 0,
    };
    #[cfg(feature = "hydrate")]
    if let Some(writing) = writing {
        let seen = std::cell::Cell::new(theirs());
        Effect::new(move |_| {
            let now = theirs();
            if now > seen.replace(now) {
                writing.set(true);
            }
        });
        // Opened by its icon (which has the focus), the cursor goes to the
        // box; opened by the guest's words, the focus stays where it is.
        let toggle = to.map(|id| format!("lobby-words-{id}"));
        Effect::new(move |_| {
            let from_icon = document().active_element().and_then(|e| e.get_attribute("aria-controls")) == toggle;
            if let (true, true, Some(field)) = (writing.get(), from_icon, input.get()) {
                let _ = field.focus();
            }
        });
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(box_) = input.get_untracked() else { return };
        let text = box_.value();
        if text.trim().is_empty() {
            return;
        }
        box_.set_value("");
        send(match to {
            Some(id) => ClientMessage::LobbyChat { id, text },
            None => ClientMessage::Chat { text },
        });
    };
    view! {
        <div class="lobby-chat" id=to.map(|id| format!("lobby-words-{id}")) hidden=move || !open()>
            <ul aria-live="polite">{words}</ul>
            <form on:submit=submit>
                <label for=field.clone()>{label}</label>
                <input id=field type="text" maxlength="2000" autocomplete="off" node_ref=input/>
                <button type="submit">{button}</button>
            </form>
        </div>
    }
    .into_any()
}

/// "you removed them 2 min ago", from when the host removed them.
fn removed_ago(removed_ms: u64) -> String {
    minutes_since(removed_ms, Text::LobbyRemovedNow, Text::LobbyRemovedAgo)
}

/// "waiting 3 min", from when they started waiting.
pub(crate) fn waited_for(since_ms: u64) -> String {
    minutes_since(since_ms, Text::LobbyJustArrived, Text::LobbyWaited)
}

/// The whole minutes since `since_ms` in `minutes` ("… {count} min …"), or
/// `under_one` before the first.
fn minutes_since(since_ms: u64, under_one: Text, minutes: Text) -> String {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as u64;
    #[cfg(not(feature = "hydrate"))]
    let now = since_ms;
    match now.saturating_sub(since_ms) / 60_000 {
        0 => t(under_one).to_string(),
        n => t_count(minutes, n),
    }
}

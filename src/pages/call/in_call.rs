//! In the call: the tiles, the shared screen on stage, the controls and
//! the side panels.

use leptos::prelude::*;

use super::actions::{command, send};
use super::lobby::Lobby;
use super::panels::{ChatPanel, DeviceSettings, PeopleList};
use super::tiles::{LocalVideo, RemoteTile};
use crate::call::protocol::{ClientMessage, ParticipantId};
use crate::call::ui::{CallUi, Phase};

#[component]
pub(super) fn InCall(ui: CallUi, room_name: String, chat_kept: bool) -> impl IntoView {
    let status = move || match ui.phase.get() {
        Phase::Connecting => "Connecting…".to_string(),
        Phase::Reconnecting => "Reconnecting… You are still in the call; the connection to the server dropped.".to_string(),
        _ => match ui.others.with(Vec::len) {
            0 => "You are the only one here. Share the link to invite others.".to_string(),
            1 => "In the call with 1 other person.".to_string(),
            n => format!("In the call with {n} other people."),
        },
    };
    let my_name = move || ui.me.get().map(|p| p.name.to_string()).unwrap_or_default();
    let toggle_microphone = move || {
        if ui.microphone_on.get_untracked() || ui.may_unmute.get_untracked() {
            ui.microphone_on.update(|on| *on = !*on);
            #[cfg(feature = "hydrate")]
            crate::client::apply_send_state();
        }
    };
    let toggle_camera = move || {
        ui.camera_on.update(|on| *on = !*on);
        #[cfg(feature = "hydrate")]
        crate::client::apply_send_state();
    };
    // M and V toggle microphone and camera, except while typing.
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            if typing || ui.phase.get_untracked() != Phase::InCall {
                return;
            }
            match ev.key().as_str() {
                "m" | "M" => toggle_microphone(),
                "v" | "V" => toggle_camera(),
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || keys.remove());
    }
    let leave = move |_| {
        #[cfg(feature = "hydrate")]
        crate::client::leave();
        ui.phase.set(Phase::Left);
    };
    let my_id = move || ui.me.with(|me| me.as_ref().map(|p| p.id));
    let my_hand_up = move || my_id().is_some_and(|id| ui.hands.with(|h| h.contains(&id)));
    let toggle_hand = move |_| send(ClientMessage::Hand { raised: !my_hand_up() });
    let toggle_share = move |_| {
        #[cfg(feature = "hydrate")]
        if ui.sharing.get_untracked() {
            crate::client::stop_sharing();
        } else {
            crate::client::share_screen();
        }
    };
    let notices = move || {
        let mut lines: Vec<&'static str> = Vec::new();
        if ui.locked.get() {
            lines.push("The host has locked this call: nobody new can join.");
        }
        let notice = ui.notice.get();
        (notice.is_some() || !lines.is_empty()).then(|| {
            let text = notice.into_iter().chain(lines.into_iter().map(String::from)).collect::<Vec<_>>().join(" ");
            view! { <p class="notice">{text}</p> }
        })
    };
    let host_controls = move || {
        ui.host.get().then(|| {
            let locked = ui.locked.get();
            view! {
                {command(ui, "Mute everyone".into(), ClientMessage::MuteAll, "You muted everyone else.".into())}
                {if locked {
                    command(ui, "Unlock call".into(), ClientMessage::Lock { locked: false }, "The call is open again.".into())
                } else {
                    command(ui, "Lock call".into(), ClientMessage::Lock { locked: true }, "The call is locked: nobody new can join.".into())
                }}
                <button type="button" class="danger" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::client::end_for_all();
                }>"End for everyone"</button>
            }
        })
    };
    // Whose screen is shown large: this person's own, or the first other
    // person who announced one.
    let presenter = move || {
        if ui.sharing.get() {
            return Some((None, "Your screen, as the others see it".to_string()));
        }
        let id = ui.media_of.with(|all| all.iter().find(|(_, m)| m.screen.is_some()).map(|(id, _)| *id))?;
        let name = ui.others.with(|o| o.iter().find(|p| p.id == id).map(|p| p.name.to_string()))?;
        Some((Some(id), format!("{name}'s screen")))
    };
    let stage = move || presenter().map(|(who, label)| view! { <ScreenStage ui who label/> });
    // Built in parts, each type-erased: one nested view type is too deep for
    // an optimised build.
    let grid = view! {
        <div class="grid" class:has-pinned=move || ui.pinned.get().is_some() data-count=move || ui.others.with(Vec::len) + 1>
            <figure class="tile self">
                <LocalVideo ui class="" label="Your video"/>
                <figcaption>{my_name} " (you)"
                    {move || (!ui.microphone_on.get()).then_some(" · muted")}
                    {move || (!ui.camera_on.get()).then_some(" · camera off")}
                    {move || my_hand_up().then_some(" · hand raised")}
                </figcaption>
            </figure>
            <For each=move || ui.others.get() key=|p| p.id let:participant>
                <RemoteTile ui id=participant.id name=participant.name.to_string()/>
            </For>
        </div>
    }
    .into_any();
    // Opens or closes a panel; `unread`, if given, is counted on the button
    // and cleared on opening.
    let panel_button = move |label: &'static str, open: RwSignal<bool>, controls: &'static str, unread: Option<RwSignal<usize>>| {
        view! {
            <button type="button" aria-expanded=move || open.get().to_string() aria-controls=controls
                on:click=move |_| {
                    open.update(|o| *o = !*o);
                    if let (Some(unread), true) = (unread, open.get_untracked()) {
                        unread.set(0);
                    }
                }>
                {label}
                {move || unread.map(|n| n.get()).filter(|n| *n > 0).map(|n| view! {
                    <span class="badge">{n}<span class="visually-hidden">" unread"</span></span>
                })}
            </button>
        }
    };
    let settings_open = RwSignal::new(false);
    let controls = view! {
        <div class="controls" class:ask-to-speak=move || ui.ask_to_speak.get() role="toolbar" aria-label="Call controls">
            <button type="button" class:off=move || !ui.microphone_on.get() on:click=move |_| toggle_microphone()
                aria-pressed=move || (!ui.microphone_on.get()).to_string() title="Mute or unmute your microphone (M)" aria-keyshortcuts="M"
                disabled=move || !ui.microphone_on.get() && !ui.may_unmute.get() aria-describedby="speak-hint">
                "Mute microphone"
            </button>
            <button type="button" class:off=move || !ui.camera_on.get() on:click=move |_| toggle_camera()
                aria-pressed=move || (!ui.camera_on.get()).to_string() title="Stop or start your camera (V)" aria-keyshortcuts="V">
                "Stop camera"
            </button>
            <button type="button" hidden=move || !ui.may_share_screen.get() aria-pressed=move || ui.sharing.get().to_string()
                on:click=toggle_share>"Share screen"</button>
            <button type="button" class:primary=move || ui.ask_to_speak.get() && !ui.host.get()
                aria-pressed=move || my_hand_up().to_string() on:click=toggle_hand>
                "Raise hand"
            </button>
            {panel_button("Chat", ui.chat_open, "chat-panel", Some(ui.unread))}
            {panel_button("People", ui.people_open, "people-panel", None)}
            {panel_button("Settings", settings_open, "settings-panel", None)}
            {host_controls}
            <button type="button" class="danger" on:click=leave>"Leave"</button>
        </div>
    }
    .into_any();
    let panels = view! {
        <div class="side">
            <div id="chat-panel"><ChatPanel ui kept=chat_kept/></div>
            <div id="people-panel"><PeopleList ui/></div>
            <section id="settings-panel" class="panel" aria-label="Devices" hidden=move || !settings_open.get()>
                <h2>"Devices"</h2>
                <DeviceSettings ui/>
            </section>
        </div>
    }
    .into_any();
    view! {
        <section class="in-call" aria-label=format!("Call in {room_name}")>
            <p class="call-status" class:reconnecting=move || ui.phase.get() == Phase::Reconnecting role="status">{status}</p>
            <div role="status">{notices}</div>
            <p class="visually-hidden" aria-live="polite">{move || ui.announcement.get()}</p>
            <p class="hint" id="speak-hint" hidden=move || ui.may_unmute.get()>
                "The host lets people speak here: raise your hand to ask, and unmute once they let you."
            </p>
            <Lobby ui/>
            <div class="call-body">
                <div class="stage-and-grid">{stage}{grid}</div>
                {panels}
            </div>
            {controls}
        </section>
    }
}

/// A shared screen, shown large above everyone's tiles.
#[component]
pub(super) fn ScreenStage(ui: CallUi, who: Option<ParticipantId>, label: String) -> impl IntoView {
    let video = NodeRef::<leptos::html::Video>::new();
    Effect::new(move |_| {
        ui.streams.track();
        ui.media_of.track();
        #[cfg(feature = "hydrate")]
        if let Some(element) = video.get() {
            crate::client::attach_screen(who, &element);
        }
    });
    view! {
        <figure class="stage">
            <video node_ref=video aria-label=label.clone() autoplay=true playsinline=true prop:muted=who.is_none()></video>
            <figcaption>{label}</figcaption>
        </figure>
    }
}

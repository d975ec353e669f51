//! The pre-join screen and the call itself. Rendering is shared; everything
//! that touches media or the network lives in `crate::client` (browser only)
//! and talks to this view through the signals in [`CallUi`].

use leptos::prelude::*;

use crate::api::rooms::{Availability, RoomInvitation};
use crate::call::protocol::{ClientMessage, Participant, ParticipantId, WaitingGuest};

use super::call_panels::{ChatPanel, DeviceSettings, PeopleList, QualityBadge};
use crate::call::ui::{CallUi, MediaCheck, Phase};

/// The whole room experience: check devices, join, talk, leave. An island:
/// this part of the page runs in the browser.
#[island]
pub fn Call(invitation: RoomInvitation) -> impl IntoView {
    let ui = CallUi::new();
    ui.host.set(invitation.host);
    ui.ask_to_speak.set(invitation.guests_ask_to_speak);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let room_name = invitation.name.clone();
    let availability = RwSignal::new(invitation.availability.clone());
    // Before the join window, the page opens itself when it does.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Availability::NotYet { opens_at_ms, .. } = availability.get_untracked() {
            let wait = (opens_at_ms as f64 - js_sys::Date::now()).max(0.0);
            // setTimeout takes at most about 24 days; check again then.
            let wait = std::time::Duration::from_millis(wait.min(2_000_000_000.0) as u64);
            set_timeout(move || availability.set(Availability::Open), wait);
        }
    });
    // Navigating away from the room page hangs up.
    on_cleanup(|| {
        #[cfg(feature = "hydrate")]
        crate::client::leave();
    });

    // The camera runs from the pre-join screen on, and stops on leaving.
    Effect::new(move |_| {
        if ui.phase.get() == Phase::PreJoin {
            #[cfg(feature = "hydrate")]
            crate::client::start_preview(ui);
        }
    });

    view! {
        <div class="call-page">
            {move || match ui.phase.get() {
                Phase::PreJoin if availability.get() == Availability::Ended => view! {
                    <section class="card narrow">
                        <h1>{invitation.name.clone()}</h1>
                        <p class="notice" role="status">"This session has ended."</p>
                        <p>"If you expected to join, ask whoever sent you the link when the next session is."</p>
                    </section>
                }.into_any(),
                Phase::PreJoin => view! { <PreJoin ui invitation=invitation.clone() hydrated availability/> }.into_any(),
                Phase::Waiting => view! {
                    <section class="card narrow waiting">
                        <h1>{room_name.clone()}</h1>
                        <p class="notice" role="status"><strong>"Waiting for the host to let you in."</strong></p>
                        <p>"The host knows you are here. Keep this page open; the call starts as soon as you are let in."</p>
                        <LobbyWords ui guest=None/>
                        <LocalVideo ui class="preview" label="Your camera preview"/>
                        <button type="button" on:click=move |_| {
                            #[cfg(feature = "hydrate")]
                            crate::client::leave();
                            ui.phase.set(Phase::Left);
                        }>"Leave"</button>
                    </section>
                }.into_any(),
                Phase::Connecting | Phase::InCall | Phase::Reconnecting => view! { <InCall ui room_name=room_name.clone() chat_kept=invitation.chat_kept/> }.into_any(),
                Phase::Left => view! {
                    <section class="card narrow">
                        <h1>"You left the call"</h1>
                        <button type="button" class="primary" on:click=move |_| ui.phase.set(Phase::PreJoin)>"Rejoin"</button>
                    </section>
                }.into_any(),
                Phase::Failed(message) => view! {
                    <section class="card narrow">
                        <h1>"You are not in the call"</h1>
                        <p class="form-error" role="alert">{message}</p>
                        <button type="button" class="primary" on:click=move |_| ui.phase.set(Phase::PreJoin)>"Try again"</button>
                    </section>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn PreJoin(ui: CallUi, invitation: RoomInvitation, hydrated: RwSignal<bool>, availability: RwSignal<Availability>) -> impl IntoView {
    let name_input = NodeRef::<leptos::html::Input>::new();
    let name_error = RwSignal::new(None::<String>);
    let passcode_input = NodeRef::<leptos::html::Input>::new();
    let passcode_required = invitation.passcode_required;
    let signed_in = invitation.your_name.is_some();
    let slug = invitation.slug.clone();
    let invitation_keep_alive = invitation.keep_alive_secs;
    let join = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = name_input.get_untracked().map(|input| input.value()).unwrap_or_default();
        let passcode = passcode_input.get_untracked().map(|input| input.value()).filter(|p| !p.trim().is_empty());
        match crate::domain::DisplayName::parse(&typed) {
            Ok(name) => {
                name_error.set(None);
                #[cfg(feature = "hydrate")]
                crate::client::join(ui, slug.clone(), name, passcode, invitation_keep_alive);
                #[cfg(not(feature = "hydrate"))]
                let _ = (name, &slug, passcode, invitation_keep_alive);
            }
            Err(message) => name_error.set(Some(message)),
        }
    };
    let media_status = move || match ui.media.get() {
        MediaCheck::Checking => "Starting your camera and microphone…".to_string(),
        MediaCheck::Ready { camera: true, microphone: true } => "Camera and microphone are working.".to_string(),
        MediaCheck::Ready { camera: true, microphone: false } => "Camera is working; no microphone, so others will not hear you.".to_string(),
        MediaCheck::Ready { camera: false, .. } => "Microphone is working; no camera, so others will not see you.".to_string(),
        MediaCheck::Unavailable(why) => why,
    };
    let open = move || availability.get() == Availability::Open;
    let can_join = move || hydrated.get() && open();
    view! {
        <section class="card prejoin">
            <h1>{invitation.name.clone()}</h1>
            {move || match availability.get() {
                Availability::NotYet { title, starts_at_ms, opens_at_ms, starts_text } => {
                    // Local times only after hydration, so the first render
                    // matches the server's.
                    let (starts, opens) = local_times(starts_at_ms, opens_at_ms, starts_text, hydrated.get());
                    view! {
                        <div class="notice" role="status">
                            <p><strong>{format!("“{title}” starts at {starts}.")}</strong></p>
                            <p>{format!("You can join from {opens}. This page lets you in by itself then; meanwhile, check your camera and microphone.")}</p>
                        </div>
                    }.into_any()
                }
                _ => view! { <p>"Check how you look and sound, then join."</p> }.into_any(),
            }}
            {invitation.chat_kept.then(|| view! { <p class="hint">"The host keeps this call's chat after it ends."</p> })}
            <LocalVideo ui class="preview" label="Your camera preview"/>
            <p class="media-status" role="status">{media_status}</p>
            <DeviceSettings ui/>
            <p class="notice" role="status">{move || ui.notice.get()}</p>
            <ConnectionCheck ui probes=invitation.probe_urls.clone()/>
            <form on:submit=join>
                <crate::pages::form::Field
                    label="Your name"
                    name="display_name"
                    autocomplete="name"
                    value=invitation.your_name.clone().unwrap_or_default()
                    readonly=signed_in
                    hint=if signed_in { "The name on your account." } else { "Shown to the others in the call." }
                    node_ref=name_input
                    error=name_error
                />
                {passcode_required.then(|| view! {
                    <crate::pages::form::Field label="Passcode" name="passcode" autocomplete="off"
                        hint="The host gave it to you with the link." node_ref=passcode_input error=Signal::derive(|| None::<String>)/>
                })}
                <button type="submit" class="primary" disabled=move || !can_join()>
                    {move || if !hydrated.get() { "Loading…" } else if open() { "Join" } else { "Not open yet" }}
                </button>
            </form>
        </section>
    }
}

/// Whether this browser reaches the server and the network servers, run
/// once on arrival and again on request.
#[component]
fn ConnectionCheck(ui: CallUi, probes: Vec<String>) -> impl IntoView {
    let run = move || {
        #[cfg(feature = "hydrate")]
        crate::client::check_connection(ui, probes.clone());
        #[cfg(not(feature = "hydrate"))]
        let _ = &probes;
    };
    let first = run.clone();
    Effect::new(move |_| first());
    let line = move |check: RwSignal<Option<(bool, String)>>, waiting: &'static str| {
        move || match check.get() {
            None => view! { <li>{waiting}</li> }.into_any(),
            Some((ok, text)) => view! { <li class:ok=ok class:problem=!ok>{text}</li> }.into_any(),
        }
    };
    view! {
        <div class="connection-check" aria-live="polite">
            <h2>"Connection check"</h2>
            <ul>
                {line(ui.server_check, "Checking the connection to Huddle's server…")}
                {line(ui.network_check, "Checking the network…")}
            </ul>
            <button type="button" on:click=move |_| run()>"Check again"</button>
        </div>
    }
    .into_any()
}

/// The start and the opening of a session, in the visitor's own time zone
/// once the browser can say it ("Tuesday, 1 December 2026 at 09:00"), and
/// in the session's zone (`fallback`) until then.
fn local_times(starts_at_ms: i64, opens_at_ms: i64, fallback: String, local: bool) -> (String, String) {
    #[cfg(feature = "hydrate")]
    {
        let local_pair = local.then(|| crate::client::local_time(starts_at_ms).zip(crate::client::local_time(opens_at_ms))).flatten();
        if let Some((starts, opens)) = local_pair {
            return (format!("{starts} (your time)"), opens);
        }
    }
    let _ = (starts_at_ms, opens_at_ms, local);
    (fallback, "a few minutes before".to_string())
}

#[component]
fn InCall(ui: CallUi, room_name: String, chat_kept: bool) -> impl IntoView {
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
                {command("Mute everyone".into(), ClientMessage::MuteAll)}
                {command(if locked { "Unlock call" } else { "Lock call" }.into(), ClientMessage::Lock { locked: !locked })}
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
fn ScreenStage(ui: CallUi, who: Option<ParticipantId>, label: String) -> impl IntoView {
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

/// For the host: who waits in the lobby, with Admit and Deny for each.
#[component]
fn Lobby(ui: CallUi) -> impl IntoView {
    let count = move || ui.waiting.with(Vec::len);
    // Ticks every 20 s, so "waiting 3 min" keeps up.
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    if let Ok(timer) = set_interval_with_handle(move || tick.update(|t| *t = t.wrapping_add(1)), std::time::Duration::from_secs(20)) {
        on_cleanup(move || timer.clear());
    }
    // Closures rather than `<Show>`: the same output for a smaller bundle.
    let heading = move || match count() {
        1 => "1 person is waiting to join".to_string(),
        n => format!("{n} people are waiting to join"),
    };
    let admit_all = move || {
        (count() > 1).then(|| {
            view! {
                <button type="button" class="primary" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::client::admit_all();
                }>"Admit all"</button>
            }
        })
    };
    view! {
        <section class="lobby" aria-labelledby="lobby-heading" hidden=move || count() == 0>
            <h2 id="lobby-heading">{heading}</h2>
            <ul>
                <For each=move || ui.waiting.get() key=|w| w.id let:guest>
                    <WaitingItem ui guest tick/>
                </For>
            </ul>
            {admit_all}
        </section>
    }
    .into_any()
}

#[component]
fn WaitingItem(ui: CallUi, guest: WaitingGuest, tick: RwSignal<u32>) -> impl IntoView {
    let id = guest.id;
    let name = guest.name.to_string();
    let since = guest.since_ms;
    let waited = move || {
        tick.track();
        waited_for(since)
    };
    view! {
        <li>
            <span class="who">{name.clone()}</span>
            <span class="since">{waited}</span>
            <button type="button" class="primary" on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::admit(id);
                let _ = id;
            }>{format!("Admit {name}")}</button>
            <button type="button" on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::deny(id);
                let _ = id;
            }>{format!("Deny {name}")}</button>
            <LobbyWords ui guest=Some((id, name.clone()))/>
        </li>
    }
}

/// Words between the host and a waiting guest, and a box to add one. For
/// the host, `guest` is whom they write to (id, name); for the waiting guest
/// it is `None`, and the box appears once the host has written.
#[component]
fn LobbyWords(ui: CallUi, guest: Option<(ParticipantId, String)>) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let to = guest.as_ref().map(|(id, _)| *id);
    let (field, label, button, host_says, you_say) = match &guest {
        Some((id, name)) => (format!("lobby-message-{id}"), format!("Message to {name}"), format!("Send to {name}"), "You".to_string(), name.clone()),
        None => ("lobby-message".to_string(), "Reply to the host".to_string(), "Send".to_string(), "Host".to_string(), "You".to_string()),
    };
    let words = move || {
        ui.lobby_chat.with(|all| {
            all.iter()
                .filter(|(g, _, _)| to.is_none_or(|id| *g == id))
                .map(|(_, from_host, text)| format!("{}: {text}", if *from_host { &host_says } else { &you_say }))
                .map(|line| view! { <li>{line}</li> })
                .collect_view()
        })
    };
    let open = move || to.is_some() || ui.lobby_chat.with(|all| all.iter().any(|w| w.1));
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
        <div class="lobby-chat" hidden=move || !open()>
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

/// "waiting 3 min", from when they started waiting.
fn waited_for(since_ms: u64) -> String {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as u64;
    #[cfg(not(feature = "hydrate"))]
    let now = since_ms;
    match now.saturating_sub(since_ms) / 60_000 {
        0 => "just arrived".to_string(),
        1 => "waiting 1 min".to_string(),
        n => format!("waiting {n} min"),
    }
}

/// "1st", "2nd", "3rd", "4th"…
pub(super) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A button that sends `message`: one shape for every host command, which
/// keeps the bundle small.
fn command(label: String, message: ClientMessage) -> AnyView {
    view! { <button type="button" on:click=move |_| send(message.clone())>{label}</button> }.into_any()
}

/// Sends a call message (in the browser; nothing on the server).
pub(super) fn send(message: ClientMessage) {
    #[cfg(feature = "hydrate")]
    crate::client::send(message);
    #[cfg(not(feature = "hydrate"))]
    let _ = message;
}

/// This person's own camera, always muted (no echo of oneself).
#[component]
fn LocalVideo(ui: CallUi, class: &'static str, label: &'static str) -> impl IntoView {
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
fn RemoteTile(ui: CallUi, id: ParticipantId, name: String) -> impl IntoView {
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
            let lower = place().map(|_| command(format!("Lower {label}'s hand"), ClientMessage::LowerHand { id }));
            let speak = ui.ask_to_speak.get().then(|| command(format!("Let {label} speak"), ClientMessage::LetSpeak { id }));
            view! {
                {command(format!("Mute {name}"), ClientMessage::Mute { id })}
                {command(format!("Remove {name}"), ClientMessage::Remove { id })}
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

/// What shows beside someone's name: "(host)" for the host, and "(guest)"
/// for a guest who has a host's name, so that nobody passes for the host.
pub(crate) fn role_of(ui: CallUi, id: ParticipantId) -> Option<&'static str> {
    const HOST: &str = "(host)";
    const GUEST: &str = "(guest)";
    let everyone = |f: &dyn Fn(&Participant) -> bool| ui.others.with(|o| o.iter().any(f)) || ui.me.with(|me| me.as_ref().is_some_and(f));
    let (host, name) = ui
        .others
        .with(|o| o.iter().find(|p| p.id == id).map(|p| (p.host, p.name.clone())))
        .or_else(|| ui.me.with(|me| me.as_ref().filter(|p| p.id == id).map(|p| (p.host, p.name.clone()))))?;
    if host {
        return Some(HOST);
    }
    everyone(&|p: &Participant| p.host && p.name == name).then_some(GUEST)
}

//! In the call: the tiles, the shared screen on stage, the controls and
//! the side panels.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use super::actions::{command, send};
use super::class::class_view;
use super::lobby::Lobby;
use super::panels::{ChatPanel, DeviceSettings, PeopleList};
use super::tiles::{LocalVideo, RemoteTile};
use super::widgets::{fixed, icon, menu, Switch};
use crate::call::protocol::{ClientMessage, ParticipantId};
use crate::call::ui::{CallUi, Phase};

#[component]
pub(super) fn InCall(ui: CallUi, room_name: String, chat_kept: bool, end_first: bool) -> impl IntoView {
    // A guest is told whether the host is here: left, or not come yet.
    let host_here = move || ui.others.with(|others| others.iter().any(|p| p.host));
    Effect::new(move |_| {
        if host_here() {
            ui.host_seen.set(true);
        }
    });
    let status = move || match ui.phase.get() {
        Phase::Connecting => t(Text::CallConnecting).to_string(),
        Phase::Reconnecting => t(Text::CallReconnecting).to_string(),
        _ if !ui.host.get() && !host_here() => t(if ui.host_seen.get() { Text::CallHostLeft } else { Text::CallHostNotHere }).to_string(),
        _ => match ui.others.with(Vec::len) {
            0 => t(Text::CallAlone).to_string(),
            n => t_count(Text::CallWithOthers, n as u64),
        },
    };
    let my_name = move || ui.me.get().map(|p| p.name.to_string()).unwrap_or_default();
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
                "m" | "M" => Switch::Microphone.flip(ui),
                "v" | "V" => Switch::Camera.flip(ui),
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || keys.remove());
    }
    let leave = move |_: ()| {
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
    // What the call tells this person now, with a way to dismiss it; it
    // fades after a few seconds (`.notice.fades`). Each new text is drawn
    // as a new element (one of two alike, in turn), so it fades anew
    // rather than inherit the faded state of the one before.
    let turn = StoredValue::new((String::new(), false));
    let notices = move || {
        let notice = ui.notice.get();
        let locked = ui.locked.get().then(|| t(Text::CallLocked));
        let text = notice.into_iter().chain(locked.map(String::from)).collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then(|| {
            let odd = turn
                .try_update_value(|(last, odd)| {
                    if *last != text {
                        last.clone_from(&text);
                        *odd = !*odd;
                    }
                    *odd
                })
                .unwrap_or_default();
            let note = view! {
                <p class="notice fades">{text}
                    <button type="button" class="dismiss" on:click=move |_| ui.notice.set(None) hidden=move || ui.notice.with(Option::is_none)>
                        {fixed("x")}<span class="visually-hidden">{t(Text::CallDismiss)}</span>
                    </button>
                </p>
            };
            if odd {
                leptos::either::Either::Left(note)
            } else {
                leptos::either::Either::Right(note)
            }
        })
    };
    let settings_open = RwSignal::new(false);
    // The call-wide actions: device settings for everyone, and for the host
    // mute everyone, lock, a new poll, end for all.
    let more_items = move || {
        let host = ui.host.get().then(|| {
            let locked = ui.locked.get();
            view! {
                {command(ui, t(Text::CallMuteEveryone).into(), ClientMessage::MuteAll, t(Text::CallMutedEveryone).into())}
                {if locked {
                    command(ui, t(Text::CallUnlock).into(), ClientMessage::Lock { locked: false }, t(Text::CallUnlocked).into())
                } else {
                    command(ui, t(Text::CallLock).into(), ClientMessage::Lock { locked: true }, t(Text::CallNowLocked).into())
                }}
                <button type="button" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::client::compose("poll");
                }>{t(Text::PollNew)}</button>
                {breakouts_button(ui)}
                <button type="button" aria-pressed=move || ui.notify_waiting.get().to_string() on:click=move |_| {
                    if ui.notify_waiting.get_untracked() {
                        ui.notify_waiting.set(false);
                        ui.notice.set(Some(t(Text::CallNotifyOff).into()));
                    } else {
                        #[cfg(feature = "hydrate")]
                        crate::client::ask_to_notify(
                            ui,
                            t(Text::CallNotifyOn),
                            t(Text::CallNotifyRefused),
                        );
                    }
                }>{t(Text::CallNotifyMe)}</button>
                <button type="button" class="danger" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    crate::client::end_for_all(true);
                }>{t(Text::CallEndForEveryone)}</button>
            }
        });
        view! {
            <button type="button" on:click=move |_| open_only(ui, settings_open, Some(settings_open))>{t(Text::CallDeviceSettings)}</button>
            <button type="button" on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::compose("board");
            }>{t(Text::BoardTitle)}</button>
            {host}
        }
    };
    // Whose screen is shown large: this person's own, or the first other
    // person who announced one.
    let presenter = move || {
        if ui.sharing.get() {
            return Some((None, t(Text::CallYourScreen).to_string()));
        }
        let id = ui.media_of.with(|all| all.iter().find(|(_, m)| m.screen.is_some()).map(|(id, _)| *id))?;
        let name = ui.others.with(|o| o.iter().find(|p| p.id == id).map(|p| p.name.to_string()))?;
        Some((Some(id), t_with(Text::CallScreenOf, &[("name", &name)])))
    };
    let stage = move || presenter().map(|(who, label)| view! { <ScreenStage ui who label/> });
    let (shown, pager, queue) = class_view(ui, presenter);
    // A class's gallery: tiles shaped like their pictures, as many across as
    // make them largest.
    let tiles = move || super::class::gallery_tiles(ui, shown().len());
    let my_initials = move || ui.me.with(|me| me.as_ref().map(|p| p.name.initials()).unwrap_or_default());
    // Built in parts, each type-erased: one nested view type is too deep for
    // an optimised build.
    let grid = view! {
        <div class="grid" class:has-pinned=move || ui.pinned.get().is_some() data-count=move || shown().len()
            class:gallery=move || tiles().is_some()
            style:--cols=move || tiles().map(|(cols, _)| cols.to_string()).unwrap_or_default()
            style:--tile=move || tiles().map(|(_, tile)| format!("{tile}px")).unwrap_or_default()>
            <For each=shown key=|p| p.id let:participant>
                <RemoteTile ui id=participant.id name=participant.name.clone()/>
            </For>
        </div>
        <figure class="tile self" class:camera-off=move || !ui.camera_on.get()>
            <LocalVideo ui class="" label=t(Text::CallYourVideo)/>
            <div class="avatar" aria-hidden="true"><span>{my_initials}</span></div>
            <figcaption>{move || t_with(Text::PeopleYou, &[("name", &my_name())])}
                {move || (!ui.microphone_on.get()).then(|| view! { {fixed("mic-off")}<span class="visually-hidden">" · "{t(Text::PeopleMuted)}</span> })}
                {move || (!ui.camera_on.get()).then_some(view! { <span class="visually-hidden">" · "{t(Text::PeopleCameraOff)}</span> })}
                {move || my_hand_up().then(|| view! { {fixed("hand")}<span class="visually-hidden">" · "{t(Text::ClassHandRaised)}</span> })}
            </figcaption>
        </figure>
    }
    .into_any();
    // Opens or closes a panel (one at a time); `unread`, if given, is
    // counted on the button and cleared on opening.
    let panel_button =
        move |label: &'static str, icon_name: &'static str, open: RwSignal<bool>, controls: &'static str, unread: Option<RwSignal<usize>>| {
            view! {
                <button type="button" class="tool" aria-expanded=move || open.get().to_string() aria-controls=controls
                    on:click=move |_| {
                        let opening = !open.get_untracked();
                        open_only(ui, settings_open, opening.then_some(open));
                        if let (Some(unread), true) = (unread, opening) {
                            unread.set(0);
                        }
                    }>
                    {fixed(icon_name)}
                    <span class="label">{label}</span>
                    {move || unread.map(|n| n.get()).filter(|n| *n > 0).map(|n| view! {
                        <span class="badge" aria-hidden="true">{n}</span>
                        <span class="visually-hidden">" "{t_count(Text::CallUnread, n as u64)}</span>
                    })}
                </button>
            }
        };
    let controls = view! {
        <div class="controls" class:ask-to-speak=move || ui.ask_to_speak.get() role="toolbar" aria-label=t(Text::CallControls)>
            {Switch::Microphone.button(ui, true)}
            {Switch::Camera.button(ui, true)}
            <button type="button" class="tool share" hidden=move || !ui.may_share_screen.get() aria-pressed=move || ui.sharing.get().to_string()
                on:click=toggle_share>
                {icon(Signal::derive(move || if ui.sharing.get() { "monitor-x" } else { "monitor-up" }))}
                <span class="label">{move || t(if ui.sharing.get() { Text::CallStopSharing } else { Text::CallShare })}</span>
            </button>
            // Asking is the pupil's way to speak: drawn out until they may.
            <button type="button" class="tool" class:primary=move || ui.ask_to_speak.get() && !ui.host.get() && !ui.may_unmute.get()
                aria-pressed=move || my_hand_up().to_string() on:click=toggle_hand>
                {fixed("hand")}
                <span class="label">{move || t(if my_hand_up() { Text::CallLowerHand } else { Text::CallRaiseHand })}</span>
            </button>
            {panel_button(t(Text::CallChat), "message-square", ui.chat_open, "chat-panel", Some(ui.unread))}
            {panel_button(t(Text::CallPeople), "users", ui.people_open, "people-panel", None)}
            {menu(t(Text::CallMore).into(), "ellipsis", "more", ViewFn::from(more_items))}
            {hang_up(ui, end_first, leave)}
        </div>
    }
    .into_any();
    let close = move |open: RwSignal<bool>, what: &'static str| {
        view! {
            <button type="button" class="close" on:click=move |_| open.set(false)>
                {fixed("x")}<span class="visually-hidden">{what}</span>
            </button>
        }
    };
    let panels = view! {
        <div class="side">
            <div id="chat-panel" class="sheet" hidden=move || !ui.chat_open.get()>{close(ui.chat_open, t(Text::CallCloseChat))}<ChatPanel ui kept=chat_kept/></div>
            <div id="people-panel" class="sheet" hidden=move || !ui.people_open.get()>{close(ui.people_open, t(Text::CallClosePeople))}<PeopleList ui/></div>
            <div id="settings-panel" class="sheet" hidden=move || !settings_open.get()>
                {close(settings_open, t(Text::CallCloseSettings))}
                <section class="panel" aria-labelledby="settings-heading">
                    <h2 id="settings-heading">{t(Text::CallSettingsHeading)}</h2>
                    <DeviceSettings ui/>
                </section>
            </div>
        </div>
    }
    .into_any();
    view! {
        <section class="in-call" aria-label=t_with(Text::CallCallIn, &[("room", &room_name)])>
            <header class="call-bar">
                <h1>{room_name.clone()}</h1>
                <p class="call-status" class:reconnecting=move || ui.phase.get() == Phase::Reconnecting role="status">{status}</p>
            </header>
            // Above the stage, never over a tile.
            {queue}
            <p class="visually-hidden" aria-live="polite">{move || ui.announcement.get()}</p>
            <div class="call-body">
                <div class="stage-area" class:alone=move || ui.others.with(Vec::is_empty) class:presenting=move || presenter().is_some()>
                    // Over the top of the stage: below the hands' rail.
                    <div class="call-messages">
                        <Lobby ui/>
                        <div role="status">{notices}</div>
                        <p class="hint" id="speak-hint" hidden=move || ui.may_unmute.get()>
                            {t(Text::CallAskToSpeak)}
                        </p>
                    </div>
                    {stage}{grid}{pager}
                </div>
                {panels}
            </div>
            {controls}
        </section>
    }
}

/// Opens panel `open` and closes the others (or closes all, given `None`).
fn open_only(ui: CallUi, settings: RwSignal<bool>, open: Option<RwSignal<bool>>) {
    for panel in [ui.chat_open, ui.people_open, settings] {
        panel.set(open == Some(panel));
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

/// The host's way to breakout rooms, in calls through the media server:
/// their form (given who is in the call) or, while open, their panel.
#[cfg(feature = "bundle-sfu")]
fn breakouts_button(ui: CallUi) -> impl IntoView {
    view! {
        <button type="button" on:click=move |_| {
            // "breakouts", then a line a person, "id<tab>name" (no JSON: the
            // call's bundle never writes a participant otherwise).
            let people: String = ui.others.with_untracked(|others| others.iter().map(|p| format!("\n{}\t{}", p.id.0, p.name)).collect());
            crate::client::compose(&format!("breakouts{people}"));
        }>{t(Text::BreakoutTitle)}</button>
    }
}

#[cfg(not(feature = "bundle-sfu"))]
fn breakouts_button(_: CallUi) {}

/// The red hang-up: a guest leaves; the host chooses between ending the
/// call for everyone (first in a consultation, where a visit ends with the
/// doctor) and leaving it to go on without them.
fn hang_up(ui: CallUi, end_first: bool, leave: impl Fn(()) + Copy + Send + Sync + 'static) -> AnyView {
    let just_leave = move || view! { <button type="button" on:click=move |_| leave(())>{t(Text::CallJustLeave)}</button> };
    let end = move || {
        view! {
            <button type="button" class="danger" on:click=move |_| {
                #[cfg(feature = "hydrate")]
                crate::client::end_for_all(false);
            }>{t(Text::CallEndForEveryone)}</button>
        }
    };
    let items = move || {
        if end_first {
            view! { {end()}{just_leave()} }.into_any()
        } else {
            view! { {just_leave()}{end()} }.into_any()
        }
    };
    let hang_up = move || {
        if ui.host.get() {
            return menu(t(Text::CallLeave).into(), "phone-off", "hang-up", ViewFn::from(items));
        }
        view! {
            <button type="button" class="tool danger" on:click=move |_| leave(())>
                {fixed("phone-off")}<span class="label">{t(Text::CallLeave)}</span>
            </button>
        }
        .into_any()
    };
    hang_up.into_any()
}

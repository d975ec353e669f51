//! The side panels: chat, the list of people, and the device settings.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use super::actions::{role_of, send};
use crate::call::protocol::{ClientMessage, ParticipantId};
use crate::call::ui::{CallUi, DeviceKind};

/// The call's chat: everyone's messages with names and times, and a box to
/// write. Text stays text: a link is shown, never fetched or made clickable.
#[component]
pub fn ChatPanel(ui: CallUi, kept: bool) -> impl IntoView {
    let input = NodeRef::<leptos::html::Textarea>::new();
    let error = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(field) = input.get_untracked() else { return };
        let text = field.value();
        match crate::domain::ChatText::parse(&text) {
            Ok(_) => {
                error.set(None);
                field.set_value("");
                send(ClientMessage::Chat { text });
            }
            Err(crate::domain::Problem::Missing) => error.set(Some(t(Text::ChatEmpty))),
            Err(_) => error.set(Some(t(Text::ChatTooLong))),
        }
    };
    // Enter sends, Shift+Enter starts a new line.
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() {
            ev.prevent_default();
            if let Some(form) = input.get_untracked().and_then(|field| field.form()) {
                let _ = form.request_submit();
            }
        }
    };
    let lines = move || {
        ui.chat.with(|all| {
            all.iter()
                .map(|line| {
                    let who = if line.mine { t_with(Text::PeopleYou, &[("name", &line.who)]) } else { line.who.clone() };
                    view! {
                        <li class:mine=line.mine>
                            <span class="who">{who}</span> " " <span class="at">{line.at.clone()}</span>
                            <p>{line.text.clone()}</p>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="chat panel" aria-labelledby="chat-heading" hidden=move || !ui.chat_open.get()>
            <h2 id="chat-heading">{t(Text::ChatHeading)}</h2>
            <p class="hint">{t(if kept { Text::ChatKept } else { Text::ChatNotKept })}</p>
            <ol class="messages" aria-live="polite">
                {lines}
                {move || ui.chat.with(Vec::is_empty).then(|| view! { <li class="hint">{t(Text::ChatNoneYet)}</li> })}
            </ol>
            <form on:submit=submit>
                <label for="chat-message">{t(Text::ChatMessageLabel)}</label>
                <textarea id="chat-message" rows="2" maxlength="2000" node_ref=input on:keydown=keydown
                    aria-describedby="chat-error"></textarea>
                <p class="form-error" id="chat-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="primary">{t(Text::ChatSend)}</button>
            </form>
        </section>
    }
    .into_any()
}

/// Everyone in the call with what they send and whether their hand is up.
#[component]
pub fn PeopleList(ui: CallUi) -> impl IntoView {
    let row = move |id: Option<ParticipantId>, name: String| {
        let state = move || {
            let (mic, cam, screen) = match id {
                None => (ui.microphone_on.get(), ui.camera_on.get(), ui.sharing.get()),
                Some(id) => ui.media_of.with(|all| all.get(&id).map_or((false, false, false), |m| (m.microphone, m.camera, m.screen.is_some()))),
            };
            let me = ui.me.with(|me| me.as_ref().map(|p| p.id));
            let hand = id.or(me).and_then(|who| ui.hands.with(|h| h.iter().position(|p| *p == who)));
            let mut parts = vec![
                t(if mic { Text::PeopleMicrophoneOn } else { Text::PeopleMuted }).to_string(),
                t(if cam { Text::PeopleCameraOn } else { Text::PeopleCameraOff }).to_string(),
            ];
            if screen {
                parts.push(t(Text::PeopleSharing).into());
            }
            if let Some(n) = hand {
                parts.push(t_with(Text::PeopleHandRaised, &[("place", &(n + 1).to_string())]));
            }
            parts.join(", ")
        };
        let me = ui.me.with_untracked(|me| me.as_ref().map(|p| p.id));
        let role = move || id.or(me).and_then(|who| role_of(ui, who));
        view! { <li><span class="who">{name}</span> <span class="state">{state}</span> <span class="role">{role}</span></li> }
    };
    let me = move || ui.me.get().map(|p| row(None, t_with(Text::PeopleYou, &[("name", &p.name.to_string())])));
    view! {
        <section class="people panel" aria-labelledby="people-heading" hidden=move || !ui.people_open.get()>
            <h2 id="people-heading">{move || t_count(Text::PeopleHeading, ui.others.with(Vec::len) as u64 + 1)}</h2>
            <ul>
                {me}
                <For each=move || ui.others.get() key=|p| p.id let:participant>
                    {row(Some(participant.id), participant.name.to_string())}
                </For>
            </ul>
        </section>
    }
    .into_any()
}

/// Camera, microphone and speaker pickers, a level meter and a test sound.
/// Choices are remembered by the browser for next time.
#[component]
pub fn DeviceSettings(ui: CallUi) -> impl IntoView {
    let picker = move |kind: DeviceKind, label: &'static str, id: &'static str, chosen: RwSignal<String>| {
        let options = move || {
            ui.devices.with(|all| {
                all.iter()
                    .filter(|d| d.kind == kind)
                    .map(|d| {
                        let value = d.id.clone();
                        let selected = chosen.get() == value;
                        view! { <option value=value selected=selected>{d.label.clone()}</option> }
                    })
                    .collect_view()
            })
        };
        let change = move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            chosen.set(value.clone());
            #[cfg(feature = "hydrate")]
            crate::client::choose_device(ui, kind, value);
            #[cfg(not(feature = "hydrate"))]
            let _ = value;
        };
        let none = move || ui.devices.with(|all| !all.iter().any(|d| d.kind == kind));
        view! {
            <div class="picker" hidden=none>
                <label for=id>{label}</label>
                <select id=id on:change=change>{options}</select>
            </div>
        }
    };
    let sound = RwSignal::new(None::<&'static str>);
    let test_sound = move |_| {
        sound.set(Some(t(Text::DevicesTestSoundPlaying)));
        #[cfg(feature = "hydrate")]
        crate::client::play_test_sound(ui);
    };
    view! {
        <div class="devices">
            {picker(DeviceKind::Camera, t(Text::DevicesCamera), "pick-camera", ui.camera_id)}
            {picker(DeviceKind::Microphone, t(Text::DevicesMicrophone), "pick-microphone", ui.microphone_id)}
            <div class="meter">
                <label for="mic-level">{t(Text::DevicesMicrophoneLevel)}</label>
                <meter id="mic-level" min="0" max="100" low="5" value=move || ui.mic_level.get()></meter>
            </div>
            <div class="picker" hidden=move || !ui.speaker_choice.get()>
                {picker(DeviceKind::Speaker, t(Text::DevicesSpeaker), "pick-speaker", ui.speaker_id)}
            </div>
            <button type="button" on:click=test_sound>{t(Text::DevicesTestSound)}</button>
            <p class="hint" role="status">{move || sound.get()}</p>
        </div>
    }
    .into_any()
}

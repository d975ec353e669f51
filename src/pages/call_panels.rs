//! The call's side panels and small parts: chat, the list of people, the
//! device pickers and the connection-quality badge. Rendering only; the
//! browser client fills the signals in [`CallUi`].

use leptos::prelude::*;

use super::call::CallUi;
use crate::call::protocol::{ClientMessage, ParticipantId};

/// One chat message as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Its place in the conversation (a stable key for the list).
    pub seq: usize,
    pub who: String,
    pub mine: bool,
    /// The server's time of sending, in the reader's clock ("14:05").
    pub at: String,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

/// A camera, microphone or speaker the browser offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub kind: DeviceKind,
    pub id: String,
    pub label: String,
}

/// How a connection to one other participant is doing, overall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Grade {
    /// Too early to say (no figures yet).
    #[default]
    Unknown,
    Good,
    Fair,
    Poor,
}

impl Grade {
    /// Poor with a round trip over 400 ms, over 8 % of packets lost or a
    /// video freeze in the last interval; fair over 200 ms or 2 %.
    pub fn of(rtt_ms: Option<u32>, loss_pct: f32, froze: bool) -> Self {
        let Some(rtt) = rtt_ms else { return Self::Unknown };
        if rtt > 400 || loss_pct > 8.0 || froze {
            Self::Poor
        } else if rtt > 200 || loss_pct > 2.0 {
            Self::Fair
        } else {
            Self::Good
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Unknown => "checking",
            Self::Good => "good",
            Self::Fair => "fair",
            Self::Poor => "poor",
        }
    }
}

/// Figures for one connection over the last few seconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub grade: Grade,
    pub rtt_ms: Option<u32>,
    pub loss_pct: f32,
    /// Received, audio and video together.
    pub kbps: u32,
    /// Video freezes since the connection started.
    pub freezes: u32,
    /// Their voice's level (0 to 1), for the active speaker.
    pub audio_level: f32,
}

/// "Connection: good", with the figures behind it on demand.
#[component]
pub fn QualityBadge(ui: CallUi, id: ParticipantId) -> impl IntoView {
    let quality = move || ui.quality.with(|all| all.get(&id).cloned().unwrap_or_default());
    let summary = move || format!("Connection: {}", quality().grade.word());
    let grade = move || quality().grade.word();
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
                super::call::send(ClientMessage::Chat { text });
            }
            Err(_) if text.trim().is_empty() => error.set(Some("Write something first.")),
            Err(_) => error.set(Some("A message can be up to 2,000 characters.")),
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
                    let who = if line.mine { format!("{} (you)", line.who) } else { line.who.clone() };
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
            <h2 id="chat-heading">"Chat"</h2>
            <p class="hint">{if kept { "The host keeps this chat after the call." } else { "This chat is not kept after the call." }}</p>
            <ol class="messages" aria-live="polite">
                {lines}
                {move || ui.chat.with(Vec::is_empty).then(|| view! { <li class="hint">"No messages yet."</li> })}
            </ol>
            <form on:submit=submit>
                <label for="chat-message">"Message to everyone"</label>
                <textarea id="chat-message" rows="2" maxlength="2000" node_ref=input on:keydown=keydown
                    aria-describedby="chat-error"></textarea>
                <p class="form-error" id="chat-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="primary">"Send"</button>
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
            let mut parts = vec![if mic { "microphone on" } else { "muted" }.to_string(), if cam { "camera on" } else { "camera off" }.to_string()];
            if screen {
                parts.push("sharing their screen".into());
            }
            if let Some(n) = hand {
                parts.push(format!("hand raised ({})", super::call::ordinal(n + 1)));
            }
            parts.join(", ")
        };
        let me = ui.me.with_untracked(|me| me.as_ref().map(|p| p.id));
        let role = move || id.or(me).and_then(|who| super::call::role_of(ui, who));
        view! { <li><span class="who">{name}</span> <span class="state">{state}</span> <span class="role">{role}</span></li> }
    };
    let me = move || ui.me.get().map(|p| row(None, format!("{} (you)", p.name)));
    view! {
        <section class="people panel" aria-labelledby="people-heading" hidden=move || !ui.people_open.get()>
            <h2 id="people-heading">{move || format!("People ({})", ui.others.with(Vec::len) + 1)}</h2>
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
        sound.set(Some("Playing a test sound: two notes. If you heard nothing, check the speaker and its volume."));
        #[cfg(feature = "hydrate")]
        crate::client::play_test_sound(ui);
    };
    view! {
        <div class="devices">
            {picker(DeviceKind::Camera, "Camera", "pick-camera", ui.camera_id)}
            {picker(DeviceKind::Microphone, "Microphone", "pick-microphone", ui.microphone_id)}
            <div class="meter">
                <label for="mic-level">"Microphone level"</label>
                <meter id="mic-level" min="0" max="100" low="5" value=move || ui.mic_level.get()></meter>
            </div>
            <div class="picker" hidden=move || !ui.speaker_choice.get()>
                {picker(DeviceKind::Speaker, "Speaker", "pick-speaker", ui.speaker_id)}
            </div>
            <button type="button" on:click=test_sound>"Play test sound"</button>
            <p class="hint" role="status">{move || sound.get()}</p>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::Grade;

    #[test]
    fn a_connection_is_graded_by_its_worst_figure() {
        assert_eq!(Grade::of(None, 0.0, false), Grade::Unknown, "no round trip measured yet");
        assert_eq!(Grade::of(Some(30), 0.0, false), Grade::Good);
        assert_eq!(Grade::of(Some(200), 2.0, false), Grade::Good, "the limits themselves are still good");
        assert_eq!(Grade::of(Some(201), 0.0, false), Grade::Fair);
        assert_eq!(Grade::of(Some(30), 2.5, false), Grade::Fair);
        assert_eq!(Grade::of(Some(401), 0.0, false), Grade::Poor);
        assert_eq!(Grade::of(Some(30), 9.0, false), Grade::Poor);
        assert_eq!(Grade::of(Some(30), 0.0, true), Grade::Poor, "a video freeze");
    }
}

//! Before joining: the camera and microphone check, the connection check,
//! the name (and passcode) form, and the wait for a room not yet open.

use leptos::prelude::*;

use super::panels::DeviceSettings;
use super::tiles::LocalVideo;
use super::widgets::Switch;
use crate::api::rooms::{Availability, RoomInvitation};
use crate::call::ui::{CallUi, MediaCheck};
use crate::i18n::{t, t_with, Text};

#[component]
pub(super) fn PreJoin(ui: CallUi, invitation: RoomInvitation, hydrated: RwSignal<bool>, availability: RwSignal<Availability>) -> impl IntoView {
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
            Err(problem) => name_error.set(Some(problem.words())),
        }
    };
    let media_status = move || match ui.media.get() {
        MediaCheck::Checking => t(Text::PrejoinMediaChecking),
        MediaCheck::Ready { camera: true, microphone: true } => t(Text::PrejoinMediaReady),
        MediaCheck::Ready { camera: true, microphone: false } => t(Text::PrejoinMediaNoMicrophone),
        MediaCheck::Ready { camera: false, .. } => t(Text::PrejoinMediaNoCamera),
        MediaCheck::Unavailable(why) => t(why),
    };
    let open = move || availability.get() == Availability::Open;
    let can_join = move || hydrated.get() && open();
    // Opens by itself when a check finds a problem.
    let problem = move || [ui.server_check, ui.network_check].iter().any(|c| c.with(|c| c.as_ref().is_some_and(|(ok, _)| !ok)));
    let preview = view! {
        <div class="preview-box">
            <LocalVideo ui class="preview" label=t(Text::PrejoinPreview)/>
            <div class="preview-controls">
                {Switch::Microphone.button(ui, false)}
                {Switch::Camera.button(ui, false)}
            </div>
        </div>
        <p class="media-status" role="status">{media_status}</p>
    }
    .into_any();
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
                            <p><strong>{t_with(Text::PrejoinStartsAt, &[("title", &title), ("starts", &starts)])}</strong></p>
                            <p>{t_with(Text::PrejoinJoinFrom, &[("opens", &opens)])}</p>
                        </div>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
            <Greeting host_name=invitation.host_name.clone() note=invitation.welcome_note.clone()/>
            <div class="prejoin-body">
                {preview}
                <form on:submit=join>
                    <crate::pages::form::Field
                        label=t(Text::PrejoinYourName)
                        name="display_name"
                        autocomplete="name"
                        value=invitation.your_name.clone().unwrap_or_else(|| ui.typed_name.get_untracked())
                        readonly=signed_in
                        hint=if signed_in { t(Text::PrejoinNameOnAccount) } else { t(Text::PrejoinNameShown) }
                        node_ref=name_input
                        error=name_error
                    />
                    {passcode_required.then(|| view! {
                        <crate::pages::form::Field label=t(Text::PrejoinPasscode) name="passcode" autocomplete="off"
                            hint=t(Text::PrejoinPasscodeHint) node_ref=passcode_input error=ui.passcode_error/>
                    })}
                    <button type="submit" class="primary join" disabled=move || !can_join()>
                        {move || t(if !hydrated.get() { Text::PrejoinLoading } else if open() { Text::PrejoinJoin } else { Text::PrejoinNotOpenYet })}
                    </button>
                    {invitation.chat_kept.then(|| view! { <p class="hint">{t(Text::PrejoinChatKept)}</p> })}
                </form>
            </div>
            <p class="notice" role="status">{move || ui.notice.get()}</p>
            <details class="setup" open=problem>
                <summary>{t(Text::PrejoinCheckSetup)}</summary>
                <DeviceSettings ui/>
                <ConnectionCheck ui probes=invitation.probe_urls.clone() media=invitation.media_probe.clone()/>
            </details>
        </section>
    }
}

/// What the host chose to show guests before letting them in: their name
/// and a welcome note (nothing, by default).
#[component]
pub(super) fn Greeting(host_name: Option<String>, note: Option<String>) -> impl IntoView {
    let name = host_name.map(|name| view! { <p class="host-name">{t_with(Text::PrejoinYourHost, &[("name", &name)])}</p> });
    let note = note.map(|note| {
        view! {
            <figure class="welcome-note">
                <figcaption>{t(Text::PrejoinHostNote)}</figcaption>
                <blockquote>{note}</blockquote>
            </figure>
        }
    });
    view! { <div class="greeting">{name}{note}</div> }
}

/// Whether this browser reaches the server, and the call's media server or
/// the network servers, run once on arrival and again on request.
#[component]
pub(super) fn ConnectionCheck(ui: CallUi, probes: Vec<String>, media: Option<String>) -> impl IntoView {
    let run = move || {
        #[cfg(feature = "hydrate")]
        crate::client::check_connection(ui, probes.clone(), media.clone());
        #[cfg(not(feature = "hydrate"))]
        let _ = (&probes, &media);
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
            <h2>{t(Text::CheckHeading)}</h2>
            <ul>
                {line(ui.server_check, t(Text::CheckCheckingServer))}
                {line(ui.network_check, t(Text::CheckCheckingNetwork))}
            </ul>
            <button type="button" on:click=move |_| run()>{t(Text::CheckAgain)}</button>
        </div>
    }
    .into_any()
}

/// The start and the opening of a session, in the visitor's own time zone
/// once the browser can say it ("Tuesday, 1 December 2026 at 09:00"), and
/// in the session's zone (`fallback`) until then.
pub(super) fn local_times(starts_at_ms: i64, opens_at_ms: i64, fallback: String, local: bool) -> (String, String) {
    #[cfg(feature = "hydrate")]
    {
        let local_pair = local.then(|| crate::client::local_time(starts_at_ms).zip(crate::client::local_time(opens_at_ms))).flatten();
        if let Some((starts, opens)) = local_pair {
            return (t_with(Text::PrejoinYourTime, &[("time", &starts)]), opens);
        }
    }
    let _ = (starts_at_ms, opens_at_ms, local);
    (fallback, t(Text::PrejoinShortlyBefore).to_string())
}

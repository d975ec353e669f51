//! After a call, or instead of one: a calm screen for each way out, saying
//! what happened and what may be done next. For the host, a summary of the
//! call with a link to its attendance.

use leptos::prelude::*;

use crate::call::ui::{CallUi, Ending, Phase};

/// The heading and the sentence of each ending (one place for their words).
fn words(ending: &Ending) -> (&'static str, String) {
    match ending {
        Ending::CallEnded { by_me: true } => ("The call has ended", "You ended the call for everyone.".into()),
        Ending::CallEnded { by_me: false } => ("The call has ended", "The host ended the call. Thank you for joining.".into()),
        Ending::Removed => (
            "You were removed from the call",
            "The host removed you from the call. If you think this is a mistake, contact whoever sent you the link.".into(),
        ),
        Ending::TurnedAway => (
            "The host did not let you in",
            "The host did not let you in this time. If you think this is a mistake, contact whoever sent you the link.".into(),
        ),
        Ending::Full => ("This call is full", "Someone has to leave before you can join. Try again in a few minutes.".into()),
        Ending::Stopped(message) => ("You are not in the call", message.clone()),
    }
}

/// What to offer next, by ending: its button's words, if any.
fn next_step(ending: &Ending) -> Option<&'static str> {
    match ending {
        Ending::CallEnded { .. } | Ending::TurnedAway => None,
        Ending::Removed => Some("Ask to join again"),
        Ending::Full | Ending::Stopped(_) => Some("Try again"),
    }
}

/// The screen for `ending`.
#[component]
pub(super) fn EndScreen(ui: CallUi, ending: Ending, attendance_path: Option<String>) -> impl IntoView {
    let (title, text) = words(&ending);
    let calm = matches!(ending, Ending::CallEnded { .. });
    let next = next_step(&ending).map(|label| {
        view! { <button type="button" class="primary" on:click=move |_| ui.phase.set(Phase::PreJoin)>{label}</button> }
    });
    view! {
        <section class="card narrow ended">
            <h1>{title}</h1>
            <p class=if calm { "notice" } else { "form-error" } role=if calm { "status" } else { "alert" }>{text}</p>
            <HostSummary ui attendance_path/>
            {next}
        </section>
    }
}

/// After leaving on purpose: rejoin with the same name.
#[component]
pub(super) fn LeftScreen(ui: CallUi, attendance_path: Option<String>) -> impl IntoView {
    view! {
        <section class="card narrow ended">
            <h1>"You left the call"</h1>
            <HostSummary ui attendance_path/>
            <button type="button" class="primary" on:click=move |_| ui.phase.set(Phase::PreJoin)>"Rejoin"</button>
        </section>
    }
}

/// For the host: how long they were in the call, who was there, and the
/// way to the room's attendance.
#[component]
fn HostSummary(ui: CallUi, attendance_path: Option<String>) -> impl IntoView {
    let path = attendance_path?;
    let entered = ui.entered_at_ms.get_untracked()?;
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as u64;
    #[cfg(not(feature = "hydrate"))]
    let now = entered;
    let minutes = now.saturating_sub(entered) / 60_000;
    let duration = match minutes {
        0 => "You were in the call for less than a minute.".to_string(),
        1 => "You were in the call for 1 minute.".to_string(),
        n => format!("You were in the call for {n} minutes."),
    };
    let people = ui.attended.get_untracked();
    let who = if people.is_empty() { "Nobody else joined.".to_string() } else { format!("With you: {}.", people.join(", ")) };
    Some(view! {
        <div class="summary">
            <h2>"Summary"</h2>
            <p>{duration}</p>
            <p>{who}</p>
            <p><a href=path>"See the attendance"</a></p>
        </div>
    })
}

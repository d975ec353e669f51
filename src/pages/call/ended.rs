//! After a call, or instead of one: a calm screen for each way out, saying
//! what happened and what may be done next. For the host, a summary of the
//! call with a link to its attendance.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use crate::call::ui::{CallUi, Ending, Phase};

/// The heading and the sentence of each ending (one place for their words).
fn words(ending: &Ending) -> (&'static str, String) {
    match ending {
        Ending::CallEnded { by_me: true } => (t(Text::EndedEnded), t(Text::EndedYouEnded).into()),
        Ending::CallEnded { by_me: false } => (t(Text::EndedEnded), t(Text::EndedHostEnded).into()),
        Ending::HostGone => (t(Text::EndedEnded), t(Text::EndedHostGone).into()),
        Ending::Removed => (t(Text::EndedRemoved), t(Text::EndedRemovedText).into()),
        Ending::TurnedAway => (t(Text::EndedTurnedAway), t(Text::EndedTurnedAwayText).into()),
        Ending::Full => (t(Text::EndedFull), t(Text::EndedFullText).into()),
        Ending::Locked => (t(Text::EndedLocked), t(Text::EndedLockedText).into()),
        Ending::Stopped(message) => (t(Text::EndedNotInCall), message.clone()),
    }
}

/// What to offer next, by ending: its button's words, if any.
fn next_step(ending: &Ending) -> Option<&'static str> {
    match ending {
        Ending::CallEnded { .. } | Ending::HostGone | Ending::TurnedAway => None,
        Ending::Removed => Some(t(Text::EndedAskAgain)),
        Ending::Full | Ending::Locked | Ending::Stopped(_) => Some(t(Text::EndedTryAgain)),
    }
}

/// The screen for `ending`.
#[component]
pub(super) fn EndScreen(ui: CallUi, ending: Ending, attendance_path: Option<String>) -> impl IntoView {
    let (title, text) = words(&ending);
    // Red only for what went wrong; a host's choice or a full call is calm.
    let calm = !matches!(ending, Ending::Stopped(_));
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
            <h1>{t(Text::EndedYouLeft)}</h1>
            <HostSummary ui attendance_path/>
            <button type="button" class="primary" on:click=move |_| ui.phase.set(Phase::PreJoin)>{t(Text::EndedRejoin)}</button>
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
        0 => t(Text::EndedUnderAMinute).to_string(),
        n => t_count(Text::EndedMinutes, n),
    };
    let people = ui.attended.get_untracked();
    let who = if people.is_empty() { t(Text::EndedNobodyElse).to_string() } else { t_with(Text::EndedWithYou, &[("names", &people.join(", "))]) };
    Some(view! {
        <div class="summary">
            <h2>{t(Text::EndedSummary)}</h2>
            <p>{duration}</p>
            <p>{who}</p>
            <p><a href=path>{t(Text::EndedAttendance)}</a></p>
        </div>
    })
}

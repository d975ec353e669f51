//! The call page: the pre-join screen and the call itself. Rendering is
//! shared; everything that touches media or the network lives in
//! `crate::client` (browser only) and talks to this view through the
//! signals in [`CallUi`](crate::call::ui::CallUi).
//!
//! `prejoin` (devices, connection check, name), `in_call` (the call's
//! screen), `lobby` (the host's waiting list), `tiles` (videos), `panels`
//! (chat, people, devices) and `actions` (what buttons send).

mod actions;
mod class;
mod ended;
mod in_call;
mod lobby;
pub(crate) use lobby::waited_for;
mod panels;
mod prejoin;
mod tiles;
mod widgets;

use leptos::prelude::*;

use self::ended::{EndScreen, LeftScreen};
use self::in_call::InCall;
use self::lobby::LobbyWords;
use self::prejoin::PreJoin;
use self::tiles::LocalVideo;
use crate::api::rooms::{Availability, RoomInvitation};
use crate::call::ui::{CallUi, Phase};
use crate::i18n::{t, Text};

/// The whole room experience: check devices, join, talk, leave. An island:
/// this part of the page runs in the browser.
// An island in the call's bundles; in the site's, a component nothing uses.
#[cfg_attr(any(feature = "ssr", feature = "bundle-mesh", feature = "bundle-sfu"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "bundle-mesh", feature = "bundle-sfu")), component)]
pub fn Call(invitation: RoomInvitation) -> impl IntoView {
    let ui = CallUi::new();
    ui.host.set(invitation.host);
    ui.ask_to_speak.set(invitation.guests_ask_to_speak);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let room_name = invitation.name.clone();
    let room_for_alerts = invitation.name.clone();
    let attendance_path = invitation.attendance_path.clone();
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
    // Notifications allowed before stay allowed.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        ui.notify_waiting.set(crate::client::may_notify());
    });
    // For the host, someone new waiting shows in the tab's title, chimes,
    // and (if asked for) notifies.
    #[cfg(feature = "hydrate")]
    Effect::new(move |before| {
        let now = ui.waiting.with(|all| {
            all.iter()
                .map(|w| (w.id, crate::i18n::t_with(Text::LobbyWaitingTitle, &[("name", &w.name.to_string()), ("room", &room_for_alerts)])))
                .collect()
        });
        crate::client::waiting_changed(before, now, &ui.speaker_id.get_untracked(), ui.notify_waiting.get_untracked())
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = room_for_alerts;
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
                        <p class="notice" role="status">{t(Text::PrejoinEnded)}</p>
                        <p>{t(Text::PrejoinEndedHint)}</p>
                    </section>
                }.into_any(),
                Phase::PreJoin => view! { <PreJoin ui invitation=invitation.clone() hydrated availability/> }.into_any(),
                Phase::Waiting => view! {
                    <section class="card narrow waiting">
                        <h1>{room_name.clone()}</h1>
                        <p class="notice" role="status"><strong>{t(Text::WaitingLetIn)}</strong></p>
                        <p role="status">{move || t(if ui.host_here.get() { Text::WaitingHostHere } else { Text::WaitingHostAway })}</p>
                        <p class="notice" role="status">{move || ui.notice.get()}</p>
                        <prejoin::Greeting host_name=invitation.host_name.clone() note=invitation.welcome_note.clone()/>
                        <LobbyWords ui guest=None host_name=invitation.host_name.clone()/>
                        <LocalVideo ui class="preview" label=t(Text::PrejoinPreview)/>
                        <button type="button" on:click=move |_| {
                            #[cfg(feature = "hydrate")]
                            crate::client::leave();
                            ui.phase.set(Phase::Left);
                        }>{t(Text::WaitingLeave)}</button>
                    </section>
                }.into_any(),
                Phase::Connecting | Phase::InCall | Phase::Reconnecting => view! { <InCall ui room_name=room_name.clone() chat_kept=invitation.chat_kept end_first=invitation.consultation/> }.into_any(),
                Phase::Left => view! { <LeftScreen ui attendance_path=attendance_path.clone()/> }.into_any(),
                Phase::Ended(ending) => view! { <EndScreen ui ending attendance_path=attendance_path.clone()/> }.into_any(),
            }}
        </div>
    }
}

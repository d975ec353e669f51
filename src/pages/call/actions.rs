//! What the call's buttons do: send a message (in the browser; nothing on
//! the server), and the small words shared by the view's parts.

use crate::i18n::{t, t_with, Text};
use leptos::prelude::*;

use crate::call::protocol::{ClientMessage, Participant, ParticipantId};
use crate::call::ui::CallUi;

/// Sends a call message (in the browser; nothing on the server).
pub(super) fn send(message: ClientMessage) {
    #[cfg(feature = "hydrate")]
    crate::client::send(message);
    #[cfg(not(feature = "hydrate"))]
    let _ = message;
}

/// A button that sends `message` and says `done` (the host's own
/// confirmation, replaced by the server's refusal if it refuses): one shape
/// for every host command, which keeps the bundle small.
pub(super) fn command(ui: CallUi, label: String, message: ClientMessage, done: String) -> AnyView {
    let click = move |_| {
        ui.notice.set(Some(done.clone()));
        send(message.clone());
    };
    view! { <button type="button" on:click=click>{label}</button> }.into_any()
}

/// The host's "Let … speak" for `label`'s participant `id`: in a tile's
/// menu, and beside a raised hand in the queue.
pub(super) fn let_speak(ui: CallUi, id: ParticipantId, label: &str) -> AnyView {
    command(ui, t_with(Text::TileLetSpeak, &[("name", label)]), ClientMessage::LetSpeak { id }, t_with(Text::TileMayUnmute, &[("name", label)]))
}

/// What shows beside someone's name: "(host)" for the host, and "(guest)"
/// for a guest who has a host's name, so that nobody passes for the host.
pub(super) fn role_of(ui: CallUi, id: ParticipantId) -> Option<&'static str> {
    let everyone = |f: &dyn Fn(&Participant) -> bool| ui.others.with(|o| o.iter().any(f)) || ui.me.with(|me| me.as_ref().is_some_and(f));
    let (host, name) = ui
        .others
        .with(|o| o.iter().find(|p| p.id == id).map(|p| (p.host, p.name.clone())))
        .or_else(|| ui.me.with(|me| me.as_ref().filter(|p| p.id == id).map(|p| (p.host, p.name.clone()))))?;
    if host {
        return Some(t(Text::PeopleRoleHost));
    }
    everyone(&|p: &Participant| p.host && p.name == name).then(|| t(Text::PeopleRoleGuest))
}

//! The host's rooms: create one, see each with its join link.

use crate::i18n::{t, t_with, Text};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::api::rooms::{my_rooms, CreateRoom, RoomSummary, WaitingGuestSummary};
use crate::domain::RoomKind;
use crate::error::AppError;
use crate::pages::form::{field_error, outcome, Field, FormError};
use crate::pages::join_link::JoinLink;

#[component]
pub fn RoomsPage() -> impl IntoView {
    let create = ServerAction::<CreateRoom>::new();
    let value = outcome(create);
    let rooms = Resource::new(move || create.version().get(), |_| my_rooms());
    view! {
        <Title text=t(Text::RoomsTitle)/>
        <WaitingPanel/>
        <crate::pages::sessions::UpcomingSessions/>
        <section class="card">
            <h1>{t(Text::RoomsTitle)}</h1>
            <ActionForm action=create attr:class="create-room">
                <FormError value=value/>
                <Field label=t(Text::RoomsRoomName) name="name" hint=t(Text::RoomsRoomNameHint)
                    error=field_error(value, "name")/>
                <crate::pages::room_settings::KindField current=RoomKind::Meeting error=field_error(value, "kind")/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>{t(Text::RoomsCreate)}</button>
            </ActionForm>
            <Suspense fallback=|| view! { <p role="status">{t(Text::RoomsLoading)}</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">{t(Text::RoomsNone)}</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="room-list">
                                {list.into_iter().map(|room| view! { <RoomItem room/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::SignInRequired) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// One room with its join link, a copy button and a way in.
#[component]
fn RoomItem(room: RoomSummary) -> impl IntoView {
    let link_id = format!("link-{}", room.slug);
    view! {
        <li class="room">
            <h2>{room.name.clone()}</h2>
            <p class="room-kind-label">{crate::pages::room_settings::kind_words(room.kind).0}</p>
            <JoinLink id=link_id label=t_with(Text::RoomsJoinLinkFor, &[("room", &room.name)]) link=room.join_link>
                <A href=format!("/r/{}", room.slug) attr:class="button primary">{t(Text::RoomsOpenRoom)}</A>
            </JoinLink>
            <p><A href=format!("/rooms/{}", room.id)>{t_with(Text::RoomsSettingsOf, &[("room", &room.name)])}</A></p>
        </li>
    }
}

/// Live on the dashboard: who waits in which of the host's rooms and for
/// how long, with the way in; the tab's title counts them and a newcomer
/// chimes (and notifies, if the browser allows it, while the tab is out of
/// sight). Asks the server every few seconds.
// An island in the site's bundle; in the call's, a component nothing uses.
#[cfg_attr(any(feature = "ssr", not(any(feature = "bundle-mesh", feature = "bundle-sfu"))), island)]
#[cfg_attr(not(any(feature = "ssr", not(any(feature = "bundle-mesh", feature = "bundle-sfu")))), component)]
fn WaitingPanel() -> impl IntoView {
    // Each answer sets the list anew, which also keeps "waiting 3 min" current.
    let waiting = RwSignal::new(Vec::<WaitingGuestSummary>::new());
    #[cfg(feature = "hydrate")]
    {
        let poll = move || {
            leptos::task::spawn_local(async move {
                match crate::client::fetch_json::<Vec<WaitingGuestSummary>>("/api/waiting_now").await {
                    Ok(list) => waiting.set(list),
                    // Signed out (idle, or elsewhere): nothing here is current any more.
                    Err(401) => waiting.set(Vec::new()),
                    Err(_) => {}
                }
            })
        };
        poll();
        if let Ok(timer) = set_interval_with_handle(poll, std::time::Duration::from_secs(3)) {
            on_cleanup(move || timer.clear());
        }
        Effect::new(move |before| {
            let now = waiting.with(|all| {
                all.iter()
                    .map(|w| ((w.room_path.clone(), w.since_ms), t_with(Text::LobbyWaitingTitle, &[("name", &w.name), ("room", &w.room_name)])))
                    .collect()
            });
            crate::client::waiting_changed(before, now, "", crate::client::may_notify())
        });
    }
    let rows = move || {
        waiting
            .get()
            .into_iter()
            .map(|w| {
                let sentence = t_with(Text::WaitingNowWaitingIn, &[("name", &w.name), ("room", &w.room_name)]);
                let open = t_with(Text::WaitingNowOpen, &[("room", &w.room_name)]);
                view! {
                    <li>
                        <span class="who">{sentence}</span>
                        <span class="since">{crate::pages::call::waited_for(w.since_ms)}</span>
                        <a class="button primary" href=w.room_path>{open}</a>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card waiting-now" aria-labelledby="waiting-now-heading" hidden=move || waiting.with(Vec::is_empty)>
            <h2 id="waiting-now-heading">{t(Text::WaitingNowHeading)}</h2>
            <ul aria-live="polite">{rows}</ul>
        </section>
    }
}

//! The host's rooms: create one, see each with its join link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::api::rooms::{my_rooms, CreateRoom, RoomSummary};
use crate::domain::RoomKind;
use crate::error::AppError;
use crate::pages::form::{field_error, outcome, Field, FormError};

#[component]
pub fn RoomsPage() -> impl IntoView {
    let create = ServerAction::<CreateRoom>::new();
    let value = outcome(create);
    let rooms = Resource::new(move || create.version().get(), |_| my_rooms());
    view! {
        <Title text="Your rooms"/>
        <crate::pages::sessions::UpcomingSessions/>
        <section class="card">
            <h1>"Your rooms"</h1>
            <ActionForm action=create attr:class="create-room">
                <FormError value=value/>
                <Field label="Room name" name="name" hint="For example “Consultations” or “Year 9 French”."
                    error=field_error(value, "name")/>
                <crate::pages::room_settings::KindField current=RoomKind::Meeting error=field_error(value, "kind")/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create room"</button>
            </ActionForm>
            <Suspense fallback=|| view! { <p role="status">"Loading your rooms…"</p> }>
                {move || Suspend::new(async move {
                    match rooms.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No rooms yet. Create one above, then share its link."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="room-list">
                                {list.into_iter().map(|room| view! { <RoomItem room/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::SignInRequired) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
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
            <p class="room-kind-label">{room.kind.label()}</p>
            <label for=link_id.clone()>"Join link for " {room.name.clone()}</label>
            <div class="link-row">
                <input id=link_id class="join-link" type="text" readonly=true value=room.join_link.clone()/>
                <CopyLinkButton link=room.join_link/>
                <A href=format!("/r/{}", room.slug) attr:class="button primary">"Open room"</A>
            </div>
            <p><A href=format!("/rooms/{}", room.id)>"Settings of " {room.name.clone()}</A></p>
        </li>
    }
}

/// "Copy link", which says "Copied" for a moment after copying. Without WASM
/// the link stays selectable in its field.
#[island]
fn CopyLinkButton(link: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            crate::client::copy_to_clipboard(&link);
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &link;
    };
    view! {
        <button type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy link" }}</button>
        <span class="visually-hidden" role="status">{move || copied.get().then_some("Link copied to the clipboard")}</span>
    }
}

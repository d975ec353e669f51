//! `/rooms/{id}`: one of the host's rooms: rename it, give it a new join
//! link, delete it. Another account's room is "not found". Every form works
//! without JavaScript (this page is not an island).

use crate::i18n::{t, t_with, Text};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::rooms::{
    room_attendance, room_details, DeleteRoom, NewRoomLink, RenameRoom, RoomSummary, SetRoomGreeting, SetRoomGuests, SetRoomKind, SetRoomLobby,
    SetRoomPasscode, SetRoomPrivacy, SetRoomSize,
};
use crate::domain::RoomKind;
use crate::error::AppError;
use crate::pages::form::{field_error, outcome, Field, FormError};
use crate::pages::not_found::NotFound;

#[component]
pub fn RoomSettingsPage() -> impl IntoView {
    let params = use_params_map();
    let rename = ServerAction::<RenameRoom>::new();
    let new_link = ServerAction::<NewRoomLink>::new();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok());
    let room = Resource::new(
        move || (id(), rename.version().get(), new_link.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => room_details(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p role="status">{t(Text::SettingsLoading)}</p> }>
            {move || Suspend::new(async move {
                match room.await {
                    Ok(room) => view! { <Settings room rename new_link/> }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(AppError::SignInRequired) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Settings(room: RoomSummary, rename: ServerAction<RenameRoom>, new_link: ServerAction<NewRoomLink>) -> impl IntoView {
    let delete = ServerAction::<DeleteRoom>::new();
    let query = use_query_map();
    // What was just saved, said in the section it belongs to.
    let saved_key = move || query.read().get("saved");
    let saved = move || {
        match saved_key().as_deref() {
            Some("name") => Some(Text::SettingsSavedName),
            Some("link") => Some(Text::SettingsSavedLink),
            Some("session") => Some(Text::SettingsSavedSession),
            Some("cancelled") => Some(Text::SettingsSavedCancelled),
            Some("lobby") => Some(Text::SettingsSavedLobby),
            Some("passcode") => Some(Text::SettingsSavedPasscode),
            Some("size") => Some(Text::SettingsSavedSize),
            Some("kind") => Some(Text::SettingsSavedKind),
            Some("guests") => Some(Text::SettingsSavedGuests),
            Some("privacy") => Some(Text::SettingsSavedPrivacy),
            Some("greeting") => Some(Text::SettingsSavedGreeting),
            _ => None,
        }
        .map(t)
    };
    let saved_in = move |section: &'static str| move || (saved_key().as_deref().map(section_of) == Some(section)).then(saved).flatten();
    let (renamed, linked, deleted) = (outcome(rename), outcome(new_link), outcome(delete));
    let id = room.id.to_string();
    let (rename_id, link_id, lobby_id, passcode_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    let set_passcode = ServerAction::<SetRoomPasscode>::new();
    let set_size = ServerAction::<SetRoomSize>::new();
    let size_saved = outcome(set_size);
    let size_id = id.clone();
    let passcode_saved = outcome(set_passcode);
    let set_lobby = ServerAction::<SetRoomLobby>::new();
    let lobby_saved = outcome(set_lobby);
    let set_kind = ServerAction::<SetRoomKind>::new();
    let kind_saved = outcome(set_kind);
    let set_guests = ServerAction::<SetRoomGuests>::new();
    let guests_saved = outcome(set_guests);
    let (kind_id, guests_id, privacy_id) = (id.clone(), id.clone(), id.clone());
    let set_privacy = ServerAction::<SetRoomPrivacy>::new();
    let set_greeting = ServerAction::<SetRoomGreeting>::new();
    let greeting_saved = outcome(set_greeting);
    let greeting_id = id.clone();
    let privacy_saved = outcome(set_privacy);
    let name = room.name.clone();
    let title = crate::pages::raw_element_text(&t_with(Text::RoomsSettingsOf, &[("room", &name)]));
    // The most the room's call takes now, as this server would let it
    // (a class through the media server: that server's size, not a mesh's),
    // and the range it may be set to.
    #[cfg(feature = "ssr")]
    let (call_size, size_hint) = {
        let signaling = &expect_context::<crate::server::state::AppState>().signaling;
        let mesh = signaling.mesh_size().to_string();
        let hint = if signaling.has_media() {
            t_with(Text::SettingsSizeHintMedia, &[("largest", &signaling.largest_call().to_string()), ("mesh", &mesh)])
        } else {
            t_with(Text::SettingsSizeHintMesh, &[("mesh", &mesh)])
        };
        (signaling.call_size(room.kind, room.max_participants), hint)
    };
    #[cfg(not(feature = "ssr"))]
    let (call_size, size_hint) = (room.max_participants.unwrap_or(crate::call::MESH_LIMIT as i64), String::new());
    let schedule_link = room.join_link.clone();
    view! {
        <Title text=title/>
        <section class="card settings-top">
            <p><A href="/rooms">{t(Text::SettingsBack)}</A></p>
            <h1>{name.clone()}</h1>
            <nav class="section-nav" aria-label=t(Text::SettingsSections)>
                <a href="#general">{t(Text::SettingsGeneral)}</a>
                <a href="#guests">{t(Text::SettingsGuests)}</a>
                <a href="#schedule">{t(Text::SettingsSchedule)}</a>
                <a href="#attendance">{t(Text::SettingsAttendance)}</a>
                <a href="#polls">{t(Text::SettingsPolls)}</a>
                <a href="#boards">{t(Text::SettingsBoards)}</a>
            </nav>
        </section>

        <Section id="general" title=t(Text::SettingsGeneral) saved=saved_in("general")()>
            <h3>{t(Text::SettingsName)}</h3>
            <ActionForm action=rename attr:class="rename-room">
                <FormError value=renamed/>
                <input type="hidden" name="room" value=rename_id/>
                <Field label=t(Text::RoomsRoomName) name="name" value=name error=field_error(renamed, "name")/>
                <button type="submit" disabled=move || rename.pending().get()>{t(Text::SettingsRename)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsJoinLink)}</h3>
            <label for="join-link">{t_with(Text::RoomsJoinLinkFor, &[("room", &room.name)])}</label>
            <input id="join-link" class="join-link" type="text" readonly=true value=room.join_link.clone()/>
            <ActionForm action=new_link attr:class="new-link">
                <FormError value=linked/>
                <input type="hidden" name="room" value=link_id/>
                <p class="hint" id="new-link-hint">{t(Text::SettingsNewLinkHint)}</p>
                <button type="submit" aria-describedby="new-link-hint" disabled=move || new_link.pending().get()>{t(Text::SettingsNewLink)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsKind)}</h3>
            <ActionForm action=set_kind attr:class="room-kind">
                <FormError value=kind_saved/>
                <input type="hidden" name="room" value=kind_id/>
                <KindField current=room.kind error=field_error(kind_saved, "kind")/>
                <p class="hint" id="kind-hint">{t(Text::SettingsKindHint)}</p>
                <button type="submit" aria-describedby="kind-hint" disabled=move || set_kind.pending().get()>{t(Text::SettingsChangeKind)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsDelete)}</h3>
            <ActionForm action=delete attr:class="delete-room">
                <FormError value=deleted/>
                <input type="hidden" name="room" value=id/>
                <div class="field checkbox">
                    <input id="confirm-delete" type="checkbox" name="confirm" value="yes"
                        aria-describedby="confirm-delete-error"
                        aria-invalid=move || field_error(deleted, "confirm").get().map(|_| "true")/>
                    <label for="confirm-delete">{t(Text::SettingsConfirmDelete)}</label>
                    <p class="field-error" id="confirm-delete-error">{move || field_error(deleted, "confirm").get()}</p>
                </div>
                <p class="hint">{t(Text::SettingsDeleteHint)}</p>
                <button type="submit" class="danger" disabled=move || delete.pending().get()>{t(Text::SettingsDeleteRoom)}</button>
            </ActionForm>
        </Section>

        <Section id="guests" title=t(Text::SettingsGuests) saved=saved_in("guests")()>
            <h3>{t(Text::SettingsLobby)}</h3>
            {(!room.kind.lobby_optional()).then(|| view! {
                <p class="hint">{t(Text::SettingsLobbyAlways)}</p>
            })}
            <ActionForm action=set_lobby attr:class="room-lobby" attr:hidden=!room.kind.lobby_optional()>
                <FormError value=lobby_saved/>
                <input type="hidden" name="room" value=lobby_id/>
                <div class="field checkbox">
                    <input id="lobby-on" type="checkbox" name="lobby" value="on" checked=room.lobby aria-describedby="lobby-hint"/>
                    <label for="lobby-on">{t(Text::SettingsLobbyOn)}</label>
                </div>
                <p class="hint" id="lobby-hint">{t(Text::SettingsLobbyHint)}</p>
                <button type="submit" disabled=move || set_lobby.pending().get()>{t(Text::SettingsSaveLobby)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsPasscode)}</h3>
            <ActionForm action=set_passcode attr:class="room-passcode">
                <FormError value=passcode_saved/>
                <input type="hidden" name="room" value=passcode_id/>
                <p class="hint">{t(if room.has_passcode { Text::SettingsPasscodeSet } else { Text::SettingsPasscodeNone })}</p>
                <Field label=t(Text::SettingsPasscodeLabel) name="passcode" value=String::new() required=false
                    hint=t(Text::SettingsPasscodeHint)
                    error=field_error(passcode_saved, "passcode")/>
                <button type="submit" disabled=move || set_passcode.pending().get()>{t(Text::SettingsSavePasscode)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsSize)}</h3>
            <ActionForm action=set_size attr:class="room-size">
                <FormError value=size_saved/>
                <input type="hidden" name="room" value=size_id/>
                <Field label=t(Text::SettingsSizeLabel) name="max_participants" kind="number"
                    value=call_size.to_string()
                    hint=size_hint
                    error=field_error(size_saved, "max_participants")/>
                <button type="submit" disabled=move || set_size.pending().get()>{t(Text::SettingsSaveSize)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsGuestsMay)}</h3>
            <ActionForm action=set_guests attr:class="room-guests">
                <FormError value=guests_saved/>
                <input type="hidden" name="room" value=guests_id/>
                <Check id="join-muted" name="join_muted" checked=room.guests_join_muted label=t(Text::SettingsJoinMuted)/>
                <Check id="may-unmute" name="may_unmute" checked=room.guests_may_unmute
                    label=t(Text::SettingsMayUnmute)/>
                <Check id="may-share-screen" name="may_share_screen" checked=room.guests_may_share_screen label=t(Text::SettingsMayShareScreen)/>
                <Check id="keep-chat" name="keep_chat" checked=room.keep_chat
                    label=t(Text::SettingsKeepChat)/>
                <button type="submit" disabled=move || set_guests.pending().get()>{t(Text::SettingsSaveGuests)}</button>
            </ActionForm>
            {room.keep_chat.then(|| view! {
                <p><a href=format!("/rooms/{}/chat.txt", room.id) download="">{t(Text::SettingsDownloadChat)}</a></p>
            })}

            <h3>{t(Text::SettingsGreeting)}</h3>
            <ActionForm action=set_greeting attr:class="room-greeting">
                <FormError value=greeting_saved/>
                <input type="hidden" name="room" value=greeting_id/>
                <p class="hint">{t(Text::SettingsGreetingDefault)}</p>
                <Check id="show-host-name" name="show_host_name" checked=room.show_host_name label=t(Text::SettingsShowHostName)/>
                <div class="field">
                    <label for="welcome-note">{t(Text::SettingsWelcomeNote)}</label>
                    <textarea id="welcome-note" name="welcome_note" rows="3" maxlength="500" aria-describedby="welcome-note-hint welcome-note-error"
                        aria-invalid=move || field_error(greeting_saved, "welcome_note").get().map(|_| "true")>
                        {crate::pages::raw_element_text(&crate::pages::form::typed("welcome_note").or_else(|| room.welcome_note.clone()).unwrap_or_default())}
                    </textarea>
                    <p class="hint" id="welcome-note-hint">{t(Text::SettingsWelcomeNoteHint)}</p>
                    <p class="field-error" id="welcome-note-error">{move || field_error(greeting_saved, "welcome_note").get()}</p>
                </div>
                <button type="submit" disabled=move || set_greeting.pending().get()>{t(Text::SettingsSaveGreeting)}</button>
            </ActionForm>

            <h3>{t(Text::SettingsNetwork)}</h3>
            <ActionForm action=set_privacy attr:class="room-privacy">
                <FormError value=privacy_saved/>
                <input type="hidden" name="room" value=privacy_id/>
                <div class="field checkbox">
                    <input id="relay-only" type="checkbox" name="relay_only" value="on" checked=room.relay_only
                        aria-describedby="relay-only-hint relay-only-error"/>
                    <label for="relay-only">{t(Text::SettingsRelayOnly)}</label>
                    <p class="field-error" id="relay-only-error">{move || field_error(privacy_saved, "relay_only").get()}</p>
                </div>
                <p class="hint" id="relay-only-hint">{t(Text::SettingsRelayOnlyHint)}</p>
                <button type="submit" disabled=move || set_privacy.pending().get()>{t(Text::SettingsSaveNetwork)}</button>
            </ActionForm>

        </Section>

        <Section id="schedule" title=t(Text::SettingsSchedule) saved=saved_in("schedule")()>
            <crate::pages::sessions::RoomSessions room=room.id join_link=schedule_link/>
        </Section>

        <Section id="attendance" title=t(Text::SettingsAttendance) saved=None>
            <Attendance room=room.id/>
        </Section>

        <Section id="polls" title=t(Text::SettingsPolls) saved=None>
            <crate::pages::room_polls::RoomPolls room=room.id/>
        </Section>

        <Section id="boards" title=t(Text::SettingsBoards) saved=None>
            <crate::pages::room_boards::RoomBoards room=room.id/>
        </Section>
    }
}

/// One section of the settings page: its heading, what was just saved in
/// it, and its forms.
#[component]
fn Section(id: &'static str, title: &'static str, saved: Option<&'static str>, children: Children) -> impl IntoView {
    view! {
        <section class="card settings-section" id=id aria-labelledby=format!("{id}-heading")>
            <h2 id=format!("{id}-heading")>{title}</h2>
            <p class="saved" role="status">{saved}</p>
            {children()}
        </section>
    }
}

/// The section of the page a saved setting belongs to.
fn section_of(saved: &str) -> &'static str {
    match saved {
        "name" | "link" | "kind" => "general",
        "session" | "cancelled" => "schedule",
        _ => "guests",
    }
}

/// A labelled checkbox that sends "on" when ticked.
#[component]
fn Check(id: &'static str, name: &'static str, checked: bool, label: &'static str) -> impl IntoView {
    view! {
        <div class="field checkbox">
            <input id=id type="checkbox" name=name value="on" checked=checked/>
            <label for=id>{label}</label>
        </div>
    }
}

/// A room kind's name and what choosing it does, in the page's language.
pub fn kind_words(kind: RoomKind) -> (&'static str, &'static str) {
    match kind {
        RoomKind::Consultation => (t(Text::KindConsultation), t(Text::KindConsultationText)),
        RoomKind::Class => (t(Text::KindClass), t(Text::KindClassText)),
        RoomKind::Meeting => (t(Text::KindMeeting), t(Text::KindMeetingText)),
    }
}

/// The room kinds as a group of radio buttons, each with what it means.
#[component]
pub fn KindField(current: RoomKind, #[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <fieldset class="field kinds" aria-describedby="kind-error">
            <legend>{t(Text::KindQuestion)}</legend>
            {RoomKind::ALL.into_iter().map(|kind| {
                let id = format!("kind-{}", kind.as_str());
                let hint = format!("{id}-hint");
                view! {
                    <div class="kind">
                        <input id=id.clone() type="radio" name="kind" value=kind.as_str() checked=kind == current aria-describedby=hint.clone()/>
                        <label for=id>{kind_words(kind).0}</label>
                        <p class="hint" id=hint>{kind_words(kind).1}</p>
                    </div>
                }
            }).collect_view()}
            <p class="field-error" id="kind-error">{move || error.get()}</p>
        </fieldset>
    }
}

/// Who was in the room's calls, with the CSV download.
#[component]
fn Attendance(room: i64) -> impl IntoView {
    let stays = Resource::new(|| (), move |_| room_attendance(room));
    view! {
        <p><a href=format!("/rooms/{room}/attendance.csv") download="">{t(Text::SettingsDownloadAttendance)}</a></p>
        <Suspense fallback=|| view! { <p role="status">{t(Text::SettingsAttendanceLoading)}</p> }>
            {move || Suspend::new(async move {
                match stays.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t(Text::SettingsAttendanceNone)}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="attendance">
                                <caption class="visually-hidden">{t(Text::SettingsAttendanceCaption)}</caption>
                                <thead><tr>
                                    <th scope="col">{t(Text::SettingsColumnName)}</th>
                                    <th scope="col">{t(Text::SettingsColumnRole)}</th>
                                    <th scope="col">{t(Text::SettingsColumnJoined)}</th>
                                    <th scope="col">{t(Text::SettingsColumnLeft)}</th>
                                    <th scope="col">{t(Text::SettingsColumnReconnects)}</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td>{s.name}</td>
                                            <td>{t(if s.host { Text::SettingsHost } else { Text::SettingsGuest })}</td>
                                            <td><time data-at-ms=s.joined_at_ms>{s.joined}</time></td>
                                            <td>{match (s.left, s.left_at_ms) {
                                                (Some(left), Some(at)) => view! { <time data-at-ms=at>{left}</time> }.into_any(),
                                                _ => t(Text::SettingsStillInCall).into_any(),
                                            }}</td>
                                            <td>{s.reconnects}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

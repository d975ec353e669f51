//! Scheduling in a room (on its settings page) and the host's list of what
//! is coming up (on the rooms page). Plain forms: they work without
//! JavaScript.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::schedule::{room_sessions, upcoming_sessions, CancelSession, ScheduleSession, SessionSummary, Upcoming, When};
use crate::pages::form::{field_error, outcome, Field, FormError};
use crate::pages::join_link::JoinLink;

/// A room's sessions, and the form to schedule another.
#[component]
pub fn RoomSessions(room: i64, join_link: String) -> impl IntoView {
    let schedule = ServerAction::<ScheduleSession>::new();
    let cancel = ServerAction::<CancelSession>::new();
    let sessions = Resource::new(move || (schedule.version().get(), cancel.version().get()), move |_| room_sessions(room));
    view! {
        <h3>{t(Text::SessionsHeading)}</h3>
        <Suspense fallback=|| view! { <p role="status">{t(Text::SessionsLoading)}</p> }>
            {move || {
                let join_link = join_link.clone();
                Suspend::new(async move {
                match sessions.await {
                    Ok(list) => {
                        // The zone of the latest session is the likeliest next one.
                        let zone = list.last().map_or_else(|| "UTC".to_string(), |s| s.time_zone.clone());
                        let list_was_empty = list.is_empty();
                        let listed = if list.is_empty() {
                            view! { <p class="empty">{t(Text::SessionsNone)}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="session-list">
                                    {list.into_iter().map(|session| view! { <SessionItem session cancel join_link=join_link.clone()/> }).collect_view()}
                                </ul>
                            }.into_any()
                        };
                        // With nothing scheduled yet, the browser's zone is the likeliest.
                        let from_browser = list_was_empty.then(|| view! { <span id="zone-from-browser" hidden=true></span> });
                        view! { {listed} <ScheduleForm room schedule zone/> {from_browser} }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })
            }}
        </Suspense>
    }
}

/// The form to schedule a session, its time zone prefilled with `zone`.
#[component]
fn ScheduleForm(room: i64, schedule: ServerAction<ScheduleSession>, zone: String) -> impl IntoView {
    let scheduled = outcome(schedule);
    let error = move |field| field_error(scheduled, field);
    view! {
        <h4>{t(Text::SessionsScheduleHeading)}</h4>
        <ActionForm action=schedule attr:class="schedule-session">
            <FormError value=scheduled/>
            <input type="hidden" name="room" value=room.to_string()/>
            <Field label=t(Text::SessionsTitle) name="title" hint=t(Text::SessionsTitleHint) error=error("title")/>
            <Field label=t(Text::SessionsDate) name="date" kind="date" error=error("date")/>
            <Field label=t(Text::SessionsTime) name="time" kind="time" error=error("time")/>
            <Field label=t(Text::SessionsTimeZone) name="time_zone" value=crate::pages::form::typed("time_zone").unwrap_or(zone) list="time-zones"
                hint=t(Text::SessionsTimeZoneHint)
                error=error("time_zone")/>
            <TimeZoneSuggestions/>
            <Field label=t(Text::SessionsLength) name="duration_minutes" kind="number"
                value=crate::pages::form::typed("duration_minutes").unwrap_or_else(|| "30".into()) error=error("duration_minutes")/>
            <fieldset class="repeat">
                <legend>{t(Text::SessionsRepeat)}</legend>
                <label><input type="radio" name="repeat" value="once" checked=true/>" " {t(Text::SessionsOnce)}</label>
                <label><input type="radio" name="repeat" value="weekly"/>" " {t(Text::SessionsEveryWeek)}</label>
            </fieldset>
            <Field label=t(Text::SessionsWeeks) name="weeks" kind="number" required=false
                hint=t(Text::SessionsWeeksHint) error=error("weeks")/>
            <div class="field">
                <label for="field-note">{t(Text::SessionsNote)}</label>
                <textarea id="field-note" name="note" rows="3" maxlength="1000" aria-describedby="field-note-error">{crate::pages::form::typed("note").map(|note| crate::pages::raw_element_text(&note))}</textarea>
                <p class="field-error" id="field-note-error">{move || error("note").get()}</p>
            </div>
            <button type="submit" class="primary" disabled=move || schedule.pending().get()>{t(Text::SessionsSchedule)}</button>
        </ActionForm>
    }
}

#[component]
fn SessionItem(session: SessionSummary, cancel: ServerAction<CancelSession>, join_link: String) -> impl IntoView {
    let title = session.title.clone();
    let link_id = format!("session-link-{}", session.id);
    view! {
        <li class="session" class:over=session.over>
            <h4>{session.title.clone()}</h4>
            {session.when.map(|when| view! { <p>{t(if session.over { Text::SessionsEnded } else { Text::SessionsNext })} " " <Meeting when/></p> })}
            {session.repeats.map(|r| view! { <p>{r}</p> })}
            {(!session.note.is_empty()).then(|| view! { <p class="note">{t(Text::SessionsNoteLabel)} " " {session.note}</p> })}
            <JoinLink id=link_id label=t_with(Text::UpcomingJoinLinkFor, &[("title", &title)]) link=join_link/>
            <p><a href=session.calendar download="">{t_with(Text::UpcomingCalendar, &[("title", &title)])}</a></p>
            <p><a href=session.attendance download="">{t_with(Text::SessionsAttendanceFor, &[("title", &title)])}</a></p>
            {(!session.polls.is_empty()).then(|| view! {
                <h5>{t(Text::SessionsPollsAsked)}</h5>
                <ul class="session-polls">
                    {session.polls.iter().map(|poll| view! {
                        <li><span class="question">{poll.question.clone()}</span> <span class="hint">{t_count(Text::PollAnswered, u64::from(poll.answered))}</span></li>
                    }).collect_view()}
                </ul>
            })}
            <p><a href=session.polls_csv download="">{t_with(Text::SessionsPollsFor, &[("title", &title)])}</a></p>
            <ActionForm action=cancel attr:class="cancel-session">
                <input type="hidden" name="session" value=session.id.to_string()/>
                <button type="submit">{t_with(Text::SessionsCancel, &[("title", &title)])}</button>
            </ActionForm>
        </li>
    }
}

/// Every time zone name, as suggestions for the time zone field.
#[component]
fn TimeZoneSuggestions() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let names = crate::server::schedule::time_zone_names();
    #[cfg(not(feature = "ssr"))]
    let names: Vec<String> = Vec::new();
    view! {
        <datalist id="time-zones">
            {names.into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
        </datalist>
    }
}

/// Today's and coming sessions across the host's rooms.
#[component]
pub fn UpcomingSessions() -> impl IntoView {
    let coming = Resource::new(|| (), |_| upcoming_sessions());
    view! {
        <Suspense fallback=|| view! { <p role="status">{t(Text::UpcomingLoading)}</p> }>
            {move || Suspend::new(async move {
                match coming.await {
                    Ok(list) => {
                        let (today, later): (Vec<Upcoming>, Vec<Upcoming>) = list.into_iter().partition(|u| u.today);
                        view! {
                            <section class="card sessions" aria-labelledby="today-heading">
                                <h2 id="today-heading">{t(Text::UpcomingToday)}</h2>
                                <UpcomingList list=today empty=t(Text::UpcomingNoneToday)/>
                                <h2>{t(Text::UpcomingLater)}</h2>
                                <UpcomingList list=later empty=t(Text::UpcomingNoneLater)/>
                            </section>
                        }.into_any()
                    }
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UpcomingList(list: Vec<Upcoming>, empty: &'static str) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <ul class="upcoming-list">
            {list.into_iter().map(|u| {
                let link_id = format!("session-link-{}", u.session_id);
                let (start_label, calendar_label) = (t_with(Text::UpcomingStart, &[("title", &u.title)]), t_with(Text::UpcomingCalendar, &[("title", &u.title)]));
                view! {
                    <li class="upcoming">
                        <h3>{u.title.clone()}</h3>
                        <p><Meeting when=u.when/> " · " {u.room_name}</p>
                        <JoinLink id=link_id label=t_with(Text::UpcomingJoinLinkFor, &[("title", &u.title)]) link=u.join_link>
                            <A href=format!("/r/{}", u.slug) attr:class="button primary">{start_label}</A>
                        </JoinLink>
                        <p><a href=u.calendar download="">{calendar_label}</a></p>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// When a meeting is, in the session's zone until the browser says it in
/// the reader's own (`client::localise_page`, from `data-at-ms` and
/// `data-end-ms`).
#[component]
fn Meeting(when: When) -> impl IntoView {
    view! { <time data-at-ms=when.start_ms data-end-ms=when.end_ms>{when.text}</time> }
}

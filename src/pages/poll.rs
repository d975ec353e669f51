//! A poll in a call, as the host and everyone else see it: the host's
//! form for a new poll, the card that asks the question (answers as radio
//! buttons or checkboxes), and the results as they come in. The site's
//! bundle draws it, loaded on a call page when a poll first comes or the
//! host opens one (`client::classroom`, `public/classroom.js`): the call's
//! own bundles only pass messages between it and the server.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use crate::call::poll::{PollDraft, PollProblem, PollView, MAX_OPTIONS, MIN_OPTIONS, OPTION_CHARS, QUESTION_CHARS};
use crate::call::protocol::ClientMessage;

/// The latest poll as this person is shown it, and whether the host's
/// form for a new one is open.
#[derive(Clone, Copy)]
pub struct Classroom {
    pub poll: RwSignal<Option<PollView>>,
    pub composing: RwSignal<bool>,
    /// How to send a message to the server.
    pub send: Callback<ClientMessage>,
}

/// The classroom's corner of a call page: the form or the card.
#[component]
pub fn PollCorner(room: Classroom) -> impl IntoView {
    // A poll is known by its number and its question: after a server
    // restart or a move, a new call numbers its polls from 1 again.
    let shown = Memo::new(move |_| room.poll.with(|p| p.as_ref().map(|p| (p.id, p.question.clone()))));
    // A card put away stays away until the next poll.
    let hidden = RwSignal::new(None::<(u32, String)>);
    move || {
        if room.composing.get() {
            return view! { <Compose room/> }.into_any();
        }
        match shown.get().filter(|which| hidden.with(|h| h.as_ref() != Some(which))) {
            Some(which) => view! { <Card room which hidden/> }.into_any(),
            None => ().into_any(),
        }
    }
}

/// The host's form for a new poll.
#[component]
fn Compose(room: Classroom) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let next = StoredValue::new(MIN_OPTIONS);
    let answers = RwSignal::new((0..MIN_OPTIONS).map(|key| (key, RwSignal::new(String::new()))).collect::<Vec<_>>());
    let multiple = RwSignal::new(false);
    let anonymous = RwSignal::new(false);
    let error = RwSignal::new(None::<&'static str>);
    let fill = move |texts: &[&str]| {
        let start = next.get_value();
        next.set_value(start + texts.len());
        answers.set(texts.iter().enumerate().map(|(i, text)| (start + i, RwSignal::new(text.to_string()))).collect());
    };
    let add = move |_: leptos::ev::MouseEvent| {
        let key = next.get_value();
        next.set_value(key + 1);
        answers.update(|list| list.push((key, RwSignal::new(String::new()))));
    };
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = PollDraft {
            question: question.get_untracked(),
            options: answers.with_untracked(|list| list.iter().map(|(_, text)| text.get_untracked()).collect()),
            multiple: multiple.get_untracked(),
            anonymous: anonymous.get_untracked(),
        };
        match draft.checked() {
            Ok(poll) => {
                room.send.run(ClientMessage::PollStart { poll });
                room.composing.set(false);
            }
            Err(problem) => error.set(Some(t(match problem {
                PollProblem::Question(crate::domain::Problem::Missing) => Text::PollQuestionMissing,
                PollProblem::Option(crate::domain::Problem::Missing) => Text::PollAnswerMissing,
                _ => Text::ErrorsInvalidPoll,
            }))),
        }
    };
    let count = move || answers.with(Vec::len);
    let place = move |key: usize| answers.with(|list| list.iter().position(|(k, _)| *k == key).map_or(0, |at| at + 1));
    // The question is where the keyboard starts; Escape puts the form away.
    let first_field = NodeRef::<leptos::html::Input>::new();
    super::form::focus_when_shown(first_field);
    let escape = super::form::on_escape(move || room.composing.set(false));
    view! {
        <form class="poll-card poll-compose" aria-labelledby="poll-compose-heading" on:submit=start on:keydown=escape>
            <h2 id="poll-compose-heading">{t(Text::PollNewHeading)}</h2>
            <div class="poll-quick">
                <span>{t(Text::PollQuick)}</span>
                <button type="button" on:click=move |_| fill(&[t(Text::PollYes), t(Text::PollNo)])>{t(Text::PollYesNo)}</button>
                <button type="button" on:click=move |_| fill(&["A", "B", "C", "D"])>{t(Text::PollAToD)}</button>
            </div>
            <label for="poll-question">{t(Text::PollQuestion)}</label>
            <input id="poll-question" node_ref=first_field maxlength=QUESTION_CHARS.to_string() autocomplete="off" prop:value=question
                on:input=move |ev| question.set(event_target_value(&ev))/>
            <fieldset class="poll-answers">
                <legend>{t(Text::PollAnswers)}</legend>
                <For each=move || answers.get() key=|(key, _)| *key let:((key, text))>
                    <div class="poll-answer">
                        // Numbered by where it is now: removing one renumbers those after it.
                        <label for=format!("poll-answer-{key}")>{move || t_with(Text::PollAnswerN, &[("n", &place(key).to_string())])}</label>
                        <input id=format!("poll-answer-{key}") maxlength=OPTION_CHARS.to_string() autocomplete="off" prop:value=text
                            on:input=move |ev| text.set(event_target_value(&ev))/>
                        <button type="button" hidden={move || count() <= MIN_OPTIONS}
                            on:click=move |_| answers.update(|list| list.retain(|(k, _)| *k != key))>
                            {move || t_with(Text::PollRemoveAnswer, &[("n", &place(key).to_string())])}
                        </button>
                    </div>
                </For>
                <button type="button" hidden={move || count() >= MAX_OPTIONS} on:click=add>{t(Text::PollAddAnswer)}</button>
            </fieldset>
            <label class="check"><input type="checkbox" prop:checked=multiple on:change=move |ev| multiple.set(event_target_checked(&ev))/>
                " " {t(Text::PollMultiple)}</label>
            <label class="check"><input type="checkbox" prop:checked=anonymous on:change=move |ev| anonymous.set(event_target_checked(&ev))/>
                " " {t(Text::PollAnonymous)}</label>
            <p class="form-error" role="alert">{move || error.get()}</p>
            <div class="poll-actions">
                <button type="submit" class="primary">{t(Text::PollStart)}</button>
                <button type="button" on:click=move |_| room.composing.set(false)>{t(Text::PollCancel)}</button>
            </div>
        </form>
    }
}

/// Poll `id`: its question and answers, answered here, or (for the host,
/// and for everyone once shown) with its results.
#[component]
fn Card(room: Classroom, which: (u32, String), hidden: RwSignal<Option<(u32, String)>>) -> impl IntoView {
    let Some(first) = room.poll.get_untracked() else { return ().into_any() };
    let (multiple, host) = (first.multiple, first.host);
    let id = which.0;
    let this = StoredValue::new(which);
    let state = move || room.poll.get().filter(|p| this.with_value(|(id, question)| p.id == *id && p.question == *question));
    // Folded to its question while open (never lost: the host must still
    // be able to end it), put away once ended.
    let folded = RwSignal::new(false);
    let open = move || state().is_some_and(|p| p.open);
    let shown = move || state().is_some_and(|p| p.shown);
    let results = move || state().and_then(|p| p.results);
    let mine = move || state().map(|p| p.mine).unwrap_or_default();
    let picked = RwSignal::new(first.mine.clone());
    let heading = format!("poll-{id}-question");
    let answers = first
        .options
        .iter()
        .enumerate()
        .map(|(place, text)| {
            let choice = place as u8;
            let tally = move || {
                results().map(|r| {
                    let count = r.counts.get(place).copied().unwrap_or(0);
                    let percent = if r.answered == 0 { 0 } else { (u64::from(count) * 100 + u64::from(r.answered) / 2) / u64::from(r.answered) };
                    let names = r.names.get(place).filter(|names| !names.is_empty()).map(|names| names.join(", "));
                    view! {
                        <meter min="0" max=r.answered.max(1).to_string() value=count.to_string()></meter>
                        <span class="poll-count">{t_with(Text::PollVotes, &[("count", &count.to_string()), ("percent", &percent.to_string())])}</span>
                        {names.map(|names| view! { <span class="poll-names">{names}</span> })}
                    }
                })
            };
            let input = (!host).then(|| {
                view! {
                    <input type=if multiple { "checkbox" } else { "radio" } name=format!("poll-{id}") prop:checked=move || picked.with(|p| p.contains(&choice))
                        prop:disabled=move || !open()
                        on:change=move |_| picked.update(|p| {
                            if !multiple {
                                p.clear();
                                p.push(choice);
                            } else if let Some(at) = p.iter().position(|c| *c == choice) {
                                p.remove(at);
                            } else {
                                p.push(choice);
                            }
                        })/>
                }
            });
            view! {
                <li>
                    <label>{input} <span class="poll-answer-text">{text.clone()}</span></label>
                    {tally}
                </li>
            }
        })
        .collect_view();
    let answer = move |_| {
        let choices = picked.get_untracked();
        if !choices.is_empty() {
            room.send.run(ClientMessage::PollAnswer { id, choices });
        }
    };
    let status = move || {
        if !open() {
            Some(t(Text::PollEnded).to_string())
        } else if host {
            results().map(|r| t_count(Text::PollAnswered, u64::from(r.answered)))
        } else if !mine().is_empty() {
            Some(t(Text::PollAnswerIn).to_string())
        } else {
            None
        }
    };
    let kind = match (multiple, first.anonymous) {
        (false, false) => t(Text::PollChooseOneNamed),
        (false, true) => t(Text::PollChooseOneAnonymous),
        (true, false) => t(Text::PollChooseManyNamed),
        (true, true) => t(Text::PollChooseManyAnonymous),
    };
    let host_actions = host.then(|| {
        view! {
            <button type="button" aria-pressed=move || shown().to_string()
                on:click=move |_| room.send.run(ClientMessage::PollShare { id, shown: !shown() })>
                {move || t(if shown() { Text::PollHideResults } else { Text::PollShowResults })}
            </button>
            <button type="button" class="danger" hidden=move || !open() on:click=move |_| room.send.run(ClientMessage::PollEnd { id })>{t(Text::PollEnd)}</button>
            <button type="button" on:click=move |_| room.composing.set(true)>{t(Text::PollNew)}</button>
        }
    });
    let body = format!("poll-{id}-body");
    // Said once to screen readers as the card appears (the host, who asked
    // it, knows).
    let asked = (!host && first.open).then(|| t_with(Text::PollAsked, &[("question", &first.question)]));
    // Filled once the (empty) live region is on the page, so that it is heard.
    let said = RwSignal::new(None::<String>);
    Effect::new(move |_| said.set(asked.clone()));
    let options = if host {
        view! { <ul class="poll-options" role="list">{answers}</ul> }.into_any()
    } else {
        view! {
            <fieldset class="poll-choices">
                <legend class="visually-hidden">{first.question.clone()}</legend>
                <ul class="poll-options" role="list">{answers}</ul>
            </fieldset>
        }
        .into_any()
    };
    view! {
        <section class="poll-card" class:folded=move || folded.get() aria-labelledby=heading.clone()>
            <p class="visually-hidden" aria-live="polite">{move || said.get()}</p>
            <div class="poll-head">
                <h2 id=heading.clone()>{first.question.clone()}</h2>
                <button type="button" class="fold" hidden=move || !open() aria-expanded=move || (!folded.get()).to_string() aria-controls=body.clone()
                    on:click=move |_| folded.update(|f| *f = !*f)>
                    {move || t(if folded.get() { Text::PollUnfold } else { Text::PollFold })}
                </button>
            </div>
            <div id=body hidden=move || folded.get()>
                <p class="hint">{kind}</p>
                {options}
                <p role="status" class="poll-status">{status}</p>
                <div class="poll-actions">
                    {(!host).then(|| view! {
                        <button type="button" class="primary" hidden=move || !open() prop:disabled=move || picked.with(Vec::is_empty) on:click=answer>
                            {move || t(if mine().is_empty() { Text::PollSend } else { Text::PollChange })}
                        </button>
                    })}
                    {host_actions}
                    <button type="button" hidden=open on:click=move |_| hidden.set(Some(this.get_value()))>{t(Text::PollHide)}</button>
                </div>
            </div>
        </section>
    }
    .into_any()
}

/// Entry point of the classroom tools (polls, breakout rooms) on a call
/// page: the site's bundle, loaded there by `public/classroom.js` when a
/// poll or breakout rooms first come or the host opens a form
/// (`client::classroom` says how the two bundles talk); the call's own
/// bundles leave them out.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount_classroom() {
    console_error_panic_hook::set_once();
    use super::board::{Board, BoardMessage, BoardRoom};
    use super::breakout::{BreakoutCorner, Breakouts};
    use crate::call::breakout::BreakoutView;
    use crate::client::classroom::{
        fire, BOARD, BOARD_EVENT, BREAKOUTS, BREAKOUTS_EVENT, COMPOSE, COMPOSE_EVENT, POLL, POLL_EVENT, SEND, SEND_EVENT,
    };
    use wasm_bindgen::{JsCast, JsValue};

    #[derive(serde::Deserialize)]
    struct PollMessage {
        poll: PollView,
    }
    #[derive(serde::Deserialize)]
    struct BreakoutMessage {
        state: BreakoutView,
    }
    let Some(window) = web_sys::window() else { return };
    let global = |name: &str| web_sys::window().and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str(name)).ok()).and_then(|v| v.as_string());
    let latest = move || global(POLL).and_then(|text| serde_json::from_str::<PollMessage>(&text).ok()).map(|m| m.poll);
    let latest_breakouts = move || global(BREAKOUTS).and_then(|text| serde_json::from_str::<BreakoutMessage>(&text).ok()).map(|m| m.state);
    // The form asked for: "poll", or for breakout rooms who is in the call
    // (`breakout::people_of`).
    let compose_asked = move || {
        let asked = global(COMPOSE);
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &JsValue::from_str(COMPOSE), &JsValue::from_str(""));
        }
        asked
    };
    let send = Callback::new(|message: ClientMessage| {
        let (Some(window), Ok(text)) = (web_sys::window(), serde_json::to_string(&message)) else { return };
        let _ = js_sys::Reflect::set(&window, &JsValue::from_str(SEND), &JsValue::from_str(&text));
        fire(&window, SEND_EVENT);
    });
    let room = Classroom { poll: RwSignal::new(latest()), composing: RwSignal::new(false), send };
    let rooms = Breakouts {
        state: RwSignal::new(latest_breakouts()),
        planning: RwSignal::new(None),
        received_at: RwSignal::new(js_sys::Date::now()),
        clock: RwSignal::new(js_sys::Date::now()),
        send,
    };
    let board = BoardRoom::new(send);
    let open_form = move |asked: Option<String>| match asked.as_deref() {
        Some("poll") => room.composing.set(true),
        Some("board") => board.show(false),
        Some(asked) if asked.starts_with("breakouts") => {
            // While they are open, the panel stands in for the form.
            let open = rooms.state.with_untracked(|s| s.as_ref().is_some_and(|s| s.open));
            if !open {
                rooms.planning.set(Some(super::breakout::people_of(asked)));
            }
        }
        _ => {}
    };
    open_form(compose_asked());
    let _ = window_event_listener_untyped(POLL_EVENT, move |_| room.poll.set(latest()));
    let _ = window_event_listener_untyped(BREAKOUTS_EVENT, move |_| {
        rooms.received_at.set(js_sys::Date::now());
        rooms.state.set(latest_breakouts());
    });
    let _ = window_event_listener_untyped(COMPOSE_EVENT, move |_| open_form(compose_asked()));
    // Each board message as it comes (a shown board opens: the latest
    // message before this bundle came says so).
    let board_message = move || global(BOARD).and_then(|text| serde_json::from_str::<BoardMessage>(&text).ok());
    if let Some(message @ BoardMessage::BoardState { .. }) = board_message() {
        board.receive(message);
    }
    let _ = window_event_listener_untyped(BOARD_EVENT, move |_| match board_message() {
        Some(message) => board.receive(message),
        // The call is over.
        None => board.open.set(false),
    });
    // Timers count down each second.
    let _ = set_interval_with_handle(move || rooms.clock.set(js_sys::Date::now()), std::time::Duration::from_secs(1));
    let Some(body) = window.document().and_then(|d| d.body()) else { return };
    let Ok(corner) = body.owner_document().map_or(Err(JsValue::NULL), |d| d.create_element("div")) else { return };
    corner.set_class_name("classroom");
    let _ = body.append_child(&corner);
    leptos::mount::mount_to(corner.unchecked_into(), move || view! { <BreakoutCorner rooms/> <PollCorner room/> }).forget();
    // The board covers the call's stage, where there is one.
    let document = body.owner_document();
    let stage = document.as_ref().and_then(|d| d.query_selector(".stage-area").ok().flatten());
    let Some(sheet) = document.and_then(|d| d.create_element("div").ok()) else { return };
    sheet.set_class_name("board-mount");
    let _ = stage.as_ref().map_or_else(|| body.append_child(&sheet), |stage| stage.append_child(&sheet));
    leptos::mount::mount_to(sheet.unchecked_into(), move || view! { <Board room=board/> }).forget();
}

//! The polls of a room's calls on its settings page: each question with
//! how many chose each answer (and who, for a named poll), and the CSV.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use crate::api::polls::{room_polls, PollSummary};

/// The room's polls, newest first, with the CSV download.
#[component]
pub fn RoomPolls(room: i64) -> impl IntoView {
    let polls = Resource::new(|| (), move |_| room_polls(room));
    view! {
        <p><a href=format!("/rooms/{room}/polls.csv") download="">{t(Text::SettingsDownloadPolls)}</a></p>
        <Suspense fallback=|| view! { <p role="status">{t(Text::SettingsPollsLoading)}</p> }>
            {move || Suspend::new(async move {
                match polls.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t(Text::SettingsPollsNone)}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="kept-polls">{list.into_iter().map(|poll| view! { <KeptPoll poll/> }).collect_view()}</ul>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn KeptPoll(poll: PollSummary) -> impl IntoView {
    let answered = poll.answered;
    view! {
        <li class="kept-poll">
            <h3>{poll.question}</h3>
            <p class="hint"><time data-at-ms=poll.asked_at_ms>{poll.asked}</time></p>
            {poll.open.then(|| view! { <p class="hint">{t(Text::SettingsPollOpen)}</p> })}
            {poll.anonymous.then(|| view! { <p class="hint">{t(Text::SettingsPollAnonymous)}</p> })}
            <p>{t_count(Text::PollAnswered, u64::from(answered))}</p>
            <ul class="poll-options">
                {poll.answers.into_iter().map(|answer| {
                    let percent = if answered == 0 { 0 } else { (u64::from(answer.count) * 100 + u64::from(answered) / 2) / u64::from(answered) };
                    view! {
                        <li>
                            <span class="poll-answer-text">{answer.text}</span>
                            <span class="poll-count">{t_with(Text::PollVotes, &[("count", &answer.count.to_string()), ("percent", &percent.to_string())])}</span>
                            <meter min="0" max=answered.max(1).to_string() value=answer.count.to_string()></meter>
                            {(!answer.names.is_empty()).then(|| view! { <span class="poll-names">{answer.names.join(", ")}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </li>
    }
}

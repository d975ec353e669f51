//! Breakout rooms in a call, as the host and everyone else see them: the
//! host's form (how many groups, who goes where, a timer), the host's
//! panel while they are open (each group with its people, a visit, a
//! move, leave to share, a word or the voice to every group, closing
//! with a countdown), and each pupil's card (their group, who is with
//! them, the time left, a call for help, the host's word). The site's
//! bundle draws it, loaded on a call page when breakout rooms first come
//! or the host opens the form (`client::classroom`); the hub decides
//! (`call::hub::breakouts`).

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use crate::call::breakout::{fill_evenly, BreakoutPlan, BreakoutView, GroupView, MAX_GROUPS, MAX_MINUTES, MIN_GROUPS};
use crate::call::protocol::{ClientMessage, Participant, ParticipantId};

/// The breakout rooms as this person is shown them, and the host's form.
#[derive(Clone, Copy)]
pub struct Breakouts {
    pub state: RwSignal<Option<BreakoutView>>,
    /// The host's form, with whom the call has to place, while open.
    pub planning: RwSignal<Option<Vec<Participant>>>,
    /// When the latest state came, by this page's clock (milliseconds).
    pub received_at: RwSignal<f64>,
    /// This page's clock, each second while a timer shows.
    pub clock: RwSignal<f64>,
    pub send: Callback<ClientMessage>,
}

impl Breakouts {
    /// How long until `at_ms` by the server's clock, as "m:ss".
    fn left(&self, at_ms: u64) -> String {
        let Some(state) = self.state.get() else { return String::new() };
        let server_now = state.now_ms as f64 + (self.clock.get() - self.received_at.get()).max(0.0);
        let seconds = ((at_ms as f64 - server_now) / 1000.0).ceil().max(0.0) as u64;
        format!("{}:{:02}", seconds / 60, seconds % 60)
    }

    /// The timer's line: the countdown to everyone's return, else the time
    /// left, else nothing.
    fn timer(&self) -> Option<String> {
        let state = self.state.get()?;
        match (state.closing_at_ms, state.ends_at_ms) {
            (Some(at), _) => Some(t_with(Text::BreakoutClosingIn, &[("time", &self.left(at))])),
            (None, Some(at)) => Some(t_with(Text::BreakoutEndsIn, &[("time", &self.left(at))])),
            _ => None,
        }
    }
}

fn group_name(group: u8) -> String {
    t_with(Text::BreakoutGroupN, &[("n", &(u32::from(group) + 1).to_string())])
}

/// The breakout rooms' corner of a call page: the form, the host's panel
/// or the pupil's card.
#[component]
pub fn BreakoutCorner(rooms: Breakouts) -> impl IntoView {
    // What shows changes with the kind of view alone, not with every
    // change of state (a field being typed in keeps its focus).
    let kind = Memo::new(move |_| {
        if rooms.planning.with(Option::is_some) {
            return 1;
        }
        rooms.state.with(|s| match s {
            Some(s) if s.open && s.host => 2,
            Some(s) if s.open => 3,
            Some(_) => 4,
            None => 0,
        })
    });
    move || match kind.get() {
        1 => view! { <Plan rooms/> }.into_any(),
        2 => view! { <HostPanel rooms/> }.into_any(),
        3 => view! { <PupilCard rooms/> }.into_any(),
        4 => view! { <p class="visually-hidden" role="status">{t(Text::BreakoutClosed)}</p> }.into_any(),
        _ => ().into_any(),
    }
}

/// The host's form: how many groups, who goes where, for how long.
#[component]
fn Plan(rooms: Breakouts) -> impl IntoView {
    let people = rooms.planning.get_untracked().unwrap_or_default();
    let suggested = people.len().div_ceil(4).clamp(usize::from(MIN_GROUPS), usize::from(MAX_GROUPS)) as u8;
    let groups = RwSignal::new(suggested);
    let choose = RwSignal::new(people.is_empty());
    let minutes = RwSignal::new(0u16);
    let placed: Vec<(Participant, RwSignal<Option<u8>>)> = people.iter().map(|p| (p.clone(), RwSignal::new(None))).collect();
    let placed = StoredValue::new(placed);
    let shuffle = move || {
        let mut order: Vec<ParticipantId> = placed.with_value(|all| all.iter().map(|(p, _)| p.id).collect());
        shuffled(&mut order);
        let filled = fill_evenly(&order, groups.get_untracked());
        placed.with_value(|all| {
            for (p, group) in all {
                group.set(filled.iter().find(|(who, _)| *who == p.id).map(|(_, g)| *g));
            }
        });
    };
    shuffle();
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let members = placed.with_value(|all| all.iter().filter_map(|(p, g)| g.get_untracked().map(|g| (p.id, g))).collect());
        let plan = BreakoutPlan { groups: groups.get_untracked(), members, choose: choose.get_untracked(), minutes: minutes.get_untracked() };
        if plan.is_valid() {
            rooms.send.run(ClientMessage::BreakoutOpen { plan });
            rooms.planning.set(None);
        }
    };
    // The number of groups is where the keyboard starts; Escape puts the form away.
    let first_field = NodeRef::<leptos::html::Input>::new();
    super::form::focus_when_shown(first_field);
    let escape = super::form::on_escape(move || rooms.planning.set(None));
    let rows = placed.with_value(|all| {
        all.iter()
            .map(|(person, group)| {
                let group = *group;
                let label = t_with(Text::BreakoutGroupFor, &[("name", person.name.as_str())]);
                view! {
                    <li>
                        <span class="breakout-name">{person.name.as_str().to_string()}</span>
                        <select aria-label=label on:change=move |ev| group.set(event_target_value(&ev).parse::<u8>().ok())>
                            <option value="" selected=move || group.get().is_none()>{t(Text::BreakoutMainRoom)}</option>
                            {move || (0..groups.get()).map(|g| view! {
                                <option value=g.to_string() selected=move || group.get() == Some(g)>{group_name(g)}</option>
                            }).collect_view()}
                        </select>
                    </li>
                }
            })
            .collect_view()
    });
    let nobody = people.is_empty();
    view! {
        <form class="breakout-card breakout-plan" aria-labelledby="breakout-plan-heading" on:submit=open on:keydown=escape>
            <h2 id="breakout-plan-heading">{t(Text::BreakoutNewHeading)}</h2>
            <div class="breakout-numbers">
                <label>{t(Text::BreakoutGroups)}
                    <input type="number" node_ref=first_field min=MIN_GROUPS.to_string() max=MAX_GROUPS.to_string() prop:value=move || groups.get().to_string()
                        on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<u8>() {
                                groups.set(n.clamp(MIN_GROUPS, MAX_GROUPS));
                                shuffle();
                            }
                        }/>
                </label>
                <label>{t(Text::BreakoutMinutes)}
                    <input type="number" min="0" max=MAX_MINUTES.to_string() prop:value=move || minutes.get().to_string()
                        on:change=move |ev| minutes.set(event_target_value(&ev).parse::<u16>().unwrap_or(0).min(MAX_MINUTES))/>
                </label>
            </div>
            <fieldset class="breakout-people">
                <legend>{t(Text::BreakoutPeople)}</legend>
                {nobody.then(|| view! { <p class="hint">{t(Text::BreakoutNobody)}</p> })}
                <ul role="list">{rows}</ul>
                <button type="button" hidden=nobody on:click=move |_| shuffle()>{t(Text::BreakoutShuffle)}</button>
            </fieldset>
            <label class="check"><input type="checkbox" prop:checked=choose on:change=move |ev| choose.set(event_target_checked(&ev))/>
                " " {t(Text::BreakoutChooseAllowed)}</label>
            <div class="poll-actions">
                <button type="submit" class="primary">{t(Text::BreakoutOpen)}</button>
                <button type="button" on:click=move |_| rooms.planning.set(None)>{t(Text::BreakoutCancel)}</button>
            </div>
        </form>
    }
}

/// Who is in the call, as the call's page passes them to the host's form:
/// "breakouts", then a line a person, "id<tab>name".
pub fn people_of(text: &str) -> Vec<Participant> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let (id, name) = line.split_once('\t')?;
            let name = crate::domain::DisplayName::parse(name).ok()?;
            Some(Participant { id: ParticipantId(id.parse().ok()?), name, host: false })
        })
        .collect()
}

/// `order` in a random order (the browser's), for filling automatically.
fn shuffled(order: &mut [ParticipantId]) {
    for i in (1..order.len()).rev() {
        #[cfg(feature = "hydrate")]
        let roll = js_sys::Math::random();
        #[cfg(not(feature = "hydrate"))]
        let roll = 0.5;
        let j = ((roll * (i + 1) as f64) as usize).min(i);
        order.swap(i, j);
    }
}

/// Where someone may be moved: the main room or a group.
fn move_select(rooms: Breakouts, person: Participant, at: Option<u8>, groups: u8) -> impl IntoView {
    let label = t_with(Text::BreakoutMoveTo, &[("name", person.name.as_str())]);
    let id = person.id;
    view! {
        <li>
            <span class="breakout-name">{person.name.as_str().to_string()}</span>
            <select aria-label=label on:change=move |ev| {
                let group = event_target_value(&ev).parse::<u8>().ok();
                rooms.send.run(ClientMessage::BreakoutMove { id, group });
            }>
                <option value="" selected=at.is_none()>{t(Text::BreakoutMainRoom)}</option>
                {(0..groups).map(|g| view! { <option value=g.to_string() selected=at == Some(g)>{group_name(g)}</option> }).collect_view()}
            </select>
        </li>
    }
}

/// A card's heading (`breakout-heading`), with the button that folds its
/// body (`breakout-body`) away.
fn head(heading: impl IntoView + 'static, folded: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="poll-head">
            <h2 id="breakout-heading">{heading}</h2>
            <button type="button" class="fold" aria-expanded=move || (!folded.get()).to_string() aria-controls="breakout-body"
                on:click=move |_| folded.update(|f| *f = !*f)>
                {move || t(if folded.get() { Text::BreakoutUnfold } else { Text::BreakoutFold })}
            </button>
        </div>
    }
}

/// The host's panel while breakout rooms are open.
#[component]
fn HostPanel(rooms: Breakouts) -> impl IntoView {
    let folded = RwSignal::new(false);
    let state = move || rooms.state.get().filter(|s| s.open);
    let said = RwSignal::new(String::new());
    let countdown = RwSignal::new(30u16);
    let help: Memo<Vec<u8>> =
        Memo::new(move |_| state().map(|s| (0u8..).zip(&s.groups).filter(|(_, g)| g.help).map(|(i, _)| i).collect()).unwrap_or_default());
    // A call for help unfolds the panel.
    Effect::new(move |_| {
        if !help.get().is_empty() {
            folded.set(false);
        }
    });
    let groups = move || {
        let Some(s) = state() else { return ().into_any() };
        let count = s.groups.len() as u8;
        let you = s.you;
        let yours = s.yours;
        let lists = (0u8..)
            .zip(s.groups.iter().cloned())
            .map(|(g, GroupView { members, share, help })| {
                let heading = format!("breakout-group-{g}");
                let people = members.into_iter().filter(|p| p.id != you).map(|p| move_select(rooms, p, Some(g), count)).collect_view();
                view! {
                    <section class="breakout-group" class:wants-help=help aria-labelledby=heading>
                        <h3 id=heading.clone()>{group_name(g)}{help.then(|| view! { " " <span class="badge">{t_with(Text::BreakoutHelpWanted, &[("n", &(u32::from(g) + 1).to_string())])}</span> })}</h3>
                        <ul role="list">{people}</ul>
                        <div class="poll-actions">
                            {if yours == Some(g) {
                                view! { <span class="here">{t(Text::BreakoutHere)}</span> }.into_any()
                            } else {
                                view! { <button type="button" on:click=move |_| rooms.send.run(ClientMessage::BreakoutMove { id: you, group: Some(g) })>
                                    {t_with(Text::BreakoutVisit, &[("n", &(u32::from(g) + 1).to_string())])}</button> }.into_any()
                            }}
                            <label class="check"><input type="checkbox" prop:checked=share
                                on:change=move |ev| rooms.send.run(ClientMessage::BreakoutShare { group: g, allowed: event_target_checked(&ev) })/>
                                " " {t_with(Text::BreakoutMayShare, &[("n", &(u32::from(g) + 1).to_string())])}</label>
                        </div>
                    </section>
                }
            })
            .collect_view();
        let main: Vec<Participant> = s.main.into_iter().filter(|p| p.id != you).collect();
        let main = (!main.is_empty()).then(|| {
            view! {
                <section class="breakout-group" aria-labelledby="breakout-main">
                    <h3 id="breakout-main">{t(Text::BreakoutMainRoom)}</h3>
                    <ul role="list">{main.into_iter().map(|p| move_select(rooms, p, None, count)).collect_view()}</ul>
                </section>
            }
        });
        let back = yours.map(|_| {
            view! { <button type="button" on:click=move |_| rooms.send.run(ClientMessage::BreakoutMove { id: you, group: None })>{t(Text::BreakoutBackToMain)}</button> }
        });
        view! { {back} {lists} {main} }.into_any()
    };
    let voice_all = move || state().is_some_and(|s| s.voice_all);
    let say = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = said.get_untracked();
        if !text.trim().is_empty() {
            rooms.send.run(ClientMessage::BreakoutSay { text });
            said.set(String::new());
        }
    };
    view! {
        <section class="breakout-card breakout-host" class:folded=move || folded.get() aria-labelledby="breakout-heading">
            {head(t(Text::BreakoutHeadingOpen), folded)}
            <p role="alert" class="breakout-help">{move || help.get().into_iter().map(|g| t_with(Text::BreakoutHelpWanted, &[("n", &(u32::from(g) + 1).to_string())])).collect::<Vec<_>>().join(" · ")}</p>
            <p class="breakout-timer">{move || rooms.timer()}</p>
            <div id="breakout-body" hidden=move || folded.get()>
                {groups}
                <form class="breakout-say" on:submit=say>
                    <label for="breakout-say">{t(Text::BreakoutSayLabel)}</label>
                    <input id="breakout-say" maxlength="2000" autocomplete="off" prop:value=said on:input=move |ev| said.set(event_target_value(&ev))/>
                    <button type="submit">{t(Text::BreakoutSay)}</button>
                </form>
                <div class="poll-actions">
                    <button type="button" aria-pressed=move || voice_all().to_string() aria-describedby="breakout-voice-hint"
                        on:click=move |_| rooms.send.run(ClientMessage::BreakoutVoice { on: !voice_all() })>{t(Text::BreakoutVoiceAll)}</button>
                    <span id="breakout-voice-hint" class="hint">{t(Text::BreakoutVoiceAllHint)}</span>
                </div>
                <div class="poll-actions">
                    <label>{t(Text::BreakoutCloseAfter)}
                        <select on:change=move |ev| countdown.set(event_target_value(&ev).parse().unwrap_or(0))>
                            <option value="0">{t(Text::BreakoutCloseNow)}</option>
                            {[15u16, 30, 60].map(|s| view! { <option value=s.to_string() selected=s == 30>{t_count(Text::BreakoutCloseSeconds, u64::from(s))}</option> })}
                        </select>
                    </label>
                    <button type="button" class="danger" on:click=move |_| rooms.send.run(ClientMessage::BreakoutClose { seconds: countdown.get_untracked() })>
                        {t(Text::BreakoutCloseAll)}
                    </button>
                </div>
            </div>
        </section>
    }
}

/// A pupil's card while breakout rooms are open.
#[component]
fn PupilCard(rooms: Breakouts) -> impl IntoView {
    let folded = RwSignal::new(false);
    let state = move || rooms.state.get().filter(|s| s.open);
    let yours = Memo::new(move |_| state().and_then(|s| s.yours));
    // A call for help stands until the group changes.
    let asked = RwSignal::new(None::<u8>);
    let heading = move || match yours.get() {
        Some(g) => t_with(Text::BreakoutYouAreIn, &[("n", &(u32::from(g) + 1).to_string())]),
        None => t(Text::BreakoutYouAreInMain).to_string(),
    };
    let company = move || {
        let s = state()?;
        let members = match s.yours {
            Some(g) => s.groups.get(usize::from(g))?.members.clone(),
            None => s.main.clone(),
        };
        let names: Vec<String> = members.iter().filter(|p| p.id != s.you).map(|p| p.name.as_str().to_string()).collect();
        Some(if names.is_empty() { t(Text::BreakoutAlone).to_string() } else { t_with(Text::BreakoutWithYou, &[("names", &names.join(", "))]) })
    };
    let said = Memo::new(move |_| state().and_then(|s| s.said).map(|w| t_with(Text::BreakoutFromHost, &[("text", &w.text)])));
    let choices = move || {
        let s = state().filter(|s| s.choose)?;
        let buttons = (0u8..)
            .zip(&s.groups)
            .filter(|(g, _)| s.yours != Some(*g))
            .map(|(g, group)| {
                let text = t_with(Text::BreakoutJoinGroup, &[("n", &(u32::from(g) + 1).to_string()), ("count", &group.members.len().to_string())]);
                view! { <button type="button" on:click=move |_| rooms.send.run(ClientMessage::BreakoutChoose { group: g })>{text}</button> }
            })
            .collect_view();
        Some(view! {
            <fieldset class="breakout-choose">
                <legend>{t(Text::BreakoutChoose)}</legend>
                <div class="poll-actions">{buttons}</div>
            </fieldset>
        })
    };
    let help = move || {
        let g = yours.get()?;
        Some(if asked.get() == Some(g) {
            view! { <p role="status">{t(Text::BreakoutHelpAsked)}</p> }.into_any()
        } else {
            view! { <button type="button" on:click=move |_| {
                rooms.send.run(ClientMessage::BreakoutHelp);
                asked.set(Some(g));
            }>{t(Text::BreakoutAskHelp)}</button> }
            .into_any()
        })
    };
    view! {
        <section class="breakout-card breakout-pupil" class:folded=move || folded.get() aria-labelledby="breakout-heading">
            // Said as it changes: a pupil moved hears where to.
            {head(view! { <span aria-live="polite">{heading}</span> }, folded)}
            <p class="breakout-timer">{move || rooms.timer()}</p>
            <p class="breakout-said" role="status">{move || said.get()}</p>
            <div id="breakout-body" hidden=move || folded.get()>
                <p>{company}</p>
                <p class="hint" hidden=move || !state().is_some_and(|s| s.voice_all)>{t(Text::BreakoutHostSpeaking)}</p>
                <div class="poll-actions">{help}</div>
                {choices}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_form_reads_who_is_in_the_call_from_the_call_page() {
        let people = people_of("breakouts\n7\tAda Lovelace\n9\t李 小龙\nnot a line\n12\t");
        let read: Vec<(u64, &str)> = people.iter().map(|p| (p.id.0, p.name.as_str())).collect();
        assert_eq!(read, vec![(7, "Ada Lovelace"), (9, "李 小龙")], "a line without a tab, or with an empty name, is skipped");
        assert!(people_of("breakouts").is_empty(), "the host alone");
    }
}

//! The home page: what Huddle is, how a session goes (with a picture), and
//! a box for a guest who was sent a link to paste it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::i18n::{t, Text};

/// What Huddle is, how it works, and the ways in.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let not_a_link = move || (query.read().get("link").as_deref() == Some("unknown")).then(|| t(Text::HomeNotALink));
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>{t(Text::HomeHero)}</h1>
            <p class="lead">{t(Text::HomeLead)}</p>
            <p class="actions">
                <A href="/signup" attr:class="button primary">{t(Text::SiteSignUp)}</A>
                <A href="/login" attr:class="button">{t(Text::SiteSignIn)}</A>
            </p>
        </section>
        <section class="card narrow open-link" id="open-link" aria-labelledby="open-link-heading">
            <h2 id="open-link-heading">{t(Text::HomeHaveLink)}</h2>
            <form method="get" action="/api/open_link">
                <div class="field">
                    <label for="pasted-link">{t(Text::HomePasteLabel)}</label>
                    <input id="pasted-link" name="link" type="text" inputmode="url" autocomplete="off" required=true
                        aria-describedby="pasted-link-error" aria-invalid=move || not_a_link().map(|_| "true")/>
                    <p class="field-error" id="pasted-link-error" role="alert">{not_a_link}</p>
                </div>
                <button type="submit" class="primary">{t(Text::HomeOpenLink)}</button>
            </form>
            <p class="hint">{t(Text::HomeNoAccountNeeded)}</p>
        </section>
        <section class="how" aria-labelledby="how-heading">
            <h2 id="how-heading">{t(Text::HomeHowHeading)}</h2>
            <img src="/pkg/how-it-works.svg" width="640" height="400"
                alt=t(Text::HomeHowPicture)/>
            <ol>
                <li><strong>{t(Text::HomeCreateTitle)}</strong>{t(Text::HomeCreateText)}</li>
                <li><strong>{t(Text::HomeSendTitle)}</strong>{t(Text::HomeSendText)}</li>
                <li><strong>{t(Text::HomeTalkTitle)}</strong>{t(Text::HomeTalkText)}</li>
            </ol>
        </section>
    }
}

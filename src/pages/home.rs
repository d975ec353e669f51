//! The home page: what Huddle is, how a session goes (with a picture), and
//! a box for a guest who was sent a link to paste it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// What Huddle is, how it works, and the ways in.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let not_a_link = move || {
        (query.read().get("link").as_deref() == Some("unknown"))
            .then_some("That does not look like a Huddle join link. Copy the whole link from the message you were sent, and paste it again.")
    };
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Private video sessions, on your own server"</h1>
            <p class="lead">
                "Huddle is for consultations, classes and team meetings you schedule. "
                "Create a room, share its link, and your guests join from their browser: "
                "no account, no app to install, and nothing leaves your server."
            </p>
            <p class="actions">
                <A href="/signup" attr:class="button primary">"Sign up"</A>
                <A href="/login" attr:class="button">"Sign in"</A>
            </p>
        </section>
        <section class="card narrow open-link" id="open-link" aria-labelledby="open-link-heading">
            <h2 id="open-link-heading">"Have a link?"</h2>
            <form method="get" action="/api/open_link">
                <div class="field">
                    <label for="pasted-link">"Paste the join link you were sent"</label>
                    <input id="pasted-link" name="link" type="text" inputmode="url" autocomplete="off" required=true
                        aria-describedby="pasted-link-error" aria-invalid=move || not_a_link().map(|_| "true")/>
                    <p class="field-error" id="pasted-link-error" role="alert">{not_a_link}</p>
                </div>
                <button type="submit" class="primary">"Open the link"</button>
            </form>
            <p class="hint">"You need no account to join a session: the link is enough."</p>
        </section>
        <section class="how" aria-labelledby="how-heading">
            <h2 id="how-heading">"How it works"</h2>
            <img src="/pkg/how-it-works.svg" width="640" height="400"
                alt="A Huddle call: the other person large on a dark screen, yourself small in a corner, and one row of buttons below."/>
            <ol>
                <li><strong>"Create a room"</strong>" for your consultations, a class or a team, and schedule sessions in it."</li>
                <li><strong>"Send its link."</strong>" Guests open it in their browser, check their camera and microphone, and wait until you let them in."</li>
                <li><strong>"Talk."</strong>" See and hear each other, share a screen, chat, raise a hand. You stay in control: let in, mute, remove, lock, end."</li>
            </ol>
        </section>
    }
}

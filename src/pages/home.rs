use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// What Huddle is, with the way in.
#[component]
pub fn HomePage() -> impl IntoView {
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
    }
}

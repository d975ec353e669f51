use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Shown for unknown pages and join links that lead nowhere, with HTTP 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <section class="card narrow">
            <h1>"We could not find that"</h1>
            <p>
                "The link may be mistyped, or the room may no longer exist. "
                "Ask whoever sent it for a new link."
            </p>
            <p><A href="/">"Go to the home page"</A></p>
        </section>
    }
}

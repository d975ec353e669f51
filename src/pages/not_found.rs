use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::{t, Text};

/// Shown for unknown pages and join links that lead nowhere, with HTTP 404.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t(Text::NotFoundTitle)/>
        <section class="card narrow">
            <h1>{t(Text::NotFoundHeading)}</h1>
            <p>{t(Text::NotFoundBody)}</p>
            <p><A href="/">{t(Text::NotFoundHome)}</A></p>
        </section>
    }
}

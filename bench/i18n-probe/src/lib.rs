//! One island that says a sentence and a count, with leptos_i18n
//! (`--features with_i18n`) or with plain strings.

use leptos::prelude::*;

#[cfg(feature = "with_i18n")]
leptos_i18n::load_locales!();

#[cfg(feature = "with_i18n")]
#[island]
pub fn Probe() -> impl IntoView {
    use crate::i18n::*;
    let count = RwSignal::new(1u32);
    let i18n = use_i18n();
    view! {
        <I18nContextProvider>
            <p>{t!(i18n, waiting)}</p>
            <button on:click=move |_| count.update(|c| *c += 1)>{move || t!(i18n, people, count = move || count.get())}</button>
        </I18nContextProvider>
    }
}

#[cfg(not(feature = "with_i18n"))]
#[island]
pub fn Probe() -> impl IntoView {
    let count = RwSignal::new(1u32);
    view! {
        <p>"Waiting for the host to let you in."</p>
        <button on:click=move |_| count.update(|c| *c += 1)>{move || format!("{} people", count.get())}</button>
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}

//! Sign up and sign in. Both forms post straight to their server function,
//! so they work before the WASM has loaded.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{SignIn, SignUp};
use crate::i18n::{t, Text};
use crate::pages::form::{field_error, outcome, Field, FormError};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = outcome(action);
    view! {
        <Title text=t(Text::AuthSignUpTitle)/>
        <section class="card narrow">
            <h1>{t(Text::AuthSignUpHeading)}</h1>
            <p>{t(Text::AuthSignUpIntro)}</p>
            <ActionForm action=action>
                <FormError value=value/>
                <Field label=t(Text::AuthEmail) name="email" kind="email" autocomplete="email" error=field_error(value, "email")/>
                <Field label=t(Text::AuthDisplayName) name="display_name" autocomplete="name"
                    hint=t(Text::AuthDisplayNameHint) error=field_error(value, "display_name")/>
                <Field label=t(Text::AuthPassword) name="password" kind="password" autocomplete="new-password"
                    hint=t(Text::AuthNewPasswordHint) error=field_error(value, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t(Text::AuthCreateAccount)}</button>
            </ActionForm>
            <p>{t(Text::AuthHaveAccount)}" "<A href="/login">{t(Text::AuthSignIn)}</A></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let value = outcome(action);
    let query = use_query_map();
    // Deliberately the same words whether or not the email was new.
    let registered = move || query.read().get("registered").map(|_| t(Text::AuthRegistered));
    view! {
        <Title text=t(Text::AuthSignIn)/>
        <section class="card narrow">
            <h1>{t(Text::AuthSignIn)}</h1>
            <p class="notice" role="status">{registered}</p>
            <ActionForm action=action>
                <FormError value=value/>
                <Field label=t(Text::AuthEmail) name="email" kind="email" autocomplete="email" error=field_error(value, "email")/>
                <Field label=t(Text::AuthPassword) name="password" kind="password" autocomplete="current-password" error=field_error(value, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t(Text::AuthSignIn)}</button>
            </ActionForm>
            <p>{t(Text::AuthNewHere)}" "<A href="/signup">{t(Text::AuthCreateAnAccount)}</A></p>
        </section>
    }
}

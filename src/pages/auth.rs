//! Sign up and sign in. Both forms post straight to their server function,
//! so they work before the WASM has loaded.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{SignIn, SignUp};
use crate::pages::form::{field_error, outcome, Field, FormError};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = outcome(action);
    view! {
        <Title text="Sign up"/>
        <section class="card narrow">
            <h1>"Create your account"</h1>
            <p>"You need an account to host rooms. Your guests do not."</p>
            <ActionForm action=action>
                <FormError value=value/>
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field_error(value, "email")/>
                <Field label="Display name" name="display_name" autocomplete="name"
                    hint="How others see you in a call." error=field_error(value, "display_name")/>
                <Field label="Password" name="password" kind="password" autocomplete="new-password"
                    hint="At least 8 characters. A passphrase is best." error=field_error(value, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
            </ActionForm>
            <p>"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let value = outcome(action);
    let query = use_query_map();
    // Deliberately the same words whether or not the email was new.
    let registered = move || {
        query.read().get("registered").map(|_| {
            "Thank you. If this email was new to Huddle, your account is ready: sign in with it now. \
             If you already had an account, sign in with your existing password."
        })
    };
    view! {
        <Title text="Sign in"/>
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <p class="notice" role="status">{registered}</p>
            <ActionForm action=action>
                <FormError value=value/>
                <Field label="Email" name="email" kind="email" autocomplete="email" error=field_error(value, "email")/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error=field_error(value, "password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p>"New here? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

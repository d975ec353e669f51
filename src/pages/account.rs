//! `/account`: who you are signed in as, and your recent security events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::accounts::{current_user, security_events, ChangePassword, ChangeProfile, SetLanguage, SignOutEverywhereElse};
use crate::error::AppError;
use crate::i18n::{t, Locale, Text};
use crate::pages::form::{field_error, outcome, Field, FormError};

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| async { Ok::<_, AppError>((current_user().await?, security_events().await?)) });
    let change_password = ServerAction::<ChangePassword>::new();
    let change_profile = ServerAction::<ChangeProfile>::new();
    let end_others = ServerAction::<SignOutEverywhereElse>::new();
    let set_language = ServerAction::<SetLanguage>::new();
    let (password_result, profile_result, others_result) = (outcome(change_password), outcome(change_profile), outcome(end_others));
    let language_result = outcome(set_language);
    let current = crate::i18n::locale();
    let query = use_query_map();
    let done = move || match query.read().get("done").as_deref() {
        Some("password") => Some("Your password was changed. Your other sessions were signed out."),
        Some("profile") => Some("Saved. A new email is used only if no other account has it: the email below is the one you sign in with."),
        Some("others") => Some("Your other sessions were signed out."),
        Some("language") => Some(t(Text::AccountLanguageSaved)),
        _ => None,
    };
    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p role="status">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok((Some(user), events)) => view! {
                        <section class="card">
                            <h1>"Your account"</h1>
                            <p class="notice" role="status">{done}</p>
                            <h2>"Name and email"</h2>
                            <ActionForm action=change_profile>
                                <FormError value=profile_result/>
                                <Field label="Display name" name="display_name" autocomplete="name"
                                    value=user.display_name.clone() error=field_error(profile_result, "display_name")/>
                                <Field label="Email" name="email" kind="email" autocomplete="email"
                                    value=user.email.clone() error=field_error(profile_result, "email")/>
                                <Field label="Password, to confirm" name="password" kind="password" autocomplete="current-password"
                                    error=field_error(profile_result, "password")/>
                                <button type="submit">"Save name and email"</button>
                            </ActionForm>
                            <h2>{t(Text::AccountLanguageHeading)}</h2>
                            <ActionForm action=set_language>
                                <FormError value=language_result/>
                                <div class="field">
                                    <label for="field-language">{t(Text::AccountLanguageLabel)}</label>
                                    <select id="field-language" name="language" aria-describedby="field-language-hint">
                                        {Locale::all().map(|l| view! {
                                            <option value=l.tag() lang=l.tag() selected=l == current>{l.own_name()}</option>
                                        }).collect_view()}
                                    </select>
                                    <p class="hint" id="field-language-hint">{t(Text::AccountLanguageHint)}</p>
                                </div>
                                <button type="submit">{t(Text::AccountSaveLanguage)}</button>
                            </ActionForm>
                            <h2>"Password"</h2>
                            <ActionForm action=change_password>
                                <FormError value=password_result/>
                                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password"
                                    error=field_error(password_result, "current_password")/>
                                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                                    hint="At least 8 characters. Your other sessions will be signed out."
                                    error=field_error(password_result, "new_password")/>
                                <button type="submit">"Change password"</button>
                            </ActionForm>
                            <h2>"Sessions"</h2>
                            <ActionForm action=end_others>
                                <FormError value=others_result/>
                                <p>"Signed in on a computer you no longer use? End every session but this one."</p>
                                <button type="submit">"Sign out everywhere else"</button>
                            </ActionForm>
                            <h2>"Recent security events"</h2>
                            <table class="events">
                                <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"What"</th><th scope="col">"Result"</th><th scope="col">"From"</th></tr></thead>
                                <tbody>
                                    {events.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{e.at.replace('T', " ").trim_end_matches('Z').chars().take(19).collect::<String>()}</td>
                                            <td>{describe(&e.action, &e.outcome)}</td>
                                            <td>{if e.outcome == "success" { "Succeeded" } else { "Failed" }}</td>
                                            <td>{e.client_addr.unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Ok((None, _)) | Err(AppError::SignInRequired) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An audit action in words.
fn describe(action: &str, outcome: &str) -> &'static str {
    match action {
        "sign_up" if outcome == "success" => "Account created",
        "sign_up" => "Someone tried to sign up with your email",
        "sign_in" => "Sign-in",
        "sign_out" => "Sign-out",
        "session_expired" => "Session expired",
        "password_change" => "Password change",
        "profile_change" => "Name or email change",
        "sign_out_everywhere_else" => "Signed out everywhere else",
        _ => "Other",
    }
}

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
        Some("password") => Some(t(Text::AccountPasswordChanged)),
        Some("profile") => Some(t(Text::AccountProfileSaved)),
        Some("others") => Some(t(Text::AccountOthersSignedOut)),
        Some("language") => Some(t(Text::AccountLanguageSaved)),
        _ => None,
    };
    view! {
        <Title text=t(Text::AccountTitle)/>
        <Suspense fallback=|| view! { <p role="status">{t(Text::AccountLoading)}</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok((Some(user), events)) => view! {
                        <section class="card">
                            <h1>{t(Text::AccountTitle)}</h1>
                            <p class="notice" role="status">{done}</p>
                            <h2>{t(Text::AccountNameAndEmail)}</h2>
                            {user.email_before.clone().map(|before| view! {
                                <p class="hint" id="email-request">
                                    {crate::i18n::t_with(Text::AccountEmailRequested, &[("asked", &user.email), ("before", &before)])}
                                </p>
                            })}
                            <ActionForm action=change_profile>
                                <FormError value=profile_result/>
                                <Field label=t(Text::AuthDisplayName) name="display_name" autocomplete="name"
                                    value=user.display_name.clone() error=field_error(profile_result, "display_name")/>
                                <Field label=t(Text::AuthEmail) name="email" kind="email" autocomplete="email"
                                    value=user.email.clone() error=field_error(profile_result, "email")/>
                                <Field label=t(Text::AccountPasswordToConfirm) name="password" kind="password" autocomplete="current-password"
                                    error=field_error(profile_result, "password")/>
                                <button type="submit">{t(Text::AccountSaveProfile)}</button>
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
                            <h2>{t(Text::AccountPasswordHeading)}</h2>
                            <ActionForm action=change_password>
                                <FormError value=password_result/>
                                <Field label=t(Text::AccountCurrentPassword) name="current_password" kind="password" autocomplete="current-password"
                                    error=field_error(password_result, "current_password")/>
                                <Field label=t(Text::AccountNewPassword) name="new_password" kind="password" autocomplete="new-password"
                                    hint=t(Text::AccountNewPasswordHint)
                                    error=field_error(password_result, "new_password")/>
                                <button type="submit">{t(Text::AccountChangePassword)}</button>
                            </ActionForm>
                            <h2>{t(Text::AccountSessionsHeading)}</h2>
                            <ActionForm action=end_others>
                                <FormError value=others_result/>
                                <p>{t(Text::AccountSessionsText)}</p>
                                <button type="submit">{t(Text::AccountSignOutElsewhere)}</button>
                            </ActionForm>
                            <h2>{t(Text::AccountEventsHeading)}</h2>
                            <table class="events">
                                <thead><tr><th scope="col">{t(Text::AccountWhen)}</th><th scope="col">{t(Text::AccountWhat)}</th><th scope="col">{t(Text::AccountResult)}</th><th scope="col">{t(Text::AccountFrom)}</th></tr></thead>
                                <tbody>
                                    {events.into_iter().map(|e| view! {
                                        <tr>
                                            <td><time data-at-ms=e.at_ms>{format!("{} UTC", e.at.replace('T', " ").trim_end_matches('Z').chars().take(16).collect::<String>())}</time></td>
                                            <td>{describe(&e.action, &e.outcome)}</td>
                                            <td>{t(if e.outcome == "success" { Text::AccountSucceeded } else { Text::AccountFailed })}</td>
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
        "sign_up" if outcome == "success" => t(Text::AccountEventSignUp),
        "sign_up" => t(Text::AccountEventSignUpTried),
        "sign_in" => t(Text::AccountEventSignIn),
        "sign_out" => t(Text::AccountEventSignOut),
        "session_expired" => t(Text::AccountEventExpired),
        "password_change" => t(Text::AccountEventPassword),
        "profile_change" => t(Text::AccountEventProfile),
        "sign_out_everywhere_else" => t(Text::AccountEventElsewhere),
        _ => t(Text::AccountEventOther),
    }
}

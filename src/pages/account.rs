//! `/account`: who you are signed in as, and your recent security events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::accounts::{current_user, security_events};
use crate::error::AppError;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| async { Ok::<_, AppError>((current_user().await?, security_events().await?)) });
    view! {
        <Title text="Your account"/>
        <Suspense fallback=|| view! { <p role="status">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok((Some(user), events)) => view! {
                        <section class="card">
                            <h1>"Your account"</h1>
                            <dl class="facts">
                                <dt>"Display name"</dt><dd>{user.display_name}</dd>
                                <dt>"Email"</dt><dd>{user.email}</dd>
                            </dl>
                            <h2>"Recent security events"</h2>
                            <table class="events">
                                <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"What"</th><th scope="col">"Result"</th><th scope="col">"From"</th></tr></thead>
                                <tbody>
                                    {events.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{e.at.replace('T', " ").trim_end_matches('Z').chars().take(19).collect::<String>()}</td>
                                            <td>{describe(&e.action)}</td>
                                            <td>{if e.outcome == "success" { "Succeeded" } else { "Failed" }}</td>
                                            <td>{e.client_addr.unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Ok((None, _)) | Err(AppError::SignInRequired) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An audit action in words.
fn describe(action: &str) -> &'static str {
    match action {
        "sign_up" => "Account created",
        "sign_in" => "Sign-in",
        "sign_out" => "Sign-out",
        "session_expired" => "Session expired",
        _ => "Other",
    }
}

//! Signing up, in and out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::domain::Problem;
use crate::error::AppError;

/// The signed-in person, as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub display_name: String,
    /// The email as the owner last asked for it (see
    /// `server::accounts::set_profile`).
    pub email: String,
    /// While an email change stands: the address they signed in with when
    /// they asked.
    #[serde(default)]
    pub email_before: Option<String>,
}

/// A security event of the signed-in account, as `/account` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// UTC, RFC 3339.
    pub at: String,
    /// The same in Unix milliseconds, for the page to say in the reader's zone.
    pub at_ms: Option<i64>,
    /// e.g. `sign_in`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub client_addr: Option<String>,
}

/// Creates an account and sends the person to sign in. The answer is the
/// same whether or not the email was already registered (no account
/// enumeration); in the second case nothing changes and the owner's audit
/// log records the attempt.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn sign_up(email: String, display_name: String, password: String) -> Result<(), AppError> {
    use crate::domain::{DisplayName, Email, Password};
    use crate::server::accounts;
    use crate::server::password::is_common;
    super::context::keep_typed(&[("email", &email), ("display_name", &display_name)]);
    super::context::finish::<SignUp>(
        "/signup",
        async move {
            let email = Email::parse(&email).map_err(|m| AppError::invalid("email", m))?;
            let display_name = DisplayName::parse(&display_name).map_err(|m| AppError::invalid("display_name", m))?;
            let password = Password::parse(password).map_err(|m| AppError::invalid("password", m))?;
            if is_common(&password) {
                return Err(AppError::invalid("password", Problem::CommonPassword));
            }
            let (state, _) = super::context::request().await?;
            let client = super::context::client_addr().await;
            // Every sign-up counts against its address, taken or not.
            let address_key = client.map(|ip| crate::domain::ClientNetwork::of(ip).to_string()).unwrap_or_default();
            let now = std::time::Instant::now();
            let attempt = state.sign_in_throttle.sign_ups.begin(&address_key, now).await.map_err(AppError::too_many_attempts)?;
            attempt.failed(now).await;
            if let Some(account) = accounts::create(&state.db, &state.hasher, email, display_name, password, client).await? {
                tracing::info!(account = %account.id, "account created");
            }
            leptos_axum::redirect("/login?registered=1");
            Ok(())
        }
        .await,
    )
}

/// Signs in and goes to the rooms page.
#[server(prefix = "/api", endpoint = "login")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::accounts::{self, SignInAttempt};
    use crate::server::audit::{self, Action, Event};
    use crate::server::known_device;
    super::context::keep_typed(&[("email", &email)]);
    super::context::finish::<SignIn>(
        "/login",
        async move {
            let (state, session) = super::context::request().await?;
            let client = super::context::client_addr().await;
            let now = std::time::Instant::now();
            let headers: http::HeaderMap = leptos_axum::extract().await.map_err(|e| AppError::internal("reading the request's headers", e))?;
            let device = known_device::token(&headers);
            let known = known_device::is_known(&state.db, &email, device).await?;
            // Keyed by what was typed, known account or not: the throttle must
            // not tell them apart either. Reserved before the hash, so a burst
            // is not checked in full before its first failure counts.
            let check = state
                .sign_in_throttle
                .begin(&email, client, device.filter(|_| known), now)
                .await
                .inspect_err(|_| state.metrics.sign_in_failed("throttled"))?;
            match accounts::authenticate(&state.db, &state.hasher, &email, password).await? {
                SignInAttempt::Accepted(account) => {
                    check.succeeded().await;
                    if !known {
                        let cookie = known_device::remember(&state.db, account.id, state.public_origin.starts_with("https://")).await?;
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.append_header(http::header::SET_COOKIE, cookie);
                        }
                    }
                    session.sign_in(&account).await?;
                    accounts::forget_email_request(&state.db, account.id).await?;
                    // The account's language, on this browser too.
                    if let Some(locale) = accounts::language(&state.db, account.id).await? {
                        super::context::remember_language(&state, locale);
                    }
                    audit::record(&state.db, Event::by(account.id, Action::SignIn, true, client)).await?;
                    leptos_axum::redirect("/rooms");
                    Ok(())
                }
                SignInAttempt::Refused { account } => {
                    check.failed(std::time::Instant::now()).await;
                    let event = Event { actor: None, account, action: Action::SignIn, success: false, client };
                    audit::record(&state.db, event).await?;
                    state.metrics.sign_in_failed("bad_credentials");
                    Err(AppError::BadCredentials)
                }
            }
        }
        .await,
    )
}

/// Ends the session on the server and goes home.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<SignOut>(
        "/",
        async move {
            let (state, session) = super::context::request().await?;
            if let Some(account) = session.account(&state).await? {
                let client = super::context::client_addr().await;
                audit::record(&state.db, Event::by(account.id, Action::SignOut, true, client)).await?;
                if let Some(login) = session.login().await? {
                    state.everywhere(crate::server::cluster::bus::Everywhere::CloseLogin { account: account.id, login }).await;
                }
            }
            session.sign_out().await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    super::context::finish::<CurrentUser>(
        "/",
        async move {
            let (state, session) = super::context::request().await?;
            Ok(session.account(&state).await?.map(|a| SignedInUser {
                display_name: a.display_name.to_string(),
                email: a.shown_email().to_string(),
                email_before: a.email_request.map(|r| r.before),
            }))
        }
        .await,
    )
}

/// The signed-in account's most recent security events, newest first.
#[server(prefix = "/api", endpoint = "security_events")]
pub async fn security_events() -> Result<Vec<SecurityEvent>, AppError> {
    use crate::server::audit;
    super::context::finish::<SecurityEvents>(
        "/account",
        async move {
            let (state, session) = super::context::request().await?;
            let account = session.require_account(&state).await?;
            let recorded = audit::recent_for_account(&state.db, account.id, 20).await?;
            Ok(recorded
                .into_iter()
                .map(|audit::Recorded { at, action, outcome, client_addr }| SecurityEvent {
                    at_ms: at.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond()),
                    at,
                    action,
                    outcome,
                    client_addr,
                })
                .collect())
        }
        .await,
    )
}

/// Checks `password` is `account`'s current one, under the sign-in
/// throttle; a wrong one is audited as a failed `action` and answered on the
/// form's `field`.
#[cfg(feature = "ssr")]
async fn confirm_password(
    state: &crate::server::state::AppState,
    account: &crate::server::accounts::Account,
    client: Option<std::net::IpAddr>,
    password: String,
    action: crate::server::audit::Action,
    field: &str,
) -> Result<(), AppError> {
    use crate::server::audit::{self, Event};
    let check = state.sign_in_throttle.begin(&account.email, client, None, std::time::Instant::now()).await?;
    if !crate::server::accounts::check_password(&state.db, &state.hasher, account.id, password).await? {
        check.failed(std::time::Instant::now()).await;
        audit::record(&state.db, Event::by(account.id, action, false, client)).await?;
        return Err(AppError::invalid(field, Problem::WrongPassword));
    }
    check.succeeded().await;
    Ok(())
}

/// Changes the password after checking the current one. Every other session
/// of the account ends and its call connections close; this one stays.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use crate::domain::Password;
    use crate::server::accounts;
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<ChangePassword>(
        "/account",
        async move {
            let (state, session) = super::context::request().await?;
            let account = session.require_account(&state).await?;
            let client = super::context::client_addr().await;
            confirm_password(&state, &account, client, current_password, Action::PasswordChange, "current_password").await?;
            let new_password = Password::parse(new_password).map_err(|m| AppError::invalid("new_password", m))?;
            if crate::server::password::is_common(&new_password) {
                return Err(AppError::invalid("new_password", Problem::CommonPassword));
            }
            let epoch = accounts::set_password(&state.db, &state.hasher, account.id, new_password).await?;
            audit::record(&state.db, Event::by(account.id, Action::PasswordChange, true, client)).await?;
            session.renew(epoch).await?;
            state.everywhere(crate::server::cluster::bus::Everywhere::CloseAccount { account: account.id, keep: None, epoch }).await;
            leptos_axum::redirect("/account?done=password");
            Ok(())
        }
        .await,
    )
}

/// Changes display name and email after checking the password. Whether the
/// new email was free is not said, nor shown (see `accounts::set_profile`).
#[server(prefix = "/api", endpoint = "change_profile")]
pub async fn change_profile(display_name: String, email: String, password: String) -> Result<(), AppError> {
    use crate::domain::{DisplayName, Email};
    use crate::server::accounts;
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<ChangeProfile>(
        "/account",
        async move {
            let display_name = DisplayName::parse(&display_name).map_err(|m| AppError::invalid("display_name", m))?;
            let email = Email::parse(&email).map_err(|m| AppError::invalid("email", m))?;
            let (state, session) = super::context::request().await?;
            let account = session.require_account(&state).await?;
            let client = super::context::client_addr().await;
            confirm_password(&state, &account, client, password, Action::ProfileChange, "password").await?;
            // Changing the email is counted per account, whether the new one is
            // free or not: the neutral answer below must not become a cheap way
            // to test which emails are registered.
            accounts::email_change_allowed(&account, &email)?;
            if email.as_str() != account.shown_email() {
                let now = std::time::Instant::now();
                let attempt = state.sign_in_throttle.email_changes.begin(&account.id.to_string(), now).await.map_err(AppError::too_many_attempts)?;
                attempt.failed(now).await;
            }
            accounts::set_profile(&state.db, &account, &display_name, &email, client).await?;
            audit::record(&state.db, Event::by(account.id, Action::ProfileChange, true, client)).await?;
            leptos_axum::redirect("/account?done=profile");
            Ok(())
        }
        .await,
    )
}

/// Keeps the account's language, and switches this browser to it (the
/// account's other browsers take it at their next sign-in).
#[server(prefix = "/api", endpoint = "set_language")]
pub async fn set_language(language: String) -> Result<(), AppError> {
    use crate::i18n::Locale;
    use crate::server::accounts;
    super::context::finish::<SetLanguage>(
        "/account",
        async move {
            let (state, session) = super::context::request().await?;
            let account = session.require_account(&state).await?;
            let Some(locale) = Locale::from_tag(&language) else {
                return Err(AppError::invalid("language", Problem::UnknownLanguage));
            };
            accounts::set_language(&state.db, account.id, locale).await?;
            super::context::remember_language(&state, locale);
            leptos_axum::redirect("/account?done=language");
            Ok(())
        }
        .await,
    )
}

/// Ends every other session of the account and closes their call
/// connections; this one stays signed in.
#[server(prefix = "/api", endpoint = "sign_out_everywhere_else")]
pub async fn sign_out_everywhere_else() -> Result<(), AppError> {
    use crate::server::accounts;
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<SignOutEverywhereElse>(
        "/account",
        async move {
            let (state, session) = super::context::request().await?;
            let account = session.require_account(&state).await?;
            let epoch = accounts::end_all_sessions(&state.db, account.id).await?;
            let client = super::context::client_addr().await;
            audit::record(&state.db, Event::by(account.id, Action::SignOutEverywhereElse, true, client)).await?;
            session.renew(epoch).await?;
            state
                .everywhere(crate::server::cluster::bus::Everywhere::CloseAccount { account: account.id, keep: session.login().await?, epoch })
                .await;
            leptos_axum::redirect("/account?done=others");
            Ok(())
        }
        .await,
    )
}

//! Signing up, in and out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in person, as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub display_name: String,
    pub email: String,
}

/// A security event of the signed-in account, as `/account` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// UTC, RFC 3339.
    pub at: String,
    /// e.g. `sign_in`.
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub client_addr: Option<String>,
}

/// Creates an account, signs it in and goes to the rooms page.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn sign_up(email: String, display_name: String, password: String) -> Result<(), AppError> {
    use crate::domain::{DisplayName, Email, Password};
    use crate::server::accounts;
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<SignUp>("/signup", async move {
        let email = Email::parse(&email).map_err(|m| AppError::invalid("email", m))?;
        let display_name = DisplayName::parse(&display_name).map_err(|m| AppError::invalid("display_name", m))?;
        let password = Password::parse(password).map_err(|m| AppError::invalid("password", m))?;
        let (state, session) = super::context::request().await?;
        let account = accounts::create(&state.db, &state.hasher, email, display_name, password).await?;
        let client = super::context::client_addr().await;
        audit::record(&state.db, Event::by(account.id, Action::SignUp, true, client)).await?;
        session.sign_in(&account).await?;
        audit::record(&state.db, Event::by(account.id, Action::SignIn, true, client)).await?;
        tracing::info!(account = account.id, "account created");
        leptos_axum::redirect("/rooms");
        Ok(())
    }.await)
}

/// Signs in and goes to the rooms page.
#[server(prefix = "/api", endpoint = "login")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::accounts::{self, SignInAttempt};
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<SignIn>("/login", async move {
        let (state, session) = super::context::request().await?;
        let client = super::context::client_addr().await;
        match accounts::authenticate(&state.db, &state.hasher, &email, password).await? {
            SignInAttempt::Accepted(account) => {
                session.sign_in(&account).await?;
                audit::record(&state.db, Event::by(account.id, Action::SignIn, true, client)).await?;
                leptos_axum::redirect("/rooms");
                Ok(())
            }
            SignInAttempt::Refused { account } => {
                let event = Event { actor: None, account, action: Action::SignIn, success: false, client };
                audit::record(&state.db, event).await?;
                Err(AppError::BadCredentials)
            }
        }
    }.await)
}

/// Ends the session on the server and goes home.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::audit::{self, Action, Event};
    super::context::finish::<SignOut>("/", async move {
        let (state, session) = super::context::request().await?;
        if let Some(account) = session.account(&state).await? {
            let client = super::context::client_addr().await;
            audit::record(&state.db, Event::by(account.id, Action::SignOut, true, client)).await?;
        }
        session.sign_out().await?;
        leptos_axum::redirect("/");
        Ok(())
    }.await)
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<SignedInUser>, AppError> {
    super::context::finish::<CurrentUser>("/", async move {
        let (state, session) = super::context::request().await?;
        Ok(session.account(&state).await?.map(|a| SignedInUser { display_name: a.display_name.to_string(), email: a.email }))
    }.await)
}

/// The signed-in account's most recent security events, newest first.
#[server(prefix = "/api", endpoint = "security_events")]
pub async fn security_events() -> Result<Vec<SecurityEvent>, AppError> {
    use crate::server::audit;
    super::context::finish::<SecurityEvents>("/account", async move {
        let (state, session) = super::context::request().await?;
        let account = session.require_account(&state).await?;
        audit::recent_for_account(&state.db, account.id, 20).await
    }.await)
}

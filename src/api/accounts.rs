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

/// Creates an account, signs it in and goes to the rooms page.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn sign_up(email: String, display_name: String, password: String) -> Result<(), AppError> {
    use crate::domain::{DisplayName, Email, Password};
    use crate::server::accounts;
    super::context::finish::<SignUp>("/signup", async move {
        let email = Email::parse(&email).map_err(|m| AppError::invalid("email", m))?;
        let display_name = DisplayName::parse(&display_name).map_err(|m| AppError::invalid("display_name", m))?;
        let password = Password::parse(password).map_err(|m| AppError::invalid("password", m))?;
        let (state, session) = super::context::request().await?;
        let account = accounts::create(&state.db, &state.hasher, email, display_name, password).await?;
        session.sign_in(&account).await?;
        tracing::info!(account = account.id, "account created");
        leptos_axum::redirect("/rooms");
        Ok(())
    }.await)
}

/// Signs in and goes to the rooms page.
#[server(prefix = "/api", endpoint = "login")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::server::accounts;
    super::context::finish::<SignIn>("/login", async move {
        let (state, session) = super::context::request().await?;
        let account = accounts::authenticate(&state.db, &state.hasher, &email, password).await?;
        session.sign_in(&account).await?;
        leptos_axum::redirect("/rooms");
        Ok(())
    }.await)
}

/// Ends the session on the server and goes home.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn sign_out() -> Result<(), AppError> {
    super::context::finish::<SignOut>("/", async move {
        let (_, session) = super::context::request().await?;
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
        Ok(session.account(&state.db).await?.map(|a| SignedInUser { display_name: a.display_name.to_string(), email: a.email }))
    }.await)
}

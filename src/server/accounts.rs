//! Accounts: creating one and proving who you are.

use sqlx::SqlitePool;

use crate::domain::{DisplayName, Email, Password};
use crate::error::AppError;
use crate::server::password::PasswordHasher;

/// A host's account as the application uses it (never the password hash).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub display_name: DisplayName,
}

/// Creates an account; the email must not be taken.
pub async fn create(
    db: &SqlitePool,
    hasher: &PasswordHasher,
    email: Email,
    display_name: DisplayName,
    password: Password,
) -> Result<Account, AppError> {
    let hash = hasher.hash(password).await?;
    let row: Result<(i64,), sqlx::Error> =
        sqlx::query_as("INSERT INTO accounts (email, display_name, password_hash) VALUES (?, ?, ?) RETURNING id")
            .bind(email.as_str())
            .bind(display_name.as_str())
            .bind(&hash)
            .fetch_one(db)
            .await;
    match row {
        Ok((id,)) => Ok(Account { id, email: email.as_str().to_string(), display_name }),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::invalid("email", "An account with this email already exists. Sign in instead."))
        }
        Err(e) => Err(AppError::internal("creating an account failed", e)),
    }
}

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub enum SignInAttempt {
    Accepted(Account),
    /// Wrong password or unknown email; `account` is set when the email
    /// belongs to one (for its owner's audit log, never for the answer).
    Refused { account: Option<i64> },
}

/// Checks `password` against the account for `email`. Unknown email and
/// wrong password take the same work.
pub async fn authenticate(db: &SqlitePool, hasher: &PasswordHasher, email: &str, password: String) -> Result<SignInAttempt, AppError> {
    let found = match Email::parse(email) {
        Ok(email) => sqlx::query_as::<_, (i64, String, String, String)>(
            "SELECT id, email, display_name, password_hash FROM accounts WHERE email = ?",
        )
        .bind(email.as_str())
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("looking up an account failed", e))?,
        Err(_) => None,
    };
    let stored = found.as_ref().map(|(_, _, _, hash)| hash.clone());
    let matches = hasher.verify(password, stored).await?;
    match found {
        Some((id, email, name, _)) if matches => Ok(SignInAttempt::Accepted(Account { id, email, display_name: stored_name(&name)? })),
        found => Ok(SignInAttempt::Refused { account: found.map(|(id, ..)| id) }),
    }
}

/// The account with this id, if it still exists.
pub async fn find(db: &SqlitePool, id: i64) -> Result<Option<Account>, AppError> {
    let row = sqlx::query_as::<_, (i64, String, String)>("SELECT id, email, display_name FROM accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("loading an account failed", e))?;
    row.map(|(id, email, name)| Ok(Account { id, email, display_name: stored_name(&name)? })).transpose()
}

/// Names are validated before they are stored; one that no longer parses
/// means the database was edited by hand.
fn stored_name(raw: &str) -> Result<DisplayName, AppError> {
    DisplayName::parse(raw).map_err(|e| AppError::internal("a stored display name is invalid", e))
}

//! A typed view of the signed-in session, over tower-sessions' raw store.

use sqlx::SqlitePool;
use tower_sessions::Session;

use crate::error::AppError;
use crate::server::accounts::{self, Account};

const ACCOUNT_ID: &str = "account_id";

/// The browser's session: who (if anyone) is signed in.
#[derive(Clone)]
pub struct UserSession(pub Session);

impl UserSession {
    /// Signs `account` in under a new session id, so an id planted before
    /// sign-in is worthless afterwards.
    pub async fn sign_in(&self, account: &Account) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(|e| AppError::internal("rotating the session id failed", e))?;
        self.0.insert(ACCOUNT_ID, account.id).await.map_err(|e| AppError::internal("saving the session failed", e))
    }

    /// Ends the session on the server, not just in the browser.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(|e| AppError::internal("deleting the session failed", e))
    }

    /// The signed-in account, if there is one and it still exists.
    pub async fn account(&self, db: &SqlitePool) -> Result<Option<Account>, AppError> {
        let id: Option<i64> = self.0.get(ACCOUNT_ID).await.map_err(|e| AppError::internal("reading the session failed", e))?;
        match id {
            Some(id) => accounts::find(db, id).await,
            None => Ok(None),
        }
    }

    /// Like [`UserSession::account`], but a missing sign-in is an error.
    pub async fn require_account(&self, db: &SqlitePool) -> Result<Account, AppError> {
        self.account(db).await?.ok_or(AppError::SignInRequired)
    }
}

//! A typed view of the signed-in session, over tower-sessions' raw store.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tower_sessions::Session;

use crate::domain::AccountId;
use crate::error::AppError;
use crate::server::accounts::{self, Account};
use crate::server::audit::{self, Action, Event};
use crate::server::config::SessionLimits;
use crate::server::state::AppState;

const ACCOUNT_ID: &str = "account_id";
/// Unix seconds of the sign-in, for the absolute timeout.
const SIGNED_IN_AT: &str = "signed_in_at";
/// The account's session epoch when this session signed in.
const EPOCH: &str = "session_epoch";
/// Random id of this sign-in, naming the signaling sockets it opened.
const LOGIN: &str = "login";
/// When the visitor last did something (which saves the session, moving
/// its idle deadline on).
const LAST_SEEN: &str = "last_seen";

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The browser's session: who (if anyone) is signed in.
#[derive(Clone)]
pub struct UserSession(pub Session);

impl UserSession {
    /// Signs `account` in under a new session id, so an id planted before
    /// sign-in is worthless afterwards.
    pub async fn sign_in(&self, account: &Account) -> Result<(), AppError> {
        self.0.insert(ACCOUNT_ID, account.id).await.map_err(|e| AppError::internal("saving the session failed", e))?;
        self.0.insert(SIGNED_IN_AT, now_secs()).await.map_err(|e| AppError::internal("saving the session failed", e))?;
        self.0.insert(LOGIN, crate::server::token::random_u64()).await.map_err(|e| AppError::internal("saving the session failed", e))?;
        self.renew(account.session_epoch).await
    }

    /// Keeps this session valid under a new session epoch (after a password
    /// change or ending the other sessions), under a new id.
    pub async fn renew(&self, epoch: i64) -> Result<(), AppError> {
        self.0.cycle_id().await.map_err(|e| AppError::internal("rotating the session id failed", e))?;
        self.0.insert(EPOCH, epoch).await.map_err(|e| AppError::internal("saving the session failed", e))
    }

    /// This sign-in's id, if signed in.
    pub async fn login(&self) -> Result<Option<u64>, AppError> {
        self.0.get(LOGIN).await.map_err(|e| AppError::internal("reading the session failed", e))
    }

    /// When this session reaches its absolute limit, if signed in.
    pub async fn deadline(&self, limits: SessionLimits) -> Result<Option<SystemTime>, AppError> {
        let at: Option<u64> = self.0.get(SIGNED_IN_AT).await.map_err(|e| AppError::internal("reading the session failed", e))?;
        Ok(at.map(|at| UNIX_EPOCH + Duration::from_secs(at) + limits.absolute))
    }

    /// Ends the session on the server, not just in the browser.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.0.flush().await.map_err(|e| AppError::internal("deleting the session failed", e))
    }

    /// The signed-in account, if there is one, it still exists and the
    /// session is within its absolute lifetime. A session past it is ended
    /// here and recorded as expired. Counts as activity: the idle deadline
    /// moves on.
    pub async fn account(&self, state: &AppState) -> Result<Option<Account>, AppError> {
        let account = self.account_quietly(state).await?;
        if account.is_some() {
            self.0.insert(LAST_SEEN, now_secs()).await.map_err(|e| AppError::internal("saving the session failed", e))?;
        }
        Ok(account)
    }

    /// The signed-in account, without counting the request as activity: for
    /// a page's background poll, which must not keep an unattended tab
    /// signed in.
    pub async fn account_quietly(&self, state: &AppState) -> Result<Option<Account>, AppError> {
        let read = |e| AppError::internal("reading the session failed", e);
        let Some(id) = self.0.get::<AccountId>(ACCOUNT_ID).await.map_err(read)? else { return Ok(None) };
        let signed_in_at = self.0.get::<u64>(SIGNED_IN_AT).await.map_err(read)?.unwrap_or(0);
        if now_secs().saturating_sub(signed_in_at) >= state.session_limits.absolute.as_secs() {
            audit::record(&state.db, Event::by(id, Action::SessionExpired, true, None)).await?;
            self.sign_out().await?;
            return Ok(None);
        }
        let epoch = self.0.get::<i64>(EPOCH).await.map_err(read)?.unwrap_or(-1);
        match accounts::find(&state.db, id).await? {
            Some(account) if account.session_epoch == epoch => Ok(Some(account)),
            // Ended elsewhere (password change, "sign out everywhere else"),
            // or the account is gone.
            _ => {
                self.sign_out().await?;
                Ok(None)
            }
        }
    }

    /// Like [`UserSession::account`], but a missing sign-in is an error.
    pub async fn require_account(&self, state: &AppState) -> Result<Account, AppError> {
        self.account(state).await?.ok_or(AppError::SignInRequired)
    }

    /// Like [`UserSession::account_quietly`], but a missing sign-in is an error.
    pub async fn require_account_quietly(&self, state: &AppState) -> Result<Account, AppError> {
        self.account_quietly(state).await?.ok_or(AppError::SignInRequired)
    }
}

/// Deletes expired sessions from the store, recording in the audit log, in
/// the same transaction, each one that was signed in (`session_expired`), so
/// idle expiry is audited too. Returns the sign-ins that expired.
///
/// The delete comes first and says what it deleted: two sweeps at once
/// (two servers on one database) take the rows in turn, and the second
/// finds them gone, so each expiry is audited once.
pub async fn sweep_expired(db: &crate::server::db::Db) -> Result<Vec<crate::server::signaling::Login>, AppError> {
    let failed = |e: sqlx::Error| AppError::internal("sweeping expired sessions failed", e);
    let mut tx = db.begin().await.map_err(failed)?;
    let statement = if db.is_postgres() {
        "DELETE FROM sessions WHERE expiry_date < now() RETURNING data"
    } else {
        "DELETE FROM sessions WHERE datetime(expiry_date) < datetime('now') RETURNING data"
    };
    let expired: Vec<(Vec<u8>,)> = crate::server::db::sql::query_as(statement).fetch_all(&mut tx).await.map_err(failed)?;
    let mut signed_in = Vec::new();
    for (data,) in &expired {
        let record = rmp_serde::from_slice::<tower_sessions::session::Record>(data).ok();
        let field = |key: &str| record.as_ref().and_then(|r| r.data.get(key).and_then(serde_json::Value::as_i64));
        if let Some(account) = field(ACCOUNT_ID).map(AccountId) {
            audit::record(&mut tx, Event::by(account, Action::SessionExpired, true, None)).await?;
            if let Some(login) = record.as_ref().and_then(|r| r.data.get(LOGIN).and_then(serde_json::Value::as_u64)) {
                signed_in.push(crate::server::signaling::Login { account, login });
            }
        }
    }
    tx.commit().await.map_err(failed)?;
    Ok(signed_in)
}

//! The audit log: who did what to which account, when, from where, and
//! whether it worked. Written before the person is told the outcome; a
//! failed write fails the action rather than going unrecorded.

use crate::domain::AccountId;
use std::net::IpAddr;

use crate::server::db::{sql, Db};

use crate::error::AppError;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignUp,
    SignIn,
    SignOut,
    SessionExpired,
    PasswordChange,
    ProfileChange,
    SignOutEverywhereElse,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::SignOut => "sign_out",
            Self::SessionExpired => "session_expired",
            Self::PasswordChange => "password_change",
            Self::ProfileChange => "profile_change",
            Self::SignOutEverywhereElse => "sign_out_everywhere_else",
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    /// The account acting, if known.
    pub actor: Option<AccountId>,
    /// The account the event concerns, if any.
    pub account: Option<AccountId>,
    pub action: Action,
    pub success: bool,
    pub client: Option<IpAddr>,
}

impl Event {
    /// `account` acted on itself.
    pub fn by(account: AccountId, action: Action, success: bool, client: Option<IpAddr>) -> Self {
        Self { actor: Some(account), account: Some(account), action, success, client }
    }
}

/// Appends `event` (through a pool or inside a transaction).
pub async fn record<'a>(db: impl Into<sql::On<'a>>, event: Event) -> Result<(), AppError> {
    let actor = event.actor.map_or_else(|| "anonymous".to_string(), |id| format!("account:{id}"));
    sql::query("INSERT INTO audit_events (actor, account_id, action, outcome, client_addr) VALUES ($1, $2, $3, $4, $5)")
        .bind(actor)
        .bind(event.account)
        .bind(event.action.as_str())
        .bind(if event.success { "success" } else { "failure" })
        .bind(event.client.map(|ip| ip.to_string()))
        .execute(db)
        .await
        .map_err(|e| AppError::internal("writing the audit log failed", e))?;
    Ok(())
}

/// Appends an event from a call (admit, deny, remove, lock, end, or a
/// refused host action): `actor` as in the table (`account:<id>` or
/// `guest:<participant id>`), `target` naming what it was done to.
pub async fn record_call(
    db: &Db,
    actor: String,
    account: Option<AccountId>,
    action: &str,
    target: Option<String>,
    success: bool,
    client: Option<IpAddr>,
) -> Result<(), AppError> {
    sql::query("INSERT INTO audit_events (actor, account_id, action, target, outcome, client_addr) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(actor)
        .bind(account)
        .bind(action)
        .bind(target)
        .bind(if success { "success" } else { "failure" })
        .bind(client.map(|ip| ip.to_string()))
        .execute(db)
        .await
        .map_err(|e| AppError::internal("writing the audit log failed", e))?;
    Ok(())
}

/// One stored event, as the account's owner may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// UTC, RFC 3339.
    pub at: String,
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub client_addr: Option<String>,
}

/// The most recent events concerning `account`, newest first.
pub async fn recent_for_account(db: &Db, account: AccountId, limit: i64) -> Result<Vec<Recorded>, AppError> {
    let rows: Vec<(String, String, String, Option<String>)> =
        sql::query_as("SELECT at, action, outcome, client_addr FROM audit_events WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(account)
            .bind(limit)
            .fetch_all(db)
            .await
            .map_err(|e| AppError::internal("reading the audit log failed", e))?;
    Ok(rows.into_iter().map(|(at, action, outcome, client_addr)| Recorded { at, action, outcome, client_addr }).collect())
}

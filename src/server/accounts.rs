//! Accounts: creating one and proving who you are.

use std::net::IpAddr;

use crate::server::db::{sql, Db};

use crate::domain::{AccountId, DisplayName, Email, Password};
use crate::error::AppError;
use crate::server::audit::{self, Action, Event};
use crate::server::password::PasswordHasher;

/// A host's account as the application uses it (never the password hash).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub email: String,
    pub display_name: DisplayName,
    /// Sessions signed in under an older epoch no longer count.
    pub session_epoch: i64,
    /// The email change the owner last asked for, if they have not signed
    /// in since (see [`set_profile`]).
    pub email_request: Option<EmailRequest>,
}

/// An email change as its owner is shown it: the same whether the address
/// was free or another account's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRequest {
    /// The address they asked for.
    pub asked: String,
    /// The address they signed in with when they asked.
    pub before: String,
}

impl Account {
    /// The email the owner is shown: the one they last asked for, while it
    /// stands, else the one in force.
    pub fn shown_email(&self) -> &str {
        self.email_request.as_ref().map_or(&self.email, |r| &r.asked)
    }
}

/// Creates an account, unless the email is taken: then `None`, after the
/// same work (one password hash, one durable write: the audit row for the
/// account owner), so neither the answer nor its timing tells whether an
/// email is registered.
pub async fn create(
    db: &Db,
    hasher: &PasswordHasher,
    email: Email,
    display_name: DisplayName,
    password: Password,
    client: Option<IpAddr>,
) -> Result<Option<Account>, AppError> {
    let hash = hasher.hash(password).await?;
    let failed = |e| AppError::internal("creating an account failed", e);
    // A taken email does the work a new one does (one insert that may do
    // nothing, one audit row, one commit), and one indexed look-up more:
    // timing must not tell them apart.
    let mut tx = db.begin().await.map_err(failed)?;
    let inserted: Option<(AccountId,)> =
        sql::query_as("INSERT INTO accounts (email, display_name, password_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id")
            .bind(email.as_str())
            .bind(display_name.as_str())
            .bind(&hash)
            .fetch_optional(&mut tx)
            .await
            .map_err(failed)?;
    let created = match inserted {
        Some((id,)) => {
            audit::record(&mut tx, Event::by(id, Action::SignUp, true, client)).await?;
            Some(Account { id, email: email.as_str().to_string(), display_name, session_epoch: 0, email_request: None })
        }
        None => {
            let owner: Option<(AccountId,)> =
                sql::query_as("SELECT id FROM accounts WHERE email = $1").bind(email.as_str()).fetch_optional(&mut tx).await.map_err(failed)?;
            let event = Event { actor: None, account: owner.map(|(id,)| id), action: Action::SignUp, success: false, client };
            audit::record(&mut tx, event).await?;
            None
        }
    };
    tx.commit().await.map_err(failed)?;
    Ok(created)
}

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub enum SignInAttempt {
    Accepted(Account),
    /// Wrong password or unknown email; `account` is set when the email
    /// belongs to one (for its owner's audit log, never for the answer).
    Refused {
        account: Option<AccountId>,
    },
}

/// Checks `password` against the account for `email`. Unknown email and
/// wrong password take the same work.
pub async fn authenticate(db: &Db, hasher: &PasswordHasher, email: &str, password: String) -> Result<SignInAttempt, AppError> {
    let found = match Email::parse(email) {
        Ok(email) => sql::query_as::<(AccountId, String, String, String, i64)>(
            "SELECT id, email, display_name, password_hash, session_epoch FROM accounts WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("looking up an account failed", e))?,
        Err(_) => None,
    };
    let stored = found.as_ref().map(|(_, _, _, hash, _)| hash.clone());
    let matches = hasher.verify(password, stored).await?;
    match found {
        Some((id, email, name, _, session_epoch)) if matches => {
            Ok(SignInAttempt::Accepted(Account { id, email, display_name: stored_name(&name)?, session_epoch, email_request: None }))
        }
        found => Ok(SignInAttempt::Refused { account: found.map(|(id, ..)| id) }),
    }
}

/// The account with this id, if it still exists.
pub async fn find(db: &Db, id: AccountId) -> Result<Option<Account>, AppError> {
    type Row = (AccountId, String, String, i64, Option<String>, Option<String>);
    let row =
        sql::query_as::<Row>("SELECT id, email, display_name, session_epoch, email_requested, email_before_request FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await
            .map_err(|e| AppError::internal("loading an account failed", e))?;
    row.map(|(id, email, name, session_epoch, asked, before)| {
        let email_request = asked.zip(before).map(|(asked, before)| EmailRequest { asked, before });
        Ok(Account { id, email, display_name: stored_name(&name)?, session_epoch, email_request })
    })
    .transpose()
}

/// The owner signed in: the email change they asked for no longer needs
/// showing (which address worked told them how it went).
pub async fn forget_email_request(db: &Db, account: AccountId) -> Result<(), AppError> {
    sql::query("UPDATE accounts SET email_requested = NULL, email_before_request = NULL WHERE id = $1")
        .bind(account)
        .execute(db)
        .await
        .map_err(|e| AppError::internal("forgetting an email request failed", e))?;
    Ok(())
}

/// Whether `password` is `account`'s current password.
pub async fn check_password(db: &Db, hasher: &PasswordHasher, account: AccountId, password: String) -> Result<bool, AppError> {
    let hash: Option<(String,)> = sql::query_as("SELECT password_hash FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("loading a password hash failed", e))?;
    hasher.verify(password, hash.map(|(h,)| h)).await
}

/// Sets a new password and ends every session of the account; returns the
/// new session epoch.
pub async fn set_password(db: &Db, hasher: &PasswordHasher, account: AccountId, password: Password) -> Result<i64, AppError> {
    let hash = hasher.hash(password).await?;
    let (epoch,): (i64,) =
        sql::query_as("UPDATE accounts SET password_hash = $1, session_epoch = session_epoch + 1 WHERE id = $2 RETURNING session_epoch")
            .bind(hash)
            .bind(account)
            .fetch_one(db)
            .await
            .map_err(|e| AppError::internal("changing a password failed", e))?;
    Ok(epoch)
}

/// Ends every session of the account; returns the new session epoch.
pub async fn end_all_sessions(db: &Db, account: AccountId) -> Result<i64, AppError> {
    let (epoch,): (i64,) = sql::query_as("UPDATE accounts SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch")
        .bind(account)
        .fetch_one(db)
        .await
        .map_err(|e| AppError::internal("ending sessions failed", e))?;
    Ok(epoch)
}

/// Whether `account` may ask for `email` now: a new email may be asked for
/// only while no earlier request stands (until the next sign-in). A second
/// one, even back to the old address, would be answered differently after
/// a taken address than after a free one, since which address is in force
/// differs; so it is refused, the same way in both.
pub fn email_change_allowed(account: &Account, email: &Email) -> Result<(), AppError> {
    if account.email_request.is_some() && email.as_str() != account.shown_email() {
        return Err(AppError::invalid("email", crate::domain::Problem::EmailChangeStands));
    }
    Ok(())
}

/// Sets the display name, and the email if `email` is a new one. An email
/// another account uses is not taken (the name still is), and neither the
/// answer nor the owner's page says so: both show the address as asked,
/// with the one they signed in with before (an [`EmailRequest`], until
/// their next sign-in; see [`email_change_allowed`]), and that account's
/// owner finds the attempt in their security events. Asking again for the
/// address already asked for is no new request. Returns whether a new
/// email was asked for.
pub async fn set_profile(db: &Db, account: &Account, display_name: &DisplayName, email: &Email, client: Option<IpAddr>) -> Result<bool, AppError> {
    email_change_allowed(account, email)?;
    let failed = |e| AppError::internal("changing a profile failed", e);
    if email.as_str() == account.shown_email() {
        sql::query("UPDATE accounts SET display_name = $1 WHERE id = $2")
            .bind(display_name.as_str())
            .bind(account.id)
            .execute(db)
            .await
            .map_err(failed)?;
        return Ok(false);
    }
    let result = sql::query("UPDATE accounts SET display_name = $1, email = $2, email_requested = $3, email_before_request = $4 WHERE id = $5")
        .bind(display_name.as_str())
        .bind(email.as_str())
        .bind(email.as_str())
        .bind(&account.email)
        .bind(account.id)
        .execute(db)
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            sql::query("UPDATE accounts SET display_name = $1, email_requested = $2, email_before_request = $3 WHERE id = $4")
                .bind(display_name.as_str())
                .bind(email.as_str())
                .bind(&account.email)
                .bind(account.id)
                .execute(db)
                .await
                .map_err(failed)?;
            let owner: Option<(AccountId,)> =
                sql::query_as("SELECT id FROM accounts WHERE email = $1").bind(email.as_str()).fetch_optional(db).await.map_err(failed)?;
            let event = Event { actor: Some(account.id), account: owner.map(|(id,)| id), action: Action::ProfileChange, success: false, client };
            audit::record(db, event).await?;
            Ok(true)
        }
        Err(e) => Err(failed(e)),
    }
}

/// Names are validated before they are stored; one that no longer parses
/// means the database was edited by hand.
fn stored_name(raw: &str) -> Result<DisplayName, AppError> {
    DisplayName::parse(raw).map_err(|e| AppError::internal("a stored display name is invalid", e))
}

/// The language an account chose, if any (a tag of one of Huddle's).
pub async fn language(db: &Db, account: AccountId) -> Result<Option<crate::i18n::Locale>, AppError> {
    let row: Option<(Option<String>,)> = sql::query_as("SELECT language FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(db)
        .await
        .map_err(|e| AppError::internal("loading an account's language failed", e))?;
    Ok(row.and_then(|(tag,)| tag).as_deref().and_then(crate::i18n::Locale::from_tag))
}

/// Keeps `locale` as the account's language.
pub async fn set_language(db: &Db, account: AccountId, locale: crate::i18n::Locale) -> Result<(), AppError> {
    sql::query("UPDATE accounts SET language = $1 WHERE id = $2")
        .bind(locale.tag())
        .bind(account)
        .execute(db)
        .await
        .map_err(|e| AppError::internal("saving an account's language failed", e))?;
    Ok(())
}

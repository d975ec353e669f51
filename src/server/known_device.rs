//! Known devices: a browser that signed in to an account gets a random
//! token in the `huddle_device` cookie, remembered (as a SHA-256) for that
//! account. Failed sign-ins for an email hold back everyone trying it,
//! except the owner on one of their known devices, so a stranger who knows
//! a doctor's email cannot keep the doctor out. (The per-address count
//! still applies to everyone.)

use crate::domain::AccountId;
use crate::server::db::{sql, Db};
use axum::http::header::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The cookie's name.
pub const COOKIE: &str = "huddle_device";
const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;
/// Random bytes in a device token.
const TOKEN_BYTES: usize = 32;

/// The device token the request carries, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    crate::server::token::token_cookie::<TOKEN_BYTES>(headers, COOKIE)
}

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` is a known device of the account registered to `email`.
pub async fn is_known(db: &Db, email: &str, token: Option<&str>) -> Result<bool, AppError> {
    let Some(token) = token else { return Ok(false) };
    let found: Option<(i64,)> =
        sql::query_as("SELECT d.id FROM known_devices d JOIN accounts a ON a.id = d.account_id WHERE a.email = $1 AND d.token_hash = $2")
            .bind(email.trim().to_lowercase())
            .bind(digest(token))
            .fetch_optional(db)
            .await
            .map_err(|e| AppError::internal("looking up a known device failed", e))?;
    Ok(found.is_some())
}

/// Remembers a new device for `account`; the `Set-Cookie` value to send.
pub async fn remember(db: &Db, account: AccountId, secure: bool) -> Result<HeaderValue, AppError> {
    let token = crate::server::token::random_token::<TOKEN_BYTES>();
    sql::query("INSERT INTO known_devices (account_id, token_hash) VALUES ($1, $2)")
        .bind(account)
        .bind(digest(&token))
        .execute(db)
        .await
        .map_err(|e| AppError::internal("remembering a device failed", e))?;
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{secure}"))
        .map_err(|e| AppError::internal("a device cookie", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::header;

    #[test]
    fn only_tokens_of_our_shape_are_read() {
        let mut headers = HeaderMap::new();
        let good = "a".repeat(43);
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("x=1; {COOKIE}={good}")).unwrap());
        assert_eq!(token(&headers), Some(good.as_str()));
        headers.insert(header::COOKIE, HeaderValue::from_static("huddle_device=short"));
        assert_eq!(token(&headers), None);
        assert_eq!(digest("abc").len(), 64);
    }
}

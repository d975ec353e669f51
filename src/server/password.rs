//! Password hashing with argon2id, kept off the async runtime and bounded so
//! a burst of sign-ins cannot exhaust memory (each hash takes 19 MiB).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::error::AppError;

/// OWASP's argon2id baseline: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords on blocking threads, at most one per core
/// at a time.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { permits: Arc::new(Semaphore::new(cores)) }
    }
}

impl PasswordHasher {
    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::internal("hashing a password failed", e))
        })
        .await
    }

    /// Whether `password` matches `stored`. With `None` (no such account) it
    /// still spends the same work on a dummy hash, so timing does not tell
    /// whether an account exists.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || {
            let (hash, real) = match stored {
                Some(h) => (h, true),
                None => (dummy_hash().to_string(), false),
            };
            let parsed = PasswordHash::new(&hash).map_err(|e| AppError::internal("a stored password hash is malformed", e))?;
            let matches = argon2().verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(real && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> Result<T, AppError> + Send + 'static) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(|e| AppError::internal("the password hasher is closed", e))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::internal("a password hashing task failed", e))?
    }
}

/// Whether `password` is among the 10,000 most common passwords (compared
/// case-insensitively), which guessing attacks try first.
pub fn is_common(password: &Password) -> bool {
    static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let common = COMMON.get_or_init(|| include_str!("common-passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect());
    common.contains(password.expose().to_lowercase().as_str())
}

/// The message for a password that [`is_common`].
pub const COMMON_PASSWORD: &str = "This password is one of the most common ones, so it is easy to guess. Please choose another.";

/// A hash of a random password, made once, for unknown accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(salt.as_str().as_bytes(), &salt)
            .expect("hashing a constant-size value cannot fail")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash(Password::parse("correct horse battery".into()).unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("correct horse battery".into(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("correct horse batterx".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn a_password_differing_only_after_72_bytes_does_not_verify() {
        let hasher = PasswordHasher::default();
        let base = "a".repeat(80);
        let hash = hasher.hash(Password::parse(format!("{base}1")).unwrap()).await.unwrap();
        assert!(!hasher.verify(format!("{base}2"), Some(hash)).await.unwrap());
    }

    #[test]
    fn the_list_holds_ten_thousand_common_passwords() {
        assert_eq!(include_str!("common-passwords.txt").lines().count(), 10_000);
        for common in ["password", "PassWord", "qwerty123", "iloveyou"] {
            assert!(is_common(&Password::parse(common.into()).unwrap()), "{common}");
        }
        assert!(!is_common(&Password::parse("correct horse battery".into()).unwrap()));
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = PasswordHasher::default();
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }
}

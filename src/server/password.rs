//! Password hashing with argon2id on a fixed pool of threads, one per core,
//! each with its own 19 MiB work area allocated once and reused: a burst of
//! sign-ins neither exhausts memory nor leaves freed 19 MiB buffers behind
//! in the allocator (they stayed there: 15 MB grew to 489 MB after 200
//! sign-ins, never given back).

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::domain::Password;
use crate::error::AppError;

/// OWASP's argon2id baseline: m = 19 MiB, t = 2, p = 1.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid")
}

/// A piece of hashing work, given a worker's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords on its own threads, one per core; work
/// beyond that waits its turn.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..cores {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("password-{n}")).spawn(move || {
                // Allocated at the first job, then kept: the one work area
                // this thread ever uses.
                let mut memory: Vec<Block> = Vec::new();
                loop {
                    let job = match queue.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(job) => job,
                        // Every hasher is gone: the server stopped.
                        Err(_) => return,
                    };
                    job(&mut memory);
                }
            });
            if let Err(e) = spawned {
                tracing::error!("starting a password hashing thread failed: {e}");
            }
        }
        Self { jobs }
    }
}

/// Runs argon2id with `params` in `memory` (grown to fit, kept after).
fn argon2id(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8], memory: &mut Vec<Block>) -> Result<(), argon2::Error> {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..params.block_count()],
    )
}

/// A PHC string for `password` with a new random salt.
fn hash_with(password: &[u8], memory: &mut Vec<Block>) -> Result<String, AppError> {
    let failed = |e: &dyn std::fmt::Display| AppError::internal("hashing a password failed", e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let params = params();
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon2id(&params, password, salt_bytes, out, memory).map_err(argon2::password_hash::Error::from)
    })
    .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (compared in
/// constant time).
fn verify_with(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> Result<bool, AppError> {
    let malformed = |e: &dyn std::fmt::Display| AppError::internal("a stored password hash is malformed", e.to_string());
    let parsed = PasswordHash::new(stored).map_err(|e| malformed(&e))?;
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return Err(malformed(&"not argon2id"));
    }
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Err(malformed(&"no salt or hash")) };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| malformed(&e))?;
    let computed =
        Output::init_with(expected.len(), |out| argon2id(&params, password, salt_bytes, out, memory).map_err(argon2::password_hash::Error::from))
            .map_err(|e| malformed(&e))?;
    Ok(computed == expected)
}

impl PasswordHasher {
    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) for `password`.
    pub async fn hash(&self, password: Password) -> Result<String, AppError> {
        self.run(move |memory| hash_with(password.expose().as_bytes(), memory)).await
    }

    /// The same for another secret that is checked like a password (a
    /// room's passcode, already validated by its caller).
    pub async fn hash_secret(&self, secret: String) -> Result<String, AppError> {
        self.run(move |memory| hash_with(secret.as_bytes(), memory)).await
    }

    /// Whether `password` matches `stored`. With `None` (no such account) it
    /// still spends the same work on a dummy hash, so timing does not tell
    /// whether an account exists.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move |memory| {
            let (hash, real) = match stored {
                Some(h) => (h, true),
                None => (dummy_hash(memory)?, false),
            };
            let matches = verify_with(password.as_bytes(), &hash, memory)?;
            Ok(real && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce(&mut Vec<Block>) -> Result<T, AppError> + Send + 'static) -> Result<T, AppError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(work(memory));
        });
        self.jobs.send(job).map_err(|e| AppError::internal("the password hasher is closed", e))?;
        result.await.map_err(|e| AppError::internal("a password hashing job failed", e))?
    }
}

/// Whether `password` is among the 10,000 most common passwords (compared
/// case-insensitively), which guessing attacks try first.
pub fn is_common(password: &Password) -> bool {
    static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let common = COMMON.get_or_init(|| include_str!("common-passwords.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect());
    common.contains(password.expose().to_lowercase().as_str())
}

/// A hash of a random password, made once, for unknown accounts.
fn dummy_hash(memory: &mut Vec<Block>) -> Result<String, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_with(SaltString::generate(&mut OsRng).as_str().as_bytes(), memory)?;
    Ok(DUMMY.get_or_init(|| hash).clone())
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
    async fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let made = Argon2::new(Algorithm::Argon2id, Version::V0x13, params()).hash_password(b"correct horse battery", &salt).unwrap().to_string();
        let hasher = PasswordHasher::default();
        assert!(hasher.verify("correct horse battery".into(), Some(made.clone())).await.unwrap());
        assert!(!hasher.verify("correct horse batterz".into(), Some(made)).await.unwrap());
        // And ours verify with the crate's own verifier.
        use argon2::password_hash::PasswordVerifier as _;
        let ours = hasher.hash(Password::parse("correct horse battery".into()).unwrap()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let hasher = PasswordHasher::default();
        assert!(hasher.verify("x".repeat(10), Some("$argon2id$nonsense".into())).await.is_err());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let hasher = PasswordHasher::default();
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }
}

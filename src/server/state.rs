//! The state every request handler shares.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;

use crate::error::AppError;
use crate::server::client_address::TrustedProxies;
use crate::server::config::SessionLimits;
use crate::server::metrics::Metrics;
use crate::server::password::PasswordHasher;
use crate::server::signaling::Signaling;
use crate::server::throttle::{Attempt, Throttle};

/// Handed to axum handlers (`State`) and to Leptos server functions (context).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: SqlitePool,
    pub hasher: PasswordHasher,
    pub signaling: Arc<Signaling>,
    /// e.g. `http://127.0.0.1:3000`: join links start with it, and requests
    /// from any other origin are not trusted.
    pub public_origin: Arc<str>,
    pub session_limits: SessionLimits,
    pub sign_in_throttle: Arc<SignInThrottle>,
    pub clock: crate::server::clock::Clock,
    /// Wrong room passcodes, per room and person, and per room and address.
    pub passcode_throttle: Arc<PasscodeThrottle>,
    /// Join links that led nowhere, per client address.
    pub room_lookups: Arc<Throttle>,
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Counters and timings for the metrics listener.
    pub metrics: Arc<Metrics>,
    /// How long before a scheduled session guests may join.
    pub join_early: std::time::Duration,
}

/// Failed password checks (sign-in, and the account forms' current
/// password) counted per account (email) and per client address, and
/// sign-ups per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    pub per_account: Throttle,
    pub per_address: Throttle,
    pub sign_ups: Throttle,
    /// Attempts to change an account's email, per account.
    pub email_changes: Throttle,
}

/// A password check reserved with [`SignInThrottle::begin`].
pub struct PasswordCheck<'a> {
    account: Option<Attempt<'a>>,
    address: Attempt<'a>,
}

impl SignInThrottle {
    /// Reserves a password check for the account keyed `email` from
    /// `client`, before the (slow) hash: refused with the wait while either
    /// is blocked, or while checks already under way fill the limit. The
    /// per-account count is skipped from the owner's own known address
    /// (`known`), so a stranger's guesses cannot lock the owner out.
    pub fn begin(&self, email: &str, client: Option<IpAddr>, known: bool, now: Instant) -> Result<PasswordCheck<'_>, AppError> {
        let address_key = client.map(|ip| ip.to_string()).unwrap_or_default();
        let address = self.per_address.begin(&address_key, now).map_err(AppError::too_many_attempts)?;
        let account =
            if known { None } else { Some(self.per_account.begin(&email.trim().to_lowercase(), now).map_err(AppError::too_many_attempts)?) };
        Ok(PasswordCheck { account, address })
    }
}

impl PasswordCheck<'_> {
    /// The password was wrong: one failure each.
    pub fn failed(self, now: Instant) {
        if let Some(account) = self.account {
            account.failed(now);
        }
        self.address.failed(now);
    }

    /// The password was right: the account's failures are forgotten.
    pub fn succeeded(self) {
        if let Some(account) = self.account {
            account.succeeded();
        }
        self.address.neither();
    }
}

/// Wrong room passcodes: a few per person, more per address (a school
/// shares one).
#[derive(Debug)]
pub struct PasscodeThrottle {
    pub per_person: Throttle,
    pub per_address: Throttle,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

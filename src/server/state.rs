//! The state every request handler shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::SqlitePool;

use crate::server::client_address::TrustedProxies;
use crate::server::metrics::Metrics;
use crate::server::password::PasswordHasher;
use crate::server::session::SessionLimits;
use crate::server::throttle::Throttle;
use crate::signaling::socket::Signaling;

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
    /// Reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Counters and timings for the metrics listener.
    pub metrics: Arc<Metrics>,
    /// How long before a scheduled session guests may join.
    pub join_early: std::time::Duration,
}

/// Failed sign-ins counted per account (email) and per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    pub per_account: Throttle,
    pub per_address: Throttle,
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

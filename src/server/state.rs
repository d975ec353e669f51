//! The state every request handler shares.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::server::db::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::domain::ClientNetwork;
use crate::error::AppError;
use crate::server::client_address::Forwarding;
use crate::server::config::SessionLimits;
use crate::server::metrics::Metrics;
use crate::server::password::PasswordHasher;
use crate::server::signaling::Signaling;
use crate::server::throttle::{Attempt, Throttle};

/// Handed to axum handlers (`State`) and to Leptos server functions (context).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
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
    /// Reverse proxies whose forwarding header names the client, and which.
    pub forwarding: Arc<Forwarding>,
    /// Counters and timings for the metrics listener.
    pub metrics: Arc<Metrics>,
    /// How long before a scheduled session guests may join.
    pub join_early: std::time::Duration,
    /// This node among several, in cluster mode.
    pub cluster: Option<Arc<crate::server::cluster::Cluster>>,
}

/// Failed password checks (sign-in, and the account forms' current
/// password) counted per account (email) and per client address (an IPv6
/// /64), or per known device, and sign-ups per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    pub per_account: Throttle,
    pub per_address: Throttle,
    /// Failures on a device the account signed in from before: counted for
    /// that device alone, as many as an account's.
    pub per_device: Throttle,
    pub sign_ups: Throttle,
    /// Attempts to change an account's email, per account.
    pub email_changes: Throttle,
}

/// A password check reserved with [`SignInThrottle::begin`]: what it
/// counts against.
pub enum PasswordCheck<'a> {
    /// A stranger's browser: the account and the address.
    Stranger { account: Attempt<'a>, address: Attempt<'a> },
    /// A device the account signed in from before: that device alone.
    KnownDevice(Attempt<'a>),
}

impl SignInThrottle {
    /// Reserves a password check for the account keyed `email` from
    /// `client`, before the (slow) hash: refused with the wait while a
    /// count it is held to is blocked, or while checks already under way
    /// fill the limit. From a device the account signed in from before
    /// (`known_device`, its token) only that device's own count applies,
    /// so neither a stranger's guesses at the account nor others' failures
    /// at the same address (a shared network, or an attacker's) lock the
    /// owner out.
    pub async fn begin(&self, email: &str, client: Option<IpAddr>, known_device: Option<&str>, now: Instant) -> Result<PasswordCheck<'_>, AppError> {
        if let Some(device) = known_device {
            let device = self.per_device.begin(device, now).await.map_err(AppError::too_many_attempts)?;
            return Ok(PasswordCheck::KnownDevice(device));
        }
        let address_key = client.map(|ip| ClientNetwork::of(ip).to_string()).unwrap_or_default();
        let address = self.per_address.begin(&address_key, now).await.map_err(AppError::too_many_attempts)?;
        let account = self.per_account.begin(&email.trim().to_lowercase(), now).await.map_err(AppError::too_many_attempts)?;
        Ok(PasswordCheck::Stranger { account, address })
    }
}

impl PasswordCheck<'_> {
    /// The password was wrong: one failure for each count.
    pub async fn failed(self, now: Instant) {
        match self {
            Self::Stranger { account, address } => {
                account.failed(now).await;
                address.failed(now).await;
            }
            Self::KnownDevice(device) => device.failed(now).await,
        }
    }

    /// The password was right: the account's (or device's) failures are
    /// forgotten; the address's stay, since others share it.
    pub async fn succeeded(self) {
        match self {
            Self::Stranger { account, address } => {
                account.succeeded().await;
                address.neither();
            }
            Self::KnownDevice(device) => device.succeeded().await,
        }
    }
}

/// Wrong room passcodes: a few per person, more per address (a school
/// shares one).
#[derive(Debug)]
pub struct PasscodeThrottle {
    pub per_person: Throttle,
    pub per_address: Throttle,
}

impl AppState {
    /// Carries `command` out on this node and, in cluster mode, has every
    /// other node carry it out.
    pub async fn everywhere(&self, command: crate::server::cluster::bus::Everywhere) {
        command.everywhere(&self.signaling, self.cluster.as_deref()).await;
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

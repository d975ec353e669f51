//! TURN credentials in the shared-secret scheme coturn calls
//! `use-auth-secret` (the "TURN REST API"): the username is
//! `expiry:opaque-id` (expiry in Unix seconds), the password is the base64
//! HMAC-SHA1 of the username under the secret both servers share. coturn
//! checks them without asking Huddle, and refuses them after the expiry.
//! Huddle gives them only to participants in a call: the hub decides when
//! (see `hub::step`); this file only makes them, and says which STUN
//! services a browser may probe before it has any.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::call::protocol::{IceServer, ParticipantId};

/// Where the TURN servers are and the secret they share with Huddle.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnConfig {
    /// `turn:` or `turns:` URLs of one TURN service.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
    /// How long a credential lasts.
    pub ttl: Duration,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnConfig").field("urls", &self.urls).field("secret", &"(hidden)").field("ttl", &self.ttl).finish()
    }
}

/// Makes TURN credentials; the time comes from the caller.
#[derive(Debug, Clone)]
pub struct TurnIssuer {
    config: TurnConfig,
}

impl TurnIssuer {
    pub fn new(config: TurnConfig) -> Self {
        Self { config }
    }

    /// The TURN service's URLs, as configured.
    pub fn urls(&self) -> &[String] {
        &self.config.urls
    }

    /// A fresh credential for participant `who`, valid for the configured
    /// time from `now_s` (Unix seconds).
    pub fn issue(&self, who: ParticipantId, now_s: u64) -> IceServer {
        let now = now_s;
        let username = format!("{}:huddle-{who}", now + self.config.ttl.as_secs());
        IceServer { urls: self.config.urls.clone(), credential: Some(password(&self.config.secret, &username)), username: Some(username) }
    }
}

/// The password coturn expects for `username`: base64(HMAC-SHA1(secret, username)).
pub fn password(secret: &str, username: &str) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// STUN URLs a browser can try before it has credentials: each configured
/// STUN server, and each UDP TURN server's own STUN service (a TURN server
/// answers STUN binding requests without credentials). TCP and TLS TURN
/// are left out: browsers send STUN over UDP only.
pub fn stun_probes<'a>(urls: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut probes: Vec<String> = Vec::new();
    for url in urls {
        let (address, query) = url.split_once('?').unwrap_or((url, ""));
        let probe = if let Some(rest) = address.strip_prefix("stun:") {
            format!("stun:{rest}")
        } else if let Some(rest) = address.strip_prefix("turn:") {
            if query.split('&').any(|q| q == "transport=tcp") {
                continue;
            }
            format!("stun:{rest}")
        } else {
            continue;
        };
        if !probes.contains(&probe) {
            probes.push(probe);
        }
    }
    probes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_base64_hmac_sha1_of_the_username() {
        // HMAC-SHA1 of the classic pangram under "key" is
        // de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9 (as RFC 2104 code computes).
        assert_eq!(password("key", "The quick brown fox jumps over the lazy dog"), "3nybhbi3iqa8ino29wqQcBydtNk=");
        // RFC 2202, test case 2.
        assert_eq!(password("Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    }

    #[test]
    fn a_credential_expires_ttl_from_now_and_names_the_participant() {
        let issuer =
            TurnIssuer::new(TurnConfig { urls: vec!["turn:turn.example.org:3478".into()], secret: "s3cret".into(), ttl: Duration::from_secs(3600) });
        let server = issuer.issue(ParticipantId(7), 1_893_456_000);
        let username = server.username.unwrap();
        let (expiry, id) = username.split_once(':').unwrap();
        let expected = 1_893_456_000 + 3600;
        let expiry: u64 = expiry.parse().unwrap();
        assert!((expected..expected + 5).contains(&expiry), "{expiry}");
        assert_eq!(id, "huddle-7");
        assert_eq!(server.credential.unwrap(), password("s3cret", &username));
        assert_eq!(server.urls, ["turn:turn.example.org:3478"]);
        assert!(!format!("{issuer:?}").contains("s3cret"), "the secret never reaches a log");
    }

    #[test]
    fn stun_probes_come_from_stun_and_udp_turn_urls() {
        let urls: Vec<String> = [
            "stun:stun.example.org:3478",
            "turn:turn.example.org:3478?transport=udp",
            "turn:turn.example.org:3478?transport=tcp",
            "turn:other.example.org",
            "turns:turn.example.org:5349",
            "stun:stun.example.org:3478",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(stun_probes(urls.iter()), ["stun:stun.example.org:3478", "stun:turn.example.org:3478", "stun:other.example.org"]);
        assert!(stun_probes([].iter()).is_empty());
    }
}

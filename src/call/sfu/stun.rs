//! The media port as a plain STUN server (RFC 8489), for the pre-join
//! check: a binding request with no username is answered with the address
//! it came from. str0m reads only a call's own checks (with a username and
//! a signature), so these few bytes are read and written here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::domain::ClientNetwork;

const MAGIC: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const BINDING_REQUEST: [u8; 2] = [0x00, 0x01];
const BINDING_SUCCESS: [u8; 2] = [0x01, 0x01];
const USERNAME: u16 = 0x0006;
const MESSAGE_INTEGRITY: u16 = 0x0008;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;

/// The transaction id of a well-formed binding request that carries no
/// username and no signature; None for anything else.
pub(super) fn plain_binding_request(data: &[u8]) -> Option<[u8; 12]> {
    if data.len() < 20 || data[0..2] != BINDING_REQUEST || data[4..8] != MAGIC {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    if len % 4 != 0 || len + 20 != data.len() {
        return None;
    }
    let mut attributes = &data[20..];
    while !attributes.is_empty() {
        let header = attributes.get(..4)?;
        let kind = u16::from_be_bytes([header[0], header[1]]);
        let size = usize::from(u16::from_be_bytes([header[2], header[3]])).div_ceil(4) * 4;
        if kind == USERNAME || kind == MESSAGE_INTEGRITY {
            return None;
        }
        attributes = attributes.get(4 + size..)?;
    }
    data[8..20].try_into().ok()
}

/// A binding success answer telling `source` its address.
pub(super) fn binding_answer(transaction: [u8; 12], source: SocketAddr) -> Vec<u8> {
    let port = (source.port() ^ 0x2112).to_be_bytes();
    let (family, address): (u8, Vec<u8>) = match source {
        SocketAddr::V4(v4) => (1, v4.ip().octets().iter().zip(MAGIC).map(|(a, m)| a ^ m).collect()),
        SocketAddr::V6(v6) => {
            let key: Vec<u8> = MAGIC.iter().chain(&transaction).copied().collect();
            (2, v6.ip().octets().iter().zip(key).map(|(a, m)| a ^ m).collect())
        }
    };
    let value_len = 4 + address.len();
    let mut answer = Vec::with_capacity(24 + value_len);
    answer.extend(BINDING_SUCCESS);
    answer.extend(((4 + value_len) as u16).to_be_bytes());
    answer.extend(MAGIC);
    answer.extend(transaction);
    answer.extend(XOR_MAPPED_ADDRESS.to_be_bytes());
    answer.extend((value_len as u16).to_be_bytes());
    answer.extend([0, family]);
    answer.extend(port);
    answer.extend(address);
    answer
}

/// Plain STUN binding requests answered each second at most, from one
/// source (an IPv4 address or an IPv6 /64: a browser's check sends a few,
/// and a class may check at once behind one school address) and in all
/// (`Sfu::answer_probe`).
pub(super) const PROBE_ANSWERS_PER_SOURCE: u32 = 20;
pub(super) const PROBE_ANSWERS_PER_SECOND: u32 = 500;

/// Plain STUN answers this second: in all, and per source.
#[derive(Debug, Default)]
pub(super) struct Probes {
    began: Option<Instant>,
    answered: u32,
    by_source: HashMap<ClientNetwork, u32>,
}

impl Probes {
    /// Whether `source` may have an answer at `now` (counted if so).
    pub(super) fn allow(&mut self, source: ClientNetwork, now: Instant) -> bool {
        if self.began.is_none_or(|began| now.saturating_duration_since(began) >= Duration::from_secs(1)) {
            *self = Self { began: Some(now), ..Self::default() };
        }
        if self.answered >= PROBE_ANSWERS_PER_SECOND {
            return false;
        }
        let from_source = self.by_source.entry(source).or_default();
        if *from_source >= PROBE_ANSWERS_PER_SOURCE {
            return false;
        }
        *from_source += 1;
        self.answered += 1;
        true
    }
}

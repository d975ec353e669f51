//! What per-address limits count as one client.

use std::net::{IpAddr, Ipv6Addr};

/// One client for per-address limits, throttles and cooldowns: an IPv4
/// address, or an IPv6 /64. A household or an office gets a whole /64 and
/// may use any address in it, so counting each IPv6 address alone let one
/// client be billions. (Audit rows keep the full address.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientNetwork(IpAddr);

impl ClientNetwork {
    /// The network `ip` counts as; IPv4 written as IPv6 is IPv4.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => Self(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX)))),
            v4 => Self(v4),
        }
    }

    /// The network's first address (the address itself for IPv4).
    pub fn address(self) -> IpAddr {
        self.0
    }
}

impl std::fmt::Display for ClientNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> ClientNetwork {
        ClientNetwork::of(s.parse().unwrap())
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_an_ipv4_one_its_address() {
        assert_eq!(of("2001:db8:1:2:aaaa::1"), of("2001:db8:1:2::"));
        assert_eq!(of("2001:db8:1:2:ffff:ffff:ffff:ffff"), of("2001:db8:1:2::7"));
        assert_ne!(of("2001:db8:1:3::1"), of("2001:db8:1:2::1"));
        assert_eq!(of("2001:db8:1:2::7").to_string(), "2001:db8:1:2::/64");
        assert_eq!(of("203.0.113.9").to_string(), "203.0.113.9");
        assert_eq!(of("::ffff:203.0.113.9"), of("203.0.113.9"), "IPv4 written as IPv6 is IPv4");
    }
}

//! Who is on the other end of a request. Behind a reverse proxy every TCP
//! connection comes from the proxy, so the client's own address is read
//! from the one header the operator's proxy sets (`HUDDLE_CLIENT_HEADER`:
//! `X-Forwarded-For`, RFC 7239's `Forwarded`, or `X-Real-IP`), and only
//! when the TCP peer is a proxy the operator trusts
//! (`HUDDLE_TRUSTED_PROXIES`): from anyone else those headers are a claim
//! anybody can make, and are ignored. The other headers are ignored even
//! from a trusted proxy: a proxy passes on what it does not set (Caddy
//! replaces `X-Forwarded-For` but forwards a client's own `Forwarded`), so
//! reading them let a client name any address it liked.
//!
//! [`resolve`] is the one place this is decided; [`stamp`] runs it once per
//! request and puts the answer, a [`Client`], into the request's
//! extensions, where sign-in throttles, socket limits, cooldowns and audit
//! rows all read it.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// The resolved client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the TCP peer's, or the one a trusted proxy
    /// reports.
    pub address: IpAddr,
    /// Whether the client reached us over HTTPS: our own TLS, or a trusted
    /// proxy saying `proto=https`.
    pub https: bool,
}

/// Whether a connection came in over Huddle's own TLS; put into each
/// request's extensions by the server loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    pub tls: bool,
}

/// The header a trusted proxy names the client in (`HUDDLE_CLIENT_HEADER`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientHeader {
    /// `X-Forwarded-For`, with `X-Forwarded-Proto`: what Caddy sets (and
    /// replaces), and what the shipped nginx configuration sets.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded`, with its `proto=`.
    Forwarded,
    /// `X-Real-IP` (one address), with `X-Forwarded-Proto`.
    XRealIp,
}

impl ClientHeader {
    /// The header's name as the setting takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
            Self::XRealIp => "x-real-ip",
        }
    }

    /// Parses the setting's value (any case); the error says what is allowed.
    pub fn parse(value: &str) -> Result<Self, String> {
        [Self::XForwardedFor, Self::Forwarded, Self::XRealIp]
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| format!("{value:?} is not one of x-forwarded-for, forwarded, x-real-ip"))
    }
}

/// How a request's client is found behind proxies: whom to believe, and
/// which of their headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    pub proxies: TrustedProxies,
    pub header: ClientHeader,
}

/// Addresses and CIDR ranges whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Range>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    network: IpAddr,
    prefix: u8,
}

impl Range {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`10.0.0.5`, `::1`) and
    /// ranges (`10.0.0.0/8`, `fd00::/8`); the error names the bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (address, prefix) = entry.split_once('/').map_or((entry, None), |(a, p)| (a, Some(p)));
            let network = canonical(IpAddr::from_str(address).map_err(|_| format!("{entry:?} is not an address or a range like 10.0.0.0/8"))?);
            let longest = if network.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => longest,
                Some(p) => match p.parse::<u8>() {
                    Ok(p) if p <= longest => p,
                    _ => return Err(format!("{entry:?} has a prefix length that is not 0 to {longest}")),
                },
            };
            ranges.push(Range { network, prefix });
        }
        Ok(Self(ranges))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries: Vec<String> = self.0.iter().map(|r| format!("{}/{}", r.network, r.prefix)).collect();
        f.write_str(&entries.join(","))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// One hop a proxy reported: where the request came from, and over what.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Hop {
    /// `None` for `unknown`, an obfuscated name (`_hidden`) or garbage.
    address: Option<IpAddr>,
    proto: Option<String>,
}

/// Decides the client of a request that arrived from `peer` (over our own
/// TLS if `tls`). Only a trusted peer's forwarding header counts, and only
/// the one `forwarding` names; its hops are walked from the right (the hop
/// nearest us), skipping trusted proxies, and the first address that is not
/// a trusted proxy is the client. A hop that names no usable address
/// (`unknown`, obfuscated, malformed) stops the walk: the last trusted
/// proxy before it is then the best we know.
pub fn resolve(peer: IpAddr, tls: bool, headers: &HeaderMap, forwarding: &Forwarding) -> Client {
    let peer = canonical(peer);
    let trusted = &forwarding.proxies;
    if !trusted.contains(peer) {
        return Client { address: peer, https: tls };
    }
    let hops = match forwarding.header {
        ClientHeader::XForwardedFor => with_forwarded_proto(x_forwarded_hops(headers), headers),
        ClientHeader::Forwarded => forwarded_hops(headers),
        ClientHeader::XRealIp => with_forwarded_proto(x_real_ip_hops(headers), headers),
    };
    let mut client = Client { address: peer, https: tls };
    for hop in hops.iter().rev() {
        if let Some(proto) = &hop.proto {
            client.https = proto.eq_ignore_ascii_case("https");
        }
        let Some(address) = hop.address else { break };
        client.address = address;
        if !trusted.contains(address) {
            break;
        }
    }
    client
}

/// The hops of every `Forwarded` header, in order.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        let Ok(value) = value.to_str() else {
            hops.push(Hop { address: None, proto: None });
            continue;
        };
        for element in split_outside_quotes(value, ',') {
            let mut hop = Hop { address: None, proto: None };
            for pair in split_outside_quotes(element, ';') {
                let Some((name, raw)) = pair.split_once('=') else { continue };
                let raw = raw.trim();
                let raw = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => hop.address = parse_node(raw),
                    "proto" => hop.proto = Some(raw.to_string()),
                    _ => {}
                }
            }
            hops.push(hop);
        }
    }
    hops
}

/// The hops of `X-Forwarded-For`.
fn x_forwarded_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut hops: Vec<Hop> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            hops.push(Hop { address: None, proto: None });
            continue;
        };
        hops.extend(value.split(',').map(|entry| Hop { address: parse_node(entry.trim()), proto: None }));
    }
    hops
}

/// `X-Real-IP`'s one address. A proxy sets it once: several values are
/// no address.
fn x_real_ip_hops(headers: &HeaderMap) -> Vec<Hop> {
    let mut values = headers.get_all("x-real-ip").iter();
    match (values.next(), values.next()) {
        (None, _) => Vec::new(),
        (Some(value), None) => vec![Hop { address: value.to_str().ok().and_then(|v| parse_node(v.trim())), proto: None }],
        (Some(_), Some(_)) => vec![Hop { address: None, proto: None }],
    }
}

/// `hops` with `X-Forwarded-Proto` (as the nearest proxy saw it) on the
/// last.
fn with_forwarded_proto(mut hops: Vec<Hop>, headers: &HeaderMap) -> Vec<Hop> {
    let proto = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .map(|p| p.trim().to_string());
    match (hops.last_mut(), proto) {
        (Some(last), Some(proto)) => last.proto = Some(proto),
        // A protocol but no address: the proxy itself is the client.
        (None, Some(proto)) => hops.push(Hop { address: None, proto: Some(proto) }),
        (_, None) => {}
    }
    hops
}

/// A node as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`. Anything else (`unknown`,
/// `_hidden`) is no address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(|port| !port.is_empty())) {
            return None;
        }
        return inside.parse().ok().map(canonical);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    node.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// Splits on `separator` where it is not inside a quoted string.
fn split_outside_quotes(value: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == separator && !quoted => {
                parts.push(value[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// Middleware: resolves the client once and stores it in the request.
pub async fn stamp(State(forwarding): State<Arc<Forwarding>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let tls = request.extensions().get::<Transport>().is_some_and(|t| t.tls);
    if let Some(peer) = peer {
        let client = resolve(peer, tls, request.headers(), &forwarding);
        request.extensions_mut().insert(client);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// `list` trusted, reading the default header (`X-Forwarded-For`).
    fn trusted(list: &str) -> Forwarding {
        reading(ClientHeader::XForwardedFor, list)
    }

    fn reading(header: ClientHeader, list: &str) -> Forwarding {
        Forwarding { proxies: TrustedProxies::parse(list).unwrap(), header }
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.9;proto=https")]);
        let client = resolve(ip("198.51.100.7"), false, &h, &Forwarding::default());
        assert_eq!(client, Client { address: ip("198.51.100.7"), https: false });
    }

    #[test]
    fn a_trusted_proxy_reports_the_client_and_its_protocol() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")]);
        let client = resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2"));
        assert_eq!(client, Client { address: ip("203.0.113.9"), https: true });
    }

    #[test]
    fn a_trusted_proxy_with_no_header_is_itself_the_client() {
        let client = resolve(ip("10.0.0.2"), true, &HeaderMap::new(), &trusted("10.0.0.0/8"));
        assert_eq!(client, Client { address: ip("10.0.0.2"), https: true });
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2")), Client { address: ip("10.0.0.2"), https: true });
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let h = headers(&[("x-forwarded-for", "127.0.0.1"), ("x-forwarded-proto", "https")]);
        let client = resolve(ip("203.0.113.50"), false, &h, &trusted("10.0.0.0/8"));
        assert_eq!(client, Client { address: ip("203.0.113.50"), https: false });
    }

    #[test]
    fn a_chain_is_walked_from_the_right_skipping_trusted_hops() {
        // The client claims to be 1.2.3.4 (spoofed, to the left of the real
        // one); the outer proxy 10.0.0.9 saw 203.0.113.9; the inner proxy
        // 10.0.0.2 saw 10.0.0.9.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.9")]);
        let client = resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.0/24"));
        assert_eq!(client.address, ip("203.0.113.9"));
        // Several header lines are one list.
        let h = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.9, 10.0.0.9")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.0/24")).address, ip("203.0.113.9"));
        // All hops trusted: the leftmost is the client.
        let h = headers(&[("x-forwarded-for", "10.0.0.7, 10.0.0.9")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.0/24")).address, ip("10.0.0.7"));
    }

    #[test]
    fn malformed_hops_stop_the_walk_at_the_last_known_proxy() {
        for bad in ["not-an-address", "", "999.1.1.1", "[2001:db8::1", "203.0.113.9:"] {
            let h = headers(&[("x-forwarded-for", &format!("203.0.113.5, {bad}"))]);
            let client = resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2"));
            assert_eq!(client.address, ip("10.0.0.2"), "{bad:?}");
        }
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2")).address, ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_and_proxies_with_and_without_ports() {
        let h = headers(&[("x-forwarded-for", "2001:db8:cafe::17")]);
        assert_eq!(resolve(ip("::1"), false, &h, &trusted("::1")).address, ip("2001:db8:cafe::17"));
        let h = headers(&[("x-forwarded-for", "[2001:db8:cafe::17]:4711, 192.0.2.43:47011")]);
        let client = resolve(ip("fd00::2"), false, &h, &trusted("fd00::/8, 192.0.2.43"));
        assert_eq!(client.address, ip("2001:db8:cafe::17"));
        // An IPv4 peer written as IPv6 is matched as IPv4.
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(resolve(ip("::ffff:10.0.0.2"), false, &h, &trusted("10.0.0.2")).address, ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_with_quoted_obfuscated_and_several_elements() {
        let trusted = |list| reading(ClientHeader::Forwarded, list);
        let h = headers(&[("forwarded", r#"for="[2001:db8:cafe::17]:4711";proto=https;by=_proxy, For=10.0.0.9"#)]);
        let client = resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.0/24"));
        assert_eq!(client, Client { address: ip("2001:db8:cafe::17"), https: true });
        // Quoted commas and semicolons do not split.
        let h = headers(&[("forwarded", r#"for=203.0.113.9;host="a,b;c";proto=http"#)]);
        assert_eq!(resolve(ip("10.0.0.2"), true, &h, &trusted("10.0.0.2")), Client { address: ip("203.0.113.9"), https: false });
        // An obfuscated or unknown client: the proxy is the best we know.
        for hidden in ["for=_hidden", "for=unknown", "for=\"_x:_y\""] {
            let h = headers(&[("forwarded", hidden)]);
            assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2")).address, ip("10.0.0.2"), "{hidden}");
        }
    }

    #[test]
    fn only_the_header_the_proxy_sets_is_read_and_the_others_are_a_clients_claim() {
        // Caddy replaces X-Forwarded-For but passes on the client's own
        // Forwarded and X-Real-IP: reading those let a client name any
        // address behind the documented proxy.
        let h = headers(&[
            ("forwarded", "for=198.51.100.66;proto=http"),
            ("x-real-ip", "198.51.100.77"),
            ("x-forwarded-for", "203.0.113.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let by = |header| resolve(ip("10.0.0.2"), false, &h, &reading(header, "10.0.0.2"));
        assert_eq!(by(ClientHeader::XForwardedFor), Client { address: ip("203.0.113.2"), https: true });
        assert_eq!(by(ClientHeader::Forwarded), Client { address: ip("198.51.100.66"), https: false });
        assert_eq!(by(ClientHeader::XRealIp), Client { address: ip("198.51.100.77"), https: true });
        // The chosen header missing: the proxy is the client, whatever the
        // others say.
        let h = headers(&[("forwarded", "for=198.51.100.66"), ("x-real-ip", "198.51.100.77")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2")).address, ip("10.0.0.2"));
        let h = headers(&[("x-forwarded-for", "203.0.113.2")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &reading(ClientHeader::Forwarded, "10.0.0.2")).address, ip("10.0.0.2"));
    }

    #[test]
    fn x_real_ip_is_one_address_and_two_are_none() {
        let trusted = |list| reading(ClientHeader::XRealIp, list);
        let h = headers(&[("x-real-ip", " 2001:db8::5 ")]);
        assert_eq!(resolve(ip("10.0.0.2"), false, &h, &trusted("10.0.0.2")).address, ip("2001:db8::5"));
        for bad in [vec![("x-real-ip", "203.0.113.1"), ("x-real-ip", "203.0.113.2")], vec![("x-real-ip", "203.0.113.1, 203.0.113.2")]] {
            assert_eq!(resolve(ip("10.0.0.2"), false, &headers(&bad), &trusted("10.0.0.2")).address, ip("10.0.0.2"), "{bad:?}");
        }
    }

    #[test]
    fn the_client_header_setting_names_one_of_three() {
        assert_eq!(ClientHeader::parse("X-Forwarded-For"), Ok(ClientHeader::XForwardedFor));
        assert_eq!(ClientHeader::parse(" forwarded"), Ok(ClientHeader::Forwarded));
        assert_eq!(ClientHeader::parse("x-real-ip"), Ok(ClientHeader::XRealIp));
        let err = ClientHeader::parse("true-client-ip").unwrap_err();
        assert!(err.contains("true-client-ip") && err.contains("x-forwarded-for"), "{err}");
    }

    #[test]
    fn trusted_proxy_lists_parse_addresses_and_ranges_and_name_a_bad_entry() {
        let t = trusted(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8").proxies;
        assert!(t.contains(ip("127.0.0.1")) && !t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("10.200.3.4")) && !t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("fd12::1")) && !t.contains(ip("fe80::1")));
        assert!(trusted("0.0.0.0/0").proxies.contains(ip("203.0.113.9")));
        assert!(trusted("").proxies.is_empty());
        for bad in ["10.0.0.0/33", "example.org", "10.0.0.1/x", "::/129"] {
            let err = TrustedProxies::parse(&format!("127.0.0.1,{bad}")).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }
}

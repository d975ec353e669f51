use super::*;
use crate::server::signaling::Heartbeat;

fn from(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
    Config::from_lookup(|k| vars.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string()))
}

#[test]
fn defaults_serve_on_port_3000_with_a_local_database() {
    let c = from(&[]).unwrap();
    assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(c.database, Database::Sqlite(PathBuf::from("./data/huddle.db")));
    assert!(c.ice_servers.is_empty());
}

#[test]
fn the_public_origin_loses_its_trailing_slash() {
    let c = from(&[("HUDDLE_PUBLIC_ORIGIN", "https://meet.example.org/"), ("HUDDLE_MEDIA_ADDR", "off")]).unwrap();
    assert_eq!(c.public_origin.as_deref(), Some("https://meet.example.org"));
}

#[test]
fn malformed_values_are_errors_naming_the_variable() {
    for (k, v) in [
        ("HUDDLE_ADDR", "nowhere"),
        ("HUDDLE_PUBLIC_ORIGIN", "meet.example.org"),
        ("HUDDLE_PUBLIC_ORIGIN", "https://x/path"),
        ("HUDDLE_ICE_SERVERS", "[1]"),
        ("HUDDLE_SESSION_IDLE_MINUTES", "0"),
        ("HUDDLE_SESSION_MAX_HOURS", "soon"),
    ] {
        let err = from(&[(k, v)]).unwrap_err().to_string();
        assert!(err.contains(k), "{err}");
    }
}

#[test]
fn session_limits_default_to_30_minutes_idle_and_12_hours_in_all() {
    let c = from(&[]).unwrap();
    assert_eq!(c.session_limits.idle, Duration::from_secs(1800));
    assert_eq!(c.session_limits.absolute, Duration::from_secs(43200));
    let c = from(&[("HUDDLE_SESSION_IDLE_MINUTES", "5"), ("HUDDLE_SESSION_MAX_HOURS", "2")]).unwrap();
    assert_eq!(c.session_limits.idle, Duration::from_secs(300));
    assert_eq!(from(&[("HUDDLE_SESSION_IDLE_MINUTES", "0.1")]).unwrap().session_limits.idle, Duration::from_secs(6));
    assert_eq!(c.session_limits.absolute, Duration::from_secs(7200));
}

#[test]
fn the_heartbeat_is_configurable_and_must_leave_room_for_a_pong() {
    let c = from(&[("HUDDLE_WS_PING_SECONDS", "5"), ("HUDDLE_WS_SILENCE_SECONDS", "12")]).unwrap();
    assert_eq!(c.signaling.heartbeat, Heartbeat { ping_every: Duration::from_secs(5), silence_limit: Duration::from_secs(12) });
    assert!(from(&[("HUDDLE_WS_PING_SECONDS", "50")]).is_err(), "a ping interval past the silence limit");
    assert_eq!(from(&[("HUDDLE_RESUME_GRACE_SECONDS", "5")]).unwrap().signaling.resume_grace, Duration::from_secs(5));
    assert!(from(&[("HUDDLE_RESUME_GRACE_SECONDS", "0")]).is_err());
    assert_eq!(from(&[("HUDDLE_JOIN_EARLY_MINUTES", "0")]).unwrap().join_early, Duration::ZERO);
    assert_eq!(from(&[("HUDDLE_JOIN_EARLY_MINUTES", "30")]).unwrap().join_early, Duration::from_secs(1800));
    assert!(from(&[("HUDDLE_JOIN_EARLY_MINUTES", "soon")]).is_err());
}

#[test]
fn turn_needs_urls_and_a_secret_together() {
    let from = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |key| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    };
    let c = from(&[("HUDDLE_TURN_URLS", "turn:127.0.0.1:3478, turns:turn.example.org:5349"), ("HUDDLE_TURN_SECRET", "0123456789abcdef")]).unwrap();
    let turn = c.turn.unwrap();
    assert_eq!(turn.urls, ["turn:127.0.0.1:3478", "turns:turn.example.org:5349"]);
    assert_eq!(turn.ttl, Duration::from_secs(3600), "an hour: short, since a removed person keeps theirs until it ends");
    assert!(from(&[("HUDDLE_TURN_URLS", "turn:127.0.0.1:3478")]).is_err());
    assert!(from(&[("HUDDLE_TURN_SECRET", "0123456789abcdef")]).is_err());
    assert!(from(&[("HUDDLE_TURN_URLS", "http://x"), ("HUDDLE_TURN_SECRET", "0123456789abcdef")]).is_err());
    assert!(from(&[("HUDDLE_TURN_URLS", "turn:x"), ("HUDDLE_TURN_SECRET", "short")]).is_err());
    let ttl = [("HUDDLE_TURN_URLS", "turn:x"), ("HUDDLE_TURN_SECRET", "0123456789abcdef"), ("HUDDLE_TURN_TTL_MINUTES", "0")];
    assert!(from(&ttl).is_err());
    assert!(from(&[]).unwrap().turn.is_none());
}

#[test]
fn deployment_settings_are_read_and_checked() {
    let c = from(&[
        ("HUDDLE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
        ("HUDDLE_TLS_CERT", "/etc/huddle/cert.pem"),
        ("HUDDLE_TLS_KEY", "/etc/huddle/key.pem"),
        ("HUDDLE_PUBLIC_ORIGIN", "https://meet.example.org"),
        ("HUDDLE_HTTP_REDIRECT_ADDR", "0.0.0.0:80"),
        ("HUDDLE_METRICS_ADDR", "127.0.0.1:9100"),
        ("HUDDLE_CLIENT_HEADER", "X-Real-IP"),
        ("HUDDLE_MEDIA_ADDR", "0.0.0.0:7882"),
        ("HUDDLE_MEDIA_PUBLIC_IP", "203.0.113.9"),
    ])
    .unwrap();
    assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
    assert_eq!(c.client_header, ClientHeader::XRealIp);
    assert_eq!(c.tls, Some(TlsFiles { cert: "/etc/huddle/cert.pem".into(), key: "/etc/huddle/key.pem".into() }));
    assert_eq!(c.http_redirect_addr, Some("0.0.0.0:80".parse().unwrap()));
    assert_eq!(c.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    let defaults = from(&[]).unwrap();
    assert!(defaults.trusted_proxies.is_empty() && defaults.tls.is_none() && defaults.metrics_addr.is_none());
    assert_eq!(defaults.client_header, ClientHeader::XForwardedFor, "what the documented Caddy sets");
    assert_eq!((defaults.signaling.max_per_address, defaults.sign_in_limit_per_address), (100, 100), "sized for a school");
    for bad in [
        vec![("HUDDLE_TRUSTED_PROXIES", "10.0.0.0/99")],
        vec![("HUDDLE_CLIENT_HEADER", "x-forwarded-host")],
        vec![("HUDDLE_TLS_CERT", "/x.pem")],
        vec![("HUDDLE_METRICS_ADDR", "metrics")],
        vec![("HUDDLE_HTTP_REDIRECT_ADDR", "0.0.0.0:80")],
        vec![("HUDDLE_HTTP_REDIRECT_ADDR", "0.0.0.0:80"), ("HUDDLE_PUBLIC_ORIGIN", "http://meet.example.org")],
    ] {
        let err = from(&bad).unwrap_err().to_string();
        assert!(err.contains(bad[0].0), "{err}");
    }
}

#[test]
fn describing_the_settings_masks_every_secret() {
    let vars = [
        ("HUDDLE_TURN_URLS", "turn:t.example.org"),
        ("HUDDLE_TURN_SECRET", "0123456789abcdef-secret"),
        ("HUDDLE_ICE_SERVERS", r#"[{"urls":["turn:x"],"username":"user-name","credential":"pass-word"}]"#),
    ];
    let described = from(&vars).unwrap().describe("http://127.0.0.1:3000");
    let text: String = described.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    for secret in ["0123456789abcdef-secret", "user-name", "pass-word"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("HUDDLE_TURN_SECRET=****"));
    assert!(text.contains("HUDDLE_PUBLIC_ORIGIN=http://127.0.0.1:3000"));
}

#[test]
fn the_media_server_runs_by_default_beside_the_web_address_unless_off_and_its_settings_are_checked() {
    let default = from(&[]).unwrap();
    assert_eq!(default.media, Some(MediaAddress { bind: "127.0.0.1:3000".parse().unwrap(), public_ip: None }), "UDP on HUDDLE_ADDR's IP and port");
    assert_eq!(default.signaling.media, Some(MediaPolicy { room_size: 42, consultations: false }), "a class of 40, a teacher and a helper");
    let beside = from(&[("HUDDLE_ADDR", "0.0.0.0:8080")]).unwrap();
    assert_eq!(beside.media.map(|m| m.bind), Some("0.0.0.0:8080".parse().unwrap()), "every address: the announced one is found at start");
    let behind = from(&[("HUDDLE_ADDR", "127.0.0.1:3000"), ("HUDDLE_PUBLIC_ORIGIN", "https://meet.example.org")]).unwrap_err().to_string();
    assert!(behind.contains("HUDDLE_MEDIA_ADDR"), "a loopback media port for a public origin is refused: {behind}");
    let local = from(&[("HUDDLE_PUBLIC_ORIGIN", "https://localhost:8443")]).unwrap();
    assert!(local.media.is_some());
    let off = from(&[("HUDDLE_MEDIA_ADDR", "off")]).unwrap();
    assert!(off.media.is_none() && off.signaling.media.is_none());
    let on = from(&[("HUDDLE_MEDIA_ADDR", "10.0.0.5:7882"), ("HUDDLE_MEDIA_PUBLIC_IP", "203.0.113.9")]).unwrap();
    assert_eq!(on.media, Some(MediaAddress { bind: "10.0.0.5:7882".parse().unwrap(), public_ip: Some("203.0.113.9".parse().unwrap()) }));
    let said = |c: &Config| c.describe("http://127.0.0.1:3000").into_iter().filter(|(k, _)| k.starts_with("HUDDLE_MEDIA")).collect::<Vec<_>>();
    assert_eq!(
        said(&on),
        [("HUDDLE_MEDIA_ADDR", "10.0.0.5:7882".into()), ("HUDDLE_MEDIA_PUBLIC_IP", "203.0.113.9".into())],
        "--check-config says which"
    );
    assert_eq!(said(&off)[0], ("HUDDLE_MEDIA_ADDR", "(off)".into()));
    let sized = from(&[("HUDDLE_MEDIA_ADDR", "127.0.0.1:0"), ("HUDDLE_SFU_ROOM_SIZE", "25"), ("HUDDLE_CONSULTATION_SFU", "on")]).unwrap();
    assert_eq!(sized.signaling.media, Some(MediaPolicy { room_size: 25, consultations: true }));
    for bad in [
        vec![("HUDDLE_MEDIA_ADDR", "everywhere")],
        vec![("HUDDLE_MEDIA_ADDR", "127.0.0.1:7882"), ("HUDDLE_SFU_ROOM_SIZE", "0")],
        vec![("HUDDLE_MEDIA_ADDR", "127.0.0.1:7882"), ("HUDDLE_CONSULTATION_SFU", "yes")],
        vec![("HUDDLE_MEDIA_ADDR", "0.0.0.0:7882"), ("HUDDLE_MEDIA_PUBLIC_IP", "0.0.0.0")],
        vec![("HUDDLE_MEDIA_ADDR", "off"), ("HUDDLE_MEDIA_PUBLIC_IP", "203.0.113.9")],
    ] {
        let err = from(&bad).unwrap_err().to_string();
        let named = bad.iter().any(|(k, _)| err.contains(k));
        assert!(named, "{err}");
    }
}

#[test]
fn ice_servers_are_read_from_json() {
    let c = from(&[("HUDDLE_ICE_SERVERS", r#"[{"urls":["turn:127.0.0.1:3478"],"username":"u","credential":"p"}]"#)]).unwrap();
    assert_eq!(c.ice_servers[0].urls, vec!["turn:127.0.0.1:3478".to_string()]);
}

#[test]
fn a_node_is_named_in_lower_case_letters_digits_and_dashes() {
    assert_eq!(from(&[]).unwrap().node.as_str(), "main");
    assert_eq!(from(&[("HUDDLE_NODE_ID", "node-2")]).unwrap().node.as_str(), "node-2");
    for bad in ["", "Node", "a b", "x".repeat(33).as_str(), "café"] {
        let error = from(&[("HUDDLE_NODE_ID", bad)]).unwrap_err().to_string();
        assert!(error.starts_with("HUDDLE_NODE_ID="), "{error}");
    }
}

#[test]
fn cluster_mode_needs_postgresql_and_a_heartbeat_shorter_than_the_lease() {
    let pg = ("HUDDLE_DATABASE", "postgres://huddle:pw@db/huddle");
    assert_eq!(from(&[pg]).unwrap().cluster, None, "off unless HUDDLE_REDIS_URL is set");
    let c = from(&[pg, ("HUDDLE_REDIS_URL", "redis://:secret@cache:6380/1"), ("HUDDLE_NODE_ID", "b")]).unwrap();
    let cluster = c.cluster.clone().expect("on");
    assert_eq!((cluster.prefix.as_str(), cluster.lease, cluster.node_ttl), ("huddle:", Duration::from_secs(15), Duration::from_secs(6)));
    let described: Vec<String> = c.describe("https://x").into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert!(described.contains(&"HUDDLE_REDIS_URL=redis://:****@cache:6380/1".to_string()), "{described:?}");
    assert!(!described.iter().any(|line| line.contains("secret")));
    for (vars, names) in [
        (vec![("HUDDLE_REDIS_URL", "redis://cache")], "HUDDLE_DATABASE"),
        (vec![pg, ("HUDDLE_REDIS_URL", "cache:6379")], "HUDDLE_REDIS_URL"),
        (vec![pg, ("HUDDLE_LEASE_MS", "5000")], "HUDDLE_LEASE_MS"),
        (vec![pg, ("HUDDLE_REDIS_URL", "redis://cache"), ("HUDDLE_LEASE_MS", "5000"), ("HUDDLE_NODE_TTL_MS", "6000")], "HUDDLE_LEASE_MS"),
        (vec![pg, ("HUDDLE_REDIS_URL", "redis://cache"), ("HUDDLE_NODE_TTL_MS", "100")], "HUDDLE_NODE_TTL_MS"),
        (vec![pg, ("HUDDLE_REDIS_URL", "redis://cache"), ("HUDDLE_REDIS_PREFIX", "a b")], "HUDDLE_REDIS_PREFIX"),
    ] {
        let err = from(&vars).unwrap_err().to_string();
        assert!(err.contains(names), "{vars:?}: {err}");
    }
}

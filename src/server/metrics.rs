//! Prometheus metrics (the `prometheus-client` crate), served at `/metrics`
//! on a listener of their own (`HUDDLE_METRICS_ADDR`), never on the public
//! port. Live figures (calls, people, sockets) are read from signaling at
//! each scrape; sign-in failures and request timings are counted as they
//! happen. No label ever carries a name, an address or a room link. Every
//! series carries the node's name (`node`, `HUDDLE_NODE_ID`), so several
//! nodes' series can be told apart and summed.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::call::hub::Census;

/// What signaling is doing, read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct SignalingStats {
    pub census: Census,
    pub sockets: usize,
    pub relayed: u64,
    pub refusals: Vec<(String, u64)>,
}

/// Reads signaling's figures (given by the server, so metrics need not know
/// the signaling layer).
pub type ReadStats = Box<dyn Fn() -> SignalingStats + Send + Sync>;

/// Cluster mode's counts since start, read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct ClusterFigures {
    /// Joins placed here (`here`, of which `taken_over` from a stopped
    /// node) and sent to another node (`elsewhere`: the redirects).
    pub placed_here: u64,
    pub taken_over: u64,
    pub sent_elsewhere: u64,
    pub renewed: u64,
    pub lost: u64,
    pub released: u64,
    pub redis_calls: u64,
    pub redis_errors: u64,
    pub redis_seconds: f64,
}

pub type ReadCluster = Box<dyn Fn() -> ClusterFigures + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: String,
}

/// One request series' labels. Both come from fixed sets, so what a
/// client sends cannot add series: the route is the router's pattern (or
/// one of two names for everything else), the method a standard one or
/// `other`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
    method: &'static str,
}

/// Everything the metrics listener reports.
pub struct Metrics {
    registry: Registry,
    sign_in_failures: Family<Reason, Counter>,
    requests: Family<Route, Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of node `node`; with `read_cluster`, cluster mode's too.
    pub fn new(node: &str, read_stats: ReadStats, read_cluster: Option<ReadCluster>) -> Self {
        let labels = [(std::borrow::Cow::Borrowed("node"), std::borrow::Cow::Owned(node.to_string()))];
        let mut registry = Registry::with_prefix_and_labels("huddle", labels.into_iter());
        let sign_in_failures = Family::<Reason, Counter>::default();
        registry.register("sign_in_failures", "Sign-ins refused, by reason (bad_credentials, throttled)", sign_in_failures.clone());
        // 0.25 ms to about 4 s.
        let requests = Family::<Route, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 15)));
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route",
            prometheus_client::registry::Unit::Seconds,
            requests.clone(),
        );
        registry.register_collector(Box::new(SignalingCollector(read_stats)));
        if let Some(read) = read_cluster {
            registry.register_collector(Box::new(ClusterCollector(read)));
        }
        Self { registry, sign_in_failures, requests }
    }

    /// A sign-in refused for `reason`.
    pub fn sign_in_failed(&self, reason: &str) {
        self.sign_in_failures.get_or_create(&Reason { reason: reason.into() }).inc();
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Reads signaling's figures at each scrape.
struct SignalingCollector(ReadStats);

impl std::fmt::Debug for SignalingCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignalingCollector")
    }
}

impl Collector for SignalingCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = (self.0)();
        let gauges = [
            ("calls", "Calls under way", stats.census.calls),
            ("people_in_calls", "People in calls (including those briefly away)", stats.census.in_calls),
            ("guests_waiting", "Guests waiting in lobbies", stats.census.waiting),
            ("signaling_sockets", "Open signaling WebSockets", stats.sockets),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let relayed = ConstCounter::new(stats.relayed);
        relayed.encode(encoder.encode_descriptor(
            "signaling_messages_relayed",
            "Signals and chat messages passed from one participant to another",
            None,
            relayed.metric_type(),
        )?)?;
        let mut family = encoder.encode_descriptor(
            "signaling_refusals",
            "Signaling requests refused, by reason",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (reason, count) in stats.refusals {
            ConstCounter::new(count).encode(family.encode_family(&Reason { reason })?)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: &'static str,
}

/// Reads cluster mode's counts at each scrape.
struct ClusterCollector(ReadCluster);

impl std::fmt::Debug for ClusterCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterCollector")
    }
}

impl Collector for ClusterCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = (self.0)();
        let mut placements = encoder.encode_descriptor(
            "cluster_placements",
            "Joins placed by the room leases: here (taken_over: from a stopped node, counted in here too) or sent elsewhere (a redirect)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (result, count) in [("here", c.placed_here), ("taken_over", c.taken_over), ("elsewhere", c.sent_elsewhere)] {
            ConstCounter::new(count).encode(placements.encode_family(&Outcome { result })?)?;
        }
        let mut leases = encoder.encode_descriptor(
            "cluster_leases",
            "Room leases renewed, lost to another node, and let go when their call ended",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (result, count) in [("renewed", c.renewed), ("lost", c.lost), ("released", c.released)] {
            ConstCounter::new(count).encode(leases.encode_family(&Outcome { result })?)?;
        }
        let counters = [
            ("redis_round_trips", "Redis commands sent", c.redis_calls),
            ("redis_errors", "Redis commands that failed or timed out", c.redis_errors),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        let seconds = ConstCounter::new(c.redis_seconds);
        seconds.encode(encoder.encode_descriptor(
            "redis_round_trip_seconds",
            "Time spent waiting on Redis in all (divided by the round trips: the mean latency)",
            Some(&prometheus_client::registry::Unit::Seconds),
            seconds.metric_type(),
        )?)?;
        Ok(())
    }
}

/// Middleware: times each request under its route's pattern (never the
/// path itself, which may hold a join link).
pub async fn time_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| other_route(request.uri().path()), |m| m.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.requests.get_or_create(&Route { route, method }).observe(started.elapsed().as_secs_f64());
    response
}

/// A method's label: the standard methods by name, anything a client made
/// up as `other` (a fresh method per request once made a series each, and
/// memory grew without bound).
fn method_label(method: &Method) -> &'static str {
    static STANDARD: [Method; 9] =
        [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS, Method::CONNECT, Method::TRACE];
    STANDARD.iter().find(|m| *m == method).map_or("other", Method::as_str)
}

/// A label for a request no route pattern matched: static files, or other.
fn other_route(path: &str) -> String {
    if path.starts_with("/pkg/") { "/pkg/{file}" } else { "other" }.to_string()
}

/// The metrics listener's own router: `GET /metrics`.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || async move {
            match metrics.render() {
                Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_a_client_makes_up_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for made_up in ["M1", "M2", "get", "BREW", "PROPFIND"] {
            assert_eq!(method_label(&Method::from_bytes(made_up.as_bytes()).unwrap()), "other", "{made_up}");
        }
    }

    #[test]
    fn paths_no_route_matched_share_two_labels() {
        assert_eq!(other_route("/pkg/huddle_bg.wasm"), "/pkg/{file}");
        for path in ["/", "/r/abc", "/nowhere/1", "/%2e%2e/etc"] {
            assert_eq!(other_route(path), "other", "{path}");
        }
    }
}

//! Builds the whole HTTP application from a [`Config`]: the one place where
//! routes, state and middleware meet. Tests build it the same way.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_sessions::cookie::{time, SameSite};
use tower_sessions::{Expiry, SessionManagerLayer};
#[cfg(feature = "postgres")]
use tower_sessions_sqlx_store::PostgresStore;
use tower_sessions_sqlx_store::SqliteStore;

use crate::server::session_store::Backend;

use crate::app::{shell, App};
use crate::server::client_address;
use crate::server::cluster::bus::Everywhere;
use crate::server::cluster::Cluster;
use crate::server::config::Config;
use crate::server::db::{self, sql, Db};
use crate::server::metrics::Metrics;
use crate::server::password::PasswordHasher;
use crate::server::serve::{connections_for, raise_file_limit, serve, ConnectionLimits, Gate};
use crate::server::signaling::{socket, Signaling};
use crate::server::state::{AppState, PasscodeThrottle, SignInThrottle};
use crate::server::throttle::Throttle;
use crate::server::tls::Certificates;
use crate::server::web_surface;

/// Every `every`, deletes expired sessions, auditing the signed-in ones
/// and closing their call sockets, until the server is gone.
async fn sweep_sessions(db: Db, signaling: std::sync::Weak<Signaling>, cluster: Option<Arc<Cluster>>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        // A failure is logged (by `AppError::internal`) and retried next time.
        let Ok(expired) = crate::server::session::sweep_expired(&db).await else { continue };
        let Some(signaling) = signaling.upgrade() else { return };
        for login in expired {
            // Swept here, the login's sockets close on every node.
            Everywhere::CloseLogin { account: login.account, login: login.login }.everywhere(&signaling, cluster.as_deref()).await;
        }
    }
}

/// Gives up the places of participants who did not come back in time,
/// checking ten times per grace period, until the server is gone.
async fn expire_places(signaling: std::sync::Weak<Signaling>, grace: std::time::Duration) {
    let every = (grace / 10).clamp(std::time::Duration::from_millis(50), std::time::Duration::from_secs(1));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let Some(signaling) = signaling.upgrade() else { return };
        signaling.expire_places();
    }
}

/// A bound, ready-to-serve Huddle.
pub struct Application {
    listener: TcpListener,
    router: Router,
    origin: String,
    signaling: Arc<Signaling>,
    db: Db,
    /// Huddle's own TLS, if configured.
    tls: Option<Arc<Certificates>>,
    /// Plain HTTP answered with a redirect to the https:// origin.
    redirect: Option<TcpListener>,
    /// The separate metrics listener, and what it shows.
    metrics: Option<(TcpListener, Arc<Metrics>)>,
    /// Caps and deadlines for the public listener's connections.
    gate: Arc<Gate>,
    limits: ConnectionLimits,
    tls_reload_every: std::time::Duration,
    /// This node among several, in cluster mode.
    cluster: Option<Arc<Cluster>>,
}

/// How long shutdown waits for requests and sockets to finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

impl Application {
    /// Binds the address, opens and migrates the database, wires the routes.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // A bad certificate stops start-up before anything is bound.
        let tls = config.tls.clone().map(Certificates::load).transpose()?.map(Arc::new);
        // Raised before the port is open: anyone who can connect meets the
        // server's own limits.
        let file_limit = raise_file_limit();
        let listener = TcpListener::bind(config.addr).await.with_context(|| format!("listening on {}", config.addr))?;
        let bound = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let origin = config.public_origin.clone().unwrap_or_else(|| format!("{scheme}://{bound}"));
        let db = db::open(&config.database).await?;

        let idle = time::Duration::try_from(config.session_limits.idle).context("the idle session limit is too long")?;
        let sessions = match &db {
            Db::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone()).with_table_name("sessions").map_err(anyhow::Error::msg)?;
                store.migrate().await.context("creating the sessions table")?;
                Backend::Sqlite(store)
            }
            // The table is made by Huddle's own migrations (in whichever
            // schema the connection's search_path puts first), never by the
            // store: two servers starting together would race to.
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                let (schema,): (String,) = sqlx::query_as("SELECT current_schema()").fetch_one(pool).await.context("asking PostgreSQL its schema")?;
                let store = PostgresStore::new(pool.clone()).with_schema_name(schema).map_err(anyhow::Error::msg)?;
                Backend::Postgres(store.with_table_name("sessions").map_err(anyhow::Error::msg)?)
            }
        };
        // Only a hash of each session id is stored.
        let sessions = crate::server::session_store::HashedIds(sessions);
        // Over https the cookie carries the `__Host-` prefix: browsers then
        // take it only if Secure, for this host alone and for every path.
        let https = origin.starts_with("https://");
        let session_layer = SessionManagerLayer::new(sessions)
            .with_name(if https { "__Host-huddle_session" } else { "huddle_session" })
            .with_path("/")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(https)
            .with_expiry(Expiry::OnInactivity(idle))
            // A session is saved (and its idle deadline and the cookie's
            // Max-Age pushed forward) when modified: every request that asks
            // who is signed in marks it seen (`UserSession::account`), except
            // a page's background poll (`account_quietly`), so a dashboard
            // left open in a tab still signs out when idle.
            .with_always_save(false);

        let turn = config.turn.clone().map(crate::call::turn::TurnIssuer::new);
        let first_id = db::count_start(&db, &config.node, config.clock.now()).await?;
        let signaling = Arc::new(Signaling::new(config.ice_servers.clone(), turn, config.signaling, config.clock.clone(), first_id));
        if let Some(at) = config.media {
            let to = Arc::downgrade(&signaling);
            let deliver = move |who, message| {
                if let Some(signaling) = to.upgrade() {
                    signaling.deliver(who, message);
                }
            };
            let server = crate::server::media::MediaServer::start(at, deliver)
                .map_err(|e| anyhow::anyhow!("HUDDLE_MEDIA_ADDR={}: the media server could not start: {e}", at.bind))?;
            signaling.attach_media(server);
        }
        let cluster = match config.cluster.clone() {
            Some(settings) => {
                let cluster = Arc::new(Cluster::new(&config.node, settings));
                cluster.join().await?;
                if let Some(passes) = cluster.passes() {
                    let sharing = Arc::clone(&cluster);
                    signaling.join_cluster(
                        passes.clone(),
                        Box::new(move |cooldown, room, person| {
                            let cluster = Arc::clone(&sharing);
                            tokio::spawn(async move { cluster.mark(cooldown, room, &person).await });
                        }),
                    );
                }
                tokio::spawn(Arc::clone(&cluster).beat_on());
                tokio::spawn(Arc::clone(&cluster).renew_on(Arc::downgrade(&signaling)));
                tokio::spawn(Arc::clone(&cluster).listen(Arc::downgrade(&signaling), db.clone()));
                tracing::info!(node = cluster.node(), "cluster mode: calls are placed through Redis");
                Some(cluster)
            }
            None => None,
        };
        tokio::spawn(expire_places(Arc::downgrade(&signaling), config.signaling.resume_grace));
        tokio::spawn(sweep_sessions(db.clone(), Arc::downgrade(&signaling), cluster.clone(), config.session_sweep_every));
        crate::server::attendance::close_open_stays(&db, &config.node, config.clock.now()).await?;
        tokio::spawn(crate::server::attendance::write_records(db.clone(), config.node.clone(), config.clock.clone(), signaling.take_records()));
        tokio::spawn(crate::server::retention::daily(db.clone(), config.retention, config.clock.clone()));
        let leptos_options =
            LeptosOptions::builder().output_name("huddle").site_root(config.site_root.as_str()).site_pkg_dir("pkg").site_addr(bound).build();
        let hasher = PasswordHasher::default();
        let hashed = crate::server::rooms::hash_plain_passcodes(&db, &hasher).await?;
        if hashed > 0 {
            tracing::info!(rooms = hashed, "room passcodes stored in plain text were replaced by their hash");
        }
        let metrics = {
            let signaling = Arc::clone(&signaling);
            let read_cluster = cluster.clone().map(|c| Box::new(move || c.figures()) as crate::server::metrics::ReadCluster);
            Arc::new(Metrics::new(config.node.as_str(), Box::new(move || signaling.stats()), read_cluster))
        };
        let state = AppState {
            leptos_options: leptos_options.clone(),
            db: db.clone(),
            hasher,
            signaling: Arc::clone(&signaling),
            public_origin: origin.as_str().into(),
            session_limits: config.session_limits,
            // In cluster mode each is counted on every node (as the kind
            // named), so spreading attempts over nodes gains nothing.
            sign_in_throttle: Arc::new(SignInThrottle {
                per_account: Throttle::new(config.sign_in_limit_per_account).shared(cluster.as_ref(), "signin-account"),
                per_address: Throttle::new(config.sign_in_limit_per_address).shared(cluster.as_ref(), "signin-address"),
                per_device: Throttle::new(config.sign_in_limit_per_account).shared(cluster.as_ref(), "signin-device"),
                sign_ups: Throttle::new(config.sign_up_limit_per_address).shared(cluster.as_ref(), "signup-address"),
                // Five email changes an hour, then a doubling wait.
                email_changes: Throttle::new(5).shared(cluster.as_ref(), "email-change"),
            }),
            clock: config.clock.clone(),
            // Five wrong passcodes, then a doubling wait.
            // Five wrong passcodes per person, a hundred per address (a
            // school), then a doubling wait.
            passcode_throttle: Arc::new(PasscodeThrottle {
                per_person: Throttle::new(5).shared(cluster.as_ref(), "passcode-person"),
                per_address: Throttle::new(100).shared(cluster.as_ref(), "passcode-address"),
            }),
            join_early: config.join_early,
            forwarding: Arc::new(client_address::Forwarding { proxies: config.trusted_proxies.clone(), header: config.client_header }),
            room_lookups: Arc::new(Throttle::new(config.room_lookup_limit_per_address).shared(cluster.as_ref(), "room-lookup")),
            metrics: Arc::clone(&metrics),
            cluster: cluster.clone(),
        };

        let context = {
            let state = state.clone();
            move || provide_context(state.clone())
        };
        let router = Router::new()
            .route("/ws", get(socket::upgrade))
            // Cluster mode: the path the load balancer routes to node
            // `{node}` (`moved` sends people there). Any node serves it:
            // where the call is, is decided at `join`.
            .route("/ws/n/{node}", get(socket::upgrade))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route(crate::i18n::SWITCH_PATH, get(crate::server::language::switch))
            .route("/rooms/{id}/sessions/{session}/calendar.ics", get(crate::server::calendar::download))
            .route("/rooms/{id}/attendance.csv", get(crate::server::attendance::download))
            .route("/rooms/{id}/chat.txt", get(crate::server::attendance::download_chat))
            .route("/rooms/{id}/polls.csv", get(crate::server::polls::download))
            // `{page}` is `1.svg`, `2.svg`, … (the router takes no suffix).
            .route("/rooms/{id}/boards/{board}/{page}", get(crate::server::boards::download))
            .leptos_routes_with_context(&state, route_list(), context.clone(), move || shell(leptos_options.clone()))
            .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
            .layer(session_layer)
            // Added after the session layer, so static files never load or
            // re-save a session (every signed-in request saves it).
            .nest_service("/pkg", ServeDir::new(format!("{}/pkg", config.site_root)).precompressed_gzip().precompressed_br())
            .layer(RequestBodyLimitLayer::new(web_surface::MAX_BODY_BYTES))
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, web_surface::REQUEST_TIMEOUT))
            .layer(axum::middleware::from_fn_with_state(state.clone(), web_surface::guard))
            .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.metrics), crate::server::metrics::time_requests))
            // Outermost: every layer and handler inside sees the resolved client.
            .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.forwarding), client_address::stamp))
            .with_state(state);
        let redirect = match config.http_redirect_addr {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("HUDDLE_HTTP_REDIRECT_ADDR: listening on {addr}"))?),
            None => None,
        };
        let metrics = match config.metrics_addr {
            Some(addr) => Some((TcpListener::bind(addr).await.with_context(|| format!("HUDDLE_METRICS_ADDR: listening on {addr}"))?, metrics)),
            None => None,
        };
        let limits = ConnectionLimits { max_total: config.max_connections.unwrap_or_else(|| connections_for(file_limit)), ..config.connections };
        let gate = Gate::new(limits, Arc::new(config.trusted_proxies.clone()));
        Ok(Self { listener, router, origin, signaling, db, tls, redirect, metrics, gate, limits, tls_reload_every: config.tls_reload_every, cluster })
    }

    /// Where the metrics listener listens, if it does.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Where the HTTP-to-HTTPS redirect listens, if it does.
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The public origin join links are built from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Its signaling, for a test to put it in the state a drain begins
    /// with (`Signaling::stop_admitting`).
    pub fn signaling(&self) -> Arc<Signaling> {
        Arc::clone(&self.signaling)
    }

    /// Serves until `shutdown` completes, then stops accepting, tells every
    /// signaling socket "going away" (1001), lets in-flight requests and
    /// sockets finish for up to ten seconds, and closes the database.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, router, signaling, db, tls, redirect, metrics, origin, gate, limits, tls_reload_every, cluster } = self;
        // The side listeners are few and local; they get their own caps.
        let side_gate = || Gate::new(ConnectionLimits { max_total: 256, max_per_address: 64, ..limits }, Arc::default());
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let when_stopping = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let acceptor = match &tls {
            Some(certificates) => {
                tokio::spawn(Arc::clone(certificates).watch(tls_reload_every));
                tokio::spawn(reload_on_hangup(Arc::downgrade(certificates)));
                Some(certificates.acceptor()?)
            }
            None => None,
        };
        if let Some(listener) = redirect {
            tokio::spawn(serve(listener, None, redirect_router(origin), side_gate(), when_stopping(), SHUTDOWN_GRACE));
        }
        if let Some((listener, metrics)) = metrics {
            tokio::spawn(serve(listener, None, crate::server::metrics::router(metrics), side_gate(), when_stopping(), SHUTDOWN_GRACE));
        }
        let on_signal = {
            let signaling = Arc::clone(&signaling);
            async move {
                shutdown.await;
                tracing::info!("shutting down");
                // In cluster mode, draining: no new sockets here (and
                // `/readyz` fails), the calls let go, and only then their
                // people told to go (1001): their next join, on another
                // node, takes the call up at once.
                if let Some(cluster) = &cluster {
                    signaling.stop_admitting();
                    cluster.leave().await;
                }
                signaling.go_away();
                let _ = stopping.send(true);
            }
        };
        serve(listener, acceptor, router, gate, on_signal, SHUTDOWN_GRACE).await;
        if !signaling.wait_until_closed(SHUTDOWN_GRACE).await {
            tracing::warn!(open = signaling.connections(), "signaling sockets still open after the grace period");
        }
        db.close().await;
        Ok(())
    }
}

/// The site's routes, generated once per process. leptos suppresses every
/// resource load in the process while it generates a route list (it renders
/// the whole app to find the routes), and a resource first polled meanwhile,
/// on a page another server is rendering, waits forever
/// (leptos-rs/leptos#4773). One server per process generates before it
/// serves and never meets it; several in one process (the tests) did.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// `GET /healthz`: 200 when the database answers, 503 when it does not;
/// nothing more to strangers.
async fn healthz(State(state): State<AppState>) -> StatusCode {
    match sql::query("SELECT 1").execute(&state.db).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::error!("health check: the database does not answer: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// `GET /readyz`, for a load balancer: 200 while this server takes new
/// work: not shutting down, its database answers and, in cluster mode,
/// Redis does; 503 otherwise (nothing more to strangers).
async fn readyz(State(state): State<AppState>) -> StatusCode {
    if state.signaling.is_stopping() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if let Err(e) = sql::query("SELECT 1").execute(&state.db).await {
        crate::log_within!(
            crate::server::log_budget::LogBudget::new(1, std::time::Duration::from_secs(10)),
            error,
            "not ready: the database does not answer: {e}"
        );
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if let Some(cluster) = &state.cluster {
        if let Err(e) = cluster.ping().await {
            crate::log_within!(crate::server::log_budget::LogBudget::new(1, std::time::Duration::from_secs(10)), warn, "not ready: {e}");
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    StatusCode::OK
}

/// Answers every plain-HTTP request with a permanent redirect to the same
/// path on the https:// origin.
fn redirect_router(origin: String) -> Router {
    Router::new().fallback(move |uri: axum::http::Uri| {
        let origin = origin.clone();
        async move {
            let path = uri.path_and_query().map_or("/", |p| p.as_str());
            axum::response::Redirect::permanent(&format!("{origin}{path}"))
        }
    })
}

/// Reloads the certificate on every SIGHUP, while it is in use.
async fn reload_on_hangup(certificates: std::sync::Weak<Certificates>) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
    while hangups.recv().await.is_some() {
        let Some(certificates) = certificates.upgrade() else { return };
        certificates.reload_logged(true);
    }
}

//! `spawn_app()` and typed helpers for talking to it.

use std::sync::Arc;
use std::time::Duration;

pub use futures_util::SinkExt as _;
use futures_util::{SinkExt, StreamExt};
use huddle::api::rooms::RoomSummary;
use huddle::call::protocol::{ClientMessage, ErrorCode, ParticipantId, ResumeToken, ServerMessage, PROTOCOL_VERSION};
use huddle::server::config::{Config, Database};
use huddle::server::db::Db;
use huddle::startup::Application;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderValue, ACCEPT, COOKIE, ORIGIN};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A running Huddle with its own database: a SQLite file in `dir`, or with
/// `HUDDLE_TEST_DATABASE` a PostgreSQL database of its own.
pub struct TestApp {
    pub origin: String,
    pub addr: std::net::SocketAddr,
    pub dir: TempDir,
    pub database: Database,
    stop: Option<oneshot::Sender<()>>,
    tweak: Arc<dyn Fn(&mut Config) + Send + Sync>,
    /// The server's clock: set it to test what happens at a given time.
    pub clock: huddle::server::clock::Clock,
    /// The metrics and HTTP-redirect listeners, when configured.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub redirect_addr: Option<std::net::SocketAddr>,
    /// The running server's signaling.
    pub signaling: Option<Arc<huddle::server::signaling::Signaling>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], after `tweak` has adjusted the configuration.
pub async fn spawn_app_with(tweak: impl Fn(&mut Config) + Send + Sync + 'static) -> TestApp {
    spawn(tweak, true).await
}

/// Like [`spawn_app`], on a SQLite file whatever the test run's database
/// (what `huddle backup` copies).
pub async fn spawn_sqlite_app() -> TestApp {
    spawn(|_| {}, false).await
}

/// A test server's shape, with no server running: what `start` builds
/// from (for a test that starts a process itself).
pub fn unstarted(database: Database, addr: std::net::SocketAddr) -> TestApp {
    TestApp {
        origin: format!("http://{addr}"),
        addr,
        dir: tempfile::tempdir().expect("a folder"),
        database,
        stop: None,
        tweak: Arc::new(|_: &mut Config| {}),
        clock: Default::default(),
        metrics_addr: None,
        redirect_addr: None,
        signaling: None,
    }
}

async fn spawn(tweak: impl Fn(&mut Config) + Send + Sync + 'static, on_test_database: bool) -> TestApp {
    let tweak = Arc::new(tweak);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = if on_test_database { fresh_database(dir.path()).await } else { dir.path().join("huddle.db").into() };
    let mut app = TestApp {
        origin: String::new(),
        addr: ([127, 0, 0, 1], 0).into(),
        dir,
        database,
        stop: None,
        tweak,
        clock: Default::default(),
        metrics_addr: None,
        redirect_addr: None,
        signaling: None,
    };
    app.start().await;
    app
}

/// The database a new test server runs on: a SQLite file in `dir`; or,
/// when `HUDDLE_TEST_DATABASE` names a PostgreSQL server's admin URL
/// (`scripts/with-postgres.sh`), a new, empty database there.
pub async fn fresh_database(dir: &std::path::Path) -> Database {
    use sqlx::Connection;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let Ok(admin) = std::env::var("HUDDLE_TEST_DATABASE") else { return dir.join("huddle.db").into() };
    let name = format!("huddle_{}_{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let mut connection = sqlx::PgConnection::connect(&admin).await.expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.expect("a test database");
    let _ = connection.close().await;
    let (server, _) = admin.rsplit_once('/').expect("an admin URL ending in a database name");
    Database::Postgres(format!("{server}/{name}"))
}

/// `database` as `HUDDLE_DATABASE` gives it.
pub fn setting(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => path.display().to_string(),
        Database::Postgres(url) => url.clone(),
    }
}

/// One runtime for every server the tests start, as in production, where one
/// runtime serves all requests and outlives them.
fn server_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime for the servers"))
        .handle()
}

impl TestApp {
    async fn start(&mut self) {
        let mut config = Config {
            addr: ([127, 0, 0, 1], 0).into(),
            database: self.database.clone(),
            site_root: self.dir.path().join("site").to_string_lossy().into_owned(),
            clock: self.clock.clone(),
            ..Config::default()
        };
        (self.tweak)(&mut config);
        let runtime = server_runtime();
        let app = runtime.spawn(Application::build(config)).await.expect("the build task runs").expect("the app builds");
        self.addr = app.addr();
        self.origin = app.origin().to_string();
        self.metrics_addr = app.metrics_addr();
        self.redirect_addr = app.redirect_addr();
        self.signaling = Some(app.signaling());
        let (stop, stopped) = oneshot::channel::<()>();
        runtime.spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        self.stop = Some(stop);
    }

    /// Stops the server, keeping its folder and database.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and starts a new one on the same database file.
    pub async fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.start().await;
    }

    /// A new visitor: own cookie jar, no redirects followed.
    pub fn visitor(&self) -> Visitor {
        self.visitor_with(&[])
    }

    /// A new visitor whose every request and socket carries `headers` (as
    /// a proxy in front of Huddle would add them).
    pub fn visitor_with(&self, headers: &[(&'static str, &str)]) -> Visitor {
        let mut extra = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            extra.append(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .default_headers(extra.clone())
            .build()
            .expect("an HTTP client");
        Visitor { http, jar, origin: self.origin.clone(), addr: self.addr, extra }
    }

    /// A signed-up, signed-in host.
    pub async fn host(&self, email: &str, name: &str) -> Visitor {
        self.host_with(&[], email, name).await
    }

    /// A signed-up, signed-in host whose browser sends `headers` (e.g. its
    /// `Accept-Language`).
    pub async fn host_with(&self, headers: &[(&'static str, &str)], email: &str, name: &str) -> Visitor {
        let host = self.visitor_with(headers);
        let response = host.sign_up(email, name, "correct horse battery").await;
        assert_eq!(response.status(), 200, "sign-up failed: {}", response.text().await.unwrap_or_default());
        let response = host.sign_in(email, "correct horse battery").await;
        assert_eq!(response.status(), 200, "sign-in failed: {}", response.text().await.unwrap_or_default());
        host
    }

    /// What `/api/me` says to a request carrying only `cookie`, as from
    /// another machine that stole or kept it.
    pub async fn me_with_cookie(&self, cookie: HeaderValue) -> serde_json::Value {
        let response = reqwest::Client::new().post(format!("http://{}/api/me", self.addr)).header(COOKIE, cookie).send().await;
        response.expect("the server answers").json().await.expect("JSON from /api/me")
    }

    /// A direct connection to the app's database file.
    /// A guest knocks on a room with a lobby; the one thing it hears is
    /// `waiting`.
    pub async fn knock(&self, slug: &str, name: &str) -> Socket {
        self.knock_as(&self.visitor(), slug, name).await
    }

    /// Like [`TestApp::knock`], from `visitor`'s browser.
    pub async fn knock_as(&self, visitor: &Visitor, slug: &str, name: &str) -> Socket {
        let mut guest = visitor.socket().await;
        guest.send(join_message(slug, name)).await;
        assert!(matches!(guest.recv().await, ServerMessage::Waiting { .. }));
        guest
    }

    /// A connection pool of the test's own to the app's database.
    pub async fn db(&self) -> Db {
        match &self.database {
            Database::Sqlite(path) => {
                Db::Sqlite(sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.expect("the database opens"))
            }
            Database::Postgres(url) => {
                Db::Postgres(sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.expect("the database opens"))
            }
        }
    }
}

/// The participant id a `welcome` gives.
pub fn you(welcome: &ServerMessage) -> ParticipantId {
    match welcome {
        ServerMessage::Welcome { you, .. } => you.id,
        other => panic!("not a welcome: {other:?}"),
    }
}

/// The error code of `message`, if it is an error.
pub fn error_code(message: &ServerMessage) -> Option<ErrorCode> {
    match message {
        ServerMessage::Error { code, .. } => Some(*code),
        _ => None,
    }
}

/// The resume token a `welcome` gives.
pub fn resume_token(welcome: &ServerMessage) -> ResumeToken {
    match welcome {
        ServerMessage::Welcome { resume_token, .. } => resume_token.clone(),
        other => panic!("not a welcome: {other:?}"),
    }
}

/// One browser, as far as the server can tell.
pub struct Visitor {
    pub http: reqwest::Client,
    pub jar: Arc<Jar>,
    pub origin: String,
    pub addr: std::net::SocketAddr,
    /// Headers added to every request and socket.
    pub extra: reqwest::header::HeaderMap,
}

impl Visitor {
    /// The same browser (its cookies) talking to `app`, another server on
    /// the same database.
    pub fn at(&self, app: &TestApp) -> Visitor {
        Visitor { http: self.http.clone(), jar: Arc::clone(&self.jar), origin: app.origin.clone(), addr: app.addr, extra: self.extra.clone() }
    }

    /// Where requests go: the bound address, whatever the public origin.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Calls a server function the way the hydrated page does.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(&format!("/api/{endpoint}"))).header(ACCEPT, "application/json").form(form).send().await.expect("the server answers")
    }

    /// Posts a form the way a browser without JavaScript does (no `Referer`:
    /// our pages say `Referrer-Policy: no-referrer`).
    pub async fn post_form(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ACCEPT, "text/html,application/xhtml+xml")
            .form(form)
            .send()
            .await
            .expect("the server answers")
    }

    /// Loads a page the way a browser navigates to it.
    pub async fn page(&self, path: &str) -> reqwest::Response {
        match self.http.get(self.url(path)).header(ACCEPT, "text/html").send().await {
            Ok(response) => response,
            Err(e) => panic!("GET {path} failed: {e:?}"),
        }
    }

    /// A GET as a page's script makes it (`fetch`), answered in JSON.
    pub async fn http_get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).header(ACCEPT, "application/json").send().await.expect("the server answers")
    }

    pub async fn sign_up(&self, email: &str, name: &str, password: &str) -> reqwest::Response {
        self.call("signup", &[("email", email), ("display_name", name), ("password", password)]).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.call("login", &[("email", email), ("password", password)]).await
    }

    pub async fn me(&self) -> serde_json::Value {
        self.call("me", &[]).await.json().await.expect("JSON from /api/me")
    }

    pub async fn create_room(&self, name: &str) -> RoomSummary {
        let response = self.call("create_room", &[("name", name)]).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("a room summary")
    }

    /// The cookie header this visitor's browser would send.
    pub fn cookie(&self) -> Option<HeaderValue> {
        self.jar.cookies(&self.url("/").parse().expect("a URL"))
    }

    /// Opens the signaling socket from our own origin.
    pub async fn socket(&self) -> Socket {
        self.socket_from(&self.origin.clone()).await.expect("the upgrade succeeds")
    }

    /// Opens the signaling socket with a chosen `Origin` header.
    pub async fn socket_from(&self, origin: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://{}/ws", self.addr).into_client_request()?;
        request.headers_mut().insert(ORIGIN, HeaderValue::from_str(origin).expect("a header value"));
        if let Some(cookie) = self.cookie() {
            request.headers_mut().insert(COOKIE, cookie);
        }
        for (name, value) in &self.extra {
            request.headers_mut().append(name.clone(), value.clone());
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Socket { stream })
    }
}

/// A `join` for the room whose link ends in `room`, as `name`.
pub fn join_message(room: &str, name: &str) -> ClientMessage {
    let room = huddle::domain::RoomSlug::parse(room).expect("a join link's shape");
    ClientMessage::Join { version: PROTOCOL_VERSION, room, name: name.into(), passcode: None, pass: None }
}

/// A signaling socket with JSON helpers.
pub struct Socket {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    /// Sends `message` as the browser would: the protocol type, serialized.
    pub async fn send(&mut self, message: ClientMessage) {
        self.send_text(&serde_json::to_string(&message).expect("a message serializes")).await;
    }

    /// Sends `value` as it is: for messages the protocol types cannot
    /// even express (unknown fields, wrong versions, malformed values).
    pub async fn send_json(&mut self, value: serde_json::Value) {
        self.send_text(&value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("the socket accepts a message");
    }

    /// Joins `slug` as `name` and returns the welcome.
    pub async fn join(&mut self, slug: &str, name: &str) -> ServerMessage {
        self.send(join_message(slug, name)).await;
        let welcome = self.recv().await;
        assert!(matches!(welcome, ServerMessage::Welcome { .. }), "expected a welcome, got {welcome:?}");
        welcome
    }

    /// Presents `token` to take a dropped participant's place back; returns
    /// the server's answer.
    pub async fn resume(&mut self, token: &ResumeToken) -> ServerMessage {
        self.send(ClientMessage::Resume { version: PROTOCOL_VERSION, token: token.clone() }).await;
        self.recv().await
    }

    /// Ends the TCP connection without a WebSocket goodbye, as a lost
    /// network does.
    pub fn cut(self) {
        drop(self);
    }

    /// Asserts the next message is an error with `code` and a sentence for
    /// people.
    pub async fn expect_error(&mut self, code: ErrorCode) {
        match self.recv().await {
            ServerMessage::Error { code: got, message } => {
                assert_eq!(got, code);
                assert!(!message.is_empty());
            }
            other => panic!("expected error {code:?}, got {other:?}"),
        }
    }

    /// The next server message (pings skipped); panics after 5 s.
    pub async fn recv(&mut self) -> ServerMessage {
        match self.next_frame(Duration::from_secs(5)).await {
            Some(Message::Text(text)) => serde_json::from_str(text.as_str()).expect("a protocol message"),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The next frame other than the heartbeat (ping, pong, `tick`) within
    /// `wait`, or `None`.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(Some(Ok(Message::Text(text)))) if text.as_str().starts_with(r#"{"type":"tick""#) => continue,
                Ok(Some(Ok(frame))) => return Some(frame),
                Ok(Some(Err(_))) | Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Asserts nothing arrives for a while.
    pub async fn expect_silence(&mut self) {
        if let Some(frame) = self.next_frame(Duration::from_millis(300)).await {
            panic!("expected nothing, got {frame:?}");
        }
    }

    /// Asserts the server closes the socket (optionally with `code`).
    pub async fn expect_closed(&mut self, code: Option<u16>) {
        self.expect_closed_within(code, Duration::from_secs(5)).await;
    }

    /// Asserts the server closes the socket within `wait`.
    pub async fn expect_closed_within(&mut self, code: Option<u16>, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    if let Some(code) = code {
                        let got = frame.map(|f| u16::from(f.code));
                        assert_eq!(got, Some(code), "closed with the wrong code");
                    }
                    return;
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_))) | Ok(None) => return,
                Err(_) => panic!("the socket was not closed"),
            }
        }
    }
}

/// The `huddle` binary running as its own process, as in production, for
/// measurements the in-process test server would skew (timing).
pub struct ServerProcess {
    child: std::process::Child,
    pub visitor: Visitor,
    _dir: TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerProcess {
    /// The most memory the process has held so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.memory("VmHWM:")
    }

    /// The memory the process holds now (VmRSS), in bytes.
    pub fn resident_memory(&self) -> u64 {
        self.memory("VmRSS:")
    }

    fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("VmHWM in /proc status");
        kb * 1024
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit.
    pub async fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let status = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "could not signal the server");
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(exit) = self.child.try_wait().expect("the server process can be waited on") {
                return Some(exit);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

pub async fn spawn_process() -> ServerProcess {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = fresh_database(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_huddle"))
        .env("HUDDLE_ADDR", format!("127.0.0.1:{port}"))
        .env("HUDDLE_DATABASE", setting(&database))
        .env("RUST_LOG", "error")
        // The timing tests fail on purpose, many times.
        .env("HUDDLE_SIGN_IN_LIMIT_PER_ACCOUNT", "1000")
        .env("HUDDLE_SIGN_IN_LIMIT_PER_ADDRESS", "1000")
        .env("HUDDLE_SIGN_UP_LIMIT_PER_ADDRESS", "1000")
        .spawn()
        .expect("the server binary starts");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let app = unstarted(database, addr);
    let visitor = app.visitor();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return ServerProcess { child, visitor, _dir: dir };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server process did not start listening");
}

/// A page's HTML as a reader would match it: without the empty `<!>`
/// comments Leptos puts after dynamic text for hydration to find its place.
pub trait Html {
    async fn html(self) -> String;
}

impl Html for reqwest::Response {
    async fn html(self) -> String {
        self.text().await.expect("a page body").replace("<!>", "")
    }
}

/// A page's HTML without the table of messages it carries for the browser
/// (`<script id="huddle-texts">`, every message of its language): what the
/// page shows, for checking that a sentence is not there.
pub fn shown(html: String) -> String {
    let Some(start) = html.find("<script type=\"application/json\" id=\"huddle-texts\">") else { return html };
    let end = html[start..].find("</script>").map_or(html.len(), |e| start + e + "</script>".len());
    format!("{}{}", &html[..start], &html[end..])
}

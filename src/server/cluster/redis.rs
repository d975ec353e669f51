//! A small Redis client: what cluster mode asks of Redis is a handful of
//! commands and one Lua script, over RESP2 on one TCP connection (plus one
//! more for the subscription). Every command has a deadline: a Redis that
//! stops answering makes a command fail, never a caller hang.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// How long one command (with connecting, if needed) may take.
const DEADLINE: Duration = Duration::from_secs(2);
/// The longest reply Huddle reads (its values are a few bytes).
const MAX_BULK: usize = 1 << 20;

/// Where Redis is: `redis://[user[:password]@]host[:port][/db]`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: u32,
}

impl RedisUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let rest = raw.strip_prefix("redis://").ok_or("must start with redis:// (TLS to Redis is not supported)")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, host) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, authority),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| "has a user or password that is not UTF-8".to_string())
        };
        let (username, password) = match user {
            None => (None, None),
            Some(user) => match user.split_once(':') {
                Some((name, password)) => ((!name.is_empty()).then(|| decode(name)).transpose()?, Some(decode(password)?)),
                None => (Some(decode(user)?), None),
            },
        };
        let (host, port) = match host.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| format!("has a port {port:?} that is not a number"))?),
            None => (host, 6379),
        };
        if host.is_empty() {
            return Err("names no host".into());
        }
        let db = if path.is_empty() { 0 } else { path.parse().map_err(|_| format!("names a database {path:?} that is not a number"))? };
        Ok(RedisUrl { host: host.trim_start_matches('[').trim_end_matches(']').to_string(), port, username, password, db })
    }
}

/// The URL with its password replaced by `****`.
impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("redis://")?;
        match (&self.username, &self.password) {
            (Some(user), Some(_)) => write!(f, "{user}:****@")?,
            (None, Some(_)) => f.write_str(":****@")?,
            (Some(user), None) => write!(f, "{user}@")?,
            (None, None) => {}
        }
        write!(f, "{}:{}/{}", self.host, self.port, self.db)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A reply, as RESP2 has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Status(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
}

impl Reply {
    /// A bulk or status reply as text; nil is `None`.
    pub fn text(self) -> Result<Option<String>, RedisError> {
        match self {
            Reply::Nil => Ok(None),
            Reply::Bulk(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| RedisError::Protocol("a reply that is not UTF-8")),
            Reply::Status(s) => Ok(Some(s)),
            _ => Err(RedisError::Protocol("a reply of another kind than text")),
        }
    }

    pub fn int(self) -> Result<i64, RedisError> {
        match self {
            Reply::Int(n) => Ok(n),
            _ => Err(RedisError::Protocol("a reply of another kind than a number")),
        }
    }
}

#[derive(Debug)]
pub enum RedisError {
    /// Could not connect, or the connection broke.
    Io(std::io::Error),
    /// No answer within the deadline.
    Timeout,
    /// Redis answered with an error.
    Server(String),
    /// Redis said something this client cannot read.
    Protocol(&'static str),
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisError::Io(e) => write!(f, "Redis connection: {e}"),
            RedisError::Timeout => write!(f, "Redis did not answer within {} s", DEADLINE.as_secs()),
            RedisError::Server(e) => write!(f, "Redis: {e}"),
            RedisError::Protocol(e) => write!(f, "Redis sent {e}"),
        }
    }
}

impl std::error::Error for RedisError {}

impl From<std::io::Error> for RedisError {
    fn from(e: std::io::Error) -> Self {
        RedisError::Io(e)
    }
}

/// One connection, made when first needed and again after it broke.
pub struct Redis {
    url: RedisUrl,
    connection: Mutex<Option<Connection>>,
}

impl Redis {
    pub fn new(url: RedisUrl) -> Self {
        Redis { url, connection: Mutex::new(None) }
    }

    /// Sends one command and reads its reply. Commands from several tasks
    /// take turns on the one connection, which is out of its slot while in
    /// use: a caller given up on mid-way (a timeout, a cancelled request)
    /// drops it, never leaving a reply for the next caller to read.
    pub async fn call(&self, args: &[&[u8]]) -> Result<Reply, RedisError> {
        tokio::time::timeout(DEADLINE, async {
            let mut slot = self.connection.lock().await;
            let mut connection = match slot.take() {
                Some(connection) => connection,
                None => Connection::open(&self.url).await?,
            };
            connection.send(args).await?;
            let reply = connection.read().await;
            // A whole reply was read (an error reply too): the connection
            // is ready for the next command.
            if matches!(reply, Ok(_) | Err(RedisError::Server(_))) {
                *slot = Some(connection);
            }
            reply
        })
        .await
        .unwrap_or(Err(RedisError::Timeout))
    }
}

struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    async fn open(url: &RedisUrl) -> Result<Self, RedisError> {
        let stream = TcpStream::connect((url.host.as_str(), url.port)).await?;
        stream.set_nodelay(true)?;
        let mut connection = Connection { stream: BufReader::new(stream) };
        if let Some(password) = &url.password {
            let mut auth: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &url.username {
                auth.push(user.as_bytes());
            }
            auth.push(password.as_bytes());
            connection.send(&auth).await?;
            connection.read().await?;
        }
        if url.db != 0 {
            let db = url.db.to_string();
            connection.send(&[b"SELECT", db.as_bytes()]).await?;
            connection.read().await?;
        }
        Ok(connection)
    }

    async fn send(&mut self, args: &[&[u8]]) -> Result<(), RedisError> {
        let mut frame = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
        frame.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for arg in args {
            frame.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            frame.extend_from_slice(arg);
            frame.extend_from_slice(b"\r\n");
        }
        self.stream.get_mut().write_all(&frame).await?;
        Ok(())
    }

    /// Reads one reply; an error reply is [`RedisError::Server`].
    async fn read(&mut self) -> Result<Reply, RedisError> {
        match self.read_value().await? {
            Err(message) => Err(RedisError::Server(message)),
            Ok(reply) => Ok(reply),
        }
    }

    async fn read_value(&mut self) -> Result<Result<Reply, String>, RedisError> {
        let line = self.line().await?;
        let mut chars = line.chars();
        let kind = chars.next().ok_or(RedisError::Protocol("an empty line"))?;
        let rest = chars.as_str();
        Ok(Ok(match kind {
            '+' => Reply::Status(rest.to_string()),
            '-' => return Ok(Err(rest.to_string())),
            ':' => Reply::Int(rest.parse().map_err(|_| RedisError::Protocol("a number that is not one"))?),
            '$' => {
                let len: i64 = rest.parse().map_err(|_| RedisError::Protocol("a length that is not a number"))?;
                let Ok(len) = usize::try_from(len) else { return Ok(Ok(Reply::Nil)) };
                if len > MAX_BULK {
                    return Err(RedisError::Protocol("a reply too long"));
                }
                let mut bytes = vec![0; len + 2];
                self.stream.read_exact(&mut bytes).await?;
                if !bytes.ends_with(b"\r\n") {
                    return Err(RedisError::Protocol("a bulk reply that does not end as RESP's do"));
                }
                bytes.truncate(len);
                Reply::Bulk(bytes)
            }
            '*' => {
                let len: i64 = rest.parse().map_err(|_| RedisError::Protocol("a length that is not a number"))?;
                let Ok(len) = usize::try_from(len) else { return Ok(Ok(Reply::Nil)) };
                let mut items = Vec::with_capacity(len.min(64));
                let mut error = None;
                for _ in 0..len {
                    // Read to the end even past an error inside (a
                    // script's), so the connection stays in step.
                    match Box::pin(self.read_value()).await? {
                        Ok(item) => items.push(item),
                        Err(message) => error = error.or(Some(message)),
                    }
                }
                match error {
                    Some(message) => return Ok(Err(message)),
                    None => Reply::Array(items),
                }
            }
            _ => return Err(RedisError::Protocol("a reply of an unknown kind")),
        }))
    }

    async fn line(&mut self) -> Result<String, RedisError> {
        let mut line = String::new();
        let n = (&mut self.stream).take(MAX_BULK as u64).read_line(&mut line).await?;
        if n == 0 {
            return Err(RedisError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if !line.ends_with("\r\n") || line.len() < 3 {
            return Err(RedisError::Protocol("a line that does not end as RESP's do"));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_url_is_read_with_its_parts_and_printed_without_its_password() {
        let url = RedisUrl::parse("redis://huddle:s3cr%40t@cache.internal:6380/2").unwrap();
        assert_eq!((url.host.as_str(), url.port, url.db), ("cache.internal", 6380, 2));
        assert_eq!((url.username.as_deref(), url.password.as_deref()), (Some("huddle"), Some("s3cr@t")));
        assert_eq!(url.to_string(), "redis://huddle:****@cache.internal:6380/2");
        let plain = RedisUrl::parse("redis://127.0.0.1").unwrap();
        assert_eq!((plain.port, plain.db, plain.password), (6379, 0, None));
        assert_eq!(RedisUrl::parse("redis://:pw@h/0").unwrap().to_string(), "redis://:****@h:6379/0");
        for bad in ["rediss://h", "http://h", "redis://", "redis://h:port", "redis://h/x"] {
            assert!(RedisUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

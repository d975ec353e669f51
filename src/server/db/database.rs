//! `HUDDLE_DATABASE`: a SQLite file, or a PostgreSQL server; and
//! `HUDDLE_NODE_ID`, a server's name among several sharing one.

use std::fmt;
use std::path::PathBuf;

/// Where Huddle keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created if missing (the default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; anything else
    /// is a SQLite file's path.
    pub fn parse(raw: &str) -> Self {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Database::Postgres(raw.to_string())
        } else {
            Database::Sqlite(PathBuf::from(raw))
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

/// The path, or the URL with any password replaced by `****` (it is printed
/// by `--check-config` and at start).
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&masked(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `url` without its password: the one in `user:password@`, and a
/// `password=` query parameter.
fn masked(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority_end, _) = rest.char_indices().find(|(_, c)| matches!(c, '/' | '?')).unwrap_or((rest.len(), ' '));
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:****@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> =
                query.split('&').map(|pair| if pair.starts_with("password=") { "password=****".to_string() } else { pair.to_string() }).collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// A server's name among several sharing one database: lower-case ASCII
/// letters, digits and `-`, 1 to 32 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeId(String);

impl NodeId {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let fits = (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if fits {
            Ok(Self(raw.to_string()))
        } else {
            Err("is not a node name: 1 to 32 of a-z, 0-9 and -")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for NodeId {
    fn default() -> Self {
        Self("main".into())
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_postgres_and_its_password_is_never_shown() {
        assert_eq!(Database::parse("./data/huddle.db"), Database::Sqlite("./data/huddle.db".into()));
        assert_eq!(Database::parse("/var/lib/huddle/postgres.db").to_string(), "/var/lib/huddle/postgres.db");
        let url = Database::parse("postgres://huddle:s3cret@db.internal:5432/huddle?sslmode=disable&password=other");
        assert!(matches!(url, Database::Postgres(_)));
        let shown = url.to_string();
        assert_eq!(shown, "postgres://huddle:****@db.internal:5432/huddle?sslmode=disable&password=****");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(Database::parse("postgresql://huddle@%2Frun%2Fpostgresql/huddle").to_string(), "postgresql://huddle@%2Frun%2Fpostgresql/huddle");
        assert_eq!(Database::parse("postgres://localhost/huddle").to_string(), "postgres://localhost/huddle");
    }
}

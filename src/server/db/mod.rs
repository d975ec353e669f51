//! The SQLite database: opened with durable settings and migrated on start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Opens (creating if needed) and migrates the database at `path`.
///
/// WAL with `synchronous=FULL`: a write we report as done survives a power
/// cut. Foreign keys on, so a room cannot outlive its host's account.
pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating the database folder {}", dir.display()))?;
    }
    // A new database is its owner's alone (SQLite gives its -wal and -shm
    // files the same mode). One that exists keeps the mode it has.
    match create_private(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating the database {}", path.display())),
    }
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    let (version,): (String,) = sqlx::query_as("SELECT sqlite_version()").fetch_one(&pool).await.context("asking SQLite its version")?;
    check_version(&version)?;
    sqlx::migrate!("./migrations").run(&pool).await.context("migrating the database")?;
    Ok(pool)
}

/// The oldest SQLite Huddle runs on: its tables are `STRICT` (3.37). Huddle
/// links the system's SQLite (`libsqlite3`), so an older distribution's
/// stops start-up with a sentence rather than a syntax error mid-migration.
const OLDEST_SQLITE: (u32, u32) = (3, 37);

fn check_version(version: &str) -> anyhow::Result<()> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let found = (parts.next().flatten(), parts.next().flatten());
    match found {
        (Some(major), Some(minor)) if (major, minor) >= OLDEST_SQLITE => Ok(()),
        _ => anyhow::bail!(
            "this machine's SQLite is {version}, and Huddle needs {}.{} or newer (its tables are STRICT): install a newer libsqlite3",
            OLDEST_SQLITE.0,
            OLDEST_SQLITE.1
        ),
    }
}

/// Creates `path` as a new, empty file readable and writable by its owner
/// only, whatever the umask; fails if it exists.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::check_version;

    #[test]
    fn an_sqlite_older_than_strict_tables_is_refused_with_its_version() {
        assert!(check_version("3.40.1").is_ok());
        assert!(check_version("3.37.0").is_ok());
        assert!(check_version("4.0.0").is_ok());
        let old = check_version("3.34.1").unwrap_err().to_string();
        assert!(old.contains("3.34.1") && old.contains("3.37"), "{old}");
        assert!(check_version("garbage").is_err());
    }
}

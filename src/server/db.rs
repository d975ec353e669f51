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
    sqlx::migrate!("./migrations").run(&pool).await.context("migrating the database")?;
    Ok(pool)
}

/// Creates `path` as a new, empty file readable and writable by its owner
/// only, whatever the umask; fails if it exists.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map(drop)
}

//! The database, SQLite or PostgreSQL: opened (SQLite with durable
//! settings), checked for its version and migrated on start; each start of
//! a server counted in it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use anyhow::Context;
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[cfg(feature = "postgres")]
pub mod copy;
mod database;
pub mod sql;
pub use database::{Database, NodeId};
pub use sql::{Db, Tx};

/// Opens and migrates `database`.
pub async fn open(database: &Database) -> anyhow::Result<Db> {
    match database {
        Database::Sqlite(path) => open_sqlite(path).await,
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => open_postgres(url, database).await,
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => anyhow::bail!(
            "HUDDLE_DATABASE={database} is a PostgreSQL database, and this build of Huddle has SQLite only: build it with --features ssr,postgres (docs/deploy.md)"
        ),
    }
}

#[cfg(feature = "postgres")]
/// Connects to the PostgreSQL server at `url` (`shown`: the same with its
/// password masked, for errors) and migrates the database.
async fn open_postgres(url: &str, shown: &Database) -> anyhow::Result<Db> {
    let options = PgConnectOptions::from_str(url).with_context(|| format!("HUDDLE_DATABASE={shown} is not a PostgreSQL URL Huddle can read"))?;
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.application_name("huddle"))
        .await
        .with_context(|| format!("connecting to the database {shown}"))?;
    let (version,): (String,) = sqlx::query_as("SHOW server_version_num").fetch_one(&pool).await.context("asking PostgreSQL its version")?;
    check_postgres_version(&version)?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await.context("migrating the database")?;
    Ok(Db::Postgres(pool))
}

#[cfg(feature = "postgres")]
/// The oldest PostgreSQL Huddle runs on (identity columns, `EXECUTE
/// FUNCTION` triggers; the tests' `DROP DATABASE … WITH (FORCE)`).
const OLDEST_POSTGRES: u32 = 13;

#[cfg(feature = "postgres")]
fn check_postgres_version(version_num: &str) -> anyhow::Result<()> {
    match version_num.trim().parse::<u32>() {
        Ok(n) if n / 10_000 >= OLDEST_POSTGRES => Ok(()),
        _ => anyhow::bail!("the PostgreSQL server is version {version_num} (server_version_num), and Huddle needs {OLDEST_POSTGRES} or newer"),
    }
}

/// Opens (creating if needed) and migrates the SQLite database at `path`.
///
/// WAL with `synchronous=FULL`: a write we report as done survives a power
/// cut. Foreign keys on, so a room cannot outlive its host's account.
async fn open_sqlite(path: &Path) -> anyhow::Result<Db> {
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
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("migrating the database")?;
    Ok(Db::Sqlite(pool))
}

/// Counts this start among every server's sharing the database (one row
/// in `instances`, never reused) and returns the first participant id this
/// run hands out: the start's number is the ids' high half, so no two runs,
/// on one server or on several, give two people the same id.
pub async fn count_start(db: &Db, node: &NodeId, now: jiff::Timestamp) -> anyhow::Result<u64> {
    let (start,): (i64,) = sql::query_as("INSERT INTO instances (node, started_at) VALUES ($1, $2) RETURNING id")
        .bind(node.as_str())
        .bind(now.to_string())
        .fetch_one(db)
        .await
        .context("counting this start in the database")?;
    first_participant_id(start)
}

/// How many starts participant ids have room for: a start's ids are
/// `start << 32 | n`, and below 2^53 a browser's JavaScript reads them
/// exactly.
const STARTS: i64 = 1 << 21;

fn first_participant_id(start: i64) -> anyhow::Result<u64> {
    if !(1..STARTS).contains(&start) {
        anyhow::bail!("the database has counted {start} server starts (table instances), and participant ids have room for {}", STARTS - 1);
    }
    Ok(((start as u64) << 32) | 1)
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
    use super::{check_version, first_participant_id};

    #[cfg(feature = "postgres")]
    #[test]
    fn a_postgresql_older_than_13_is_refused_with_its_version() {
        use super::check_postgres_version;
        assert!(check_postgres_version("150008").is_ok());
        assert!(check_postgres_version("130000").is_ok());
        let old = check_postgres_version("120017").unwrap_err().to_string();
        assert!(old.contains("120017") && old.contains("13"), "{old}");
        assert!(check_postgres_version("garbage").is_err());
    }

    /// Every version a SQLite database has is a PostgreSQL one too, from the
    /// PostgreSQL folder's first (its baseline) on: a migration added to one
    /// folder only fails here.
    #[test]
    fn both_databases_have_the_same_migrations_from_the_postgresql_baseline_on() {
        let sqlite: Vec<i64> = sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect();
        let postgres: Vec<i64> = sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).collect();
        let baseline = postgres[0];
        assert!(sqlite.contains(&baseline), "the baseline is a SQLite version");
        let after: Vec<i64> = sqlite.iter().copied().filter(|v| *v >= baseline).collect();
        assert_eq!(postgres, after);
    }

    #[test]
    fn each_start_hands_out_ids_of_its_own_that_javascript_reads_exactly() {
        assert_eq!(first_participant_id(1).unwrap(), (1 << 32) + 1);
        assert_eq!(first_participant_id(2).unwrap() >> 32, 2);
        let last = first_participant_id((1 << 21) - 1).unwrap();
        assert_eq!(last | u64::from(u32::MAX), (1 << 53) - 1, "the last start's last id");
        assert!(first_participant_id(1 << 21).unwrap_err().to_string().contains("instances"));
        assert!(first_participant_id(0).is_err());
    }

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

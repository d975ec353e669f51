//! `huddle backup FILE`: a consistent copy of the database while Huddle
//! runs. SQLite's `VACUUM INTO` writes a snapshot of one read transaction
//! (every write committed before it began, none after), compacted, into a
//! new file; Huddle's own writes carry on meanwhile (WAL).
//!
//! To restore: stop Huddle, move the copy to `HUDDLE_DATABASE` (removing any
//! `-wal` and `-shm` files beside the old one), start Huddle
//! (`docs/deploy.md`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;

use crate::server::db::Database;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Copies the SQLite database at `database` into the new file `to`; returns
/// its size in bytes. Neither a missing database nor an existing `to` is
/// touched: both are errors saying so, as is a PostgreSQL database (its own
/// tools back it up).
pub async fn backup(database: &Database, to: &Path) -> anyhow::Result<u64> {
    let database = match database {
        Database::Sqlite(path) => path.as_path(),
        Database::Postgres(_) => anyhow::bail!(
            "HUDDLE_DATABASE is a PostgreSQL database: back it up with PostgreSQL's own pg_dump (umask 077; pg_dump --format=custom --file=FILE URL), see docs/deploy.md"
        ),
    };
    if !database.exists() {
        anyhow::bail!("there is no database at {} (HUDDLE_DATABASE)", database.display());
    }
    if to.exists() {
        anyhow::bail!("{} already exists; a backup is written to a new file", to.display());
    }
    let target = to.to_str().with_context(|| format!("{} is not a path SQLite can take", to.display()))?;
    // Made here, empty and readable by its owner alone (VACUUM INTO takes
    // an empty file): the copy holds accounts, rooms and records, and left
    // to the umask it was readable by everyone on the machine.
    crate::server::db::create_private(to).with_context(|| format!("creating {}", to.display()))?;
    let mut connection = SqliteConnectOptions::from_str("sqlite:")?
        .filename(database)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("opening the database {}", database.display()))?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut connection)
        .await
        .with_context(|| format!("copying the database into {}", to.display()));
    if let Err(e) = copied {
        // Not left behind half made (or empty) for the next try to refuse.
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    connection.close().await.ok();
    let size = std::fs::metadata(to).with_context(|| format!("reading back {}", to.display()))?.len();
    Ok(size)
}

//! `huddle copy-to-postgres URL`: an existing deployment's SQLite data
//! moved into an empty PostgreSQL database, every table row for row (ids
//! kept, so links, sessions and records still point where they did), then
//! read back from both and compared before it says it is done.
//!
//! Huddle should be stopped meanwhile: the copy reads one consistent
//! snapshot of the SQLite file, and anything written after it began is not
//! in it.

use std::collections::BTreeSet;
use std::str::FromStr;

use anyhow::{bail, Context};
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Arguments, ConnectOptions, Connection, Row};

use super::Database;

/// Every table, parents before the tables that point at them.
const TABLES: [&str; 11] = [
    "accounts",
    "rooms",
    "scheduled_sessions",
    "attendance",
    "kept_chat",
    "polls",
    "boards",
    "known_devices",
    "audit_events",
    "instances",
    "sessions",
];

/// SQLite columns the PostgreSQL schema left out, being read by nothing.
const LEFT_OUT: [(&str, &str); 1] = [("rooms", "max_participants")];

/// One column as PostgreSQL has it.
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
    /// `timestamptz`: RFC 3339 text in SQLite.
    Time,
}

/// Copies the SQLite database `from` into the PostgreSQL database at `to`
/// (created by Huddle's migrations if empty; refused if it holds any
/// rows). Returns each table with its number of rows, after comparing
/// every row of both.
pub async fn copy_to_postgres(from: &Database, to: &str) -> anyhow::Result<Vec<(&'static str, usize)>> {
    let Database::Sqlite(path) = from else { bail!("HUDDLE_DATABASE must be the SQLite file to copy from, not a PostgreSQL database") };
    if !path.exists() {
        bail!("there is no database at {} (HUDDLE_DATABASE)", path.display());
    }
    let target = Database::parse(to);
    if !matches!(target, Database::Postgres(_)) {
        bail!("the database to copy into must be a postgres:// URL");
    }
    // Huddle's own schema, made by its migrations; the SQLite file brought
    // up to date too, so both have every column.
    let Super(pg_pool) = Super::open(&target).await?;
    super::open(from).await?.close().await;
    let mut pg = pg_pool.acquire().await?.detach();
    let mut lite = SqliteConnectOptions::from_str("sqlite:")?.filename(path).read_only(true).connect().await.context("opening the SQLite file")?;
    // Every table of the schema is one the copy knows (a new one must be
    // added to TABLES, or it would silently stay behind).
    let (tables,): (Vec<String>,) = sqlx::query_as(
        "SELECT coalesce(array_agg(table_name::text ORDER BY table_name), '{}') FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_one(&mut pg)
    .await?;
    let mut known: Vec<&str> = TABLES.to_vec();
    known.sort_unstable();
    if tables.iter().map(String::as_str).collect::<Vec<_>>() != known {
        bail!("the PostgreSQL schema's tables {tables:?} are not those the copy knows {known:?}");
    }
    for table in TABLES {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut pg).await?;
        if n > 0 {
            bail!("the PostgreSQL database already holds data ({n} rows in {table}); copy into an empty one");
        }
    }
    // One snapshot of the SQLite file, one transaction in PostgreSQL.
    sqlx::query("BEGIN").execute(&mut lite).await?;
    let mut tx = pg.begin().await?;
    let mut counts = Vec::new();
    for table in TABLES {
        let columns = columns(&mut tx, table).await?;
        check_columns(&mut lite, table, &columns).await?;
        let rows = read_sqlite(&mut lite, table, &columns).await?;
        for row in &rows {
            insert(&mut tx, table, &columns, row).await.with_context(|| format!("copying a row of {table}"))?;
        }
        if columns.iter().any(|c| c.name == "id" && c.kind == Kind::Int) && !rows.is_empty() {
            // New ids continue after the copied ones.
            sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")).execute(&mut *tx).await?;
        }
        counts.push((table, rows.len()));
    }
    // Read back from both and compared, row for row, before it counts: a
    // difference leaves the PostgreSQL database as empty as it was.
    for (table, _) in &counts {
        let columns = columns(&mut tx, table).await?;
        let here = read_sqlite(&mut lite, table, &columns).await?;
        let there = read_postgres(&mut tx, table, &columns).await?;
        if here != there {
            let first = here.iter().zip(&there).position(|(a, b)| a != b).unwrap_or(here.len().min(there.len()));
            bail!("{table} differs after the copy (row {first}; {} rows here, {} there); nothing was kept", here.len(), there.len());
        }
    }
    tx.commit().await.context("committing the copy")?;
    sqlx::query("COMMIT").execute(&mut lite).await?;
    Ok(counts)
}

/// The PostgreSQL pool of a database opened (and migrated) as Huddle does.
struct Super(sqlx::PgPool);

impl Super {
    async fn open(database: &Database) -> anyhow::Result<Super> {
        match super::open(database).await? {
            super::Db::Postgres(pool) => Ok(Super(pool)),
            super::Db::Sqlite(_) => bail!("expected a PostgreSQL database"),
        }
    }
}

/// `table`'s columns in PostgreSQL, in their order.
async fn columns(pg: &mut PgConnection, table: &str) -> anyhow::Result<Vec<Column>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position")
            .bind(table)
            .fetch_all(&mut *pg)
            .await?;
    rows.into_iter()
        .map(|(name, kind)| {
            let kind = match kind.as_str() {
                "bigint" => Kind::Int,
                "boolean" => Kind::Bool,
                "text" => Kind::Text,
                "bytea" => Kind::Bytes,
                "timestamp with time zone" => Kind::Time,
                other => bail!("{table}.{name} is a {other}, which the copy does not know"),
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// Every PostgreSQL column is in SQLite, and SQLite has none the copy
/// would leave behind (but those the PostgreSQL schema dropped).
async fn check_columns(lite: &mut SqliteConnection, table: &str, columns: &[Column]) -> anyhow::Result<()> {
    let names: Vec<(String,)> = sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')")).fetch_all(&mut *lite).await?;
    let here: BTreeSet<String> = names.into_iter().map(|(n,)| n).collect();
    let there: BTreeSet<String> = columns.iter().map(|c| c.name.clone()).collect();
    let left_out: BTreeSet<String> = LEFT_OUT.iter().filter(|(t, _)| *t == table).map(|(_, c)| c.to_string()).collect();
    let missing: Vec<&String> = there.difference(&here).collect();
    let behind: Vec<&String> = here.difference(&there).filter(|c| !left_out.contains(*c)).collect();
    if !missing.is_empty() || !behind.is_empty() {
        bail!("{table}: the two schemas differ (only in PostgreSQL: {missing:?}; only in SQLite: {behind:?})");
    }
    Ok(())
}

/// One value, as both databases can give it and compare it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    /// Microseconds since the epoch (PostgreSQL keeps no finer).
    Time(i64),
}

async fn read_sqlite(lite: &mut SqliteConnection, table: &str, columns: &[Column]) -> anyhow::Result<Vec<Vec<Value>>> {
    let list = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let rows: Vec<SqliteRow> = sqlx::query(&format!("SELECT {list} FROM {table}")).fetch_all(&mut *lite).await?;
    // SQLite keeps booleans as 0 or 1, and times as RFC 3339 text.
    sorted(&rows, columns, |row, i, c| {
        Ok(match c.kind {
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Int),
            Kind::Bool => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, |n| Value::Bool(n != 0)),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::Text),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Value::Null, Value::Bytes),
            Kind::Time => match row.try_get::<Option<String>, _>(i)? {
                None => Value::Null,
                Some(text) => Value::Time(micros(&text).with_context(|| format!("{table}.{}: {text:?} is not a time", c.name))?),
            },
        })
    })
}

async fn read_postgres(pg: &mut PgConnection, table: &str, columns: &[Column]) -> anyhow::Result<Vec<Vec<Value>>> {
    let list = columns
        .iter()
        .map(|c| match c.kind {
            Kind::Time => format!("(extract(epoch FROM {0}) * 1000000)::bigint AS {0}", c.name),
            _ => c.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<PgRow> = sqlx::query(&format!("SELECT {list} FROM {table}")).fetch_all(&mut *pg).await?;
    sorted(&rows, columns, |row, i, c| {
        Ok(match c.kind {
            Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Int),
            Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map_or(Value::Null, Value::Bool),
            Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::Text),
            Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Value::Null, Value::Bytes),
            Kind::Time => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Time),
        })
    })
}

/// Every row read with `cell` (a row, a column's index, the column), sorted
/// alike on both sides (the databases' collations differ).
fn sorted<R>(rows: &[R], columns: &[Column], cell: impl Fn(&R, usize, &Column) -> anyhow::Result<Value>) -> anyhow::Result<Vec<Vec<Value>>> {
    let mut values = rows
        .iter()
        .map(|row| columns.iter().enumerate().map(|(i, c)| cell(row, i, c)).collect::<anyhow::Result<Vec<Value>>>())
        .collect::<anyhow::Result<Vec<_>>>()?;
    values.sort();
    Ok(values)
}

async fn insert(pg: &mut PgConnection, table: &str, columns: &[Column], row: &[Value]) -> anyhow::Result<()> {
    let names = columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let values = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.kind == Kind::Time {
                format!("'epoch'::timestamptz + ${}::bigint * interval '1 microsecond'", i + 1)
            } else {
                format!("${}", i + 1)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut args = PgArguments::default();
    for (value, column) in row.iter().zip(columns) {
        match (value, column.kind) {
            (Value::Null, Kind::Int | Kind::Time) => args.add(None::<i64>),
            (Value::Null, Kind::Bool) => args.add(None::<bool>),
            (Value::Null, Kind::Text) => args.add(None::<String>),
            (Value::Null, Kind::Bytes) => args.add(None::<Vec<u8>>),
            (Value::Int(n) | Value::Time(n), _) => args.add(*n),
            (Value::Bool(b), _) => args.add(*b),
            (Value::Text(s), _) => args.add(s.clone()),
            (Value::Bytes(b), _) => args.add(b.clone()),
        }
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    sqlx::query_with(&format!("INSERT INTO {table} ({names}) OVERRIDING SYSTEM VALUE VALUES ({values})"), args).execute(&mut *pg).await?;
    Ok(())
}

/// An RFC 3339 time (as the session store writes it) in microseconds
/// since the epoch, finer digits dropped as PostgreSQL drops them.
fn micros(text: &str) -> anyhow::Result<i64> {
    let at: jiff::Timestamp = text.trim().parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(at.as_microsecond())
}

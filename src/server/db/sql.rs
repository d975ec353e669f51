//! One SQL text for the database, SQLite or PostgreSQL: statements are
//! written once with numbered parameters (`$1`, `$2`, …, which SQLite binds
//! by number too) and run through [`Db`], a pool, or [`Tx`], a transaction.
//! Where the two dialects differ (few places), the caller asks
//! [`Db::is_postgres`].
//! Call sites read as sqlx's own do:
//!
//! ```text
//! let (id,): (i64,) = sql::query_as("SELECT id FROM rooms WHERE slug = $1").bind(slug).fetch_one(db).await?;
//! ```
//!
//! Values are carried as [`Arg`]s (integers, text, booleans, bytes), the
//! few kinds Huddle stores; rows decode through sqlx's `FromRow`.

use std::borrow::Cow;
use std::marker::PhantomData;

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqlitePool, SqliteRow};
use sqlx::{Arguments, FromRow};

use crate::domain::AccountId;

/// The database: a pool of connections.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// A transaction under way; dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Db {
    /// Whether this is PostgreSQL (for the few statements whose text differs).
    pub fn is_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        return matches!(self, Db::Postgres(_));
        #[cfg(not(feature = "postgres"))]
        false
    }

    /// A transaction that reads and may write.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        match self {
            Db::Sqlite(pool) => Ok(Tx::Sqlite(pool.begin().await?)),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// A transaction that will write. On SQLite it holds the write lock from
    /// its first statement (`BEGIN IMMEDIATE`), so what it read stays true
    /// until it commits; on PostgreSQL the rows it must hold are locked by
    /// the statements themselves (`SELECT … FOR UPDATE`).
    pub async fn begin_write(&self) -> sqlx::Result<Tx> {
        match self {
            Db::Sqlite(pool) => Ok(Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?)),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// Closes every connection (a server stopping).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Whether this is PostgreSQL (for the few statements whose text differs).
    pub fn is_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        return matches!(self, Tx::Postgres(_));
        #[cfg(not(feature = "postgres"))]
        false
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// Where a statement runs: the pool, or a transaction.
pub enum On<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for On<'a> {
    fn from(db: &'a Db) -> Self {
        On::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for On<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        On::Tx(tx)
    }
}

/// A value for one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<AccountId> for Arg {
    fn from(v: AccountId) -> Self {
        Arg::Int(Some(v.0))
    }
}
impl From<Option<AccountId>> for Arg {
    fn from(v: Option<AccountId>) -> Self {
        Arg::Int(v.map(|a| a.0))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}

/// A statement and its values.
#[derive(Debug, Clone)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// A statement whose rows are read as `T`.
pub struct QueryAs<T> {
    query: Query,
    row: PhantomData<fn() -> T>,
}

/// A statement run for its effect.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

/// A statement whose rows are read as `T` (a tuple, or a `FromRow` type).
pub fn query_as<T>(sql: impl Into<Cow<'static, str>>) -> QueryAs<T> {
    QueryAs { query: query(sql), row: PhantomData }
}

/// What a row type must be to be read from either database.
#[cfg(feature = "postgres")]
pub trait Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
#[cfg(feature = "postgres")]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
/// What a row type must be to be read from the database.
#[cfg(not(feature = "postgres"))]
pub trait Row: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}
#[cfg(not(feature = "postgres"))]
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

impl Query {
    /// The next parameter's value (`$1`, then `$2`, …).
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Runs the statement; how many rows it changed.
    pub async fn execute<'a>(self, on: impl Into<On<'a>>) -> sqlx::Result<u64> {
        let Query { sql, args } = self;
        Ok(match on.into() {
            On::Pool(Db::Sqlite(pool)) => sqlx::query_with(&sql, arguments::<Sqlite>(&sql, args)?).execute(pool).await?.rows_affected(),
            On::Tx(Tx::Sqlite(tx)) => sqlx::query_with(&sql, arguments::<Sqlite>(&sql, args)?).execute(&mut **tx).await?.rows_affected(),
            #[cfg(feature = "postgres")]
            On::Pool(Db::Postgres(pool)) => sqlx::query_with(&sql, arguments::<Postgres>(&sql, args)?).execute(pool).await?.rows_affected(),
            #[cfg(feature = "postgres")]
            On::Tx(Tx::Postgres(tx)) => sqlx::query_with(&sql, arguments::<Postgres>(&sql, args)?).execute(&mut **tx).await?.rows_affected(),
        })
    }
}

/// `sql`'s values `args` as database `DB` takes them (moved, not copied).
fn arguments<DB: sqlx::Database>(sql: &str, args: Vec<Arg>) -> sqlx::Result<<DB as sqlx::Database>::Arguments<'static>>
where
    Option<i64>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
{
    debug_assert_eq!(highest_parameter(sql), args.len(), "parameters of {sql:?}");
    let mut out = <DB as sqlx::Database>::Arguments::<'static>::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// Runs `$method` of a `query_as_with` statement on whichever database `$on`
/// is, with the values `$query` holds.
macro_rules! fetch {
    ($query:expr, $on:expr, $method:ident) => {{
        let Query { sql, args } = $query;
        match $on.into() {
            On::Pool(Db::Sqlite(pool)) => sqlx::query_as_with::<Sqlite, T, _>(&sql, arguments::<Sqlite>(&sql, args)?).$method(pool).await,
            On::Tx(Tx::Sqlite(tx)) => sqlx::query_as_with::<Sqlite, T, _>(&sql, arguments::<Sqlite>(&sql, args)?).$method(&mut **tx).await,
            #[cfg(feature = "postgres")]
            On::Pool(Db::Postgres(pool)) => sqlx::query_as_with::<Postgres, T, _>(&sql, arguments::<Postgres>(&sql, args)?).$method(pool).await,
            #[cfg(feature = "postgres")]
            On::Tx(Tx::Postgres(tx)) => sqlx::query_as_with::<Postgres, T, _>(&sql, arguments::<Postgres>(&sql, args)?).$method(&mut **tx).await,
        }
    }};
}

impl<T: Row> QueryAs<T> {
    /// The next parameter's value (`$1`, then `$2`, …).
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.query = self.query.bind(value);
        self
    }

    /// The one row; an error if there is none.
    pub async fn fetch_one<'a>(self, on: impl Into<On<'a>>) -> sqlx::Result<T> {
        fetch!(self.query, on, fetch_one)
    }

    /// The first row, if any.
    pub async fn fetch_optional<'a>(self, on: impl Into<On<'a>>) -> sqlx::Result<Option<T>> {
        fetch!(self.query, on, fetch_optional)
    }

    /// Every row.
    pub async fn fetch_all<'a>(self, on: impl Into<On<'a>>) -> sqlx::Result<Vec<T>> {
        fetch!(self.query, on, fetch_all)
    }
}

/// The highest `$n` in `sql`: a statement given fewer values than that
/// would bind NULL on SQLite (and fail elsewhere); given more, one is
/// ignored. A `?` parameter would be numbered apart from them, so none is
/// allowed outside a quoted string.
fn highest_parameter(sql: &str) -> usize {
    let mut highest = 0;
    let mut quoted = false;
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'?' if !quoted => return usize::MAX,
            b'$' if !quoted => {
                let digits = bytes[i + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                if let Ok(n) = sql[i + 1..i + 1 + digits].parse::<usize>() {
                    highest = highest.max(n);
                }
                i += digits;
            }
            _ => {}
        }
        i += 1;
    }
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_by_their_highest_number_outside_quotes() {
        assert_eq!(highest_parameter("SELECT 1"), 0);
        assert_eq!(highest_parameter("UPDATE t SET a = $2 WHERE id = $1 AND b = $2"), 2);
        assert_eq!(highest_parameter("SELECT id FROM rooms WHERE passcode NOT LIKE '$argon2id$%' AND id = $1"), 1);
        assert_eq!(highest_parameter("SELECT $10, $9"), 10);
        assert_eq!(highest_parameter("SELECT * FROM t WHERE a = ?"), usize::MAX, "a ? is refused");
    }

    #[tokio::test]
    async fn one_text_with_numbered_parameters_binds_them_by_number() {
        let db = Db::Sqlite(SqlitePool::connect("sqlite::memory:").await.unwrap());
        query("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER, d BLOB)").execute(&db).await.unwrap();
        let changed = query("INSERT INTO t (b, a, c, d) VALUES ($2, $1, $3, $4)")
            .bind(7)
            .bind("seven")
            .bind(true)
            .bind(vec![1u8, 2])
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(changed, 1);
        let mut tx = db.begin().await.unwrap();
        query("INSERT INTO t (a, b, c) VALUES ($1, $2, $3)").bind(None::<i64>).bind(None::<String>).bind(false).execute(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let rows: Vec<(Option<i64>, Option<String>, bool)> = query_as("SELECT a, b, c FROM t ORDER BY rowid").fetch_all(&db).await.unwrap();
        assert_eq!(rows, [(Some(7), Some("seven".into()), true), (None, None, false)]);
        let (bytes,): (Vec<u8>,) = query_as("SELECT d FROM t WHERE a = $1").bind(7).fetch_one(&db).await.unwrap();
        assert_eq!(bytes, [1, 2]);
        let none: Option<(i64,)> = query_as("SELECT a FROM t WHERE b = $1").bind("eight").fetch_optional(&db).await.unwrap();
        assert_eq!(none, None);
        // A rolled-back transaction leaves nothing.
        let mut tx = db.begin_write().await.unwrap();
        query("DELETE FROM t").execute(&mut tx).await.unwrap();
        tx.rollback().await.unwrap();
        let (n,): (i64,) = query_as("SELECT count(*) FROM t").fetch_one(&db).await.unwrap();
        assert_eq!(n, 2);
    }
}

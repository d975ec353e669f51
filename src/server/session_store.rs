//! Session ids at rest: the browser's cookie holds the session id, the
//! database only a SHA-256 of it (as for known devices). A copy of the
//! database (a backup, a stolen disk) then holds no id that signs anyone
//! in: before, an id read from a backup and sent as the cookie signed in
//! as its owner.
//!
//! [`HashedIds`] wraps the store ([`Backend`]: tower-sessions' SQLite or
//! PostgreSQL one, whichever the database is): every id it is given is replaced
//! by its hash on the way in, and the caller's own id put back on the way
//! out, so the rest of Huddle (and tower-sessions) never sees the change.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Result, SessionStore};

/// tower-sessions' store for the database Huddle runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite(tower_sessions_sqlx_store::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(tower_sessions_sqlx_store::PostgresStore),
}

#[async_trait]
impl SessionStore for Backend {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match self {
            Backend::Sqlite(store) => store.create(record).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self {
            Backend::Sqlite(store) => store.save(record).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        match self {
            Backend::Sqlite(store) => store.load(id).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match self {
            Backend::Sqlite(store) => store.delete(id).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.delete(id).await,
        }
    }
}

/// A session store that keeps only hashes of session ids.
#[derive(Debug, Clone)]
pub struct HashedIds<S>(pub S);

/// The id a session is stored under: the first 128 bits of the SHA-256 of
/// its real id. The real id is 128 random bits, so it cannot be guessed
/// back from this.
pub fn stored_id(id: Id) -> Id {
    let digest = Sha256::digest(id.0.to_le_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    Id(i128::from_le_bytes(first))
}

fn hidden(record: &Record) -> Record {
    Record { id: stored_id(record.id), ..record.clone() }
}

#[async_trait]
impl<S: SessionStore + Clone> SessionStore for HashedIds<S> {
    async fn create(&self, record: &mut Record) -> Result<()> {
        loop {
            let mut stored = hidden(record);
            let wanted = stored.id;
            self.0.create(&mut stored).await?;
            if stored.id == wanted {
                return Ok(());
            }
            // The hash was taken (two ids with the same 128 bits of hash: not
            // in practice). The inner store saved the record under an id of
            // its own, whose real id nobody knows: drop it, and try a new id.
            self.0.delete(&stored.id).await?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.0.save(&hidden(record)).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        Ok(self.0.load(&stored_id(*id)).await?.map(|record| Record { id: *id, ..record }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.0.delete(&stored_id(*id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::cookie::time::OffsetDateTime;
    use tower_sessions_sqlx_store::SqliteStore;

    async fn store() -> (HashedIds<SqliteStore>, sqlx::SqlitePool) {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let inner = SqliteStore::new(pool.clone()).with_table_name("sessions").unwrap();
        inner.migrate().await.unwrap();
        (HashedIds(inner), pool)
    }

    fn record() -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("account_id".to_string(), serde_json::json!(7));
        Record { id: Id::default(), data, expiry_date: OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1) }
    }

    #[tokio::test]
    async fn a_session_is_found_by_its_id_and_the_database_holds_only_its_hash() {
        let (store, pool) = store().await;
        let mut record = record();
        store.create(&mut record).await.unwrap();
        let loaded = store.load(&record.id).await.unwrap().expect("found by the real id");
        assert_eq!((loaded.id, loaded.data.get("account_id")), (record.id, Some(&serde_json::json!(7))));
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT id, data FROM sessions").fetch_all(&pool).await.unwrap();
        assert_eq!(rows.len(), 1);
        let real = record.id.to_string();
        assert_eq!(rows[0].0, stored_id(record.id).to_string());
        assert_ne!(rows[0].0, real, "the key is not the id");
        let stored: Record = rmp_serde::from_slice(&rows[0].1).unwrap();
        assert_eq!(stored.id, stored_id(record.id), "nor is the id inside the stored record");
        // What a backup holds, sent back as a cookie, finds nothing.
        let from_backup: Id = rows[0].0.parse().unwrap();
        assert!(store.load(&from_backup).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn saving_and_deleting_go_by_the_real_id() {
        let (store, pool) = store().await;
        let mut record = record();
        store.create(&mut record).await.unwrap();
        record.data.insert("language".into(), serde_json::json!("zh-CN"));
        store.save(&record).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().unwrap().data.contains_key("language"));
        store.delete(&record.id).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&pool).await.unwrap();
        assert_eq!(left, 0);
    }
}

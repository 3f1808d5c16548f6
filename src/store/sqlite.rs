//! SQLite: the embedded default. One file in the data folder, WAL journal (readers never
//! block the writer), `synchronous = NORMAL` (a committed transaction survives the process
//! being killed), a busy timeout so concurrent writers queue instead of failing, and
//! foreign keys on. Every pragma is set here, in one place.

use std::{path::Path, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use uuid::Uuid;

use super::{
    NewInvite, NewRefreshToken, NewUser, RefreshUse, StoreResult, User, UserCredentials, common,
    common::impl_store, map_unique,
};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if missing) the database file at `path`.
    pub async fn open(path: &Path, max_connections: u32) -> anyhow::Result<Self> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// SQLite runs one writer at a time, so the single `INSERT … SELECT NOT EXISTS` that
    /// decides the first administrator is already serialised.
    async fn lock_first_user(_tx: &mut Transaction<'_, Sqlite>) -> StoreResult<()> {
        Ok(())
    }
}

impl_store!(SqliteStore, Sqlite, {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// SQLite keeps all messages in one table: nothing to create.
    async fn ensure_partitions(
        &self,
        _now: DateTime<Utc>,
        _months_ahead: u32,
    ) -> StoreResult<Vec<String>> {
        Ok(Vec::new())
    }

    async fn ensure_partitions_locked(
        &self,
        _now: DateTime<Utc>,
        _months_ahead: u32,
    ) -> StoreResult<Option<Vec<String>>> {
        Ok(Some(Vec::new()))
    }
});

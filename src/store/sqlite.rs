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
    BatchOutcome, Conversation, Member, Message, NewInvite, NewMessage, NewRefreshToken, NewUser, Page, Receipt,
    RefreshUse, StoreResult, User, UserCredentials, common, common::impl_store, map_unique,
};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Open (creating if missing) the database file at `path`.
    pub async fn open(path: &Path, max_connections: u32) -> anyhow::Result<Self> {
        use anyhow::Context;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the data folder {}", dir.display()))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
                }
            }
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
        // The file holds password hashes: readable by its owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
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

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn shared_secret(&self, _name: &str, _candidate: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }

    async fn persist_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        if batch.is_empty() {
            return Ok(BatchOutcome::default());
        }
        // IMMEDIATE: take the write lock up front, so the reads below cannot go stale.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let stored_before = Self::batch_duplicates(&mut tx, batch).await?;
        let members = Self::batch_members(&mut tx, batch).await?;
        let (results, to_store) = common::classify(batch, &stored_before, &members);
        let counts = common::counts(batch, &to_store);
        let mut new_last = std::collections::HashMap::new();
        for (conversation, n, at) in &counts {
            let (last,): (i64,) = sqlx::query_as(
                "UPDATE conversations SET last_seq = last_seq + $2, \
                 last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < $3 THEN $3 ELSE last_message_at END \
                 WHERE id = $1 RETURNING last_seq",
            )
            .bind(conversation)
            .bind(n)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            new_last.insert(*conversation, last);
        }
        let stored = common::number(batch, &to_store, &counts, &new_last);
        for chunk in stored.chunks(common::CHUNK / 8) {
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, kind, body, created_at) ",
            );
            qb.push_values(chunk, |mut t, (_, m)| {
                t.push_bind(m.id)
                    .push_bind(m.conversation_id)
                    .push_bind(m.seq)
                    .push_bind(m.sender_id)
                    .push_bind(m.client_id.clone())
                    .push_bind(m.kind.clone())
                    .push_bind(m.body.clone())
                    .push_bind(m.created_at);
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(BatchOutcome { results: common::complete(batch, results, stored), members })
    }

    /// SQLite keeps all messages in one table: nothing to create.
    async fn ensure_partitions(&self, _now: DateTime<Utc>, _months_ahead: u32) -> StoreResult<Vec<String>> {
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

//! PostgreSQL: the cluster database. `messages` is RANGE-partitioned by month on
//! `created_at`; [`PgStore::ensure_partitions`] creates the months that are missing, under
//! an advisory lock so several nodes starting together never race on the catalog.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use sqlx::{PgPool, Postgres, Transaction, postgres::PgPoolOptions};
use uuid::Uuid;

use super::{
    BatchOutcome, Conversation, Member, Message, NewInvite, NewMessage, NewRefreshToken, NewUser, Page, Receipt,
    RefreshUse, StoreError, StoreResult, User, UserCredentials, common, common::impl_store, map_unique, month_start,
};

/// Advisory lock keys (one namespace for Nexus, `0x4e58` = "NX").
const LOCK_FIRST_USER: i64 = 0x4e58_0001;
const LOCK_PARTITIONS: i64 = 0x4e58_0002;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serialise registrations so that exactly one first user becomes administrator.
    async fn lock_first_user(tx: &mut Transaction<'_, Postgres>) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK_FIRST_USER).execute(&mut **tx).await?;
        Ok(())
    }

    /// Create the missing monthly partitions inside `tx` (which holds the partition lock).
    async fn create_partitions(
        tx: &mut Transaction<'_, Postgres>,
        now: DateTime<Utc>,
        months_ahead: u32,
    ) -> StoreResult<Vec<String>> {
        let mut created = Vec::new();
        for offset in 0..=months_ahead {
            let from = month_start(now, offset);
            let to = month_start(now, offset + 1);
            let name = partition_name(from);
            let exists: Option<String> =
                sqlx::query_scalar("SELECT to_regclass($1)::text").bind(&name).fetch_one(&mut **tx).await?;
            if exists.is_some() {
                continue;
            }
            // Identifiers and bounds come from dates we formatted, never from input.
            let ddl = format!(
                "CREATE TABLE {name} PARTITION OF messages FOR VALUES FROM ('{}') TO ('{}')",
                from.format("%Y-%m-%d %H:%M:%S+00"),
                to.format("%Y-%m-%d %H:%M:%S+00"),
            );
            sqlx::query(sqlx::AssertSqlSafe(ddl)).execute(&mut **tx).await?;
            created.push(name);
        }
        Ok(created)
    }
}

impl PgStore {
    async fn try_persist_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        let mut tx = self.pool.begin().await?;
        // Lock every conversation of the batch first, in id order (no deadlocks). Two
        // nodes storing the same entry (one reclaimed it from the other) then serialise
        // here, and the duplicate check below sees the first one's committed rows.
        // NO KEY UPDATE, like the counter UPDATE itself: a plain FOR UPDATE would also
        // wait for the KEY SHARE locks that foreign-key checks of a receipts flush take on
        // the same conversations, stalling delivery for the whole flush.
        let mut ids: Vec<Uuid> = batch.iter().map(|m| m.conversation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
        let stored_before = Self::batch_duplicates(&mut tx, batch).await?;
        let members = Self::batch_members(&mut tx, batch).await?;
        let (results, to_store) = common::classify(batch, &stored_before, &members);
        let counts = common::counts(batch, &to_store);
        let mut new_last = std::collections::HashMap::new();
        if !counts.is_empty() {
            let n: Vec<i64> = counts.iter().map(|c| c.1).collect();
            let at: Vec<DateTime<Utc>> = counts.iter().map(|c| c.2).collect();
            let ids: Vec<Uuid> = counts.iter().map(|c| c.0).collect();
            let rows: Vec<(Uuid, i64)> = sqlx::query_as(
                "UPDATE conversations AS c SET last_seq = c.last_seq + v.n, \
                 last_message_at = GREATEST(c.last_message_at, v.at) \
                 FROM UNNEST($1::uuid[], $2::int8[], $3::timestamptz[]) AS v(id, n, at) \
                 WHERE c.id = v.id RETURNING c.id, c.last_seq",
            )
            .bind(&ids)
            .bind(&n)
            .bind(&at)
            .fetch_all(&mut *tx)
            .await?;
            new_last.extend(rows);
        }
        let stored = common::number(batch, &to_store, &counts, &new_last);
        if !stored.is_empty() {
            let col = |f: fn(&Message) -> Uuid| stored.iter().map(|(_, m)| f(m)).collect::<Vec<Uuid>>();
            let seqs: Vec<i64> = stored.iter().map(|(_, m)| m.seq).collect();
            let clients: Vec<Option<String>> = stored.iter().map(|(_, m)| m.client_id.clone()).collect();
            let kinds: Vec<String> = stored.iter().map(|(_, m)| m.kind.clone()).collect();
            let bodies: Vec<String> = stored.iter().map(|(_, m)| m.body.clone()).collect();
            let times: Vec<DateTime<Utc>> = stored.iter().map(|(_, m)| m.created_at).collect();
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, kind, body, created_at) \
                 SELECT id, cid, seq, sid, client, kind, body, at \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[]) \
                 AS t(id, cid, seq, sid, client, kind, body, at)",
            )
            .bind(col(|m| m.id))
            .bind(col(|m| m.conversation_id))
            .bind(&seqs)
            .bind(col(|m| m.sender_id))
            .bind(&clients)
            .bind(&kinds)
            .bind(&bodies)
            .bind(&times)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(BatchOutcome { results: common::complete(batch, results, stored), members })
    }
}

/// `messages_y2026m11` for November 2026.
pub fn partition_name(month: DateTime<Utc>) -> String {
    format!("messages_y{:04}m{:02}", month.year(), month.month())
}

impl_store!(PgStore, Postgres, {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&self.pool)
            .await?;
        let (value,): (Vec<u8>,) =
            sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(&self.pool).await?;
        Ok(Some(value))
    }

    async fn persist_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        if batch.is_empty() {
            return Ok(BatchOutcome::default());
        }
        match self.try_persist_batch(batch).await {
            // An insert that finds no partition for its month creates it and retries.
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.message().contains("no partition") => {
                for m in batch {
                    self.ensure_partitions(m.created_at, 0).await?;
                }
                self.try_persist_batch(batch).await
            }
            other => other,
        }
    }

    async fn ensure_partitions(&self, now: DateTime<Utc>, months_ahead: u32) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOCK_PARTITIONS).execute(&mut *tx).await?;
        let created = Self::create_partitions(&mut tx, now, months_ahead).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn ensure_partitions_locked(
        &self,
        now: DateTime<Utc>,
        months_ahead: u32,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.pool.begin().await?;
        let won: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(LOCK_PARTITIONS)
            .fetch_one(&mut *tx)
            .await?;
        if !won {
            return Ok(None);
        }
        let created = Self::create_partitions(&mut tx, now, months_ahead).await?;
        tx.commit().await?;
        Ok(Some(created))
    }
});

//! PostgreSQL: the cluster database. `messages` is RANGE-partitioned by month on
//! `created_at`; [`PgStore::ensure_partitions`] creates the months that are missing, under
//! an advisory lock so several nodes starting together never race on the catalog.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use sqlx::{PgPool, Postgres, Transaction, postgres::PgPoolOptions};
use uuid::Uuid;

use super::{
    NewInvite, NewRefreshToken, NewUser, RefreshUse, StoreResult, User, UserCredentials, common,
    common::impl_store, map_unique, month_start,
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
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_FIRST_USER)
            .execute(&mut **tx)
            .await?;
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
            let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
                .bind(&name)
                .fetch_one(&mut **tx)
                .await?;
            if exists.is_some() {
                continue;
            }
            // Identifiers and bounds come from dates we formatted, never from input.
            let ddl = format!(
                "CREATE TABLE {name} PARTITION OF messages FOR VALUES FROM ('{}') TO ('{}')",
                from.format("%Y-%m-%d %H:%M:%S+00"),
                to.format("%Y-%m-%d %H:%M:%S+00"),
            );
            sqlx::query(sqlx::AssertSqlSafe(ddl))
                .execute(&mut **tx)
                .await?;
            created.push(name);
        }
        Ok(created)
    }
}

/// `messages_y2026m11` for November 2026.
pub fn partition_name(month: DateTime<Utc>) -> String {
    format!("messages_y{:04}m{:02}", month.year(), month.month())
}

impl_store!(PgStore, Postgres, {
    async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ensure_partitions(
        &self,
        now: DateTime<Utc>,
        months_ahead: u32,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_PARTITIONS)
            .execute(&mut *tx)
            .await?;
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

//! Retention on PostgreSQL ([`RetentionStore`]): whole monthly partitions are dropped,
//! never rows. One call handles the oldest partition whose every row is older than the
//! cutoff, on one connection holding the partition advisory lock (so upkeep never creates
//! while retention drops, and one node works at a time), in two transactions:
//!
//! 1. lock the partition's conversations in id order (as message batches do, so neither
//!    waits on the other in a cycle), raise their `expired_seq`, delete the uploads of its
//!    messages; nothing is inserted into a past month, so what this reads stays true;
//! 2. `DETACH PARTITION` and `DROP TABLE`, alone, with a lock timeout: the parent's
//!    exclusive lock is held for as short as possible, and never while waiting on rows.
//!
//! A crash between the two leaves the partition for the next run, which repeats step 1
//! harmlessly (the maximum is kept, the uploads are gone already).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::{LOCK_PARTITIONS, PgStore, partitions};
use crate::store::{Expired, RetentionStore, StoreResult, month_start};

#[async_trait]
impl RetentionStore for PgStore {
    async fn expire_messages(&self, cutoff: DateTime<Utc>, _limit: u32) -> StoreResult<Option<Expired>> {
        let mut conn = self.pool.acquire().await?;
        let won: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LOCK_PARTITIONS).fetch_one(&mut *conn).await?;
        if !won {
            return Ok(None);
        }
        let result = drop_oldest(&mut conn, cutoff).await;
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK_PARTITIONS).execute(&mut *conn).await;
        if unlocked.is_err() {
            // The lock is the session's: a connection that cannot unlock must not go back.
            drop(conn.detach());
        }
        Ok(Some(result?))
    }

    async fn expired_seqs(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>> {
        let rows: Vec<(Uuid, i64)> =
            sqlx::query_as("SELECT id, expired_seq FROM conversations WHERE id = ANY($1) AND expired_seq > 0")
                .bind(conversations)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows)
    }
}

/// Partitions of `messages` whose upper bound is at or before `cutoff`, oldest first.
async fn due(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'messages'::regclass",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut due: Vec<(DateTime<Utc>, String)> = names
        .into_iter()
        .filter_map(|n| partitions::month_of(&n).map(|m| (m, n)))
        .filter(|(month, _)| month_start(*month, 1) <= cutoff)
        .collect();
    due.sort();
    Ok(due.into_iter().map(|(_, n)| n).collect())
}

async fn drop_oldest(conn: &mut PgConnection, cutoff: DateTime<Utc>) -> StoreResult<Expired> {
    let due = due(conn, cutoff).await?;
    let Some(name) = due.first() else { return Ok(Expired::default()) };
    // `name` comes from the catalog and matched `messages_yYYYYmMM`: safe as an identifier.
    let mut tx = conn.begin().await?;
    let per_conversation: Vec<(Uuid, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT conversation_id, MAX(seq), COUNT(*) FROM {name} GROUP BY conversation_id ORDER BY conversation_id"
    )))
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<Uuid> = per_conversation.iter().map(|r| r.0).collect();
    let seqs: Vec<i64> = per_conversation.iter().map(|r| r.1).collect();
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE conversations c SET expired_seq = GREATEST(c.expired_seq, v.seq) \
         FROM UNNEST($1::uuid[], $2::bigint[]) AS v(id, seq) WHERE c.id = v.id",
    )
    .bind(&ids)
    .bind(&seqs)
    .execute(&mut *tx)
    .await?;
    // Their edit history and mentions go with them.
    for table in ["message_versions", "mentions"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE message_id IN (SELECT id FROM {name})")))
            .execute(&mut *tx)
            .await?;
    }
    let keys: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "DELETE FROM uploads WHERE message_id IN (SELECT id FROM {name}) RETURNING storage_key"
    )))
    .fetch_all(&mut *tx)
    .await?;
    let uploads = keys.len() as u64;
    let orphaned_keys: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT k FROM UNNEST($1::text[]) AS k \
         WHERE NOT EXISTS (SELECT 1 FROM uploads WHERE storage_key = k)",
    )
    .bind(&keys)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '10s'").execute(&mut *tx).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE messages DETACH PARTITION {name}"))).execute(&mut *tx).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {name}"))).execute(&mut *tx).await?;
    tx.commit().await?;

    let messages = per_conversation.iter().map(|r| r.2.max(0) as u64).sum();
    tracing::info!(partition = %name, messages, uploads, "message partition past retention dropped");
    Ok(Expired { messages, uploads, orphaned_keys, partitions: vec![name.clone()], more: due.len() > 1 })
}

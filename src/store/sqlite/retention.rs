//! Retention on SQLite ([`RetentionStore`]): rows are deleted, oldest first, at most
//! `limit` per transaction. Each batch takes its turn with the message batches (one
//! writer: see [`SqliteStore`]'s `batches`) and lets them in again before the next one, so
//! a large first run never stalls the chat.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Connection, QueryBuilder, Sqlite};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::{Expired, RetentionStore, StoreResult, sql::CHUNK};

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn expire_messages(&self, cutoff: DateTime<Utc>, limit: u32) -> StoreResult<Option<Expired>> {
        let _turn = self.batches.lock().await;
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let removed: Vec<(Uuid, Uuid, i64)> = sqlx::query_as(
                "DELETE FROM messages WHERE id IN \
                 (SELECT id FROM messages WHERE created_at < $1 ORDER BY created_at LIMIT $2) \
                 RETURNING id, conversation_id, seq",
            )
            .bind(cutoff)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&mut *tx)
            .await?;
            let mut highest: HashMap<Uuid, i64> = HashMap::new();
            for (_, conversation, seq) in &removed {
                let e = highest.entry(*conversation).or_default();
                *e = (*e).max(*seq);
            }
            let highest: Vec<(Uuid, i64)> = highest.into_iter().collect();
            for chunk in highest.chunks(CHUNK / 2) {
                let mut qb = QueryBuilder::<Sqlite>::new("WITH v(id, seq) AS (");
                qb.push_values(chunk, |mut t, (id, seq)| {
                    t.push_bind(*id).push_bind(*seq);
                });
                qb.push(
                    ") UPDATE conversations SET expired_seq = MAX(expired_seq, v.seq) \
                     FROM v WHERE conversations.id = v.id",
                );
                qb.build().execute(&mut *tx).await?;
            }
            // Their edit history and mentions go with them.
            for table in ["message_versions", "mentions"] {
                for chunk in removed.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE message_id IN "));
                    qb.push_tuples(chunk, |mut t, (id, _, _)| {
                        t.push_bind(*id);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
            }
            let mut keys = Vec::new();
            for chunk in removed.chunks(CHUNK) {
                let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM uploads WHERE message_id IN ");
                qb.push_tuples(chunk, |mut t, (id, _, _)| {
                    t.push_bind(*id);
                });
                qb.push(" RETURNING storage_key");
                let rows: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                keys.extend(rows.into_iter().map(|r| r.0));
            }
            let uploads = keys.len() as u64;
            let distinct: Vec<String> = keys.into_iter().collect::<HashSet<_>>().into_iter().collect();
            let mut still_used = HashSet::new();
            for chunk in distinct.chunks(CHUNK) {
                let mut qb =
                    QueryBuilder::<Sqlite>::new("SELECT DISTINCT storage_key FROM uploads WHERE storage_key IN ");
                qb.push_tuples(chunk, |mut t, k| {
                    t.push_bind(k.clone());
                });
                let rows: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                still_used.extend(rows.into_iter().map(|r| r.0));
            }
            tx.commit().await?;
            let orphaned_keys = distinct.into_iter().filter(|k| !still_used.contains(k)).collect();
            Ok(Some(Expired {
                messages: removed.len() as u64,
                uploads,
                orphaned_keys,
                partitions: Vec::new(),
                more: removed.len() as u64 >= u64::from(limit.max(1)),
            }))
        }
        .await;
        super::settle(&mut conn, &result);
        result
    }

    async fn expired_seqs(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, i64)>> {
        let mut out = Vec::new();
        for chunk in conversations.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT id, expired_seq FROM conversations WHERE expired_seq > 0 AND id IN ",
            );
            qb.push_tuples(chunk, |mut t, c| {
                t.push_bind(*c);
            });
            let rows: Vec<(Uuid, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows);
        }
        Ok(out)
    }
}

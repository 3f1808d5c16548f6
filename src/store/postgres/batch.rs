//! PostgreSQL's [`Store::persist_batch`]: one transaction that locks the batch's
//! conversations, reads duplicates and members, classifies the batch (the shared steps of
//! [`crate::store::batch`]), bumps every counter in one `UPDATE … FROM UNNEST` and inserts
//! every message in one `INSERT … SELECT FROM UNNEST`. An insert that finds no partition
//! for its month creates it and retries once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::PgStore;
use crate::store::{
    BatchOutcome, Message, NewMessage, Store, StoreResult, batch as steps,
    sql::{self, CHUNK, MessageRow},
};

impl PgStore {
    /// The body of [`Store::persist_batch`].
    pub(super) async fn store_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        if batch.is_empty() {
            return Ok(BatchOutcome::default());
        }
        match self.try_store_batch(batch).await {
            Err(sqlx::Error::Database(e)) if e.message().contains("no partition") => {
                for m in batch {
                    self.ensure_partitions(m.created_at, 0).await?;
                }
                Ok(self.try_store_batch(batch).await?)
            }
            other => Ok(other?),
        }
    }

    async fn try_store_batch(&self, batch: &[NewMessage]) -> sqlx::Result<BatchOutcome> {
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
        let (results, to_store) = steps::classify(batch, &stored_before, &members);
        let counts = steps::counts(batch, &to_store);
        let mut new_last = HashMap::new();
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
        let stored = steps::number(batch, &to_store, &counts, &new_last);
        if !stored.is_empty() {
            let col = |f: fn(&Message) -> Uuid| stored.iter().map(|(_, m)| f(m)).collect::<Vec<Uuid>>();
            let seqs: Vec<i64> = stored.iter().map(|(_, m)| m.seq).collect();
            let clients: Vec<Option<String>> = stored.iter().map(|(_, m)| m.client_id.clone()).collect();
            let kinds: Vec<String> = stored.iter().map(|(_, m)| m.kind.clone()).collect();
            let bodies: Vec<String> = stored.iter().map(|(_, m)| m.body.clone()).collect();
            let attachments: Vec<String> = stored.iter().map(|(_, m)| sql::to_json(&m.attachments)).collect();
            let times: Vec<DateTime<Utc>> = stored.iter().map(|(_, m)| m.created_at).collect();
            let replies: Vec<Option<Uuid>> = stored.iter().map(|(_, m)| m.reply_to).collect();
            let mentions: Vec<String> = stored.iter().map(|(_, m)| sql::to_json(&m.mentions)).collect();
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, kind, body, attachments, created_at, \
                                       reply_to, mentions) \
                 SELECT id, cid, seq, sid, client, kind, body, attachments, at, reply_to, mentions \
                 FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], $7::text[], \
                             $8::text[], $9::timestamptz[], $10::uuid[], $11::text[]) \
                 AS t(id, cid, seq, sid, client, kind, body, attachments, at, reply_to, mentions)",
            )
            .bind(col(|m| m.id))
            .bind(col(|m| m.conversation_id))
            .bind(&seqs)
            .bind(col(|m| m.sender_id))
            .bind(&clients)
            .bind(&kinds)
            .bind(&bodies)
            .bind(&attachments)
            .bind(&times)
            .bind(&replies)
            .bind(&mentions)
            .execute(&mut *tx)
            .await?;
            let mentioned = steps::mentions(&stored);
            if !mentioned.is_empty() {
                let users: Vec<Uuid> = mentioned.iter().map(|m| m.0).collect();
                let convs: Vec<Uuid> = mentioned.iter().map(|m| m.1).collect();
                let seqs: Vec<i64> = mentioned.iter().map(|m| m.2).collect();
                let ids: Vec<Uuid> = mentioned.iter().map(|m| m.3).collect();
                let ats: Vec<DateTime<Utc>> = mentioned.iter().map(|m| m.4).collect();
                sqlx::query(
                    "INSERT INTO mentions (user_id, conversation_id, seq, message_id, message_at) \
                     SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::timestamptz[])",
                )
                .bind(&users)
                .bind(&convs)
                .bind(&seqs)
                .bind(&ids)
                .bind(&ats)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(BatchOutcome { results: steps::complete(batch, results, stored), members })
    }

    /// Stored messages with the same `(sender, client_id)` as any in `batch`.
    async fn batch_duplicates(conn: &mut PgConnection, batch: &[NewMessage]) -> sqlx::Result<Vec<Message>> {
        let mut found = Vec::new();
        for chunk in batch.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "SELECT id, conversation_id, seq, sender_id, client_id, kind, body, attachments, created_at, \
                 reply_to, mentions, change_seq, edited_at, deleted_at, deleted_by, pinned_at, pinned_by, reactions \
                 FROM messages WHERE (sender_id, client_id) IN ",
            );
            qb.push_tuples(chunk, |mut t, m| {
                t.push_bind(m.sender_id).push_bind(m.client_id.clone());
            });
            found.extend(sql::all(qb.build_query_as::<MessageRow>().fetch_all(&mut *conn).await?));
        }
        Ok(found)
    }

    /// Member ids of each conversation in `batch`.
    async fn batch_members(conn: &mut PgConnection, batch: &[NewMessage]) -> sqlx::Result<HashMap<Uuid, Vec<Uuid>>> {
        let mut convs: Vec<Uuid> = batch.iter().map(|m| m.conversation_id).collect();
        convs.sort_unstable();
        convs.dedup();
        let mut members: HashMap<Uuid, Vec<Uuid>> = convs.iter().map(|c| (*c, Vec::new())).collect();
        for chunk in convs.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Postgres>::new("SELECT conversation_id, user_id FROM members WHERE conversation_id IN ");
            qb.push_tuples(chunk, |mut t, c| {
                t.push_bind(*c);
            });
            for (c, u) in qb.build_query_as::<(Uuid, Uuid)>().fetch_all(&mut *conn).await? {
                members.entry(c).or_default().push(u);
            }
        }
        Ok(members)
    }
}

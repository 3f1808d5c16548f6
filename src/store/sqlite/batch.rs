//! SQLite's [`Store::persist_batch`](crate::store::Store::persist_batch): one `BEGIN
//! IMMEDIATE` transaction that reads duplicates and members, classifies the batch (the
//! shared steps of [`crate::store::batch`]), bumps each conversation's counter and inserts.

use std::collections::HashMap;

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::{
    BatchOutcome, Message, NewMessage, StoreResult, batch as steps,
    sql::{self, CHUNK, MessageRow},
};

impl SqliteStore {
    /// The body of [`Store::persist_batch`](crate::store::Store::persist_batch).
    pub(super) async fn store_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        if batch.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let _turn = self.batches.lock().await;
        // IMMEDIATE: take the write lock up front, so the reads below cannot go stale.
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let stored_before = Self::batch_duplicates(&mut tx, batch).await?;
            let members = Self::batch_members(&mut tx, batch).await?;
            let (results, to_store) = steps::classify(batch, &stored_before, &members);
            let counts = steps::counts(batch, &to_store);
            let mut new_last = HashMap::new();
            // Every counter of the batch in a few statements (`UPDATE … FROM (VALUES …)`), not
            // one per conversation: three values a row.
            for chunk in counts.chunks(CHUNK / 3) {
                let mut qb = QueryBuilder::<Sqlite>::new("WITH v(id, n, at) AS (");
                qb.push_values(chunk, |mut t, (conversation, n, at)| {
                    t.push_bind(*conversation).push_bind(*n).push_bind(*at);
                });
                qb.push(
                    ") UPDATE conversations SET last_seq = last_seq + v.n, \
                     last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < v.at THEN v.at ELSE last_message_at END \
                     FROM v WHERE conversations.id = v.id RETURNING conversations.id, conversations.last_seq",
                );
                let rows: Vec<(Uuid, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
                new_last.extend(rows);
            }
            let stored = steps::number(batch, &to_store, &counts, &new_last);
            // Eleven values a row: 45 rows a statement stays under the parameter limit.
            for chunk in stored.chunks(CHUNK / 11) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, kind, body, attachments, \
                     created_at, reply_to, mentions) ",
                );
                qb.push_values(chunk, |mut t, (_, m)| {
                    t.push_bind(m.id)
                        .push_bind(m.conversation_id)
                        .push_bind(m.seq)
                        .push_bind(m.sender_id)
                        .push_bind(m.client_id.clone())
                        .push_bind(m.kind.clone())
                        .push_bind(m.body.clone())
                        .push_bind(sql::to_json(&m.attachments))
                        .push_bind(m.created_at)
                        .push_bind(m.reply_to)
                        .push_bind(sql::to_json(&m.mentions));
                });
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in steps::mentions(&stored).chunks(CHUNK / 5) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO mentions (user_id, conversation_id, seq, message_id, message_at) ",
                );
                qb.push_values(chunk, |mut t, (u, c, seq, id, at)| {
                    t.push_bind(*u).push_bind(*c).push_bind(*seq).push_bind(*id).push_bind(*at);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(BatchOutcome { results: steps::complete(batch, results, stored), members })
        }
        .await;
        super::settle(&mut conn, &result);
        result
    }

    /// Stored messages with the same `(sender, client_id)` as any in `batch`.
    async fn batch_duplicates(conn: &mut SqliteConnection, batch: &[NewMessage]) -> sqlx::Result<Vec<Message>> {
        let mut found = Vec::new();
        for chunk in batch.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
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
    async fn batch_members(
        conn: &mut SqliteConnection,
        batch: &[NewMessage],
    ) -> sqlx::Result<HashMap<Uuid, Vec<Uuid>>> {
        let mut convs: Vec<Uuid> = batch.iter().map(|m| m.conversation_id).collect();
        convs.sort_unstable();
        convs.dedup();
        let mut members: HashMap<Uuid, Vec<Uuid>> = convs.iter().map(|c| (*c, Vec::new())).collect();
        for chunk in convs.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("SELECT conversation_id, user_id FROM members WHERE conversation_id IN ");
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

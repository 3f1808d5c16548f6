//! Changes to stored messages on PostgreSQL ([`ChangeStore`], in its method order). A
//! change is one transaction that first locks its conversation's row (`FOR NO KEY UPDATE`,
//! as message batches do), so changes and batches of one conversation take turns, the
//! message read under the lock cannot go stale, and change numbers have no gaps. Messages
//! are addressed with their `created_at` too, which names their partition.

use async_trait::async_trait;
use sqlx::PgConnection;
use uuid::Uuid;

use super::PgStore;
use crate::store::{
    ChangeOutcome, ChangeRequest, ChangeStore, Changed, Message, StoreResult, Version,
    changes::{self, Decision},
    sql::{self, CHUNK, MESSAGE_COLUMNS, MessageRow},
};

#[async_trait]
impl ChangeStore for PgStore {
    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<Message>> {
        let mut conn = self.pool.acquire().await?;
        let Some(mut m) = Self::read_message(&mut conn, conversation, id, None).await? else { return Ok(None) };
        Self::quote_into(&mut conn, std::slice::from_mut(&mut m)).await?;
        Ok(Some(m))
    }

    async fn apply_change(&self, request: &ChangeRequest) -> StoreResult<ChangeOutcome> {
        let result: StoreResult<ChangeOutcome> = async {
            let mut tx = self.pool.begin().await?;
            let locked: Option<i64> =
                sqlx::query_scalar("SELECT last_change FROM conversations WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(request.conversation_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if locked.is_none() {
                return Ok(ChangeOutcome { result: Changed::NotFound, removed_keys: Vec::new() });
            }
            let at = request.message_at;
            let Some(current) = Self::read_message(&mut tx, request.conversation_id, request.message_id, Some(at)).await?
            else {
                return Ok(ChangeOutcome { result: Changed::NotFound, removed_keys: Vec::new() });
            };
            let retried = match changes::edit_client_id(&request.change) {
                Some(client_id) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1::int8 FROM message_versions WHERE message_id = $1 AND editor_id = $2 AND client_id = $3",
                )
                .bind(request.message_id)
                .bind(request.by)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some(),
                None => false,
            };
            let plan = match changes::decide(current, request, retried) {
                Decision::Done(result) => return Ok(ChangeOutcome { result, removed_keys: Vec::new() }),
                Decision::Write(plan) => plan,
            };
            let change_seq: i64 = sqlx::query_scalar(
                "UPDATE conversations SET last_change = last_change + 1 WHERE id = $1 RETURNING last_change",
            )
            .bind(request.conversation_id)
            .fetch_one(&mut *tx)
            .await?;
            let mut m = plan.message;
            m.change_seq = change_seq;
            sqlx::query(
                "UPDATE messages SET body = $1, attachments = $2, mentions = $3, edited_at = $4, deleted_at = $5, \
                 deleted_by = $6, pinned_at = $7, pinned_by = $8, reactions = $9, change_seq = $10 \
                 WHERE id = $11 AND created_at = $12",
            )
            .bind(&m.body)
            .bind(sql::to_json(&m.attachments))
            .bind(sql::to_json(&m.mentions))
            .bind(m.edited_at)
            .bind(m.deleted_at)
            .bind(m.deleted_by)
            .bind(m.pinned_at)
            .bind(m.pinned_by)
            .bind(sql::to_json(&m.reactions))
            .bind(change_seq)
            .bind(m.id)
            .bind(m.created_at)
            .execute(&mut *tx)
            .await?;
            if let (Some(v), Some(client_id)) = (&plan.replaced, changes::edit_client_id(&request.change)) {
                sqlx::query(
                    "INSERT INTO message_versions (message_id, version, conversation_id, body, created_at, replaced_at, \
                     editor_id, client_id, message_at) \
                     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8 \
                     FROM message_versions WHERE message_id = $1",
                )
                .bind(m.id)
                .bind(m.conversation_id)
                .bind(&v.body)
                .bind(v.created_at)
                .bind(v.replaced_at)
                .bind(v.editor_id)
                .bind(client_id)
                .bind(m.created_at)
                .execute(&mut *tx)
                .await?;
            }
            let mut removed_keys: Vec<String> = Vec::new();
            if plan.delete {
                let keys: Vec<String> =
                    sqlx::query_scalar("DELETE FROM uploads WHERE message_id = $1 RETURNING storage_key")
                        .bind(m.id)
                        .fetch_all(&mut *tx)
                        .await?;
                // Uploads of the same bytes share one stored file: it stays while one is left.
                for key in keys {
                    let used: Option<i64> = sqlx::query_scalar("SELECT 1::int8 FROM uploads WHERE storage_key = $1 LIMIT 1")
                        .bind(&key)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if used.is_none() && !removed_keys.contains(&key) {
                        removed_keys.push(key);
                    }
                }
                for table in ["message_versions", "mentions"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE message_id = $1")))
                        .bind(m.id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            let mut conn = self.pool.acquire().await?;
            Self::quote_into(&mut conn, std::slice::from_mut(&mut m)).await?;
            Ok(ChangeOutcome { result: Changed::Applied(m), removed_keys })
        }
        .await;
        result
    }

    async fn versions(&self, conversation: Uuid, id: Uuid) -> StoreResult<Vec<Version>> {
        let rows: Vec<(i64, String, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, Uuid)> =
            sqlx::query_as(
                "SELECT version, body, created_at, replaced_at, editor_id FROM message_versions \
                 WHERE message_id = $1 AND conversation_id = $2 ORDER BY version",
            )
            .bind(id)
            .bind(conversation)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(version, body, created_at, replaced_at, editor_id)| Version {
                version,
                body,
                created_at,
                replaced_at,
                editor_id,
            })
            .collect())
    }

    async fn pins(&self, conversation: Uuid, limit: u32) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND pinned_at IS NOT NULL \
             ORDER BY pinned_at DESC, seq DESC LIMIT $2"
        )))
        .bind(conversation)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.quoted(sql::all(rows)).await
    }

    async fn changes(&self, conversation: Uuid, after: i64, limit: u32) -> StoreResult<Vec<Message>> {
        let rows: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND change_seq > $2 \
             ORDER BY change_seq LIMIT $3"
        )))
        .bind(conversation)
        .bind(after.max(0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        self.quoted(sql::all(rows)).await
    }

    async fn replies(&self, ids: &[Uuid]) -> StoreResult<Vec<Message>> {
        let mut conn = self.pool.acquire().await?;
        Ok(Self::originals(&mut conn, ids).await?)
    }

    async fn members_named(&self, conversation: Uuid, usernames: &[String]) -> StoreResult<Vec<Uuid>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let ids = sqlx::query_scalar(
            "SELECT u.id FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.conversation_id = $1 AND u.username = ANY($2)",
        )
        .bind(conversation)
        .bind(usernames)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    async fn mention_counts(&self, user: Uuid, read: &[(Uuid, i64)]) -> StoreResult<Vec<(Uuid, i64)>> {
        if read.is_empty() {
            return Ok(Vec::new());
        }
        let convs: Vec<Uuid> = read.iter().map(|r| r.0).collect();
        let seqs: Vec<i64> = read.iter().map(|r| r.1).collect();
        let out = sqlx::query_as(
            "SELECT m.conversation_id, COUNT(*) FROM UNNEST($1::uuid[], $2::int8[]) AS v(c, r) \
             JOIN mentions m ON m.conversation_id = v.c AND m.seq > v.r WHERE m.user_id = $3 \
             GROUP BY m.conversation_id",
        )
        .bind(&convs)
        .bind(&seqs)
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(out)
    }
}

impl PgStore {
    /// The message `id` of `conversation`; `at` (its `created_at`) narrows the read to its
    /// partition.
    async fn read_message(
        conn: &mut PgConnection,
        conversation: Uuid,
        id: Uuid,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> sqlx::Result<Option<Message>> {
        let row: Option<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND conversation_id = $2 \
             AND ($3::timestamptz IS NULL OR created_at = $3)"
        )))
        .bind(id)
        .bind(conversation)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(Message::from))
    }

    /// The messages `ids`, for the quotes of replies.
    async fn originals(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Message>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1)"
            )))
            .bind(chunk)
            .fetch_all(&mut *conn)
            .await?;
            out.extend(sql::all::<_, Message>(rows));
        }
        Ok(out)
    }

    /// Fill in the reply quotes of `messages`.
    pub(super) async fn quote_into(conn: &mut PgConnection, messages: &mut [Message]) -> sqlx::Result<()> {
        let mut ids: Vec<Uuid> = messages.iter().filter_map(|m| m.reply_to).collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let originals = Self::originals(conn, &ids).await?;
        changes::quote(messages, &originals);
        Ok(())
    }

    /// `messages` with their reply quotes.
    pub(super) async fn quoted(&self, mut messages: Vec<Message>) -> StoreResult<Vec<Message>> {
        if messages.iter().any(|m| m.reply_to.is_some()) {
            let mut conn = self.pool.acquire().await?;
            Self::quote_into(&mut conn, &mut messages).await?;
        }
        Ok(messages)
    }
}

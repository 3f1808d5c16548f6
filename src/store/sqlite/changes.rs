//! Changes to stored messages on SQLite ([`ChangeStore`], in its method order). A change
//! is one `BEGIN IMMEDIATE` transaction, taking its turn with the message batches: SQLite
//! has one writer, so reading the message and numbering the change cannot go stale.

use async_trait::async_trait;
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::{
    ChangeOutcome, ChangeRequest, ChangeStore, Changed, Message, StoreResult, Version,
    changes::{self, Decision},
    sql::{self, CHUNK, MESSAGE_COLUMNS, MessageRow},
};

#[async_trait]
impl ChangeStore for SqliteStore {
    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<Message>> {
        let mut conn = self.pool.acquire().await?;
        let Some(mut m) = Self::read_message(&mut conn, conversation, id).await? else { return Ok(None) };
        Self::quote_into(&mut conn, std::slice::from_mut(&mut m)).await?;
        Ok(Some(m))
    }

    async fn apply_change(&self, request: &ChangeRequest) -> StoreResult<ChangeOutcome> {
        let _turn = self.batches.lock().await;
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<ChangeOutcome> = async {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let Some(current) = Self::read_message(&mut tx, request.conversation_id, request.message_id).await? else {
                return Ok(ChangeOutcome { result: Changed::NotFound, removed_keys: Vec::new() });
            };
            let retried = match changes::edit_client_id(&request.change) {
                Some(client_id) => sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM message_versions WHERE message_id = $1 AND editor_id = $2 AND client_id = $3",
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
                 deleted_by = $6, pinned_at = $7, pinned_by = $8, reactions = $9, change_seq = $10 WHERE id = $11",
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
                    let used: Option<i64> = sqlx::query_scalar("SELECT 1 FROM uploads WHERE storage_key = $1 LIMIT 1")
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
            Self::quote_into(&mut conn, std::slice::from_mut(&mut m)).await?;
            Ok(ChangeOutcome { result: Changed::Applied(m), removed_keys })
        }
        .await;
        super::settle(&mut conn, &result);
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
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT u.id FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ",
        );
        qb.push_bind(conversation).push(" AND u.username IN ");
        qb.push_tuples(usernames.iter().take(CHUNK), |mut t, name| {
            t.push_bind(name.clone());
        });
        Ok(qb.build_query_scalar::<Uuid>().fetch_all(&self.pool).await?)
    }

    async fn mention_counts(&self, user: Uuid, read: &[(Uuid, i64)]) -> StoreResult<Vec<(Uuid, i64)>> {
        let mut out = Vec::new();
        for chunk in read.chunks(CHUNK / 2) {
            let mut qb = QueryBuilder::<Sqlite>::new("WITH v(c, r) AS (");
            qb.push_values(chunk, |mut t, (c, r)| {
                t.push_bind(*c).push_bind(*r);
            });
            qb.push(
                ") SELECT m.conversation_id, COUNT(*) FROM v JOIN mentions m \
                 ON m.conversation_id = v.c AND m.seq > v.r WHERE m.user_id = ",
            );
            qb.push_bind(user).push(" GROUP BY m.conversation_id");
            out.extend(qb.build_query_as::<(Uuid, i64)>().fetch_all(&self.pool).await?);
        }
        Ok(out)
    }
}

impl SqliteStore {
    async fn read_message(conn: &mut SqliteConnection, conversation: Uuid, id: Uuid) -> sqlx::Result<Option<Message>> {
        let row: Option<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND conversation_id = $2"
        )))
        .bind(id)
        .bind(conversation)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(Message::from))
    }

    /// The messages `ids`, for the quotes of replies.
    async fn originals(conn: &mut SqliteConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Message>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
            qb.push(MESSAGE_COLUMNS).push(" FROM messages WHERE id IN ");
            qb.push_tuples(chunk, |mut t, id| {
                t.push_bind(*id);
            });
            out.extend(sql::all::<_, Message>(qb.build_query_as::<MessageRow>().fetch_all(&mut *conn).await?));
        }
        Ok(out)
    }

    /// Fill in the reply quotes of `messages`.
    pub(super) async fn quote_into(conn: &mut SqliteConnection, messages: &mut [Message]) -> sqlx::Result<()> {
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

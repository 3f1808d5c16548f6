//! SQLite: the embedded default. One file in the data folder, opened in [`open`] (every
//! pragma is set there, in one place).
//!
//! The methods follow the trait's order, as in `postgres.rs`; most statements are the
//! same text there (see the module doc of [`super`] for why they are written twice).

mod admin;
mod batch;
mod changes;
mod history;
mod open;
mod push;
mod retention;
mod search;
mod snapshot;
mod uploads;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Connection, QueryBuilder, Sqlite, SqlitePool};
use uuid::Uuid;

use super::{
    BatchOutcome, Conversation, Member, Message, NewMessage, NewRefreshToken, NewUser, Page, Receipt, RefreshUse,
    Store, StoreResult, User, UserCredentials,
    sql::{self, CHUNK, ConversationRow, CredentialsRow, MemberRow, ReceiptRow, UserRow, map_unique},
};

use open::settle;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Message batches take turns here before `BEGIN IMMEDIATE`: SQLite has one writer,
    /// and a writer that finds the lock taken polls with growing sleeps (its busy
    /// handler), which under load costs far more than waiting in line.
    batches: tokio::sync::Mutex<()>,
}

#[async_trait]
impl Store for SqliteStore {
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

    /// One node: the data folder's `secret.key` holds the secret.
    async fn shared_secret(&self, _name: &str, _candidate: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(None)
    }

    async fn has_users(&self) -> StoreResult<bool> {
        let row: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM users LIMIT 1").fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }

    /// SQLite runs one writer at a time, so the single `INSERT … SELECT NOT EXISTS` that
    /// decides the first administrator is already serialised: no lock to take.
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let user: UserRow = sqlx::query_as(
            "INSERT INTO users (id, username, display_name, password_hash, is_admin, created_at, updated_at) \
             SELECT $1, $2, $3, $4, COALESCE($5, NOT EXISTS (SELECT 1 FROM users)), $6, $6 \
             RETURNING id, username, display_name, is_admin, created_at",
        )
        .bind(u.id)
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(u.admin)
        .bind(u.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(user.into())
    }

    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, username, display_name, is_admin, created_at FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(User::from))
    }

    async fn credentials_by_username(&self, username: &str) -> StoreResult<Option<UserCredentials>> {
        let row: Option<CredentialsRow> = sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(UserCredentials::from))
    }

    async fn credentials_by_id(&self, id: Uuid) -> StoreResult<Option<UserCredentials>> {
        let row: Option<CredentialsRow> = sqlx::query_as("SELECT id, password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(UserCredentials::from))
    }

    async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, username, display_name, is_admin, created_at FROM users \
             WHERE lower(username) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
             ORDER BY (lower(username) = $2) DESC, username LIMIT $3",
        )
        .bind(sql::contains_pattern(query))
        .bind(query.to_lowercase())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(sql::all(rows))
    }

    async fn update_user(
        &self,
        id: Uuid,
        display_name: Option<&str>,
        password_hash: Option<&str>,
    ) -> StoreResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "UPDATE users SET display_name = COALESCE($2, display_name), \
             password_hash = COALESCE($3, password_hash), updated_at = $4 \
             WHERE id = $1 RETURNING id, username, display_name, is_admin, created_at",
        )
        .bind(id)
        .bind(display_name)
        .bind(password_hash)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(User::from))
    }

    async fn insert_refresh_token(&self, t: NewRefreshToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.token_hash)
        .bind(t.user_id)
        .bind(t.family_id)
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn consume_refresh_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        grace: chrono::Duration,
    ) -> StoreResult<RefreshUse> {
        let fresh: Option<(Uuid, Uuid)> = sqlx::query_as(
            "UPDATE refresh_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
             RETURNING user_id, family_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((user_id, family_id)) = fresh {
            return Ok(RefreshUse::Fresh { user_id, family_id });
        }
        let row: Option<(Uuid, Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT user_id, family_id, used_at, revoked_at, expires_at FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some((user_id, family_id, used_at, revoked_at, expires_at)) = row else {
            return Ok(RefreshUse::Invalid);
        };
        if revoked_at.is_some() {
            // The session was ended (logout, password change, or an earlier replay).
            return Ok(RefreshUse::Invalid);
        }
        match used_at {
            // Two tabs refreshing with the same cookie at once: not an attack.
            Some(used) if used + grace > now && expires_at > now => Ok(RefreshUse::Fresh { user_id, family_id }),
            Some(_) => {
                self.revoke_refresh_family(family_id, now).await?;
                Ok(RefreshUse::Replayed { user_id, family_id })
            }
            None => Ok(RefreshUse::Invalid),
        }
    }

    async fn revoke_refresh_family(&self, family_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL")
            .bind(family_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_user_refresh_tokens(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        keep_family: Option<Uuid>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $2 \
             WHERE user_id = $1 AND revoked_at IS NULL AND ($3 IS NULL OR family_id <> $3)",
        )
        .bind(user_id)
        .bind(now)
        .bind(keep_family)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn create_direct(&self, id: Uuid, a: Uuid, b: Uuid, now: DateTime<Utc>) -> StoreResult<(Conversation, bool)> {
        let key = sql::direct_key(a, b);
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin().await?;
            let created: Option<ConversationRow> = sqlx::query_as(
                "INSERT INTO conversations (id, kind, direct_key, created_by, created_at) \
                 VALUES ($1, 'direct', $2, $3, $4) ON CONFLICT (direct_key) DO NOTHING \
                 RETURNING id, kind, name, created_by, created_at, last_seq, last_message_at, last_change",
            )
            .bind(id)
            .bind(&key)
            .bind(a)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let result = match created {
                Some(c) => {
                    for user in [a, b] {
                        sqlx::query(
                            "INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
                        )
                        .bind(id)
                        .bind(user)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    (c.into(), true)
                }
                None => {
                    let c: ConversationRow = sqlx::query_as(
                        "SELECT id, kind, name, created_by, created_at, last_seq, last_message_at, last_change \
                         FROM conversations WHERE direct_key = $1",
                    )
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await?;
                    (c.into(), false)
                }
            };
            tx.commit().await?;
            Ok(result)
        }
        .await;
        settle(&mut conn, &result);
        result
    }

    async fn create_group(
        &self,
        id: Uuid,
        name: &str,
        creator: Uuid,
        members: &[Uuid],
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation> {
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin().await?;
            let c: ConversationRow = sqlx::query_as(
                "INSERT INTO conversations (id, kind, name, created_by, created_at) \
                 VALUES ($1, 'group', $2, $3, $4) \
                 RETURNING id, kind, name, created_by, created_at, last_seq, last_message_at, last_change",
            )
            .bind(id)
            .bind(name)
            .bind(creator)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'admin', $3)")
                .bind(id)
                .bind(creator)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let others: Vec<Uuid> = members.iter().copied().filter(|m| *m != creator).collect();
            for chunk in others.chunks(CHUNK) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO members (conversation_id, user_id, role, joined_at) SELECT ",
                );
                qb.push_bind(id).push(", id, 'member', ").push_bind(now).push(" FROM users WHERE id IN ");
                qb.push_tuples(chunk, |mut t, u| {
                    t.push_bind(*u);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(c.into())
        }
        .await;
        settle(&mut conn, &result);
        result
    }

    async fn conversation(&self, id: Uuid) -> StoreResult<Option<Conversation>> {
        let row: Option<ConversationRow> = sqlx::query_as(
            "SELECT id, kind, name, created_by, created_at, last_seq, last_message_at, last_change FROM conversations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Conversation::from))
    }

    async fn conversations_of(&self, user: Uuid) -> StoreResult<Vec<Conversation>> {
        let rows: Vec<ConversationRow> = sqlx::query_as(
            "SELECT c.id, c.kind, c.name, c.created_by, c.created_at, c.last_seq, c.last_message_at, c.last_change \
             FROM conversations c JOIN members m ON m.conversation_id = c.id \
             WHERE m.user_id = $1 ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(sql::all(rows))
    }

    async fn conversation_ids_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid,)> = sqlx::query_as("SELECT conversation_id FROM members WHERE user_id = $1")
            .bind(user)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn members_of(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, Member)>> {
        let mut out = Vec::new();
        for chunk in conversations.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT m.conversation_id, m.role, u.id, u.username, u.display_name, u.is_admin, u.created_at \
                 FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id IN ",
            );
            qb.push_tuples(chunk, |mut t, c| {
                t.push_bind(*c);
            });
            qb.push(" ORDER BY m.joined_at, u.username");
            out.extend(sql::all(qb.build_query_as::<MemberRow>().fetch_all(&self.pool).await?));
        }
        Ok(out)
    }

    async fn member_role(&self, conversation: Uuid, user: Uuid) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(conversation)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.0))
    }

    async fn contacts_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT DISTINCT m2.user_id FROM members m1 JOIN members m2 ON m2.conversation_id = m1.conversation_id \
             WHERE m1.user_id = $1 AND m2.user_id <> $1",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn rename_conversation(&self, id: Uuid, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE conversations SET name = $2 WHERE id = $1 AND kind = 'group'")
            .bind(id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_members(&self, id: Uuid, users: &[Uuid], now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
        let mut added = Vec::new();
        for chunk in users.chunks(CHUNK) {
            let mut qb =
                QueryBuilder::<Sqlite>::new("INSERT INTO members (conversation_id, user_id, role, joined_at) SELECT ");
            qb.push_bind(id).push(", id, 'member', ").push_bind(now).push(" FROM users WHERE id IN ");
            qb.push_tuples(chunk, |mut t, u| {
                t.push_bind(*u);
            });
            qb.push(" ON CONFLICT DO NOTHING RETURNING user_id");
            let rows: Vec<(Uuid,)> = qb.build_query_as().fetch_all(&self.pool).await?;
            added.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(added)
    }

    async fn remove_member(&self, id: Uuid, user: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn existing_users(&self, users: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        let mut found = Vec::new();
        for chunk in users.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT id FROM users WHERE id IN ");
            qb.push_tuples(chunk, |mut t, u| {
                t.push_bind(*u);
            });
            let rows: Vec<(Uuid,)> = qb.build_query_as().fetch_all(&self.pool).await?;
            found.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(found)
    }

    async fn persist_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome> {
        self.store_batch(batch).await
    }

    async fn messages(&self, conversation: Uuid, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
        self.read_page(conversation, page, limit).await
    }

    async fn last_messages(&self, conversations: &[Uuid]) -> StoreResult<Vec<Message>> {
        self.read_last(conversations).await
    }

    async fn receipts_of(&self, conversation: Uuid) -> StoreResult<Vec<Receipt>> {
        let rows: Vec<ReceiptRow> = sqlx::query_as(
            "SELECT conversation_id, user_id, delivered_seq, read_seq FROM receipts WHERE conversation_id = $1",
        )
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        Ok(sql::all(rows))
    }

    async fn receipts_for_user(&self, user: Uuid, conversations: &[Uuid]) -> StoreResult<Vec<Receipt>> {
        let mut out = Vec::new();
        for chunk in conversations.chunks(CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "SELECT conversation_id, user_id, delivered_seq, read_seq FROM receipts WHERE user_id = ",
            );
            qb.push_bind(user).push(" AND conversation_id IN ");
            qb.push_tuples(chunk, |mut t, c| {
                t.push_bind(*c);
            });
            out.extend(sql::all::<_, Receipt>(qb.build_query_as::<ReceiptRow>().fetch_all(&self.pool).await?));
        }
        Ok(out)
    }

    async fn upsert_receipts(&self, receipts: &[Receipt], now: DateTime<Utc>) -> StoreResult<u64> {
        let mut statements = 0;
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin().await?;
            for chunk in receipts.chunks(CHUNK) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO receipts (conversation_id, user_id, delivered_seq, read_seq, updated_at) ",
                );
                qb.push_values(chunk, |mut t, r| {
                    t.push_bind(r.conversation_id)
                        .push_bind(r.user_id)
                        .push_bind(r.delivered_seq.max(r.read_seq))
                        .push_bind(r.read_seq)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
                     delivered_seq = CASE WHEN excluded.delivered_seq > receipts.delivered_seq \
                       THEN excluded.delivered_seq ELSE receipts.delivered_seq END, \
                     read_seq = CASE WHEN excluded.read_seq > receipts.read_seq \
                       THEN excluded.read_seq ELSE receipts.read_seq END, \
                     updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *tx).await?;
                statements += 1;
            }
            tx.commit().await?;
            Ok(statements)
        }
        .await;
        settle(&mut conn, &result);
        result
    }

    /// SQLite keeps all messages in one table: nothing to create.
    async fn ensure_partitions(&self, _now: DateTime<Utc>, _months_ahead: u32) -> StoreResult<Vec<String>> {
        Ok(Vec::new())
    }

    /// One node, so the job always runs here (and has nothing to create).
    async fn ensure_partitions_locked(
        &self,
        _now: DateTime<Utc>,
        _months_ahead: u32,
    ) -> StoreResult<Option<Vec<String>>> {
        Ok(Some(Vec::new()))
    }
}

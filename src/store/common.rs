//! The SQL both backends share. SQLite and PostgreSQL accept the same `$n` placeholders,
//! `RETURNING` and `ON CONFLICT`, so most statements are written once and the
//! [`impl_store!`] macro expands them for each backend's pool. What differs (locking,
//! partitions) stays in `sqlite.rs` / `postgres.rs`, passed in as the macro's last block.

/// The columns of [`super::User`], for `concat!` into static SQL.
macro_rules! user_columns {
    () => {
        "id, username, display_name, is_admin, created_at"
    };
}
pub(crate) use user_columns;

/// The columns of [`super::Conversation`].
macro_rules! conversation_columns {
    () => {
        "id, kind, name, created_by, created_at, last_seq, last_message_at"
    };
}
pub(crate) use conversation_columns;

/// The columns of [`super::Message`].
macro_rules! message_columns {
    () => {
        "id, conversation_id, seq, sender_id, client_id, kind, body, created_at"
    };
}
pub(crate) use message_columns;

/// The one direct conversation of a pair, whatever the order: `smaller:larger`.
pub(crate) fn direct_key(a: uuid::Uuid, b: uuid::Uuid) -> String {
    let (x, y) = if a < b { (a, b) } else { (b, a) };
    format!("{x}:{y}")
}

/// Rows per multi-row statement, well under SQLite's and PostgreSQL's parameter limits.
pub(crate) const CHUNK: usize = 500;

/// Classify a batch against stored duplicates and membership. Returns the results with
/// `None` holes for messages to store, and those messages' indices in input order.
pub(crate) fn classify(
    batch: &[super::NewMessage],
    stored: &[super::Message],
    members: &std::collections::HashMap<uuid::Uuid, Vec<uuid::Uuid>>,
) -> (Vec<Option<super::Persisted>>, Vec<usize>) {
    use std::collections::HashMap;
    let mut seen: HashMap<(uuid::Uuid, &str), usize> = HashMap::new();
    let by_client: HashMap<(uuid::Uuid, &str), &super::Message> =
        stored.iter().filter_map(|m| m.client_id.as_deref().map(|c| ((m.sender_id, c), m))).collect();
    let mut results = Vec::with_capacity(batch.len());
    let mut to_store = Vec::new();
    for (i, m) in batch.iter().enumerate() {
        let key = (m.sender_id, m.client_id.as_str());
        if let Some(existing) = by_client.get(&key) {
            results.push(Some(super::Persisted::Duplicate((*existing).clone())));
        } else if seen.contains_key(&key) {
            // Filled in after the first copy is stored.
            results.push(None);
        } else if !members.get(&m.conversation_id).is_some_and(|ms| ms.contains(&m.sender_id)) {
            results.push(Some(super::Persisted::Rejected(m.clone())));
        } else {
            seen.insert(key, i);
            to_store.push(i);
            results.push(None);
        }
    }
    (results, to_store)
}

/// Per conversation among the messages to store: how many, and the newest `created_at`,
/// in order of first appearance.
pub(crate) fn counts(
    batch: &[super::NewMessage],
    to_store: &[usize],
) -> Vec<(uuid::Uuid, i64, chrono::DateTime<chrono::Utc>)> {
    let mut out: Vec<(uuid::Uuid, i64, chrono::DateTime<chrono::Utc>)> = Vec::new();
    for &i in to_store {
        let m = &batch[i];
        match out.iter_mut().find(|(c, ..)| *c == m.conversation_id) {
            Some((_, n, at)) => {
                *n += 1;
                *at = (*at).max(m.created_at);
            }
            None => out.push((m.conversation_id, 1, m.created_at)),
        }
    }
    out
}

/// Give each message to store its `seq`, in batch order, from each conversation's new
/// counter value (`new_last` = the counter after adding that conversation's count).
pub(crate) fn number(
    batch: &[super::NewMessage],
    to_store: &[usize],
    counts: &[(uuid::Uuid, i64, chrono::DateTime<chrono::Utc>)],
    new_last: &std::collections::HashMap<uuid::Uuid, i64>,
) -> Vec<(usize, super::Message)> {
    let mut next: std::collections::HashMap<uuid::Uuid, i64> =
        counts.iter().map(|(c, n, _)| (*c, new_last.get(c).copied().unwrap_or(*n) - n + 1)).collect();
    to_store
        .iter()
        .map(|&i| {
            let m = &batch[i];
            let slot = next.get_mut(&m.conversation_id).expect("counted");
            let seq = *slot;
            *slot += 1;
            (
                i,
                super::Message {
                    id: m.id,
                    conversation_id: m.conversation_id,
                    seq,
                    sender_id: m.sender_id,
                    client_id: Some(m.client_id.clone()),
                    kind: m.kind.clone(),
                    body: m.body.clone(),
                    created_at: m.created_at,
                },
            )
        })
        .collect()
}

/// Fill the holes `classify` left: stored messages, and in-batch repeats as duplicates.
pub(crate) fn complete(
    batch: &[super::NewMessage],
    mut results: Vec<Option<super::Persisted>>,
    stored: Vec<(usize, super::Message)>,
) -> Vec<super::Persisted> {
    use std::collections::HashMap;
    let mut by_key: HashMap<(uuid::Uuid, String), super::Message> = HashMap::new();
    for (i, m) in stored {
        by_key.insert((m.sender_id, batch[i].client_id.clone()), m.clone());
        results[i] = Some(super::Persisted::Stored(m));
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                let m = &batch[i];
                match by_key.get(&(m.sender_id, m.client_id.clone())) {
                    Some(first) => super::Persisted::Duplicate(first.clone()),
                    None => super::Persisted::Rejected(m.clone()),
                }
            })
        })
        .collect()
}

/// `LIKE` pattern matching `query` anywhere, with `\` escaping the wildcards.
pub(crate) fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Expands to `#[async_trait] impl Store for $store` with the shared methods, followed by
/// the backend-specific ones given in `{ … }`. `$store` must have a `pool` field and an
/// inherent `async fn lock_first_user(&self, tx)` that serialises "is this the first
/// user?" decisions. Also adds the inherent batch helpers `batch_duplicates` and
/// `batch_members` that each backend's `persist_batch` uses inside its transaction.
macro_rules! impl_store {
    ($store:ty, $db:ty, { $($specific:tt)* }) => {
        impl $store {
            /// Stored messages with the same `(sender, client_id)` as any in `batch`.
            async fn batch_duplicates(
                conn: &mut <$db as sqlx::Database>::Connection,
                batch: &[NewMessage],
            ) -> StoreResult<Vec<Message>> {
                let mut found = Vec::new();
                for chunk in batch.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(concat!(
                        "SELECT ", common::message_columns!(), " FROM messages WHERE (sender_id, client_id) IN "
                    ));
                    qb.push_tuples(chunk, |mut t, m| {
                        t.push_bind(m.sender_id).push_bind(m.client_id.clone());
                    });
                    found.extend(qb.build_query_as::<Message>().fetch_all(&mut *conn).await?);
                }
                Ok(found)
            }

            /// Member ids of each conversation in `batch`.
            async fn batch_members(
                conn: &mut <$db as sqlx::Database>::Connection,
                batch: &[NewMessage],
            ) -> StoreResult<std::collections::HashMap<Uuid, Vec<Uuid>>> {
                let mut convs: Vec<Uuid> = batch.iter().map(|m| m.conversation_id).collect();
                convs.sort_unstable();
                convs.dedup();
                let mut members: std::collections::HashMap<Uuid, Vec<Uuid>> =
                    convs.iter().map(|c| (*c, Vec::new())).collect();
                for chunk in convs.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT conversation_id, user_id FROM members WHERE conversation_id IN ",
                    );
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

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            $($specific)*

            async fn create_direct(&self, id: Uuid, a: Uuid, b: Uuid, now: DateTime<Utc>) -> StoreResult<(Conversation, bool)> {
                let key = common::direct_key(a, b);
                let mut tx = self.pool.begin().await?;
                let created = sqlx::query_as::<$db, Conversation>(concat!(
                    "INSERT INTO conversations (id, kind, direct_key, created_by, created_at) ",
                    "VALUES ($1, 'direct', $2, $3, $4) ON CONFLICT (direct_key) DO NOTHING RETURNING ",
                    common::conversation_columns!()
                ))
                .bind(id)
                .bind(&key)
                .bind(a)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let result = match created {
                    Some(c) => {
                        for user in [a, b] {
                            sqlx::query::<$db>(
                                "INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)",
                            )
                            .bind(c.id)
                            .bind(user)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                        (c, true)
                    }
                    None => {
                        let c = sqlx::query_as::<$db, Conversation>(concat!(
                            "SELECT ", common::conversation_columns!(), " FROM conversations WHERE direct_key = $1"
                        ))
                        .bind(&key)
                        .fetch_one(&mut *tx)
                        .await?;
                        (c, false)
                    }
                };
                tx.commit().await?;
                Ok(result)
            }

            async fn create_group(
                &self,
                id: Uuid,
                name: &str,
                creator: Uuid,
                members: &[Uuid],
                now: DateTime<Utc>,
            ) -> StoreResult<Conversation> {
                let mut tx = self.pool.begin().await?;
                let c = sqlx::query_as::<$db, Conversation>(concat!(
                    "INSERT INTO conversations (id, kind, name, created_by, created_at) ",
                    "VALUES ($1, 'group', $2, $3, $4) RETURNING ",
                    common::conversation_columns!()
                ))
                .bind(id)
                .bind(name)
                .bind(creator)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query::<$db>(
                    "INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'admin', $3)",
                )
                .bind(id)
                .bind(creator)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let others: Vec<Uuid> = members.iter().copied().filter(|m| *m != creator).collect();
                for chunk in others.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
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
                Ok(c)
            }

            async fn conversation(&self, id: Uuid) -> StoreResult<Option<Conversation>> {
                Ok(sqlx::query_as::<$db, Conversation>(concat!(
                    "SELECT ", common::conversation_columns!(), " FROM conversations WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn conversations_of(&self, user: Uuid) -> StoreResult<Vec<Conversation>> {
                Ok(sqlx::query_as::<$db, Conversation>(
                    "SELECT c.id, c.kind, c.name, c.created_by, c.created_at, c.last_seq, c.last_message_at \
                     FROM conversations c JOIN members m ON m.conversation_id = c.id \
                     WHERE m.user_id = $1 ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn conversation_ids_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
                let rows: Vec<(Uuid,)> = sqlx::query_as::<$db, (Uuid,)>(
                    "SELECT conversation_id FROM members WHERE user_id = $1",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn members_of(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, Member)>> {
                type Row = (Uuid, String, Uuid, String, String, bool, DateTime<Utc>);
                let mut out = Vec::new();
                for chunk in conversations.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT m.conversation_id, m.role, u.id, u.username, u.display_name, u.is_admin, u.created_at \
                         FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id IN ",
                    );
                    qb.push_tuples(chunk, |mut t, c| {
                        t.push_bind(*c);
                    });
                    qb.push(" ORDER BY m.joined_at, u.username");
                    for (c, role, id, username, display_name, is_admin, created_at) in
                        qb.build_query_as::<Row>().fetch_all(&self.pool).await?
                    {
                        out.push((c, Member { user: User { id, username, display_name, is_admin, created_at }, role }));
                    }
                }
                Ok(out)
            }

            async fn member_role(&self, conversation: Uuid, user: Uuid) -> StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as::<$db, (String,)>(
                    "SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2",
                )
                .bind(conversation)
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| r.0))
            }

            async fn contacts_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
                let rows: Vec<(Uuid,)> = sqlx::query_as::<$db, (Uuid,)>(
                    "SELECT DISTINCT m2.user_id FROM members m1 JOIN members m2 ON m2.conversation_id = m1.conversation_id \
                     WHERE m1.user_id = $1 AND m2.user_id <> $1",
                )
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn rename_conversation(&self, id: Uuid, name: &str) -> StoreResult<bool> {
                let done = sqlx::query::<$db>("UPDATE conversations SET name = $2 WHERE id = $1 AND kind = 'group'")
                    .bind(id)
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn add_members(&self, id: Uuid, users: &[Uuid], now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
                let mut added = Vec::new();
                for chunk in users.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO members (conversation_id, user_id, role, joined_at) SELECT ",
                    );
                    qb.push_bind(id).push(", id, 'member', ").push_bind(now).push(" FROM users WHERE id IN ");
                    qb.push_tuples(chunk, |mut t, u| {
                        t.push_bind(*u);
                    });
                    qb.push(" ON CONFLICT DO NOTHING RETURNING user_id");
                    let rows: Vec<(Uuid,)> = qb.build_query_as::<(Uuid,)>().fetch_all(&self.pool).await?;
                    added.extend(rows.into_iter().map(|r| r.0));
                }
                Ok(added)
            }

            async fn remove_member(&self, id: Uuid, user: Uuid) -> StoreResult<bool> {
                let done = sqlx::query::<$db>("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn existing_users(&self, users: &[Uuid]) -> StoreResult<Vec<Uuid>> {
                let mut found = Vec::new();
                for chunk in users.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT id FROM users WHERE id IN ");
                    qb.push_tuples(chunk, |mut t, u| {
                        t.push_bind(*u);
                    });
                    let rows: Vec<(Uuid,)> = qb.build_query_as::<(Uuid,)>().fetch_all(&self.pool).await?;
                    found.extend(rows.into_iter().map(|r| r.0));
                }
                Ok(found)
            }

            async fn messages(&self, conversation: Uuid, page: Page, limit: u32) -> StoreResult<Vec<Message>> {
                let limit = i64::from(limit);
                let mut rows = match page {
                    Page::Latest => sqlx::query_as::<$db, Message>(concat!(
                        "SELECT ", common::message_columns!(), " FROM messages WHERE conversation_id = $1 ",
                        "ORDER BY seq DESC LIMIT $2"
                    ))
                    .bind(conversation)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?,
                    Page::Before(seq) => sqlx::query_as::<$db, Message>(concat!(
                        "SELECT ", common::message_columns!(), " FROM messages WHERE conversation_id = $1 AND seq < $2 ",
                        "ORDER BY seq DESC LIMIT $3"
                    ))
                    .bind(conversation)
                    .bind(seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?,
                    Page::After(seq) => sqlx::query_as::<$db, Message>(concat!(
                        "SELECT ", common::message_columns!(), " FROM messages WHERE conversation_id = $1 AND seq > $2 ",
                        "ORDER BY seq ASC LIMIT $3"
                    ))
                    .bind(conversation)
                    .bind(seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?,
                };
                rows.sort_by_key(|m| m.seq);
                Ok(rows)
            }

            async fn last_messages(&self, conversations: &[Uuid]) -> StoreResult<Vec<Message>> {
                let mut out = Vec::new();
                for chunk in conversations.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.kind, m.body, m.created_at \
                         FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq \
                         WHERE c.last_seq > 0 AND c.id IN ",
                    );
                    qb.push_tuples(chunk, |mut t, c| {
                        t.push_bind(*c);
                    });
                    out.extend(qb.build_query_as::<Message>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn receipts_of(&self, conversation: Uuid) -> StoreResult<Vec<Receipt>> {
                Ok(sqlx::query_as::<$db, Receipt>(
                    "SELECT conversation_id, user_id, delivered_seq, read_seq FROM receipts WHERE conversation_id = $1",
                )
                .bind(conversation)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn receipts_for_user(&self, user: Uuid, conversations: &[Uuid]) -> StoreResult<Vec<Receipt>> {
                let mut out = Vec::new();
                for chunk in conversations.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT conversation_id, user_id, delivered_seq, read_seq FROM receipts WHERE user_id = ",
                    );
                    qb.push_bind(user).push(" AND conversation_id IN ");
                    qb.push_tuples(chunk, |mut t, c| {
                        t.push_bind(*c);
                    });
                    out.extend(qb.build_query_as::<Receipt>().fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn upsert_receipts(&self, receipts: &[Receipt], now: DateTime<Utc>) -> StoreResult<u64> {
                let mut statements = 0;
                let mut tx = self.pool.begin().await?;
                for chunk in receipts.chunks(common::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
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

            async fn has_users(&self) -> StoreResult<bool> {
                let row: Option<(Uuid,)> =
                    sqlx::query_as::<$db, (Uuid,)>("SELECT id FROM users LIMIT 1").fetch_optional(&self.pool).await?;
                Ok(row.is_some())
            }

            async fn create_user(&self, u: NewUser) -> StoreResult<User> {
                let mut tx = self.pool.begin().await?;
                Self::lock_first_user(&mut tx).await?;
                let user = sqlx::query_as::<$db, User>(concat!(
                    "INSERT INTO users (id, username, display_name, password_hash, is_admin, created_at, updated_at) ",
                    "SELECT $1, $2, $3, $4, COALESCE($5, NOT EXISTS (SELECT 1 FROM users)), $6, $6 RETURNING ",
                    common::user_columns!()
                ))
                    .bind(u.id)
                    .bind(&u.username)
                    .bind(&u.display_name)
                    .bind(&u.password_hash)
                    .bind(u.admin)
                    .bind(u.created_at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_unique)?;
                tx.commit().await?;
                Ok(user)
            }

            async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>> {
                let sql = concat!("SELECT ", common::user_columns!(), " FROM users WHERE id = $1");
                Ok(sqlx::query_as::<$db, User>(sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn credentials_by_username(&self, username: &str) -> StoreResult<Option<UserCredentials>> {
                Ok(sqlx::query_as::<$db, UserCredentials>(
                    "SELECT id, password_hash FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn credentials_by_id(&self, id: Uuid) -> StoreResult<Option<UserCredentials>> {
                Ok(sqlx::query_as::<$db, UserCredentials>("SELECT id, password_hash FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>> {
                let sql = concat!(
                    "SELECT ", common::user_columns!(), " FROM users ",
                    "WHERE lower(username) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' ",
                    "ORDER BY (lower(username) = $2) DESC, username LIMIT $3"
                );
                Ok(sqlx::query_as::<$db, User>(sql)
                    .bind(common::contains_pattern(query))
                    .bind(query.to_lowercase())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn update_user(
                &self,
                id: Uuid,
                display_name: Option<&str>,
                password_hash: Option<&str>,
            ) -> StoreResult<Option<User>> {
                let sql = concat!(
                    "UPDATE users SET display_name = COALESCE($2, display_name), ",
                    "password_hash = COALESCE($3, password_hash), updated_at = $4 ",
                    "WHERE id = $1 RETURNING ", common::user_columns!()
                );
                Ok(sqlx::query_as::<$db, User>(sql)
                    .bind(id)
                    .bind(display_name)
                    .bind(password_hash)
                    .bind(chrono::Utc::now())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn create_invite(&self, i: NewInvite) -> StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO invites (code_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(i.code_hash)
                .bind(i.created_by)
                .bind(i.created_at)
                .bind(i.expires_at)
                .execute(&self.pool)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn consume_invite(&self, code_hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
                let done = sqlx::query::<$db>(
                    "UPDATE invites SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
                )
                .bind(code_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_refresh_token(&self, t: NewRefreshToken) -> StoreResult<()> {
                sqlx::query::<$db>(
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
                let fresh: Option<(Uuid, Uuid)> = sqlx::query_as::<$db, (Uuid, Uuid)>(
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
                type Row = (Uuid, Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>);
                let row: Option<Row> = sqlx::query_as::<$db, Row>(
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
                    Some(used) if used + grace > now && expires_at > now => {
                        Ok(RefreshUse::Fresh { user_id, family_id })
                    }
                    Some(_) => {
                        self.revoke_refresh_family(family_id, now).await?;
                        Ok(RefreshUse::Replayed { user_id, family_id })
                    }
                    None => Ok(RefreshUse::Invalid),
                }
            }

            async fn revoke_refresh_family(&self, family_id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
                )
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
                let done = sqlx::query::<$db>(
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
        }
    };
}

pub(crate) use impl_store;

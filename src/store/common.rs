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
/// user?" decisions.
macro_rules! impl_store {
    ($store:ty, $db:ty, { $($specific:tt)* }) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            $($specific)*

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
                    return Ok(RefreshUse::Replayed { user_id, family_id });
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

            async fn revoke_user_refresh_tokens(&self, user_id: Uuid, now: DateTime<Utc>) -> StoreResult<u64> {
                let done = sqlx::query::<$db>(
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                )
                .bind(user_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use impl_store;

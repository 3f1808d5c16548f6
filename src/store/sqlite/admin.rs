//! Invites and account flags on SQLite ([`AdminStore`], in its method order). SQLite runs
//! one writer at a time, so the single conditional `UPDATE` that keeps the last
//! administrator is already serialised.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::{
    AdminStore, AdminUser, FlagChange, InviteRecord, InviteRevoke, NewInvite, StoreResult,
    sql::{self, ADMIN_USER_COLUMNS, AdminUserRow, INVITE_SELECT, InviteRow, map_unique},
};

impl SqliteStore {
    /// `Done` with the updated row, else whether the account exists.
    async fn flag_outcome(&self, id: Uuid, row: Option<AdminUserRow>) -> StoreResult<FlagChange> {
        Ok(match row {
            Some(r) => FlagChange::Done(r.into()),
            None if self.admin_user(id).await?.is_some() => FlagChange::LastAdmin,
            None => FlagChange::NotFound,
        })
    }
}

#[async_trait]
impl AdminStore for SqliteStore {
    async fn create_invite(&self, i: NewInvite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invites (id, code_hash, created_by, note, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i.id)
        .bind(i.code_hash)
        .bind(i.created_by)
        .bind(i.note)
        .bind(i.created_at)
        .bind(i.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn consume_invite(&self, code_hash: &[u8], now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE invites SET used_at = $2 \
             WHERE code_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_invite_use(&self, code_hash: &[u8], user: Uuid) -> StoreResult<()> {
        sqlx::query("UPDATE invites SET used_by = $2 WHERE code_hash = $1")
            .bind(code_hash)
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn invites(&self, limit: u32) -> StoreResult<Vec<InviteRecord>> {
        let rows: Vec<InviteRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{INVITE_SELECT} ORDER BY i.created_at DESC LIMIT $1")))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        Ok(sql::all(rows))
    }

    async fn revoke_invite(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<InviteRevoke> {
        let done =
            sqlx::query("UPDATE invites SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 AND used_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 1 {
            return Ok(InviteRevoke::Revoked);
        }
        let used: Option<bool> = sqlx::query_scalar("SELECT used_at IS NOT NULL FROM invites WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(if used.is_some() { InviteRevoke::Used } else { InviteRevoke::NotFound })
    }

    async fn list_users(&self, query: Option<&str>, limit: u32, offset: u32) -> StoreResult<Vec<AdminUser>> {
        let rows: Vec<AdminUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ADMIN_USER_COLUMNS} FROM users \
             WHERE $1 IS NULL OR lower(username) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\' \
             ORDER BY username LIMIT $2 OFFSET $3"
        )))
        .bind(query.map(sql::contains_pattern))
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        Ok(sql::all(rows))
    }

    async fn admin_user(&self, id: Uuid) -> StoreResult<Option<AdminUser>> {
        let row: Option<AdminUserRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {ADMIN_USER_COLUMNS} FROM users WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn set_admin(&self, id: Uuid, admin: bool, now: DateTime<Utc>) -> StoreResult<FlagChange> {
        let row: Option<AdminUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET is_admin = $2, updated_at = $3 WHERE id = $1 \
             AND ($2 OR NOT is_admin OR disabled_at IS NOT NULL \
                  OR EXISTS (SELECT 1 FROM users o WHERE o.id <> $1 AND o.is_admin AND o.disabled_at IS NULL)) \
             RETURNING {ADMIN_USER_COLUMNS}"
        )))
        .bind(id)
        .bind(admin)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        self.flag_outcome(id, row).await
    }

    async fn set_disabled(&self, id: Uuid, disabled: bool, now: DateTime<Utc>) -> StoreResult<FlagChange> {
        let row: Option<AdminUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) ELSE NULL END, \
             updated_at = $3 WHERE id = $1 \
             AND (NOT $2 OR NOT is_admin OR disabled_at IS NOT NULL \
                  OR EXISTS (SELECT 1 FROM users o WHERE o.id <> $1 AND o.is_admin AND o.disabled_at IS NULL)) \
             RETURNING {ADMIN_USER_COLUMNS}"
        )))
        .bind(id)
        .bind(disabled)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        self.flag_outcome(id, row).await
    }

    async fn is_disabled(&self, id: Uuid) -> StoreResult<bool> {
        let at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar("SELECT disabled_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(at.flatten().is_some())
    }

    async fn disabled_users(&self) -> StoreResult<Vec<Uuid>> {
        Ok(sqlx::query_scalar("SELECT id FROM users WHERE disabled_at IS NOT NULL").fetch_all(&self.pool).await?)
    }

    async fn user_counts(&self) -> StoreResult<(i64, i64)> {
        Ok(sqlx::query_as("SELECT COUNT(*), COUNT(disabled_at) FROM users").fetch_one(&self.pool).await?)
    }

    async fn database_bytes(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            .fetch_one(&self.pool)
            .await?)
    }
}

//! The uploads table on PostgreSQL ([`UploadStore`], in its method order).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres as DB, QueryBuilder};
use uuid::Uuid;

use super::PgStore;
use crate::store::{
    StoreResult, Upload, UploadStore,
    sql::{UPLOAD_COLUMNS, UploadRow, map_unique},
};

#[async_trait]
impl UploadStore for PgStore {
    async fn create_upload(&self, u: &Upload) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO uploads ({UPLOAD_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        )))
        .bind(u.id)
        .bind(u.owner_id)
        .bind(&u.sha256)
        .bind(&u.storage_key)
        .bind(&u.mime)
        .bind(u.bytes)
        .bind(u.width)
        .bind(u.height)
        .bind(u.preview.0)
        .bind(u.preview.1)
        .bind(u.thumbnail.0)
        .bind(u.thumbnail.1)
        .bind(&u.blurhash)
        .bind(u.created_at)
        .bind(u.conversation_id)
        .bind(u.message_id)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn upload(&self, id: Uuid) -> StoreResult<Option<Upload>> {
        let row: Option<UploadRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    async fn attach_uploads(
        &self,
        ids: &[Uuid],
        owner: Uuid,
        message_id: Uuid,
        conversation_id: Uuid,
    ) -> StoreResult<Vec<Upload>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<DB>::new("UPDATE uploads SET message_id = ");
        qb.push_bind(message_id).push(", conversation_id = ").push_bind(conversation_id);
        qb.push(" WHERE message_id IS NULL AND owner_id = ").push_bind(owner).push(" AND id IN (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        qb.push(") RETURNING ").push(UPLOAD_COLUMNS);
        let rows: Vec<UploadRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn detach_uploads(&self, message_id: Uuid) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE uploads SET message_id = NULL, conversation_id = NULL WHERE message_id = $1")
            .bind(message_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn upload_bytes_of(&self, owner: Uuid) -> StoreResult<i64> {
        let total: Option<i64> =
            sqlx::query_scalar("SELECT CAST(SUM(bytes) AS BIGINT) FROM uploads WHERE owner_id = $1")
                .bind(owner)
                .fetch_one(&self.pool)
                .await?;
        Ok(total.unwrap_or(0))
    }

    async fn unattached_uploads(&self, before: DateTime<Utc>, limit: u32) -> StoreResult<Vec<Upload>> {
        let rows: Vec<UploadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE message_id IS NULL AND created_at < $1 \
             ORDER BY created_at LIMIT $2"
        )))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_upload(&self, id: Uuid) -> StoreResult<Option<i64>> {
        let key: Option<String> = sqlx::query_scalar("DELETE FROM uploads WHERE id = $1 RETURNING storage_key")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(key) = key else { return Ok(None) };
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE storage_key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(left))
    }
}

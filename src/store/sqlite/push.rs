//! Push subscriptions and notification choices on SQLite ([`PushStore`], in its method
//! order).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Connection, QueryBuilder, Sqlite as DB};
use uuid::Uuid;

use super::SqliteStore;
use crate::store::{
    NotificationPrefs, PrefsChange, PushStore, PushSubscription, PushTarget, StoreResult,
    sql::{PUSH_SUBSCRIPTION_COLUMNS, PushSubscriptionRow},
};

#[async_trait]
impl PushStore for SqliteStore {
    async fn save_push_subscription(&self, s: &PushSubscription, max_per_user: u32) -> StoreResult<Uuid> {
        let mut conn = self.pool.acquire().await?;
        let result: StoreResult<_> = async {
            let mut tx = conn.begin().await?;
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) \
                 ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, \
                 auth = excluded.auth, updated_at = excluded.updated_at RETURNING id",
            )
            .bind(s.id)
            .bind(s.user_id)
            .bind(&s.endpoint)
            .bind(&s.p256dh)
            .bind(&s.auth)
            .bind(s.created_at)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN \
                 (SELECT id FROM push_subscriptions WHERE user_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2)",
            )
            .bind(s.user_id)
            .bind(i64::from(max_per_user.max(1)))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        }
        .await;
        super::settle(&mut conn, &result);
        result
    }

    async fn delete_push_subscription(&self, user: Uuid, endpoint: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2")
            .bind(user)
            .bind(endpoint)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_push_subscription_by_id(&self, id: Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn push_subscriptions(&self, users: &[Uuid]) -> StoreResult<Vec<PushSubscription>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<DB>::new("SELECT ");
        qb.push(PUSH_SUBSCRIPTION_COLUMNS).push(" FROM push_subscriptions WHERE user_id IN (");
        let mut list = qb.separated(", ");
        for u in users {
            list.push_bind(*u);
        }
        qb.push(") ORDER BY user_id, created_at");
        let rows: Vec<PushSubscriptionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn users_with_push(&self, users: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<DB>::new("SELECT DISTINCT user_id FROM push_subscriptions WHERE user_id IN (");
        let mut list = qb.separated(", ");
        for u in users {
            list.push_bind(*u);
        }
        qb.push(")");
        Ok(qb.build_query_scalar().fetch_all(&self.pool).await?)
    }

    async fn notification_prefs(&self, user: Uuid) -> StoreResult<NotificationPrefs> {
        let row: Option<(Option<bool>, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT push_hide_content, dnd_until FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&self.pool)
                .await?;
        let (hide_content, dnd_until) = row.unwrap_or_default();
        let mutes: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
            "SELECT conversation_id, muted_until FROM members WHERE user_id = $1 AND muted_until IS NOT NULL \
             ORDER BY conversation_id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(NotificationPrefs { hide_content, dnd_until, mutes })
    }

    async fn update_notification_prefs(&self, user: Uuid, change: &PrefsChange) -> StoreResult<()> {
        // One statement: a field left out keeps its value.
        sqlx::query(
            "UPDATE users SET \
             push_hide_content = CASE WHEN $2 THEN $3 ELSE push_hide_content END, \
             dnd_until = CASE WHEN $4 THEN $5 ELSE dnd_until END WHERE id = $1",
        )
        .bind(user)
        .bind(change.hide_content.is_some())
        .bind(change.hide_content.flatten())
        .bind(change.dnd_until.is_some())
        .bind(change.dnd_until.flatten())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_mute(&self, conversation: Uuid, user: Uuid, until: Option<DateTime<Utc>>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE members SET muted_until = $3 WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation)
            .bind(user)
            .bind(until)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn push_targets(&self, conversation: Uuid, users: &[Uuid]) -> StoreResult<Vec<PushTarget>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT u.id, u.push_hide_content, u.dnd_until, m.muted_until FROM members m \
             JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ",
        );
        qb.push_bind(conversation).push(" AND m.user_id IN (");
        let mut list = qb.separated(", ");
        for u in users {
            list.push_bind(*u);
        }
        qb.push(")");
        let rows: Vec<(Uuid, Option<bool>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)> =
            qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(user_id, hide_content, dnd_until, muted_until)| PushTarget {
                user_id,
                hide_content,
                dnd_until,
                muted_until,
            })
            .collect())
    }
}

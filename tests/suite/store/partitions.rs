//! Monthly partitions of `messages`, on PostgreSQL only. SQLite keeps one `messages` table,
//! so its `ensure_partitions` has nothing to create and a test of it could not fail; these
//! two check PostgreSQL's catalog and advisory lock instead, on the cluster scale alone.
//! (`messages::persist_batch_stores_a_message_of_any_month` covers what both backends
//! promise, on both scales.)

use chrono::{Duration, TimeZone, Utc};

use super::store;
use crate::common::Scale;

async fn partitions_cover_this_month_and_the_next_three() {
    let (store, env) = store(Scale::Cluster).await;
    let url = env.database_url().expect("cluster scale");
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
    let created = store.ensure_partitions(now, 3).await.unwrap();
    assert_eq!(created, vec!["messages_y2026m11", "messages_y2026m12", "messages_y2027m01", "messages_y2027m02"]);
    let again = store.ensure_partitions(now, 3).await.unwrap();
    assert!(again.is_empty(), "idempotent: {again:?}");
    let locked = store.ensure_partitions_locked(now + Duration::days(31), 3).await.unwrap();
    assert_eq!(locked, Some(vec!["messages_y2027m03".to_string()]), "one month later, one more");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let (strategy,): (String,) =
        sqlx::query_as("SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(strategy, "r", "RANGE partitioned");
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 5);
    // While another node holds the job's lock, the locked upkeep skips its turn.
    let mut other_node = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)").bind(0x4e58_0002_i64).execute(&mut *other_node).await.unwrap();
    assert_eq!(store.ensure_partitions_locked(now + Duration::days(62), 3).await.unwrap(), None);
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(0x4e58_0002_i64).execute(&mut *other_node).await.unwrap();
    drop(other_node);
    let later = store.ensure_partitions_locked(now + Duration::days(62), 3).await.unwrap();
    assert_eq!(later, Some(vec!["messages_y2027m04".to_string()]), "the next turn does the work");
    pool.close().await;
    env.cleanup().await;
}

async fn concurrent_partition_upkeep_is_safe() {
    let (store, env) = store(Scale::Cluster).await;
    let now = Utc.with_ymd_and_hms(2030, 1, 15, 0, 0, 0).unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.ensure_partitions(now, 2).await.unwrap() })
        })
        .collect();
    let mut names = Vec::new();
    for t in tasks {
        names.extend(t.await.unwrap());
    }
    names.sort();
    assert_eq!(
        names,
        vec!["messages_y2030m01", "messages_y2030m02", "messages_y2030m03"],
        "each month created exactly once"
    );
    env.cleanup().await;
}

mod partitions_cover_this_month_and_the_next_three {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cluster() {
        super::partitions_cover_this_month_and_the_next_three().await
    }
}

mod concurrent_partition_upkeep_is_safe {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cluster() {
        super::concurrent_partition_upkeep_is_safe().await
    }
}

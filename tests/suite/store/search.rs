//! The `SearchStore` part, through the trait alone: terms are text, never syntax (also
//! terms the service would never build); the order is total (rank, newest, id) and offsets
//! page it; the time bounds are exact; only members find; a message of any month is found
//! (on PostgreSQL its partition, created by the insert, has the index).

use chrono::{Duration, TimeZone, Utc};
use nexus::store::{NewMessage, SearchQuery, Term};
use uuid::Uuid;

use super::{group, now, store, users};
use crate::{both_scales, common::Scale};

fn term(words: &[&str], prefix: bool) -> Term {
    Term { words: words.iter().map(|w| w.to_string()).collect(), prefix }
}

fn query(user: Uuid, terms: Vec<Term>) -> SearchQuery {
    SearchQuery {
        user,
        terms,
        conversation: None,
        sender: None,
        after: None,
        before: None,
        as_of: Utc::now() + Duration::days(3650),
        has_image: false,
    }
}

fn message(conversation: Uuid, sender: Uuid, body: &str, at: chrono::DateTime<Utc>) -> NewMessage {
    NewMessage { body: body.into(), ..super::new_message(conversation, sender, &Uuid::now_v7().to_string(), at) }
}

async fn search_orders_pages_bounds_and_quotes(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let g = group(&store, "g", a.id, &[b.id], now()).await;
    let t = now() - Duration::hours(1);
    // Same text, same time: the id decides; then newer first; a better rank first.
    let batch: Vec<NewMessage> = vec![
        message(g, a.id, "alpha beta", t),
        message(g, b.id, "alpha beta", t),
        message(g, a.id, "alpha beta", t + Duration::minutes(1)),
        message(g, b.id, "alpha alpha alpha", t - Duration::minutes(1)),
        message(g, a.id, "gamma \"quoted\" NEAR(x) OR -y * col:z", t),
    ];
    store.persist_batch(&batch).await.unwrap();
    let found = |q: SearchQuery, offset: u32, limit: u32| {
        let store = store.clone();
        async move {
            store
                .search_messages(&q, offset, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.message.id)
                .collect::<Vec<_>>()
        }
    };
    let alpha = || query(a.id, vec![term(&["alpha"], false)]);
    let mut tied = vec![batch[0].id, batch[1].id];
    tied.sort_unstable_by(|x, y| y.cmp(x));
    let order = vec![batch[3].id, batch[2].id, tied[0], tied[1]];
    assert_eq!(found(alpha(), 0, 10).await, order);
    assert_eq!(found(alpha(), 1, 2).await, order[1..3].to_vec());
    assert_eq!(found(alpha(), 4, 2).await, Vec::<Uuid>::new());
    assert_eq!(found(alpha(), 0, 0).await, Vec::<Uuid>::new());
    // The hit is the stored message, with its snippet.
    let hits = store.search_messages(&alpha(), 0, 1).await.unwrap();
    assert_eq!(hits[0].message.body, "alpha alpha alpha");
    assert_eq!(hits[0].message.seq, 4);
    assert_eq!(hits[0].snippet, "\u{2}alpha\u{3} \u{2}alpha\u{3} \u{2}alpha\u{3}");

    // Bounds: `after` and `before` exclusive, `as_of` inclusive.
    let bounded = |after, before, as_of| SearchQuery { after, before, as_of, ..alpha() };
    assert_eq!(found(bounded(Some(t), None, t + Duration::hours(1)), 0, 10).await, vec![batch[2].id]);
    assert_eq!(found(bounded(None, Some(t), t + Duration::hours(1)), 0, 10).await, vec![batch[3].id]);
    assert_eq!(found(bounded(None, None, t), 0, 10).await, [vec![batch[3].id], tied.clone()].concat());
    let by_bob = SearchQuery { sender: Some(b.id), ..alpha() };
    assert_eq!(found(by_bob, 0, 10).await, vec![batch[3].id, batch[1].id]);
    let elsewhere = SearchQuery { conversation: Some(Uuid::now_v7()), ..alpha() };
    assert!(found(elsewhere, 0, 10).await.is_empty());
    assert!(found(SearchQuery { has_image: true, ..alpha() }, 0, 10).await.is_empty());
    // Not a member: nothing.
    assert!(found(query(c.id, vec![term(&["alpha"], false)]), 0, 10).await.is_empty());

    // Terms holding FTS5 or tsquery syntax are words, whatever their characters.
    for terms in [
        vec![term(&["\"quoted\""], false)],
        vec![term(&["near(x)"], false)],
        vec![term(&["or"], false), term(&["-y"], false)],
        vec![term(&["col:z"], false)],
        vec![term(&["gamma", "\"quoted\""], false)],
        vec![term(&["quo'"], true)],
        vec![term(&["gamma", "quo"], true)],
        vec![term(&["gam"], true), term(&["*"], false)],
    ] {
        assert_eq!(found(query(a.id, terms.clone()), 0, 10).await, vec![batch[4].id], "{terms:?}");
    }
    for terms in [
        vec![],
        vec![term(&["\""], false)],
        vec![term(&["*"], true)],
        vec![term(&["'); DROP TABLE messages; --"], false)],
        vec![term(&["quoted", "gamma"], false)],
        vec![term(&["alpha"], false), term(&["gamma"], false)],
    ] {
        assert!(found(query(a.id, terms.clone()), 0, 10).await.is_empty(), "{terms:?}");
    }
    // A term with no word requires nothing, as an empty FTS5 string.
    let with_empty = vec![term(&["gamma"], false), Term { words: vec![], prefix: false }];
    assert_eq!(found(query(a.id, with_empty), 0, 10).await, vec![batch[4].id]);
    env.cleanup().await;
}

async fn a_message_of_any_month_is_found(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a] = users(&store, &["alice"]).await.try_into().unwrap();
    let g = group(&store, "g", a.id, &[], now()).await;
    let far = Utc.with_ymd_and_hms(2032, 3, 9, 8, 0, 0).unwrap();
    let past = Utc.with_ymd_and_hms(2021, 7, 1, 0, 0, 0).unwrap();
    store.persist_batch(&[message(g, a.id, "far future", far), message(g, a.id, "far past", past)]).await.unwrap();
    store.ensure_partitions(far, 2).await.unwrap();
    let q = SearchQuery { as_of: far, ..query(a.id, vec![term(&["far"], false)]) };
    let bodies: Vec<String> =
        store.search_messages(&q, 0, 10).await.unwrap().into_iter().map(|h| h.message.body).collect();
    assert_eq!(bodies, ["far future", "far past"]);
    if let Some(url) = env.database_url() {
        // Every partition, those made after the migration included, has the GIN index.
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let missing: Vec<(String,)> = sqlx::query_as(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'messages'::regclass AND NOT EXISTS (SELECT 1 FROM pg_indexes x \
             WHERE x.tablename = c.relname AND x.indexdef LIKE '%USING gin (body_tsv)%')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(missing.is_empty(), "partitions without the search index: {missing:?}");
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(n >= 4, "{n} partitions");
        pool.close().await;
    }
    env.cleanup().await;
}

both_scales!(search_orders_pages_bounds_and_quotes, a_message_of_any_month_is_found);

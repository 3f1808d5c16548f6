//! The Bus conformance suite: the same promises from the in-process bus and from Redis.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use nexus::bus::{Bus, Quota, RateDecision, memory::MemoryBus, redis::RedisBus};

use crate::{
    both_scales,
    common::{Env, Scale},
};

async fn bus(scale: Scale) -> (Arc<dyn Bus>, Env) {
    let env = Env::new(Scale::Embedded).await; // no database needed: only a prefix
    let bus: Arc<dyn Bus> = match scale {
        Scale::Embedded => Arc::new(MemoryBus::new()),
        Scale::Cluster => {
            Arc::new(RedisBus::connect(&crate::common::redis_url(), &env.redis_prefix).await.expect("redis"))
        }
    };
    (bus, Env { scale, ..env })
}

const T: Duration = Duration::from_secs(5);

async fn pubsub_delivers_to_every_subscriber_of_a_topic(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let mut a = bus.subscribe("room:1").await.unwrap();
    let mut b = bus.subscribe("room:1").await.unwrap();
    let mut other = bus.subscribe("room:2").await.unwrap();
    bus.publish("room:1", Bytes::from_static(b"hello")).await.unwrap();
    assert_eq!(tokio::time::timeout(T, a.recv()).await.unwrap().unwrap(), "hello");
    assert_eq!(tokio::time::timeout(T, b.recv()).await.unwrap().unwrap(), "hello");
    assert!(tokio::time::timeout(Duration::from_millis(200), other.recv()).await.is_err(), "other topic got it");
    // Dropping one subscription leaves the other working.
    drop(a);
    bus.publish("room:1", Bytes::from_static(b"again")).await.unwrap();
    assert_eq!(tokio::time::timeout(T, b.recv()).await.unwrap().unwrap(), "again");
    env.cleanup().await;
}

async fn pubsub_resubscribe_after_last_unsubscribe(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let s = bus.subscribe("t").await.unwrap();
    drop(s);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut s = bus.subscribe("t").await.unwrap();
    bus.publish("t", Bytes::from_static(b"x")).await.unwrap();
    assert_eq!(tokio::time::timeout(T, s.recv()).await.unwrap().unwrap(), "x");
    env.cleanup().await;
}

async fn queue_delivers_once_and_acks(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.queue_ensure_group("q", "workers").await.unwrap();
    bus.queue_ensure_group("q", "workers").await.unwrap(); // idempotent
    for i in 0..5 {
        bus.enqueue("q", Bytes::from(format!("job{i}"))).await.unwrap();
    }
    let first = bus.dequeue("q", "workers", "c1", 3, T).await.unwrap();
    assert_eq!(first.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(), vec!["job0", "job1", "job2"]);
    assert!(first.iter().all(|e| e.deliveries == 1));
    // Another consumer gets the rest, never the pending ones.
    let second = bus.dequeue("q", "workers", "c2", 10, T).await.unwrap();
    assert_eq!(second.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(), vec!["job3", "job4"]);
    let ids: Vec<String> = first.iter().chain(&second).map(|e| e.id.clone()).collect();
    bus.ack("q", "workers", &ids).await.unwrap();
    // Nothing left: a short blocking read returns empty after its timeout.
    let none = bus.dequeue("q", "workers", "c1", 10, Duration::from_millis(100)).await.unwrap();
    assert!(none.is_empty());
    // Acked entries are never reclaimed.
    let r = bus.reclaim("q", "workers", "c3", Duration::ZERO, 10).await.unwrap();
    assert!(r.is_empty(), "{r:?}");
    env.cleanup().await;
}

async fn queue_blocking_read_wakes_on_enqueue(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.queue_ensure_group("q", "g").await.unwrap();
    let reader = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.dequeue("q", "g", "c", 10, Duration::from_secs(10)).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    bus.enqueue("q", Bytes::from_static(b"wake")).await.unwrap();
    let got = tokio::time::timeout(T, reader).await.unwrap().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload, "wake");
    assert!(started.elapsed() < Duration::from_secs(5), "reader was not woken");
    env.cleanup().await;
}

async fn queue_reclaims_a_dead_consumers_entries(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.queue_ensure_group("q", "g").await.unwrap();
    bus.enqueue("q", Bytes::from_static(b"a")).await.unwrap();
    bus.enqueue("q", Bytes::from_static(b"b")).await.unwrap();
    let taken = bus.dequeue("q", "g", "dead", 10, T).await.unwrap();
    assert_eq!(taken.len(), 2);
    // Not idle long enough yet.
    assert!(bus.reclaim("q", "g", "alive", Duration::from_secs(60), 10).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let reclaimed = bus.reclaim("q", "g", "alive", Duration::from_millis(100), 10).await.unwrap();
    assert_eq!(reclaimed.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(), vec!["a", "b"]);
    assert!(reclaimed.iter().all(|e| e.deliveries == 2), "{reclaimed:?}");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let again = bus.reclaim("q", "g", "alive", Duration::from_millis(100), 1).await.unwrap();
    assert_eq!(again.len(), 1, "count is respected");
    assert_eq!(again[0].deliveries, 3);
    // Dead-letter the poison entry; ack the other.
    bus.dead_letter("q", "g", &again[0], "failed 3 times").await.unwrap();
    let other: Vec<String> = reclaimed.iter().filter(|e| e.id != again[0].id).map(|e| e.id.clone()).collect();
    bus.ack("q", "g", &other).await.unwrap();
    let dead = bus.dead_letters("q", 10).await.unwrap();
    assert_eq!(dead, vec![(again[0].payload.clone(), "failed 3 times".to_string())]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(bus.reclaim("q", "g", "alive", Duration::from_millis(100), 10).await.unwrap().is_empty());
    env.cleanup().await;
}

async fn put_if_absent_dedupes_until_expiry(scale: Scale) {
    let (bus, env) = bus(scale).await;
    assert_eq!(bus.put_if_absent("dedupe:1", "first", Duration::from_millis(300)).await.unwrap(), None);
    assert_eq!(
        bus.put_if_absent("dedupe:1", "second", Duration::from_secs(10)).await.unwrap().as_deref(),
        Some("first")
    );
    assert_eq!(bus.get("dedupe:1").await.unwrap().as_deref(), Some("first"));
    assert_eq!(bus.get("dedupe:missing").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(bus.get("dedupe:1").await.unwrap(), None, "expired");
    assert_eq!(bus.put_if_absent("dedupe:1", "third", Duration::from_secs(10)).await.unwrap(), None);
    env.cleanup().await;
}

/// The dedupe key of a message exists only if its queue entry does: a retry that finds the
/// key is acked, so a key without an entry (a process killed between the two) would be an
/// acknowledged message lost. Found by `scripts/chaos kill`.
async fn enqueue_once_keys_and_appends_together_or_not_at_all(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.queue_ensure_group("q", "g").await.unwrap();
    let once = |payload: &'static [u8], value: &'static str| {
        let bus = bus.clone();
        async move { bus.enqueue_once("q", Bytes::from_static(payload), "dedupe:k", value, T).await.unwrap() }
    };
    assert_eq!(once(b"first", "ack 1").await, None);
    assert_eq!(once(b"second", "ack 2").await.as_deref(), Some("ack 1"), "the first attempt's value");
    assert_eq!(bus.get("dedupe:k").await.unwrap().as_deref(), Some("ack 1"));
    let got = bus.dequeue("q", "g", "c", 10, Duration::from_millis(200)).await.unwrap();
    assert_eq!(got.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(), vec![Bytes::from_static(b"first")]);
    if scale == Scale::Cluster {
        // An append that fails (here: the stream's key holds a string) sets no key.
        bus.set("broken", "not a stream", T).await.unwrap();
        assert!(bus.enqueue_once("broken", Bytes::from_static(b"x"), "dedupe:b", "ack", T).await.is_err());
        assert_eq!(bus.get("dedupe:b").await.unwrap(), None, "a key without its entry");
    }
    env.cleanup().await;
}

async fn buffer_keeps_the_maximum(scale: Scale) {
    let (bus, env) = bus(scale).await;
    assert_eq!(bus.buffer_max("rcpt", "c1:u1", 5).await.unwrap(), 5);
    assert_eq!(bus.buffer_max("rcpt", "c1:u1", 3).await.unwrap(), 5, "lower never overwrites");
    assert_eq!(bus.buffer_max("rcpt", "c1:u1", 9).await.unwrap(), 9);
    bus.buffer_max("rcpt", "c2:u1", 1).await.unwrap();
    let got = bus.buffer_get("rcpt", &["c1:u1".into(), "nope".into(), "c2:u1".into()]).await.unwrap();
    assert_eq!(got, vec![Some(9), None, Some(1)]);
    env.cleanup().await;
}

async fn buffer_take_survives_an_interrupted_flush(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.buffer_max("rcpt", "a", 10).await.unwrap();
    bus.buffer_max("rcpt", "b", 20).await.unwrap();
    let mut batch = bus.buffer_take("rcpt").await.unwrap();
    batch.sort();
    assert_eq!(batch, vec![("a".into(), 10), ("b".into(), 20)]);
    // Writes after the take go to the next batch; reads see both.
    bus.buffer_max("rcpt", "a", 7).await.unwrap();
    bus.buffer_max("rcpt", "c", 30).await.unwrap();
    assert_eq!(bus.buffer_get("rcpt", &["a".into()]).await.unwrap(), vec![Some(10)]);
    // The flusher "crashed" before buffer_done: the next take returns the old batch merged
    // with the new entries, keeping maxima.
    let mut batch = bus.buffer_take("rcpt").await.unwrap();
    batch.sort();
    assert_eq!(batch, vec![("a".into(), 10), ("b".into(), 20), ("c".into(), 30)]);
    bus.buffer_done("rcpt").await.unwrap();
    assert!(bus.buffer_take("rcpt").await.unwrap().is_empty());
    assert_eq!(bus.buffer_get("rcpt", &["a".into()]).await.unwrap(), vec![None]);
    env.cleanup().await;
}

async fn lock_is_exclusive_and_expires(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let token = bus.try_lock("job", Duration::from_millis(300)).await.unwrap().expect("free lock");
    assert!(bus.try_lock("job", Duration::from_secs(10)).await.unwrap().is_none(), "held");
    assert!(!bus.unlock("job", "not-the-token").await.unwrap());
    assert!(bus.unlock("job", &token).await.unwrap());
    let t2 = bus.try_lock("job", Duration::from_millis(200)).await.unwrap().expect("released");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let t3 = bus.try_lock("job", Duration::from_secs(10)).await.unwrap().expect("expired");
    assert!(!bus.unlock("job", &t2).await.unwrap(), "an expired holder cannot release the new one");
    assert!(bus.unlock("job", &t3).await.unwrap());
    env.cleanup().await;
}

async fn delete_if_eq_releases_only_the_same_value(scale: Scale) {
    let (bus, env) = bus(scale).await;
    assert_eq!(bus.put_if_absent("claim", "mine", T).await.unwrap(), None);
    assert!(!bus.delete_if_eq("claim", "theirs").await.unwrap());
    assert_eq!(bus.get("claim").await.unwrap().as_deref(), Some("mine"));
    assert!(bus.delete_if_eq("claim", "mine").await.unwrap());
    assert_eq!(bus.get("claim").await.unwrap(), None);
    assert!(!bus.delete_if_eq("claim", "mine").await.unwrap(), "already gone");
    env.cleanup().await;
}

async fn rate_limiter_allows_the_burst_then_paces(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let quota = Quota::per_second(10, 5); // 100 ms apart, burst 5
    for i in 0..5 {
        assert_eq!(bus.rate_limit("rl:x", quota).await.unwrap(), RateDecision::Allowed, "burst #{i}");
    }
    let RateDecision::Limited { retry_after } = bus.rate_limit("rl:x", quota).await.unwrap() else {
        panic!("6th call in a burst of 5 must be limited");
    };
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_millis(100), "{retry_after:?}");
    // Another key is independent.
    assert_eq!(bus.rate_limit("rl:y", quota).await.unwrap(), RateDecision::Allowed);
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert_eq!(bus.rate_limit("rl:x", quota).await.unwrap(), RateDecision::Allowed, "one token back");
    assert!(matches!(bus.rate_limit("rl:x", quota).await.unwrap(), RateDecision::Limited { .. }));
    env.cleanup().await;
}

async fn pubsub_one_subscription_keeps_the_order_across_topics(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let mut both = bus.subscribe_all(&["ev".to_string(), "ev:node".to_string()]).await.unwrap();
    let mut one = bus.subscribe("ev:node").await.unwrap();
    let batch: Vec<(String, Bytes)> =
        (0..60).map(|i| (if i % 3 == 0 { "ev" } else { "ev:node" }.to_string(), Bytes::from(format!("{i}")))).collect();
    bus.publish_many(&batch).await.unwrap();
    for i in 0..60 {
        assert_eq!(tokio::time::timeout(T, both.recv()).await.unwrap().unwrap(), format!("{i}"), "in publish order");
    }
    for i in (0..60).filter(|i| i % 3 != 0) {
        assert_eq!(tokio::time::timeout(T, one.recv()).await.unwrap().unwrap(), format!("{i}"));
    }
    // Dropping the two-topic subscription leaves the other subscriber of one topic.
    drop(both);
    tokio::time::sleep(Duration::from_millis(50)).await;
    bus.publish_many(&[("ev".into(), Bytes::from_static(b"a")), ("ev:node".into(), Bytes::from_static(b"b"))])
        .await
        .unwrap();
    assert_eq!(tokio::time::timeout(T, one.recv()).await.unwrap().unwrap(), "b");
    bus.publish_many(&[]).await.unwrap();
    env.cleanup().await;
}

async fn live_sets_count_and_list_live_members(scale: Scale) {
    let (bus, env) = bus(scale).await;
    let short = Duration::from_millis(300);
    let long = Duration::from_secs(60);
    assert_eq!(bus.live_add("p:1", "n1/a", long).await.unwrap(), 1);
    assert_eq!(bus.live_add("p:1", "n2/b", short).await.unwrap(), 2);
    assert_eq!(bus.live_add("p:1", "n1/a", long).await.unwrap(), 2, "a refresh is not a new member");
    bus.live_add_many(&[("p:2".into(), "n1/c".into()), ("p:3".into(), "n3/d".into())], long).await.unwrap();
    let mut m = bus.live_members(&["p:1".into(), "p:2".into(), "p:none".into()]).await.unwrap();
    m[0].sort();
    assert_eq!(m, vec![vec!["n1/a".to_string(), "n2/b".to_string()], vec!["n1/c".to_string()], vec![]]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(bus.live_counts(&["p:1".into(), "p:3".into()]).await.unwrap(), vec![1, 1], "b expired");
    assert_eq!(bus.live_members(&["p:1".into()]).await.unwrap(), vec![vec!["n1/a".to_string()]]);
    assert_eq!(bus.live_remove("p:1", "n1/a").await.unwrap(), 0);
    assert_eq!(bus.live_members(&["p:1".into()]).await.unwrap(), vec![Vec::<String>::new()]);
    env.cleanup().await;
}

async fn live_take_expired_gives_each_expired_member_to_one_caller(scale: Scale) {
    let (bus, env) = bus(scale).await;
    bus.live_add("nodes", "dead", Duration::from_millis(150)).await.unwrap();
    bus.live_add("nodes", "alive", Duration::from_secs(60)).await.unwrap();
    assert!(bus.live_take_expired("nodes").await.unwrap().is_empty(), "nothing expired yet");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A later add does not sweep the expired member away before someone takes it.
    assert_eq!(bus.live_add("nodes", "late", Duration::from_secs(60)).await.unwrap(), 2);
    let (a, b) = tokio::join!(bus.live_take_expired("nodes"), bus.live_take_expired("nodes"));
    let mut taken = [a.unwrap(), b.unwrap()].concat();
    taken.sort();
    assert_eq!(taken, vec!["dead".to_string()], "taken exactly once");
    assert!(bus.live_take_expired("nodes").await.unwrap().is_empty());
    assert_eq!(bus.live_counts(&["nodes".into()]).await.unwrap(), vec![2]);
    assert!(bus.live_take_expired("never").await.unwrap().is_empty());
    env.cleanup().await;
}

both_scales!(
    pubsub_one_subscription_keeps_the_order_across_topics,
    live_sets_count_and_list_live_members,
    live_take_expired_gives_each_expired_member_to_one_caller,
    pubsub_delivers_to_every_subscriber_of_a_topic,
    pubsub_resubscribe_after_last_unsubscribe,
    queue_delivers_once_and_acks,
    queue_blocking_read_wakes_on_enqueue,
    queue_reclaims_a_dead_consumers_entries,
    put_if_absent_dedupes_until_expiry,
    enqueue_once_keys_and_appends_together_or_not_at_all,
    buffer_keeps_the_maximum,
    buffer_take_survives_an_interrupted_flush,
    lock_is_exclusive_and_expires,
    delete_if_eq_releases_only_the_same_value,
    rate_limiter_allows_the_burst_then_paces,
);

/// The embedded bus journals its max-wins buffers, so a killed process loses nothing.
#[tokio::test]
async fn memory_buffer_journal_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let bus = MemoryBus::with_journal(dir.path()).unwrap();
        bus.buffer_max("receipts", "a", 5).await.unwrap();
        bus.buffer_max("receipts", "a", 3).await.unwrap();
        bus.buffer_max_many("receipts", &[("b".into(), 7), ("c".into(), 1)]).await.unwrap();
    } // "killed": nothing flushed
    let bus = MemoryBus::with_journal(dir.path()).unwrap();
    assert_eq!(
        bus.buffer_get("receipts", &["a".into(), "b".into(), "c".into()]).await.unwrap(),
        vec![Some(5), Some(7), Some(1)]
    );
    let mut taken = bus.buffer_take("receipts").await.unwrap();
    taken.sort();
    assert_eq!(taken, vec![("a".into(), 5), ("b".into(), 7), ("c".into(), 1)]);
    bus.buffer_max("receipts", "d", 9).await.unwrap();
    drop(bus); // killed between take and done
    let bus = MemoryBus::with_journal(dir.path()).unwrap();
    let mut taken = bus.buffer_take("receipts").await.unwrap();
    taken.sort();
    assert_eq!(
        taken,
        vec![("a".into(), 5), ("b".into(), 7), ("c".into(), 1), ("d".into(), 9)],
        "both batches replayed"
    );
    bus.buffer_done("receipts").await.unwrap();
    drop(bus);
    let bus = MemoryBus::with_journal(dir.path()).unwrap();
    assert!(bus.buffer_take("receipts").await.unwrap().is_empty(), "done means gone");
}

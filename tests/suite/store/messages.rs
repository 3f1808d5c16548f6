//! `persist_batch` (the method each backend writes its own way) first, then history pages
//! and each conversation's last message.

use chrono::{Duration, TimeZone, Utc};
use nexus::store::{Message, NewMessage, Page, Persisted};
use uuid::Uuid;

use super::{group, new_message, now, sorted, store, stored, users};
use crate::{both_scales, common::Scale};

async fn persist_batch_numbers_each_conversation_gap_free(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let g = group(&store, "g", a.id, &[b.id, c.id], now()).await;
    assert!(store.persist_batch(&[]).await.unwrap().results.is_empty(), "an empty batch stores nothing");

    let t = now();
    let batch = vec![
        new_message(ab.id, a.id, "a1", t),
        new_message(g, c.id, "c1", t + Duration::seconds(1)),
        new_message(ab.id, b.id, "b1", t + Duration::seconds(3)),
        NewMessage { kind: "call".into(), ..new_message(g, a.id, "a2", t + Duration::seconds(2)) },
        new_message(ab.id, a.id, "a3", t + Duration::seconds(2)),
    ];
    let outcome = store.persist_batch(&batch).await.unwrap();
    // Each result in input order, with the message as given plus its seq.
    let seqs: Vec<(Uuid, i64)> = outcome.results.iter().map(|r| (stored(r).conversation_id, stored(r).seq)).collect();
    assert_eq!(seqs, vec![(ab.id, 1), (g, 1), (ab.id, 2), (g, 2), (ab.id, 3)]);
    for (m, r) in batch.iter().zip(&outcome.results) {
        let s = stored(r);
        assert_eq!(
            (s.id, s.sender_id, s.client_id.as_deref(), s.kind.as_str(), s.body.as_str(), s.created_at),
            (m.id, m.sender_id, Some(m.client_id.as_str()), m.kind.as_str(), m.body.as_str(), m.created_at)
        );
    }
    // The fan-out's recipients: every member of each conversation involved.
    assert_eq!(outcome.members.len(), 2);
    assert_eq!(sorted(outcome.members[&ab.id].clone()), sorted(vec![a.id, b.id]));
    assert_eq!(sorted(outcome.members[&g].clone()), sorted(vec![a.id, b.id, c.id]));
    // Each counter moved by its count; the last activity is the newest message's time.
    let conv = store.conversation(ab.id).await.unwrap().unwrap();
    assert_eq!((conv.last_seq, conv.last_message_at), (3, Some(t + Duration::seconds(3))));
    let conv = store.conversation(g).await.unwrap().unwrap();
    assert_eq!((conv.last_seq, conv.last_message_at), (2, Some(t + Duration::seconds(2))));
    // What was returned is what is stored.
    let in_ab: Vec<Message> = [0, 2, 4].iter().map(|&i| stored(&outcome.results[i]).clone()).collect();
    assert_eq!(store.messages(ab.id, Page::After(0), 10).await.unwrap(), in_ab);

    // The next batch continues each counter, and an older message does not move the
    // last activity back.
    let next = store.persist_batch(&[new_message(ab.id, b.id, "b2", t)]).await.unwrap();
    assert_eq!(stored(&next.results[0]).seq, 4);
    let conv = store.conversation(ab.id).await.unwrap().unwrap();
    assert_eq!((conv.last_seq, conv.last_message_at), (4, Some(t + Duration::seconds(3))));
    env.cleanup().await;
}

async fn persist_batch_drops_duplicates_and_rejects_non_members(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let nowhere = Uuid::now_v7();
    let t = now();
    let first = store.persist_batch(&[new_message(ab.id, a.id, "x", t)]).await.unwrap();
    let original = stored(&first.results[0]).clone();

    let repeat_in_batch = NewMessage { body: "second copy".into(), ..new_message(ab.id, b.id, "y", t) };
    let batch = vec![
        // A retry of a stored message: the stored one, unchanged.
        NewMessage { body: "retry".into(), ..new_message(ab.id, a.id, "x", t) },
        new_message(ab.id, b.id, "y", t),
        // The same (sender, client_id) twice in one batch: stored once.
        repeat_in_batch.clone(),
        // Not a member; a conversation that does not exist.
        new_message(ab.id, c.id, "z", t),
        new_message(nowhere, a.id, "w", t),
        // Another sender may use the same client_id.
        new_message(ab.id, b.id, "x", t),
    ];
    let outcome = store.persist_batch(&batch).await.unwrap();
    let r = &outcome.results;
    assert_eq!(r.len(), batch.len());
    assert_eq!(r[0], Persisted::Duplicate(original.clone()));
    let y = stored(&r[1]).clone();
    assert_eq!(y.seq, 2);
    assert_eq!(r[2], Persisted::Duplicate(y.clone()), "the first copy wins");
    assert_eq!(r[3], Persisted::Rejected(batch[3].clone()));
    assert_eq!(r[4], Persisted::Rejected(batch[4].clone()));
    assert_eq!((stored(&r[5]).seq, stored(&r[5]).sender_id), (3, b.id));
    assert_eq!(outcome.members.get(&nowhere), Some(&Vec::new()), "an unknown conversation has no members");

    // Nothing else was stored: no gap, no second copy.
    let all = store.messages(ab.id, Page::After(0), 10).await.unwrap();
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(all[0], original);
    assert_eq!(all[1].body, "body of y");
    assert_eq!(store.conversation(ab.id).await.unwrap().unwrap().last_seq, 3);
    assert!(store.messages(nowhere, Page::Latest, 10).await.unwrap().is_empty());

    // A batch of duplicates only stores nothing and moves no counter.
    let again = store.persist_batch(&[repeat_in_batch]).await.unwrap();
    assert_eq!(again.results, vec![Persisted::Duplicate(y)]);
    assert_eq!(store.conversation(ab.id).await.unwrap().unwrap().last_seq, 3);
    env.cleanup().await;
}

async fn concurrent_batches_keep_seq_gap_free(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let t = now();
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            let store = store.clone();
            let batch: Vec<NewMessage> =
                (0..25).map(|i| new_message(ab.id, [a.id, b.id][i % 2], &format!("t{task}-{i}"), t)).collect();
            tokio::spawn(async move { store.persist_batch(&batch).await.unwrap() })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.extend(task.await.unwrap().results.iter().map(|r| stored(r).seq));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>(), "every seq once, none skipped");
    let all = store.messages(ab.id, Page::After(0), 1000).await.unwrap();
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), (1..=100).collect::<Vec<_>>());
    assert_eq!(store.conversation(ab.id).await.unwrap().unwrap().last_seq, 100);
    env.cleanup().await;
}

/// PostgreSQL keeps a partition per month: a message of a month nobody prepared makes the
/// insert create it and retry. Both scales store it.
async fn persist_batch_stores_a_message_of_any_month(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let far = Utc.with_ymd_and_hms(2031, 5, 17, 9, 30, 0).unwrap();
    let outcome = store.persist_batch(&[new_message(ab.id, a.id, "far", far)]).await.unwrap();
    assert_eq!(store.messages(ab.id, Page::Latest, 10).await.unwrap(), vec![stored(&outcome.results[0]).clone()]);
    // Its month is covered now; the next month is not, until the upkeep runs (alone here,
    // so it always gets the job's lock).
    assert!(store.ensure_partitions(far, 0).await.unwrap().is_empty(), "created by the insert");
    let ahead = store.ensure_partitions_locked(far, 1).await.unwrap();
    let expected: Vec<String> = if scale == Scale::Cluster { vec!["messages_y2031m06".into()] } else { Vec::new() };
    assert_eq!(ahead, Some(expected));
    let next_month = store.persist_batch(&[new_message(ab.id, b.id, "next", far + Duration::days(20))]).await.unwrap();
    assert_eq!(stored(&next_month.results[0]).seq, 2);
    env.cleanup().await;
}

async fn messages_page_by_seq(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let g = group(&store, "g", a.id, &[b.id], now()).await;
    let t = now();
    let batch: Vec<NewMessage> = (1..=10).map(|i| new_message(ab.id, a.id, &format!("m{i}"), t)).collect();
    store.persist_batch(&batch).await.unwrap();
    store.persist_batch(&[new_message(g, b.id, "elsewhere", t)]).await.unwrap();
    let page = |p: Page, limit: u32| {
        let store = store.clone();
        async move { store.messages(ab.id, p, limit).await.unwrap().iter().map(|m| m.seq).collect::<Vec<_>>() }
    };
    // Always ascending, whichever end the page starts from.
    assert_eq!(page(Page::Latest, 3).await, vec![8, 9, 10]);
    assert_eq!(page(Page::Before(8), 3).await, vec![5, 6, 7]);
    assert_eq!(page(Page::Before(3), 5).await, vec![1, 2]);
    assert_eq!(page(Page::After(2), 3).await, vec![3, 4, 5]);
    assert_eq!(page(Page::After(8), 5).await, vec![9, 10]);
    assert!(page(Page::After(10), 5).await.is_empty());
    assert!(page(Page::Before(1), 5).await.is_empty());
    assert_eq!(page(Page::Latest, 100).await, (1..=10).collect::<Vec<_>>(), "this conversation's only");
    let latest = store.messages(ab.id, Page::Latest, 1).await.unwrap();
    assert_eq!((latest[0].client_id.as_deref(), latest[0].body.as_str()), (Some("m10"), "body of m10"));
    env.cleanup().await;
}

async fn last_messages_are_each_conversations_newest(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    let g = group(&store, "g", a.id, &[b.id], now()).await;
    let quiet = group(&store, "quiet", a.id, &[b.id], now()).await;
    let t = now();
    store.persist_batch(&[new_message(ab.id, a.id, "1", t), new_message(g, a.id, "2", t)]).await.unwrap();
    let outcome = store.persist_batch(&[new_message(ab.id, b.id, "3", t), new_message(g, b.id, "4", t)]).await.unwrap();
    let mut last = store.last_messages(&[ab.id, g, quiet, Uuid::now_v7()]).await.unwrap();
    last.sort_by_key(|m| m.conversation_id);
    let mut expected: Vec<Message> = outcome.results.iter().map(|r| stored(r).clone()).collect();
    expected.sort_by_key(|m| m.conversation_id);
    assert_eq!(last, expected, "one each, none for a conversation without messages");
    assert!(store.last_messages(&[]).await.unwrap().is_empty());
    env.cleanup().await;
}

both_scales!(
    persist_batch_numbers_each_conversation_gap_free,
    persist_batch_drops_duplicates_and_rejects_non_members,
    concurrent_batches_keep_seq_gap_free,
    persist_batch_stores_a_message_of_any_month,
    messages_page_by_seq,
    last_messages_are_each_conversations_newest,
);

/// SQLite with a full disk: a batch that does not fit fails, and the batches that fit are
/// stored afterwards on the same (only) connection. When the commit cannot write, SQLite
/// rolls the transaction back by itself; sqlx did not see that, its own `ROLLBACK` failed,
/// and it refused every later transaction on the connection ("non-zero transaction
/// depth"), so the store stayed broken after the disk had room again. Found by
/// `scripts/chaos disk`. The full disk is a file-size limit (`RLIMIT_FSIZE`) on this test's
/// process (nextest runs each test in a process of its own).
#[tokio::test]
async fn sqlite_keeps_storing_after_a_full_disk() {
    if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() != Ok("process-per-test") {
        eprintln!("skipped: the file-size limit needs a process of its own (cargo nextest)");
        return;
    }
    let env = crate::common::Env::new(Scale::Embedded).await;
    let path = env.data_dir().join("full.db");
    let store: std::sync::Arc<dyn nexus::store::Store> =
        std::sync::Arc::new(nexus::store::sqlite::SqliteStore::open(&path, 1).await.unwrap());
    store.migrate().await.unwrap();
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, now()).await.unwrap();
    store.persist_batch(&[new_message(ab.id, b.id, "before", now())]).await.unwrap();
    let size = |p: std::path::PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = path.with_extension("db-wal");
    let room = size(path.clone()).max(size(wal)) + 4096;
    let mut original = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: reads this process's limit into a local.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut original) }, 0);
    let limit = |bytes: u64| {
        let l = libc::rlimit { rlim_cur: bytes.min(original.rlim_max), rlim_max: original.rlim_max };
        // SAFETY: plain system calls on this process; SIGXFSZ ignored so that a write past
        // the limit fails with EFBIG instead of ending the process.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &l), 0);
        }
    };
    limit(room);
    // About 30 pages of 4 KiB: more than the disk has left.
    let big: Vec<NewMessage> = (0..40)
        .map(|i| NewMessage { body: "x".repeat(3000), ..new_message(ab.id, a.id, &format!("big{i}"), now()) })
        .collect();
    let failed = store.persist_batch(&big).await;
    limit(original.rlim_cur);
    assert!(failed.is_err(), "the disk was full");
    for i in 2..=4 {
        let outcome = store
            .persist_batch(&[new_message(ab.id, b.id, &format!("small{i}"), now())])
            .await
            .unwrap_or_else(|e| panic!("a batch after the one that did not fit: {e}"));
        assert_eq!(stored(&outcome.results[0]).seq, i, "gap-free, the failed batch left nothing");
    }
    env.cleanup().await;
}

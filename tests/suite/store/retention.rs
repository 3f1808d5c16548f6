//! The retention part (`RetentionStore`): what each backend removes for a cutoff (SQLite:
//! every older row, in batches of the limit; PostgreSQL: whole months that are all older),
//! the uploads going with their messages, the `expired_seq` floor, and `seq` going on.

use chrono::{DateTime, TimeZone, Utc};
use nexus::store::{Attachment, Page, Store, Upload, month_start};
use uuid::Uuid;

use super::{group, new_message, store, stored, users};
use crate::{both_scales, common::Scale};

fn upload(owner: Uuid, key: &str) -> Upload {
    Upload {
        id: Uuid::now_v7(),
        owner_id: owner,
        sha256: key.into(),
        storage_key: key.into(),
        mime: "image/png".into(),
        bytes: 10,
        width: 4,
        height: 4,
        preview: (4, 4),
        thumbnail: (4, 4),
        blurhash: "L".into(),
        created_at: Utc::now(),
        conversation_id: None,
        message_id: None,
    }
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// Remove everything due at `cutoff`, call after call; returns the totals.
async fn expire_all(store: &dyn Store, cutoff: DateTime<Utc>, limit: u32) -> (u64, u64, Vec<String>, usize) {
    let (mut messages, mut uploads, mut keys, mut calls) = (0, 0, Vec::new(), 0);
    for _ in 0..100 {
        let e = store.expire_messages(cutoff, limit).await.unwrap().expect("no other node holds the lock");
        calls += 1;
        messages += e.messages;
        uploads += e.uploads;
        keys.extend(e.orphaned_keys);
        if !e.more {
            return (messages, uploads, keys, calls);
        }
    }
    panic!("retention never finished");
}

async fn expire_messages_removes_the_old_and_seq_goes_on(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, at(2020, 1, 1)).await.unwrap();
    let g = group(&store, "old", a.id, &[b.id], at(2020, 1, 1)).await;
    // January (all past the cutoff), February (partly), March (kept): the cutoff is 25 Feb.
    let times = [at(2020, 1, 10), at(2020, 1, 20), at(2020, 2, 20), at(2020, 3, 10), at(2020, 3, 11)];
    let cutoff = at(2020, 2, 25);
    let (shared, alone, kept) = (upload(a.id, "shared"), upload(a.id, "alone"), upload(a.id, "shared"));
    for u in [&shared, &alone, &kept] {
        store.create_upload(u).await.unwrap();
    }
    let mut ids = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let mut m = new_message(ab.id, a.id, &format!("ab{i}"), *t);
        let with: Vec<&Upload> = match i {
            0 => vec![&shared, &alone],
            4 => vec![&kept],
            _ => vec![],
        };
        let wanted: Vec<Uuid> = with.iter().map(|u| u.id).collect();
        let attached = store.attach_uploads(&wanted, a.id, m.id, ab.id).await.unwrap();
        m.attachments = attached.iter().map(Attachment::from).collect();
        ids.push(stored(&store.persist_batch(&[m]).await.unwrap().results[0]).id);
    }
    for (i, t) in [at(2020, 1, 11), at(2020, 1, 12)].iter().enumerate() {
        store.persist_batch(&[new_message(g, b.id, &format!("g{i}"), *t)]).await.unwrap();
    }

    // What each backend may remove: a row older than the cutoff; a month all older.
    let due = |t: &DateTime<Utc>| match scale {
        Scale::Embedded => *t < cutoff,
        Scale::Cluster => month_start(*t, 1) <= cutoff,
    };
    let removed_in_ab = times.iter().filter(|t| due(t)).count() as i64;
    assert_eq!(removed_in_ab, if scale == Scale::Embedded { 3 } else { 2 });
    let (messages, uploads, keys, calls) = expire_all(store.as_ref(), cutoff, 2).await;
    assert_eq!(messages, removed_in_ab as u64 + 2, "the direct chat's old messages and both of the group's");
    assert_eq!(uploads, 2, "the two uploads of the first message");
    assert_eq!(keys, vec!["alone".to_string()], "\"shared\" is still used by a kept message's upload");
    if scale == Scale::Embedded {
        assert_eq!(calls, 3, "five messages in batches of at most two");
    }
    assert_eq!(store.upload(shared.id).await.unwrap(), None);
    assert_eq!(store.upload(alone.id).await.unwrap(), None);
    assert!(store.upload(kept.id).await.unwrap().is_some());

    // History holds the rest under their own seqs; the counters did not move.
    let left: Vec<i64> = store.messages(ab.id, Page::After(0), 50).await.unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(left, ((removed_in_ab + 1)..=5).collect::<Vec<_>>());
    assert!(store.messages(g, Page::Latest, 50).await.unwrap().is_empty());
    assert_eq!(store.conversation(ab.id).await.unwrap().unwrap().last_seq, 5);
    assert_eq!(store.conversation(g).await.unwrap().unwrap().last_seq, 2);
    let mut floors = store.expired_seqs(&[ab.id, g, Uuid::now_v7()]).await.unwrap();
    floors.sort();
    let mut expected = vec![(ab.id, removed_in_ab), (g, 2)];
    expected.sort();
    assert_eq!(floors, expected);
    // The group lists with no last message; the direct chat's last is still its newest.
    let last = store.last_messages(&[ab.id, g]).await.unwrap();
    assert_eq!(last.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[4]]);

    // Nothing more is due; a new message takes the next seq, never a removed one.
    assert_eq!(expire_all(store.as_ref(), cutoff, 2).await.0, 0);
    let next = store.persist_batch(&[new_message(g, a.id, "later", Utc::now())]).await.unwrap();
    assert_eq!(stored(&next.results[0]).seq, 3);
    env.cleanup().await;
}

async fn expire_messages_waits_for_nothing_due(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let (ab, _) = store.create_direct(Uuid::now_v7(), a.id, b.id, Utc::now()).await.unwrap();
    store.persist_batch(&[new_message(ab.id, a.id, "now", Utc::now())]).await.unwrap();
    let e = store.expire_messages(Utc::now() - chrono::Duration::days(1), 100).await.unwrap().unwrap();
    assert_eq!((e.messages, e.more), (0, false));
    assert_eq!(store.messages(ab.id, Page::Latest, 10).await.unwrap().len(), 1);
    assert!(store.expired_seqs(&[ab.id]).await.unwrap().is_empty(), "no floor where nothing was removed");
    if let Some(url) = env.database_url() {
        // While another node holds the partition lock, this one skips its turn.
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let mut other_node = pool.acquire().await.unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)").bind(0x4e58_0002_i64).execute(&mut *other_node).await.unwrap();
        assert_eq!(store.expire_messages(Utc::now(), 100).await.unwrap(), None);
        drop(other_node);
        pool.close().await;
    }
    env.cleanup().await;
}

both_scales!(expire_messages_removes_the_old_and_seq_goes_on, expire_messages_waits_for_nothing_due);

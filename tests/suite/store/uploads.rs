//! The uploads part (`UploadStore`): rows in and out, the per-owner total, the unattached
//! ones by age, and deletion that tells how many uploads still share the files.

use chrono::Duration;
use nexus::store::{Attachment, StoreError, Upload};
use uuid::Uuid;

use super::{group, new_message, now, store, users};
use crate::{both_scales, common::Scale};

fn upload(owner: Uuid, key: &str, bytes: i64, created_at: chrono::DateTime<chrono::Utc>) -> Upload {
    Upload {
        id: Uuid::now_v7(),
        owner_id: owner,
        sha256: key.into(),
        storage_key: key.into(),
        mime: "image/png".into(),
        bytes,
        width: 640,
        height: 480,
        preview: (640, 480),
        thumbnail: (400, 300),
        blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj".into(),
        created_at,
        conversation_id: None,
        message_id: None,
    }
}

async fn uploads_round_trip_total_age_and_shared_files(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let t = now();
    let old = upload(a.id, "k1", 1_000, t - Duration::hours(30));
    let twin = upload(a.id, "k1", 1_000, t - Duration::hours(20));
    let fresh = upload(a.id, "k2", 500, t);
    let bobs = upload(b.id, "k3", 7, t - Duration::hours(40));
    for u in [&old, &twin, &fresh, &bobs] {
        store.create_upload(u).await.unwrap();
    }
    assert!(matches!(store.create_upload(&old).await, Err(StoreError::Conflict(_))), "an id is used once");
    assert_eq!(store.upload(old.id).await.unwrap().as_ref(), Some(&old));
    assert_eq!(store.upload(Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(store.upload_bytes_of(a.id).await.unwrap(), 2_500);
    assert_eq!(store.upload_bytes_of(Uuid::now_v7()).await.unwrap(), 0, "nobody's total is 0");

    // Older than a day, oldest first, at most `limit`.
    let ids = |v: Vec<Upload>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
    let day_ago = t - Duration::hours(24);
    assert_eq!(ids(store.unattached_uploads(day_ago, 10).await.unwrap()), vec![bobs.id, old.id]);
    assert_eq!(ids(store.unattached_uploads(day_ago, 1).await.unwrap()), vec![bobs.id]);
    assert_eq!(ids(store.unattached_uploads(t + Duration::seconds(1), 10).await.unwrap()).len(), 4);

    // The first of two sharing "k1" leaves one behind; the second leaves none.
    assert_eq!(store.delete_upload(old.id).await.unwrap(), Some(1));
    assert_eq!(store.delete_upload(twin.id).await.unwrap(), Some(0));
    assert_eq!(store.delete_upload(twin.id).await.unwrap(), None, "gone already");
    assert_eq!(store.upload_bytes_of(a.id).await.unwrap(), 500);
    env.cleanup().await;
}

async fn uploads_attach_once_and_messages_carry_them(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b] = users(&store, &["alice", "bob"]).await.try_into().unwrap();
    let g = group(&store, "g", a.id, &[b.id], now()).await;
    let (one, two, bobs) =
        (upload(a.id, "k1", 10, now()), upload(a.id, "k2", 20, now()), upload(b.id, "k3", 30, now()));
    for u in [&one, &two, &bobs] {
        store.create_upload(u).await.unwrap();
    }
    let m1 = Uuid::now_v7();
    // Only alice's own, unattached uploads are taken.
    let got = store.attach_uploads(&[one.id, bobs.id, Uuid::now_v7()], a.id, m1, g).await.unwrap();
    assert_eq!(got.iter().map(|u| u.id).collect::<Vec<_>>(), vec![one.id]);
    assert_eq!((got[0].message_id, got[0].conversation_id), (Some(m1), Some(g)));
    assert!(store.attach_uploads(&[one.id], a.id, Uuid::now_v7(), g).await.unwrap().is_empty(), "attached once");
    assert!(store.attach_uploads(&[], a.id, m1, g).await.unwrap().is_empty());
    assert_eq!(store.upload(bobs.id).await.unwrap().unwrap().message_id, None, "bob's is untouched");
    // Detached, it can be attached again; an attached one is no orphan.
    assert_eq!(store.detach_uploads(m1).await.unwrap(), 1);
    assert_eq!(store.attach_uploads(&[one.id, two.id], a.id, m1, g).await.unwrap().len(), 2);
    let later = now() + Duration::hours(1);
    assert_eq!(
        store.unattached_uploads(later, 10).await.unwrap().iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![bobs.id]
    );

    // A message keeps the attachments it was sent with, in order, through every read.
    let mut m = new_message(g, a.id, "with-images", now());
    m.id = m1;
    m.attachments = vec![Attachment::from(&two), Attachment::from(&one)];
    let outcome = store.persist_batch(std::slice::from_ref(&m)).await.unwrap();
    let stored = super::stored(&outcome.results[0]);
    assert_eq!(stored.attachments, m.attachments);
    let page = store.messages(g, nexus::store::Page::Latest, 10).await.unwrap();
    assert_eq!(page[0].attachments, m.attachments);
    assert_eq!(store.last_messages(&[g]).await.unwrap()[0].attachments, m.attachments);
    let plain = store.persist_batch(&[new_message(g, a.id, "plain", now())]).await.unwrap();
    assert!(super::stored(&plain.results[0]).attachments.is_empty());
    env.cleanup().await;
}

both_scales!(uploads_round_trip_total_age_and_shared_files, uploads_attach_once_and_messages_carry_them);

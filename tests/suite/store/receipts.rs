//! Read and delivery pointers: the batch upsert that keeps the maximum, and both reads.

use nexus::store::Receipt;
use uuid::Uuid;

use super::{group, now, store, users};
use crate::{both_scales, common::Scale};

async fn receipts_keep_the_maximum(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let g = group(&store, "g", a.id, &[b.id, c.id], now()).await;
    let h = group(&store, "h", a.id, &[b.id], now()).await;
    let receipt = |conversation_id, user_id, delivered_seq, read_seq| Receipt {
        conversation_id,
        user_id,
        delivered_seq,
        read_seq,
    };
    assert!(store.receipts_of(g).await.unwrap().is_empty());
    assert_eq!(store.upsert_receipts(&[], now()).await.unwrap(), 0, "nothing to write, no statement");
    let written = [receipt(g, a.id, 5, 3), receipt(g, b.id, 2, 0), receipt(h, a.id, 7, 7)];
    assert_eq!(store.upsert_receipts(&written, now()).await.unwrap(), 1, "one statement for a small batch");
    // Lower pointers never win; a read pointer raises the delivered one with it.
    let later = [receipt(g, a.id, 4, 4), receipt(g, b.id, 1, 6)];
    assert_eq!(store.upsert_receipts(&later, now()).await.unwrap(), 1);
    let mut of_g = store.receipts_of(g).await.unwrap();
    of_g.sort_by_key(|r| r.user_id);
    let mut expected = vec![receipt(g, a.id, 5, 4), receipt(g, b.id, 6, 6)];
    expected.sort_by_key(|r| r.user_id);
    assert_eq!(of_g, expected);

    let mut of_a = store.receipts_for_user(a.id, &[g, h, Uuid::now_v7()]).await.unwrap();
    of_a.sort_by_key(|r| r.conversation_id);
    let mut expected = vec![receipt(g, a.id, 5, 4), receipt(h, a.id, 7, 7)];
    expected.sort_by_key(|r| r.conversation_id);
    assert_eq!(of_a, expected);
    assert_eq!(store.receipts_for_user(a.id, &[h]).await.unwrap(), vec![receipt(h, a.id, 7, 7)]);
    assert!(store.receipts_for_user(c.id, &[g, h]).await.unwrap().is_empty(), "carol has none yet");
    assert!(store.receipts_for_user(a.id, &[]).await.unwrap().is_empty());
    env.cleanup().await;
}

/// More receipts than one statement holds: written in chunks of 500, all kept.
async fn receipts_upsert_in_chunks(scale: Scale) {
    let (store, env) = store(scale).await;
    let names: Vec<String> = (0..23).map(|i| format!("user{i:02}")).collect();
    let people = users(&store, &names.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let mut conversations = Vec::new();
    for i in 0..22 {
        conversations.push(group(&store, &format!("g{i}"), people[0].id, &[], now()).await);
    }
    // 23 × 22 = 506 pointers; receipts need no membership.
    let receipts: Vec<Receipt> = conversations
        .iter()
        .flat_map(|&c| {
            people.iter().map(move |u| Receipt { conversation_id: c, user_id: u.id, delivered_seq: 2, read_seq: 1 })
        })
        .collect();
    assert_eq!(store.upsert_receipts(&receipts, now()).await.unwrap(), 2);
    assert_eq!(store.receipts_of(conversations[21]).await.unwrap().len(), 23);
    let of_last = store.receipts_for_user(people[22].id, &conversations).await.unwrap();
    assert_eq!(of_last.len(), 22);
    assert!(of_last.iter().all(|r| (r.delivered_seq, r.read_seq) == (2, 1)));
    env.cleanup().await;
}

both_scales!(receipts_keep_the_maximum, receipts_upsert_in_chunks,);

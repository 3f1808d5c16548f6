//! The notifications part (`PushStore`): subscriptions upserted by endpoint (moving between
//! users), trimmed to the newest per user, deleted by owner or id; notification choices
//! changed field by field; mutes only on memberships; the targets of one conversation.

use chrono::Duration;
use nexus::store::{PrefsChange, PushSubscription, PushTarget, muted_always};
use uuid::Uuid;

use super::{group, now, sorted, store, users};
use crate::{both_scales, common::Scale};

both_scales!(subscriptions_move_trim_and_delete, choices_and_mutes_are_per_user_and_membership);

fn sub(user: Uuid, endpoint: &str, at: chrono::DateTime<chrono::Utc>) -> PushSubscription {
    PushSubscription {
        id: Uuid::now_v7(),
        user_id: user,
        endpoint: endpoint.into(),
        p256dh: format!("key-{endpoint}"),
        auth: "auth".into(),
        created_at: at,
    }
}

async fn subscriptions_move_trim_and_delete(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let t = now();
    let first = sub(a.id, "https://push/1", t);
    assert_eq!(store.save_push_subscription(&first, 3).await.unwrap(), first.id);
    for (i, e) in ["https://push/2", "https://push/3"].iter().enumerate() {
        store.save_push_subscription(&sub(a.id, e, t + Duration::seconds(i as i64 + 1)), 3).await.unwrap();
    }
    store.save_push_subscription(&sub(b.id, "https://push/b", t), 3).await.unwrap();
    assert_eq!(sorted(store.users_with_push(&[a.id, b.id, c.id]).await.unwrap()), sorted(vec![a.id, b.id]));
    assert!(store.users_with_push(&[]).await.unwrap().is_empty());
    assert!(store.push_subscriptions(&[]).await.unwrap().is_empty());

    // A fourth for alice drops her oldest.
    store.save_push_subscription(&sub(a.id, "https://push/4", t + Duration::seconds(9)), 3).await.unwrap();
    let mine: Vec<String> = store.push_subscriptions(&[a.id]).await.unwrap().into_iter().map(|s| s.endpoint).collect();
    assert_eq!(mine.len(), 3);
    assert!(!mine.contains(&"https://push/1".to_string()), "{mine:?}");

    // The same endpoint saved by bob moves it to him, with the new keys and the old id.
    let mut moved = sub(b.id, "https://push/4", t + Duration::seconds(10));
    moved.p256dh = "new-key".into();
    let kept = store.save_push_subscription(&moved, 3).await.unwrap();
    let bobs = store.push_subscriptions(&[b.id]).await.unwrap();
    let got = bobs.iter().find(|s| s.endpoint == "https://push/4").expect("moved to bob");
    assert_eq!((got.id, got.p256dh.as_str()), (kept, "new-key"));
    assert_ne!(kept, moved.id, "an endpoint keeps its row");
    assert_eq!(store.push_subscriptions(&[a.id]).await.unwrap().len(), 2);

    // Only the owner deletes by endpoint; by id anyone (the push service said gone).
    assert!(!store.delete_push_subscription(c.id, "https://push/b").await.unwrap());
    assert!(store.delete_push_subscription(b.id, "https://push/b").await.unwrap());
    assert!(!store.delete_push_subscription(b.id, "https://push/b").await.unwrap());
    assert!(store.delete_push_subscription_by_id(kept).await.unwrap());
    assert!(!store.delete_push_subscription_by_id(kept).await.unwrap());
    assert!(store.push_subscriptions(&[b.id]).await.unwrap().is_empty());
    assert_eq!(store.users_with_push(&[a.id, b.id]).await.unwrap(), vec![a.id]);
    env.cleanup().await;
}

async fn choices_and_mutes_are_per_user_and_membership(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let t = now();
    let g = group(&store, "g", a.id, &[b.id], t).await;

    let prefs = store.notification_prefs(a.id).await.unwrap();
    assert_eq!((prefs.hide_content, prefs.dnd_until, prefs.mutes.len()), (None, None, 0));
    let dnd = t + Duration::hours(8);
    store
        .update_notification_prefs(a.id, &PrefsChange { hide_content: Some(Some(true)), dnd_until: None })
        .await
        .unwrap();
    store
        .update_notification_prefs(a.id, &PrefsChange { hide_content: None, dnd_until: Some(Some(dnd)) })
        .await
        .unwrap();
    let prefs = store.notification_prefs(a.id).await.unwrap();
    assert_eq!((prefs.hide_content, prefs.dnd_until), (Some(true), Some(dnd)), "each change kept the other field");
    store
        .update_notification_prefs(a.id, &PrefsChange { hide_content: Some(None), dnd_until: Some(None) })
        .await
        .unwrap();
    let prefs = store.notification_prefs(a.id).await.unwrap();
    assert_eq!((prefs.hide_content, prefs.dnd_until), (None, None));
    assert_eq!(store.notification_prefs(b.id).await.unwrap().hide_content, None, "others untouched");

    // Mutes live on memberships: carol is not a member.
    let hour = t + Duration::hours(1);
    assert!(store.set_mute(g, b.id, Some(hour)).await.unwrap());
    assert!(store.set_mute(g, a.id, Some(muted_always())).await.unwrap());
    assert!(!store.set_mute(g, c.id, Some(hour)).await.unwrap());
    assert!(!store.set_mute(Uuid::now_v7(), a.id, Some(hour)).await.unwrap());
    assert_eq!(store.notification_prefs(b.id).await.unwrap().mutes, vec![(g, hour)]);
    assert_eq!(store.notification_prefs(a.id).await.unwrap().mutes, vec![(g, muted_always())]);

    let mut targets = store.push_targets(g, &[a.id, b.id, c.id]).await.unwrap();
    targets.sort_by_key(|t| t.user_id);
    let mut want = vec![
        PushTarget { user_id: a.id, hide_content: None, dnd_until: None, muted_until: Some(muted_always()) },
        PushTarget { user_id: b.id, hide_content: None, dnd_until: None, muted_until: Some(hour) },
    ];
    want.sort_by_key(|t| t.user_id);
    assert_eq!(targets, want, "carol is no member: no target");
    assert!(store.push_targets(g, &[]).await.unwrap().is_empty());

    assert!(store.set_mute(g, b.id, None).await.unwrap());
    assert!(store.notification_prefs(b.id).await.unwrap().mutes.is_empty());
    // Leaving the group takes the mute with it.
    assert!(store.remove_member(g, a.id).await.unwrap());
    assert!(store.notification_prefs(a.id).await.unwrap().mutes.is_empty());
    env.cleanup().await;
}

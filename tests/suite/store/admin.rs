//! Invites and the account flags administrators change (the `AdminStore` part).

use std::sync::Arc;

use chrono::Duration;
use nexus::store::{FlagChange, InviteRevoke, NewInvite, NewUser, Store, StoreError};
use uuid::Uuid;

use super::{new_user, now, store, users};
use crate::{both_scales, common::Scale};

fn invite(h: &[u8], by: Uuid, note: Option<&str>, ttl: Duration) -> NewInvite {
    let at = now();
    NewInvite {
        id: Uuid::now_v7(),
        code_hash: h.to_vec(),
        created_by: by,
        note: note.map(str::to_string),
        created_at: at,
        expires_at: at + ttl,
    }
}

async fn invites_work_once_expire_and_revoke(scale: Scale) {
    let (store, env) = store(scale).await;
    let admin = store.create_user(new_user("admin")).await.unwrap();
    let t = now();
    let i1 = invite(b"i1", admin.id, Some("for bob"), Duration::days(1));
    store.create_invite(i1.clone()).await.unwrap();
    store.create_invite(invite(b"i2", admin.id, None, Duration::seconds(-1))).await.unwrap();
    let i3 = invite(b"i3", admin.id, None, Duration::days(1));
    store.create_invite(i3.clone()).await.unwrap();
    assert!(matches!(
        store.create_invite(invite(b"i1", admin.id, None, Duration::days(1))).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.consume_invite(b"i1", t).await.unwrap());
    assert!(!store.consume_invite(b"i1", t).await.unwrap(), "single use");
    assert!(!store.consume_invite(b"i2", t).await.unwrap(), "expired");
    assert!(!store.consume_invite(b"nope", t).await.unwrap());
    let bob = store.create_user(new_user("bob")).await.unwrap();
    store.record_invite_use(b"i1", bob.id).await.unwrap();

    // Revoked: it no longer works; revoking again is fine; a used one cannot be revoked.
    assert_eq!(store.revoke_invite(i3.id, t).await.unwrap(), InviteRevoke::Revoked);
    assert_eq!(store.revoke_invite(i3.id, t).await.unwrap(), InviteRevoke::Revoked);
    assert!(!store.consume_invite(b"i3", t).await.unwrap(), "revoked");
    assert_eq!(store.revoke_invite(i1.id, t).await.unwrap(), InviteRevoke::Used);
    assert_eq!(store.revoke_invite(Uuid::now_v7(), t).await.unwrap(), InviteRevoke::NotFound);

    let list = store.invites(10).await.unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0].id, i3.id, "newest first");
    assert_eq!(list[0].revoked_at, Some(t));
    let used = list.iter().find(|i| i.id == i1.id).unwrap();
    assert_eq!(used.note.as_deref(), Some("for bob"));
    assert_eq!(used.used_at, Some(t));
    assert_eq!(used.used_by.as_ref().map(|u| u.id), Some(bob.id));
    assert_eq!(used.created_by.as_ref().map(|u| u.username.as_str()), Some("admin"));
    assert!(list.iter().filter(|i| i.id != i1.id).all(|i| i.used_by.is_none()));
    assert_eq!(store.invites(1).await.unwrap().len(), 1);
    env.cleanup().await;
}

async fn account_flags_keep_the_last_admin(scale: Scale) {
    let (store, env) = store(scale).await;
    let u = users(&store, &["ann", "bob"]).await;
    let (ann, bob) = (&u[0], &u[1]);
    let t = now();
    // Ann is the only admin: she can be neither demoted nor disabled.
    assert_eq!(store.set_admin(ann.id, false, t).await.unwrap(), FlagChange::LastAdmin);
    assert_eq!(store.set_disabled(ann.id, true, t).await.unwrap(), FlagChange::LastAdmin);
    assert_eq!(store.set_admin(Uuid::now_v7(), true, t).await.unwrap(), FlagChange::NotFound);
    assert_eq!(store.set_disabled(Uuid::now_v7(), true, t).await.unwrap(), FlagChange::NotFound);
    // Bob becomes admin; now Ann may be demoted, and then Bob is the last one.
    let FlagChange::Done(b) = store.set_admin(bob.id, true, t).await.unwrap() else { panic!("promote") };
    assert!(b.user.is_admin && b.disabled_at.is_none());
    assert!(matches!(store.set_admin(bob.id, true, t).await.unwrap(), FlagChange::Done(_)), "idempotent");
    let FlagChange::Done(a) = store.set_admin(ann.id, false, t).await.unwrap() else { panic!("demote") };
    assert!(!a.user.is_admin);
    assert_eq!(store.set_disabled(bob.id, true, t).await.unwrap(), FlagChange::LastAdmin);
    // A non-admin can be disabled and enabled; the first time is kept.
    let FlagChange::Done(a) = store.set_disabled(ann.id, true, t).await.unwrap() else { panic!("disable") };
    assert_eq!(a.disabled_at, Some(t));
    let later = t + Duration::seconds(5);
    let FlagChange::Done(a) = store.set_disabled(ann.id, true, later).await.unwrap() else { panic!("again") };
    assert_eq!(a.disabled_at, Some(t), "still disabled since the first time");
    assert!(store.is_disabled(ann.id).await.unwrap());
    assert!(!store.is_disabled(bob.id).await.unwrap());
    assert!(!store.is_disabled(Uuid::now_v7()).await.unwrap());
    assert_eq!(store.disabled_users().await.unwrap(), vec![ann.id]);
    assert_eq!(store.user_counts().await.unwrap(), (2, 1));
    // A disabled admin does not count: promoting disabled Ann leaves Bob the last enabled one.
    assert!(matches!(store.set_admin(ann.id, true, t).await.unwrap(), FlagChange::Done(_)));
    assert_eq!(store.set_admin(bob.id, false, t).await.unwrap(), FlagChange::LastAdmin);
    let FlagChange::Done(a) = store.set_disabled(ann.id, false, t).await.unwrap() else { panic!("enable") };
    assert!(a.disabled_at.is_none());
    assert!(store.disabled_users().await.unwrap().is_empty());
    assert!(matches!(store.set_disabled(bob.id, true, t).await.unwrap(), FlagChange::Done(_)), "Ann is enabled");
    assert_eq!(store.admin_user(bob.id).await.unwrap().unwrap().disabled_at, Some(t));
    assert!(store.admin_user(Uuid::now_v7()).await.unwrap().is_none());
    assert!(store.database_bytes().await.unwrap() > 0);
    env.cleanup().await;
}

/// Two admins demoting each other at once: one of them stays.
async fn concurrent_demotions_keep_one_admin(scale: Scale) {
    let (store, env) = store(scale).await;
    for round in 0..5 {
        let a = store.create_user(NewUser { admin: Some(true), ..new_user(&format!("a{round}")) }).await.unwrap();
        let b = store.create_user(NewUser { admin: Some(true), ..new_user(&format!("b{round}")) }).await.unwrap();
        // Only these two are enabled admins: disable every other.
        for other in store.list_users(None, 200, 0).await.unwrap() {
            if other.user.id != a.id && other.user.id != b.id && other.user.is_admin {
                let _ = store.set_admin(other.user.id, false, now()).await.unwrap();
            }
        }
        let (s1, s2) = (store.clone(), store.clone());
        let t = now();
        let (r1, r2) = tokio::join!(
            tokio::spawn(async move { s1.set_admin(a.id, false, t).await.unwrap() }),
            tokio::spawn(async move { s2.set_disabled(b.id, true, t).await.unwrap() }),
        );
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        let done = [&r1, &r2].iter().filter(|r| matches!(r, FlagChange::Done(_))).count();
        assert_eq!(done, 1, "round {round}: exactly one change wins: {r1:?} {r2:?}");
        let admins = enabled_admins(&store).await;
        assert_eq!(admins, 1, "round {round}: one enabled admin is left");
    }
    env.cleanup().await;
}

async fn enabled_admins(store: &Arc<dyn Store>) -> usize {
    store.list_users(None, 200, 0).await.unwrap().iter().filter(|u| u.user.is_admin && u.disabled_at.is_none()).count()
}

async fn list_users_pages_and_matches(scale: Scale) {
    let (store, env) = store(scale).await;
    users(&store, &["carol", "alice", "bob", "al_x", "alxy"]).await;
    let all: Vec<String> = store.list_users(None, 10, 0).await.unwrap().into_iter().map(|u| u.user.username).collect();
    assert_eq!(all, ["al_x", "alice", "alxy", "bob", "carol"]);
    let page: Vec<String> = store.list_users(None, 2, 2).await.unwrap().into_iter().map(|u| u.user.username).collect();
    assert_eq!(page, ["alxy", "bob"]);
    // `_` matches itself only; display names match too ("… display").
    let found: Vec<String> =
        store.list_users(Some("al_"), 10, 0).await.unwrap().into_iter().map(|u| u.user.username).collect();
    assert_eq!(found, ["al_x"]);
    assert_eq!(store.list_users(Some("DISPLAY"), 10, 0).await.unwrap().len(), 5);
    assert!(store.list_users(Some("%"), 10, 0).await.unwrap().is_empty());
    assert!(store.list_users(None, 10, 50).await.unwrap().is_empty());
    env.cleanup().await;
}

both_scales!(
    invites_work_once_expire_and_revoke,
    account_flags_keep_the_last_admin,
    concurrent_demotions_keep_one_admin,
    list_users_pages_and_matches,
);

//! Users and refresh tokens (invites: `admin.rs`).

use chrono::{Duration, Utc};
use nexus::store::{NewRefreshToken, NewUser, RefreshUse, StoreError, User};
use uuid::Uuid;

use super::{new_user, store};
use crate::{both_scales, common::Scale};

async fn first_user_is_admin_and_usernames_are_unique(scale: Scale) {
    let (store, env) = store(scale).await;
    assert!(!store.has_users().await.unwrap());
    let a = store.create_user(new_user("alice")).await.unwrap();
    assert!(a.is_admin);
    assert!(store.has_users().await.unwrap());
    let b = store.create_user(new_user("bob")).await.unwrap();
    assert!(!b.is_admin);
    let c = store.create_user(NewUser { admin: Some(true), ..new_user("carol") }).await.unwrap();
    assert!(c.is_admin, "forced admin");
    assert!(matches!(store.create_user(new_user("alice")).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.user_by_id(b.id).await.unwrap().unwrap(), b);
    assert!(store.user_by_id(Uuid::now_v7()).await.unwrap().is_none());
    let creds = store.credentials_by_username("bob").await.unwrap().unwrap();
    assert_eq!((creds.id, creds.password_hash.as_str()), (b.id, "hash"));
    assert!(store.credentials_by_username("nobody").await.unwrap().is_none());
    env.cleanup().await;
}

async fn concurrent_first_registrations_make_one_admin(scale: Scale) {
    let (store, env) = store(scale).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.create_user(new_user(&format!("user{i}"))).await.unwrap() })
        })
        .collect();
    let mut admins = 0;
    for t in tasks {
        admins += usize::from(t.await.unwrap().is_admin);
    }
    assert_eq!(admins, 1);
    env.cleanup().await;
}

async fn search_matches_username_and_display_name_safely(scale: Scale) {
    let (store, env) = store(scale).await;
    store.create_user(new_user("alice")).await.unwrap();
    store.create_user(NewUser { display_name: "Alicia Keys".into(), ..new_user("keys") }).await.unwrap();
    store.create_user(NewUser { display_name: "100% Bob_".into(), ..new_user("bob") }).await.unwrap();
    let names = |v: Vec<User>| v.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.search_users("ALI", 10).await.unwrap()), vec!["alice", "keys"]);
    // Wildcards in the query are literal.
    assert_eq!(names(store.search_users("%", 10).await.unwrap()), vec!["bob"]);
    assert_eq!(names(store.search_users("_", 10).await.unwrap()), vec!["bob"]);
    assert!(store.search_users("'; DROP TABLE users; --", 10).await.unwrap().is_empty());
    assert_eq!(store.search_users("a", 1).await.unwrap().len(), 1, "limit");
    env.cleanup().await;
}

async fn update_user_changes_only_given_fields(scale: Scale) {
    let (store, env) = store(scale).await;
    let u = store.create_user(new_user("alice")).await.unwrap();
    let v = store.update_user(u.id, Some("New Name"), None).await.unwrap().unwrap();
    assert_eq!(v.display_name, "New Name");
    assert_eq!(store.credentials_by_id(u.id).await.unwrap().unwrap().password_hash, "hash");
    store.update_user(u.id, None, Some("hash2")).await.unwrap().unwrap();
    assert_eq!(store.credentials_by_id(u.id).await.unwrap().unwrap().password_hash, "hash2");
    assert_eq!(store.user_by_id(u.id).await.unwrap().unwrap().display_name, "New Name");
    assert!(store.update_user(Uuid::now_v7(), Some("x"), None).await.unwrap().is_none());
    assert!(store.credentials_by_id(Uuid::now_v7()).await.unwrap().is_none());
    env.cleanup().await;
}

async fn refresh_tokens_rotate_once_and_replay_revokes_the_family(scale: Scale) {
    let (store, env) = store(scale).await;
    let u = store.create_user(new_user("alice")).await.unwrap();
    let now = Utc::now();
    let family = Uuid::now_v7();
    let token = |h: &[u8]| NewRefreshToken {
        token_hash: h.to_vec(),
        user_id: u.id,
        family_id: family,
        created_at: now,
        expires_at: now + Duration::days(1),
    };
    let grace = Duration::seconds(10);
    store.insert_refresh_token(token(b"t1")).await.unwrap();
    assert_eq!(
        store.consume_refresh_token(b"t1", now, grace).await.unwrap(),
        RefreshUse::Fresh { user_id: u.id, family_id: family }
    );
    store.insert_refresh_token(token(b"t2")).await.unwrap();
    // Within the grace window a second use is tolerated (two tabs).
    assert!(matches!(store.consume_refresh_token(b"t1", now, grace).await.unwrap(), RefreshUse::Fresh { .. }));
    // After it, it is a replay: the whole family, t2 included, is revoked.
    let later = now + Duration::seconds(60);
    assert_eq!(
        store.consume_refresh_token(b"t1", later, grace).await.unwrap(),
        RefreshUse::Replayed { user_id: u.id, family_id: family }
    );
    assert_eq!(store.consume_refresh_token(b"t2", later, grace).await.unwrap(), RefreshUse::Invalid, "revoked");
    assert_eq!(store.consume_refresh_token(b"unknown", later, grace).await.unwrap(), RefreshUse::Invalid);
    // Expired tokens are invalid.
    store
        .insert_refresh_token(NewRefreshToken {
            expires_at: now - Duration::seconds(1),
            family_id: Uuid::now_v7(),
            ..token(b"old")
        })
        .await
        .unwrap();
    assert_eq!(store.consume_refresh_token(b"old", now, grace).await.unwrap(), RefreshUse::Invalid);
    // Log out everywhere.
    store.insert_refresh_token(NewRefreshToken { family_id: Uuid::now_v7(), ..token(b"t3") }).await.unwrap();
    store.insert_refresh_token(NewRefreshToken { family_id: Uuid::now_v7(), ..token(b"t4") }).await.unwrap();
    // t3, t4 and the expired one (t1/t2 were revoked with their family already).
    let kept = Uuid::now_v7();
    store.insert_refresh_token(NewRefreshToken { family_id: kept, ..token(b"t5") }).await.unwrap();
    assert_eq!(store.revoke_user_refresh_tokens(u.id, now, Some(kept)).await.unwrap(), 3);
    assert_eq!(store.consume_refresh_token(b"t4", now, grace).await.unwrap(), RefreshUse::Invalid);
    assert!(matches!(store.consume_refresh_token(b"t5", now, grace).await.unwrap(), RefreshUse::Fresh { .. }), "kept");
    assert_eq!(store.revoke_user_refresh_tokens(u.id, now, None).await.unwrap(), 1);
    env.cleanup().await;
}

async fn concurrent_refresh_consumes_once(scale: Scale) {
    let (store, env) = store(scale).await;
    let u = store.create_user(new_user("alice")).await.unwrap();
    let now = Utc::now();
    store
        .insert_refresh_token(NewRefreshToken {
            token_hash: b"race".to_vec(),
            user_id: u.id,
            family_id: Uuid::now_v7(),
            created_at: now,
            expires_at: now + Duration::days(1),
        })
        .await
        .unwrap();
    // With no grace, exactly one of many concurrent uses wins.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.consume_refresh_token(b"race", now, Duration::zero()).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        fresh += usize::from(matches!(t.await.unwrap(), RefreshUse::Fresh { .. }));
    }
    assert_eq!(fresh, 1);
    env.cleanup().await;
}

async fn revoking_a_family_ends_only_that_session(scale: Scale) {
    let (store, env) = store(scale).await;
    let u = store.create_user(new_user("alice")).await.unwrap();
    let now = Utc::now();
    let (ended, other) = (Uuid::now_v7(), Uuid::now_v7());
    let token = |h: &[u8], family: Uuid| NewRefreshToken {
        token_hash: h.to_vec(),
        user_id: u.id,
        family_id: family,
        created_at: now,
        expires_at: now + Duration::days(1),
    };
    store.insert_refresh_token(token(b"e1", ended)).await.unwrap();
    store.insert_refresh_token(token(b"e2", ended)).await.unwrap();
    store.insert_refresh_token(token(b"o1", other)).await.unwrap();
    assert!(matches!(store.insert_refresh_token(token(b"o1", other)).await, Err(StoreError::Conflict(_))));
    store.revoke_refresh_family(ended, now).await.unwrap();
    store.revoke_refresh_family(ended, now).await.expect("revoking twice is a no-op");
    let grace = Duration::seconds(10);
    assert_eq!(store.consume_refresh_token(b"e1", now, grace).await.unwrap(), RefreshUse::Invalid);
    assert_eq!(store.consume_refresh_token(b"e2", now, grace).await.unwrap(), RefreshUse::Invalid);
    assert_eq!(
        store.consume_refresh_token(b"o1", now, grace).await.unwrap(),
        RefreshUse::Fresh { user_id: u.id, family_id: other }
    );
    // Only the other family's token was left to revoke.
    assert_eq!(store.revoke_user_refresh_tokens(u.id, now, None).await.unwrap(), 1);
    env.cleanup().await;
}

both_scales!(
    first_user_is_admin_and_usernames_are_unique,
    concurrent_first_registrations_make_one_admin,
    search_matches_username_and_display_name_safely,
    update_user_changes_only_given_fields,
    refresh_tokens_rotate_once_and_replay_revokes_the_family,
    concurrent_refresh_consumes_once,
    revoking_a_family_ends_only_that_session,
);

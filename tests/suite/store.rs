//! The Store conformance suite: the same behaviour from SQLite and PostgreSQL, through the
//! `Store` trait only. Every method of the trait is exercised; the tests follow the trait's
//! order, and this table says which test covers which method.
//!
//! | methods | tests |
//! | --- | --- |
//! | `migrate`, `ping`, `backend`, `close` | every test (`store()` migrates twice), `lifecycle_ping_backend_close` |
//! | `shared_secret` | `shared_secret_is_first_come_and_stable` |
//! | `has_users`, `create_user`, `user_by_id`, `credentials_by_username` | `first_user_is_admin_and_usernames_are_unique`, `concurrent_first_registrations_make_one_admin` |
//! | `search_users` | `search_matches_username_and_display_name_safely` |
//! | `update_user`, `credentials_by_id` | `update_user_changes_only_given_fields` |
//! | `create_invite`, `consume_invite` | `invites_work_once_and_expire` |
//! | `insert_refresh_token`, `consume_refresh_token`, `revoke_user_refresh_tokens` | `refresh_tokens_rotate_once_and_replay_revokes_the_family`, `concurrent_refresh_consumes_once` |
//! | `revoke_refresh_family` | `revoking_a_family_ends_only_that_session` (and, through a replay, the rotation test) |
//! | `create_direct`, `conversation`, `member_role`, `members_of` | `direct_conversation_is_one_per_pair` |
//! | `create_group`, `existing_users`, `add_members`, `remove_member`, `rename_conversation`, `member_role`, `members_of` | `group_membership_and_renaming` |
//! | `conversations_of`, `conversation_ids_of`, `contacts_of` | `a_users_conversations_and_contacts` |
//! | `persist_batch` | `persist_batch_numbers_each_conversation_gap_free`, `persist_batch_drops_duplicates_and_rejects_non_members`, `concurrent_batches_keep_seq_gap_free`, `persist_batch_stores_a_message_of_any_month` |
//! | `messages` | `messages_page_by_seq` (and the `persist_batch` tests) |
//! | `last_messages` | `last_messages_are_each_conversations_newest` |
//! | `receipts_of`, `receipts_for_user`, `upsert_receipts` | `receipts_keep_the_maximum`, `receipts_upsert_in_chunks` |
//! | `ensure_partitions`, `ensure_partitions_locked` | `persist_batch_stores_a_message_of_any_month` (both scales); on PostgreSQL only: `partitions_cover_this_month_and_the_next_three`, `concurrent_partition_upkeep_is_safe` |
//!
//! Every test runs on both scales (`both_scales!`), except the two partition tests at the
//! end: SQLite keeps one `messages` table and its upkeep has nothing to do, so they check
//! PostgreSQL's catalog and advisory lock and run on the cluster scale alone.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};
use nexus::store::{
    Message, NewInvite, NewMessage, NewRefreshToken, NewUser, Page, Persisted, Receipt, RefreshUse, Store, StoreError,
    User, postgres::PgStore, sqlite::SqliteStore,
};
use uuid::Uuid;

use crate::{
    both_scales,
    common::{Env, Scale},
};

async fn store(scale: Scale) -> (Arc<dyn Store>, Env) {
    let env = Env::new(scale).await;
    let store: Arc<dyn Store> = match env.database_url() {
        None => Arc::new(SqliteStore::open(&env.data_dir().join("t.db"), 4).await.unwrap()),
        Some(url) => Arc::new(PgStore::connect(&url, 4).await.unwrap()),
    };
    store.migrate().await.unwrap();
    store.migrate().await.expect("migrating twice is a no-op");
    (store, env)
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: Uuid::now_v7(),
        username: name.into(),
        display_name: format!("{name} display"),
        password_hash: "hash".into(),
        admin: None,
        created_at: Utc::now(),
    }
}

/// Now, to the millisecond: both databases store it exactly, so values read back compare
/// equal to the ones written.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn new_message(conversation: Uuid, sender: Uuid, client_id: &str, at: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: Uuid::now_v7(),
        conversation_id: conversation,
        sender_id: sender,
        client_id: client_id.into(),
        kind: "text".into(),
        body: format!("body of {client_id}"),
        created_at: at,
    }
}

fn stored(p: &Persisted) -> &Message {
    match p {
        Persisted::Stored(m) => m,
        other => panic!("expected Stored, got {other:?}"),
    }
}

/// Users named `names`, created in that order.
async fn users(store: &Arc<dyn Store>, names: &[&str]) -> Vec<User> {
    let mut out = Vec::new();
    for name in names {
        out.push(store.create_user(new_user(name)).await.unwrap());
    }
    out
}

/// A group of `creator` and `members`, created at `at`.
async fn group(store: &Arc<dyn Store>, name: &str, creator: Uuid, members: &[Uuid], at: DateTime<Utc>) -> Uuid {
    store.create_group(Uuid::now_v7(), name, creator, members, at).await.unwrap().id
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids
}

// ---- lifecycle ----

async fn lifecycle_ping_backend_close(scale: Scale) {
    let (store, env) = store(scale).await;
    store.ping().await.unwrap();
    let expected = if scale == Scale::Cluster { "postgres" } else { "sqlite" };
    assert_eq!(store.backend(), expected);
    store.close().await;
    assert!(matches!(store.ping().await, Err(StoreError::Database(_))), "a closed store answers no more");
    env.cleanup().await;
}

async fn shared_secret_is_first_come_and_stable(scale: Scale) {
    let (store, env) = store(scale).await;
    let first = store.shared_secret("jwt", b"first").await.unwrap();
    let second = store.shared_secret("jwt", b"second").await.unwrap();
    let other = store.shared_secret("other", b"third").await.unwrap();
    if scale == Scale::Cluster {
        assert_eq!(first.as_deref(), Some(&b"first"[..]));
        assert_eq!(second.as_deref(), Some(&b"first"[..]), "the stored secret wins over a later candidate");
        assert_eq!(other.as_deref(), Some(&b"third"[..]), "one secret per name");
    } else {
        // One node: the data folder keeps the secret, the database none.
        assert_eq!((first, second, other), (None, None, None));
    }
    env.cleanup().await;
}

// ---- users ----

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

// ---- invites ----

async fn invites_work_once_and_expire(scale: Scale) {
    let (store, env) = store(scale).await;
    let admin = store.create_user(new_user("admin")).await.unwrap();
    let now = Utc::now();
    let invite = |h: &[u8], ttl: Duration| NewInvite {
        code_hash: h.to_vec(),
        created_by: admin.id,
        created_at: now,
        expires_at: now + ttl,
    };
    store.create_invite(invite(b"i1", Duration::days(1))).await.unwrap();
    store.create_invite(invite(b"i2", Duration::seconds(-1))).await.unwrap();
    assert!(matches!(store.create_invite(invite(b"i1", Duration::days(1))).await, Err(StoreError::Conflict(_))));
    assert!(store.consume_invite(b"i1", now).await.unwrap());
    assert!(!store.consume_invite(b"i1", now).await.unwrap(), "single use");
    assert!(!store.consume_invite(b"i2", now).await.unwrap(), "expired");
    assert!(!store.consume_invite(b"nope", now).await.unwrap());
    env.cleanup().await;
}

// ---- refresh tokens ----

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

// ---- conversations ----

async fn direct_conversation_is_one_per_pair(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c] = users(&store, &["alice", "bob", "carol"]).await.try_into().unwrap();
    let at = now();
    let (conv, created) = store.create_direct(Uuid::now_v7(), a.id, b.id, at).await.unwrap();
    assert!(created);
    assert_eq!(
        (
            conv.kind.as_str(),
            conv.name.as_deref(),
            conv.created_by,
            conv.created_at,
            conv.last_seq,
            conv.last_message_at
        ),
        ("direct", None, Some(a.id), at, 0, None)
    );
    // The same pair, either way round and with a fresh id: the same conversation.
    let (again, created) = store.create_direct(Uuid::now_v7(), b.id, a.id, now()).await.unwrap();
    assert!(!created);
    assert_eq!(again, conv);
    assert_eq!(store.conversation(conv.id).await.unwrap(), Some(conv.clone()));
    assert_eq!(store.conversation(Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(store.member_role(conv.id, a.id).await.unwrap().as_deref(), Some("member"));
    assert_eq!(store.member_role(conv.id, b.id).await.unwrap().as_deref(), Some("member"));
    assert_eq!(store.member_role(conv.id, c.id).await.unwrap(), None);
    let members = store.members_of(&[conv.id]).await.unwrap();
    let users_of: Vec<(Uuid, User)> = members.into_iter().map(|(id, m)| (id, m.user)).collect();
    assert_eq!(users_of, vec![(conv.id, a.clone()), (conv.id, b.clone())], "joined together, then by username");
    // Another pair gets another conversation.
    let (other, created) = store.create_direct(Uuid::now_v7(), a.id, c.id, now()).await.unwrap();
    assert!(created);
    assert_ne!(other.id, conv.id);
    env.cleanup().await;
}

async fn group_membership_and_renaming(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c, d] = users(&store, &["alice", "bob", "carol", "dave"]).await.try_into().unwrap();
    let ghost = Uuid::now_v7();
    let at = now();
    // The creator listed among the members, and a user who does not exist.
    let g = store.create_group(Uuid::now_v7(), "Team", a.id, &[a.id, c.id, ghost, b.id], at).await.unwrap();
    assert_eq!(
        (g.kind.as_str(), g.name.as_deref(), g.created_by, g.created_at, g.last_seq),
        ("group", Some("Team"), Some(a.id), at, 0)
    );
    assert_eq!(store.member_role(g.id, a.id).await.unwrap().as_deref(), Some("admin"));
    assert_eq!(store.member_role(g.id, b.id).await.unwrap().as_deref(), Some("member"));
    assert_eq!(store.member_role(g.id, ghost).await.unwrap(), None);
    let roles = |members: Vec<(Uuid, nexus::store::Member)>| {
        members.into_iter().map(|(id, m)| (id, m.user.username, m.role)).collect::<Vec<_>>()
    };
    let team = |name: &str, role: &str| (g.id, name.to_string(), role.to_string());
    // In join order, then by username: the creator first, then bob and carol.
    assert_eq!(
        roles(store.members_of(&[g.id]).await.unwrap()),
        vec![team("alice", "admin"), team("bob", "member"), team("carol", "member")]
    );

    assert_eq!(sorted(store.existing_users(&[a.id, ghost, d.id]).await.unwrap()), sorted(vec![a.id, d.id]));
    assert!(store.existing_users(&[ghost]).await.unwrap().is_empty());
    // Only users who exist and are not members yet are added.
    assert_eq!(store.add_members(g.id, &[d.id, b.id, ghost], now()).await.unwrap(), vec![d.id]);
    assert_eq!(store.member_role(g.id, d.id).await.unwrap().as_deref(), Some("member"));
    assert!(store.remove_member(g.id, c.id).await.unwrap());
    assert!(!store.remove_member(g.id, c.id).await.unwrap(), "already gone");
    assert_eq!(store.member_role(g.id, c.id).await.unwrap(), None);

    // Members of several conversations at once, each with its conversation id.
    let (direct, _) = store.create_direct(Uuid::now_v7(), b.id, c.id, now()).await.unwrap();
    let both = roles(store.members_of(&[g.id, direct.id]).await.unwrap());
    assert_eq!(both.len(), 5);
    assert!(both.contains(&team("dave", "member")) && !both.contains(&team("carol", "member")));
    assert!(both.contains(&(direct.id, "carol".into(), "member".into())));
    assert!(store.members_of(&[]).await.unwrap().is_empty());

    assert!(store.rename_conversation(g.id, "Core team").await.unwrap());
    assert_eq!(store.conversation(g.id).await.unwrap().unwrap().name.as_deref(), Some("Core team"));
    assert!(!store.rename_conversation(direct.id, "Nope").await.unwrap(), "a direct conversation has no name");
    assert_eq!(store.conversation(direct.id).await.unwrap().unwrap().name, None);
    assert!(!store.rename_conversation(Uuid::now_v7(), "Nope").await.unwrap());
    env.cleanup().await;
}

async fn a_users_conversations_and_contacts(scale: Scale) {
    let (store, env) = store(scale).await;
    let [a, b, c, d] = users(&store, &["alice", "bob", "carol", "dave"]).await.try_into().unwrap();
    let t0 = now() - Duration::hours(1);
    let older = group(&store, "older", a.id, &[b.id, c.id], t0).await;
    let newer = group(&store, "newer", a.id, &[b.id], t0 + Duration::minutes(1)).await;
    let direct = store.create_direct(Uuid::now_v7(), a.id, b.id, t0 + Duration::minutes(2)).await.unwrap().0.id;
    store.create_direct(Uuid::now_v7(), c.id, d.id, t0).await.unwrap();
    let ids = |v: Vec<nexus::store::Conversation>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    // Newest activity first: without messages, by creation.
    assert_eq!(ids(store.conversations_of(a.id).await.unwrap()), vec![direct, newer, older]);
    // A message makes the oldest the most recent.
    let outcome = store.persist_batch(&[new_message(older, c.id, "c1", now())]).await.unwrap();
    stored(&outcome.results[0]);
    assert_eq!(ids(store.conversations_of(a.id).await.unwrap()), vec![older, direct, newer]);
    assert_eq!(ids(store.conversations_of(c.id).await.unwrap()).len(), 2);
    assert!(store.conversations_of(Uuid::now_v7()).await.unwrap().is_empty());

    assert_eq!(sorted(store.conversation_ids_of(a.id).await.unwrap()), sorted(vec![older, newer, direct]));
    assert!(store.conversation_ids_of(Uuid::now_v7()).await.unwrap().is_empty());

    // Everyone who shares a conversation, once each, never the user.
    assert_eq!(sorted(store.contacts_of(a.id).await.unwrap()), sorted(vec![b.id, c.id]));
    assert_eq!(sorted(store.contacts_of(c.id).await.unwrap()), sorted(vec![a.id, b.id, d.id]));
    assert_eq!(store.contacts_of(d.id).await.unwrap(), vec![c.id]);
    env.cleanup().await;
}

// ---- messages ----

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

// ---- receipts ----

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

both_scales!(
    lifecycle_ping_backend_close,
    shared_secret_is_first_come_and_stable,
    first_user_is_admin_and_usernames_are_unique,
    concurrent_first_registrations_make_one_admin,
    search_matches_username_and_display_name_safely,
    update_user_changes_only_given_fields,
    invites_work_once_and_expire,
    refresh_tokens_rotate_once_and_replay_revokes_the_family,
    concurrent_refresh_consumes_once,
    revoking_a_family_ends_only_that_session,
    direct_conversation_is_one_per_pair,
    group_membership_and_renaming,
    a_users_conversations_and_contacts,
    persist_batch_numbers_each_conversation_gap_free,
    persist_batch_drops_duplicates_and_rejects_non_members,
    concurrent_batches_keep_seq_gap_free,
    persist_batch_stores_a_message_of_any_month,
    messages_page_by_seq,
    last_messages_are_each_conversations_newest,
    receipts_keep_the_maximum,
    receipts_upsert_in_chunks,
);

// ---- partitions: PostgreSQL only ----
//
// SQLite keeps one `messages` table, so its `ensure_partitions` has nothing to create and
// a test of it could not fail; these two check PostgreSQL's catalog and lock instead, on
// the cluster scale alone. (`persist_batch_stores_a_message_of_any_month` covers what both
// backends promise.)

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

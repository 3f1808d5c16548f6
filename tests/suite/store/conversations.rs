//! Direct and group conversations, their members, and a user's conversations and contacts.

use chrono::Duration;
use nexus::store::{Conversation, Member, User};
use uuid::Uuid;

use super::{group, new_message, now, sorted, store, stored, users};
use crate::{both_scales, common::Scale};

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
    let roles = |members: Vec<(Uuid, Member)>| {
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
    let ids = |v: Vec<Conversation>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
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

both_scales!(direct_conversation_is_one_per_pair, group_membership_and_renaming, a_users_conversations_and_contacts,);

//! The Store conformance suite: the same behaviour from SQLite and PostgreSQL, through the
//! `Store` trait only. Every method of the trait is exercised. The files follow the trait's
//! aggregates (this one: lifecycle and the shared helpers; `accounts.rs`: users and
//! refresh tokens; `admin.rs`: invites and account flags; `conversations.rs`; `messages.rs`; `receipts.rs`; `uploads.rs`; `retention.rs`; `push.rs`; `search.rs`; `partitions.rs`), and
//! this table says which test covers which method.
//!
//! | methods | tests |
//! | --- | --- |
//! | `migrate`, `ping`, `backend`, `close` | every test (`store()` migrates twice), `lifecycle_ping_backend_close` |
//! | `shared_secret` | `shared_secret_is_first_come_and_stable` |
//! | `has_users`, `create_user`, `user_by_id`, `credentials_by_username` | `accounts::first_user_is_admin_and_usernames_are_unique`, `accounts::concurrent_first_registrations_make_one_admin` |
//! | `search_users` | `accounts::search_matches_username_and_display_name_safely` |
//! | `update_user`, `credentials_by_id` | `accounts::update_user_changes_only_given_fields` |
//! | `create_invite`, `consume_invite`, `record_invite_use`, `invites`, `revoke_invite` (the `AdminStore` part) | `admin::invites_work_once_expire_and_revoke` |
//! | `list_users`, `admin_user`, `set_admin`, `set_disabled`, `is_disabled`, `disabled_users`, `user_counts`, `database_bytes` | `admin::account_flags_keep_the_last_admin`, `admin::concurrent_demotions_keep_one_admin`, `admin::list_users_pages_and_matches` |
//! | `insert_refresh_token`, `consume_refresh_token`, `revoke_user_refresh_tokens` | `accounts::refresh_tokens_rotate_once_and_replay_revokes_the_family`, `accounts::concurrent_refresh_consumes_once` |
//! | `revoke_refresh_family` | `accounts::revoking_a_family_ends_only_that_session` (and, through a replay, the rotation test) |
//! | `create_direct`, `conversation`, `member_role`, `members_of` | `conversations::direct_conversation_is_one_per_pair` |
//! | `create_group`, `existing_users`, `add_members`, `remove_member`, `rename_conversation` (and `member_role`, `members_of`) | `conversations::group_membership_and_renaming` |
//! | `conversations_of`, `conversation_ids_of`, `contacts_of` | `conversations::a_users_conversations_and_contacts` |
//! | `persist_batch` | `messages::persist_batch_numbers_each_conversation_gap_free`, `messages::persist_batch_drops_duplicates_and_rejects_non_members`, `messages::concurrent_batches_keep_seq_gap_free`, `messages::persist_batch_stores_a_message_of_any_month` |
//! | `messages` | `messages::messages_page_by_seq` (and the `persist_batch` tests) |
//! | `last_messages` | `messages::last_messages_are_each_conversations_newest` |
//! | `receipts_of`, `receipts_for_user`, `upsert_receipts` | `receipts::receipts_keep_the_maximum`, `receipts::receipts_upsert_in_chunks` |
//! | `create_upload`, `upload`, `upload_bytes_of`, `unattached_uploads`, `delete_upload` (the `UploadStore` part) | `uploads::uploads_round_trip_total_age_and_shared_files` |
//! | `attach_uploads`, `detach_uploads`; attachments through `persist_batch`, `messages`, `last_messages` | `uploads::uploads_attach_once_and_messages_carry_them` |
//! | `expire_messages`, `expired_seqs` (the `RetentionStore` part) | `retention::expire_messages_removes_the_old_and_seq_goes_on`, `retention::expire_messages_waits_for_nothing_due` |
//! | `save_push_subscription`, `delete_push_subscription`, `delete_push_subscription_by_id`, `push_subscriptions`, `users_with_push` (the `PushStore` part) | `push::subscriptions_move_trim_and_delete` |
//! | `notification_prefs`, `update_notification_prefs`, `set_mute`, `push_targets` | `push::choices_and_mutes_are_per_user_and_membership` |
//! | `search_messages` (the `SearchStore` part) | `search::search_orders_pages_bounds_and_quotes`, `search::a_message_of_any_month_is_found` (with the index on every partition) |
//! | `ensure_partitions`, `ensure_partitions_locked` | `messages::persist_batch_stores_a_message_of_any_month` (both scales); PostgreSQL only: `partitions::partitions_cover_this_month_and_the_next_three`, `partitions::concurrent_partition_upkeep_is_safe` |
//!
//! Every test runs on both scales (`both_scales!`), except the two of `partitions.rs`:
//! SQLite keeps one `messages` table and its upkeep has nothing to do, so they check
//! PostgreSQL's catalog and advisory lock and run on the cluster scale alone.

mod accounts;
mod admin;
mod conversations;
mod messages;
mod partitions;
mod push;
mod receipts;
mod retention;
mod search;
mod uploads;

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use nexus::store::{
    Message, NewMessage, NewUser, Persisted, Store, StoreError, User, postgres::PgStore, sqlite::SqliteStore,
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

/// A text message to store directly (`persist_batch`), for suites that need stored history
/// without the pipeline; other fields by struct update.
pub(crate) fn new_message(conversation: Uuid, sender: Uuid, client_id: &str, at: DateTime<Utc>) -> NewMessage {
    NewMessage {
        id: Uuid::now_v7(),
        conversation_id: conversation,
        sender_id: sender,
        client_id: client_id.into(),
        kind: "text".into(),
        body: format!("body of {client_id}"),
        attachments: Vec::new(),
        created_at: at,
        reply_to: None,
        reply: None,
        mentions: Vec::new(),
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

both_scales!(lifecycle_ping_backend_close, shared_secret_is_first_come_and_stable,);

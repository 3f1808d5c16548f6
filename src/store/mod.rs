//! The Store seam: every SQL statement of Nexus lives below this module.
//!
//! This file is the seam itself and knows nothing of the driver: the [`Store`] trait, the
//! rows and values it speaks in, and [`StoreError`]. It is implemented twice, by
//! [`sqlite::SqliteStore`] (embedded default) and [`postgres::PgStore`] (cluster), each
//! listing its methods in the trait's order. Both run the same conformance suite
//! (`tests/suite/store/`). Migrations are embedded per backend from `migrations/sqlite`
//! and `migrations/postgres` and run at start-up.
//!
//! Each backend is plain, concrete sqlx code over its own pool, even where the statement
//! text is the same in both. A version generic over `sqlx::Database` would write each
//! statement once, but every helper would then carry the driver's `Encode`/`Decode`/
//! `Executor` bounds for each bound type (there is no way to name them once), and
//! `rows_affected` has no generic form; the SQL would hide behind the bounds. Concrete
//! code reads like the database it talks to, lets each backend lock and batch in its own
//! way, and the conformance suite keeps the two in step. What is truly shared is plain
//! Rust: the batch classification and numbering ([`batch`]) and the row mapping, error
//! conversion and statement rules (`sql`).
//!
//! Layout: `sqlite/mod.rs` and `postgres/mod.rs` hold the connection and the `Store`
//! impl; `*/batch.rs` the transaction of [`Store::persist_batch`]; `*/uploads.rs` the
//! [`UploadStore`] part (uploaded images); `*/retention.rs` the [`RetentionStore`] part
//! (removing messages past `messages.retention_days`); `*/admin.rs` the [`AdminStore`] part
//! (invites, account flags); `*/push.rs` the [`PushStore`] part (push subscriptions,
//! notification choices, mutes); `*/changes.rs` the [`ChangeStore`] part (edits, deletes,
//! reactions, pins, mentions, and the change numbers catch-up reads); `*/search.rs` the
//! [`SearchStore`] part (full-text search of messages); `postgres/partitions.rs` the
//! monthly partitions.
//!
//! Invariants kept here:
//! - usernames are unique (lower-case by construction, checked by the service);
//! - the first user created is the administrator, also under concurrent registrations;
//! - a refresh token is consumed at most once ([`Store::consume_refresh_token`] is atomic).

mod admin;
mod batch;
mod changes;
pub mod postgres;
mod push;
mod retention;
mod search;
mod sql;
pub mod sqlite;
mod uploads;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use self::{
    admin::{AdminStore, AdminUser, FlagChange, InviteRecord, InviteRevoke, NewInvite},
    changes::{Change, ChangeOutcome, ChangeRequest, ChangeStore, Changed, MAX_REACTIONS, Reaction, Reply, Version},
    push::{NotificationPrefs, PrefsChange, PushStore, PushSubscription, PushTarget, muted_always},
    retention::{Expired, RetentionStore},
    search::{MATCH_END, MATCH_START, MAX_SNIPPET_CHARS, SearchHit, SearchQuery, SearchStore, Term},
    uploads::{Attachment, Upload, UploadStore},
};
use crate::config::{Config, DatabaseKind};

/// Why a store call failed. Driver errors stay opaque: the implementations box them, and
/// callers log them rather than match on them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (the constraint's name).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// Anything else the database reported: connection, statement or migration.
    #[error(transparent)]
    Database(Box<dyn std::error::Error + Send + Sync>),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub id: Uuid,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    /// `Some(true)` forces admin (`nexus user create --admin`); `None` makes the first user
    /// admin and everyone else not.
    pub admin: Option<bool>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: Vec<u8>,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Valid and now consumed: issue a successor in the same family.
    Fresh { user_id: Uuid, family_id: Uuid },
    /// Already used (past the two-tab grace): a replay. The family has been revoked.
    Replayed { user_id: Uuid, family_id: Uuid },
    /// Unknown or expired.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: Uuid,
    /// `direct` or `group`.
    pub kind: String,
    pub name: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The last assigned message `seq` (0 when empty).
    pub last_seq: i64,
    pub last_message_at: Option<DateTime<Utc>>,
    /// The last change number given to a change of one of its messages (0: none yet).
    pub last_change: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user: User,
    /// `member` or `admin`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_id: Option<String>,
    pub kind: String,
    pub body: String,
    /// Images posted with it, as they were when it was sent (none once deleted).
    pub attachments: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
    /// The message this one answers, and what the reader sees of it (filled on reads).
    pub reply_to: Option<Uuid>,
    pub reply: Option<Reply>,
    /// Members mentioned with `@username`, as resolved when it was sent.
    pub mentions: Vec<Uuid>,
    /// Its conversation's change number of the last change to it (0: never changed).
    pub change_seq: i64,
    pub edited_at: Option<DateTime<Utc>>,
    /// A tombstone: the body, attachments and reactions are gone.
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<Uuid>,
    pub pinned_at: Option<DateTime<Utc>>,
    pub pinned_by: Option<Uuid>,
    /// In order of first reaction.
    pub reactions: Vec<Reaction>,
}

/// A message accepted by the gateway, not yet stored (no `seq`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sender_id: Uuid,
    pub client_id: String,
    /// `text`, or `call` for a call entry (a missed call) the server writes.
    #[serde(default = "text_kind")]
    pub kind: String,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
    /// The message it answers (a message of the same conversation) and the quote the
    /// sender saw of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Uuid>,
}

fn text_kind() -> String {
    "text".into()
}

/// What became of one message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persisted {
    /// Stored now, with its `seq`.
    Stored(Message),
    /// The sender's `client_id` was stored before: the earlier message, unchanged.
    Duplicate(Message),
    /// The sender is not a member of the conversation (or it does not exist).
    Rejected(NewMessage),
}

/// The result of [`Store::persist_batch`]: each message's fate, in input order, and the
/// members of every conversation involved (the fan-out's recipients).
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub results: Vec<Persisted>,
    pub members: std::collections::HashMap<Uuid, Vec<Uuid>>,
}

/// A read/delivery pointer pair of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub conversation_id: Uuid,
    pub user_id: Uuid,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

/// Which page of history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit` messages.
    Latest,
    /// The `limit` messages just before this seq.
    Before(i64),
    /// The first `limit` messages after this seq.
    After(i64),
}

#[async_trait]
pub trait Store:
    UploadStore + RetentionStore + AdminStore + PushStore + ChangeStore + SearchStore + Send + Sync + 'static
{
    /// Apply pending migrations (and, on PostgreSQL, ensure message partitions).
    async fn migrate(&self) -> StoreResult<()>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    fn backend(&self) -> &'static str;
    /// Close the pool (on shutdown), after in-flight queries.
    async fn close(&self);
    /// A secret every node shares: the stored one, or `candidate` stored now. `None` when
    /// the backend keeps none (SQLite: one node, the data folder holds it).
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    // users
    /// True once any account exists.
    async fn has_users(&self) -> StoreResult<bool>;
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<User>>;
    async fn credentials_by_username(&self, username: &str) -> StoreResult<Option<UserCredentials>>;
    async fn credentials_by_id(&self, id: Uuid) -> StoreResult<Option<UserCredentials>>;
    /// Users whose username or display name contains `query` (case-insensitive).
    async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>>;
    async fn update_user(
        &self,
        id: Uuid,
        display_name: Option<&str>,
        password_hash: Option<&str>,
    ) -> StoreResult<Option<User>>;

    // refresh tokens
    async fn insert_refresh_token(&self, token: NewRefreshToken) -> StoreResult<()>;
    /// Atomically consume a token; a replay of a consumed one revokes its whole family,
    /// except within `grace` of its first use (two tabs refreshing at once).
    async fn consume_refresh_token(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
        grace: chrono::Duration,
    ) -> StoreResult<RefreshUse>;
    async fn revoke_refresh_family(&self, family_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Revoke every refresh token of a user ("log out everywhere"), except those of
    /// `keep_family` (the session that asked, when it should stay signed in).
    async fn revoke_user_refresh_tokens(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
        keep_family: Option<Uuid>,
    ) -> StoreResult<u64>;

    // conversations
    /// The direct conversation of `a` and `b`, created if missing; `true` when created.
    async fn create_direct(&self, id: Uuid, a: Uuid, b: Uuid, now: DateTime<Utc>) -> StoreResult<(Conversation, bool)>;
    /// A group with `creator` as admin and `members` (existing users only) as members.
    async fn create_group(
        &self,
        id: Uuid,
        name: &str,
        creator: Uuid,
        members: &[Uuid],
        now: DateTime<Utc>,
    ) -> StoreResult<Conversation>;
    async fn conversation(&self, id: Uuid) -> StoreResult<Option<Conversation>>;
    /// The conversations `user` is a member of, newest activity first.
    async fn conversations_of(&self, user: Uuid) -> StoreResult<Vec<Conversation>>;
    async fn conversation_ids_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>>;
    /// Members (with their users) of each of `conversations`.
    async fn members_of(&self, conversations: &[Uuid]) -> StoreResult<Vec<(Uuid, Member)>>;
    /// `user`'s role in the conversation, `None` if not a member.
    async fn member_role(&self, conversation: Uuid, user: Uuid) -> StoreResult<Option<String>>;
    /// Everyone who shares at least one conversation with `user` (not `user`).
    async fn contacts_of(&self, user: Uuid) -> StoreResult<Vec<Uuid>>;
    async fn rename_conversation(&self, id: Uuid, name: &str) -> StoreResult<bool>;
    /// Add existing users as members; returns the ids actually added.
    async fn add_members(&self, id: Uuid, users: &[Uuid], now: DateTime<Utc>) -> StoreResult<Vec<Uuid>>;
    async fn remove_member(&self, id: Uuid, user: Uuid) -> StoreResult<bool>;
    /// The ids among `users` that exist.
    async fn existing_users(&self, users: &[Uuid]) -> StoreResult<Vec<Uuid>>;

    // messages
    /// Store a batch in one transaction: drop duplicates of stored `(sender, client_id)`,
    /// reject senders who are not members, take `seq`s from each conversation's counter
    /// (gap-free), insert. Nothing is visible to readers before it commits.
    async fn persist_batch(&self, batch: &[NewMessage]) -> StoreResult<BatchOutcome>;
    /// A page of history, ordered by `seq` ascending.
    async fn messages(&self, conversation: Uuid, page: Page, limit: u32) -> StoreResult<Vec<Message>>;
    /// The last message of each of `conversations`.
    async fn last_messages(&self, conversations: &[Uuid]) -> StoreResult<Vec<Message>>;

    // receipts
    /// The stored pointers of every member of `conversation`.
    async fn receipts_of(&self, conversation: Uuid) -> StoreResult<Vec<Receipt>>;
    /// `user`'s stored pointers in each of `conversations`.
    async fn receipts_for_user(&self, user: Uuid, conversations: &[Uuid]) -> StoreResult<Vec<Receipt>>;
    /// One batch upsert keeping the maximum of each pointer. Returns statements executed.
    async fn upsert_receipts(&self, receipts: &[Receipt], now: DateTime<Utc>) -> StoreResult<u64>;

    // partitions (PostgreSQL; a no-op on SQLite)
    /// Ensure monthly partitions of `messages` from the month of `now` to `months_ahead`
    /// months after it. Returns the names created.
    async fn ensure_partitions(&self, now: DateTime<Utc>, months_ahead: u32) -> StoreResult<Vec<String>>;
    /// Run `ensure_partitions` only if this node wins the job's advisory lock; `None` if
    /// another node holds it.
    async fn ensure_partitions_locked(&self, now: DateTime<Utc>, months_ahead: u32)
    -> StoreResult<Option<Vec<String>>>;
}

/// Open the store `config` selects (creating the SQLite folder if needed) and migrate it.
pub async fn open(config: &Config) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    use anyhow::Context;
    let kind = config.database_kind()?;
    let store: std::sync::Arc<dyn Store> = match kind {
        DatabaseKind::Sqlite(path) => {
            std::sync::Arc::new(sqlite::SqliteStore::open(&path, config.database.max_connections).await?)
        }
        DatabaseKind::Postgres(url) => std::sync::Arc::new(
            postgres::PgStore::connect_with(
                &url,
                config.database.max_connections,
                (!config.database.ca_file.is_empty()).then(|| std::path::Path::new(&config.database.ca_file)),
            )
            .await
            .context("cannot connect to PostgreSQL")?,
        ),
    };
    store.migrate().await.context("database migration failed")?;
    let created = store
        .ensure_partitions(Utc::now(), config.database.partitions_ahead)
        .await
        .context("cannot create message partitions")?;
    if !created.is_empty() {
        tracing::info!(?created, "message partitions created");
    }
    Ok(store)
}

/// First day (00:00 UTC) of the month `offset` months after the month of `t`.
pub fn month_start(t: DateTime<Utc>, offset: u32) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let months = t.year() * 12 + t.month0() as i32 + offset as i32;
    Utc.with_ymd_and_hms(months / 12, (months % 12) as u32 + 1, 1, 0, 0, 0).unwrap()
}

//! The driver side both SQL implementations share: how sqlx errors become [`StoreError`],
//! the private row structs queries decode into (and their mapping to the domain types of
//! [`super`], which know nothing of sqlx), and the small rules every statement follows.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AdminUser, Conversation, InviteRecord, Member, Message, PushSubscription, Receipt, StoreError, Upload, User,
    UserCredentials,
};

/// Rows per multi-row statement, well under SQLite's and PostgreSQL's parameter limits.
pub(super) const CHUNK: usize = 500;

/// Any driver error is opaque to callers: they log it, never match on it. The conversion
/// exists so that `?` works inside the implementations.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(Box::new(e))
    }
}

/// Map a unique violation to [`StoreError::Conflict`], anything else to `Database`.
pub(super) fn map_unique(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Conflict(db.constraint().unwrap_or("unique").to_string());
    }
    StoreError::from(e)
}

/// The one direct conversation of a pair, whatever the order: `smaller:larger`.
pub(super) fn direct_key(a: Uuid, b: Uuid) -> String {
    let (x, y) = if a < b { (a, b) } else { (b, a) };
    format!("{x}:{y}")
}

/// `LIKE` pattern matching `query` anywhere, with `\` escaping the wildcards.
pub(super) fn contains_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `id, username, display_name, is_admin, created_at` of `users`.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    username: String,
    display_name: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            is_admin: r.is_admin,
            created_at: r.created_at,
        }
    }
}

/// `id, password_hash` of `users`.
#[derive(sqlx::FromRow)]
pub(super) struct CredentialsRow {
    id: Uuid,
    password_hash: String,
}

impl From<CredentialsRow> for UserCredentials {
    fn from(r: CredentialsRow) -> Self {
        UserCredentials { id: r.id, password_hash: r.password_hash }
    }
}

/// `id, kind, name, created_by, created_at, last_seq, last_message_at, last_change` of
/// `conversations`.
#[derive(sqlx::FromRow)]
pub(super) struct ConversationRow {
    id: Uuid,
    kind: String,
    name: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_seq: i64,
    last_message_at: Option<DateTime<Utc>>,
    last_change: i64,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Conversation {
            id: r.id,
            kind: r.kind,
            name: r.name,
            created_by: r.created_by,
            created_at: r.created_at,
            last_seq: r.last_seq,
            last_message_at: r.last_message_at,
            last_change: r.last_change,
        }
    }
}

/// A member's conversation and role with their user's columns (`members` join `users`).
#[derive(sqlx::FromRow)]
pub(super) struct MemberRow {
    conversation_id: Uuid,
    role: String,
    #[sqlx(flatten)]
    user: UserRow,
}

impl From<MemberRow> for (Uuid, Member) {
    fn from(r: MemberRow) -> Self {
        (r.conversation_id, Member { user: r.user.into(), role: r.role })
    }
}

/// Every column of `messages` that [`MessageRow`] reads, in its order.
pub(super) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, sender_id, client_id, kind, body, attachments, \
     created_at, reply_to, mentions, change_seq, edited_at, deleted_at, deleted_by, pinned_at, pinned_by, reactions";

/// [`MESSAGE_COLUMNS`], each qualified with `alias` (`m.id, m.conversation_id, …`), for
/// statements that join `messages` with other tables.
pub(super) fn message_columns_of(alias: &str) -> String {
    MESSAGE_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// A row of `messages` ([`MESSAGE_COLUMNS`]); `attachments`, `mentions` and `reactions`
/// are JSON arrays.
#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    id: Uuid,
    conversation_id: Uuid,
    seq: i64,
    sender_id: Uuid,
    client_id: Option<String>,
    kind: String,
    body: String,
    attachments: String,
    created_at: DateTime<Utc>,
    reply_to: Option<Uuid>,
    mentions: String,
    change_seq: i64,
    edited_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
    deleted_by: Option<Uuid>,
    pinned_at: Option<DateTime<Utc>>,
    pinned_by: Option<Uuid>,
    reactions: String,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: r.id,
            conversation_id: r.conversation_id,
            seq: r.seq,
            sender_id: r.sender_id,
            client_id: r.client_id,
            kind: r.kind,
            body: r.body,
            attachments: json_column(r.id, "attachments", &r.attachments),
            created_at: r.created_at,
            reply_to: r.reply_to,
            reply: None,
            mentions: json_column(r.id, "mentions", &r.mentions),
            change_seq: r.change_seq,
            edited_at: r.edited_at,
            deleted_at: r.deleted_at,
            deleted_by: r.deleted_by,
            pinned_at: r.pinned_at,
            pinned_by: r.pinned_by,
            reactions: json_column(r.id, "reactions", &r.reactions),
        }
    }
}

/// A message found by a search ([`MessageRow`]'s columns) with its snippet as the
/// database made it.
#[derive(sqlx::FromRow)]
pub(super) struct SearchRow {
    #[sqlx(flatten)]
    pub message: MessageRow,
    pub snippet: String,
}

/// Any JSON array column written by [`to_json`].
pub(super) fn to_json<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).expect("columns serialise")
}

fn json_column<T: serde::de::DeserializeOwned>(message: Uuid, column: &str, json: &str) -> Vec<T> {
    serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(%message, column, error = %e, "unreadable column; shown empty");
        Vec::new()
    })
}

/// `conversation_id, user_id, delivered_seq, read_seq` of `receipts`.
#[derive(sqlx::FromRow)]
pub(super) struct ReceiptRow {
    conversation_id: Uuid,
    user_id: Uuid,
    delivered_seq: i64,
    read_seq: i64,
}

impl From<ReceiptRow> for Receipt {
    fn from(r: ReceiptRow) -> Self {
        Receipt {
            conversation_id: r.conversation_id,
            user_id: r.user_id,
            delivered_seq: r.delivered_seq,
            read_seq: r.read_seq,
        }
    }
}

/// Decode each row into its domain type.
pub(super) fn all<R: Into<T>, T>(rows: Vec<R>) -> Vec<T> {
    rows.into_iter().map(Into::into).collect()
}

/// Every column of `uploads`, in [`UPLOAD_COLUMNS`] order.
pub(super) const UPLOAD_COLUMNS: &str = "id, owner_id, sha256, storage_key, mime, bytes, width, height, \
     preview_width, preview_height, thumbnail_width, thumbnail_height, blurhash, created_at, conversation_id, message_id";

#[derive(sqlx::FromRow)]
pub(super) struct UploadRow {
    id: Uuid,
    owner_id: Uuid,
    sha256: String,
    storage_key: String,
    mime: String,
    bytes: i64,
    width: i32,
    height: i32,
    preview_width: i32,
    preview_height: i32,
    thumbnail_width: i32,
    thumbnail_height: i32,
    blurhash: String,
    created_at: DateTime<Utc>,
    conversation_id: Option<Uuid>,
    message_id: Option<Uuid>,
}

impl From<UploadRow> for Upload {
    fn from(r: UploadRow) -> Self {
        Upload {
            id: r.id,
            owner_id: r.owner_id,
            sha256: r.sha256,
            storage_key: r.storage_key,
            mime: r.mime,
            bytes: r.bytes,
            width: r.width,
            height: r.height,
            preview: (r.preview_width, r.preview_height),
            thumbnail: (r.thumbnail_width, r.thumbnail_height),
            blurhash: r.blurhash,
            created_at: r.created_at,
            conversation_id: r.conversation_id,
            message_id: r.message_id,
        }
    }
}

/// `id, username, display_name, is_admin, created_at, disabled_at` of `users`.
pub(super) const ADMIN_USER_COLUMNS: &str = "id, username, display_name, is_admin, created_at, disabled_at";

#[derive(sqlx::FromRow)]
pub(super) struct AdminUserRow {
    #[sqlx(flatten)]
    user: UserRow,
    disabled_at: Option<DateTime<Utc>>,
}

impl From<AdminUserRow> for AdminUser {
    fn from(r: AdminUserRow) -> Self {
        AdminUser { user: r.user.into(), disabled_at: r.disabled_at }
    }
}

/// An invite with its creator (`c_*`) and the account that used it (`u_*`), both joined
/// with `LEFT JOIN` ([`INVITE_SELECT`]).
#[derive(sqlx::FromRow)]
pub(super) struct InviteRow {
    id: Uuid,
    note: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    c_id: Option<Uuid>,
    c_username: Option<String>,
    c_display_name: Option<String>,
    c_is_admin: Option<bool>,
    c_created_at: Option<DateTime<Utc>>,
    u_id: Option<Uuid>,
    u_username: Option<String>,
    u_display_name: Option<String>,
    u_is_admin: Option<bool>,
    u_created_at: Option<DateTime<Utc>>,
}

pub(super) const INVITE_SELECT: &str = "SELECT i.id, i.note, i.created_at, i.expires_at, i.used_at, i.revoked_at, \
     c.id AS c_id, c.username AS c_username, c.display_name AS c_display_name, c.is_admin AS c_is_admin, \
     c.created_at AS c_created_at, u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, \
     u.is_admin AS u_is_admin, u.created_at AS u_created_at \
     FROM invites i LEFT JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by";

fn joined_user(
    id: Option<Uuid>,
    username: Option<String>,
    display_name: Option<String>,
    is_admin: Option<bool>,
    created_at: Option<DateTime<Utc>>,
) -> Option<User> {
    Some(User {
        id: id?,
        username: username?,
        display_name: display_name?,
        is_admin: is_admin.unwrap_or(false),
        created_at: created_at?,
    })
}

impl From<InviteRow> for InviteRecord {
    fn from(r: InviteRow) -> Self {
        InviteRecord {
            id: r.id,
            note: r.note,
            created_by: joined_user(r.c_id, r.c_username, r.c_display_name, r.c_is_admin, r.c_created_at),
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            used_by: joined_user(r.u_id, r.u_username, r.u_display_name, r.u_is_admin, r.u_created_at),
            revoked_at: r.revoked_at,
        }
    }
}

/// Every column of `push_subscriptions` that [`PushSubscriptionRow`] reads.
pub(super) const PUSH_SUBSCRIPTION_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, created_at";

#[derive(sqlx::FromRow)]
pub(super) struct PushSubscriptionRow {
    id: Uuid,
    user_id: Uuid,
    endpoint: String,
    p256dh: String,
    auth: String,
    created_at: DateTime<Utc>,
}

impl From<PushSubscriptionRow> for PushSubscription {
    fn from(r: PushSubscriptionRow) -> Self {
        PushSubscription {
            id: r.id,
            user_id: r.user_id,
            endpoint: r.endpoint,
            p256dh: r.p256dh,
            auth: r.auth,
            created_at: r.created_at,
        }
    }
}

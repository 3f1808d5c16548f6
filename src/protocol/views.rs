//! What clients see of users, conversations and messages: the JSON shapes shared by the
//! REST API (OpenAPI objects) and the WebSocket events (serde). One definition each, so
//! both channels always agree. The `poem_openapi::Object` derive is the one piece of the
//! web framework in the wire types: it is what puts these shapes into the OpenAPI document,
//! and a hand-written twin of each would drift.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Serialize;
use uuid::Uuid;

/// A user as others see it.
#[derive(Debug, Clone, Object, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

/// A stored message.
#[derive(Debug, Clone, Object, Serialize)]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// Position in the conversation: 1, 2, 3, … without gaps.
    pub seq: i64,
    pub sender_id: Uuid,
    /// `text`, or `call` for a call entry the server wrote ("Missed video call").
    pub kind: String,
    pub body: String,
    /// Images posted with it (`[]` for none), with signed links.
    pub attachments: Vec<AttachmentView>,
    pub created_at: DateTime<Utc>,
    /// The sender's id for it, to match an optimistic bubble.
    #[oai(nullable)]
    pub client_id: Option<String>,
    /// The message it answers, as it is now.
    #[oai(nullable)]
    pub reply_to: Option<ReplyView>,
    /// Members it mentions with `@username`.
    pub mentions: Vec<Uuid>,
    /// Its conversation's change number of the last change to it (0: never changed); the
    /// copy with the higher one is the newer.
    pub change_seq: i64,
    /// Set once edited ("edited"); the earlier bodies are at `…/versions`.
    #[oai(nullable)]
    pub edited_at: Option<DateTime<Utc>>,
    /// Set when deleted: `body`, `attachments` and `reactions` are then empty.
    #[oai(nullable)]
    pub deleted_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub deleted_by: Option<Uuid>,
    #[oai(nullable)]
    pub pinned_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub pinned_by: Option<Uuid>,
    /// In order of first reaction; at most 20.
    pub reactions: Vec<ReactionView>,
}

/// The quote of the message a reply answers.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ReplyView {
    pub id: Uuid,
    /// Its `seq`, to jump to it (`GET …/messages?around_seq=`); 0 when it no longer exists.
    pub seq: i64,
    pub sender_id: Uuid,
    /// Its first line, up to 140 characters; empty once deleted.
    pub snippet: String,
    pub deleted: bool,
    /// How many images it carries.
    pub attachments: i64,
}

/// One emoji on a message and who put it there.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ReactionView {
    pub emoji: String,
    pub count: i64,
    /// In the order they reacted.
    pub user_ids: Vec<Uuid>,
}

/// One body of an edited message.
#[derive(Debug, Clone, Object, Serialize)]
pub struct VersionView {
    /// 1 is the body as sent; the highest is the current one.
    pub version: i64,
    pub body: String,
    /// When it became the message's body.
    pub created_at: DateTime<Utc>,
    /// When an edit replaced it; null for the current one.
    #[oai(nullable)]
    pub replaced_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Object, Serialize)]
pub struct MemberView {
    pub user: UserView,
    /// `member` or `admin`.
    pub role: String,
}

/// A conversation as one member sees it.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ConversationView {
    pub id: Uuid,
    /// `direct` or `group`.
    pub kind: String,
    /// Set for groups; a direct conversation is shown under the other member's name.
    #[oai(nullable)]
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `seq` of the last message (0 when there is none).
    pub last_seq: i64,
    #[oai(nullable)]
    pub last_message: Option<MessageView>,
    pub last_activity_at: DateTime<Utc>,
    pub members: Vec<MemberView>,
    /// Messages after my read pointer.
    pub unread_count: i64,
    /// Of those, the ones that mention me.
    pub mention_count: i64,
    /// The conversation's last change number (edits, deletes, reactions, pins): a client
    /// that holds a lower one catches up at `…/changes?after=`.
    pub last_change_seq: i64,
    pub read_seq: i64,
    pub delivered_seq: i64,
}

/// One member's pointers in a conversation.
#[derive(Debug, Clone, Copy, Object, Serialize, PartialEq, Eq)]
pub struct ReceiptView {
    pub user_id: Uuid,
    pub delivered_seq: i64,
    pub read_seq: i64,
}

#[derive(Debug, Clone, Object, Serialize)]
pub struct PresenceView {
    pub user_id: Uuid,
    pub online: bool,
    /// When the user was last connected, if known and not online now.
    #[oai(nullable)]
    pub last_seen: Option<DateTime<Utc>>,
}

/// An uploaded image (`POST /api/v1/uploads`), with signed URLs to its renditions.
#[derive(Debug, Clone, Object, Serialize)]
pub struct AttachmentView {
    pub id: Uuid,
    /// The stored original's type: `image/jpeg`, `image/png`, `image/webp` or `image/gif`.
    pub mime: String,
    /// Size of the stored original (its metadata removed).
    pub bytes: i64,
    /// Upright size of the original, in pixels.
    pub width: i32,
    pub height: i32,
    /// A placeholder to paint while the image loads (<https://blurha.sh>).
    pub blurhash: String,
    /// The original: `/api/v1/media/{id}?exp=…&sig=…`, valid until `exp`.
    pub url: String,
    /// Fits inside 1600×1600 (the lightbox).
    pub preview: RenditionView,
    /// Fits inside 400×400 (the chat bubble).
    pub thumbnail: RenditionView,
}

/// One rendition of an image.
#[derive(Debug, Clone, Object, Serialize)]
pub struct RenditionView {
    pub url: String,
    pub width: i32,
    pub height: i32,
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    pub username: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub credential: Option<String>,
}

/// `GET /api/v1/calls/ice-servers`.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct IceServers {
    pub ice_servers: Vec<IceServer>,
    /// Seconds the TURN credentials stay valid.
    pub ttl: u64,
}

//! What Web Push carries and what the notification endpoints answer: the push payload a
//! service worker decrypts (`v` 1; `docs/protocol.md` "Push notifications"), and the
//! key and settings views of `/api/v1/push` and `/api/v1/notifications`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Someone named in a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPerson {
    pub id: Uuid,
    pub display_name: String,
}

/// The decrypted payload of a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushPayload {
    /// A message arrived while none of the user's devices had a socket open.
    Message {
        v: u8,
        conversation_id: Uuid,
        /// `direct` or `group`.
        conversation_kind: String,
        /// The group's name (`null` in a direct conversation).
        conversation_name: Option<String>,
        sender: PushPerson,
        message_id: Uuid,
        seq: i64,
        /// The first line, at most 140 characters; absent when content is hidden.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// It carries images; absent when content is hidden.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<bool>,
        /// It names the user (`@username` in a group).
        mention: bool,
        /// Content hidden by the user's choice (or the server's default).
        hidden: bool,
        /// The user's unread messages over every conversation (the badge).
        unread: i64,
        sent_at: DateTime<Utc>,
    },
    /// Someone is calling (pushed with high urgency; lives as long as the ring).
    Call { v: u8, call_id: Uuid, conversation_id: Uuid, caller: PushPerson, unread: i64, sent_at: DateTime<Utc> },
}

#[derive(Debug, Clone, Object)]
pub struct SubscriptionCreated {
    pub id: Uuid,
}

/// The server's VAPID public key, for `pushManager.subscribe({ applicationServerKey })`.
#[derive(Debug, Clone, Object)]
pub struct PushKey {
    /// False when the server sends no pushes (`push.enabled`).
    pub enabled: bool,
    /// Base64url, 65 bytes uncompressed; `null` when disabled.
    #[oai(nullable)]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, Object, PartialEq, Eq)]
pub struct MuteView {
    pub conversation_id: Uuid,
    /// Muted until then; `null`: always.
    #[oai(nullable)]
    pub until: Option<DateTime<Utc>>,
}

/// The signed-in user's notification choices.
#[derive(Debug, Clone, Object)]
pub struct NotificationSettings {
    /// Pushes carry no message content (sender and conversation only).
    pub hide_content: bool,
    /// Do not disturb: nothing is pushed before this time (`null`: off).
    #[oai(nullable)]
    pub dnd_until: Option<DateTime<Utc>>,
    /// Muted conversations (past mutes are not listed).
    pub mutes: Vec<MuteView>,
}

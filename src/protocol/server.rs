//! Server → client events: the one tagged enum that is the WebSocket protocol's output
//! side. `docs/protocol.md` documents each event; this enum is the source of truth.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{
    calls::{CallView, IceCandidate},
    rooms::{LeftReason, RoomView, Slot, Speaker},
    views::{ConversationView, MessageView, PresenceView, UserView},
};
use crate::error::Error;

/// Server → client events.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum ServerEvent {
    #[serde(rename = "ready")]
    Ready {
        session_id: Uuid,
        server_time: DateTime<Utc>,
        user: UserView,
        presence: Vec<PresenceView>,
        /// The user's current call (at most one), to rejoin or to show as ringing.
        calls: Vec<CallView>,
        /// The live group calls of the user's group conversations.
        rooms: Vec<RoomView>,
    },
    #[serde(rename = "message.ack")]
    MessageAck { client_id: String, id: Uuid, conversation_id: Uuid, created_at: DateTime<Utc> },
    #[serde(rename = "message.new")]
    MessageNew { message: MessageView },
    /// A change (`message.edit`, `message.delete`, `reaction.set`, `message.pin`) is
    /// stored: the message as it is now.
    #[serde(rename = "change.ack")]
    ChangeAck { client_id: String, message: MessageView },
    /// Edited (`change: "edited"`), pinned or unpinned.
    #[serde(rename = "message.updated")]
    MessageUpdated { message: MessageView, change: &'static str, by: Uuid },
    /// Deleted: `message` is the tombstone.
    #[serde(rename = "message.deleted")]
    MessageDeleted { message: MessageView, by: Uuid },
    /// `by` turned the reaction `emoji` on or off.
    #[serde(rename = "message.reaction")]
    MessageReaction { message: MessageView, by: Uuid, emoji: String, on: bool },
    #[serde(rename = "typing")]
    Typing { conversation_id: Uuid, user_id: Uuid, active: bool },
    #[serde(rename = "presence")]
    Presence(PresenceView),
    #[serde(rename = "receipt")]
    Receipt { conversation_id: Uuid, user_id: Uuid, delivered_seq: i64, read_seq: i64 },
    #[serde(rename = "conversation.updated")]
    ConversationUpdated { conversation: ConversationView },
    #[serde(rename = "conversation.removed")]
    ConversationRemoved { conversation_id: Uuid },
    #[serde(rename = "call.ringing")]
    CallRinging(CallView),
    #[serde(rename = "call.state")]
    CallState(CallView),
    #[serde(rename = "call.offer")]
    CallOffer { call_id: Uuid, from: Uuid, sdp: String },
    #[serde(rename = "call.answer")]
    CallAnswer { call_id: Uuid, from: Uuid, sdp: String },
    #[serde(rename = "call.ice")]
    CallIce { call_id: Uuid, from: Uuid, candidate: Option<IceCandidate> },
    #[serde(rename = "room.state")]
    RoomState { room: RoomView },
    #[serde(rename = "room.joined")]
    RoomJoined { room: RoomView, max_video_kbps: u32 },
    #[serde(rename = "room.answer")]
    RoomAnswer { conversation_id: Uuid, sdp: String, slots: Vec<Slot> },
    #[serde(rename = "room.slots")]
    RoomSlots { conversation_id: Uuid, slots: Vec<Slot> },
    #[serde(rename = "room.renegotiate")]
    RoomRenegotiate { conversation_id: Uuid, audio: usize, video: usize },
    #[serde(rename = "room.speakers")]
    RoomSpeakers { conversation_id: Uuid, speakers: Vec<Speaker> },
    #[serde(rename = "room.left")]
    RoomLeft { conversation_id: Uuid, reason: LeftReason },
    #[serde(rename = "error")]
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        call_id: Option<Uuid>,
        /// A failed `room.*` event's conversation.
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    #[serde(rename = "pong")]
    Pong,
}

impl ServerEvent {
    /// An `error` event with a stable code (`docs/protocol.md`, "Errors").
    pub fn error(code: &str, message: impl Into<String>, client_id: Option<String>) -> Self {
        ServerEvent::Error {
            code: code.into(),
            message: message.into(),
            client_id,
            call_id: None,
            conversation_id: None,
            retry_after_ms: None,
        }
    }

    /// The `error` event for a service error: its code, its text (never an internal
    /// cause), and for `rate_limited` when to retry.
    pub fn from_error(e: &Error, client_id: Option<String>) -> Self {
        let retry_after_ms = match e {
            Error::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        };
        let message = match e {
            Error::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        ServerEvent::Error {
            code: e.code().to_string(),
            message,
            client_id,
            call_id: None,
            conversation_id: None,
            retry_after_ms,
        }
    }

    /// The same `error` event naming the call a failed call event was about.
    pub fn for_call(mut self, id: Option<Uuid>) -> Self {
        if let ServerEvent::Error { call_id, .. } = &mut self {
            *call_id = id;
        }
        self
    }

    /// The same `error` event naming the conversation whose room a failed `room.*` event
    /// was about.
    pub fn for_room(mut self, id: Option<Uuid>) -> Self {
        if let ServerEvent::Error { conversation_id, .. } = &mut self {
            *conversation_id = id;
        }
        self
    }

    pub fn to_json(&self) -> Arc<str> {
        serde_json::to_string(self).expect("events serialise").into()
    }
}

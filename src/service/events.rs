//! The real-time protocol's server events, and the fan-out that carries them to every
//! node. `docs/protocol.md` documents each event; this enum is the source of truth.
//!
//! Fan-out: services publish batches of [`Envelope`]s (recipients + one serialised event)
//! on the bus topic [`keys::EVENTS_TOPIC`]. Every node subscribes and hands each event to
//! its local sockets of the recipients (the gateway's registry). One publish carries a
//! whole persisted batch, so the bus cost does not grow with the message rate.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{
    calls::{CallView, IceCandidate},
    views::{ConversationView, MessageView, PresenceView, UserView},
};
use crate::{
    bus::{Bus, keys},
    error::{Error, Result},
};

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
    },
    #[serde(rename = "message.ack")]
    MessageAck { client_id: String, id: Uuid, conversation_id: Uuid, created_at: DateTime<Utc> },
    #[serde(rename = "message.new")]
    MessageNew { message: MessageView },
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
    #[serde(rename = "error")]
    Error {
        code: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        call_id: Option<Uuid>,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    #[serde(rename = "pong")]
    Pong,
}

impl ServerEvent {
    /// The `error` event for a service error.
    pub fn from_error(e: &Error, client_id: Option<String>) -> Self {
        let retry_after_ms = match e {
            Error::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        };
        let message = match e {
            Error::Internal(_) => "internal error".to_string(),
            other => other.to_string(),
        };
        ServerEvent::Error { code: e.code().to_string(), message, client_id, call_id: None, retry_after_ms }
    }

    pub fn to_json(&self) -> Arc<str> {
        serde_json::to_string(self).expect("events serialise").into()
    }
}

/// What a node must update in its caches when an event passes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// The recipients joined the conversation.
    Joined { conversation_id: Uuid },
    /// The recipients left it.
    Left { conversation_id: Uuid },
    /// The conversation's members changed.
    MembersChanged { conversation_id: Uuid },
    /// The conversation's last `seq` is now at least this.
    Seq { conversation_id: Uuid, seq: i64 },
    /// A call between these two users ended: their TURN allocations go.
    CallEnded { caller: Uuid, callee: Uuid },
}

/// One event for a set of users, as it travels on the bus.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub to: Vec<Uuid>,
    /// When not empty, only these sockets (session ids) of the recipients get the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<Uuid>,
    /// These sockets of the recipients do not get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    pub event: Box<RawValue>,
}

impl Envelope {
    pub fn new(to: Vec<Uuid>, event: &ServerEvent) -> Self {
        let event = RawValue::from_string(serde_json::to_string(event).expect("events serialise")).expect("valid JSON");
        Envelope { to, only: Vec::new(), except: Vec::new(), effect: None, event }
    }

    /// Only to the sockets `sessions`.
    pub fn only(mut self, sessions: Vec<Uuid>) -> Self {
        self.only = sessions;
        self
    }

    /// Not to the sockets `sessions`.
    pub fn except(mut self, sessions: Vec<Uuid>) -> Self {
        self.except = sessions;
        self
    }

    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effect = Some(effect);
        self
    }
}

/// Publishes envelopes to every node.
#[derive(Clone)]
pub struct Fanout {
    bus: Arc<dyn Bus>,
}

impl Fanout {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Self { bus }
    }

    pub async fn publish(&self, envelopes: &[Envelope]) -> Result<()> {
        if envelopes.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_vec(envelopes).map_err(Error::internal)?;
        self.bus.publish(keys::EVENTS_TOPIC, payload.into()).await.map_err(Error::internal)
    }

    pub async fn send(&self, to: Vec<Uuid>, event: &ServerEvent) -> Result<()> {
        self.publish(&[Envelope::new(to, event)]).await
    }
}

/// Parse a published batch.
pub fn decode(payload: &[u8]) -> Option<Vec<Envelope>> {
    serde_json::from_slice(payload).ok()
}

//! The fan-out that carries server events ([`ServerEvent`]) to every node.
//!
//! Services publish batches of [`Envelope`]s (recipients + one serialised event) on the
//! bus topic [`keys::EVENTS_TOPIC`]. Every node's dispatcher ([`super::dispatch`])
//! subscribes and hands each event to its local sockets of the recipients. One publish carries a
//! whole persisted batch, so the bus cost does not grow with the message rate.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{
    bus::{Bus, keys},
    error::{Error, Result},
    protocol::ServerEvent,
};

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
        Ok(self.bus.publish(keys::EVENTS_TOPIC, payload.into()).await?)
    }

    pub async fn send(&self, to: Vec<Uuid>, event: &ServerEvent) -> Result<()> {
        self.publish(&[Envelope::new(to, event)]).await
    }
}

/// Parse a published batch.
pub fn decode(payload: &[u8]) -> Option<Vec<Envelope>> {
    serde_json::from_slice(payload).ok()
}

//! The dispatcher of one node: it receives every fan-out batch from the bus
//! ([`super::fanout`]), applies the batch's cache effects on this node (membership, last
//! `seq`, the end of a call), and hands each event to this node's sockets of its
//! recipients. It also keeps this node's sockets alive in presence ([`super::presence`]).
//!
//! The sockets themselves belong to the gateway; the dispatcher sees them through
//! [`LocalSockets`], so this service does not depend on the Face that owns them.

use std::sync::Arc;

use tokio::{sync::watch, task::JoinHandle};
use uuid::Uuid;

use super::{cache::Caches, calls::Calls, fanout, presence, rooms::Rooms};
use crate::bus::{Bus, keys};

/// This node's connected sockets, as the dispatcher needs them.
pub trait LocalSockets: Send + Sync {
    /// Queue `text` for the local sockets of the users `to`: only those in `only` (when
    /// not empty), none of those in `except`. Never blocks.
    fn deliver(&self, to: &[Uuid], only: &[Uuid], except: &[Uuid], text: &Arc<str>);
    /// `(user, session)` of every local socket.
    fn sessions(&self) -> Vec<(Uuid, Uuid)>;
}

pub struct Dispatcher {
    pub bus: Arc<dyn Bus>,
    pub caches: Arc<Caches>,
    pub calls: Arc<Calls>,
    pub rooms: Arc<Rooms>,
    pub presence: presence::Presence,
}

impl Dispatcher {
    /// Subscribe to the fan-out topic, then deliver until `stop` turns true; touch this
    /// node's sockets in presence every [`presence::HEARTBEAT`].
    pub async fn start(
        self,
        sockets: Arc<dyn LocalSockets>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<JoinHandle<()>> {
        let mut sub = self.bus.subscribe(keys::EVENTS_TOPIC).await?;
        Ok(tokio::spawn(async move {
            let mut heartbeat = tokio::time::interval(presence::HEARTBEAT);
            heartbeat.tick().await;
            loop {
                tokio::select! {
                    payload = sub.recv() => {
                        let Some(payload) = payload else { break };
                        self.dispatch(&payload, sockets.as_ref());
                    }
                    _ = heartbeat.tick() => {
                        let sessions = sockets.sessions();
                        let presence = self.presence.clone();
                        tokio::spawn(async move { presence.heartbeat(&sessions).await });
                    }
                    _ = stop.changed() => {
                        if *stop.borrow() { break; }
                    }
                }
            }
        }))
    }

    /// One published batch: effects first (a member who just joined must be known before
    /// the event that follows), then delivery.
    pub fn dispatch(&self, payload: &[u8], sockets: &dyn LocalSockets) {
        let Some(batch) = fanout::decode(payload) else {
            tracing::warn!("undecodable fan-out batch ignored");
            return;
        };
        for env in batch {
            if let Some(effect) = &env.effect {
                self.caches.apply(effect);
                match *effect {
                    fanout::Effect::CallEnded { caller, callee } => self.calls.call_ended(caller, callee),
                    fanout::Effect::Left { conversation_id } => self.rooms.members_left(conversation_id, &env.to),
                    _ => {}
                }
            }
            let text: Arc<str> = Arc::from(env.event.get());
            sockets.deliver(&env.to, &env.only, &env.except, &text);
        }
    }
}

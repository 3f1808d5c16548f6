//! The dispatcher of one node: it receives every fan-out batch from the bus
//! ([`super::fanout`]), applies the batch's cache effects on this node (membership, last
//! `seq`, the end of a call), and hands each event to this node's sockets of its
//! recipients. It also keeps this node's sockets alive in presence ([`super::presence`]),
//! which is also how the fan-out finds this node, and notices dead nodes.
//!
//! The sockets themselves belong to the gateway; the dispatcher sees them through
//! [`LocalSockets`], so this service does not depend on the Face that owns them.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

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
    /// Close every local socket of `user`: the account was disabled.
    fn disconnect(&self, user: Uuid);
}

pub struct Dispatcher {
    pub bus: Arc<dyn Bus>,
    pub caches: Arc<Caches>,
    pub calls: Arc<Calls>,
    pub rooms: Arc<Rooms>,
    pub presence: presence::Presence,
    pub stats: Arc<fanout::FanoutStats>,
}

impl Dispatcher {
    /// Subscribe to the fan-out topics (every node's and this node's own, on one channel
    /// so their order holds), then deliver until `stop` turns true. Refresh this node's
    /// sockets in presence every [`presence::Presence::heartbeat_every`], and look for
    /// dead nodes twice as often.
    pub async fn start(
        self,
        sockets: Arc<dyn LocalSockets>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<JoinHandle<()>> {
        let topics = [keys::EVENTS_TOPIC.to_string(), keys::node_events(&self.presence.node())];
        let mut sub = self.bus.subscribe_all(&topics).await?;
        // Show this node before its first socket.
        if let Err(e) = self.presence.heartbeat(&[]).await {
            tracing::warn!(error = %e, "presence: this node is not shown yet");
        }
        Ok(tokio::spawn(async move {
            let mut upkeep = tokio::time::interval(self.presence.heartbeat_every() / 2);
            upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            upkeep.tick().await;
            let mut tick = 0u64;
            let busy = Arc::new(AtomicBool::new(false));
            // A failed refresh is tried again at the next tick, not a whole period later.
            let failed = Arc::new(AtomicBool::new(false));
            loop {
                tokio::select! {
                    payload = sub.recv() => {
                        let Some(payload) = payload else { break };
                        self.dispatch(&payload, sockets.as_ref());
                    }
                    _ = upkeep.tick() => {
                        tick += 1;
                        // One upkeep at a time; a slow bus delays the next, never piles up.
                        if busy.swap(true, Ordering::AcqRel) {
                            continue;
                        }
                        let refresh = tick.is_multiple_of(2) || failed.load(Ordering::Acquire);
                        let sessions = refresh.then(|| sockets.sessions());
                        let presence = self.presence.clone();
                        let (busy, failed) = (busy.clone(), failed.clone());
                        tokio::spawn(async move {
                            if let Some(sessions) = sessions {
                                let r = presence.heartbeat(&sessions).await;
                                if let Err(e) = &r {
                                    tracing::warn!(error = %e, "presence heartbeat failed");
                                }
                                failed.store(r.is_err(), Ordering::Release);
                            }
                            if let Err(e) = presence.sweep().await {
                                tracing::warn!(error = %e, "presence sweep failed");
                            }
                            busy.store(false, Ordering::Release);
                        });
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
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        self.stats.received_envelopes.fetch_add(batch.len() as u64, Ordering::Relaxed);
        for env in batch {
            if let Some(effect) = &env.effect {
                self.caches.apply(effect);
                match *effect {
                    fanout::Effect::CallEnded { caller, callee } => self.calls.call_ended(caller, callee),
                    fanout::Effect::Left { conversation_id } => self.rooms.members_left(conversation_id, &env.to),
                    fanout::Effect::UserDisabled { user_id } => {
                        sockets.disconnect(user_id);
                        continue;
                    }
                    fanout::Effect::UserEnabled { .. } => continue,
                    _ => {}
                }
            }
            let text: Arc<str> = Arc::from(env.event.get());
            sockets.deliver(&env.to, &env.only, &env.except, &text);
        }
    }
}

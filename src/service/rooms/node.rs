//! The rooms service's side of this node's SFU: commands to a room's host (local, or over
//! the bus), the SFU's events to devices, and the upkeep that shows this node alive and
//! ends rooms whose host died.

use std::{
    collections::HashSet,
    sync::{Arc, Weak},
    time::Duration,
};

use tokio::{sync::mpsc, task::JoinHandle};
use uuid::Uuid;

use super::{Rooms, left, record};
use crate::{
    bus::keys,
    error::{Error, Result},
    protocol::{ServerEvent, rooms::LeftReason},
    rtc::sfu::{Command, SfuEvent, SfuEventKind},
    service::fanout::Envelope,
};

impl Rooms {
    /// Hand a command to the SFU of the room's host node.
    pub(super) async fn to_host(&self, host: Uuid, cmd: Command) -> Result<()> {
        if host == self.node {
            let Some(sfu) = &self.sfu else { return Err(Error::Unavailable("this node runs no SFU".into())) };
            sfu.command(cmd).await;
            return Ok(());
        }
        let payload = serde_json::to_vec(&cmd).map_err(Error::internal)?;
        Ok(self.bus.publish(&keys::sfu_topic(&host), payload.into()).await?)
    }

    /// Show this node alive now (before serving, so that its first room is not taken
    /// for a dead node's).
    pub async fn heartbeat(&self) -> Result<()> {
        let ttl = Duration::from_secs(self.config.node_ttl_secs);
        Ok(self.bus.set(&keys::node(&self.node), "1", ttl).await?)
    }

    /// This node stops serving: it no longer shows itself alive (the rooms it hosts end
    /// for their devices on other nodes at their next check) and its SFU rooms close.
    pub async fn shutdown(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = self.bus.delete(&keys::node(&self.node)).await {
            tracing::warn!(error = %e, "node key not removed (it expires)");
        }
        if let Some(sfu) = &self.sfu {
            sfu.close_all().await;
        }
    }

    /// Run this node's part: commands from other nodes for rooms hosted here, the SFU's
    /// events, the heartbeat and the check of other hosts.
    pub async fn run(
        self: &Arc<Self>,
        mut events: mpsc::UnboundedReceiver<SfuEvent>,
    ) -> anyhow::Result<JoinHandle<()>> {
        self.heartbeat().await?;
        let mut commands = self.bus.subscribe(&keys::sfu_topic(&self.node)).await?;
        let this: Weak<Rooms> = Arc::downgrade(self);
        let every = Duration::from_secs(self.config.node_ttl_secs).div_f64(3.0).max(Duration::from_millis(200));
        Ok(tokio::spawn(async move {
            let mut upkeep = tokio::time::interval(every);
            loop {
                tokio::select! {
                    payload = commands.recv() => {
                        let Some(payload) = payload else { break };
                        let Some(rooms) = this.upgrade() else { break };
                        match serde_json::from_slice::<Command>(&payload) {
                            Ok(cmd) => {
                                if let Some(sfu) = &rooms.sfu {
                                    sfu.command(cmd).await;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "undecodable SFU command ignored"),
                        }
                    }
                    ev = events.recv() => {
                        let Some(ev) = ev else { break };
                        let Some(rooms) = this.upgrade() else { break };
                        rooms.deliver(ev).await;
                    }
                    _ = upkeep.tick() => {
                        let Some(rooms) = this.upgrade() else { break };
                        if rooms.stopped.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        if let Err(e) = rooms.heartbeat().await {
                            tracing::warn!(error = %e, "node heartbeat failed");
                        }
                        rooms.check_hosts().await;
                    }
                }
            }
        }))
    }

    /// An SFU event of a room hosted here, to its devices.
    async fn deliver(&self, ev: SfuEvent) {
        let conversation_id = ev.conversation_id;
        let event = match ev.kind {
            SfuEventKind::Answer { sdp, slots } => ServerEvent::RoomAnswer { conversation_id, sdp, slots },
            SfuEventKind::Slots(slots) => ServerEvent::RoomSlots { conversation_id, slots },
            SfuEventKind::Renegotiate { audio, video } => {
                ServerEvent::RoomRenegotiate { conversation_id, audio, video }
            }
            SfuEventKind::Speakers(speakers) => ServerEvent::RoomSpeakers { conversation_id, speakers },
            SfuEventKind::Rejected { code, message } => {
                ServerEvent::error(code, message, None).for_room(Some(conversation_id))
            }
            SfuEventKind::Failed => {
                for (user, session) in ev.to {
                    if let Err(e) = self.remove(user, session, conversation_id, LeftReason::Failed, false).await {
                        tracing::warn!(error = %e, "failed participant not removed from the room");
                    }
                }
                return;
            }
        };
        let batch: Vec<Envelope> =
            ev.to.into_iter().map(|(user, session)| Envelope::new(vec![user], &event).only(vec![session])).collect();
        if let Err(e) = self.fanout.publish(&batch).await {
            tracing::warn!(error = %e, "SFU event not delivered");
        }
    }

    /// End the rooms of this node's devices whose host node is dead.
    async fn check_hosts(&self) {
        let watched: Vec<(Uuid, Uuid)> = {
            let local = self.local.lock().expect("local rooms");
            let set: HashSet<(Uuid, Uuid)> = local.values().copied().filter(|(_, host)| *host != self.node).collect();
            set.into_iter().collect()
        };
        for (conversation_id, host) in watched {
            match record::node_alive(&*self.bus, host).await {
                Ok(true) => {}
                Ok(false) => {
                    if let Err(e) = self.host_lost(conversation_id, host).await {
                        tracing::warn!(error = %e, "room of a dead node not ended");
                    }
                }
                Err(e) => tracing::debug!(error = %e, "node liveness unknown"),
            }
        }
    }

    /// The room's host died: everyone in it is told (`node_lost`) and the room ends.
    async fn host_lost(&self, conversation_id: Uuid, host: Uuid) -> Result<()> {
        self.local.lock().expect("local rooms").retain(|_, (c, h)| !(*c == conversation_id && *h == host));
        let held = self.lock(conversation_id).await?;
        let result = async {
            let Some(rec) = record::load(&*self.bus, conversation_id).await? else { return Ok(None) };
            if rec.host != host {
                return Ok(None);
            }
            self.bus.delete(&keys::room(&conversation_id)).await?;
            for m in &rec.members {
                self.bus.delete_if_eq(&keys::user_room(&m.user_id), &conversation_id.to_string()).await?;
            }
            Ok::<_, Error>(Some(rec))
        }
        .await;
        self.release(held).await;
        let Some(mut rec) = result? else { return Ok(()) };
        tracing::warn!(conversation = %conversation_id, host = %host, "room ended: its node is gone");
        let batch =
            rec.members.iter().map(|m| left(m.user_id, m.session_id, conversation_id, LeftReason::NodeLost)).collect();
        rec.members.clear();
        self.announce(&rec, batch).await
    }
}

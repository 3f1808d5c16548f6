//! Group calls ("rooms"): who is in a conversation's call, on which node its SFU runs, and
//! the signaling between devices and that SFU (`docs/protocol.md`, "Group calls").
//!
//! - The room's [`record::Record`] lives on the bus, so any node can take a device's
//!   `room.*` event: it checks the device against the record, changes the record under
//!   its lock, and hands the SFU's part to the **host** node — its own SFU, or the host's
//!   over the bus topic `sfu:<node>` ([`node`]).
//! - The host's SFU answers devices directly through the fan-out ([`node::deliver`]),
//!   whichever node their sockets are on.
//! - A room lives on the node of the first joiner. Every node shows it is alive
//!   (`node:<id>`, refreshed every third of `calls.node_ttl_secs`); a node that sees a
//!   room of one of its devices hosted on a dead node ends that room with `node_lost`,
//!   and the first device to join again starts it anew on its own node.

mod node;
pub mod record;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use chrono::Utc;
use uuid::Uuid;

use self::record::{LIVE_TTL, Member, Record};
use super::{
    calls::Calls,
    fanout::{Envelope, Fanout},
    locks::{self, Held},
};
use crate::{
    bus::{Bus, keys},
    config::CallsConfig,
    error::{Error, Result},
    protocol::{
        ServerEvent,
        calls::MAX_SDP_BYTES,
        rooms::{LeftReason, MAX_TILES, RoomView, Source, Tile, TrackDecl},
    },
    rtc::sfu::{Command, Sfu},
    store::Store,
};

fn not_joined() -> Error {
    Error::Conflict { code: "room_not_joined", detail: "this device is not in the call".into() }
}

pub struct Rooms {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    calls: Arc<Calls>,
    config: CallsConfig,
    /// This node.
    pub node: Uuid,
    /// This node's SFU (none in CLI commands, which serve no calls).
    sfu: Option<Arc<Sfu>>,
    /// This node's devices in rooms: session → (conversation, host node).
    local: Mutex<HashMap<Uuid, (Uuid, Uuid)>>,
    /// Set by [`Rooms::shutdown`]: the heartbeat stops.
    stopped: std::sync::atomic::AtomicBool,
    this: Weak<Rooms>,
}

impl Rooms {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        calls: Arc<Calls>,
        config: CallsConfig,
        sfu: Option<Arc<Sfu>>,
        node: Uuid,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Rooms {
            store,
            bus,
            fanout,
            calls,
            config,
            node,
            sfu,
            local: Mutex::default(),
            stopped: Default::default(),
            this: this.clone(),
        })
    }

    pub fn sfu(&self) -> Option<&Arc<Sfu>> {
        self.sfu.as_ref()
    }

    // ----- client events -------------------------------------------------------------

    /// `room.join`: this device joins (or starts) the conversation's group call.
    pub async fn join(&self, me: Uuid, session: Uuid, conversation_id: Uuid) -> Result<()> {
        let members = self.group_members(me, conversation_id).await?;
        if !self.calls.current(me).await?.is_empty() {
            return Err(Error::Conflict { code: "already_in_call", detail: "you are in a 1-on-1 call".into() });
        }
        if let Some(other) = record::room_of(&*self.bus, me).await?
            && other.conversation_id != conversation_id
        {
            return Err(Error::Conflict {
                code: "already_in_call",
                detail: "you are in another group call; leave it first".into(),
            });
        }
        let held = self.lock(conversation_id).await?;
        let result = self.join_locked(me, session, conversation_id, members).await;
        self.release(held).await;
        result
    }

    async fn join_locked(&self, me: Uuid, session: Uuid, conversation_id: Uuid, members: Vec<Uuid>) -> Result<()> {
        let now = Utc::now();
        let mut rec = match record::load(&*self.bus, conversation_id).await? {
            Some(r) if record::node_alive(&*self.bus, r.host).await? => r,
            stale => {
                if let Some(old) = stale {
                    tracing::info!(conversation = %conversation_id, host = %old.host, "room of a dead node replaced");
                }
                if self.sfu.is_none() {
                    return Err(Error::Unavailable("this node runs no SFU".into()));
                }
                Record {
                    conversation_id,
                    room_id: Uuid::now_v7(),
                    host: self.node,
                    started_at: now,
                    members: Vec::new(),
                }
            }
        };
        let mut batch = Vec::new();
        if rec.member(session).is_none() {
            if let Some(i) = rec.members.iter().position(|m| m.user_id == me) {
                // The same user from another device: this one takes the place over.
                let old = rec.members.remove(i);
                batch.push(left(old.user_id, old.session_id, conversation_id, LeftReason::JoinedElsewhere));
                self.to_host(rec.host, Command::Leave { conversation_id, session: old.session_id }).await?;
            }
            if rec.members.len() >= self.config.max_participants as usize {
                return Err(Error::Conflict {
                    code: "room_full",
                    detail: format!("the call has {} participants, the most there can be", rec.members.len()),
                });
            }
            rec.members.push(Member {
                user_id: me,
                session_id: session,
                node_id: self.node,
                joined_at: now,
                audio_muted: false,
                video_muted: false,
                screen_sharing: false,
            });
        }
        record::save(&*self.bus, &rec).await?;
        self.bus.set(&keys::user_room(&me), &conversation_id.to_string(), LIVE_TTL).await?;
        self.local.lock().expect("local rooms").insert(session, (conversation_id, rec.host));
        tracing::info!(conversation = %conversation_id, room = %rec.room_id, user = %me, "room joined");
        let joined = ServerEvent::RoomJoined { room: rec.view(), max_video_kbps: self.config.max_video_kbps };
        batch.push(Envelope::new(vec![me], &joined).only(vec![session]));
        batch.push(Envelope::new(members, &ServerEvent::RoomState { room: rec.view() }));
        self.fanout.publish(&batch).await
    }

    /// `room.offer`: to the room's SFU, which answers the device.
    pub async fn offer(
        &self,
        me: Uuid,
        session: Uuid,
        conversation_id: Uuid,
        sdp: String,
        tracks: Vec<TrackDecl>,
    ) -> Result<()> {
        if sdp.is_empty() || sdp.len() > MAX_SDP_BYTES {
            return Err(Error::validation(format!("sdp: must be 1 to {MAX_SDP_BYTES} bytes")));
        }
        if tracks.len() > 3 || tracks.iter().any(|t| t.mid.is_empty() || t.mid.len() > 32) {
            return Err(Error::validation("tracks: at most 3, each with a mid of 1 to 32 characters"));
        }
        let rec = self.joined(conversation_id, session).await?;
        let sharing = tracks.iter().any(|t| t.source == Source::Screen);
        if rec.member(session).is_some_and(|m| m.screen_sharing != sharing) {
            self.change(session, conversation_id, |m| m.screen_sharing = sharing).await?;
        }
        let room_id = rec.room_id;
        self.to_host(rec.host, Command::Offer { conversation_id, room_id, user: me, session, sdp, tracks }).await
    }

    /// `room.mute`: shown to everyone; a muted microphone never counts as speaking.
    pub async fn mute(
        &self,
        _me: Uuid,
        session: Uuid,
        conversation_id: Uuid,
        source: Source,
        muted: bool,
    ) -> Result<()> {
        let rec = match source {
            Source::Microphone => self.change(session, conversation_id, |m| m.audio_muted = muted).await?,
            Source::Camera => self.change(session, conversation_id, |m| m.video_muted = muted).await?,
            Source::Screen => return Err(Error::validation("source: mute the microphone or the camera")),
        };
        self.to_host(rec.host, Command::Mute { conversation_id, session, source, muted }).await
    }

    /// `room.view`: the sizes the device shows the others' videos at.
    pub async fn view(&self, _me: Uuid, session: Uuid, conversation_id: Uuid, tiles: Vec<Tile>) -> Result<()> {
        if tiles.len() > MAX_TILES {
            return Err(Error::validation(format!("tiles: at most {MAX_TILES}")));
        }
        let rec = self.joined(conversation_id, session).await?;
        self.to_host(rec.host, Command::View { conversation_id, session, tiles }).await
    }

    /// `room.leave`.
    pub async fn leave(&self, me: Uuid, session: Uuid, conversation_id: Uuid) -> Result<()> {
        self.joined(conversation_id, session).await?;
        self.remove(me, session, conversation_id, LeftReason::Left, true).await
    }

    /// A socket closed: if it was in a room, it has `calls.reconnect_grace_secs` to join
    /// again (from a new socket) before it is taken out.
    pub fn socket_closed(&self, me: Uuid, session: Uuid) {
        let Some((conversation_id, _)) = self.local.lock().expect("local rooms").get(&session).copied() else { return };
        let this = self.this.clone();
        let grace = Duration::from_secs(self.config.reconnect_grace_secs);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let Some(rooms) = this.upgrade() else { return };
            if let Err(e) = rooms.remove(me, session, conversation_id, LeftReason::Disconnected, true).await {
                tracing::debug!(error = %e, "room clean-up after a closed socket failed");
            }
        });
    }

    /// `users` are no longer members of the conversation: this node's devices of theirs in
    /// its room leave it (`removed`).
    pub fn members_left(&self, conversation_id: Uuid, users: &[Uuid]) {
        let sessions: Vec<Uuid> = self
            .local
            .lock()
            .expect("local rooms")
            .iter()
            .filter(|(_, (c, _))| *c == conversation_id)
            .map(|(s, _)| *s)
            .collect();
        if sessions.is_empty() {
            return;
        }
        let (this, users) = (self.this.clone(), users.to_vec());
        tokio::spawn(async move {
            let Some(rooms) = this.upgrade() else { return };
            let Ok(Some(rec)) = record::load(&*rooms.bus, conversation_id).await else { return };
            for m in rec.members.iter().filter(|m| sessions.contains(&m.session_id) && users.contains(&m.user_id)) {
                if let Err(e) = rooms.remove(m.user_id, m.session_id, conversation_id, LeftReason::Removed, true).await
                {
                    tracing::warn!(error = %e, "removed member not taken out of the room");
                }
            }
        });
    }

    /// The live rooms of the user's group conversations (for `ready`).
    pub async fn current(&self, me: Uuid) -> Result<Vec<RoomView>> {
        let mut out = Vec::new();
        for c in self.store.conversations_of(me).await? {
            if c.kind != "group" {
                continue;
            }
            if let Some(rec) = record::load(&*self.bus, c.id).await?
                && !rec.members.is_empty()
                && record::node_alive(&*self.bus, rec.host).await?
            {
                out.push(rec.view());
            }
        }
        Ok(out)
    }

    // ----- the record ----------------------------------------------------------------

    /// The members of a group conversation `me` is in.
    async fn group_members(&self, me: Uuid, conversation_id: Uuid) -> Result<Vec<Uuid>> {
        let conversation = self.store.conversation(conversation_id).await?;
        let members: Vec<Uuid> =
            self.store.members_of(&[conversation_id]).await?.into_iter().map(|(_, m)| m.user.id).collect();
        let Some(conversation) = conversation.filter(|_| members.contains(&me)) else {
            return Err(Error::NotFound("conversation not found".into()));
        };
        if conversation.kind != "group" {
            return Err(Error::validation("conversation_id: a direct conversation; use call.invite"));
        }
        Ok(members)
    }

    /// The room, if this device is in it.
    async fn joined(&self, conversation_id: Uuid, session: Uuid) -> Result<Record> {
        record::load(&*self.bus, conversation_id).await?.filter(|r| r.member(session).is_some()).ok_or_else(not_joined)
    }

    /// Change this device's entry under the lock and tell every member.
    async fn change(&self, session: Uuid, conversation_id: Uuid, f: impl FnOnce(&mut Member)) -> Result<Record> {
        let held = self.lock(conversation_id).await?;
        let result = async {
            let mut rec = self.joined(conversation_id, session).await?;
            if let Some(m) = rec.member_mut(session) {
                f(m);
            }
            record::save(&*self.bus, &rec).await?;
            Ok::<_, Error>(rec)
        }
        .await;
        self.release(held).await;
        let rec = result?;
        self.announce(&rec, Vec::new()).await?;
        Ok(rec)
    }

    /// Take a device out of the room, telling it why; the last one out ends the room.
    /// `tell_sfu`: the host's SFU still has the participant (not so when it failed there).
    async fn remove(
        &self,
        me: Uuid,
        session: Uuid,
        conversation_id: Uuid,
        why: LeftReason,
        tell_sfu: bool,
    ) -> Result<()> {
        self.local.lock().expect("local rooms").remove(&session);
        let held = self.lock(conversation_id).await?;
        let result = async {
            let Some(mut rec) = record::load(&*self.bus, conversation_id).await? else { return Ok(None) };
            let Some(i) = rec.members.iter().position(|m| m.session_id == session) else { return Ok(None) };
            rec.members.remove(i);
            if rec.members.is_empty() {
                self.bus.delete(&keys::room(&conversation_id)).await?;
            } else {
                record::save(&*self.bus, &rec).await?;
            }
            if !rec.members.iter().any(|m| m.user_id == me) {
                self.bus.delete_if_eq(&keys::user_room(&me), &conversation_id.to_string()).await?;
            }
            Ok::<_, Error>(Some(rec))
        }
        .await;
        self.release(held).await;
        let Some(rec) = result? else { return Ok(()) };
        tracing::info!(conversation = %conversation_id, user = %me, reason = ?why, "room left");
        if tell_sfu {
            let cmd = match rec.members.is_empty() {
                true => Command::Close { conversation_id },
                false => Command::Leave { conversation_id, session },
            };
            if let Err(e) = self.to_host(rec.host, cmd).await {
                tracing::debug!(error = %e, "the room's node was not told of a departure");
            }
        }
        self.announce(&rec, vec![left(me, session, conversation_id, why)]).await
    }

    /// `room.state` to every member of the conversation (after `first`).
    async fn announce(&self, rec: &Record, mut batch: Vec<Envelope>) -> Result<()> {
        let members: Vec<Uuid> =
            self.store.members_of(&[rec.conversation_id]).await?.into_iter().map(|(_, m)| m.user.id).collect();
        let room = if rec.members.is_empty() { rec.ended() } else { rec.view() };
        batch.push(Envelope::new(members, &ServerEvent::RoomState { room }));
        self.fanout.publish(&batch).await
    }

    async fn lock(&self, conversation_id: Uuid) -> Result<Held> {
        locks::acquire(&*self.bus, keys::room_lock(&conversation_id), "the call is busy; retry").await
    }

    async fn release(&self, held: Held) {
        locks::release(&*self.bus, held).await
    }
}

fn left(user: Uuid, session: Uuid, conversation_id: Uuid, reason: LeftReason) -> Envelope {
    Envelope::new(vec![user], &ServerEvent::RoomLeft { conversation_id, reason }).only(vec![session])
}

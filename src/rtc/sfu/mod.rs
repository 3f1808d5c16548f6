//! The embedded SFU of group calls, on `str0m` (sans-IO WebRTC).
//!
//! ```text
//!   UDP socket ──read_loop──▶ Router (ufrag / address) ──bounded queue──▶ Room task ─┐
//!       ▲                                                                             │
//!       └──────────────────────── try_send_to (drop + count when full) ◀──────────────┘
//!   Sfu::command (offer, leave, view, mute) ──▶ Room task ──▶ SfuEvent (answer, slots, …)
//! ```
//!
//! - One tokio task per **room** owns that room's participants (one `str0m::Rtc` each):
//!   a room in trouble never stalls another, and a participant whose session fails leaves
//!   without taking the room down (no `expect` on the network or on negotiation).
//! - One UDP socket per node ([`socket`]); the server is ICE-lite and announces one host
//!   candidate (`calls.sfu.public_ip` and the socket's port).
//! - Forwarding is by table: each published track knows its subscribers' slots, so a
//!   packet costs one lookup and one write per subscriber ([`room`]).
//! - The client always offers and the SFU only answers ([`room`] explains the slots).
//!
//! This module knows nothing of users' permissions: the rooms service
//! (`service::rooms`) decides who may join and carries [`SfuEvent`]s to the devices.

mod layers;
mod participant;
mod room;
mod sdp;
mod socket;
mod speaker;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::{net::UdpSocket, sync::mpsc};
use uuid::Uuid;

use self::socket::Router;
use crate::protocol::rooms::{Slot, Source, Speaker, Tile, TrackDecl};

/// What the SFU of one node needs to know.
#[derive(Debug, Clone)]
pub struct SfuSettings {
    /// UDP address to bind (port 0: any).
    pub bind: SocketAddr,
    /// The address announced in answers; `None`: the bound address, or this machine's
    /// primary address when bound to all interfaces.
    pub public_ip: Option<IpAddr>,
    /// A participant whose media does not connect in this long fails.
    pub connect_timeout: Duration,
    /// A participant whose media stopped (ICE disconnected) has this long to recover.
    pub media_grace: Duration,
    /// Top bitrate a subscriber is sent in total (all videos together), kbit/s.
    pub max_subscriber_kbps: u64,
    /// Datagrams queued for one room before new ones are dropped.
    pub room_queue: usize,
}

/// A request to the room of `conversation_id` on this node (`Serialize`: it may come from
/// another node over the bus).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// A client's offer; creates the participant (and the room) on the first one.
    Offer {
        conversation_id: Uuid,
        room_id: Uuid,
        user: Uuid,
        session: Uuid,
        sdp: String,
        tracks: Vec<TrackDecl>,
    },
    Leave {
        conversation_id: Uuid,
        session: Uuid,
    },
    View {
        conversation_id: Uuid,
        session: Uuid,
        tiles: Vec<Tile>,
    },
    Mute {
        conversation_id: Uuid,
        session: Uuid,
        source: Source,
        muted: bool,
    },
    /// The room is over (its record ended): everyone leaves.
    Close {
        conversation_id: Uuid,
    },
}

impl Command {
    pub fn conversation_id(&self) -> Uuid {
        match self {
            Command::Offer { conversation_id, .. }
            | Command::Leave { conversation_id, .. }
            | Command::View { conversation_id, .. }
            | Command::Mute { conversation_id, .. }
            | Command::Close { conversation_id } => *conversation_id,
        }
    }
}

/// Something the SFU tells devices (via the rooms service).
#[derive(Debug, Clone, PartialEq)]
pub struct SfuEvent {
    pub conversation_id: Uuid,
    pub room_id: Uuid,
    /// `(user, session)` of each device it is for.
    pub to: Vec<(Uuid, Uuid)>,
    pub kind: SfuEventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SfuEventKind {
    Answer {
        sdp: String,
        slots: Vec<Slot>,
    },
    Slots(Vec<Slot>),
    Renegotiate {
        audio: usize,
        video: usize,
    },
    Speakers(Vec<Speaker>),
    /// The offer could not be used (`invalid_sdp`, `validation_failed`).
    Rejected {
        code: &'static str,
        message: String,
    },
    /// The participant's media failed; it is out of the room.
    Failed,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct SfuStats {
    pub rooms: AtomicU64,
    pub participants: AtomicU64,
    pub packets_in: AtomicU64,
    pub bytes_in: AtomicU64,
    pub packets_out: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Media frames written to subscribers.
    pub forwarded: AtomicU64,
    pub forwarded_bytes: AtomicU64,
    /// Datagrams lost inside the SFU: a full room queue or a full socket buffer.
    pub dropped: AtomicU64,
    /// Datagrams from addresses no participant uses.
    pub unrouted: AtomicU64,
    /// Keyframe requests sent to publishers.
    pub keyframe_requests: AtomicU64,
}

impl SfuStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

struct RoomHandle {
    room_id: Uuid,
    commands: mpsc::Sender<Command>,
}

/// The SFU of this node.
pub struct Sfu {
    socket: Arc<UdpSocket>,
    announced: SocketAddr,
    router: Arc<Router>,
    rooms: Arc<Mutex<HashMap<Uuid, RoomHandle>>>,
    events: mpsc::UnboundedSender<SfuEvent>,
    settings: SfuSettings,
    pub stats: Arc<SfuStats>,
}

impl Sfu {
    /// Bind the socket and start reading; events for devices go to `events`.
    pub async fn start(settings: SfuSettings, events: mpsc::UnboundedSender<SfuEvent>) -> anyhow::Result<Arc<Sfu>> {
        let socket = UdpSocket::bind(settings.bind)
            .await
            .with_context(|| format!("cannot bind the SFU's UDP socket {} (set calls.sfu.listen)", settings.bind))?;
        let local = socket.local_addr()?;
        let ip = settings.public_ip.unwrap_or_else(|| crate::rtc::announced_ip(local.ip()));
        let announced = SocketAddr::new(ip, local.port());
        let socket = Arc::new(socket);
        let router = Arc::new(Router::default());
        let stats = Arc::new(SfuStats::default());
        tokio::spawn(socket::read_loop(socket.clone(), router.clone(), stats.clone()));
        tracing::info!(listen = %local, announced = %announced, "SFU ready");
        Ok(Arc::new(Sfu { socket, announced, router, rooms: Arc::default(), events, settings, stats }))
    }

    /// The address clients send media to.
    pub fn address(&self) -> SocketAddr {
        self.announced
    }

    /// Hand `cmd` to its room; an offer for a room this node does not run starts it.
    pub async fn command(&self, cmd: Command) {
        let conversation_id = cmd.conversation_id();
        let sender = {
            let mut rooms = self.rooms.lock().expect("rooms lock");
            let live = rooms.get(&conversation_id).filter(|h| !h.commands.is_closed());
            match (&cmd, live) {
                (Command::Offer { room_id, .. }, Some(h)) if h.room_id != *room_id => {
                    // A new room of the same conversation: the old one is over.
                    let old = h.commands.clone();
                    let _ = old.try_send(Command::Close { conversation_id });
                    Some(self.spawn_room(&mut rooms, conversation_id, *room_id))
                }
                (_, Some(h)) => Some(h.commands.clone()),
                (Command::Offer { room_id, .. }, None) => Some(self.spawn_room(&mut rooms, conversation_id, *room_id)),
                (_, None) => None,
            }
        };
        if let Some(sender) = sender
            && sender.send(cmd).await.is_err()
        {
            tracing::debug!(conversation = %conversation_id, "room ended before the command reached it");
        }
    }

    fn spawn_room(
        &self,
        rooms: &mut HashMap<Uuid, RoomHandle>,
        conversation_id: Uuid,
        room_id: Uuid,
    ) -> mpsc::Sender<Command> {
        let (tx, rx) = mpsc::channel(256);
        rooms.insert(conversation_id, RoomHandle { room_id, commands: tx.clone() });
        let room = room::Room::new(room::RoomParts {
            conversation_id,
            room_id,
            socket: self.socket.clone(),
            announced: self.announced,
            router: self.router.clone(),
            events: self.events.clone(),
            stats: self.stats.clone(),
            settings: self.settings.clone(),
        });
        let registry = self.rooms.clone();
        let stats = self.stats.clone();
        SfuStats::add(&stats.rooms, 1);
        tokio::spawn(async move {
            room.run(rx).await;
            stats.rooms.fetch_sub(1, Ordering::Relaxed);
            let mut rooms = registry.lock().expect("rooms lock");
            if rooms.get(&conversation_id).is_some_and(|h| h.room_id == room_id) {
                rooms.remove(&conversation_id);
            }
        });
        tx
    }

    /// Close every room (the node stops).
    pub async fn close_all(&self) {
        let rooms: Vec<(Uuid, mpsc::Sender<Command>)> =
            self.rooms.lock().expect("rooms lock").iter().map(|(c, h)| (*c, h.commands.clone())).collect();
        for (conversation_id, tx) in rooms {
            let _ = tx.send(Command::Close { conversation_id }).await;
        }
    }

    /// Rooms running on this node.
    pub fn room_count(&self) -> usize {
        self.rooms.lock().expect("rooms lock").values().filter(|h| !h.commands.is_closed()).count()
    }
}

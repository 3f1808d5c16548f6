//! The Bus seam: everything nodes share that is not SQL. The in-process
//! [`memory::MemoryBus`] serves the single-node embedded mode; [`redis::RedisBus`] serves
//! a cluster. Both pass one conformance suite (`tests/suite/bus.rs`).
//!
//! What it offers, and the promise each part keeps:
//! - **pub/sub**: `publish` reaches every current subscriber of the topic on every node;
//!   at-most-once (durability is the queue's job). One subscription may cover several
//!   topics and keeps one publisher's order across them; `publish_many` sends several in
//!   one round trip.
//! - **queue** (a stream with consumer groups): an entry is delivered to one consumer of a
//!   group; it stays pending until `ack`ed; `reclaim` hands entries idle longer than a
//!   timeout (their consumer died) to another consumer, counting deliveries;
//!   `dead_letter` moves an entry to `<stream>:dead` and acks it.
//! - **max-wins buffer**: a hash of `field -> i64` where a write keeps the maximum;
//!   `buffer_take` atomically moves the dirty entries aside (merged with any batch an
//!   interrupted flush left there) and returns them; `buffer_done` forgets the taken batch
//!   once it is safely stored. A crash between the two loses nothing.
//! - **keys with expiry**: `put_if_absent` (dedupe, claims), `get`, `set`, `delete`, and
//!   `delete_if_eq` (release a claim only if it is still yours).
//! - **live sets**: members that expire unless touched (devices online, by user); the
//!   count of live members tells "online on any node", and a node that dies simply stops
//!   touching its members. Expired members can be taken, each by exactly one caller
//!   (`live_take_expired`: who notices a dead node).
//! - **lock with expiry**: `try_lock` returns a token; only its holder can `unlock`.
//! - **GCRA rate limiter**: smooth rate with a burst, answering how long to wait.
//!
//! Names passed in (topics, streams, keys) are logical; implementations add the
//! deployment's prefix. The names Nexus uses are the constants in [`keys`].

pub mod memory;
pub mod redis;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::config::Config;

/// Every bus key, stream and topic Nexus uses, in one place.
pub mod keys {
    /// Rate limit of login attempts per client IP: `rl:login:ip:<ip>`.
    pub fn login_ip(ip: &str) -> String {
        format!("rl:login:ip:{ip}")
    }
    /// Rate limit of login attempts per username: `rl:login:user:<username>`.
    pub fn login_user(username: &str) -> String {
        format!("rl:login:user:{username}")
    }
    /// Rate limit of `message.send` per user: `rl:msg:<user>`.
    pub fn message_rate(user: &uuid::Uuid) -> String {
        format!("rl:msg:{user}")
    }
    /// Rate limit of searches per user: `rl:search:<user>`.
    pub fn search_rate(user: &uuid::Uuid) -> String {
        format!("rl:search:{user}")
    }
    /// Dedupe of a sender's `client_id`: `dedupe:<user>:<client_id>` -> the ack.
    pub fn dedupe(user: &uuid::Uuid, client_id: &str) -> String {
        format!("dedupe:{user}:{client_id}")
    }
    /// An attempt to send a `client_id` with images, while it claims them:
    /// `sending:<user>:<client_id>` -> its would-be ack.
    pub fn sending(user: &uuid::Uuid, client_id: &str) -> String {
        format!("sending:{user}:{client_id}")
    }
    /// Live set of a user's connected devices: `presence:<user>`, members
    /// [`presence_member`]s.
    pub fn presence(user: &uuid::Uuid) -> String {
        format!("presence:{user}")
    }
    /// A device in a user's presence set: `<node>/<session>`, so the set also says which
    /// nodes hold the user's sockets (the fan-out routes by it).
    pub fn presence_member(node: &uuid::Uuid, session: &uuid::Uuid) -> String {
        format!("{}/{}", node.simple(), session.simple())
    }
    /// The node of a [`presence_member`].
    pub fn member_node(member: &str) -> Option<uuid::Uuid> {
        uuid::Uuid::try_parse(member.split_once('/')?.0).ok()
    }
    /// Live set of the nodes that serve sockets, members node ids.
    pub const PRESENCE_NODES: &str = "presence:nodes";
    /// Live set of the users with sockets on one node: `presence:node:<node>`.
    pub fn node_users(node: &uuid::Uuid) -> String {
        format!("presence:node:{node}")
    }
    /// When a user was last seen online: `last_seen:<user>` (RFC 3339).
    pub fn last_seen(user: &uuid::Uuid) -> String {
        format!("last_seen:{user}")
    }
    /// The message queue (stream) and its consumer group.
    pub const MESSAGES_STREAM: &str = "q:messages";
    pub const MESSAGES_GROUP: &str = "persist";
    /// The fan-out topic every node subscribes to: events whose effects every node applies.
    pub const EVENTS_TOPIC: &str = "events";
    /// One node's fan-out topic: events for the users with sockets on it.
    pub fn node_events(node: &uuid::Uuid) -> String {
        format!("events:{node}")
    }
    /// The receipts write-behind buffer: field `<conversation>:<user>:d|r` -> seq.
    pub const RECEIPTS_BUFFER: &str = "receipts";
    /// Lock of the receipts flusher.
    pub const RECEIPTS_FLUSH_LOCK: &str = "lock:receipts:flush";
    /// Held by the node sweeping unattached uploads.
    pub const MEDIA_SWEEP_LOCK: &str = "lock:media:sweep";
    /// Held by the node running message retention (`messages.retention_days`).
    pub const RETENTION_LOCK: &str = "lock:retention";
    /// A call's state: `call:<call id>` (JSON).
    pub fn call(call: &uuid::Uuid) -> String {
        format!("call:{call}")
    }
    /// The call a user is in: `call:user:<user>` -> call id.
    pub fn user_call(user: &uuid::Uuid) -> String {
        format!("call:user:{user}")
    }
    /// Lock of one call's state.
    pub fn call_lock(call: &uuid::Uuid) -> String {
        format!("lock:call:{call}")
    }
    /// Lock serialising invites within a conversation (glare).
    pub fn call_conversation_lock(conversation: &uuid::Uuid) -> String {
        format!("lock:call:conv:{conversation}")
    }
    /// Rate limit of `call.invite` per user: `rl:call:<user>`.
    pub fn call_invites(user: &uuid::Uuid) -> String {
        format!("rl:call:{user}")
    }
    /// A conversation's group call (JSON): `room:<conversation>`.
    pub fn room(conversation: &uuid::Uuid) -> String {
        format!("room:{conversation}")
    }
    /// Lock of one group call's state.
    pub fn room_lock(conversation: &uuid::Uuid) -> String {
        format!("lock:room:{conversation}")
    }
    /// The group call a user is in: `room:user:<user>` -> conversation id.
    pub fn user_room(user: &uuid::Uuid) -> String {
        format!("room:user:{user}")
    }
    /// A node that is alive (expires after `calls.node_ttl_secs`): `node:<node>`.
    pub fn node(node: &uuid::Uuid) -> String {
        format!("node:{node}")
    }
    /// The topic of one node's SFU: commands for the rooms it hosts.
    pub fn sfu_topic(node: &uuid::Uuid) -> String {
        format!("sfu:{node}")
    }
    /// The push queue (stream) and its consumer group: notifications to send.
    pub const PUSH_STREAM: &str = "q:push";
    pub const PUSH_GROUP: &str = "push";
    /// Rate limit of pushes per user: `rl:push:<user>`.
    pub fn push_rate(user: &uuid::Uuid) -> String {
        format!("rl:push:{user}")
    }
    /// Rate limit of registrations per client IP: `rl:register:ip:<ip>`.
    pub fn register_ip(ip: &str) -> String {
        format!("rl:register:ip:{ip}")
    }
}

/// A failure of the bus. The driver's own error stays inside its implementation (the
/// Redis bus converts it, `redis/mod.rs`); callers see the backend's name and its message.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("{backend}: {source}")]
    Backend {
        backend: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("bus: {0}")]
    Other(String),
}

pub type BusResult<T> = Result<T, BusError>;

/// One entry read from a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// Stream-assigned id, monotonically increasing within a stream.
    pub id: String,
    pub payload: Bytes,
    /// How many times this entry has been handed to a consumer, this time included.
    pub deliveries: u64,
}

/// A quota: `per_period` events per `period`, with up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_period: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Quota {
    pub fn per_second(rate: u32, burst: u32) -> Self {
        Self { per_period: rate, period: Duration::from_secs(1), burst }
    }
    pub fn per_minute(rate: u32, burst: u32) -> Self {
        Self { per_period: rate, period: Duration::from_secs(60), burst }
    }
    pub fn per_hour(rate: u32, burst: u32) -> Self {
        Self { per_period: rate, period: Duration::from_secs(3600), burst }
    }
    /// Time between two events at the sustained rate (GCRA's emission interval), in µs.
    pub fn emission_us(&self) -> u64 {
        (self.period.as_micros() as u64 / u64::from(self.per_period.max(1))).max(1)
    }
    /// How far ahead of now the theoretical arrival time may run (the burst tolerance).
    pub fn tolerance_us(&self) -> u64 {
        self.emission_us() * u64::from(self.burst.max(1))
    }
}

/// The answer of the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after: Duration },
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    pub rx: mpsc::Receiver<Bytes>,
    // Keeps the subscription registered while held.
    pub(crate) _guard: Box<dyn Send + Sync>,
}

impl Subscription {
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.rx.recv().await
    }
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    fn backend(&self) -> &'static str;
    /// True when `enqueue` returning means the entry survives this process dying (Redis);
    /// false for the in-process queue, whose callers must wait for the consumer's commit.
    fn queue_durable(&self) -> bool;
    async fn ping(&self) -> BusResult<()>;

    // pub/sub
    async fn publish(&self, topic: &str, payload: Bytes) -> BusResult<()>;
    /// [`Bus::publish`] of several payloads in one round trip, in order.
    async fn publish_many(&self, messages: &[(String, Bytes)]) -> BusResult<()>;
    async fn subscribe(&self, topic: &str) -> BusResult<Subscription> {
        self.subscribe_all(&[topic.to_string()]).await
    }
    /// One subscription to several topics: their messages arrive on one channel, in the
    /// order they were published (by one publisher).
    async fn subscribe_all(&self, topics: &[String]) -> BusResult<Subscription>;

    // queue
    /// Create the consumer group if it does not exist (reading from the beginning).
    async fn queue_ensure_group(&self, stream: &str, group: &str) -> BusResult<()>;
    /// Append; resolves once the entry is stored by the bus. Returns its id.
    async fn enqueue(&self, stream: &str, payload: Bytes) -> BusResult<String>;
    /// Append unless `key` is present, and set `key` to `value` for `ttl` in the same
    /// atomic step, so that the key exists only if the entry was appended (a process that
    /// dies half-way leaves neither). `None`: appended; `Some(existing)`: the key's value,
    /// nothing appended.
    async fn enqueue_once(
        &self,
        stream: &str,
        payload: Bytes,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> BusResult<Option<String>>;
    /// New entries for `consumer`, waiting up to `block` for the first one.
    async fn dequeue(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> BusResult<Vec<QueueEntry>>;
    async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> BusResult<()>;
    /// Take over entries pending longer than `min_idle` (their consumer stopped).
    async fn reclaim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> BusResult<Vec<QueueEntry>>;
    /// Append `entry` to `<stream>:dead` with `reason`, then ack it.
    async fn dead_letter(&self, stream: &str, group: &str, entry: &QueueEntry, reason: &str) -> BusResult<()>;
    /// Entries in `<stream>:dead`, oldest first (payload and reason).
    async fn dead_letters(&self, stream: &str, count: usize) -> BusResult<Vec<(Bytes, String)>>;

    // keys with expiry
    /// Store `value` under `key` unless present; returns the value already there, if any.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> BusResult<Option<String>>;
    async fn get(&self, key: &str) -> BusResult<Option<String>>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> BusResult<()>;
    async fn delete(&self, key: &str) -> BusResult<()>;
    /// Delete `key` only if it still holds `value` (atomically); true if it did.
    async fn delete_if_eq(&self, key: &str, value: &str) -> BusResult<bool>;

    // live sets
    /// Add or refresh `member` until `ttl` from now; returns the live count after.
    async fn live_add(&self, set: &str, member: &str, ttl: Duration) -> BusResult<u64>;
    /// Remove `member`; returns the live count after.
    async fn live_remove(&self, set: &str, member: &str) -> BusResult<u64>;
    /// Live counts of several sets.
    async fn live_counts(&self, sets: &[String]) -> BusResult<Vec<u64>>;
    /// The live members of several sets, one list per set.
    async fn live_members(&self, sets: &[String]) -> BusResult<Vec<Vec<String>>>;
    /// [`Bus::live_add`] of many `(set, member)` pairs in one round trip.
    async fn live_add_many(&self, entries: &[(String, String)], ttl: Duration) -> BusResult<()>;
    /// Atomically remove the members of `set` whose time ran out and return them: of
    /// several callers, each expired member goes to exactly one.
    async fn live_take_expired(&self, set: &str) -> BusResult<Vec<String>>;

    // max-wins buffer
    /// Keep `max(current, value)` for `field`; returns the value now stored.
    async fn buffer_max(&self, buffer: &str, field: &str, value: i64) -> BusResult<i64>;
    /// [`Bus::buffer_max`] for many fields in one round trip.
    async fn buffer_max_many(&self, buffer: &str, entries: &[(String, i64)]) -> BusResult<()>;
    /// The buffered values of `fields` (dirty and being flushed, whichever is higher).
    async fn buffer_get(&self, buffer: &str, fields: &[String]) -> BusResult<Vec<Option<i64>>>;
    /// Atomically move the dirty entries into the flushing batch and return that batch.
    async fn buffer_take(&self, buffer: &str) -> BusResult<Vec<(String, i64)>>;
    /// Forget the flushing batch (it is stored).
    async fn buffer_done(&self, buffer: &str) -> BusResult<()>;

    // locks
    /// Take the lock for `ttl` if free; returns the holder's token.
    async fn try_lock(&self, name: &str, ttl: Duration) -> BusResult<Option<String>>;
    /// Release if `token` still holds it; false if it had expired or changed hands.
    async fn unlock(&self, name: &str, token: &str) -> BusResult<bool>;

    // rate limits
    async fn rate_limit(&self, key: &str, quota: Quota) -> BusResult<RateDecision>;
}

/// Build the bus `config` selects: Redis when `redis.url` is set, in-process otherwise.
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    if config.redis.url.is_empty() {
        // Buffered receipts must survive a killed process: journal them in the data folder.
        let dir = config.server.data_dir.join("journal");
        let bus = memory::MemoryBus::with_journal(&dir)
            .map_err(|e| anyhow::anyhow!("cannot open the buffer journal in {}: {e}", dir.display()))?;
        Ok(Arc::new(bus))
    } else {
        use anyhow::Context;
        let ca = (!config.redis.ca_file.is_empty()).then(|| std::path::Path::new(&config.redis.ca_file));
        let bus = redis::RedisBus::connect_with(&config.redis.url, &config.redis.prefix, ca)
            .await
            .context("cannot connect to Redis")?;
        Ok(Arc::new(bus))
    }
}

/// A random token for locks.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

//! The Redis bus of a cluster.
//!
//! Design, key by key (every name below is prefixed with `redis.prefix`):
//! - `<topic>` — a Pub/Sub channel. Each node keeps ONE subscriber connection (`Hub`);
//!   local subscriptions are multiplexed onto it, and it re-subscribes after a reconnect.
//! - `<stream>` — a Stream with one consumer group. `XADD` returns only once Redis has
//!   the entry (with `appendonly yes` it is on disk). Consumers `XREADGROUP … BLOCK` on
//!   dedicated connections (a blocking read would stall the shared multiplexed one).
//!   `ack` is `XACK` + `XDEL`, so the stream holds only unfinished work. `reclaim` is
//!   `XPENDING IDLE` + `XCLAIM`, which counts deliveries.
//! - `<stream>:dead` — dead letters: the payload and the reason.
//! - `<key>` — dedupe and other expiring keys (`SET NX PX` via a script that also returns
//!   the existing value, which works on Redis 6.2).
//! - `<set>` — a live set: a sorted set scored by each member's expiry, in ms of Redis' own
//!   clock (`TIME`); expired members are trimmed on every write.
//! - `<buffer>` / `<buffer>:flushing` — the max-wins buffer and the batch being flushed.
//! - `<lock>` — `SET NX PX` with a random token; released by compare-and-delete.
//! - `<rate key>` — the GCRA theoretical arrival time, in µs of Redis' own clock (`TIME`),
//!   so every node agrees on "now".
//!
//! Where each job lives: `scripts` (the Lua scripts), `queue` (streams, consumer groups,
//! dead letters), `pubsub` (publish and the `Hub`), `expiring` (keys with expiry, locks,
//! rate limits), `live` (live sets) and `buffer` (the max-wins buffer). The [`Bus`] impl
//! below only hands each call to its job, in the trait's order.

mod buffer;
mod expiring;
mod live;
mod pubsub;
mod queue;
mod scripts;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use redis::{Client, aio::ConnectionManager, aio::MultiplexedConnection};

use super::{Bus, BusError, BusResult, QueueEntry, Quota, RateDecision, Subscription};
use pubsub::Hub;
use scripts::Scripts;

const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RedisBus {
    client: Client,
    conn: ConnectionManager,
    prefix: String,
    scripts: Scripts,
    /// Connections for blocking reads, reused between calls.
    blocking: Mutex<Vec<MultiplexedConnection>>,
    hub: Arc<Hub>,
}

impl RedisBus {
    pub async fn connect(url: &str, prefix: &str) -> BusResult<Self> {
        Self::connect_with(url, prefix, None).await
    }

    /// [`RedisBus::connect`]; a `rediss://` URL verifies the server against the authority
    /// in `ca_file` (PEM) when given, else against the system's roots.
    pub async fn connect_with(url: &str, prefix: &str, ca_file: Option<&std::path::Path>) -> BusResult<Self> {
        crate::tls::install_provider();
        let client = match ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| BusError::Other(format!("{}: {e}", path.display())))?;
                Client::build_with_tls(url, redis::TlsCertificates { client_tls: None, root_cert: Some(pem) })?
            }
            None => Client::open(url)?,
        };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_number_of_retries(2);
        let conn = client.get_connection_manager_with_config(config).await?;
        let hub = Hub::start(client.clone(), prefix.to_string()).await?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_string(),
            scripts: Scripts::new(),
            blocking: Mutex::new(Vec::new()),
            hub,
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

#[async_trait]
impl Bus for RedisBus {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn queue_durable(&self) -> bool {
        true
    }

    async fn ping(&self) -> BusResult<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn publish(&self, topic: &str, payload: Bytes) -> BusResult<()> {
        pubsub::publish(self, topic, payload).await
    }

    async fn publish_many(&self, messages: &[(String, Bytes)]) -> BusResult<()> {
        pubsub::publish_many(self, messages).await
    }

    async fn subscribe_all(&self, topics: &[String]) -> BusResult<Subscription> {
        self.hub.subscribe(topics).await
    }

    async fn queue_ensure_group(&self, stream: &str, group: &str) -> BusResult<()> {
        queue::ensure_group(self, stream, group).await
    }

    async fn enqueue(&self, stream: &str, payload: Bytes) -> BusResult<String> {
        queue::enqueue(self, stream, payload).await
    }

    async fn enqueue_once(
        &self,
        stream: &str,
        payload: Bytes,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> BusResult<Option<String>> {
        queue::enqueue_once(self, stream, payload, key, value, ttl).await
    }

    async fn dequeue(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> BusResult<Vec<QueueEntry>> {
        queue::dequeue(self, stream, group, consumer, count, block).await
    }

    async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> BusResult<()> {
        queue::ack(self, stream, group, ids).await
    }

    async fn reclaim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> BusResult<Vec<QueueEntry>> {
        queue::reclaim(self, stream, group, consumer, min_idle, count).await
    }

    async fn dead_letter(&self, stream: &str, group: &str, entry: &QueueEntry, reason: &str) -> BusResult<()> {
        queue::dead_letter(self, stream, group, entry, reason).await
    }

    async fn dead_letters(&self, stream: &str, count: usize) -> BusResult<Vec<(Bytes, String)>> {
        queue::dead_letters(self, stream, count).await
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> BusResult<Option<String>> {
        expiring::put_if_absent(self, key, value, ttl).await
    }

    async fn get(&self, key: &str) -> BusResult<Option<String>> {
        expiring::get(self, key).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> BusResult<()> {
        expiring::set(self, key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> BusResult<()> {
        expiring::delete(self, key).await
    }

    async fn delete_if_eq(&self, key: &str, value: &str) -> BusResult<bool> {
        expiring::delete_if_eq(self, key, value).await
    }

    async fn live_add(&self, set: &str, member: &str, ttl: Duration) -> BusResult<u64> {
        live::add(self, set, member, ttl).await
    }

    async fn live_remove(&self, set: &str, member: &str) -> BusResult<u64> {
        live::remove(self, set, member).await
    }

    async fn live_counts(&self, sets: &[String]) -> BusResult<Vec<u64>> {
        live::counts(self, sets).await
    }

    async fn live_members(&self, sets: &[String]) -> BusResult<Vec<Vec<String>>> {
        live::members(self, sets).await
    }

    async fn live_add_many(&self, entries: &[(String, String)], ttl: Duration) -> BusResult<()> {
        live::add_many(self, entries, ttl).await
    }

    async fn live_take_expired(&self, set: &str) -> BusResult<Vec<String>> {
        live::take_expired(self, set).await
    }

    async fn buffer_max(&self, buffer: &str, field: &str, value: i64) -> BusResult<i64> {
        buffer::max(self, buffer, field, value).await
    }

    async fn buffer_max_many(&self, buffer: &str, entries: &[(String, i64)]) -> BusResult<()> {
        buffer::max_many(self, buffer, entries).await
    }

    async fn buffer_get(&self, buffer: &str, fields: &[String]) -> BusResult<Vec<Option<i64>>> {
        buffer::get(self, buffer, fields).await
    }

    async fn buffer_take(&self, buffer: &str) -> BusResult<Vec<(String, i64)>> {
        buffer::take(self, buffer).await
    }

    async fn buffer_done(&self, buffer: &str) -> BusResult<()> {
        buffer::done(self, buffer).await
    }

    async fn try_lock(&self, name: &str, ttl: Duration) -> BusResult<Option<String>> {
        expiring::try_lock(self, name, ttl).await
    }

    async fn unlock(&self, name: &str, token: &str) -> BusResult<bool> {
        expiring::unlock(self, name, token).await
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> BusResult<RateDecision> {
        expiring::rate_limit(self, key, quota).await
    }
}

/// The driver's error stays here; the rest of Nexus sees a [`BusError::Backend`].
impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        BusError::Backend { backend: "redis", source: Box::new(e) }
    }
}

//! The Redis bus of a cluster.
//!
//! Design, key by key (every name below is prefixed with `redis.prefix`):
//! - `<topic>` — a Pub/Sub channel. Each node keeps ONE subscriber connection ([`Hub`]);
//!   local subscriptions are multiplexed onto it, and it re-subscribes after a reconnect.
//! - `<stream>` — a Stream with one consumer group. `XADD` returns only once Redis has
//!   the entry (with `appendonly yes` it is on disk). Consumers `XREADGROUP … BLOCK` on
//!   dedicated connections (a blocking read would stall the shared multiplexed one).
//!   `ack` is `XACK` + `XDEL`, so the stream holds only unfinished work. `reclaim` is
//!   `XPENDING IDLE` + `XCLAIM`, which counts deliveries.
//! - `<stream>:dead` — dead letters: the payload and the reason.
//! - `<key>` — dedupe and other expiring keys (`SET NX PX` via a script that also returns
//!   the existing value, which works on Redis 6.2).
//! - `<buffer>` / `<buffer>:flushing` — the max-wins buffer and the batch being flushed.
//! - `<lock>` — `SET NX PX` with a random token; released by compare-and-delete.
//! - `<rate key>` — the GCRA theoretical arrival time, in µs of Redis' own clock (`TIME`),
//!   so every node agrees on "now".

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use redis::{AsyncCommands, Client, Script, Value, aio::ConnectionManager, aio::MultiplexedConnection};
use tokio::sync::mpsc;

use super::{Bus, BusError, BusResult, QueueEntry, Quota, RateDecision, Subscription, new_token};

const SUBSCRIPTION_CAPACITY: usize = 8192;
/// Dead letters kept per stream (the oldest are trimmed).
const DEAD_LETTERS_KEPT: usize = 10_000;
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

const MAX_SCRIPT: &str = r"
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local v = tonumber(ARGV[2])
if cur == nil or v > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return v
end
return cur";

const MAX_MANY_SCRIPT: &str = r"
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if cur == nil or tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 0";

const TAKE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('RENAME', KEYS[1], KEYS[2])
  else
    local d = redis.call('HGETALL', KEYS[1])
    for i = 1, #d, 2 do
      local cur = tonumber(redis.call('HGET', KEYS[2], d[i]))
      if cur == nil or tonumber(d[i + 1]) > cur then
        redis.call('HSET', KEYS[2], d[i], d[i + 1])
      end
    end
    redis.call('DEL', KEYS[1])
  end
end
return redis.call('HGETALL', KEYS[2])";

const PUT_IF_ABSENT_SCRIPT: &str = r"
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false";

const UNLOCK_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// GCRA. ARGV: emission interval µs, tolerance µs. Returns 0 (allowed) or µs to wait.
const GCRA_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then return allow_at - now end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0";

/// Live set add. ARGV: member, ttl ms. Score = expiry in ms of Redis' clock.
const LIVE_ADD_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])";

const LIVE_REMOVE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])";

const LIVE_COUNT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', k, '(' .. now, '+inf') end
return out";

struct Scripts {
    max_many: Script,
    live_add: Script,
    live_remove: Script,
    live_count: Script,
    max: Script,
    take: Script,
    put_if_absent: Script,
    unlock: Script,
    gcra: Script,
}

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
        let client = Client::open(url)?;
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
            scripts: Scripts {
                max_many: Script::new(MAX_MANY_SCRIPT),
                live_add: Script::new(LIVE_ADD_SCRIPT),
                live_remove: Script::new(LIVE_REMOVE_SCRIPT),
                live_count: Script::new(LIVE_COUNT_SCRIPT),
                max: Script::new(MAX_SCRIPT),
                take: Script::new(TAKE_SCRIPT),
                put_if_absent: Script::new(PUT_IF_ABSENT_SCRIPT),
                unlock: Script::new(UNLOCK_SCRIPT),
                gcra: Script::new(GCRA_SCRIPT),
            },
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

    async fn blocking_conn(&self, block: Duration) -> BusResult<MultiplexedConnection> {
        if let Some(c) = self.blocking.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let config = redis::AsyncConnectionConfig::new().set_response_timeout(Some(block + RESPONSE_TIMEOUT));
        Ok(self.client.get_multiplexed_async_connection_with_config(&config).await?)
    }

    fn return_blocking_conn(&self, conn: MultiplexedConnection) {
        let mut pool = self.blocking.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
    }
}

/// Parse `[[id, [field, value, …]], …]` stream entries; the payload is field `p`.
fn parse_entries(value: Value, deliveries: &HashMap<String, u64>) -> Vec<QueueEntry> {
    let mut out = Vec::new();
    let Value::Array(items) = value else {
        return out;
    };
    for item in items {
        let Value::Array(mut parts) = item else {
            continue;
        };
        if parts.len() != 2 {
            continue;
        }
        let fields = parts.pop();
        let id = parts.pop();
        let (Some(Value::BulkString(id)), Some(Value::Array(fields))) = (id, fields) else {
            continue;
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        let mut payload = None;
        let mut it = fields.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            if let (Value::BulkString(k), Value::BulkString(v)) = (k, v) {
                if k == b"p" {
                    payload = Some(Bytes::from(v));
                }
            }
        }
        if let Some(payload) = payload {
            let deliveries = deliveries.get(&id).copied().unwrap_or(1);
            out.push(QueueEntry { id, payload, deliveries });
        }
    }
    out
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
        let _: i64 = self.conn().publish(self.key(topic), payload.as_ref()).await?;
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> BusResult<Subscription> {
        self.hub.subscribe(topic).await
    }

    async fn queue_ensure_group(&self, stream: &str, group: &str) -> BusResult<()> {
        let r: redis::RedisResult<String> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key(stream))
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn())
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn enqueue(&self, stream: &str, payload: Bytes) -> BusResult<String> {
        let id: String = redis::cmd("XADD")
            .arg(self.key(stream))
            .arg("*")
            .arg("p")
            .arg(payload.as_ref())
            .query_async(&mut self.conn())
            .await?;
        Ok(id)
    }

    async fn dequeue(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> BusResult<Vec<QueueEntry>> {
        let mut conn = self.blocking_conn(block).await?;
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(count.max(1));
        if !block.is_zero() {
            cmd.arg("BLOCK").arg(block.as_millis().max(1) as u64);
        }
        cmd.arg("STREAMS").arg(self.key(stream)).arg(">");
        let reply: Value = cmd.query_async(&mut conn).await?;
        self.return_blocking_conn(conn);
        // Reply: nil, or [[stream, [[id, fields], …]]] (RESP2) / a map (RESP3).
        let entries = match reply {
            Value::Array(streams) => streams
                .into_iter()
                .filter_map(|s| match s {
                    Value::Array(mut kv) if kv.len() == 2 => kv.pop(),
                    _ => None,
                })
                .next(),
            Value::Map(pairs) => pairs.into_iter().map(|(_, v)| v).next(),
            _ => None,
        };
        Ok(entries.map(|e| parse_entries(e, &HashMap::new())).unwrap_or_default())
    }

    async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> BusResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let key = self.key(stream);
        let _: () = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&key)
            .arg(group)
            .arg(ids)
            .ignore()
            .cmd("XDEL")
            .arg(&key)
            .arg(ids)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn reclaim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> BusResult<Vec<QueueEntry>> {
        let key = self.key(stream);
        let idle_ms = min_idle.as_millis() as u64;
        // [[id, consumer, idle_ms, deliveries], …]
        let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(&key)
            .arg(group)
            .arg("IDLE")
            .arg(idle_ms)
            .arg("-")
            .arg("+")
            .arg(count.max(1))
            .query_async(&mut self.conn())
            .await?;
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries: HashMap<String, u64> = pending.iter().map(|(id, _, _, n)| (id.clone(), n + 1)).collect();
        let ids: Vec<&String> = pending.iter().map(|(id, ..)| id).collect();
        let claimed: Value = redis::cmd("XCLAIM")
            .arg(&key)
            .arg(group)
            .arg(consumer)
            .arg(idle_ms)
            .arg(&ids)
            .query_async(&mut self.conn())
            .await?;
        Ok(parse_entries(claimed, &deliveries))
    }

    async fn dead_letter(&self, stream: &str, group: &str, entry: &QueueEntry, reason: &str) -> BusResult<()> {
        let _: String = redis::cmd("XADD")
            .arg(self.key(&format!("{stream}:dead")))
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_LETTERS_KEPT)
            .arg("*")
            .arg("p")
            .arg(entry.payload.as_ref())
            .arg("reason")
            .arg(reason)
            .query_async(&mut self.conn())
            .await?;
        self.ack(stream, group, std::slice::from_ref(&entry.id)).await
    }

    async fn dead_letters(&self, stream: &str, count: usize) -> BusResult<Vec<(Bytes, String)>> {
        let rows: Vec<(String, HashMap<String, Vec<u8>>)> = redis::cmd("XRANGE")
            .arg(self.key(&format!("{stream}:dead")))
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count.max(1))
            .query_async(&mut self.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(_, mut f)| {
                let payload = Bytes::from(f.remove("p").unwrap_or_default());
                let reason = String::from_utf8_lossy(&f.remove("reason").unwrap_or_default()).into_owned();
                (payload, reason)
            })
            .collect())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> BusResult<Option<String>> {
        Ok(self
            .scripts
            .put_if_absent
            .key(self.key(key))
            .arg(value)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut self.conn())
            .await?)
    }

    async fn get(&self, key: &str) -> BusResult<Option<String>> {
        Ok(self.conn().get(self.key(key)).await?)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> BusResult<()> {
        let _: () = self.conn().pset_ex(self.key(key), value, ttl.as_millis().max(1) as u64).await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> BusResult<()> {
        let _: i64 = self.conn().del(self.key(key)).await?;
        Ok(())
    }

    async fn delete_if_eq(&self, key: &str, value: &str) -> BusResult<bool> {
        // The lock release script is exactly "compare, then delete".
        let n: i64 = self.scripts.unlock.key(self.key(key)).arg(value).invoke_async(&mut self.conn()).await?;
        Ok(n == 1)
    }

    async fn live_add(&self, set: &str, member: &str, ttl: Duration) -> BusResult<u64> {
        Ok(self
            .scripts
            .live_add
            .key(self.key(set))
            .arg(member)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut self.conn())
            .await?)
    }

    async fn live_remove(&self, set: &str, member: &str) -> BusResult<u64> {
        Ok(self.scripts.live_remove.key(self.key(set)).arg(member).invoke_async(&mut self.conn()).await?)
    }

    async fn live_counts(&self, sets: &[String]) -> BusResult<Vec<u64>> {
        if sets.is_empty() {
            return Ok(Vec::new());
        }
        let mut inv = self.scripts.live_count.prepare_invoke();
        for s in sets {
            inv.key(self.key(s));
        }
        Ok(inv.invoke_async(&mut self.conn()).await?)
    }

    async fn buffer_max(&self, buffer: &str, field: &str, value: i64) -> BusResult<i64> {
        Ok(self.scripts.max.key(self.key(buffer)).arg(field).arg(value).invoke_async(&mut self.conn()).await?)
    }

    async fn buffer_max_many(&self, buffer: &str, entries: &[(String, i64)]) -> BusResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut inv = self.scripts.max_many.prepare_invoke();
        inv.key(self.key(buffer));
        for (field, value) in entries {
            inv.arg(field).arg(*value);
        }
        let _: i64 = inv.invoke_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn buffer_get(&self, buffer: &str, fields: &[String]) -> BusResult<Vec<Option<i64>>> {
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let (dirty, flushing): (Vec<Option<i64>>, Vec<Option<i64>>) = redis::pipe()
            .cmd("HMGET")
            .arg(self.key(buffer))
            .arg(fields)
            .cmd("HMGET")
            .arg(self.key(&format!("{buffer}:flushing")))
            .arg(fields)
            .query_async(&mut self.conn())
            .await?;
        Ok(dirty.into_iter().zip(flushing).map(|(a, b)| a.max(b)).collect())
    }

    async fn buffer_take(&self, buffer: &str) -> BusResult<Vec<(String, i64)>> {
        let map: HashMap<String, i64> = self
            .scripts
            .take
            .key(self.key(buffer))
            .key(self.key(&format!("{buffer}:flushing")))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(map.into_iter().collect())
    }

    async fn buffer_done(&self, buffer: &str) -> BusResult<()> {
        let _: i64 = self.conn().del(self.key(&format!("{buffer}:flushing"))).await?;
        Ok(())
    }

    async fn try_lock(&self, name: &str, ttl: Duration) -> BusResult<Option<String>> {
        let token = new_token();
        let ok: Option<String> = redis::cmd("SET")
            .arg(self.key(name))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async(&mut self.conn())
            .await?;
        Ok(ok.map(|_| token))
    }

    async fn unlock(&self, name: &str, token: &str) -> BusResult<bool> {
        let n: i64 = self.scripts.unlock.key(self.key(name)).arg(token).invoke_async(&mut self.conn()).await?;
        Ok(n == 1)
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> BusResult<RateDecision> {
        let wait_us: u64 = self
            .scripts
            .gcra
            .key(self.key(key))
            .arg(quota.emission_us())
            .arg(quota.tolerance_us())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(if wait_us == 0 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited { retry_after: Duration::from_micros(wait_us) }
        })
    }
}

/// One Pub/Sub connection per node, shared by every local subscription. SUBSCRIBE and
/// UNSUBSCRIBE are issued under `sink`'s lock so they reach Redis in the order the local
/// subscriber set changed.
struct Hub {
    prefix: String,
    next_id: AtomicU64,
    topics: Mutex<HashMap<String, Vec<(u64, mpsc::Sender<Bytes>)>>>,
    sink: tokio::sync::Mutex<Option<redis::aio::PubSubSink>>,
}

impl Hub {
    async fn start(client: Client, prefix: String) -> BusResult<Arc<Hub>> {
        // The first connection is made here, so a bad URL fails start-up and the first
        // `subscribe` already has a live sink.
        let (sink, stream) = client.get_async_pubsub().await?.split();
        let hub = Arc::new(Hub {
            prefix,
            next_id: AtomicU64::new(0),
            topics: Mutex::new(HashMap::new()),
            sink: tokio::sync::Mutex::new(Some(sink)),
        });
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            let mut stream = stream;
            let mut backoff = Duration::from_millis(100);
            loop {
                while let Some(msg) = stream.next().await {
                    let Some(hub) = weak.upgrade() else { return };
                    hub.dispatch(msg.get_channel_name(), msg.get_payload_bytes());
                }
                match weak.upgrade() {
                    Some(hub) => *hub.sink.lock().await = None,
                    None => return,
                }
                tracing::warn!("redis pub/sub connection lost; reconnecting");
                // Reconnect, then re-subscribe every topic with local subscribers.
                stream = loop {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    let Some(hub) = weak.upgrade() else { return };
                    match client.get_async_pubsub().await {
                        Ok(p) => {
                            let (mut sink, stream) = p.split();
                            let mut guard = hub.sink.lock().await;
                            let topics: Vec<String> =
                                hub.topics.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
                            for t in topics {
                                if let Err(e) = sink.subscribe(format!("{}{}", hub.prefix, t)).await {
                                    tracing::warn!(error = %e, "redis re-subscribe failed");
                                }
                            }
                            *guard = Some(sink);
                            backoff = Duration::from_millis(100);
                            tracing::info!("redis pub/sub reconnected");
                            break stream;
                        }
                        Err(e) => tracing::warn!(error = %e, "redis pub/sub reconnect failed"),
                    }
                };
            }
        });
        Ok(hub)
    }

    /// Hand a message to every local subscriber of its topic.
    fn dispatch(&self, channel: &str, payload: &[u8]) {
        let topic = channel.strip_prefix(self.prefix.as_str()).unwrap_or(channel);
        let payload = Bytes::copy_from_slice(payload);
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(subs) = topics.get_mut(topic) {
            subs.retain(|(_, tx)| match tx.try_send(payload.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(topic, "subscriber lagging; message dropped");
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        }
    }

    async fn subscribe(self: &Arc<Self>, topic: &str) -> BusResult<Subscription> {
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut sink = self.sink.lock().await;
        let first = {
            let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
            let subs = topics.entry(topic.to_string()).or_default();
            subs.push((id, tx));
            subs.len() == 1
        };
        if first {
            if let Some(sink) = sink.as_mut() {
                sink.subscribe(format!("{}{}", self.prefix, topic)).await.map_err(BusError::from)?;
            }
        }
        drop(sink);
        let guard = HubUnsubscribe { hub: Arc::downgrade(self), topic: topic.to_string(), id };
        Ok(Subscription { rx, _guard: Box::new(guard) })
    }
}

struct HubUnsubscribe {
    hub: std::sync::Weak<Hub>,
    topic: String,
    id: u64,
}

impl Drop for HubUnsubscribe {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let topic = std::mem::take(&mut self.topic);
        let id = self.id;
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            let mut sink = hub.sink.lock().await;
            let last = {
                let mut topics = hub.topics.lock().unwrap_or_else(|p| p.into_inner());
                match topics.get_mut(&topic) {
                    Some(subs) => {
                        subs.retain(|(i, _)| *i != id);
                        if subs.is_empty() {
                            topics.remove(&topic);
                            true
                        } else {
                            false
                        }
                    }
                    None => false,
                }
            };
            if last {
                if let Some(sink) = sink.as_mut() {
                    let _ = sink.unsubscribe(format!("{}{}", hub.prefix, topic)).await;
                }
            }
        });
    }
}

impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        BusError::Backend { backend: "redis", source: Box::new(e) }
    }
}

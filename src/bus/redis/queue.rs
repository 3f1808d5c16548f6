//! The queue of the Redis bus: one Stream per queue with a consumer group. Enqueue, the
//! blocking reads (on pooled dedicated connections), ack, reclaim, and dead letters.

use std::{collections::HashMap, time::Duration};

use bytes::Bytes;
use redis::{Value, aio::MultiplexedConnection};

use super::{RESPONSE_TIMEOUT, RedisBus};
use crate::bus::{BusResult, QueueEntry};

/// Dead letters kept per stream (the oldest are trimmed).
const DEAD_LETTERS_KEPT: usize = 10_000;

impl RedisBus {
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

pub(super) async fn ensure_group(bus: &RedisBus, stream: &str, group: &str) -> BusResult<()> {
    let r: redis::RedisResult<String> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(bus.key(stream))
        .arg(group)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(&mut bus.conn())
        .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn enqueue(bus: &RedisBus, stream: &str, payload: Bytes) -> BusResult<String> {
    let id: String = redis::cmd("XADD")
        .arg(bus.key(stream))
        .arg("*")
        .arg("p")
        .arg(payload.as_ref())
        .query_async(&mut bus.conn())
        .await?;
    Ok(id)
}

pub(super) async fn enqueue_once(
    bus: &RedisBus,
    stream: &str,
    payload: Bytes,
    key: &str,
    value: &str,
    ttl: Duration,
) -> BusResult<Option<String>> {
    Ok(bus
        .scripts
        .enqueue_once
        .key(bus.key(stream))
        .key(bus.key(key))
        .arg(payload.as_ref())
        .arg(value)
        .arg(ttl.as_millis().max(1) as u64)
        .invoke_async(&mut bus.conn())
        .await?)
}

pub(super) async fn dequeue(
    bus: &RedisBus,
    stream: &str,
    group: &str,
    consumer: &str,
    count: usize,
    block: Duration,
) -> BusResult<Vec<QueueEntry>> {
    let mut conn = bus.blocking_conn(block).await?;
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP").arg(group).arg(consumer).arg("COUNT").arg(count.max(1));
    if !block.is_zero() {
        cmd.arg("BLOCK").arg(block.as_millis().max(1) as u64);
    }
    cmd.arg("STREAMS").arg(bus.key(stream)).arg(">");
    let reply: Value = cmd.query_async(&mut conn).await?;
    bus.return_blocking_conn(conn);
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

pub(super) async fn ack(bus: &RedisBus, stream: &str, group: &str, ids: &[String]) -> BusResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let key = bus.key(stream);
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
        .query_async(&mut bus.conn())
        .await?;
    Ok(())
}

pub(super) async fn reclaim(
    bus: &RedisBus,
    stream: &str,
    group: &str,
    consumer: &str,
    min_idle: Duration,
    count: usize,
) -> BusResult<Vec<QueueEntry>> {
    let key = bus.key(stream);
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
        .query_async(&mut bus.conn())
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
        .query_async(&mut bus.conn())
        .await?;
    Ok(parse_entries(claimed, &deliveries))
}

pub(super) async fn dead_letter(
    bus: &RedisBus,
    stream: &str,
    group: &str,
    entry: &QueueEntry,
    reason: &str,
) -> BusResult<()> {
    let _: String = redis::cmd("XADD")
        .arg(bus.key(&format!("{stream}:dead")))
        .arg("MAXLEN")
        .arg("~")
        .arg(DEAD_LETTERS_KEPT)
        .arg("*")
        .arg("p")
        .arg(entry.payload.as_ref())
        .arg("reason")
        .arg(reason)
        .query_async(&mut bus.conn())
        .await?;
    ack(bus, stream, group, std::slice::from_ref(&entry.id)).await
}

pub(super) async fn dead_letters(bus: &RedisBus, stream: &str, count: usize) -> BusResult<Vec<(Bytes, String)>> {
    let rows: Vec<(String, HashMap<String, Vec<u8>>)> = redis::cmd("XRANGE")
        .arg(bus.key(&format!("{stream}:dead")))
        .arg("-")
        .arg("+")
        .arg("COUNT")
        .arg(count.max(1))
        .query_async(&mut bus.conn())
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
            if let (Value::BulkString(k), Value::BulkString(v)) = (k, v)
                && k == b"p"
            {
                payload = Some(Bytes::from(v));
            }
        }
        if let Some(payload) = payload {
            let deliveries = deliveries.get(&id).copied().unwrap_or(1);
            out.push(QueueEntry { id, payload, deliveries });
        }
    }
    out
}

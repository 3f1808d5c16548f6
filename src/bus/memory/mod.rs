//! The in-process bus of the embedded mode: the same promises as Redis within one process.
//! State sits behind one `std::sync::Mutex` (held only for map operations, never across
//! an `.await`), and queue readers wait on a per-stream `Notify`.
//!
//! Max-wins buffers can be journaled ([`MemoryBus::with_journal`]): every write is
//! appended to `<dir>/<buffer>.journal` (one `write` call, so it survives the process being
//! killed), `buffer_take` renames it to `<buffer>.flushing.journal` (merging into one left
//! by an interrupted flush), `buffer_done` deletes that, and start-up replays both — the
//! same life cycle as the Redis hash and its `:flushing` twin.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::{
    sync::{Notify, mpsc},
    time::Instant,
};

mod live;

use super::{Bus, BusResult, QueueEntry, Quota, RateDecision, Subscription, new_token};

/// Capacity of one subscription's channel; a subscriber this far behind loses messages
/// (pub/sub is at-most-once; the gateway catches up from the store).
const SUBSCRIPTION_CAPACITY: usize = 8192;
/// Sweep expired keys and rate-limit states every this many writes.
const SWEEP_EVERY: u64 = 4096;

#[derive(Default)]
pub struct MemoryBus {
    state: Arc<Mutex<State>>,
    epoch: EpochClock,
    /// Folder of the buffer journals, if buffers are journaled.
    journal: Option<std::path::PathBuf>,
}

struct EpochClock(Instant);

impl Default for EpochClock {
    fn default() -> Self {
        Self(Instant::now())
    }
}

impl EpochClock {
    fn now_us(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

#[derive(Default)]
struct State {
    next_subscriber: u64,
    topics: HashMap<String, Vec<(u64, mpsc::Sender<Bytes>)>>,
    streams: HashMap<String, Stream>,
    dead: HashMap<String, Vec<(Bytes, String)>>,
    kv: HashMap<String, (String, Instant)>,
    buffers: HashMap<String, Buffer>,
    locks: HashMap<String, (String, Instant)>,
    rates: HashMap<String, u64>,
    live: HashMap<String, live::LiveSet>,
    writes: u64,
}

#[derive(Default)]
struct Stream {
    next_id: u64,
    entries: BTreeMap<u64, Bytes>,
    groups: HashMap<String, Group>,
    notify: Arc<Notify>,
}

#[derive(Default)]
struct Group {
    /// Highest id handed out to this group.
    last_delivered: u64,
    pending: BTreeMap<u64, Pending>,
}

struct Pending {
    consumer: String,
    since: Instant,
    deliveries: u64,
}

#[derive(Default)]
struct Buffer {
    dirty: HashMap<String, i64>,
    flushing: HashMap<String, i64>,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// A bus whose max-wins buffers survive the process being killed: journaled in `dir`,
    /// replayed now.
    pub fn with_journal(dir: &std::path::Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let bus = Self { journal: Some(dir.to_path_buf()), ..Self::default() };
        {
            let mut state = bus.lock();
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
                let (buffer, flushing) = match name.strip_suffix(".flushing.journal") {
                    Some(b) => (b.to_string(), true),
                    None => match name.strip_suffix(".journal") {
                        Some(b) => (b.to_string(), false),
                        None => continue,
                    },
                };
                let b = state.buffers.entry(buffer).or_default();
                let target = if flushing { &mut b.flushing } else { &mut b.dirty };
                for line in std::fs::read_to_string(&path)?.lines() {
                    // A torn last line (killed mid-write) is skipped.
                    let Some((field, value)) = line.rsplit_once(' ') else { continue };
                    let Ok(value) = value.parse::<i64>() else { continue };
                    let slot = target.entry(field.to_string()).or_insert(value);
                    *slot = (*slot).max(value);
                }
            }
        }
        Ok(bus)
    }

    fn journal_path(&self, buffer: &str, flushing: bool) -> Option<std::path::PathBuf> {
        let safe: String = buffer.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let suffix = if flushing { ".flushing.journal" } else { ".journal" };
        self.journal.as_ref().map(|d| d.join(format!("{safe}{suffix}")))
    }

    /// Append entries to the buffer's journal in one write.
    fn journal_append(&self, buffer: &str, entries: &[(&str, i64)]) -> BusResult<()> {
        let Some(path) = self.journal_path(buffer, false) else { return Ok(()) };
        use std::io::Write;
        let mut text = String::new();
        for (field, value) in entries {
            text.push_str(field);
            text.push(' ');
            text.push_str(&value.to_string());
            text.push('\n');
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn io(e: std::io::Error) -> super::BusError {
    super::BusError::Other(format!("buffer journal: {e}"))
}

impl State {
    /// Append `payload` to `stream`, waking its readers; the entry's id.
    fn append(&mut self, stream: &str, payload: Bytes) -> u64 {
        let s = self.stream(stream);
        s.next_id += 1;
        s.entries.insert(s.next_id, payload);
        s.notify.notify_waiters();
        s.next_id
    }

    /// The value of `key` unless it has expired.
    fn live_value(&self, key: &str, now: Instant) -> Option<&String> {
        self.kv.get(key).filter(|(_, exp)| *exp > now).map(|(v, _)| v)
    }

    fn stream(&mut self, name: &str) -> &mut Stream {
        self.streams.entry(name.to_string()).or_default()
    }

    fn maybe_sweep(&mut self, now: Instant, now_us: u64) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY) {
            self.kv.retain(|_, (_, exp)| *exp > now);
            self.locks.retain(|_, (_, exp)| *exp > now);
            self.rates.retain(|_, tat| *tat > now_us);
            self.live.retain(|_, set| set.until.is_some_and(|u| u > now));
        }
    }
}

impl Stream {
    /// Drop entries no group still needs.
    fn collect(&mut self, id: u64) {
        let needed = self.groups.values().any(|g| g.pending.contains_key(&id) || g.last_delivered < id);
        if !needed {
            self.entries.remove(&id);
        }
    }
}

#[async_trait]
impl Bus for MemoryBus {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn queue_durable(&self) -> bool {
        false
    }

    async fn ping(&self) -> BusResult<()> {
        Ok(())
    }

    async fn publish(&self, topic: &str, payload: Bytes) -> BusResult<()> {
        let mut state = self.lock();
        if let Some(subs) = state.topics.get_mut(topic) {
            subs.retain(|(_, tx)| match tx.try_send(payload.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(topic, "subscriber lagging; message dropped");
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
        }
        Ok(())
    }

    async fn publish_many(&self, messages: &[(String, Bytes)]) -> BusResult<()> {
        for (topic, payload) in messages {
            self.publish(topic, payload.clone()).await?;
        }
        Ok(())
    }

    async fn subscribe_all(&self, topics: &[String]) -> BusResult<Subscription> {
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let mut state = self.lock();
        state.next_subscriber += 1;
        let id = state.next_subscriber;
        for topic in topics {
            state.topics.entry(topic.clone()).or_default().push((id, tx.clone()));
        }
        drop(state);
        let guard = Unsubscribe { state: Arc::downgrade(&self.state), topics: topics.to_vec(), id };
        Ok(Subscription { rx, _guard: Box::new(guard) })
    }

    async fn queue_ensure_group(&self, stream: &str, group: &str) -> BusResult<()> {
        self.lock().stream(stream).groups.entry(group.to_string()).or_default();
        Ok(())
    }

    async fn enqueue(&self, stream: &str, payload: Bytes) -> BusResult<String> {
        Ok(self.lock().append(stream, payload).to_string())
    }

    async fn enqueue_once(
        &self,
        stream: &str,
        payload: Bytes,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> BusResult<Option<String>> {
        let now = Instant::now();
        let now_us = self.epoch.now_us();
        let mut state = self.lock();
        state.maybe_sweep(now, now_us);
        if let Some(existing) = state.live_value(key, now) {
            return Ok(Some(existing.clone()));
        }
        state.kv.insert(key.to_string(), (value.to_string(), now + ttl));
        state.append(stream, payload);
        Ok(None)
    }

    async fn dequeue(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> BusResult<Vec<QueueEntry>> {
        let deadline = Instant::now() + block;
        loop {
            let notify = {
                let mut state = self.lock();
                let s = state.stream(stream);
                let notify = s.notify.clone();
                let Some(g) = s.groups.get_mut(group) else {
                    return Err(super::BusError::Other(format!("no group {group} on {stream}")));
                };
                let now = Instant::now();
                let mut out = Vec::new();
                for (&id, payload) in s.entries.range(g.last_delivered + 1..).take(count.max(1)) {
                    g.pending.insert(id, Pending { consumer: consumer.to_string(), since: now, deliveries: 1 });
                    out.push(QueueEntry { id: id.to_string(), payload: payload.clone(), deliveries: 1 });
                    g.last_delivered = id;
                }
                if !out.is_empty() {
                    return Ok(out);
                }
                notify
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-check after registering, so an enqueue in between is not missed.
            {
                let mut state = self.lock();
                let s = state.stream(stream);
                let last = s.groups.get(group).map(|g| g.last_delivered).unwrap_or(0);
                if s.entries.range(last + 1..).next().is_some() {
                    continue;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> BusResult<()> {
        let mut state = self.lock();
        let s = state.stream(stream);
        for id in ids.iter().filter_map(|id| id.parse::<u64>().ok()) {
            if let Some(g) = s.groups.get_mut(group) {
                g.pending.remove(&id);
            }
            s.collect(id);
        }
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
        let mut state = self.lock();
        let s = state.stream(stream);
        let now = Instant::now();
        let Some(g) = s.groups.get_mut(group) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (&id, p) in g.pending.iter_mut() {
            if out.len() >= count.max(1) {
                break;
            }
            if now.duration_since(p.since) >= min_idle {
                p.consumer = consumer.to_string();
                p.since = now;
                p.deliveries += 1;
                if let Some(payload) = s.entries.get(&id) {
                    out.push(QueueEntry { id: id.to_string(), payload: payload.clone(), deliveries: p.deliveries });
                }
            }
        }
        Ok(out)
    }

    async fn dead_letter(&self, stream: &str, group: &str, entry: &QueueEntry, reason: &str) -> BusResult<()> {
        self.lock().dead.entry(stream.to_string()).or_default().push((entry.payload.clone(), reason.to_string()));
        self.ack(stream, group, std::slice::from_ref(&entry.id)).await
    }

    async fn dead_letters(&self, stream: &str, count: usize) -> BusResult<Vec<(Bytes, String)>> {
        Ok(self.lock().dead.get(stream).map(|d| d.iter().take(count).cloned().collect()).unwrap_or_default())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> BusResult<Option<String>> {
        let now = Instant::now();
        let now_us = self.epoch.now_us();
        let mut state = self.lock();
        state.maybe_sweep(now, now_us);
        if let Some(existing) = state.live_value(key, now) {
            return Ok(Some(existing.clone()));
        }
        state.kv.insert(key.to_string(), (value.to_string(), now + ttl));
        Ok(None)
    }

    async fn get(&self, key: &str) -> BusResult<Option<String>> {
        let now = Instant::now();
        Ok(self.lock().live_value(key, now).cloned())
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> BusResult<()> {
        self.lock().kv.insert(key.to_string(), (value.to_string(), Instant::now() + ttl));
        Ok(())
    }

    async fn delete(&self, key: &str) -> BusResult<()> {
        self.lock().kv.remove(key);
        Ok(())
    }

    async fn delete_if_eq(&self, key: &str, value: &str) -> BusResult<bool> {
        let now = Instant::now();
        let mut state = self.lock();
        match state.kv.get(key) {
            Some((v, exp)) if v == value && *exp > now => {
                state.kv.remove(key);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn live_add(&self, set: &str, member: &str, ttl: Duration) -> BusResult<u64> {
        Ok(self.lock().live_add(set, member, ttl))
    }

    async fn live_remove(&self, set: &str, member: &str) -> BusResult<u64> {
        Ok(self.lock().live_remove(set, member))
    }

    async fn live_counts(&self, sets: &[String]) -> BusResult<Vec<u64>> {
        let state = self.lock();
        Ok(sets.iter().map(|s| state.live_count(s)).collect())
    }

    async fn live_members(&self, sets: &[String]) -> BusResult<Vec<Vec<String>>> {
        let state = self.lock();
        Ok(sets.iter().map(|s| state.live_members(s)).collect())
    }

    async fn live_add_many(&self, entries: &[(String, String)], ttl: Duration) -> BusResult<()> {
        let mut state = self.lock();
        for (set, member) in entries {
            state.live_add(set, member, ttl);
        }
        Ok(())
    }

    async fn live_take_expired(&self, set: &str) -> BusResult<Vec<String>> {
        Ok(self.lock().live_take_expired(set))
    }

    async fn buffer_max(&self, buffer: &str, field: &str, value: i64) -> BusResult<i64> {
        let mut state = self.lock();
        self.journal_append(buffer, &[(field, value)])?;
        let b = state.buffers.entry(buffer.to_string()).or_default();
        let slot = b.dirty.entry(field.to_string()).or_insert(value);
        *slot = (*slot).max(value);
        Ok(*slot)
    }

    async fn buffer_max_many(&self, buffer: &str, entries: &[(String, i64)]) -> BusResult<()> {
        let mut state = self.lock();
        let refs: Vec<(&str, i64)> = entries.iter().map(|(f, v)| (f.as_str(), *v)).collect();
        self.journal_append(buffer, &refs)?;
        let b = state.buffers.entry(buffer.to_string()).or_default();
        for (field, value) in entries {
            let slot = b.dirty.entry(field.clone()).or_insert(*value);
            *slot = (*slot).max(*value);
        }
        Ok(())
    }

    async fn buffer_get(&self, buffer: &str, fields: &[String]) -> BusResult<Vec<Option<i64>>> {
        let state = self.lock();
        let Some(b) = state.buffers.get(buffer) else {
            return Ok(vec![None; fields.len()]);
        };
        Ok(fields
            .iter()
            .map(|f| match (b.dirty.get(f), b.flushing.get(f)) {
                (Some(a), Some(b)) => Some(*a.max(b)),
                (a, b) => a.or(b).copied(),
            })
            .collect())
    }

    async fn buffer_take(&self, buffer: &str) -> BusResult<Vec<(String, i64)>> {
        let mut state = self.lock();
        if let (Some(dirty), Some(flushing)) = (self.journal_path(buffer, false), self.journal_path(buffer, true)) {
            // Under the lock, so no write lands between reading and renaming.
            if dirty.exists() {
                if flushing.exists() {
                    let text = std::fs::read_to_string(&dirty).map_err(io)?;
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new().append(true).open(&flushing).map_err(io)?;
                    f.write_all(text.as_bytes()).map_err(io)?;
                    std::fs::remove_file(&dirty).map_err(io)?;
                } else {
                    std::fs::rename(&dirty, &flushing).map_err(io)?;
                }
            }
        }
        let b = state.buffers.entry(buffer.to_string()).or_default();
        for (field, value) in std::mem::take(&mut b.dirty) {
            let slot = b.flushing.entry(field).or_insert(value);
            *slot = (*slot).max(value);
        }
        Ok(b.flushing.iter().map(|(k, v)| (k.clone(), *v)).collect())
    }

    async fn buffer_done(&self, buffer: &str) -> BusResult<()> {
        let mut state = self.lock();
        if let Some(b) = state.buffers.get_mut(buffer) {
            b.flushing.clear();
        }
        if let Some(flushing) = self.journal_path(buffer, true) {
            match std::fs::remove_file(&flushing) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn try_lock(&self, name: &str, ttl: Duration) -> BusResult<Option<String>> {
        let now = Instant::now();
        let mut state = self.lock();
        if matches!(state.locks.get(name), Some((_, exp)) if *exp > now) {
            return Ok(None);
        }
        let token = new_token();
        state.locks.insert(name.to_string(), (token.clone(), now + ttl));
        Ok(Some(token))
    }

    async fn unlock(&self, name: &str, token: &str) -> BusResult<bool> {
        let now = Instant::now();
        let mut state = self.lock();
        match state.locks.get(name) {
            Some((t, exp)) if t == token && *exp > now => {
                state.locks.remove(name);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> BusResult<RateDecision> {
        let now_us = self.epoch.now_us();
        let mut state = self.lock();
        state.maybe_sweep(Instant::now(), now_us);
        let tat = state.rates.get(key).copied().unwrap_or(now_us).max(now_us);
        let new_tat = tat + quota.emission_us();
        let allow_at = new_tat.saturating_sub(quota.tolerance_us());
        if allow_at > now_us {
            return Ok(RateDecision::Limited { retry_after: Duration::from_micros(allow_at - now_us) });
        }
        state.rates.insert(key.to_string(), new_tat);
        Ok(RateDecision::Allowed)
    }
}

/// Removes one subscriber from its topics when the [`Subscription`] is dropped.
struct Unsubscribe {
    state: std::sync::Weak<Mutex<State>>,
    topics: Vec<String>,
    id: u64,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade() {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            for topic in &self.topics {
                if let Some(subs) = state.topics.get_mut(topic) {
                    subs.retain(|(id, _)| *id != self.id);
                    if subs.is_empty() {
                        state.topics.remove(topic);
                    }
                }
            }
        }
    }
}

//! Read and delivery receipts, write-behind.
//!
//! A receipt is a pointer per (conversation, user): the highest `delivered_seq` and
//! `read_seq`, which only move forward. [`Receipts::record`] validates, raises the pointer
//! in the bus buffer (max-wins, one round trip) and fans the new pointers out at once, so
//! ticks change in real time. [`Receipts::flush`] — a scheduled job, one node at a time
//! under a lock — atomically takes the dirty buffer and writes it with one batch upsert
//! that keeps the maximum; a flush interrupted by a crash is completed by the next, since
//! the taken batch stays on the bus until [`Bus::buffer_done`]. Reads merge the buffer
//! with the database.
//!
//! Buffer fields are `<conversation>:<user>:d` (delivered) and `…:r` (read).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use uuid::Uuid;

use super::{cache::Caches, fanout::Fanout};
use crate::{
    bus::{Bus, keys},
    error::{Error, Result},
    protocol::{ServerEvent, views::ReceiptView},
    store::{Receipt, Store},
};

const FLUSH_LOCK_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Delivered,
    Read,
}

fn field(conversation: Uuid, user: Uuid, kind: Kind) -> String {
    let k = match kind {
        Kind::Delivered => 'd',
        Kind::Read => 'r',
    };
    format!("{conversation}:{user}:{k}")
}

fn parse_field(f: &str) -> Option<(Uuid, Uuid, Kind)> {
    let mut parts = f.split(':');
    let c = parts.next()?.parse().ok()?;
    let u = parts.next()?.parse().ok()?;
    let k = match parts.next()? {
        "d" => Kind::Delivered,
        "r" => Kind::Read,
        _ => return None,
    };
    Some((c, u, k))
}

/// What one flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Pointer pairs written.
    pub entries: u64,
    /// Database statements executed.
    pub statements: u64,
    /// False when another node held the flush lock.
    pub ran: bool,
}

/// Counters of the flusher, for logs and `/metrics`.
#[derive(Debug, Default)]
pub struct FlushStats {
    pub flushes: AtomicU64,
    pub entries: AtomicU64,
    pub statements: AtomicU64,
    pub failures: AtomicU64,
    pub last_duration_us: AtomicU64,
    /// Unix seconds of the last successful flush (0: never).
    pub last_success: AtomicI64,
}

pub struct Receipts {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    caches: Arc<Caches>,
    pub stats: FlushStats,
}

impl Receipts {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, fanout: Fanout, caches: Arc<Caches>) -> Self {
        Self { store, bus, fanout, caches, stats: FlushStats::default() }
    }

    /// Move `user`'s pointer in `conversation` to at least `seq` and tell the members.
    /// Reading implies delivered.
    pub async fn record(&self, user: Uuid, conversation: Uuid, kind: Kind, seq: i64) -> Result<ReceiptView> {
        if seq < 0 {
            return Err(Error::validation("seq: must not be negative"));
        }
        let members = self.caches.members(self.store.as_ref(), conversation).await?;
        if !members.contains(&user) {
            return Err(Error::NotFound("no such conversation".into()));
        }
        let last = self.caches.last_seq(self.store.as_ref(), conversation, seq).await?;
        if seq > last {
            return Err(Error::invalid("seq_out_of_range", format!("seq: the conversation's last message is {last}")));
        }
        let d = field(conversation, user, Kind::Delivered);
        let r = field(conversation, user, Kind::Read);
        let (delivered, read) = match kind {
            Kind::Delivered => {
                let delivered = self.bus.buffer_max(keys::RECEIPTS_BUFFER, &d, seq).await?;
                let read = self.bus.buffer_get(keys::RECEIPTS_BUFFER, &[r]).await?;
                (delivered, read.first().copied().flatten().unwrap_or(0))
            }
            Kind::Read => {
                let read = self.bus.buffer_max(keys::RECEIPTS_BUFFER, &r, seq).await?;
                let delivered = self.bus.buffer_max(keys::RECEIPTS_BUFFER, &d, seq).await?;
                (delivered, read)
            }
        };
        let view = ReceiptView { user_id: user, delivered_seq: delivered.max(read), read_seq: read };
        let event = ServerEvent::Receipt {
            conversation_id: conversation,
            user_id: user,
            delivered_seq: view.delivered_seq,
            read_seq: view.read_seq,
        };
        self.fanout.send(members.to_vec(), &event).await?;
        Ok(view)
    }

    /// Senders have read their own messages: `(conversation, sender, seq)` for a batch.
    pub async fn mark_own(&self, items: &[(Uuid, Uuid, i64)]) -> Result<()> {
        let entries: Vec<(String, i64)> = items
            .iter()
            .flat_map(|&(c, u, seq)| [(field(c, u, Kind::Delivered), seq), (field(c, u, Kind::Read), seq)])
            .collect();
        Ok(self.bus.buffer_max_many(keys::RECEIPTS_BUFFER, &entries).await?)
    }

    /// `user`'s pointers `(delivered, read)` in each conversation: database and buffer merged.
    pub async fn pointers_for_user(&self, user: Uuid, conversations: &[Uuid]) -> Result<HashMap<Uuid, (i64, i64)>> {
        let mut out: HashMap<Uuid, (i64, i64)> = conversations.iter().map(|c| (*c, (0, 0))).collect();
        for r in self.store.receipts_for_user(user, conversations).await? {
            out.insert(r.conversation_id, (r.delivered_seq, r.read_seq));
        }
        let fields: Vec<String> = conversations
            .iter()
            .flat_map(|c| [field(*c, user, Kind::Delivered), field(*c, user, Kind::Read)])
            .collect();
        let buffered = self.bus.buffer_get(keys::RECEIPTS_BUFFER, &fields).await?;
        for (i, c) in conversations.iter().enumerate() {
            let slot = out.entry(*c).or_default();
            if let Some(d) = buffered[2 * i] {
                slot.0 = slot.0.max(d);
            }
            if let Some(r) = buffered[2 * i + 1] {
                slot.1 = slot.1.max(r);
            }
            slot.0 = slot.0.max(slot.1);
        }
        Ok(out)
    }

    /// `user`'s unread messages over every conversation (a push's badge).
    pub async fn unread_total(&self, user: Uuid) -> Result<i64> {
        let conversations = self.store.conversations_of(user).await?;
        let ids: Vec<Uuid> = conversations.iter().map(|c| c.id).collect();
        let pointers = self.pointers_for_user(user, &ids).await?;
        let expired: HashMap<Uuid, i64> = self.store.expired_seqs(&ids).await?.into_iter().collect();
        Ok(conversations
            .iter()
            .map(|c| {
                let read = pointers.get(&c.id).map_or(0, |p| p.1);
                unread_count(c.last_seq, read, expired.get(&c.id).copied().unwrap_or(0))
            })
            .sum())
    }

    /// Every member's pointers in a conversation (members without any are at 0).
    pub async fn pointers_of(&self, conversation: Uuid, members: &[Uuid]) -> Result<Vec<ReceiptView>> {
        let mut by_user: HashMap<Uuid, (i64, i64)> = members.iter().map(|m| (*m, (0, 0))).collect();
        for r in self.store.receipts_of(conversation).await? {
            if let Some(slot) = by_user.get_mut(&r.user_id) {
                *slot = (r.delivered_seq, r.read_seq);
            }
        }
        let fields: Vec<String> = members
            .iter()
            .flat_map(|u| [field(conversation, *u, Kind::Delivered), field(conversation, *u, Kind::Read)])
            .collect();
        let buffered = self.bus.buffer_get(keys::RECEIPTS_BUFFER, &fields).await?;
        Ok(members
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (mut d, mut r) = by_user[u];
                d = d.max(buffered[2 * i].unwrap_or(0));
                r = r.max(buffered[2 * i + 1].unwrap_or(0));
                ReceiptView { user_id: *u, delivered_seq: d.max(r), read_seq: r }
            })
            .collect())
    }

    /// Write the buffered pointers to the database: one node at a time, one batch upsert.
    pub async fn flush(&self) -> Result<FlushReport> {
        let Some(token) = self.bus.try_lock(keys::RECEIPTS_FLUSH_LOCK, FLUSH_LOCK_TTL).await? else {
            return Ok(FlushReport::default());
        };
        let started = Instant::now();
        let result = self.flush_locked().await;
        let _ = self.bus.unlock(keys::RECEIPTS_FLUSH_LOCK, &token).await;
        match &result {
            Ok(report) => {
                self.stats.flushes.fetch_add(1, Ordering::Relaxed);
                self.stats.entries.fetch_add(report.entries, Ordering::Relaxed);
                self.stats.statements.fetch_add(report.statements, Ordering::Relaxed);
                self.stats.last_duration_us.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                self.stats.last_success.store(Utc::now().timestamp(), Ordering::Relaxed);
                if report.entries > 0 {
                    tracing::info!(
                        entries = report.entries,
                        statements = report.statements,
                        duration_ms = started.elapsed().as_millis() as u64,
                        "receipts flushed"
                    );
                }
            }
            Err(e) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "receipts flush failed; the batch stays buffered for the next one");
            }
        }
        result
    }

    /// Take the dirty buffer (merged with any batch an interrupted flush left) and store it.
    pub async fn flush_locked(&self) -> Result<FlushReport> {
        let taken = self.bus.buffer_take(keys::RECEIPTS_BUFFER).await?;
        if taken.is_empty() {
            return Ok(FlushReport { ran: true, ..Default::default() });
        }
        let mut pairs: HashMap<(Uuid, Uuid), (i64, i64)> = HashMap::new();
        for (f, v) in taken {
            let Some((c, u, kind)) = parse_field(&f) else {
                tracing::warn!(field = f, "ignoring a malformed receipt buffer field");
                continue;
            };
            let slot = pairs.entry((c, u)).or_default();
            match kind {
                Kind::Delivered => slot.0 = slot.0.max(v),
                Kind::Read => slot.1 = slot.1.max(v),
            }
        }
        let receipts: Vec<Receipt> = pairs
            .into_iter()
            .map(|((conversation_id, user_id), (d, r))| Receipt {
                conversation_id,
                user_id,
                delivered_seq: d.max(r),
                read_seq: r,
            })
            .collect();
        let statements = self.store.upsert_receipts(&receipts, Utc::now()).await?;
        self.bus.buffer_done(keys::RECEIPTS_BUFFER).await?;
        Ok(FlushReport { entries: receipts.len() as u64, statements, ran: true })
    }
}

/// Unread messages of a conversation: those after the read pointer, not counting the ones
/// retention removed (every seq up to `expired_seq`).
pub fn unread_count(last_seq: i64, read_seq: i64, expired_seq: i64) -> i64 {
    (last_seq - read_seq.max(expired_seq)).max(0)
}

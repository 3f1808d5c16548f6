//! The push worker: reads the push queue (every node runs one; an entry goes to one of
//! them), decides each user's push against their current choices, and sends it to each of
//! their subscriptions concurrently (at most `push.concurrency` in flight per node).
//!
//! One delivery is tried up to `push.max_attempts` times: a 429, a 5xx or a network error
//! waits (the service's `Retry-After`, else 1 s, 2 s, 4 s, … up to a minute) and tries
//! again; a 404 or 410 deletes the subscription; any other answer gives up. An entry is
//! acked once its deliveries are done; one whose node died is taken over after
//! [`RECLAIM_IDLE`] and tried again (a push may then arrive twice: its `Topic` makes the
//! second replace the first), and dead-lettered after three takeovers.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use chrono::Utc;
use tokio::sync::{Semaphore, watch};
use uuid::Uuid;

use super::{Job, Push, first_line};
use crate::{
    bus::{QueueEntry, Quota, RateDecision, keys},
    error::{Error, Result},
    protocol::push::{PushPayload, PushPerson},
    push::{Delivery, Outgoing, Urgency},
    store::PushSubscription,
};

/// A queue entry pending this long on a consumer counts as abandoned (longer than the
/// longest series of attempts).
pub const RECLAIM_IDLE: Duration = Duration::from_secs(180);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Counters of this node's pushes, for `/metrics`.
#[derive(Debug, Default)]
pub struct PushStats {
    /// Jobs queued (a message or a call, for one or more users).
    pub queued: AtomicU64,
    /// Pushes a push service accepted.
    pub sent: AtomicU64,
    /// Attempts that will be tried again.
    pub retried: AtomicU64,
    /// Deliveries given up (attempts exhausted, or refused).
    pub failed: AtomicU64,
    /// Subscriptions deleted because their push service said they are gone.
    pub gone: AtomicU64,
    /// Pushes not sent: do-not-disturb, a mute, a disabled account.
    pub silenced: AtomicU64,
    /// Pushes dropped by the per-user rate limit.
    pub rate_limited: AtomicU64,
}

/// One user's push: the plaintext and how to send it.
struct Notice {
    user: Uuid,
    payload: Vec<u8>,
    ttl: u64,
    urgency: Urgency,
    topic: String,
}

impl Push {
    /// Consume the push queue until `stop` turns true; then let the deliveries in flight
    /// finish (a few seconds at most).
    pub async fn run_worker(self, mut stop: watch::Receiver<bool>) {
        if self.inner.sender.is_none() {
            return;
        }
        let bus = self.inner.bus.clone();
        if let Err(e) = bus.queue_ensure_group(keys::PUSH_STREAM, keys::PUSH_GROUP).await {
            tracing::error!(error = %e, "cannot create the push queue group");
        }
        let slots = Arc::new(Semaphore::new(self.inner.config.concurrency));
        let mut last_reclaim = tokio::time::Instant::now();
        while !*stop.borrow() {
            let read =
                bus.dequeue(keys::PUSH_STREAM, keys::PUSH_GROUP, &self.inner.consumer, 16, Duration::from_secs(1));
            let entries = tokio::select! {
                r = read => r,
                _ = stop.changed() => break,
            };
            let mut entries = match entries {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "push queue read failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            if last_reclaim.elapsed() >= RECLAIM_IDLE / 6 {
                last_reclaim = tokio::time::Instant::now();
                entries.extend(self.reclaim().await);
            }
            for entry in entries {
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                let this = self.clone();
                tokio::spawn(async move {
                    this.handle(entry).await;
                    drop(slot);
                });
            }
        }
        let all = self.inner.config.concurrency as u32;
        let _ = tokio::time::timeout(Duration::from_secs(5), slots.acquire_many(all)).await;
    }

    async fn reclaim(&self) -> Vec<QueueEntry> {
        let bus = &self.inner.bus;
        let taken = bus.reclaim(keys::PUSH_STREAM, keys::PUSH_GROUP, &self.inner.consumer, RECLAIM_IDLE, 64).await;
        let mut keep = Vec::new();
        for entry in taken.unwrap_or_default() {
            if entry.deliveries > 3 {
                let _ = bus.dead_letter(keys::PUSH_STREAM, keys::PUSH_GROUP, &entry, "abandoned three times").await;
            } else {
                keep.push(entry);
            }
        }
        keep
    }

    /// Send one entry's pushes; ack it unless deciding them failed (the store or the bus
    /// is down: it is taken over and tried again later).
    pub async fn handle(&self, entry: QueueEntry) {
        let bus = &self.inner.bus;
        let job = match serde_json::from_slice::<Job>(&entry.payload) {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, id = entry.id, "undecodable push entry; dead-lettered");
                let _ = bus.dead_letter(keys::PUSH_STREAM, keys::PUSH_GROUP, &entry, "undecodable").await;
                return;
            }
        };
        match self.notices(job).await {
            Ok(notices) => {
                self.deliver_all(notices).await;
                if let Err(e) = bus.ack(keys::PUSH_STREAM, keys::PUSH_GROUP, std::slice::from_ref(&entry.id)).await {
                    tracing::warn!(error = %e, "push ack failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, id = entry.id, "deciding a push failed; it will be retried"),
        }
    }

    /// Each user's push for `job`, after their choices and the rate limit.
    async fn notices(&self, job: Job) -> Result<Vec<Notice>> {
        let store = &self.inner.store;
        let config = &self.inner.config;
        let now = Utc::now();
        match job {
            Job::Message { conversation_id, message_id, seq, sender_id, body, image, mentions, sent_at, users } => {
                let Some(conversation) = store.conversation(conversation_id).await? else { return Ok(Vec::new()) };
                let members = store.members_of(&[conversation_id]).await?;
                let user = |id: Uuid| members.iter().map(|(_, m)| &m.user).find(|u| u.id == id);
                let Some(sender) = user(sender_id) else { return Ok(Vec::new()) };
                let sender = PushPerson { id: sender.id, display_name: sender.display_name.clone() };
                let group = conversation.kind == "group";
                let mut out = Vec::new();
                for target in store.push_targets(conversation_id, &users).await? {
                    let Some(person) = user(target.user_id) else { continue };
                    let mention = group && mentions.contains(&person.id);
                    let muted = target.muted_until.is_some_and(|t| t > now);
                    let dnd = target.dnd_until.is_some_and(|t| t > now);
                    if dnd || (muted && !(mention && config.mentions_when_muted)) || self.silenced(target.user_id) {
                        self.inner.stats.silenced.fetch_add(1, Relaxed);
                        continue;
                    }
                    if !self.within_rate(target.user_id).await? {
                        continue;
                    }
                    let hidden = target.hide_content.unwrap_or(config.hide_content);
                    let payload = PushPayload::Message {
                        v: 1,
                        conversation_id,
                        conversation_kind: conversation.kind.clone(),
                        conversation_name: conversation.name.clone().filter(|_| group),
                        sender: sender.clone(),
                        message_id,
                        seq,
                        body: (!hidden).then(|| first_line(&body)),
                        image: (!hidden).then_some(image),
                        mention,
                        hidden,
                        unread: self.inner.receipts.unread_total(target.user_id).await?,
                        sent_at,
                    };
                    out.push(Notice {
                        user: target.user_id,
                        payload: serde_json::to_vec(&payload).map_err(Error::internal)?,
                        ttl: config.ttl_secs,
                        urgency: if mention { Urgency::High } else { Urgency::Normal },
                        topic: conversation_id.simple().to_string(),
                    });
                }
                Ok(out)
            }
            Job::Call { call_id, conversation_id, caller_id, callee_id, sent_at } => {
                let Some(caller) = store.user_by_id(caller_id).await? else { return Ok(Vec::new()) };
                let Some(target) = store.push_targets(conversation_id, &[callee_id]).await?.pop() else {
                    return Ok(Vec::new());
                };
                // Calls ring through mutes, not through do-not-disturb.
                if target.dnd_until.is_some_and(|t| t > now) || self.silenced(callee_id) {
                    self.inner.stats.silenced.fetch_add(1, Relaxed);
                    return Ok(Vec::new());
                }
                let payload = PushPayload::Call {
                    v: 1,
                    call_id,
                    conversation_id,
                    caller: PushPerson { id: caller.id, display_name: caller.display_name },
                    unread: self.inner.receipts.unread_total(callee_id).await?,
                    sent_at,
                };
                Ok(vec![Notice {
                    user: callee_id,
                    payload: serde_json::to_vec(&payload).map_err(Error::internal)?,
                    ttl: self.inner.ring_ttl,
                    urgency: Urgency::High,
                    topic: call_id.simple().to_string(),
                }])
            }
        }
    }

    fn silenced(&self, user: Uuid) -> bool {
        self.inner.caches.disabled.contains(user)
    }

    async fn within_rate(&self, user: Uuid) -> Result<bool> {
        let n = self.inner.config.per_user_per_minute.max(1);
        match self.inner.bus.rate_limit(&keys::push_rate(&user), Quota::per_minute(n, n)).await? {
            RateDecision::Allowed => Ok(true),
            RateDecision::Limited { .. } => {
                self.inner.stats.rate_limited.fetch_add(1, Relaxed);
                Ok(false)
            }
        }
    }

    async fn deliver_all(&self, notices: Vec<Notice>) {
        if notices.is_empty() {
            return;
        }
        let users: Vec<Uuid> = notices.iter().map(|n| n.user).collect();
        let subs = match self.inner.store.push_subscriptions(&users).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "reading push subscriptions failed");
                return;
            }
        };
        let sends = subs.iter().filter_map(|sub| {
            let notice = notices.iter().find(|n| n.user == sub.user_id)?;
            Some(self.deliver(sub, notice))
        });
        futures_util::future::join_all(sends).await;
    }

    /// One push to one subscription, with retries.
    async fn deliver(&self, sub: &PushSubscription, notice: &Notice) {
        let Some(sender) = self.inner.sender.as_ref() else { return };
        let stats = &self.inner.stats;
        let max = self.inner.config.max_attempts.max(1);
        for attempt in 1..=max {
            let outgoing = Outgoing {
                endpoint: &sub.endpoint,
                p256dh: &sub.p256dh,
                auth: &sub.auth,
                payload: &notice.payload,
                ttl: notice.ttl,
                urgency: notice.urgency,
                topic: Some(notice.topic.clone()),
            };
            match sender.send(&outgoing).await {
                Delivery::Sent => {
                    stats.sent.fetch_add(1, Relaxed);
                    return;
                }
                Delivery::Gone => {
                    stats.gone.fetch_add(1, Relaxed);
                    if let Err(e) = self.inner.store.delete_push_subscription_by_id(sub.id).await {
                        tracing::warn!(error = %e, "deleting a gone push subscription failed");
                    }
                    self.forget(sub.user_id);
                    return;
                }
                Delivery::Refused { why } => {
                    stats.failed.fetch_add(1, Relaxed);
                    tracing::warn!(subscription = %sub.id, %why, "push refused");
                    return;
                }
                Delivery::Retry { why, .. } if attempt == max => {
                    stats.failed.fetch_add(1, Relaxed);
                    tracing::warn!(subscription = %sub.id, %why, attempts = max, "push given up");
                    return;
                }
                Delivery::Retry { after, .. } => {
                    stats.retried.fetch_add(1, Relaxed);
                    tokio::time::sleep(after.unwrap_or_else(|| backoff(attempt)).min(MAX_BACKOFF)).await;
                }
            }
        }
    }
}

/// 1 s, 2 s, 4 s, … after the first, second, third attempt, with up to 250 ms of jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1 << (attempt.saturating_sub(1)).min(6));
    base + Duration::from_millis(rand::random_range(0..250))
}

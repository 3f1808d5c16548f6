//! The persistence side of the pipeline: the queue is read by one reader per node, which
//! routes each entry to one of `messages.workers` shard tasks by its conversation. A shard
//! stores its entries in batches (one transaction each), in the order read, so the
//! batches of different conversations commit in parallel while one conversation's
//! messages keep their order on this node. Each shard hands its committed batches to a
//! finisher task of its own (fan-out, queue ack, the senders' acks, in commit order), so a
//! shard's next transaction overlaps the last one's bus round trips. Across nodes a
//! conversation's batches serialise on the row lock of its counter
//! (`Store::persist_batch`), which is what keeps `seq` gap-free.

use std::{sync::Arc, time::Duration};

use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::{Ack, Messages, not_found};
use crate::{
    bus::{QueueEntry, keys},
    error::{Error, Result},
    protocol::ServerEvent,
    service::fanout::{Effect, Envelope},
    store::{BatchOutcome, NewMessage, Persisted},
};

/// Shards per core on PostgreSQL. A batch there mostly waits, on the round trips of its
/// transaction, so more batches in flight than cores keep the database busy; past two per
/// core they only queue for the same cores (docs/benchmarks.md: 2, 4, 6, 8 and 16 shards
/// on 2 cores at 10,000 messages/s). SQLite writes one transaction at a time: there a
/// second shard only waits for the first, and one shard, whose finisher overlaps the
/// fan-out with the next transaction, does best.
pub const POSTGRES_SHARDS_PER_CORE: usize = 2;

/// The shard of a conversation among `n`: a conversation always lands on the same one.
pub fn shard_of(conversation: Uuid, n: usize) -> usize {
    let v = conversation.as_u128();
    // The low bits of a UUIDv7 are random; fold both halves anyway.
    (((v >> 64) as u64 ^ v as u64) % n.max(1) as u64) as usize
}

impl Messages {
    /// How many shard tasks this node runs (`messages.workers`; 0 = chosen by the store:
    /// [`POSTGRES_SHARDS_PER_CORE`] per core on PostgreSQL, one on SQLite).
    pub fn workers(&self) -> usize {
        match self.config.workers {
            0 if self.store.backend() == "postgres" => {
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) * POSTGRES_SHARDS_PER_CORE
            }
            0 => 1,
            n => n,
        }
    }

    /// Consume the queue until `stop` turns true; then drain what this node still holds in
    /// the embedded mode (its queue lives and dies with the process), and wait for every
    /// shard to finish its batch.
    pub async fn run_worker(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        if let Err(e) = self.bus.queue_ensure_group(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP).await {
            tracing::error!(error = %e, "cannot create the message queue group");
        }
        let n = self.workers();
        let batch = self.config.batch_size.max(1);
        let mut shards = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = mpsc::channel::<Decoded>(batch * 2);
            shards.push(tx);
            tasks.push(tokio::spawn(self.clone().run_shard(rx)));
        }
        let reclaim_every = Duration::from_secs(self.config.reclaim_idle_secs.div_ceil(3).max(1));
        let mut last_reclaim = tokio::time::Instant::now();
        loop {
            let stopping = *stop.borrow();
            let block = if stopping { Duration::from_millis(50) } else { Duration::from_millis(500) };
            let entries = tokio::select! {
                r = self.bus.dequeue(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, &self.consumer, batch, block) => r,
                _ = stop.changed(), if !stopping => continue,
            };
            match entries {
                Ok(entries) if !entries.is_empty() => self.route(&shards, entries).await,
                Ok(_) if stopping => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "message queue read failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            if !stopping && last_reclaim.elapsed() >= reclaim_every {
                last_reclaim = tokio::time::Instant::now();
                let entries = self.reclaim().await;
                self.route(&shards, entries).await;
            }
        }
        drop(shards);
        for t in tasks {
            let _ = t.await;
        }
        tracing::debug!("message worker stopped");
    }

    /// One shard: take what has arrived (up to a batch), store it, repeat. What follows a
    /// commit (fan-out, queue ack, the senders' acks) runs in the shard's finisher, in
    /// commit order, while the shard already stores its next batch: the two overlap, and
    /// one conversation's batches still reach the fan-out in the order they were stored.
    async fn run_shard(self: Arc<Self>, mut rx: mpsc::Receiver<Decoded>) {
        let max = self.config.batch_size.max(1);
        let (done, finishing) = mpsc::channel::<Stored>(FINISH_AHEAD);
        let finisher = tokio::spawn(self.clone().run_finisher(finishing));
        let mut batch = Vec::with_capacity(max);
        while rx.recv_many(&mut batch, max).await > 0 {
            let (jobs, entries) = std::mem::take(&mut batch).into_iter().unzip();
            self.store_decoded(jobs, entries, Then::Queue(&done)).await;
        }
        drop(done);
        let _ = finisher.await;
    }

    /// A shard's finisher: the after-commit work of each stored batch, one after another.
    async fn run_finisher(self: Arc<Self>, mut rx: mpsc::Receiver<Stored>) {
        while let Some(stored) = rx.recv().await {
            self.finish(stored).await;
        }
    }

    /// Decode each entry once and hand it to its conversation's shard, in the order read.
    async fn route(&self, shards: &[mpsc::Sender<Decoded>], entries: Vec<QueueEntry>) {
        for entry in entries {
            let Some(job) = self.decode(&entry).await else { continue };
            let shard = shard_of(job.conversation_id, shards.len());
            if shards[shard].send((job, entry)).await.is_err() {
                // Only when the shard task died (a panic): the entry stays pending on this
                // consumer and is reclaimed.
                tracing::error!(shard, "message shard stopped");
            }
        }
    }

    /// Entries that a stopped consumer left pending, now this node's.
    async fn reclaim(&self) -> Vec<QueueEntry> {
        let idle = Duration::from_secs(self.config.reclaim_idle_secs);
        match self
            .bus
            .reclaim(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, &self.consumer, idle, self.config.batch_size)
            .await
        {
            Ok(entries) => {
                if !entries.is_empty() {
                    let n = entries.len();
                    self.stats.reclaimed.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(n, "reclaimed messages of a stopped consumer");
                }
                entries
            }
            Err(e) => {
                tracing::warn!(error = %e, "reclaim failed");
                Vec::new()
            }
        }
    }

    /// Take over and process entries that a stopped consumer left pending (tests drive
    /// it; the worker routes reclaimed entries to its shards instead).
    pub async fn reclaim_step(&self) -> usize {
        let entries = self.reclaim().await;
        let n = entries.len();
        if n > 0 {
            self.process(entries).await;
        }
        n
    }

    /// Store a batch of queue entries, then fan out and ack. Public so tests can drive it.
    pub async fn process(&self, entries: Vec<QueueEntry>) {
        let mut jobs = Vec::with_capacity(entries.len());
        let mut ids = Vec::with_capacity(entries.len());
        for entry in entries {
            if let Some(job) = self.decode(&entry).await {
                jobs.push(job);
                ids.push(entry);
            }
        }
        self.store_decoded(jobs, ids, Then::Inline).await;
    }

    /// The message in a queue entry; one that does not decode is dead-lettered at once.
    async fn decode(&self, entry: &QueueEntry) -> Option<NewMessage> {
        match serde_json::from_slice::<NewMessage>(&entry.payload) {
            Ok(job) => Some(job),
            Err(e) => {
                tracing::error!(error = %e, id = entry.id, "undecodable queue entry; dead-lettered");
                let _ = self.bus.dead_letter(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, entry, "undecodable").await;
                None
            }
        }
    }

    /// Store decoded entries (`jobs[i]` from `ids[i]`), then fan out and ack (`then`: at
    /// once, or by the shard's finisher).
    async fn store_decoded(&self, jobs: Vec<NewMessage>, ids: Vec<QueueEntry>, then: Then<'_>) {
        if jobs.is_empty() {
            return;
        }
        // Whole batch first; on failure, entry by entry so one poison message cannot hold
        // the others back.
        if let Ok(outcome) = self.persist(&jobs).await {
            return self.then(Stored { jobs, entries: ids, outcome }, &then).await;
        }
        for (job, entry) in jobs.into_iter().zip(ids) {
            let mut attempt = entry.deliveries.max(1);
            loop {
                match self.persist(std::slice::from_ref(&job)).await {
                    Ok(outcome) => {
                        self.then(Stored { jobs: vec![job], entries: vec![entry], outcome }, &then).await;
                        break;
                    }
                    Err(e) if attempt >= self.config.max_attempts => {
                        tracing::error!(error = %e, message_id = %job.id, "message dead-lettered after {attempt} attempts");
                        self.give_up(&job, &entry, &e.to_string()).await;
                        break;
                    }
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                        attempt += 1;
                    }
                }
            }
        }
    }

    async fn then(&self, stored: Stored, then: &Then<'_>) {
        match then {
            Then::Inline => self.finish(stored).await,
            Then::Queue(tx) => {
                // Only when the finisher died (a panic): finish here instead.
                if let Err(mpsc::error::SendError(stored)) = tx.send(stored).await {
                    self.finish(stored).await;
                }
            }
        }
    }

    /// One transaction: the batch is stored (or found stored, or rejected) once this returns.
    async fn persist(&self, jobs: &[NewMessage]) -> Result<BatchOutcome> {
        let outcome = match self.store.persist_batch(jobs).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, n = jobs.len(), "storing a message batch failed");
                return Err(e.into());
            }
        };
        use std::sync::atomic::Ordering::Relaxed;
        self.stats.batches.fetch_add(1, Relaxed);
        for r in &outcome.results {
            match r {
                Persisted::Stored(_) => self.stats.stored.fetch_add(1, Relaxed),
                Persisted::Duplicate(_) => self.stats.duplicates.fetch_add(1, Relaxed),
                Persisted::Rejected(_) => 0,
            };
        }
        Ok(outcome)
    }

    /// After the commit of a batch: deliver, ack the queue entries, answer the senders.
    async fn finish(&self, Stored { jobs, entries, outcome }: Stored) {
        // Stored: now, and only now, deliver.
        let mut envelopes = Vec::with_capacity(outcome.results.len());
        let mut own = Vec::new();
        for result in &outcome.results {
            match result {
                Persisted::Stored(m) | Persisted::Duplicate(m) => {
                    let to = outcome.members.get(&m.conversation_id).cloned().unwrap_or_default();
                    let event = ServerEvent::MessageNew { message: self.links.message(m.clone()) };
                    envelopes.push(
                        Envelope::new(to, &event)
                            .with_effect(Effect::Seq { conversation_id: m.conversation_id, seq: m.seq }),
                    );
                    own.push((m.conversation_id, m.sender_id, m.seq));
                }
                Persisted::Rejected(m) => {
                    self.detach(m.id).await;
                    let event = ServerEvent::from_error(&not_found(), Some(m.client_id.clone()));
                    envelopes.push(Envelope::new(vec![m.sender_id], &event));
                }
            }
        }
        // A sender has read what they wrote; that and the first publish go to the bus
        // together.
        let (marked, mut published) =
            tokio::join!(self.receipts.mark_own(&own), self.fanout.publish_located(&envelopes));
        if let Err(e) = marked {
            tracing::warn!(error = %e, "advancing senders' read pointers failed");
        }
        for delay in [50, 200, 1000] {
            if published.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(delay)).await;
            published = self.fanout.publish_located(&envelopes).await;
        }
        let offline = match published {
            Ok(offline) => Some(offline),
            Err(e) => {
                // Stored but not announced: members catch up by `seq` on their next message
                // or reconnect. Never lost.
                tracing::error!(error = %e, "fan-out failed after retries");
                None
            }
        };
        // Members with no socket open (as the fan-out found them) hear of it by push,
        // queued in a task of its own.
        let stored: Vec<_> = outcome
            .results
            .iter()
            .filter_map(|r| match r {
                Persisted::Stored(m) => Some(m.clone()),
                _ => None,
            })
            .collect();
        self.push.messages_stored(stored, &outcome.members, offline);
        let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
        if let Err(e) = self.bus.ack(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, &ids).await {
            // Stored; a redelivery is deduplicated by the store.
            tracing::warn!(error = %e, "queue ack failed");
        }
        for (job, result) in jobs.iter().zip(&outcome.results) {
            let r = match result {
                Persisted::Stored(m) | Persisted::Duplicate(m) => Ok(Ack {
                    id: m.id,
                    conversation_id: m.conversation_id,
                    client_id: job.client_id.clone(),
                    created_at: m.created_at,
                }),
                Persisted::Rejected(_) => Err(not_found()),
            };
            self.resolve(job.id, r);
        }
    }

    async fn give_up(&self, job: &NewMessage, entry: &QueueEntry, reason: &str) {
        self.stats.dead_lettered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = self.bus.dead_letter(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, entry, reason).await {
            tracing::error!(error = %e, "dead-lettering failed");
        }
        let _ = self.bus.delete(&keys::dedupe(&job.sender_id, &job.client_id)).await;
        self.detach(job.id).await;
        let err = Error::DeliveryFailed("the message could not be stored; send it again".into());
        // A sender still waiting (embedded mode) hears it from its wait; one that was
        // already acked (Redis) hears it on its sockets.
        if !self.resolve(job.id, Err(err.duplicate())) {
            let event = ServerEvent::from_error(&err, Some(job.client_id.clone()));
            let _ = self.fanout.send(vec![job.sender_id], &event).await;
        }
    }
}

/// A queue entry and the message in it, as a shard receives it.
type Decoded = (NewMessage, QueueEntry);

/// Stored batches a shard may have waiting for its finisher: the shard stores the next
/// while the finisher fans out the last; more would only add latency.
const FINISH_AHEAD: usize = 2;

/// A committed batch: the messages, their queue entries and what the store did with each.
struct Stored {
    jobs: Vec<NewMessage>,
    entries: Vec<QueueEntry>,
    outcome: BatchOutcome,
}

/// Where a committed batch's after-commit work runs.
enum Then<'a> {
    /// Now, before `store_decoded` returns (tests drive [`Messages::process`] this way).
    Inline,
    /// In the shard's finisher.
    Queue(&'a mpsc::Sender<Stored>),
}

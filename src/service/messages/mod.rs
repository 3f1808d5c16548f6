//! The message pipeline: the path of `docs/architecture.md`, step by step.
//!
//! 1. [`Messages::submit`] (gateway `message.send`, REST `POST …/messages`): check the body,
//!    membership (cached) and the sender's rate; a retried `client_id` gets the first ack
//!    (dedupe key on the bus); assign a UUIDv7 whose time is `created_at`; enqueue.
//! 2. The ack is sent once the message is durable: on Redis when `XADD` returns; in the
//!    embedded mode when the worker's transaction holding it commits ([`Pending::wait`]).
//! 3. [`Messages::run_worker`] reads the queue and routes each entry by conversation to
//!    one of `messages.workers` shards ([`worker`]); a shard's [`Messages::process`] stores
//!    each batch in one transaction (`Store::persist_batch`: dedupe, membership, gap-free `seq`), and only
//!    after the commit publishes `message.new` to every member's devices on every node,
//!    then acks the queue entries.
//! 4. A batch that fails is retried with backoff, entry by entry to isolate a poison
//!    message; after `messages.max_attempts` an entry is dead-lettered and its sender gets
//!    `error{code: delivery_failed}`. Entries of a consumer that died are reclaimed by the
//!    others after `messages.reclaim_idle_secs`.
//!
//! Invariants: an acked message is never lost; nothing is delivered before it is stored;
//! `seq` is gap-free per conversation; a `client_id` makes at most one message.

mod worker;

pub use worker::shard_of;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{
    cache::Caches, changes::mentioned_usernames, fanout::Fanout, limits, media::MediaLinks, push::Push,
    receipts::Receipts,
};
use crate::{
    bus::{Bus, Quota, keys},
    config::MessagesConfig,
    error::{Error, Result},
    protocol::{ServerEvent, client::check_send},
    store::{Attachment, NewMessage, Reply, Store},
};

/// How long an attempt holds its claim on a `client_id` while it attaches images and
/// queues the message: far longer than that takes, short enough that a claim left by a
/// node that died frees itself.
const SENDING_CLAIM: Duration = Duration::from_secs(30);

/// What the sender is told once its message is durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
}

impl Ack {
    pub fn event(&self) -> ServerEvent {
        ServerEvent::MessageAck {
            client_id: self.client_id.clone(),
            id: self.id,
            conversation_id: self.conversation_id,
            created_at: self.created_at,
        }
    }
}

/// A submitted message: already durable, or waiting for the commit that makes it so.
pub enum Pending {
    Done(Ack),
    Waiting(oneshot::Receiver<Result<Ack>>),
}

impl Pending {
    pub async fn wait(self) -> Result<Ack> {
        match self {
            Pending::Done(ack) => Ok(ack),
            Pending::Waiting(rx) => {
                rx.await.unwrap_or_else(|_| Err(Error::Unavailable("the server stopped before storing it".into())))
            }
        }
    }
}

type Waiters = HashMap<Uuid, Vec<oneshot::Sender<Result<Ack>>>>;

pub struct Messages {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    caches: Arc<Caches>,
    receipts: Arc<Receipts>,
    /// Signs the links of attachments in `message.new`.
    links: Arc<MediaLinks>,
    config: MessagesConfig,
    /// This node's consumer name in the queue's group.
    /// Told of every stored batch, to push to members with no socket open.
    push: Push,
    consumer: String,
    /// Embedded mode only: senders waiting for the commit of their message, by message id.
    waiters: Mutex<Waiters>,
    pub stats: PipelineStats,
}

/// Counters of the pipeline, for `/metrics`.
#[derive(Debug, Default)]
pub struct PipelineStats {
    pub accepted: std::sync::atomic::AtomicU64,
    pub stored: std::sync::atomic::AtomicU64,
    pub duplicates: std::sync::atomic::AtomicU64,
    pub batches: std::sync::atomic::AtomicU64,
    pub dead_lettered: std::sync::atomic::AtomicU64,
    pub reclaimed: std::sync::atomic::AtomicU64,
}

impl Messages {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        caches: Arc<Caches>,
        receipts: Arc<Receipts>,
        links: Arc<MediaLinks>,
        push: Push,
        config: MessagesConfig,
    ) -> Self {
        let consumer = format!("node-{}", Uuid::now_v7().simple());
        Self {
            store,
            bus,
            fanout,
            caches,
            receipts,
            links,
            push,
            config,
            consumer,
            waiters: Mutex::new(HashMap::new()),
            stats: PipelineStats::default(),
        }
    }

    /// Accept a message for delivery. Resolves quickly; [`Pending::wait`] gives the ack.
    pub async fn submit(&self, sender: Uuid, conversation_id: Uuid, client_id: &str, body: &str) -> Result<Pending> {
        self.accept(sender, conversation_id, client_id, body, &[], None, "text").await
    }

    /// [`Messages::submit`] with images: the sender's uploads `attachments` (1 to
    /// [`MAX_ATTACHMENTS`](crate::protocol::client::MAX_ATTACHMENTS), each attached once;
    /// `body` may then be empty), and as a reply to the message `reply_to` (one of the same
    /// conversation, not deleted).
    pub async fn submit_with(
        &self,
        sender: Uuid,
        conversation_id: Uuid,
        client_id: &str,
        body: &str,
        attachments: &[Uuid],
        reply_to: Option<Uuid>,
    ) -> Result<Pending> {
        self.accept(sender, conversation_id, client_id, body, attachments, reply_to, "text").await
    }

    /// [`Messages::submit`] of any kind. A kind other than `text` is an entry the server
    /// writes on a user's behalf (a call entry): same path, same dedupe by `client_id`, not
    /// counted against the user's rate.
    pub async fn submit_kind(
        &self,
        sender: Uuid,
        conversation_id: Uuid,
        client_id: &str,
        body: &str,
        kind: &str,
    ) -> Result<Pending> {
        self.accept(sender, conversation_id, client_id, body, &[], None, kind).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn accept(
        &self,
        sender: Uuid,
        conversation_id: Uuid,
        client_id: &str,
        body: &str,
        attachments: &[Uuid],
        reply_to: Option<Uuid>,
        kind: &str,
    ) -> Result<Pending> {
        check_send(client_id, body, attachments, self.config.max_body_chars).map_err(Error::validation)?;
        if !self.caches.is_member(self.store.as_ref(), conversation_id, sender).await? {
            return Err(not_found());
        }
        let quota = Quota::per_second(self.config.rate_per_sec, self.config.rate_burst);
        if kind == "text" {
            limits::check(&*self.bus, &keys::message_rate(&sender), quota).await?;
        }
        let dedupe = keys::dedupe(&sender, client_id);
        let extras = match self.extras(conversation_id, body, reply_to).await {
            Ok(extras) => extras,
            // A retry of a reply whose original was deleted since is still the message
            // sent the first time.
            Err(e) => match self.bus.get(&dedupe).await? {
                Some(first) => return self.retry_of(&first, conversation_id),
                None => return Err(e),
            },
        };

        let id = Uuid::now_v7();
        let created_at = uuid_time(id);
        let ack = Ack { id, conversation_id, client_id: client_id.to_string(), created_at };
        let ack_json = serde_json::to_string(&ack).map_err(Error::internal)?;
        // Text only: `enqueue_once` finds a retry itself (the dedupe key is only ever set
        // together with the queue entry), one bus round trip in all.
        if attachments.is_empty() {
            return self.queue(sender, &ack, kind, body, attachments, extras, &dedupe, &ack_json).await;
        }
        // With images, a retry of a message already queued is found before its uploads are
        // claimed again (finding the key means the first attempt is durable or, embedded, on
        // its way to the commit it waits for).
        if let Some(first) = self.bus.get(&dedupe).await? {
            return self.retry_of(&first, conversation_id);
        }
        // Images are claimed for the message before it is queued: two attempts of one
        // client_id (a resend on a new socket while the first is still on its way) must not
        // race for them, or the loser would be told `attachment_used` for a message that is
        // being sent. The claim lasts until this attempt is queued or refused.
        let claim = keys::sending(&sender, client_id);
        if self.bus.put_if_absent(&claim, &ack_json, SENDING_CLAIM).await?.is_some() {
            if let Some(first) = self.bus.get(&dedupe).await? {
                return self.retry_of(&first, conversation_id);
            }
            return Err(Error::Unavailable("this message is being sent; retry".into()));
        }
        let result = self.queue(sender, &ack, kind, body, attachments, extras, &dedupe, &ack_json).await;
        let _ = self.bus.delete_if_eq(&claim, &ack_json).await;
        result
    }

    /// Claim the uploads, then queue the message and set its dedupe key in one step.
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        sender: Uuid,
        ack: &Ack,
        kind: &str,
        body: &str,
        attachments: &[Uuid],
        extras: Extras,
        dedupe: &str,
        ack_json: &str,
    ) -> Result<Pending> {
        let Ack { id, conversation_id, ref client_id, created_at } = *ack;
        let has_uploads = !attachments.is_empty();
        let attachments = self.attach(sender, conversation_id, id, attachments).await?;
        let job = NewMessage {
            id,
            conversation_id,
            sender_id: sender,
            client_id: client_id.clone(),
            kind: kind.to_string(),
            body: body.to_string(),
            attachments,
            created_at,
            reply_to: extras.reply.as_ref().map(|r| r.id),
            reply: extras.reply,
            mentions: extras.mentions,
        };
        let payload = Bytes::from(serde_json::to_vec(&job).map_err(Error::internal)?);
        let rx = (!self.bus.queue_durable()).then(|| {
            let (tx, rx) = oneshot::channel();
            self.lock_waiters().entry(id).or_default().push(tx);
            rx
        });
        let ttl = Duration::from_secs(self.config.dedupe_ttl_secs);
        let raced = match self.bus.enqueue_once(keys::MESSAGES_STREAM, payload, dedupe, ack_json, ttl).await {
            Ok(raced) => raced,
            Err(e) => {
                // The answer may be lost after the script ran (a timeout, Redis going down):
                // the key tells. Ours: queued. Another's: that one is the message. None:
                // not queued, so the uploads are free again. Unknown: they stay claimed
                // (hidden) rather than be freed under a message that may exist.
                match self.bus.get(dedupe).await {
                    Ok(Some(v)) if v == ack_json => None,
                    Ok(Some(v)) => Some(v),
                    Ok(None) => {
                        self.lock_waiters().remove(&id);
                        if has_uploads {
                            self.detach(id).await;
                        }
                        return Err(e.into());
                    }
                    Err(_) => {
                        self.lock_waiters().remove(&id);
                        return Err(e.into());
                    }
                }
            }
        };
        if let Some(first) = raced {
            // Another attempt with this client_id was queued in between: it is the message.
            self.lock_waiters().remove(&id);
            if has_uploads {
                self.detach(id).await;
            }
            return self.retry_of(&first, conversation_id);
        }
        self.stats.accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(match rx {
            Some(rx) => Pending::Waiting(rx),
            None => Pending::Done(ack.clone()),
        })
    }

    /// The quote of the message a reply answers, and the members the body mentions.
    async fn extras(&self, conversation_id: Uuid, body: &str, reply_to: Option<Uuid>) -> Result<Extras> {
        let reply = match reply_to {
            None => None,
            Some(id) => {
                let original = self
                    .store
                    .message(conversation_id, id)
                    .await?
                    .ok_or_else(|| Error::NotFound("reply_to: no such message in this conversation".into()))?;
                if original.deleted_at.is_some() {
                    return Err(crate::service::changes::deleted());
                }
                Some(Reply::of(&original))
            }
        };
        // Only the members named, however large the group: one indexed lookup.
        let names = mentioned_usernames(body);
        let mentions = self.store.members_named(conversation_id, &names).await?;
        Ok(Extras { reply, mentions })
    }

    /// Attach the sender's uploads `ids` to the message `id`, in the order given; all of
    /// them or none. Someone else's upload, or an unknown one, is `not_found`; one of the
    /// sender's that another message has is `attachment_used`.
    async fn attach(&self, sender: Uuid, conversation_id: Uuid, id: Uuid, ids: &[Uuid]) -> Result<Vec<Attachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let attached = self.store.attach_uploads(ids, sender, id, conversation_id).await?;
        if attached.len() == ids.len() {
            let by_id: HashMap<Uuid, Attachment> = attached.iter().map(|u| (u.id, Attachment::from(u))).collect();
            return Ok(ids.iter().filter_map(|i| by_id.get(i).cloned()).collect());
        }
        self.detach(id).await;
        for missing in ids.iter().filter(|i| !attached.iter().any(|u| u.id == **i)) {
            if let Some(u) = self.store.upload(*missing).await?
                && u.owner_id == sender
            {
                return Err(Error::Conflict {
                    code: "attachment_used",
                    detail: format!("attachments: {missing} is attached to another message"),
                });
            }
        }
        Err(Error::NotFound("attachments: no such upload (or not yours)".into()))
    }

    /// Free the uploads of a message that will not be stored.
    async fn detach(&self, id: Uuid) {
        if let Err(e) = self.store.detach_uploads(id).await {
            tracing::warn!(message_id = %id, error = %e, "uploads of an unsent message not freed (they stay hidden)");
        }
    }

    /// A retry of the queued message whose ack is `first` (JSON): the same ack, for the
    /// same conversation only.
    fn retry_of(&self, first: &str, conversation_id: Uuid) -> Result<Pending> {
        let first: Ack = serde_json::from_str(first).map_err(Error::internal)?;
        if first.conversation_id != conversation_id {
            return Err(Error::invalid("validation_failed", "client_id: already used for another conversation"));
        }
        Ok(self.join_waiters(first))
    }

    /// A retry of an accepted message: in the embedded mode it may still be waiting for
    /// its commit, and the retry waits with it.
    fn join_waiters(&self, first: Ack) -> Pending {
        if self.bus.queue_durable() {
            return Pending::Done(first);
        }
        let mut waiters = self.lock_waiters();
        match waiters.get_mut(&first.id) {
            Some(list) => {
                let (tx, rx) = oneshot::channel();
                list.push(tx);
                Pending::Waiting(rx)
            }
            None => Pending::Done(first),
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answer everyone waiting for message `id`; false if nobody was.
    fn resolve(&self, id: Uuid, result: Result<Ack>) -> bool {
        let Some(list) = self.lock_waiters().remove(&id) else { return false };
        for tx in list {
            let r = match &result {
                Ok(a) => Ok(a.clone()),
                Err(e) => Err(e.duplicate()),
            };
            let _ = tx.send(r);
        }
        true
    }
}

/// What a message carries besides its body and images.
struct Extras {
    reply: Option<Reply>,
    mentions: Vec<Uuid>,
}

fn not_found() -> Error {
    Error::NotFound("no such conversation".into())
}

/// The timestamp inside a UUIDv7.
pub fn uuid_time(id: Uuid) -> DateTime<Utc> {
    let (secs, nanos) = id.get_timestamp().map(|t| t.to_unix()).unwrap_or((0, 0));
    DateTime::from_timestamp(secs as i64, nanos).unwrap_or_else(Utc::now)
}

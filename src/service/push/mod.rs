//! Notifications for users whose tabs are closed: Web Push subscriptions, notification
//! choices (hide content, do not disturb, per-conversation mutes), and deciding who gets a
//! push.
//!
//! The rule (`docs/protocol.md` "Push notifications"): when a message is stored, each
//! other member who has a push subscription and **no socket open on any node** gets a push,
//! unless do-not-disturb is on, or the conversation is muted and the message does not
//! mention them (`push.mentions_when_muted`). A call rings a callee with no socket open
//! through push too (high urgency; mutes do not silence calls, do-not-disturb does). An
//! open but hidden tab is the page's to notify (it has the socket and the events).
//!
//! Nothing here is on a message's path: after a batch is stored and fanned out, the worker
//! hands it to [`Push::messages_stored`] with the recipients the fan-out found offline (no
//! second presence lookup), and, only for those who are subscribed, a [`Job`] is queued on
//! the bus. The push worker ([`worker`]) sends them, with retries, back-off and a rate limit
//! per user, and forgets subscriptions their push service says are gone.

mod payload;
mod worker;

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use self::{
    payload::{Job, first_line},
    worker::PushStats,
};
use super::{cache::Caches, receipts::Receipts};
use crate::{
    bus::{Bus, keys},
    config::PushConfig,
    error::{Error, Result},
    protocol::{
        calls::CallView,
        push::{MuteView, NotificationSettings, PushKey},
    },
    push::{Sender, Vapid, endpoint},
    store::{Message, PrefsChange, PushSubscription, Store, muted_always},
};

/// How long a node trusts its answer to "has this user a subscription?": a subscription
/// made on another node is seen within this time (its maker is online meanwhile anyway).
const SUBSCRIBED_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Push {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    caches: Arc<Caches>,
    receipts: Arc<Receipts>,
    config: PushConfig,
    /// `None` when `push.enabled` is off.
    sender: Option<Sender>,
    /// How long a call's push lives (the ring timeout).
    ring_ttl: u64,
    subscribed: Mutex<HashMap<Uuid, (bool, Instant)>>,
    stats: PushStats,
    consumer: String,
}

fn not_found() -> Error {
    Error::NotFound("no such conversation".into())
}

impl Push {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        caches: Arc<Caches>,
        receipts: Arc<Receipts>,
        config: PushConfig,
        vapid: Vapid,
        ring_ttl: Duration,
    ) -> anyhow::Result<Self> {
        let sender = match config.enabled {
            true => Some(Sender::new(vapid.with_subject(&config.subject), Duration::from_secs(config.timeout_secs))?),
            false => None,
        };
        Ok(Push {
            inner: Arc::new(Inner {
                store,
                bus,
                caches,
                receipts,
                config,
                sender,
                ring_ttl: ring_ttl.as_secs().max(1),
                subscribed: Mutex::default(),
                stats: PushStats::default(),
                consumer: format!("push-{}", Uuid::now_v7().simple()),
            }),
        })
    }

    pub fn stats(&self) -> &PushStats {
        &self.inner.stats
    }

    fn enabled(&self) -> Result<&Sender> {
        self.inner
            .sender
            .as_ref()
            .ok_or_else(|| Error::Conflict { code: "push_disabled", detail: "this server sends no pushes".into() })
    }

    // ----- the REST side ------------------------------------------------------------

    /// The VAPID public key browsers subscribe with.
    pub fn key(&self) -> PushKey {
        let key = self.inner.sender.as_ref().map(|s| s.vapid().public_key().to_string());
        PushKey { enabled: key.is_some(), public_key: key }
    }

    /// Store this browser's subscription for `me` (moving it from whoever had it).
    pub async fn subscribe(&self, me: Uuid, endpoint: &str, p256dh: &str, auth: &str) -> Result<Uuid> {
        self.enabled()?;
        endpoint::check_endpoint(endpoint, self.inner.config.allow_http_endpoints)
            .map_err(|e| Error::validation(e.0))?;
        endpoint::check_keys(p256dh, auth).map_err(|e| Error::validation(e.0))?;
        let now = Utc::now();
        let sub = PushSubscription {
            id: Uuid::now_v7(),
            user_id: me,
            endpoint: endpoint.to_string(),
            p256dh: p256dh.to_string(),
            auth: auth.to_string(),
            created_at: now,
        };
        let id = self.inner.store.save_push_subscription(&sub, self.inner.config.max_subscriptions).await?;
        self.remember(me, true);
        Ok(id)
    }

    /// Forget `me`'s subscription of this endpoint (also when there was none).
    pub async fn unsubscribe(&self, me: Uuid, endpoint: &str) -> Result<()> {
        self.inner.store.delete_push_subscription(me, endpoint).await?;
        self.forget(me);
        Ok(())
    }

    pub async fn settings(&self, me: Uuid) -> Result<NotificationSettings> {
        let prefs = self.inner.store.notification_prefs(me).await?;
        let now = Utc::now();
        let always = muted_always();
        Ok(NotificationSettings {
            hide_content: prefs.hide_content.unwrap_or(self.inner.config.hide_content),
            dnd_until: prefs.dnd_until.filter(|t| *t > now),
            mutes: prefs
                .mutes
                .into_iter()
                .filter(|(_, until)| *until > now)
                .map(|(conversation_id, until)| MuteView { conversation_id, until: (until < always).then_some(until) })
                .collect(),
        })
    }

    /// Change hide-content and do-not-disturb (`None` leaves a field as it is;
    /// `Some(None)` ends do-not-disturb).
    pub async fn update_settings(
        &self,
        me: Uuid,
        hide_content: Option<bool>,
        dnd_until: Option<Option<DateTime<Utc>>>,
    ) -> Result<NotificationSettings> {
        let change = PrefsChange { hide_content: hide_content.map(Some), dnd_until };
        self.inner.store.update_notification_prefs(me, &change).await?;
        self.settings(me).await
    }

    /// Mute a conversation of mine until `until` (`None`: always).
    pub async fn mute(&self, me: Uuid, conversation: Uuid, until: Option<DateTime<Utc>>) -> Result<MuteView> {
        if until.is_some_and(|t| t <= Utc::now()) {
            return Err(Error::validation("until: must be in the future (or null for always)"));
        }
        let stored = until.unwrap_or_else(muted_always);
        if !self.inner.store.set_mute(conversation, me, Some(stored)).await? {
            return Err(not_found());
        }
        Ok(MuteView { conversation_id: conversation, until })
    }

    pub async fn unmute(&self, me: Uuid, conversation: Uuid) -> Result<()> {
        match self.inner.store.set_mute(conversation, me, None).await? {
            true => Ok(()),
            false => Err(not_found()),
        }
    }

    // ----- deciding who gets a push -------------------------------------------------

    /// A batch of messages was stored and fanned out (`members`: each conversation's;
    /// `offline`: the recipients the fan-out found with no socket anywhere, `None` when it
    /// failed and presence must be asked). Queues the pushes it needs, in a task of its
    /// own: the caller never waits.
    pub fn messages_stored(
        &self,
        messages: Vec<Message>,
        members: &HashMap<Uuid, Vec<Uuid>>,
        offline: Option<HashSet<Uuid>>,
    ) {
        if self.inner.sender.is_none() {
            return;
        }
        let mut jobs: Vec<(Message, Vec<Uuid>)> = Vec::new();
        for m in messages {
            if m.kind != "text" {
                continue;
            }
            let to: Vec<Uuid> =
                members.get(&m.conversation_id).into_iter().flatten().copied().filter(|u| *u != m.sender_id).collect();
            if !to.is_empty() {
                jobs.push((m, to));
            }
        }
        if jobs.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.queue_messages(jobs, offline).await {
                tracing::warn!(error = %e, "deciding pushes failed");
            }
        });
    }

    async fn queue_messages(&self, jobs: Vec<(Message, Vec<Uuid>)>, offline: Option<HashSet<Uuid>>) -> Result<()> {
        let mut seen = HashSet::new();
        let users: Vec<Uuid> = jobs.iter().flat_map(|(_, to)| to.iter().copied()).filter(|u| seen.insert(*u)).collect();
        let offline: HashSet<Uuid> = match offline {
            Some(known) => users.into_iter().filter(|u| known.contains(u)).collect(),
            None => self.offline(&users).await?,
        };
        if offline.is_empty() {
            return Ok(());
        }
        let wanted = self.subscribed(&offline.into_iter().collect::<Vec<_>>()).await?;
        for (m, to) in jobs {
            let users: Vec<Uuid> = to.into_iter().filter(|u| wanted.contains(u)).collect();
            if users.is_empty() {
                continue;
            }
            let job = Job::Message {
                conversation_id: m.conversation_id,
                message_id: m.id,
                seq: m.seq,
                sender_id: m.sender_id,
                image: !m.attachments.is_empty(),
                mentions: m.mentions,
                body: m.body,
                sent_at: m.created_at,
                users,
            };
            self.enqueue(&job).await?;
        }
        Ok(())
    }

    /// A call is ringing `call.callee_id`: push it if none of their devices is connected.
    pub fn ringing(&self, call: &CallView) {
        if self.inner.sender.is_none() {
            return;
        }
        let job = Job::Call {
            call_id: call.call_id,
            conversation_id: call.conversation_id,
            caller_id: call.caller_id,
            callee_id: call.callee_id,
            sent_at: call.created_at,
        };
        let this = self.clone();
        let callee = call.callee_id;
        tokio::spawn(async move {
            let queued = async {
                if this.offline(&[callee]).await?.is_empty() || this.subscribed(&[callee]).await?.is_empty() {
                    return Ok(());
                }
                this.enqueue(&job).await
            };
            if let Err(e) = queued.await {
                tracing::warn!(error = %e, "queueing a call push failed");
            }
        });
    }

    async fn enqueue(&self, job: &Job) -> Result<()> {
        let payload = serde_json::to_vec(job).map_err(Error::internal)?;
        self.inner.bus.enqueue(keys::PUSH_STREAM, payload.into()).await?;
        self.inner.stats.queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Those of `users` with no socket open on any node.
    async fn offline(&self, users: &[Uuid]) -> Result<HashSet<Uuid>> {
        let sets: Vec<String> = users.iter().map(keys::presence).collect();
        let counts = self.inner.bus.live_counts(&sets).await?;
        Ok(users.iter().zip(counts).filter(|(_, n)| *n == 0).map(|(u, _)| *u).collect())
    }

    /// Those of `users` who have a subscription (cached for [`SUBSCRIBED_TTL`]).
    async fn subscribed(&self, users: &[Uuid]) -> Result<HashSet<Uuid>> {
        let now = Instant::now();
        let mut known = HashSet::new();
        let mut ask = Vec::new();
        {
            let cache = self.inner.subscribed.lock().unwrap_or_else(|p| p.into_inner());
            for u in users {
                match cache.get(u) {
                    Some((yes, at)) if now.duration_since(*at) < SUBSCRIBED_TTL => {
                        if *yes {
                            known.insert(*u);
                        }
                    }
                    _ => ask.push(*u),
                }
            }
        }
        if !ask.is_empty() {
            let found: HashSet<Uuid> = self.inner.store.users_with_push(&ask).await?.into_iter().collect();
            let mut cache = self.inner.subscribed.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 100_000 {
                cache.retain(|_, (_, at)| now.duration_since(*at) < SUBSCRIBED_TTL);
            }
            for u in ask {
                cache.insert(u, (found.contains(&u), now));
            }
            known.extend(found);
        }
        Ok(known)
    }

    fn remember(&self, user: Uuid, subscribed: bool) {
        self.inner.subscribed.lock().unwrap_or_else(|p| p.into_inner()).insert(user, (subscribed, Instant::now()));
    }

    fn forget(&self, user: Uuid) {
        self.inner.subscribed.lock().unwrap_or_else(|p| p.into_inner()).remove(&user);
    }
}

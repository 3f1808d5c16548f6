//! Pub/Sub of the Redis bus: `publish`, and the [`Hub`], the node's one subscriber
//! connection that every local subscription shares and that re-subscribes after a
//! reconnect.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use futures_util::StreamExt;
use redis::{AsyncCommands, Client};
use tokio::sync::mpsc;

use super::RedisBus;
use crate::bus::{BusError, BusResult, Subscription};

const SUBSCRIPTION_CAPACITY: usize = 8192;

/// A topic's local subscribers: id and the channel to each.
type Subscribers = Vec<(u64, mpsc::Sender<Bytes>)>;

pub(super) async fn publish(bus: &RedisBus, topic: &str, payload: Bytes) -> BusResult<()> {
    let _: i64 = bus.conn().publish(bus.key(topic), payload.as_ref()).await?;
    Ok(())
}

pub(super) async fn publish_many(bus: &RedisBus, messages: &[(String, Bytes)]) -> BusResult<()> {
    match messages {
        [] => Ok(()),
        [(topic, payload)] => publish(bus, topic, payload.clone()).await,
        _ => {
            let mut pipe = redis::pipe();
            for (topic, payload) in messages {
                pipe.publish(bus.key(topic), payload.as_ref()).ignore();
            }
            let _: () = pipe.query_async(&mut bus.conn()).await?;
            Ok(())
        }
    }
}

/// One Pub/Sub connection per node, shared by every local subscription. SUBSCRIBE and
/// UNSUBSCRIBE are issued under `sink`'s lock so they reach Redis in the order the local
/// subscriber set changed.
pub(super) struct Hub {
    prefix: String,
    next_id: AtomicU64,
    /// Local subscribers by topic.
    topics: Mutex<HashMap<String, Subscribers>>,
    sink: tokio::sync::Mutex<Option<redis::aio::PubSubSink>>,
}

impl Hub {
    pub(super) async fn start(client: Client, prefix: String) -> BusResult<Arc<Hub>> {
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

    /// One subscription to `topics`: their messages arrive on one channel in the order
    /// Redis sent them.
    pub(super) async fn subscribe(self: &Arc<Self>, topics: &[String]) -> BusResult<Subscription> {
        let (tx, rx) = mpsc::channel(SUBSCRIPTION_CAPACITY);
        let mut held = Vec::with_capacity(topics.len());
        let mut failed = None;
        let mut sink = self.sink.lock().await;
        for topic in topics {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let first = {
                let mut map = self.topics.lock().unwrap_or_else(|p| p.into_inner());
                let subs = map.entry(topic.clone()).or_default();
                subs.push((id, tx.clone()));
                subs.len() == 1
            };
            held.push((topic.clone(), id));
            if first
                && let Some(sink) = sink.as_mut()
                && let Err(e) = sink.subscribe(format!("{}{}", self.prefix, topic)).await
            {
                failed = Some(e);
                break;
            }
        }
        drop(sink);
        if let Some(e) = failed {
            // Dropping the guard takes back what was registered.
            drop(HubUnsubscribe { hub: Arc::downgrade(self), held });
            return Err(BusError::from(e));
        }
        let guard = HubUnsubscribe { hub: Arc::downgrade(self), held };
        Ok(Subscription { rx, _guard: Box::new(guard) })
    }
}

/// Held by a [`Subscription`]: dropping it removes the subscriber, and the last one of a
/// topic unsubscribes the node.
struct HubUnsubscribe {
    hub: std::sync::Weak<Hub>,
    /// Each topic with this subscriber's id in it.
    held: Vec<(String, u64)>,
}

impl Drop for HubUnsubscribe {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let held = std::mem::take(&mut self.held);
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            let mut sink = hub.sink.lock().await;
            for (topic, id) in held {
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
                if last && let Some(sink) = sink.as_mut() {
                    let _ = sink.unsubscribe(format!("{}{}", hub.prefix, topic)).await;
                }
            }
        });
    }
}

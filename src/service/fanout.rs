//! The fan-out that carries server events ([`ServerEvent`]) to the nodes of their
//! recipients.
//!
//! Services publish batches of [`Envelope`]s (recipients + one serialised event). The
//! fan-out looks up, in one bus round trip, which nodes hold sockets of the batch's
//! recipients (their presence sets, [`keys::presence_member`]), and publishes to each such
//! node, on its own topic [`keys::node_events`], only the envelopes for its users, with
//! the recipients cut to those users: a node receives what its sockets need, and a
//! recipient with no socket anywhere costs nothing. The publishes of a batch go in one
//! round trip. An envelope whose [`Effect`] every node must apply to its caches
//! (membership, the end of a call) goes to every node on [`keys::EVENTS_TOPIC`] instead.
//! Each node's dispatcher ([`super::dispatch`]) hands each event to its local sockets.
//! The event is serialised once, when the envelope is made; nodes and sockets share it.
//!
//! A socket counts in presence before its `ready` is sent, so an event stored after the
//! client's catch-up point is routed to the socket's node (no miss between the two).

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::Bytes;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::{
    bus::{Bus, keys},
    error::{Error, Result},
    protocol::ServerEvent,
};

/// What a node must update in its caches when an event passes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// The recipients joined the conversation.
    Joined { conversation_id: Uuid },
    /// The recipients left it.
    Left { conversation_id: Uuid },
    /// The conversation's members changed.
    MembersChanged { conversation_id: Uuid },
    /// The conversation's last `seq` is now at least this.
    Seq { conversation_id: Uuid, seq: i64 },
    /// A call between these two users ended: their TURN allocations go.
    CallEnded { caller: Uuid, callee: Uuid },
    /// An administrator disabled the account: every node refuses its access tokens and
    /// closes its sockets. A directive: the envelope's event is not delivered.
    UserDisabled { user_id: Uuid },
    /// The account was enabled again.
    UserEnabled { user_id: Uuid },
}

/// One event for a set of users, as it travels on the bus.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub to: Vec<Uuid>,
    /// When not empty, only these sockets (session ids) of the recipients get the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<Uuid>,
    /// These sockets of the recipients do not get it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    pub event: Box<RawValue>,
}

/// An envelope on its way to one node: the same fields, recipients cut to that node's.
#[derive(Serialize)]
struct Routed<'a> {
    to: &'a [Uuid],
    #[serde(skip_serializing_if = "<[Uuid]>::is_empty")]
    only: &'a [Uuid],
    #[serde(skip_serializing_if = "<[Uuid]>::is_empty")]
    except: &'a [Uuid],
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: &'a Option<Effect>,
    event: &'a RawValue,
}

impl<'a> Routed<'a> {
    fn of(env: &'a Envelope, to: &'a [Uuid]) -> Self {
        Routed { to, only: &env.only, except: &env.except, effect: &env.effect, event: &env.event }
    }
}

impl Effect {
    /// Whether every node must see it (it changes what a node's caches hold for users
    /// who may have no socket there, e.g. a REST caller).
    fn everywhere(&self) -> bool {
        !matches!(self, Effect::Seq { .. })
    }
}

impl Envelope {
    pub fn new(to: Vec<Uuid>, event: &ServerEvent) -> Self {
        let event = RawValue::from_string(serde_json::to_string(event).expect("events serialise")).expect("valid JSON");
        Envelope { to, only: Vec::new(), except: Vec::new(), effect: None, event }
    }

    /// Only to the sockets `sessions`.
    pub fn only(mut self, sessions: Vec<Uuid>) -> Self {
        self.only = sessions;
        self
    }

    /// Not to the sockets `sessions`.
    pub fn except(mut self, sessions: Vec<Uuid>) -> Self {
        self.except = sessions;
        self
    }

    /// An envelope that carries only `effect`, for every node (nothing is delivered).
    pub fn directive(effect: Effect) -> Self {
        let event = RawValue::from_string("null".into()).expect("valid JSON");
        Envelope { to: Vec::new(), only: Vec::new(), except: Vec::new(), effect: Some(effect), event }
    }

    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.effect = Some(effect);
        self
    }
}

/// Counters of this node's fan-out, for `/metrics` (and the tests that prove routing).
#[derive(Debug, Default)]
pub struct FanoutStats {
    /// Payloads published: one per node a batch went to, plus one per batch for every node.
    pub published: AtomicU64,
    /// Payloads this node's dispatcher received, and the envelopes in them.
    pub received: AtomicU64,
    pub received_envelopes: AtomicU64,
}

/// Publishes envelopes to the nodes of their recipients.
#[derive(Clone)]
pub struct Fanout {
    bus: Arc<dyn Bus>,
    pub stats: Arc<FanoutStats>,
}

impl Fanout {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Self { bus, stats: Arc::default() }
    }

    pub async fn publish(&self, envelopes: &[Envelope]) -> Result<()> {
        self.publish_located(envelopes).await.map(|_| ())
    }

    /// [`Fanout::publish`], returning the recipients of the routed envelopes that have no
    /// socket on any node (found on the way: the push service needs them, and asking
    /// presence again would cost a second round trip).
    pub async fn publish_located(&self, envelopes: &[Envelope]) -> Result<HashSet<Uuid>> {
        let mut offline = HashSet::new();
        if envelopes.is_empty() {
            return Ok(offline);
        }
        let (everywhere, routed): (Vec<&Envelope>, Vec<&Envelope>) =
            envelopes.iter().partition(|e| e.effect.is_some_and(|x| x.everywhere()));
        let mut out: Vec<(String, Bytes)> = Vec::new();
        if !everywhere.is_empty() {
            let all: Vec<Routed> = everywhere.iter().map(|e| Routed::of(e, &e.to)).collect();
            out.push((keys::EVENTS_TOPIC.to_string(), encode(&all)?));
        }
        if !routed.is_empty() {
            let nodes = self.locate(&routed).await?;
            offline.extend(routed.iter().flat_map(|e| e.to.iter()).filter(|u| !nodes.contains_key(u)));
            // Per node: each envelope with its recipients on that node.
            let mut per_node: HashMap<Uuid, Vec<(usize, Vec<Uuid>)>> = HashMap::new();
            for (i, env) in routed.iter().enumerate() {
                let mut cut: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
                for user in &env.to {
                    for node in nodes.get(user).into_iter().flatten() {
                        cut.entry(*node).or_default().push(*user);
                    }
                }
                for (node, to) in cut {
                    per_node.entry(node).or_default().push((i, to));
                }
            }
            for (node, list) in &per_node {
                let batch: Vec<Routed> = list.iter().map(|(i, to)| Routed::of(routed[*i], to)).collect();
                out.push((keys::node_events(node), encode(&batch)?));
            }
        }
        self.bus.publish_many(&out).await?;
        self.stats.published.fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(offline)
    }

    /// The nodes with sockets of each recipient of `envelopes` (users with none are absent).
    async fn locate(&self, envelopes: &[&Envelope]) -> Result<HashMap<Uuid, Vec<Uuid>>> {
        let mut seen = HashSet::new();
        let users: Vec<Uuid> =
            envelopes.iter().flat_map(|e| e.to.iter().copied()).filter(|u| seen.insert(*u)).collect();
        let sets: Vec<String> = users.iter().map(keys::presence).collect();
        let members = self.bus.live_members(&sets).await?;
        let mut nodes = HashMap::new();
        for (user, members) in users.into_iter().zip(members) {
            let mut list: Vec<Uuid> = members.iter().filter_map(|m| keys::member_node(m)).collect();
            if list.is_empty() {
                continue;
            }
            list.sort_unstable();
            list.dedup();
            nodes.insert(user, list);
        }
        Ok(nodes)
    }

    pub async fn send(&self, to: Vec<Uuid>, event: &ServerEvent) -> Result<()> {
        self.publish(&[Envelope::new(to, event)]).await
    }
}

fn encode(batch: &[Routed]) -> Result<Bytes> {
    Ok(serde_json::to_vec(batch).map_err(Error::internal)?.into())
}

/// Parse a published batch.
pub fn decode(payload: &[u8]) -> Option<Vec<Envelope>> {
    serde_json::from_slice(payload).ok()
}

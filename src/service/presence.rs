//! Presence: a user is online while any of their devices is connected to any node.
//!
//! Each connected socket is a member of its user's live set on the bus
//! ([`keys::presence`]), named by node and session ([`keys::presence_member`]), so the
//! set also tells the fan-out which nodes to send the user's events to. Every node
//! refreshes its sockets, the users it serves ([`keys::node_users`]) and itself
//! ([`keys::PRESENCE_NODES`]) every third of `presence.ttl_secs`; entries live two
//! refreshes. The first device in and the last device out announce `presence` to everyone
//! who shares a conversation with the user.
//!
//! A node that dies stops refreshing. Every node looks for dead nodes twice per refresh
//! ([`Presence::sweep`]); the one that takes a dead node's entry (each is taken once)
//! announces offline every user whose last device was there. So a dead node's users are
//! offline, and told so, within `presence.ttl_secs`.

use std::{collections::HashSet, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fanout::Fanout;
use crate::{
    bus::{Bus, keys},
    error::Result,
    protocol::{ServerEvent, views::PresenceView},
    store::Store,
};

const LAST_SEEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

#[derive(Clone)]
pub struct Presence {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    /// This node.
    node: Uuid,
    /// `presence.ttl_secs`.
    ttl: Duration,
}

impl Presence {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, fanout: Fanout, node: Uuid, ttl: Duration) -> Self {
        Self { store, bus, fanout, node, ttl }
    }

    /// This node, as presence names it.
    pub fn node(&self) -> Uuid {
        self.node
    }

    /// How often this node refreshes its entries.
    pub fn heartbeat_every(&self) -> Duration {
        (self.ttl / 3).max(Duration::from_millis(500))
    }

    /// How long a socket's or a node's entry lives without a refresh: two refreshes.
    fn entry_ttl(&self) -> Duration {
        self.heartbeat_every() * 2
    }

    /// How long a node remembers a user it served: long enough for whoever sweeps the
    /// node after its death to find them.
    fn users_ttl(&self) -> Duration {
        self.ttl * 10
    }

    pub async fn connected(&self, user: Uuid, session: Uuid) -> Result<()> {
        // The node's record of the user first: if the node dies right after, its sweeper
        // still finds the user.
        self.bus.live_add(&keys::node_users(&self.node), &user.to_string(), self.users_ttl()).await?;
        let member = keys::presence_member(&self.node, &session);
        let live = self.bus.live_add(&keys::presence(&user), &member, self.entry_ttl()).await?;
        // Then the node, so that its entry outlives this socket's: a sweeper that finds
        // the node dead finds the socket's entry expired.
        self.bus.live_add(keys::PRESENCE_NODES, &self.node.to_string(), self.entry_ttl()).await?;
        if live == 1 {
            self.announce(user, true, None).await?;
        }
        Ok(())
    }

    pub async fn disconnected(&self, user: Uuid, session: Uuid) -> Result<()> {
        let member = keys::presence_member(&self.node, &session);
        let live = self.bus.live_remove(&keys::presence(&user), &member).await?;
        if live == 0 {
            self.went_offline(user).await?;
        }
        Ok(())
    }

    async fn went_offline(&self, user: Uuid) -> Result<()> {
        let now = Utc::now();
        self.bus.set(&keys::last_seen(&user), &now.to_rfc3339(), LAST_SEEN_TTL).await?;
        self.announce(user, false, Some(now)).await
    }

    /// Refresh this node's sockets `(user, session)`, its users and itself, in that order
    /// (the node's own entry outlives its sockets', so a sweeper that finds the node dead
    /// finds its sockets expired). Called before serving with no sockets, to show the node.
    pub async fn heartbeat(&self, sessions: &[(Uuid, Uuid)]) -> Result<()> {
        let devices: Vec<(String, String)> =
            sessions.iter().map(|(u, s)| (keys::presence(u), keys::presence_member(&self.node, s))).collect();
        self.bus.live_add_many(&devices, self.entry_ttl()).await?;
        let users: HashSet<Uuid> = sessions.iter().map(|(u, _)| *u).collect();
        let set = keys::node_users(&self.node);
        let users: Vec<(String, String)> = users.into_iter().map(|u| (set.clone(), u.to_string())).collect();
        self.bus.live_add_many(&users, self.users_ttl()).await?;
        self.bus.live_add(keys::PRESENCE_NODES, &self.node.to_string(), self.entry_ttl()).await?;
        Ok(())
    }

    /// Take the nodes that stopped refreshing and announce offline each of their users
    /// who has no device left anywhere. Returns how many users went offline.
    pub async fn sweep(&self) -> Result<usize> {
        let mut offline = 0;
        for dead in self.bus.live_take_expired(keys::PRESENCE_NODES).await? {
            let Ok(node) = Uuid::try_parse(&dead) else { continue };
            if node == self.node {
                // This node was late with its own refresh; it is alive, and refreshes.
                continue;
            }
            let set = keys::node_users(&node);
            let users = self.bus.live_members(std::slice::from_ref(&set)).await?.pop().unwrap_or_default();
            let mut lost = Vec::new();
            for user in users.iter().filter_map(|u| Uuid::try_parse(u).ok()) {
                let gone = self.bus.live_take_expired(&keys::presence(&user)).await?;
                if gone.iter().any(|m| keys::member_node(m) == Some(node)) {
                    lost.push(user);
                }
            }
            let sets: Vec<String> = lost.iter().map(keys::presence).collect();
            let counts = self.bus.live_counts(&sets).await?;
            for (user, n) in lost.into_iter().zip(counts) {
                if n == 0 {
                    self.went_offline(user).await?;
                    offline += 1;
                }
            }
            self.bus.delete(&set).await?;
            tracing::warn!(%node, offline, "a node stopped; its users are offline");
        }
        Ok(offline)
    }

    async fn announce(&self, user: Uuid, online: bool, last_seen: Option<DateTime<Utc>>) -> Result<()> {
        let contacts = self.store.contacts_of(user).await?;
        if contacts.is_empty() {
            return Ok(());
        }
        self.fanout.send(contacts, &ServerEvent::Presence(PresenceView { user_id: user, online, last_seen })).await
    }

    /// Presence of everyone who shares a conversation with `user`.
    pub async fn snapshot(&self, user: Uuid) -> Result<Vec<PresenceView>> {
        let contacts = self.store.contacts_of(user).await?;
        self.of(&contacts).await
    }

    pub async fn of(&self, users: &[Uuid]) -> Result<Vec<PresenceView>> {
        let sets: Vec<String> = users.iter().map(keys::presence).collect();
        let live = self.bus.live_counts(&sets).await?;
        let mut out = Vec::with_capacity(users.len());
        for (u, n) in users.iter().zip(live) {
            let last_seen = if n > 0 {
                None
            } else {
                self.bus
                    .get(&keys::last_seen(u))
                    .await?
                    .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                    .map(|t| t.with_timezone(&Utc))
            };
            out.push(PresenceView { user_id: *u, online: n > 0, last_seen });
        }
        Ok(out)
    }
}

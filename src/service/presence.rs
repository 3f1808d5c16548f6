//! Presence: a user is online while any of their devices is connected to any node.
//!
//! Each connected socket is a member of the user's live set on the bus
//! ([`keys::presence`]), touched by its node every [`HEARTBEAT`]; a node that dies stops
//! touching, and its sockets fall out after [`TTL`]. The first device in and the last
//! device out announce `presence` to everyone who shares a conversation with the user.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::fanout::Fanout;
use crate::{
    bus::{Bus, keys},
    error::Result,
    protocol::{ServerEvent, views::PresenceView},
    store::Store,
};

/// How long a device counts as connected without a heartbeat.
pub const TTL: Duration = Duration::from_secs(60);
/// How often a node touches its sockets.
pub const HEARTBEAT: Duration = Duration::from_secs(20);
const LAST_SEEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

#[derive(Clone)]
pub struct Presence {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
}

impl Presence {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, fanout: Fanout) -> Self {
        Self { store, bus, fanout }
    }

    pub async fn connected(&self, user: Uuid, session: Uuid) -> Result<()> {
        let live = self.bus.live_add(&keys::presence(&user), &session.to_string(), TTL).await?;
        if live == 1 {
            self.announce(user, true, None).await?;
        }
        Ok(())
    }

    pub async fn disconnected(&self, user: Uuid, session: Uuid) -> Result<()> {
        let live = self.bus.live_remove(&keys::presence(&user), &session.to_string()).await?;
        if live == 0 {
            let now = Utc::now();
            self.bus.set(&keys::last_seen(&user), &now.to_rfc3339(), LAST_SEEN_TTL).await?;
            self.announce(user, false, Some(now)).await?;
        }
        Ok(())
    }

    /// Keep this node's sockets alive in their users' live sets.
    pub async fn heartbeat(&self, sessions: &[(Uuid, Uuid)]) {
        for (user, session) in sessions {
            if let Err(e) = self.bus.live_add(&keys::presence(user), &session.to_string(), TTL).await {
                tracing::warn!(error = %e, "presence heartbeat failed");
                return;
            }
        }
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

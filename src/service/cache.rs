//! Per-node caches that keep per-message work off the database: the members of each
//! conversation (who may send, who receives typing and receipts) and each conversation's
//! last `seq` (the bound for receipts). Every node sees every fan-out envelope, and each
//! envelope's [`Effect`] updates or invalidates these caches; entries also expire, so a
//! missed invalidation heals. The database remains the authority: the message worker
//! re-checks membership in the same transaction that stores a batch.
//!
//! The disabled accounts ([`DisabledUsers`]) are the one cache that is complete rather
//! than a subset: loaded at start-up, changed by the `UserDisabled` / `UserEnabled`
//! effects, and reloaded every [`DISABLED_RELOAD`] (`jobs`) so that a missed effect heals.
//! Every authenticated request checks it, without a database round trip.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::fanout::Effect;
use crate::{error::Result, store::Store};

const MEMBERS_TTL: Duration = Duration::from_secs(30);
/// Past this many entries a cache starts over (bounded memory on big servers).
const MAX_ENTRIES: usize = 100_000;

/// How often each node reloads the disabled accounts from the database.
pub const DISABLED_RELOAD: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Caches {
    members: Mutex<HashMap<Uuid, (Arc<Vec<Uuid>>, Instant)>>,
    last_seq: Mutex<HashMap<Uuid, i64>>,
    pub disabled: DisabledUsers,
}

/// The accounts an administrator disabled, as this node knows them.
#[derive(Default)]
pub struct DisabledUsers {
    users: RwLock<HashSet<Uuid>>,
    /// Bumped by every change, so a reload that raced with one is dropped (it may predate it).
    version: AtomicU64,
}

impl DisabledUsers {
    pub fn contains(&self, user: Uuid) -> bool {
        self.users.read().unwrap_or_else(|p| p.into_inner()).contains(&user)
    }

    pub fn set(&self, user: Uuid, disabled: bool) {
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        self.version.fetch_add(1, Ordering::AcqRel);
        if disabled {
            users.insert(user);
        } else {
            users.remove(&user);
        }
    }

    /// Replace the set with the database's; false if a change came in meanwhile (the
    /// next reload catches up).
    pub async fn reload(&self, store: &dyn Store) -> Result<bool> {
        let before = self.version.load(Ordering::Acquire);
        let fresh: HashSet<Uuid> = store.disabled_users().await?.into_iter().collect();
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        if self.version.load(Ordering::Acquire) != before {
            return Ok(false);
        }
        *users = fresh;
        Ok(true)
    }
}

impl Caches {
    /// Members of a conversation (empty if it does not exist).
    pub async fn members(&self, store: &dyn Store, conversation: Uuid) -> Result<Arc<Vec<Uuid>>> {
        if let Some((m, at)) = self.members.lock().unwrap_or_else(|p| p.into_inner()).get(&conversation) {
            if at.elapsed() < MEMBERS_TTL {
                return Ok(m.clone());
            }
        }
        let rows = store.members_of(&[conversation]).await?;
        let members: Arc<Vec<Uuid>> = Arc::new(rows.into_iter().map(|(_, m)| m.user.id).collect());
        let mut cache = self.members.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(conversation, (members.clone(), Instant::now()));
        Ok(members)
    }

    pub async fn is_member(&self, store: &dyn Store, conversation: Uuid, user: Uuid) -> Result<bool> {
        Ok(self.members(store, conversation).await?.contains(&user))
    }

    /// The conversation's last `seq`, at least `at_least` if that is still consistent with
    /// the database (a cached value lower than asked for is refreshed once).
    pub async fn last_seq(&self, store: &dyn Store, conversation: Uuid, at_least: i64) -> Result<i64> {
        let cached = self.last_seq.lock().unwrap_or_else(|p| p.into_inner()).get(&conversation).copied();
        if let Some(seq) = cached {
            if seq >= at_least {
                return Ok(seq);
            }
        }
        let seq = store.conversation(conversation).await?.map(|c| c.last_seq).unwrap_or(0);
        self.note_seq(conversation, seq);
        Ok(seq)
    }

    fn note_seq(&self, conversation: Uuid, seq: i64) {
        let mut cache = self.last_seq.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        let slot = cache.entry(conversation).or_insert(seq);
        *slot = (*slot).max(seq);
    }

    /// Apply what an envelope says changed.
    pub fn apply(&self, effect: &Effect) {
        match *effect {
            Effect::Joined { conversation_id }
            | Effect::Left { conversation_id }
            | Effect::MembersChanged { conversation_id } => {
                self.members.lock().unwrap_or_else(|p| p.into_inner()).remove(&conversation_id);
            }
            Effect::Seq { conversation_id, seq } => self.note_seq(conversation_id, seq),
            Effect::CallEnded { .. } => {}
            Effect::UserDisabled { user_id } => self.disabled.set(user_id, true),
            Effect::UserEnabled { user_id } => self.disabled.set(user_id, false),
        }
    }
}

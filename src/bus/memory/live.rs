//! Live sets of the in-process bus, kept the way the Redis bus keeps them: each member
//! with its expiry; an expired member is neither counted nor listed but stays until
//! [`State::live_take_expired`] takes it or the whole set expires, twice the last `ttl`
//! after its last add (the Redis key's `PEXPIRE`).

use std::{collections::HashMap, time::Duration};

use tokio::time::Instant;

use super::State;

#[derive(Default)]
pub(super) struct LiveSet {
    members: HashMap<String, Instant>,
    /// When the set itself goes, unless added to again.
    pub(super) until: Option<Instant>,
}

impl LiveSet {
    fn count(&self, now: Instant) -> u64 {
        self.members.values().filter(|exp| **exp > now).count() as u64
    }
}

impl State {
    fn live_set(&self, set: &str, now: Instant) -> Option<&LiveSet> {
        self.live.get(set).filter(|s| s.until.is_none_or(|u| u > now))
    }

    /// Add or refresh `member` for `ttl`; the live count after.
    pub(super) fn live_add(&mut self, set: &str, member: &str, ttl: Duration) -> u64 {
        let now = Instant::now();
        let entry = self.live.entry(set.to_string()).or_default();
        if entry.until.is_some_and(|u| u <= now) {
            *entry = LiveSet::default();
        }
        entry.members.insert(member.to_string(), now + ttl);
        entry.until = Some(now + ttl * 2);
        entry.count(now)
    }

    /// Remove `member`; the live count after.
    pub(super) fn live_remove(&mut self, set: &str, member: &str) -> u64 {
        let now = Instant::now();
        let Some(entry) = self.live.get_mut(set) else { return 0 };
        entry.members.remove(member);
        let n = entry.count(now);
        if entry.members.is_empty() {
            self.live.remove(set);
        }
        n
    }

    pub(super) fn live_count(&self, set: &str) -> u64 {
        let now = Instant::now();
        self.live_set(set, now).map(|s| s.count(now)).unwrap_or(0)
    }

    pub(super) fn live_members(&self, set: &str) -> Vec<String> {
        let now = Instant::now();
        self.live_set(set, now)
            .map(|s| s.members.iter().filter(|(_, exp)| **exp > now).map(|(k, _)| k.clone()).collect())
            .unwrap_or_default()
    }

    pub(super) fn live_take_expired(&mut self, set: &str) -> Vec<String> {
        let now = Instant::now();
        if self.live_set(set, now).is_none() {
            self.live.remove(set);
            return Vec::new();
        }
        let Some(entry) = self.live.get_mut(set) else { return Vec::new() };
        let expired: Vec<String> =
            entry.members.iter().filter(|(_, exp)| **exp <= now).map(|(k, _)| k.clone()).collect();
        for k in &expired {
            entry.members.remove(k);
        }
        if entry.members.is_empty() {
            self.live.remove(set);
        }
        expired
    }
}

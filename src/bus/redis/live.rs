//! Live sets on the Redis bus: a sorted set per set whose scores are the members' expiry,
//! in ms of Redis' own clock, so every node agrees on which members are still live.

use std::time::Duration;

use super::RedisBus;
use crate::bus::BusResult;

pub(super) async fn add(bus: &RedisBus, set: &str, member: &str, ttl: Duration) -> BusResult<u64> {
    Ok(bus
        .scripts
        .live_add
        .key(bus.key(set))
        .arg(member)
        .arg(ttl.as_millis().max(1) as u64)
        .invoke_async(&mut bus.conn())
        .await?)
}

pub(super) async fn remove(bus: &RedisBus, set: &str, member: &str) -> BusResult<u64> {
    Ok(bus.scripts.live_remove.key(bus.key(set)).arg(member).invoke_async(&mut bus.conn()).await?)
}

pub(super) async fn counts(bus: &RedisBus, sets: &[String]) -> BusResult<Vec<u64>> {
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let mut inv = bus.scripts.live_count.prepare_invoke();
    for s in sets {
        inv.key(bus.key(s));
    }
    Ok(inv.invoke_async(&mut bus.conn()).await?)
}

//! Live sets on the Redis bus: a sorted set per set whose scores are the members' expiry,
//! in ms of Redis' own clock, so every node agrees on which members are still live. An
//! expired member is not counted or listed; it stays until `take_expired` takes it or the
//! key expires (twice the ttl after the last add).

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

/// Sets per script call: keeps one call's arguments, and Redis' time in it, small.
const CHUNK: usize = 1000;

pub(super) async fn members(bus: &RedisBus, sets: &[String]) -> BusResult<Vec<Vec<String>>> {
    let mut out = Vec::with_capacity(sets.len());
    for chunk in sets.chunks(CHUNK) {
        let mut inv = bus.scripts.live_members.prepare_invoke();
        for s in chunk {
            inv.key(bus.key(s));
        }
        let part: Vec<Vec<String>> = inv.invoke_async(&mut bus.conn()).await?;
        out.extend(part);
    }
    Ok(out)
}

pub(super) async fn add_many(bus: &RedisBus, entries: &[(String, String)], ttl: Duration) -> BusResult<()> {
    for chunk in entries.chunks(CHUNK) {
        let mut inv = bus.scripts.live_add_many.prepare_invoke();
        inv.arg(ttl.as_millis().max(1) as u64);
        for (set, member) in chunk {
            inv.key(bus.key(set)).arg(member);
        }
        let _: i64 = inv.invoke_async(&mut bus.conn()).await?;
    }
    Ok(())
}

pub(super) async fn take_expired(bus: &RedisBus, set: &str) -> BusResult<Vec<String>> {
    Ok(bus.scripts.live_take_expired.key(bus.key(set)).invoke_async(&mut bus.conn()).await?)
}

//! Single keys that expire, on the Redis bus: keys with expiry (dedupe, claims), locks
//! (`SET NX PX` with a random token, released by compare-and-delete), and the GCRA rate
//! limiter (the theoretical arrival time, in µs of Redis' own clock).

use std::time::Duration;

use redis::AsyncCommands;

use super::RedisBus;
use crate::bus::{BusResult, Quota, RateDecision, new_token};

pub(super) async fn put_if_absent(bus: &RedisBus, key: &str, value: &str, ttl: Duration) -> BusResult<Option<String>> {
    Ok(bus
        .scripts
        .put_if_absent
        .key(bus.key(key))
        .arg(value)
        .arg(ttl.as_millis().max(1) as u64)
        .invoke_async(&mut bus.conn())
        .await?)
}

pub(super) async fn get(bus: &RedisBus, key: &str) -> BusResult<Option<String>> {
    Ok(bus.conn().get(bus.key(key)).await?)
}

pub(super) async fn set(bus: &RedisBus, key: &str, value: &str, ttl: Duration) -> BusResult<()> {
    let _: () = bus.conn().pset_ex(bus.key(key), value, ttl.as_millis().max(1) as u64).await?;
    Ok(())
}

pub(super) async fn delete(bus: &RedisBus, key: &str) -> BusResult<()> {
    let _: i64 = bus.conn().del(bus.key(key)).await?;
    Ok(())
}

pub(super) async fn delete_if_eq(bus: &RedisBus, key: &str, value: &str) -> BusResult<bool> {
    // The lock release script is exactly "compare, then delete".
    let n: i64 = bus.scripts.unlock.key(bus.key(key)).arg(value).invoke_async(&mut bus.conn()).await?;
    Ok(n == 1)
}

pub(super) async fn try_lock(bus: &RedisBus, name: &str, ttl: Duration) -> BusResult<Option<String>> {
    let token = new_token();
    let ok: Option<String> = redis::cmd("SET")
        .arg(bus.key(name))
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis().max(1) as u64)
        .query_async(&mut bus.conn())
        .await?;
    Ok(ok.map(|_| token))
}

pub(super) async fn unlock(bus: &RedisBus, name: &str, token: &str) -> BusResult<bool> {
    let n: i64 = bus.scripts.unlock.key(bus.key(name)).arg(token).invoke_async(&mut bus.conn()).await?;
    Ok(n == 1)
}

pub(super) async fn rate_limit(bus: &RedisBus, key: &str, quota: Quota) -> BusResult<RateDecision> {
    let wait_us: u64 = bus
        .scripts
        .gcra
        .key(bus.key(key))
        .arg(quota.emission_us())
        .arg(quota.tolerance_us())
        .invoke_async(&mut bus.conn())
        .await?;
    Ok(if wait_us == 0 {
        RateDecision::Allowed
    } else {
        RateDecision::Limited { retry_after: Duration::from_micros(wait_us) }
    })
}

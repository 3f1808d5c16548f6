//! The max-wins buffer on the Redis bus: the hash `<buffer>` of dirty entries and
//! `<buffer>:flushing`, the batch being flushed, which survives an interrupted flush.

use std::collections::HashMap;

use redis::AsyncCommands;

use super::RedisBus;
use crate::bus::BusResult;

/// The batch being flushed.
fn flushing_key(buffer: &str) -> String {
    format!("{buffer}:flushing")
}

pub(super) async fn max(bus: &RedisBus, buffer: &str, field: &str, value: i64) -> BusResult<i64> {
    Ok(bus.scripts.max.key(bus.key(buffer)).arg(field).arg(value).invoke_async(&mut bus.conn()).await?)
}

pub(super) async fn max_many(bus: &RedisBus, buffer: &str, entries: &[(String, i64)]) -> BusResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut inv = bus.scripts.max_many.prepare_invoke();
    inv.key(bus.key(buffer));
    for (field, value) in entries {
        inv.arg(field).arg(*value);
    }
    let _: i64 = inv.invoke_async(&mut bus.conn()).await?;
    Ok(())
}

pub(super) async fn get(bus: &RedisBus, buffer: &str, fields: &[String]) -> BusResult<Vec<Option<i64>>> {
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    let (dirty, flushing): (Vec<Option<i64>>, Vec<Option<i64>>) = redis::pipe()
        .cmd("HMGET")
        .arg(bus.key(buffer))
        .arg(fields)
        .cmd("HMGET")
        .arg(bus.key(&flushing_key(buffer)))
        .arg(fields)
        .query_async(&mut bus.conn())
        .await?;
    Ok(dirty.into_iter().zip(flushing).map(|(a, b)| a.max(b)).collect())
}

pub(super) async fn take(bus: &RedisBus, buffer: &str) -> BusResult<Vec<(String, i64)>> {
    let map: HashMap<String, i64> =
        bus.scripts.take.key(bus.key(buffer)).key(bus.key(&flushing_key(buffer))).invoke_async(&mut bus.conn()).await?;
    Ok(map.into_iter().collect())
}

pub(super) async fn done(bus: &RedisBus, buffer: &str) -> BusResult<()> {
    let _: i64 = bus.conn().del(bus.key(&flushing_key(buffer))).await?;
    Ok(())
}

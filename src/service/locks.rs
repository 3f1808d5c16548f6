//! A bus lock held by a service while it reads, decides and writes one record (a call, a
//! group call): taken with a short wait, released by compare-and-delete (its token), and
//! left to expire if the release fails.

use std::time::Duration;

use crate::{
    bus::Bus,
    error::{Error, Result},
};

/// How long a holder may keep the lock before it expires on its own.
const TTL: Duration = Duration::from_secs(5);
/// How long to wait for a busy lock before giving up (`unavailable`).
const WAIT: Duration = Duration::from_secs(3);

/// A lock taken by [`acquire`].
pub struct Held {
    name: String,
    token: String,
}

/// Take the lock `name`, waiting up to 3 s; `busy` is the error's text when it stays taken.
pub async fn acquire(bus: &dyn Bus, name: String, busy: &str) -> Result<Held> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(token) = bus.try_lock(&name, TTL).await? {
            return Ok(Held { name, token });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Unavailable(busy.into()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub async fn release(bus: &dyn Bus, held: Held) {
    if let Err(e) = bus.unlock(&held.name, &held.token).await {
        tracing::warn!(error = %e, lock = %held.name, "lock not released (it expires)");
    }
}

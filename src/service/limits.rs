//! Rate limits, one way for every service: a request over its quota is `rate_limited`
//! with the time until a retry may succeed. The counters live on the bus, so a limit holds
//! across the nodes of a cluster; when the bus cannot be reached the request fails with
//! `unavailable` (see [`crate::error`]: every bus failure does), never passes unchecked.

use crate::{
    bus::{Bus, Quota, RateDecision},
    error::{Error, Result},
};

/// Count one request against `key`'s quota.
pub async fn check(bus: &dyn Bus, key: &str, quota: Quota) -> Result<()> {
    match bus.rate_limit(key, quota).await? {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => {
            Err(Error::RateLimited { retry_after_ms: retry_after.as_millis().max(1) as u64 })
        }
    }
}

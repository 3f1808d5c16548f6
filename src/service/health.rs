//! Readiness: whether the parts this node depends on (the database and the bus) answer
//! within [`PROBE_TIMEOUT`]. Both are asked at once, so a slow one costs the timeout once.

use std::{sync::Arc, time::Duration};

use crate::{bus::Bus, store::Store};

pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub struct Health {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
}

/// What a readiness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub database_ok: bool,
    /// `memory` or `redis`.
    pub bus: &'static str,
    pub bus_ok: bool,
}

impl Health {
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>) -> Self {
        Self { store, bus }
    }

    pub async fn readiness(&self) -> Readiness {
        let (db, bus) = tokio::join!(
            tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()),
            tokio::time::timeout(PROBE_TIMEOUT, self.bus.ping())
        );
        Readiness {
            database: self.store.backend(),
            database_ok: matches!(db, Ok(Ok(()))),
            bus: self.bus.backend(),
            bus_ok: matches!(bus, Ok(Ok(()))),
        }
    }
}

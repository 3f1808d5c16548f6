//! A call as kept on the bus ([`Record`]), the deadline it is due at, and the locked
//! read-modify-write every change goes through ([`Calls::with_call`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Calls;
use crate::{
    bus::keys,
    config::CallsConfig,
    error::{Error, Result},
    protocol::calls::{CallView, EndReason, Phase},
    service::locks::{self, Held},
};

/// A call as kept on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) call: CallView,
    pub(super) connecting_at: Option<DateTime<Utc>>,
    /// Since when the side's socket is gone (reconnect grace running).
    pub(super) caller_away: Option<DateTime<Utc>>,
    pub(super) callee_away: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Caller,
    Callee,
}

impl Record {
    /// The first deadline still ahead of this call, and how it ends there.
    pub(super) fn deadline(&self, cfg: &CallsConfig) -> Option<(DateTime<Utc>, EndReason)> {
        let secs = |s: u64| chrono::Duration::seconds(s as i64);
        let mut out: Option<(DateTime<Utc>, EndReason)> = None;
        let mut consider = |at: DateTime<Utc>, reason| {
            if out.is_none_or(|(t, _)| at < t) {
                out = Some((at, reason));
            }
        };
        match self.call.state {
            Phase::Ended => return None,
            Phase::Ringing => consider(self.call.created_at + secs(cfg.ring_timeout_secs), EndReason::Missed),
            Phase::Connecting => {
                let since = self.connecting_at.unwrap_or(self.call.created_at);
                consider(since + secs(cfg.connect_timeout_secs), EndReason::Failed)
            }
            Phase::Active => {}
        }
        for away in [self.caller_away, self.callee_away].into_iter().flatten() {
            consider(away + secs(cfg.reconnect_grace_secs), EndReason::ConnectionLost);
        }
        out
    }

    pub(super) fn side_of(&self, user: Uuid) -> Result<Side> {
        if user == self.call.caller_id {
            Ok(Side::Caller)
        } else if user == self.call.callee_id {
            Ok(Side::Callee)
        } else {
            Err(call_not_found())
        }
    }

    pub(super) fn session(&self, side: Side) -> Option<Uuid> {
        match side {
            Side::Caller => self.call.caller_session,
            Side::Callee => self.call.callee_session,
        }
    }

    /// The side of `user` if `session` is that side's socket in the call.
    pub(super) fn bound_side(&self, user: Uuid, session: Uuid) -> Result<Side> {
        let side = self.side_of(user)?;
        if self.session(side) == Some(session) { Ok(side) } else { Err(call_not_found()) }
    }

    pub(super) fn other(&self, side: Side) -> (Uuid, Option<Uuid>) {
        match side {
            Side::Caller => (self.call.callee_id, self.call.callee_session),
            Side::Callee => (self.call.caller_id, self.call.caller_session),
        }
    }
}

pub(super) fn call_not_found() -> Error {
    Error::invalid("call_not_found", "no such call (or you are not in it)")
}

pub(super) fn invalid_state(detail: impl Into<String>) -> Error {
    Error::Conflict { code: "call_invalid_state", detail: detail.into() }
}

/// For background upkeep: a call that is gone or over needs nothing more.
pub(super) fn ignore_gone(e: Error) -> Result<()> {
    if matches!(e.code(), "call_not_found" | "call_invalid_state") { Ok(()) } else { Err(e) }
}

impl Calls {
    /// Run `f` on the call under its lock; a deadline that has passed (its timer's node
    /// died) is applied first, and then the call has ended.
    pub(super) async fn with_call<T>(&self, call_id: Uuid, f: impl AsyncFnOnce(Record) -> Result<T>) -> Result<T> {
        self.with_call_raw(call_id, async |rec| match rec.deadline(&self.config) {
            Some((at, reason)) if at <= Utc::now() => {
                self.end(rec, reason).await?;
                Err(invalid_state("the call has ended"))
            }
            _ => f(rec).await,
        })
        .await
    }

    /// Run `f` on the call as stored, under its lock.
    pub(super) async fn with_call_raw<T>(&self, call_id: Uuid, f: impl AsyncFnOnce(Record) -> Result<T>) -> Result<T> {
        let held = self.lock(keys::call_lock(&call_id)).await?;
        let result = match self.load(call_id).await {
            Ok(Some(rec)) => f(rec).await,
            Ok(None) => Err(call_not_found()),
            Err(e) => Err(e),
        };
        self.release(held).await;
        result
    }

    pub(super) async fn load(&self, call_id: Uuid) -> Result<Option<Record>> {
        let Some(json) = self.bus.get(&keys::call(&call_id)).await? else { return Ok(None) };
        serde_json::from_str(&json).map(Some).map_err(Error::internal)
    }

    pub(super) async fn save(&self, rec: &Record, ttl: Duration) -> Result<()> {
        let json = serde_json::to_string(rec).map_err(Error::internal)?;
        Ok(self.bus.set(&keys::call(&rec.call.call_id), &json, ttl).await?)
    }

    /// Take a bus lock, waiting up to 3 s for it.
    pub(super) async fn lock(&self, name: String) -> Result<Held> {
        locks::acquire(&*self.bus, name, "the call is busy; retry").await
    }

    pub(super) async fn release(&self, held: Held) {
        locks::release(&*self.bus, held).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::calls::Media;

    #[test]
    fn deadlines_take_the_earliest() {
        let cfg = CallsConfig::default();
        let t0 = Utc::now();
        let view = CallView {
            call_id: Uuid::now_v7(),
            conversation_id: Uuid::now_v7(),
            media: Media::Video,
            caller_id: Uuid::now_v7(),
            callee_id: Uuid::now_v7(),
            state: Phase::Ringing,
            reason: None,
            caller_session: None,
            callee_session: None,
            created_at: t0,
            answered_at: None,
            ended_at: None,
            replaced_by: None,
        };
        let mut rec = Record { call: view, connecting_at: None, caller_away: None, callee_away: None };
        assert_eq!(rec.deadline(&cfg), Some((t0 + chrono::Duration::seconds(45), EndReason::Missed)));
        rec.caller_away = Some(t0);
        assert_eq!(rec.deadline(&cfg), Some((t0 + chrono::Duration::seconds(30), EndReason::ConnectionLost)));
        rec.call.state = Phase::Active;
        rec.caller_away = None;
        assert_eq!(rec.deadline(&cfg), None);
        rec.call.state = Phase::Ended;
        rec.callee_away = Some(t0);
        assert_eq!(rec.deadline(&cfg), None);
    }
}

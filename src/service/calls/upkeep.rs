//! Deadlines and endings: the ring, connect and reconnect timers of a call, the read
//! that applies a deadline a dead node's timer missed, and the one way every call ends.

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{
    Calls, ENDED_TTL, LIVE_TTL,
    record::{Record, ignore_gone},
};
use crate::{
    bus::keys,
    error::Result,
    protocol::{
        ServerEvent,
        calls::{EndReason, Media, Phase},
    },
    service::fanout::{Effect, Envelope},
};

impl Calls {
    /// The user's live call, with an expired deadline applied first. A participant who
    /// is connected nowhere (their node died without closing the socket) starts the
    /// reconnect grace here, so such a call cannot keep both users busy.
    pub(super) async fn live_call(&self, user: Uuid) -> Result<Option<Record>> {
        let key = keys::user_call(&user);
        let Some(id) = self.bus.get(&key).await? else { return Ok(None) };
        let Ok(call_id) = id.parse::<Uuid>() else {
            self.bus.delete_if_eq(&key, &id).await?;
            return Ok(None);
        };
        let rec = match self.load(call_id).await? {
            Some(r) if r.call.state != Phase::Ended => r,
            _ => {
                // The call is gone or over but the claim stayed (its node died mid-way).
                // Only this claim goes: a newer one is left alone.
                self.bus.delete_if_eq(&key, &id).await?;
                return Ok(None);
            }
        };
        if rec.deadline(&self.config).is_some_and(|(at, _)| at <= Utc::now()) {
            self.expire(call_id).await?;
            return Ok(self.load(call_id).await?.filter(|r| r.call.state != Phase::Ended));
        }
        if matches!(rec.call.state, Phase::Connecting | Phase::Active)
            && (rec.caller_away.is_none() || rec.callee_away.is_none())
        {
            let sets = [keys::presence(&rec.call.caller_id), keys::presence(&rec.call.callee_id)];
            let live = self.bus.live_counts(&sets).await?;
            if live.contains(&0) {
                self.mark_absent(call_id).await?;
                return Ok(self.load(call_id).await?.filter(|r| r.call.state != Phase::Ended));
            }
        }
        Ok(Some(rec))
    }

    /// Start the grace of each side whose user is connected nowhere.
    pub(super) async fn mark_absent(&self, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |mut rec| {
            let sets = [keys::presence(&rec.call.caller_id), keys::presence(&rec.call.callee_id)];
            let live = self.bus.live_counts(&sets).await?;
            let now = Utc::now();
            let mut changed = false;
            if live.first() == Some(&0) && rec.caller_away.is_none() {
                rec.caller_away = Some(now);
                changed = true;
            }
            if live.get(1) == Some(&0) && rec.callee_away.is_none() {
                rec.callee_away = Some(now);
                changed = true;
            }
            if changed {
                self.save(&rec, LIVE_TTL).await?;
                tracing::info!(call_id = %call_id, "call participant connected nowhere; grace running");
                self.schedule(&rec);
            }
            Ok(())
        })
        .await
        .or_else(ignore_gone)
    }

    /// Apply the call's deadline if it has passed.
    pub(super) async fn expire(&self, call_id: Uuid) -> Result<()> {
        self.with_call_raw(call_id, async |rec| match rec.deadline(&self.config) {
            Some((at, reason)) if at <= Utc::now() => self.end(rec, reason).await,
            _ => Ok(()),
        })
        .await
        .or_else(ignore_gone)
    }

    /// A timer for the call's next deadline, on this node.
    pub(super) fn schedule(&self, rec: &Record) {
        let Some((at, _)) = rec.deadline(&self.config) else { return };
        let wait = (at - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(20);
        let this = self.this.clone();
        let call_id = rec.call.call_id;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(calls) = this.upgrade()
                && let Err(e) = calls.expire(call_id).await
            {
                tracing::warn!(call_id = %call_id, error = %e, "call deadline not applied");
            }
        });
    }

    /// End the call: store the outcome, free both users, tell both, log the reason.
    pub(super) async fn end(&self, mut rec: Record, reason: EndReason) -> Result<()> {
        let now = Utc::now();
        rec.call.state = Phase::Ended;
        rec.call.reason = Some(reason);
        rec.call.ended_at = Some(now);
        self.save(&rec, ENDED_TTL).await?;
        let id = rec.call.call_id.to_string();
        for user in [rec.call.caller_id, rec.call.callee_id] {
            self.bus.delete_if_eq(&keys::user_call(&user), &id).await?;
        }
        let call = &rec.call;
        let duration = call.answered_at.map(|a| (now - a).num_seconds()).unwrap_or(0);
        tracing::info!(call_id = %call.call_id, reason = reason.as_str(), duration_secs = duration, "call ended");
        self.stats.ended.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.fanout
            .publish(&[Envelope::new(vec![call.caller_id, call.callee_id], &ServerEvent::CallState(call.clone()))
                .with_effect(Effect::CallEnded { caller: call.caller_id, callee: call.callee_id })])
            .await?;
        if reason == EndReason::Missed {
            self.stats.missed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body = match call.media {
                Media::Audio => "Missed audio call",
                Media::Video => "Missed video call",
            };
            // Deduplicated by client_id: two nodes expiring the same call write one entry.
            let client_id = format!("call-{}", call.call_id);
            match self.messages.submit_kind(call.caller_id, call.conversation_id, &client_id, body, "call").await {
                Ok(pending) => {
                    tokio::spawn(async move {
                        if let Err(e) = pending.wait().await {
                            tracing::warn!(error = %e, "missed-call entry not stored");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "missed-call entry not stored"),
            }
        }
        Ok(())
    }
}

//! 1-on-1 calls: the server-owned state machine (`docs/protocol.md`, "Calls").
//!
//! ```text
//! ringing ─accept─▶ connecting ─call.connected─▶ active ─hangup─▶ ended{hangup}
//!    ├ reject ▶ ended{declined}    ├ timeout / failure ▶ ended{failed}
//!    ├ caller hangs up ▶ ended{cancelled}          └ socket gone past the grace ▶ ended{connection_lost}
//!    ├ ring timeout ▶ ended{missed} (+ a "missed call" entry in the conversation)
//!    └ callee in a call ▶ ended{busy}
//! ```
//!
//! Everything lives on the bus, so the two parties may sit on different nodes:
//! - `call:<id>` holds the call's [`Record`] (JSON), changed only under the lock
//!   `lock:call:<id>`;
//! - `call:user:<user>` names the user's current call: claimed with `put_if_absent`, so a
//!   user is in one call at most (all devices together), and a second caller finds them
//!   busy;
//! - invites within one conversation are serialised by `lock:call:conv:<conversation>`,
//!   which makes glare (both invite each other) resolve to one call.
//!
//! Deadlines (ring timeout, connect timeout, reconnect grace) are timers on the node that
//! set them; a node that dies takes its timers with it, so every read of a call also
//! applies an expired deadline ([`Calls::live_call`]) — a stale call never blocks anyone.
//!
//! A call is bound to one socket on each side (`caller_session`, `callee_session`); only
//! those sockets may signal, and `offer`/`answer`/`ice` go to the other one only.

mod ice;
mod record;
mod upkeep;

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use chrono::Utc;
use uuid::Uuid;

pub use self::ice::Relaying;
use self::record::{Record, Side, call_not_found, ignore_gone, invalid_state};
use super::{
    fanout::{Envelope, Fanout},
    limits,
    messages::Messages,
    push::Push,
};
use crate::{
    bus::{Bus, Quota, keys},
    config::CallsConfig,
    error::{Error, Result},
    protocol::{
        ServerEvent,
        calls::{CallView, EndReason, HangupReason, IceCandidate, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES, Media, Phase},
    },
    store::Store,
};

/// How long the bus keeps a live call (and a user's claim on it) without any change.
const LIVE_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an ended call is remembered (late frames get `call_invalid_state`).
const ENDED_TTL: Duration = Duration::from_secs(600);

/// What a participant's device sends to the other one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Offer(String),
    Answer(String),
    Ice(Option<IceCandidate>),
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct CallStats {
    pub started: std::sync::atomic::AtomicU64,
    pub ended: std::sync::atomic::AtomicU64,
    pub missed: std::sync::atomic::AtomicU64,
    pub busy: std::sync::atomic::AtomicU64,
}

pub struct Calls {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    fanout: Fanout,
    messages: Arc<Messages>,
    /// Rings a callee with no socket open.
    push: Push,
    config: CallsConfig,
    /// The TURN relay of this node and its credentials, for the ICE servers and the
    /// clean-up when a call ends.
    relaying: Relaying,
    /// For the deadline timers, which must not keep the service alive.
    this: Weak<Calls>,
    pub stats: CallStats,
}

impl Calls {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        messages: Arc<Messages>,
        push: Push,
        config: CallsConfig,
        relaying: Relaying,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Calls {
            store,
            bus,
            fanout,
            messages,
            push,
            config,
            relaying,
            this: this.clone(),
            stats: CallStats::default(),
        })
    }

    /// A call between `caller` and `callee` ended (seen by this node's dispatcher): their
    /// allocations on this node's TURN relay go.
    pub fn call_ended(&self, caller: Uuid, callee: Uuid) {
        if let Some(relay) = self.relaying.relay.clone() {
            tokio::spawn(async move { relay.release(&[caller, callee]).await });
        }
    }

    // ----- client events -------------------------------------------------------------

    /// `call.invite`: ring the other member of a direct conversation.
    pub async fn invite(
        &self,
        me: Uuid,
        session: Uuid,
        call_id: Uuid,
        conversation_id: Uuid,
        media: Media,
    ) -> Result<()> {
        let quota = Quota::per_minute(self.config.invites_per_minute, self.config.invites_per_minute);
        limits::check(&*self.bus, &keys::call_invites(&me), quota).await?;
        let conversation = self.store.conversation(conversation_id).await?;
        let members = self.store.members_of(&[conversation_id]).await?;
        let member_ids: Vec<Uuid> = members.iter().map(|(_, m)| m.user.id).collect();
        let Some(conversation) = conversation.filter(|_| member_ids.contains(&me)) else {
            return Err(Error::NotFound("conversation not found".into()));
        };
        if conversation.kind != "direct" {
            return Err(Error::validation("conversation_id: calls are 1-on-1, in direct conversations only"));
        }
        let Some(callee) = member_ids.iter().copied().find(|u| *u != me) else {
            return Err(Error::validation("conversation_id: nobody else is in this conversation"));
        };
        if self.bus.get(&keys::call(&call_id)).await?.is_some() {
            return Err(Error::Conflict { code: "call_exists", detail: "call_id: already used".into() });
        }
        if super::rooms::record::room_of(&*self.bus, me).await?.is_some() {
            return Err(Error::Conflict { code: "already_in_call", detail: "you are in a group call".into() });
        }

        let conv_lock = self.lock(keys::call_conversation_lock(&conversation_id)).await?;
        let result = self.invite_locked(me, session, call_id, conversation_id, callee, media).await;
        self.release(conv_lock).await;
        result
    }

    async fn invite_locked(
        &self,
        me: Uuid,
        session: Uuid,
        call_id: Uuid,
        conversation_id: Uuid,
        callee: Uuid,
        media: Media,
    ) -> Result<()> {
        let now = Utc::now();
        let mut rec = Record {
            call: CallView {
                call_id,
                conversation_id,
                media,
                caller_id: me,
                callee_id: callee,
                state: Phase::Ringing,
                reason: None,
                caller_session: Some(session),
                callee_session: None,
                created_at: now,
                answered_at: None,
                ended_at: None,
                replaced_by: None,
            },
            connecting_at: None,
            caller_away: None,
            callee_away: None,
        };

        if let Some(mine) = self.live_call(me).await? {
            let theirs = &mine.call;
            if theirs.state == Phase::Ringing
                && theirs.caller_id == callee
                && theirs.callee_id == me
                && theirs.conversation_id == conversation_id
            {
                // Glare: they are calling me in this conversation. My invite becomes my
                // answer to their call.
                let other = theirs.call_id;
                rec.call.state = Phase::Ended;
                rec.call.reason = Some(EndReason::Glare);
                rec.call.ended_at = Some(now);
                rec.call.replaced_by = Some(other);
                let held = self.lock(keys::call_lock(&other)).await?;
                let result = match self.load(other).await {
                    Ok(Some(r)) if r.call.state == Phase::Ringing => {
                        // My call id is spent only once the merge happens.
                        match self.save(&rec, ENDED_TTL).await {
                            Ok(()) => {
                                let glare = Envelope::new(vec![me], &ServerEvent::CallState(rec.call.clone()))
                                    .only(vec![session]);
                                self.accept_locked(r, session, Some(glare)).await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Ok(_) => Err(invalid_state("the other call ended meanwhile; call again")),
                    Err(e) => Err(e),
                };
                self.release(held).await;
                if result.is_ok() {
                    tracing::info!(call_id = %call_id, reason = "glare", replaced_by = %other, "call ended");
                }
                return result;
            }
            return Err(invalid_state("you are already in a call"));
        }

        let busy = self.live_call(callee).await?.is_some()
            || super::rooms::record::room_of(&*self.bus, callee).await?.is_some();
        let id = call_id.to_string();
        // The record exists before anyone's claim names it: a claim whose call is missing
        // counts as stale (`live_call`), so the order matters.
        if !busy {
            self.save(&rec, LIVE_TTL).await?;
        }
        let claimed_me = !busy && self.bus.put_if_absent(&keys::user_call(&me), &id, LIVE_TTL).await?.is_none();
        if !busy && !claimed_me {
            self.bus.delete(&keys::call(&call_id)).await?;
            return Err(invalid_state("you are already in a call"));
        }
        let claimed_callee = !busy && self.bus.put_if_absent(&keys::user_call(&callee), &id, LIVE_TTL).await?.is_none();
        if !claimed_callee {
            if claimed_me {
                self.bus.delete_if_eq(&keys::user_call(&me), &id).await?;
            }
            rec.call.state = Phase::Ended;
            rec.call.reason = Some(EndReason::Busy);
            rec.call.ended_at = Some(now);
            self.save(&rec, ENDED_TTL).await?;
            self.stats.busy.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(call_id = %call_id, reason = "busy", "call ended");
            return self
                .fanout
                .publish(&[Envelope::new(vec![me], &ServerEvent::CallState(rec.call.clone())).only(vec![session])])
                .await;
        }

        self.stats.started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(call_id = %call_id, caller = %me, callee = %callee, media = ?media, "call ringing");
        self.fanout
            .publish(&[
                Envelope::new(vec![me], &ServerEvent::CallState(rec.call.clone())),
                Envelope::new(vec![callee], &ServerEvent::CallRinging(rec.call.clone())),
            ])
            .await?;
        self.push.ringing(&rec.call);
        self.schedule(&rec);
        Ok(())
    }

    /// `call.accept` from one of the callee's devices.
    pub async fn accept(&self, me: Uuid, session: Uuid, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |rec| {
            if rec.side_of(me)? != Side::Callee {
                return Err(invalid_state("only the person called can accept"));
            }
            match rec.call.state {
                Phase::Ringing => self.accept_locked(rec, session, None).await,
                Phase::Connecting | Phase::Active => Err(invalid_state("the call was answered on another device")),
                Phase::Ended => Err(invalid_state("the call has ended")),
            }
        })
        .await
    }

    /// Move a ringing call to `connecting`, bound to the callee's socket `session`.
    async fn accept_locked(&self, mut rec: Record, session: Uuid, first: Option<Envelope>) -> Result<()> {
        let now = Utc::now();
        rec.call.state = Phase::Connecting;
        rec.call.callee_session = Some(session);
        rec.connecting_at = Some(now);
        self.save(&rec, LIVE_TTL).await?;
        tracing::info!(call_id = %rec.call.call_id, "call accepted");
        let mut elsewhere = rec.call.clone();
        elsewhere.state = Phase::Ended;
        elsewhere.reason = Some(EndReason::AnsweredElsewhere);
        let mut batch: Vec<Envelope> = first.into_iter().collect();
        batch.push(Envelope::new(vec![rec.call.caller_id], &ServerEvent::CallState(rec.call.clone())));
        batch.push(
            Envelope::new(vec![rec.call.callee_id], &ServerEvent::CallState(rec.call.clone())).only(vec![session]),
        );
        batch.push(Envelope::new(vec![rec.call.callee_id], &ServerEvent::CallState(elsewhere)).except(vec![session]));
        self.fanout.publish(&batch).await?;
        self.schedule(&rec);
        Ok(())
    }

    /// `call.reject` from one of the callee's devices while ringing.
    pub async fn reject(&self, me: Uuid, _session: Uuid, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |rec| {
            if rec.side_of(me)? != Side::Callee {
                return Err(invalid_state("only the person called can decline"));
            }
            if rec.call.state != Phase::Ringing {
                return Err(invalid_state("the call is not ringing"));
            }
            self.end(rec, EndReason::Declined).await
        })
        .await
    }

    /// `call.hangup`.
    pub async fn hangup(&self, me: Uuid, session: Uuid, call_id: Uuid, reason: Option<HangupReason>) -> Result<()> {
        self.with_call(call_id, async |rec| {
            let side = rec.side_of(me)?;
            let reason = match (rec.call.state, side) {
                (Phase::Ended, _) => return Err(invalid_state("the call has ended")),
                // Any of the callee's devices may decline a ringing call.
                (Phase::Ringing, Side::Callee) => EndReason::Declined,
                (Phase::Ringing, Side::Caller) => {
                    rec.bound_side(me, session)?;
                    EndReason::Cancelled
                }
                _ => {
                    rec.bound_side(me, session)?;
                    match reason {
                        Some(HangupReason::Failed) => EndReason::Failed,
                        _ => EndReason::Hangup,
                    }
                }
            };
            self.end(rec, reason).await
        })
        .await
    }

    /// `call.connected`: the sender's media is flowing; the first one makes the call active.
    pub async fn connected(&self, me: Uuid, session: Uuid, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |mut rec| {
            rec.bound_side(me, session)?;
            match rec.call.state {
                Phase::Connecting => {
                    rec.call.state = Phase::Active;
                    rec.call.answered_at = Some(Utc::now());
                    self.save(&rec, LIVE_TTL).await?;
                    tracing::info!(call_id = %call_id, "call active");
                    self.fanout
                        .send(vec![rec.call.caller_id, rec.call.callee_id], &ServerEvent::CallState(rec.call.clone()))
                        .await
                }
                Phase::Active => Ok(()),
                Phase::Ringing => Err(invalid_state("the call has not been answered")),
                Phase::Ended => Err(invalid_state("the call has ended")),
            }
        })
        .await
    }

    /// `call.offer` / `call.answer` / `call.ice`: to the other device of the call.
    pub async fn relay(&self, me: Uuid, session: Uuid, call_id: Uuid, signal: Signal) -> Result<()> {
        match &signal {
            Signal::Offer(sdp) | Signal::Answer(sdp) => {
                if sdp.is_empty() || sdp.len() > MAX_SDP_BYTES {
                    return Err(Error::validation(format!("sdp: must be 1 to {MAX_SDP_BYTES} bytes")));
                }
            }
            Signal::Ice(Some(c)) => {
                if c.candidate.len() > MAX_CANDIDATE_BYTES
                    || c.sdp_mid.as_ref().is_some_and(|m| m.len() > 64)
                    || c.username_fragment.as_ref().is_some_and(|u| u.len() > 256)
                {
                    return Err(Error::validation(format!(
                        "candidate: at most {MAX_CANDIDATE_BYTES} bytes (sdpMid 64, usernameFragment 256)"
                    )));
                }
            }
            Signal::Ice(None) => {}
        }
        // Relaying changes nothing: no lock, one read.
        let rec = self.load(call_id).await?.ok_or_else(call_not_found)?;
        let side = rec.bound_side(me, session)?;
        if !matches!(rec.call.state, Phase::Connecting | Phase::Active) {
            return Err(invalid_state(match rec.call.state {
                Phase::Ringing => "the call has not been answered",
                _ => "the call has ended",
            }));
        }
        let (other, other_session) = rec.other(side);
        let Some(other_session) = other_session else { return Ok(()) };
        let event = match signal {
            Signal::Offer(sdp) => ServerEvent::CallOffer { call_id, from: me, sdp },
            Signal::Answer(sdp) => ServerEvent::CallAnswer { call_id, from: me, sdp },
            Signal::Ice(candidate) => ServerEvent::CallIce { call_id, from: me, candidate },
        };
        self.fanout.publish(&[Envelope::new(vec![other], &event).only(vec![other_session])]).await
    }

    /// `call.rejoin`: a (new) socket of a participant takes over its side of the call.
    pub async fn rejoin(&self, me: Uuid, session: Uuid, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |mut rec| {
            let side = rec.side_of(me)?;
            match (rec.call.state, side) {
                (Phase::Ended, _) => return Err(invalid_state("the call has ended")),
                (Phase::Ringing, Side::Callee) => return Err(invalid_state("the call is ringing: accept it instead")),
                _ => {}
            }
            match side {
                Side::Caller => {
                    rec.call.caller_session = Some(session);
                    rec.caller_away = None;
                }
                Side::Callee => {
                    rec.call.callee_session = Some(session);
                    rec.callee_away = None;
                }
            }
            self.save(&rec, LIVE_TTL).await?;
            tracing::info!(call_id = %call_id, user = %me, "call rejoined");
            self.fanout
                .send(vec![rec.call.caller_id, rec.call.callee_id], &ServerEvent::CallState(rec.call.clone()))
                .await
        })
        .await
    }

    /// A socket closed: if it carried a side of the user's call, start that side's grace.
    pub async fn socket_closed(&self, me: Uuid, session: Uuid) -> Result<()> {
        let Some(id) = self.bus.get(&keys::user_call(&me)).await? else { return Ok(()) };
        let Ok(call_id) = id.parse::<Uuid>() else { return Ok(()) };
        self.with_call(call_id, async |mut rec| {
            if rec.call.state == Phase::Ended {
                return Ok(());
            }
            let now = Utc::now();
            if rec.call.caller_id == me && rec.call.caller_session == Some(session) {
                rec.caller_away = Some(now);
            } else if rec.call.callee_id == me && rec.call.callee_session == Some(session) {
                rec.callee_away = Some(now);
            } else {
                return Ok(());
            }
            self.save(&rec, LIVE_TTL).await?;
            tracing::info!(call_id = %call_id, user = %me, "call socket gone; grace running");
            self.schedule(&rec);
            Ok(())
        })
        .await
        .or_else(ignore_gone)
    }

    /// The user's current call, if any (for `ready`).
    pub async fn current(&self, me: Uuid) -> Result<Vec<CallView>> {
        Ok(self.live_call(me).await?.map(|r| r.call).into_iter().collect())
    }
}

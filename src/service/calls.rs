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

use std::{
    sync::{Arc, OnceLock, Weak},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    events::{Effect, Envelope, Fanout, ServerEvent},
    messages::Messages,
};
use crate::{
    bus::{Bus, Quota, RateDecision, keys},
    config::CallsConfig,
    error::{Error, Result},
    store::Store,
};

/// How long the bus keeps a live call (and a user's claim on it) without any change.
const LIVE_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an ended call is remembered (late frames get `call_invalid_state`).
const ENDED_TTL: Duration = Duration::from_secs(600);
/// Largest SDP accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 32 * 1024;
/// Largest ICE candidate line accepted, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Audio,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Ringing,
    Connecting,
    Active,
    Ended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Cancelled,
    Declined,
    Missed,
    Busy,
    Hangup,
    Failed,
    ConnectionLost,
    Glare,
    AnsweredElsewhere,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Cancelled => "cancelled",
            EndReason::Declined => "declined",
            EndReason::Missed => "missed",
            EndReason::Busy => "busy",
            EndReason::Hangup => "hangup",
            EndReason::Failed => "failed",
            EndReason::ConnectionLost => "connection_lost",
            EndReason::Glare => "glare",
            EndReason::AnsweredElsewhere => "answered_elsewhere",
        }
    }
}

/// Why a participant hangs up (`call.hangup {reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HangupReason {
    Hangup,
    Failed,
}

/// A call as clients see it (`call.ringing`, `call.state`, `ready.calls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub call_id: Uuid,
    pub conversation_id: Uuid,
    pub media: Media,
    pub caller_id: Uuid,
    pub callee_id: Uuid,
    pub state: Phase,
    pub reason: Option<EndReason>,
    pub caller_session: Option<Uuid>,
    pub callee_session: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When media connected (`active`): the start of the call timer.
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// With `reason: glare`: the call this invite was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Uuid>,
}

/// An ICE candidate as `RTCIceCandidate.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid", default)]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex", default)]
    pub sdp_mline_index: Option<u16>,
    #[serde(rename = "usernameFragment", default)]
    pub username_fragment: Option<String>,
}

/// What a participant's device sends to the other one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Offer(String),
    Answer(String),
    Ice(Option<IceCandidate>),
}

/// A call as kept on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    call: CallView,
    connecting_at: Option<DateTime<Utc>>,
    /// Since when the side's socket is gone (reconnect grace running).
    caller_away: Option<DateTime<Utc>>,
    callee_away: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller,
    Callee,
}

impl Record {
    /// The first deadline still ahead of this call, and how it ends there.
    fn deadline(&self, cfg: &CallsConfig) -> Option<(DateTime<Utc>, EndReason)> {
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

    fn side_of(&self, user: Uuid) -> Result<Side> {
        if user == self.call.caller_id {
            Ok(Side::Caller)
        } else if user == self.call.callee_id {
            Ok(Side::Callee)
        } else {
            Err(call_not_found())
        }
    }

    fn session(&self, side: Side) -> Option<Uuid> {
        match side {
            Side::Caller => self.call.caller_session,
            Side::Callee => self.call.callee_session,
        }
    }

    /// The side of `user` if `session` is that side's socket in the call.
    fn bound_side(&self, user: Uuid, session: Uuid) -> Result<Side> {
        let side = self.side_of(user)?;
        if self.session(side) == Some(session) { Ok(side) } else { Err(call_not_found()) }
    }

    fn other(&self, side: Side) -> (Uuid, Option<Uuid>) {
        match side {
            Side::Caller => (self.call.callee_id, self.call.callee_session),
            Side::Callee => (self.call.caller_id, self.call.caller_session),
        }
    }
}

fn call_not_found() -> Error {
    Error::invalid("call_not_found", "no such call (or you are not in it)")
}

fn invalid_state(detail: impl Into<String>) -> Error {
    Error::Conflict { code: "call_invalid_state", detail: detail.into() }
}

/// For background upkeep: a call that is gone or over needs nothing more.
fn ignore_gone(e: Error) -> Result<()> {
    if matches!(e.code(), "call_not_found" | "call_invalid_state") { Ok(()) } else { Err(e) }
}

fn unavailable(e: crate::bus::BusError) -> Error {
    Error::Unavailable(format!("the bus is unreachable: {e}"))
}

/// Told when a call ends, on every node: the TURN relay drops the two users' allocations.
pub trait CallEndedHook: Send + Sync {
    fn call_ended(&self, users: [Uuid; 2]);
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
    config: CallsConfig,
    hook: OnceLock<Arc<dyn CallEndedHook>>,
    this: Weak<Calls>,
    pub stats: CallStats,
}

/// A held bus lock; release it with [`Calls::release`].
struct Held {
    name: String,
    token: String,
}

impl Calls {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        fanout: Fanout,
        messages: Arc<Messages>,
        config: CallsConfig,
    ) -> Arc<Self> {
        Arc::new_cyclic(|this| Calls {
            store,
            bus,
            fanout,
            messages,
            config,
            hook: OnceLock::new(),
            this: this.clone(),
            stats: CallStats::default(),
        })
    }

    pub fn set_hook(&self, hook: Arc<dyn CallEndedHook>) {
        let _ = self.hook.set(hook);
    }

    /// A call between `caller` and `callee` ended (seen by this node's dispatcher).
    pub fn call_ended(&self, caller: Uuid, callee: Uuid) {
        if let Some(hook) = self.hook.get() {
            hook.call_ended([caller, callee]);
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
        if let RateDecision::Limited { retry_after } =
            self.bus.rate_limit(&keys::call_invites(&me), quota).await.map_err(unavailable)?
        {
            return Err(Error::RateLimited { retry_after_ms: retry_after.as_millis().max(1) as u64 });
        }
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
        if self.bus.get(&keys::call(&call_id)).await.map_err(unavailable)?.is_some() {
            return Err(Error::Conflict { code: "call_exists", detail: "call_id: already used".into() });
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

        let busy = self.live_call(callee).await?.is_some();
        let id = call_id.to_string();
        // The record exists before anyone's claim names it: a claim whose call is missing
        // counts as stale (`live_call`), so the order matters.
        if !busy {
            self.save(&rec, LIVE_TTL).await?;
        }
        let claimed_me =
            !busy && self.bus.put_if_absent(&keys::user_call(&me), &id, LIVE_TTL).await.map_err(unavailable)?.is_none();
        if !busy && !claimed_me {
            self.bus.delete(&keys::call(&call_id)).await.map_err(unavailable)?;
            return Err(invalid_state("you are already in a call"));
        }
        let claimed_callee = !busy
            && self.bus.put_if_absent(&keys::user_call(&callee), &id, LIVE_TTL).await.map_err(unavailable)?.is_none();
        if !claimed_callee {
            if claimed_me {
                self.bus.delete_if_eq(&keys::user_call(&me), &id).await.map_err(unavailable)?;
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
        let Some(id) = self.bus.get(&keys::user_call(&me)).await.map_err(unavailable)? else { return Ok(()) };
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

    // ----- internals -------------------------------------------------------------------

    /// The user's live call, with an expired deadline applied first. A participant who
    /// is connected nowhere (their node died without closing the socket) starts the
    /// reconnect grace here, so such a call cannot keep both users busy.
    async fn live_call(&self, user: Uuid) -> Result<Option<Record>> {
        let key = keys::user_call(&user);
        let Some(id) = self.bus.get(&key).await.map_err(unavailable)? else { return Ok(None) };
        let Ok(call_id) = id.parse::<Uuid>() else {
            self.bus.delete_if_eq(&key, &id).await.map_err(unavailable)?;
            return Ok(None);
        };
        let rec = match self.load(call_id).await? {
            Some(r) if r.call.state != Phase::Ended => r,
            _ => {
                // The call is gone or over but the claim stayed (its node died mid-way).
                // Only this claim goes: a newer one is left alone.
                self.bus.delete_if_eq(&key, &id).await.map_err(unavailable)?;
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
            let live = self.bus.live_counts(&sets).await.map_err(unavailable)?;
            if live.contains(&0) {
                self.mark_absent(call_id).await?;
                return Ok(self.load(call_id).await?.filter(|r| r.call.state != Phase::Ended));
            }
        }
        Ok(Some(rec))
    }

    /// Start the grace of each side whose user is connected nowhere.
    async fn mark_absent(&self, call_id: Uuid) -> Result<()> {
        self.with_call(call_id, async |mut rec| {
            let sets = [keys::presence(&rec.call.caller_id), keys::presence(&rec.call.callee_id)];
            let live = self.bus.live_counts(&sets).await.map_err(unavailable)?;
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
    async fn expire(&self, call_id: Uuid) -> Result<()> {
        self.with_call_raw(call_id, async |rec| match rec.deadline(&self.config) {
            Some((at, reason)) if at <= Utc::now() => self.end(rec, reason).await,
            _ => Ok(()),
        })
        .await
        .or_else(ignore_gone)
    }

    /// A timer for the call's next deadline, on this node.
    fn schedule(&self, rec: &Record) {
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
    async fn end(&self, mut rec: Record, reason: EndReason) -> Result<()> {
        let now = Utc::now();
        rec.call.state = Phase::Ended;
        rec.call.reason = Some(reason);
        rec.call.ended_at = Some(now);
        self.save(&rec, ENDED_TTL).await?;
        let id = rec.call.call_id.to_string();
        for user in [rec.call.caller_id, rec.call.callee_id] {
            self.bus.delete_if_eq(&keys::user_call(&user), &id).await.map_err(unavailable)?;
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

    /// Run `f` on the call under its lock; a deadline that has passed (its timer's node
    /// died) is applied first, and then the call has ended.
    async fn with_call<T>(&self, call_id: Uuid, f: impl AsyncFnOnce(Record) -> Result<T>) -> Result<T> {
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
    async fn with_call_raw<T>(&self, call_id: Uuid, f: impl AsyncFnOnce(Record) -> Result<T>) -> Result<T> {
        let held = self.lock(keys::call_lock(&call_id)).await?;
        let result = match self.load(call_id).await {
            Ok(Some(rec)) => f(rec).await,
            Ok(None) => Err(call_not_found()),
            Err(e) => Err(e),
        };
        self.release(held).await;
        result
    }

    async fn load(&self, call_id: Uuid) -> Result<Option<Record>> {
        let Some(json) = self.bus.get(&keys::call(&call_id)).await.map_err(unavailable)? else { return Ok(None) };
        serde_json::from_str(&json).map(Some).map_err(Error::internal)
    }

    async fn save(&self, rec: &Record, ttl: Duration) -> Result<()> {
        let json = serde_json::to_string(rec).map_err(Error::internal)?;
        self.bus.set(&keys::call(&rec.call.call_id), &json, ttl).await.map_err(unavailable)
    }

    /// Take a bus lock, waiting up to 3 s for it.
    async fn lock(&self, name: String) -> Result<Held> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            if let Some(token) = self.bus.try_lock(&name, Duration::from_secs(5)).await.map_err(unavailable)? {
                return Ok(Held { name, token });
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Unavailable("the call is busy; retry".into()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn release(&self, held: Held) {
        if let Err(e) = self.bus.unlock(&held.name, &held.token).await {
            tracing::warn!(error = %e, lock = %held.name, "call lock not released (it expires)");
        }
    }
}

/// TURN REST credentials: `username = <expiry>:<user>`, `password =
/// base64(HMAC-SHA1(secret, username))`.
pub fn turn_credentials(secret: &str, user: Uuid, expires: DateTime<Utc>) -> (String, String) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let username = format!("{}:{user}", expires.timestamp());
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    let password = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_rest_credentials_match_the_published_scheme() {
        // RFC-draft "TURN REST API" example shape: HMAC-SHA1 over the username, base64.
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let user = Uuid::nil();
        let (u, p) = turn_credentials("north", user, at);
        assert_eq!(u, "1700000000:00000000-0000-0000-0000-000000000000");
        // `printf %s "$u" | openssl dgst -sha1 -hmac north -binary | base64`
        assert_eq!(p, "WLicnZche6KJWOPqFFjtz/SZGys=");
    }

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

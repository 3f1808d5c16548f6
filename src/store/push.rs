//! The notifications part of the Store seam: browsers' Web Push subscriptions, each
//! user's notification choices and per-conversation mutes. A trait of its own, which
//! [`super::Store`] requires; each backend keeps it in `*/push.rs`, in this method order.
//!
//! Invariants kept here:
//! - an endpoint belongs to one user at a time: saving it again (a browser that signed in
//!   as someone else) moves it, with its new keys;
//! - a user keeps at most `max_per_user` subscriptions: saving one more drops the oldest;
//! - a mute exists only on a membership: it goes with the member.

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use super::StoreResult;

/// A browser's push subscription (`PushSubscription.toJSON()`), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The push service's URL for this browser (RFC 8030).
    pub endpoint: String,
    /// The browser's P-256 public key (base64url, uncompressed point).
    pub p256dh: String,
    /// The browser's 16-byte authentication secret (base64url).
    pub auth: String,
    pub created_at: DateTime<Utc>,
}

/// One user's notification choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationPrefs {
    /// `None`: the server's default (`push.hide_content`).
    pub hide_content: Option<bool>,
    /// Nothing is pushed before this time.
    pub dnd_until: Option<DateTime<Utc>>,
    /// Muted conversations and until when ([`muted_always`] for "always").
    pub mutes: Vec<(Uuid, DateTime<Utc>)>,
}

/// A change of [`NotificationPrefs`]: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PrefsChange {
    pub hide_content: Option<Option<bool>>,
    pub dnd_until: Option<Option<DateTime<Utc>>>,
}

/// What deciding one user's push for one conversation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub user_id: Uuid,
    pub hide_content: Option<bool>,
    pub dnd_until: Option<DateTime<Utc>>,
    pub muted_until: Option<DateTime<Utc>>,
}

/// The end of time, for a conversation muted "always".
pub fn muted_always() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
}

#[async_trait]
pub trait PushStore: Send + Sync {
    /// Store `sub` under its endpoint (moving it to `sub.user_id` with its keys if it
    /// exists), then drop that user's oldest beyond `max_per_user`. Returns the id kept.
    async fn save_push_subscription(&self, sub: &PushSubscription, max_per_user: u32) -> StoreResult<Uuid>;
    /// Remove `user`'s subscription with this endpoint; false if there was none.
    async fn delete_push_subscription(&self, user: Uuid, endpoint: &str) -> StoreResult<bool>;
    /// Remove a subscription the push service says is gone (404/410).
    async fn delete_push_subscription_by_id(&self, id: Uuid) -> StoreResult<bool>;
    /// The subscriptions of each of `users`.
    async fn push_subscriptions(&self, users: &[Uuid]) -> StoreResult<Vec<PushSubscription>>;
    /// The ids among `users` that have at least one subscription.
    async fn users_with_push(&self, users: &[Uuid]) -> StoreResult<Vec<Uuid>>;
    async fn notification_prefs(&self, user: Uuid) -> StoreResult<NotificationPrefs>;
    async fn update_notification_prefs(&self, user: Uuid, change: &PrefsChange) -> StoreResult<()>;
    /// Mute `user`'s membership of `conversation` until `until` (`None`: unmute). False
    /// when `user` is not a member.
    async fn set_mute(&self, conversation: Uuid, user: Uuid, until: Option<DateTime<Utc>>) -> StoreResult<bool>;
    /// The choices of those of `users` who are members of `conversation`.
    async fn push_targets(&self, conversation: Uuid, users: &[Uuid]) -> StoreResult<Vec<PushTarget>>;
}

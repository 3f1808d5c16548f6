//! `/api/v1/push` (the server's VAPID key, this browser's subscription) and
//! `/api/v1/notifications` (hide content, do not disturb, per-conversation mutes).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags, param::Path, payload::Json, types::MaybeUndefined};
use uuid::Uuid;

use super::{BearerAuth, text::Text};
use crate::{
    error::Error,
    protocol::push::{MuteView, NotificationSettings, PushKey, SubscriptionCreated},
    services::Services,
};

#[derive(Tags)]
enum ApiTags {
    /// Notifications
    Notifications,
}

pub struct PushApi {
    pub services: Arc<Services>,
}

/// The browser's keys of a subscription.
#[derive(Object)]
struct SubscriptionKeys {
    /// The browser's P-256 public key (base64url, 65 bytes uncompressed).
    p256dh: Text,
    /// The browser's authentication secret (base64url, 16 bytes).
    auth: Text,
}

/// `PushSubscription.toJSON()`, as a browser gives it.
#[derive(Object)]
struct NewSubscription {
    /// The push service URL (https, at most 2048 characters).
    endpoint: Text,
    /// When the browser will drop it (milliseconds since the epoch); ignored.
    #[oai(rename = "expirationTime", nullable)]
    expiration_time: Option<f64>,
    keys: SubscriptionKeys,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct SubscriptionRef {
    endpoint: Text,
}

/// Fields to change; absent fields stay as they are.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct SettingsChange {
    #[oai(nullable)]
    hide_content: Option<bool>,
    /// A time, or `null` to end do-not-disturb.
    #[oai(nullable)]
    dnd_until: MaybeUndefined<DateTime<Utc>>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct MuteChange {
    /// Muted until then; `null`: always.
    #[oai(nullable)]
    until: Option<DateTime<Utc>>,
}

#[derive(ApiResponse)]
enum Subscribed {
    /// Stored (or moved to the caller, with its new keys).
    #[oai(status = 201)]
    Created(Json<SubscriptionCreated>),
}

#[derive(ApiResponse)]
enum Done {
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(tag = "ApiTags::Notifications")]
impl PushApi {
    /// The server's VAPID public key, for `pushManager.subscribe({ userVisibleOnly: true,
    /// applicationServerKey })`.
    #[oai(path = "/push/key", method = "get")]
    async fn key(&self, auth: BearerAuth) -> Result<Json<PushKey>, Error> {
        auth.claims(&self.services)?;
        Ok(Json(self.services.push.key()))
    }

    /// Register this browser's push subscription (`PushSubscription.toJSON()`). The
    /// endpoint must be `https` (and a public host) unless `push.allow_http_endpoints`;
    /// 409 `push_disabled` when the server sends no pushes.
    #[oai(path = "/push/subscriptions", method = "post")]
    async fn subscribe(&self, auth: BearerAuth, body: Json<NewSubscription>) -> Result<Subscribed, Error> {
        let claims = auth.claims(&self.services)?;
        let s = body.0;
        let id = self.services.push.subscribe(claims.sub, &s.endpoint, &s.keys.p256dh, &s.keys.auth).await?;
        Ok(Subscribed::Created(Json(SubscriptionCreated { id })))
    }

    /// Forget this browser's subscription (on sign-out, or when notifications are turned
    /// off). Only the caller's own; 204 also when there was none.
    #[oai(path = "/push/subscriptions", method = "delete")]
    async fn unsubscribe(&self, auth: BearerAuth, body: Json<SubscriptionRef>) -> Result<Done, Error> {
        let claims = auth.claims(&self.services)?;
        self.services.push.unsubscribe(claims.sub, &body.0.endpoint).await?;
        Ok(Done::NoContent)
    }

    /// My notification choices and muted conversations.
    #[oai(path = "/notifications/settings", method = "get")]
    async fn settings(&self, auth: BearerAuth) -> Result<Json<NotificationSettings>, Error> {
        let claims = auth.claims(&self.services)?;
        Ok(Json(self.services.push.settings(claims.sub).await?))
    }

    /// Change whether pushes hide content, and do-not-disturb.
    #[oai(path = "/notifications/settings", method = "patch")]
    async fn update_settings(
        &self,
        auth: BearerAuth,
        body: Json<SettingsChange>,
    ) -> Result<Json<NotificationSettings>, Error> {
        let claims = auth.claims(&self.services)?;
        let dnd_until = match body.0.dnd_until {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(t) => Some(Some(t)),
        };
        Ok(Json(self.services.push.update_settings(claims.sub, body.0.hide_content, dnd_until).await?))
    }

    /// Mute a conversation until a time (`until: null`: always). Muted conversations push
    /// nothing but mentions (`push.mentions_when_muted`); 404 if I am not a member.
    #[oai(path = "/notifications/mutes/:conversation_id", method = "put")]
    async fn mute(
        &self,
        auth: BearerAuth,
        conversation_id: Path<Uuid>,
        body: Json<MuteChange>,
    ) -> Result<Json<MuteView>, Error> {
        let claims = auth.claims(&self.services)?;
        Ok(Json(self.services.push.mute(claims.sub, conversation_id.0, body.0.until).await?))
    }

    /// Unmute a conversation.
    #[oai(path = "/notifications/mutes/:conversation_id", method = "delete")]
    async fn unmute(&self, auth: BearerAuth, conversation_id: Path<Uuid>) -> Result<Done, Error> {
        let claims = auth.claims(&self.services)?;
        self.services.push.unmute(claims.sub, conversation_id.0).await?;
        Ok(Done::NoContent)
    }
}

//! `/api/v1/admin/*`: the administrators' REST API behind the web client's admin page:
//! accounts, invites, and the server panel. Every operation answers `401` without a valid
//! token and `403 forbidden` for anyone but an enabled administrator.

use std::{sync::Arc, time::UNIX_EPOCH};

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi, Tags,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{BearerAuth, server::RegistrationMode, text::Text};
use crate::{
    error::Error,
    gateway::Gateway,
    protocol::views::UserView,
    service::admin::AccountChange,
    services::Services,
    store::{AdminUser, InviteRecord},
};

#[derive(Tags)]
enum ApiTags {
    /// Administration
    Admin,
}

pub struct AdminApi {
    pub services: Arc<Services>,
}

/// An account as administrators see it.
#[derive(Object)]
struct AdminUserView {
    id: Uuid,
    username: String,
    display_name: String,
    is_admin: bool,
    /// Set while the account is disabled: it cannot sign in and its sessions have ended.
    #[oai(nullable)]
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<AdminUser> for AdminUserView {
    fn from(u: AdminUser) -> Self {
        AdminUserView {
            id: u.user.id,
            username: u.user.username,
            display_name: u.user.display_name,
            is_admin: u.user.is_admin,
            disabled_at: u.disabled_at,
            created_at: u.user.created_at,
        }
    }
}

/// What to change; absent fields stay as they are.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct AccountPatch {
    /// Make (`true`) or remove (`false`) an administrator.
    #[oai(nullable)]
    is_admin: Option<bool>,
    /// Disable (`true`: every session and socket ends at once) or enable (`false`).
    #[oai(nullable)]
    disabled: Option<bool>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct InviteRequest {
    /// Whom it is for (up to 200 characters), shown in the list.
    #[oai(nullable)]
    note: Option<Text>,
    /// Lifetime in hours, 1 to 8760 (a year); 168 (7 days) when absent.
    #[oai(nullable)]
    expires_in_hours: Option<u32>,
}

#[derive(Object)]
struct InviteView {
    id: Uuid,
    #[oai(nullable)]
    note: Option<String>,
    #[oai(nullable)]
    created_by: Option<UserView>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    #[oai(nullable)]
    used_at: Option<DateTime<Utc>>,
    /// The account registered with it.
    #[oai(nullable)]
    used_by: Option<UserView>,
    #[oai(nullable)]
    revoked_at: Option<DateTime<Utc>>,
    /// `active`, `used`, `revoked` or `expired`.
    state: String,
}

impl From<InviteRecord> for InviteView {
    fn from(i: InviteRecord) -> Self {
        let state = if i.used_at.is_some() {
            "used"
        } else if i.revoked_at.is_some() {
            "revoked"
        } else if i.expires_at <= Utc::now() {
            "expired"
        } else {
            "active"
        };
        InviteView {
            id: i.id,
            note: i.note,
            created_by: i.created_by.map(Into::into),
            created_at: i.created_at,
            expires_at: i.expires_at,
            used_at: i.used_at,
            used_by: i.used_by.map(Into::into),
            revoked_at: i.revoked_at,
            state: state.into(),
        }
    }
}

#[derive(Object)]
struct CreatedInvite {
    /// Give this to the person to invite; it works once and is not shown again.
    code: String,
    /// The sign-up page with the code filled in, relative to the server's address.
    path: String,
    invite: InviteView,
}

#[derive(ApiResponse)]
enum InviteCreated {
    #[oai(status = 201)]
    Created(Json<CreatedInvite>),
}

#[derive(ApiResponse)]
enum Done {
    #[oai(status = 204)]
    NoContent,
}

#[derive(Object)]
struct Storage {
    /// The database: SQLite's pages in use, or PostgreSQL's `pg_database_size`.
    database_bytes: i64,
    /// Files in this node's media folder; null when media are kept on Cloudinary.
    #[oai(nullable)]
    media_bytes: Option<u64>,
}

/// The server panel. Counters are this node's (the same figures as its `/metrics`); a
/// message rate is the difference of `messages_accepted_total` between two samples over
/// the difference of their `sampled_at_ms`.
#[derive(Object)]
struct ServerOverview {
    name: String,
    version: String,
    registration: RegistrationMode,
    uptime_secs: u64,
    users: i64,
    disabled_users: i64,
    storage: Storage,
    /// WebSocket sessions on this node (`nexus_websocket_connections`).
    connections: u64,
    /// Distinct users with a WebSocket session on this node.
    connected_users: u64,
    /// `nexus_messages_accepted_total` of this node.
    messages_accepted_total: u64,
    /// `nexus_messages_stored_total` of this node.
    messages_stored_total: u64,
    /// Messages accepted per second on average since this node started.
    messages_per_sec_since_start: f64,
    /// When the counters were read (Unix milliseconds).
    sampled_at_ms: u64,
}

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::Admin")]
impl AdminApi {
    /// Accounts in username order, optionally those matching `query` (administrators).
    #[oai(path = "/users", method = "get")]
    async fn users(
        &self,
        auth: BearerAuth,
        /// Part of a username or display name (up to 64 characters).
        query: Query<Option<String>>,
        /// 1 to 200 (default 50).
        limit: Query<Option<u32>>,
        offset: Query<Option<u32>>,
    ) -> Result<Json<Vec<AdminUserView>>, Error> {
        let claims = auth.claims(&self.services)?;
        let users = self
            .services
            .admin
            .users(&claims, query.0.as_deref(), limit.0.unwrap_or(50), offset.0.unwrap_or(0))
            .await?;
        Ok(Json(users.into_iter().map(Into::into).collect()))
    }

    /// Make or remove an administrator, disable or enable an account (administrators).
    /// The last enabled administrator can be neither demoted nor disabled (`409 last_admin`).
    #[oai(path = "/users/:id", method = "patch")]
    async fn update_user(
        &self,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<AccountPatch>,
    ) -> Result<Json<AdminUserView>, Error> {
        let claims = auth.claims(&self.services)?;
        let change = AccountChange { is_admin: body.0.is_admin, disabled: body.0.disabled };
        Ok(Json(self.services.admin.update_user(&claims, id.0, change).await?.into()))
    }

    /// Create a single-use invite code (administrators).
    #[oai(path = "/invites", method = "post")]
    async fn create_invite(&self, auth: BearerAuth, body: Json<InviteRequest>) -> Result<InviteCreated, Error> {
        let claims = auth.claims(&self.services)?;
        let (invite, code) =
            self.services.admin.create_invite(&claims, body.0.note.as_deref(), body.0.expires_in_hours).await?;
        let path = format!("/invite/{code}");
        Ok(InviteCreated::Created(Json(CreatedInvite { code, path, invite: invite.into() })))
    }

    /// Invites, newest first (up to 500), with who used each (administrators).
    #[oai(path = "/invites", method = "get")]
    async fn invites(&self, auth: BearerAuth) -> Result<Json<Vec<InviteView>>, Error> {
        let claims = auth.claims(&self.services)?;
        Ok(Json(self.services.admin.invites(&claims).await?.into_iter().map(Into::into).collect()))
    }

    /// Revoke an unused invite; revoking it again is a no-op (administrators).
    #[oai(path = "/invites/:id", method = "delete")]
    async fn revoke_invite(&self, auth: BearerAuth, id: Path<Uuid>) -> Result<Done, Error> {
        let claims = auth.claims(&self.services)?;
        self.services.admin.revoke_invite(&claims, id.0).await?;
        Ok(Done::NoContent)
    }

    /// The server panel: name, registration, version, uptime, storage, this node's
    /// connections and message counters (administrators).
    #[oai(path = "/server", method = "get")]
    async fn server(&self, auth: BearerAuth, gateway: Data<&Gateway>) -> Result<Json<ServerOverview>, Error> {
        use std::sync::atomic::Ordering::Relaxed;
        let claims = auth.claims(&self.services)?;
        let o = self.services.admin.overview(&claims).await?;
        let stats = &self.services.messages.stats;
        let accepted = stats.accepted.load(Relaxed);
        let uptime = o.uptime.as_secs_f64().max(1.0);
        Ok(Json(ServerOverview {
            name: self.services.config.server.name.clone(),
            version: crate::VERSION.into(),
            registration: self.services.accounts.registration().into(),
            uptime_secs: o.uptime.as_secs(),
            users: o.users,
            disabled_users: o.disabled_users,
            storage: Storage { database_bytes: o.database_bytes, media_bytes: o.media_bytes },
            connections: gateway.registry.len() as u64,
            connected_users: gateway.registry.users() as u64,
            messages_accepted_total: accepted,
            messages_stored_total: stats.stored.load(Relaxed),
            messages_per_sec_since_start: accepted as f64 / uptime,
            sampled_at_ms: UNIX_EPOCH.elapsed().map(|d| d.as_millis() as u64).unwrap_or(0),
        }))
    }
}

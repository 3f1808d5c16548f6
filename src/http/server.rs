//! `/api/v1/server` (public facts the web client needs before sign-in) and
//! `/api/v1/admin/*` (administrator actions).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags, payload::Json};

use super::BearerAuth;
use crate::{config::Registration, error::Error, services::Services};

#[derive(Tags)]
enum ApiTags {
    /// This server
    Server,
    /// Administration
    Admin,
}

pub struct ServerApi {
    pub services: Arc<Services>,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
enum RegistrationMode {
    Open,
    Invite,
    Closed,
}

#[derive(Object)]
struct ServerInfo {
    name: String,
    version: String,
    /// Who may create an account.
    registration: RegistrationMode,
    /// No account exists yet: the next registration creates the administrator and needs
    /// no invite code.
    setup_required: bool,
}

#[derive(Object)]
struct Invite {
    /// Give this to the person to invite; it works once.
    code: String,
    expires_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
enum InviteCreated {
    #[oai(status = 201)]
    Created(Json<Invite>),
}

#[OpenApi(tag = "ApiTags::Server")]
impl ServerApi {
    /// Name, version and registration mode of this server.
    #[oai(path = "/server", method = "get")]
    async fn server(&self) -> Result<Json<ServerInfo>, Error> {
        let registration = match self.services.accounts.registration() {
            Registration::Open => RegistrationMode::Open,
            Registration::Invite => RegistrationMode::Invite,
            Registration::Closed => RegistrationMode::Closed,
        };
        Ok(Json(ServerInfo {
            name: self.services.config.server.name.clone(),
            version: crate::VERSION.into(),
            registration,
            setup_required: self.services.accounts.setup_required().await?,
        }))
    }

    /// Create a single-use invite code, valid for 7 days (administrators).
    #[oai(path = "/admin/invites", method = "post", tag = "ApiTags::Admin")]
    async fn create_invite(&self, auth: BearerAuth) -> Result<InviteCreated, Error> {
        let claims = auth.claims(&self.services)?;
        let (code, expires_at) = self.services.accounts.create_invite(&claims).await?;
        Ok(InviteCreated::Created(Json(Invite { code, expires_at })))
    }
}

//! `/api/v1/server`: the public facts the web client needs before sign-in. The
//! administrators' API is in [`super::admin`].

use std::sync::Arc;

use poem_openapi::{Enum, Object, OpenApi, Tags, payload::Json};

use crate::{config::Registration, error::Error, services::Services};

#[derive(Tags)]
enum ApiTags {
    /// This server
    Server,
}

pub struct ServerApi {
    pub services: Arc<Services>,
}

#[derive(Enum)]
#[oai(rename_all = "lowercase")]
pub enum RegistrationMode {
    Open,
    Invite,
    Closed,
}

impl From<Registration> for RegistrationMode {
    fn from(r: Registration) -> Self {
        match r {
            Registration::Open => RegistrationMode::Open,
            Registration::Invite => RegistrationMode::Invite,
            Registration::Closed => RegistrationMode::Closed,
        }
    }
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

#[OpenApi(tag = "ApiTags::Server")]
impl ServerApi {
    /// Name, version and registration mode of this server.
    #[oai(path = "/server", method = "get")]
    async fn server(&self) -> Result<Json<ServerInfo>, Error> {
        let registration = self.services.accounts.registration().into();
        Ok(Json(ServerInfo {
            name: self.services.config.server.name.clone(),
            version: crate::VERSION.into(),
            registration,
            setup_required: self.services.accounts.setup_required().await?,
        }))
    }
}

//! `/api/v1/calls/ice-servers`: the STUN/TURN servers a client passes to
//! `RTCPeerConnection`, with short-lived TURN REST credentials.

use std::sync::Arc;

use poem::Request;
use poem_openapi::{OpenApi, Tags, payload::Json};

use super::BearerAuth;
use crate::{error::Error, protocol::views::IceServers, services::Services};

#[derive(Tags)]
enum ApiTags {
    /// Calls
    Calls,
}

pub struct CallsApi {
    pub services: Arc<Services>,
}

#[OpenApi(tag = "ApiTags::Calls")]
impl CallsApi {
    /// STUN/TURN servers for `new RTCPeerConnection({iceServers})`, with TURN REST
    /// credentials (`username = <expiry>:<user id>`, `credential =
    /// base64(HMAC-SHA1(secret, username))`) valid for `ttl` seconds.
    #[oai(path = "/calls/ice-servers", method = "get")]
    async fn ice_servers(&self, req: &Request, auth: BearerAuth) -> Result<Json<IceServers>, Error> {
        let claims = auth.claims(&self.services)?;
        let host = req.headers().get("host").and_then(|h| h.to_str().ok());
        Ok(Json(self.services.calls.ice_servers(claims.sub, host)))
    }
}

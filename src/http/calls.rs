//! `/api/v1/calls/ice-servers`: the STUN/TURN servers a client passes to
//! `RTCPeerConnection`, with short-lived TURN REST credentials.

use std::sync::Arc;

use poem::Request;
use poem_openapi::{Object, OpenApi, Tags, payload::Json};

use super::BearerAuth;
use crate::{app::Services, error::Error, service::calls::turn_credentials};

#[derive(Tags)]
enum ApiTags {
    /// Calls
    Calls,
}

pub struct CallsApi {
    pub services: Arc<Services>,
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Object)]
struct IceServer {
    urls: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    username: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    credential: Option<String>,
}

#[derive(Object)]
struct IceServers {
    ice_servers: Vec<IceServer>,
    /// Seconds the TURN credentials stay valid.
    ttl: u64,
}

/// The host part of a `Host` header (`chat.example.org:8080` → `chat.example.org`,
/// `[::1]:8080` → `[::1]`), if it is a plausible host name or address.
fn host_of(header: &str) -> Option<String> {
    let host = if header.starts_with('[') {
        header.split_inclusive(']').next()?.to_string()
    } else {
        header.rsplit_once(':').map_or(header, |(h, _)| h).to_string()
    };
    let ok = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    ok.then_some(host)
}

#[OpenApi(tag = "ApiTags::Calls")]
impl CallsApi {
    /// STUN/TURN servers for `new RTCPeerConnection({iceServers})`, with TURN REST
    /// credentials (`username = <expiry>:<user id>`, `credential =
    /// base64(HMAC-SHA1(secret, username))`) valid for `ttl` seconds.
    #[oai(path = "/calls/ice-servers", method = "get")]
    async fn ice_servers(&self, req: &Request, auth: BearerAuth) -> Result<Json<IceServers>, Error> {
        let claims = auth.claims(&self.services)?;
        let cfg = &self.services.config.turn;
        let ttl = cfg.credential_ttl_secs;
        let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl as i64);
        let (username, credential) = turn_credentials(&self.services.turn_secret, claims.sub, expires);
        let mut servers = Vec::new();
        if let Some(relay) = self.services.turn.get() {
            let host = if cfg.public_host.is_empty() {
                req.headers().get("host").and_then(|h| h.to_str().ok()).and_then(host_of)
            } else {
                Some(cfg.public_host.clone())
            };
            if let Some(host) = host {
                let port = relay.addr().port();
                servers.push(IceServer { urls: vec![format!("stun:{host}:{port}")], username: None, credential: None });
                servers.push(IceServer {
                    urls: vec![format!("turn:{host}:{port}?transport=udp")],
                    username: Some(username.clone()),
                    credential: Some(credential.clone()),
                });
            }
        }
        let (stun, turn): (Vec<String>, Vec<String>) =
            cfg.extra_urls.iter().cloned().partition(|u| u.starts_with("stun:"));
        if !stun.is_empty() {
            servers.push(IceServer { urls: stun, username: None, credential: None });
        }
        if !turn.is_empty() {
            servers.push(IceServer { urls: turn, username: Some(username), credential: Some(credential) });
        }
        Ok(Json(IceServers { ice_servers: servers, ttl }))
    }
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_header_forms() {
        assert_eq!(host_of("chat.example.org").as_deref(), Some("chat.example.org"));
        assert_eq!(host_of("chat.example.org:8080").as_deref(), Some("chat.example.org"));
        assert_eq!(host_of("127.0.0.1:8080").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_of("[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(host_of("evil.org/x?y"), None);
        assert_eq!(host_of(""), None);
    }
}

//! The ICE servers a client passes to `RTCPeerConnection`: this node's TURN relay (when
//! it runs) and the configured extra servers, with short-lived TURN REST credentials.

use std::sync::Arc;

use uuid::Uuid;

use super::Calls;
use crate::{
    config::TurnConfig,
    protocol::views::{IceServer, IceServers},
    rtc::turn::{Relay, credentials::rest_credentials},
};

/// What the calls service knows of TURN: this node's relay, if it runs, and the shared
/// secret of the REST credentials (every node of a cluster has the same).
pub struct Relaying {
    pub relay: Option<Arc<Relay>>,
    pub secret: String,
    pub config: TurnConfig,
}

impl Calls {
    /// The ICE servers for `user`. The relay is announced at `turn.public_host`, or else
    /// at the host the client reached this server by (`host_header`, the request's
    /// `Host`), so that a client behind the same name finds it.
    pub fn ice_servers(&self, user: Uuid, host_header: Option<&str>) -> IceServers {
        let Relaying { relay, secret, config: cfg } = &self.relaying;
        let ttl = cfg.credential_ttl_secs;
        let expires = chrono::Utc::now() + chrono::Duration::seconds(ttl as i64);
        let (username, credential) = rest_credentials(secret, user, expires);
        let mut servers = Vec::new();
        if let Some(relay) = relay {
            let host = match cfg.public_host.is_empty() {
                true => host_header.and_then(host_of),
                false => Some(cfg.public_host.clone()),
            };
            if let Some(host) = host {
                let port = relay.addr().port();
                servers.push(IceServer { urls: vec![format!("stun:{host}:{port}")], username: None, credential: None });
                let mut urls = vec![format!("turn:{host}:{port}?transport=udp")];
                if let Some(tcp) = relay.tcp_addr() {
                    urls.push(format!("turn:{host}:{}?transport=tcp", tcp.port()));
                }
                servers.push(IceServer {
                    urls,
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
        IceServers { ice_servers: servers, ttl }
    }
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

//! The WebSocket gateway at `GET /api/v1/ws`: authenticate and check the origin before the
//! upgrade, then run one [`session`] per socket. The [`registry::Registry`] holds this
//! node's sockets; the service dispatcher ([`crate::service::dispatch`]) hands it every
//! event of the fan-out meant for them.

mod changes;
pub mod registry;
mod rooms;
mod session;

use std::{sync::Arc, time::Duration};

use poem::{
    IntoResponse, Request, Response, handler,
    http::StatusCode,
    web::{
        Data, Query,
        websocket::{WebSocket, WebSocketConfig},
    },
};
use serde::Deserialize;
use tokio::{sync::watch, task::JoinHandle};

use self::registry::Registry;
use crate::{
    error::Error,
    http::problem::{Problem, problem},
    service::dispatch::Dispatcher,
    services::Services,
};

/// Close codes (see `docs/protocol.md`).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// A frame broke the WebSocket protocol (RFC 6455: reserved bits, a stray continuation, …).
pub const CLOSE_PROTOCOL: u16 = 1002;
/// A text frame that is not UTF-8.
pub const CLOSE_INVALID_DATA: u16 = 1007;
pub const CLOSE_TOO_BIG: u16 = 1009;
/// The bus could not record the socket in presence (so the fan-out would not find it).
pub const CLOSE_TRY_AGAIN: u16 = 1013;
pub const CLOSE_IDLE: u16 = 4002;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4003;
pub const CLOSE_TOO_SLOW: u16 = 4008;
/// An administrator disabled the account.
pub const CLOSE_ACCOUNT_DISABLED: u16 = 4010;
pub const CLOSE_FLOOD: u16 = 4029;

/// The gateway of one node.
#[derive(Clone)]
pub struct Gateway {
    pub registry: Arc<Registry>,
    /// Turns true when the node shuts down: sessions close with 1001.
    pub shutdown: watch::Receiver<bool>,
}

impl Gateway {
    /// Start this node's dispatcher, which delivers fan-out batches to the registry's
    /// sockets.
    pub async fn start(
        services: Arc<Services>,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<(Gateway, JoinHandle<()>)> {
        let registry = Arc::new(Registry::default());
        let dispatcher = Dispatcher {
            bus: services.bus.clone(),
            caches: services.caches.clone(),
            calls: services.calls.clone(),
            rooms: services.rooms.clone(),
            presence: services.presence.clone(),
            stats: services.fanout.stats.clone(),
        };
        let task = dispatcher.start(registry.clone(), shutdown.clone()).await?;
        Ok((Gateway { registry, shutdown }, task))
    }
}

#[derive(Deserialize)]
struct WsQuery {
    token: Option<String>,
}

fn refuse(e: Error) -> Response {
    problem(&e).into_response()
}

#[handler]
pub async fn ws(
    req: &Request,
    socket: WebSocket,
    Query(query): Query<WsQuery>,
    services: Data<&Arc<Services>>,
    gateway: Data<&Gateway>,
) -> Response {
    let cfg = &services.config.gateway;
    if !crate::http::origin::allowed(req, &cfg.allowed_origins) {
        return Problem::new(StatusCode::FORBIDDEN, "origin_not_allowed", "this origin may not connect".into(), None)
            .into_response();
    }
    let header_token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::to_string);
    let Some(token) = header_token.or(query.token) else {
        return refuse(Error::unauthorized("an access token is required (token query parameter or Bearer header)"));
    };
    let claims = match services.accounts.authenticate(&token) {
        Ok(c) => c,
        Err(e) => return refuse(e),
    };
    let user = match services.accounts.me(claims.sub).await {
        Ok(u) => u,
        Err(e) => return refuse(e),
    };
    // A socket's read buffer lives as long as it does: 1 KiB holds any ordinary client
    // frame in one read (a larger frame grows it for that frame), so 100,000 idle sockets
    // hold 100 MB of read buffers, not the 400 MB of 4 KiB each.
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_message_size(Some(cfg.max_frame_bytes))
        .max_frame_size(Some(cfg.max_frame_bytes));
    let services = services.0.clone();
    let gateway = gateway.0.clone();
    socket
        .config(config)
        .on_upgrade(move |stream| session::run(stream, services, gateway, user, claims.exp))
        .into_response()
}

/// How long the session may stay open with this token.
fn token_remaining(exp: i64) -> Duration {
    let left = exp - chrono::Utc::now().timestamp();
    Duration::from_secs(left.max(0) as u64)
}

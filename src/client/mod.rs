//! The black-box client that `nexus-bench` and the test suites (`tests/suite`) share: the
//! REST calls they both make and a WebSocket speaking the event protocol, talking to a
//! server the way any client would. Nothing here asserts or retries: each caller decides
//! what a status or a missing event means (the tests panic, the load generator counts).
//! The server itself never uses this module.
//!
//! [`sfu_peer`] is a WebRTC participant of a group call (on str0m), for the same two users.

pub mod sfu_peer;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message, protocol::WebSocketConfig};

/// A WebSocket connection to the gateway.
pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The status and the JSON body of `response`.
async fn status_and_json(response: reqwest::Response) -> reqwest::Result<(StatusCode, Value)> {
    let status = response.status();
    Ok((status, response.json().await?))
}

/// `POST /api/v1/auth/register`; the status and the body (the tokens and the user on
/// success, problem JSON otherwise).
pub async fn register(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    display_name: &str,
    password: &str,
) -> reqwest::Result<(StatusCode, Value)> {
    let body = json!({"username": username, "display_name": display_name, "password": password});
    status_and_json(http.post(format!("{base}/api/v1/auth/register")).json(&body).send().await?).await
}

/// `POST /api/v1/conversations` as `token`; the status and the body (the conversation on
/// success).
pub async fn create_conversation(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> reqwest::Result<(StatusCode, Value)> {
    status_and_json(http.post(format!("{base}/api/v1/conversations")).bearer_auth(token).json(body).send().await?).await
}

/// One page of `GET /api/v1/conversations/{conversation}/messages?{query}` as `token`; the
/// status and the body (an array of messages on success).
pub async fn history(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    conversation: &str,
    query: &str,
) -> reqwest::Result<(StatusCode, Value)> {
    let url = format!("{base}/api/v1/conversations/{conversation}/messages?{query}");
    status_and_json(http.get(url).bearer_auth(token).send().await?).await
}

/// The gateway's URL for `token` on the server at `base` (`http://host:port`).
pub fn ws_url(base: &str, token: &str) -> String {
    format!("{}/api/v1/ws?token={token}", base.replace("http://", "ws://"))
}

/// Open a WebSocket as `token` with tungstenite's defaults.
pub async fn connect(base: &str, token: &str) -> Result<WsStream, tungstenite::Error> {
    Ok(tokio_tungstenite::connect_async(ws_url(base, token)).await?.0)
}

/// Open a WebSocket as `token` with `config`; `nodelay` sends each frame at once
/// (`TCP_NODELAY`), as browsers do.
pub async fn connect_with(
    base: &str,
    token: &str,
    config: WebSocketConfig,
    nodelay: bool,
) -> Result<WsStream, tungstenite::Error> {
    Ok(tokio_tungstenite::connect_async_with_config(ws_url(base, token), Some(config), nodelay).await?.0)
}

/// Send one event (a JSON text frame).
pub async fn send_event(ws: &mut WsStream, event: &Value) -> Result<(), tungstenite::Error> {
    ws.send(Message::text(event.to_string())).await
}

/// Why [`next_event`] returned no event.
#[derive(Debug)]
pub enum NoEvent {
    /// Nothing arrived before the deadline.
    TimedOut,
    /// The server closed the socket (or the stream ended).
    Closed,
    /// Reading from the socket failed.
    Read(tungstenite::Error),
    /// Answering a ping failed.
    Pong(tungstenite::Error),
    /// A text frame that is not JSON.
    NotJson(serde_json::Error),
}

/// The next event on `ws` before `deadline`. Pings are answered and other non-text frames
/// skipped.
pub async fn next_event(ws: &mut WsStream, deadline: tokio::time::Instant) -> Result<Value, NoEvent> {
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.map_err(|_| NoEvent::TimedOut)?;
        match frame {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).map_err(NoEvent::NotJson),
            Some(Ok(Message::Ping(p))) => ws.send(Message::Pong(p)).await.map_err(NoEvent::Pong)?,
            Some(Ok(Message::Close(_))) | None => return Err(NoEvent::Closed),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(NoEvent::Read(e)),
        }
    }
}

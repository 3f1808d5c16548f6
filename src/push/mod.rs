//! Web Push, the sending side (RFC 8030 delivery, RFC 8291 message encryption, RFC 8292
//! VAPID): the seam between the push service ([`crate::service::push`]) and the browser
//! vendors' push services. Encryption is `web-push-native` (aes128gcm, pure Rust); the
//! requests go out through reqwest, without redirects.
//!
//! [`Sender::send`] makes one attempt and classifies the answer ([`Delivery`]); retrying,
//! back-off and forgetting gone subscriptions are the service's job.

pub mod endpoint;
mod vapid;

use std::time::Duration;

pub use self::vapid::{BadKey, Vapid, VapidClaims};

/// RFC 8030 section 5.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    fn header(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// One push to one subscription.
pub struct Outgoing<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
    /// The plaintext (encrypted here).
    pub payload: &'a [u8],
    /// Seconds the push service may keep it for an offline device.
    pub ttl: u64,
    pub urgency: Urgency,
    /// A newer push with the same topic replaces an undelivered older one (RFC 8030
    /// section 5.4): at most 32 characters of the base64url alphabet.
    pub topic: Option<String>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the push service (2xx).
    Sent,
    /// The subscription no longer exists (404, 410): forget it.
    Gone,
    /// Try again later (429, 5xx, a network error or timeout), after `after` when the
    /// service said so (`Retry-After`).
    Retry { after: Option<Duration>, why: String },
    /// Refused for good (another 4xx, a subscription whose keys do not encrypt).
    Refused { why: String },
}

/// Sends pushes, signed with this server's VAPID key.
pub struct Sender {
    http: reqwest::Client,
    vapid: Vapid,
}

impl Sender {
    pub fn new(vapid: Vapid, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Sender { http, vapid })
    }

    pub fn vapid(&self) -> &Vapid {
        &self.vapid
    }

    pub async fn send(&self, o: &Outgoing<'_>) -> Delivery {
        let refused = |why: String| Delivery::Refused { why };
        let url = match url::Url::parse(o.endpoint) {
            Ok(u) => u,
            Err(e) => return refused(format!("endpoint: {e}")),
        };
        let keys = match endpoint::check_keys(o.p256dh, o.auth) {
            Ok(k) => k,
            Err(e) => return refused(e.0),
        };
        let auth = web_push_native::Auth::from(keys.auth);
        let body = match web_push_native::encrypt(o.payload.to_vec(), &keys.p256dh, &auth) {
            Ok(b) => b,
            Err(e) => return refused(format!("encryption: {e}")),
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let authorization = match self.vapid.authorization(&url, now) {
            Ok(a) => a,
            Err(e) => return refused(format!("vapid: {e}")),
        };
        let mut req = self
            .http
            .post(url)
            .header("TTL", o.ttl.to_string())
            .header("Urgency", o.urgency.header())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Authorization", authorization)
            .body(body);
        if let Some(topic) = &o.topic {
            req = req.header("Topic", topic);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Delivery::Retry { after: None, why: format!("request: {e}") },
        };
        let status = resp.status();
        let after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        match status.as_u16() {
            200..=299 => Delivery::Sent,
            404 | 410 => Delivery::Gone,
            429 | 500..=599 => Delivery::Retry { after, why: format!("push service answered {status}") },
            _ => refused(format!("push service answered {status}")),
        }
    }
}

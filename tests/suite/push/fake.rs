//! A push service on 127.0.0.1, speaking RFC 8030 the way the browser vendors' do, and
//! checking each request as they would: the VAPID JWT (RFC 8292: ES256, signed by the
//! key in `k=`, `aud` its own origin, `exp` within 24 hours, a `sub` contact), the
//! `aes128gcm` body, which it decrypts with the subscription's private key as the browser
//! would (RFC 8291). A request that fails a check is answered 400 and recorded as a fault.
//! Each subscription's answers can be scripted (e.g. 500, 500, then 201; or 410).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use poem::{
    EndpointExt, Request, Route, Server, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    web::{Data, Path},
};
use serde_json::{Value, json};

/// One push as the browser would see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subscription: String,
    pub payload: Value,
    pub ttl: u64,
    pub urgency: String,
    pub topic: Option<String>,
    /// The `k=` of the VAPID header.
    pub vapid_key: String,
}

struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

#[derive(Default)]
struct State {
    browsers: HashMap<String, Browser>,
    script: HashMap<String, VecDeque<u16>>,
    received: Vec<Received>,
    /// Every request per subscription, with the status answered.
    attempts: Vec<(String, u16, Instant)>,
    faults: Vec<String>,
}

#[derive(Clone)]
pub struct FakePushService {
    pub origin: String,
    state: Arc<Mutex<State>>,
}

impl FakePushService {
    pub async fn start() -> FakePushService {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let origin = format!("http://{addr}");
        let fake = FakePushService { origin: origin.clone(), state: Arc::default() };
        let app = Route::new().at("/push/:id", poem::post(receive)).data(fake.clone());
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        fake
    }

    /// A new browser subscription: `PushSubscription.toJSON()` as the browser would give it.
    pub fn subscription(&self, id: &str) -> Value {
        let secret = loop {
            if let Ok(k) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break k;
            }
        };
        let auth: [u8; 16] = rand::random();
        let json = json!({
            "endpoint": format!("{}/push/{id}", self.origin),
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(auth),
            }
        });
        self.state.lock().unwrap().browsers.insert(id.to_string(), Browser { secret, auth });
        json
    }

    /// Answer the next requests for `id` with these statuses (then 201).
    pub fn script(&self, id: &str, statuses: &[u16]) {
        self.state.lock().unwrap().script.insert(id.to_string(), statuses.iter().copied().collect());
    }

    pub fn received(&self, id: &str) -> Vec<Received> {
        self.state.lock().unwrap().received.iter().filter(|r| r.subscription == id).cloned().collect()
    }

    pub fn attempts(&self, id: &str) -> Vec<(u16, Instant)> {
        self.state.lock().unwrap().attempts.iter().filter(|a| a.0 == id).map(|a| (a.1, a.2)).collect()
    }

    pub fn faults(&self) -> Vec<String> {
        self.state.lock().unwrap().faults.clone()
    }

    /// Wait until `id` has received `n` pushes; returns them.
    pub async fn wait_for(&self, id: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.received(id);
            if got.len() >= n {
                return got;
            }
            assert!(self.faults().is_empty(), "push service faults: {:?}", self.faults());
            assert!(Instant::now() < deadline, "{id}: {} of {n} pushes in 20 s", got.len());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[handler]
async fn receive(req: &Request, Path(id): Path<String>, body: Vec<u8>, fake: Data<&FakePushService>) -> StatusCode {
    let checked = check(req, &id, body, &fake);
    let mut state = fake.state.lock().unwrap();
    let status = match checked {
        Err(fault) => {
            state.faults.push(format!("{id}: {fault}"));
            400
        }
        Ok(received) => {
            let status = state.script.get_mut(&id).and_then(VecDeque::pop_front).unwrap_or(201);
            if status == 201 {
                state.received.push(received);
            }
            status
        }
    };
    state.attempts.push((id, status, Instant::now()));
    StatusCode::from_u16(status).unwrap()
}

fn check(req: &Request, id: &str, body: Vec<u8>, fake: &FakePushService) -> Result<Received, String> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        return Err("Content-Encoding is not aes128gcm".into());
    }
    let ttl: u64 = header("ttl").and_then(|t| t.parse().ok()).ok_or("no TTL")?;
    let urgency = header("urgency").unwrap_or_else(|| "normal".into());
    if !["very-low", "low", "normal", "high"].contains(&urgency.as_str()) {
        return Err(format!("bad Urgency {urgency}"));
    }
    let topic = header("topic");
    if let Some(t) = &topic
        && (t.len() > 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(format!("bad Topic {t}"));
    }
    let authorization = header("authorization").ok_or("no Authorization")?;
    let (jwt, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .ok_or("Authorization is not `vapid t=…, k=…`")?;
    let point = URL_SAFE_NO_PAD.decode(k).map_err(|_| "k is not base64url")?;
    if point.len() != 65 {
        return Err("k is not an uncompressed P-256 point".into());
    }
    let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
    let key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y).map_err(|e| format!("k: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[&fake.origin]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation).map_err(|e| format!("VAPID JWT: {e}"))?.claims;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let exp = claims["exp"].as_u64().ok_or("exp")?;
    if exp > now + 24 * 3600 {
        return Err("exp more than 24 hours ahead".into());
    }
    let sub = claims["sub"].as_str().unwrap_or_default();
    if !(sub.starts_with("mailto:") || sub.starts_with("https://")) {
        return Err(format!("sub {sub}"));
    }
    let state = fake.state.lock().unwrap();
    let browser = state.browsers.get(id).ok_or("unknown subscription")?;
    let auth = web_push_native::Auth::from(browser.auth);
    let plain = web_push_native::decrypt(body, &browser.secret, &auth).map_err(|e| format!("decrypt: {e}"))?;
    let payload: Value = serde_json::from_slice(&plain).map_err(|e| format!("payload is not JSON: {e}"))?;
    Ok(Received { subscription: id.to_string(), payload, ttl, urgency, topic, vapid_key: k.to_string() })
}

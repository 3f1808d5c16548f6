//! One device of the chaos load: the web client's behaviour when things break (back-off,
//! ping and pong timeout, the outbox sent again with the same `client_id`, catch-up on
//! every `ready` and at every gap), and what it saw.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt, stream::SplitSink, stream::SplitStream};
use nexus::client::WsStream;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::connect;

/// What every device task reads.
pub(super) struct Ctx {
    pub(super) urls: Vec<String>,
    pub(super) http: reqwest::Client,
    pub(super) started: Instant,
    pub(super) stop_at: Instant,
    pub(super) end_at: Instant,
    pub(super) ping: Duration,
    pub(super) pong_timeout: Duration,
    pub(super) send_timeout: Duration,
    /// Devices with a socket past `ready` and caught up.
    pub(super) live: AtomicI64,
}

impl Ctx {
    pub(super) fn us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_micros() as u64
    }
}

pub(super) struct Spec {
    pub(super) user: usize,
    pub(super) token: String,
    pub(super) user_id: String,
    pub(super) home: usize,
    pub(super) convs: Vec<String>,
    /// Device 0: its direct conversation, its group, the interval between its messages.
    pub(super) sends: Option<(String, Option<String>, Duration, u64)>,
}

pub(super) struct Out {
    pub(super) conv: String,
    pub(super) body: String,
    pub(super) offered: Instant,
    pub(super) sent: Option<Instant>,
    pub(super) retry_at: Option<Instant>,
}

/// One device's state, and what it reports when the load is over.
#[derive(Default)]
pub(super) struct Device {
    pub(super) offered: u64,
    pub(super) next_k: u64,
    pub(super) next_due: Option<Instant>,
    pub(super) pending: BTreeMap<u64, Out>,
    /// (offered µs, ack µs) of each acknowledged message.
    pub(super) acks: Vec<(u64, u64)>,
    /// (offered µs, delivered µs) of others' messages that arrived live on this device.
    pub(super) delivered: Vec<(u64, u64)>,
    pub(super) acked_ids: HashMap<String, Vec<String>>,
    /// The id each acknowledged `k` was given, to catch a later ack with another id.
    pub(super) ack_of: HashMap<u64, String>,
    pub(super) ack_mismatches: u64,
    pub(super) failed: u64,
    pub(super) errors: HashMap<String, u64>,
    pub(super) resends: u64,
    pub(super) send_timeouts: u64,
    /// Per conversation: seq → id seen, and the highest seq up to which nothing is missing.
    pub(super) seen: HashMap<String, HashMap<i64, String>>,
    pub(super) contiguous: HashMap<String, i64>,
    pub(super) redelivered: u64,
    pub(super) conflicts: u64,
    pub(super) catchup_requests: u64,
    pub(super) catchup_messages: u64,
    pub(super) drops: u64,
    pub(super) connect_failures: u64,
    /// (socket lost µs, caught up again µs).
    pub(super) outages: Vec<(u64, u64)>,
}

pub(super) enum Down {
    End,
    Lost,
}

pub(super) type Tx = SplitSink<WsStream, Message>;
pub(super) type Rx = SplitStream<WsStream>;

impl Device {
    fn generate(&mut self, ctx: &Ctx, spec: &Spec, share: u64, now: Instant) {
        let Some((dm, group, interval, phase)) = &spec.sends else { return };
        let due = self.next_due.get_or_insert(ctx.started + Duration::from_micros(*phase));
        while *due <= now && *due < ctx.stop_at {
            let k = self.next_k;
            self.next_k += 1;
            let to_group = group.is_some() && (k * 37 + spec.user as u64) % 100 < share;
            let conv = if to_group { group.clone().unwrap_or_default() } else { dm.clone() };
            let body = format!("chaos {} {k} t{}", spec.user, ctx.us(*due));
            self.pending.insert(k, Out { conv, body, offered: *due, sent: None, retry_at: None });
            self.offered += 1;
            *due += *interval;
        }
    }

    fn acked(&mut self, ctx: &Ctx, k: u64, conv: String, id: String) {
        if let Some(out) = self.pending.remove(&k) {
            self.acks.push((ctx.us(out.offered), ctx.us(Instant::now())));
            self.acked_ids.entry(conv).or_default().push(id.clone());
            self.ack_of.insert(k, id);
        } else if self.ack_of.get(&k).is_some_and(|first| *first != id) {
            // A second answer (a resend's ack, the echo) naming another message.
            self.ack_mismatches += 1;
            self.acked_ids.entry(conv).or_default().push(id);
        }
    }

    /// Record `seq` of `conv`; true if it leaves a gap behind it.
    fn receive(&mut self, conv: &str, seq: i64, id: &str) -> bool {
        let seen = self.seen.entry(conv.to_string()).or_default();
        match seen.get(&seq) {
            Some(known) if known == id => self.redelivered += 1,
            Some(_) => self.conflicts += 1,
            None => {
                seen.insert(seq, id.to_string());
            }
        }
        let c = self.contiguous.entry(conv.to_string()).or_default();
        while seen.contains_key(&(*c + 1)) {
            *c += 1;
        }
        seq > *c
    }

    /// Fetch `seq > contiguous` of `conv` page by page.
    async fn catch_up(&mut self, ctx: &Ctx, url: &str, token: &str, conv: &str) -> anyhow::Result<()> {
        loop {
            let after = self.contiguous.get(conv).copied().unwrap_or(0);
            self.catchup_requests += 1;
            let query = format!("after_seq={after}&limit=100");
            let (status, page) = tokio::time::timeout(
                Duration::from_secs(10),
                nexus::client::history(&ctx.http, url, token, conv, &query),
            )
            .await
            .context("history timed out")??;
            anyhow::ensure!(status.is_success(), "history: {status}");
            let page: Vec<Value> = serde_json::from_value(page)?;
            for m in &page {
                let (Some(seq), Some(id)) = (m["seq"].as_i64(), m["id"].as_str()) else { continue };
                if !self.seen.get(conv).is_some_and(|s| s.contains_key(&seq)) {
                    self.catchup_messages += 1;
                }
                self.receive(conv, seq, id);
            }
            if page.len() < 100 || self.contiguous.get(conv).copied().unwrap_or(0) == after {
                return Ok(());
            }
        }
    }

    /// Send what is due: new messages, retries whose time has come, sends unanswered for
    /// `send_timeout`.
    async fn flush(&mut self, ctx: &Ctx, spec: &Spec, tx: &mut Tx) -> Result<(), ()> {
        let now = Instant::now();
        for (k, out) in self.pending.iter_mut() {
            let due = match (out.sent, out.retry_at) {
                (None, None) => true,
                (None, Some(at)) => at <= now,
                (Some(sent), _) if now.duration_since(sent) >= ctx.send_timeout => {
                    self.send_timeouts += 1;
                    true
                }
                _ => false,
            };
            if !due {
                continue;
            }
            if out.retry_at.take().is_some() || out.sent.is_some() {
                self.resends += 1;
            }
            let frame = json!({"type": "message.send", "client_id": format!("{}-{k}", spec.user),
                "conversation_id": out.conv, "body": out.body});
            out.sent = Some(now);
            tx.send(Message::text(frame.to_string())).await.map_err(|_| ())?;
        }
        Ok(())
    }

    fn next_wake(&self, ctx: &Ctx) -> Instant {
        let mut at = ctx.end_at;
        if let Some(due) = self.next_due.filter(|d| *d < ctx.stop_at) {
            at = at.min(due);
        }
        for out in self.pending.values() {
            match (out.sent, out.retry_at) {
                (Some(sent), _) => at = at.min(sent + ctx.send_timeout),
                (None, Some(r)) => at = at.min(r),
                (None, None) => at = Instant::now(),
            }
        }
        at
    }

    /// One socket's life after `ready` and catch-up: until it is lost or the run ends.
    async fn session(&mut self, ctx: &Ctx, spec: &Spec, share: u64, url: &str, tx: &mut Tx, rx: &mut Rx) -> Down {
        let mut ping_at = Instant::now() + ctx.ping;
        let mut pong_by: Option<Instant> = None;
        let me = format!("{}-", spec.user);
        loop {
            let now = Instant::now();
            if now >= ctx.end_at {
                return Down::End;
            }
            self.generate(ctx, spec, share, now);
            if self.flush(ctx, spec, tx).await.is_err() {
                return Down::Lost;
            }
            if pong_by.is_some_and(|by| now >= by) {
                return Down::Lost;
            }
            if now >= ping_at {
                if tx.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() {
                    return Down::Lost;
                }
                ping_at = now + ctx.ping;
                pong_by = Some(now + ctx.pong_timeout);
            }
            let wake = self.next_wake(ctx).min(ping_at).min(pong_by.unwrap_or(ping_at));
            let frame = tokio::select! {
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => continue,
                frame = rx.next() => frame,
            };
            let text = match frame {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Down::Lost,
                Some(Ok(_)) => continue,
            };
            // Any frame proves the socket alive, not just the pong.
            pong_by = None;
            let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
            let own = |c: &str| c.strip_prefix(&me).and_then(|k| k.parse::<u64>().ok());
            match v["type"].as_str().unwrap_or_default() {
                "message.ack" => {
                    if let (Some(k), Some(id)) = (v["client_id"].as_str().and_then(own), v["id"].as_str()) {
                        let conv = v["conversation_id"].as_str().unwrap_or_default().to_string();
                        self.acked(ctx, k, conv, id.to_string());
                    }
                }
                "message.new" => {
                    let m = &v["message"];
                    let (Some(conv), Some(seq), Some(id)) =
                        (m["conversation_id"].as_str(), m["seq"].as_i64(), m["id"].as_str())
                    else {
                        continue;
                    };
                    // The echo of an own message settles it as the ack does.
                    if m["sender_id"].as_str() == Some(spec.user_id.as_str()) {
                        if let Some(k) = m["client_id"].as_str().and_then(own) {
                            self.acked(ctx, k, conv.to_string(), id.to_string());
                        }
                    } else if !self.seen.get(conv).is_some_and(|s| s.contains_key(&seq))
                        && let Some(us) = m["body"]
                            .as_str()
                            .and_then(|b| b.rsplit_once(" t"))
                            .and_then(|(_, t)| t.parse::<u64>().ok())
                    {
                        self.delivered.push((us, ctx.us(Instant::now()).max(us)));
                    }
                    if self.receive(conv, seq, id) && self.catch_up(ctx, url, &spec.token, conv).await.is_err() {
                        return Down::Lost;
                    }
                }
                "error" => {
                    let code = v["code"].as_str().unwrap_or("?").to_string();
                    *self.errors.entry(code.clone()).or_default() += 1;
                    let Some(k) = v["client_id"].as_str().and_then(own) else { continue };
                    if matches!(code.as_str(), "unavailable" | "internal" | "rate_limited" | "delivery_failed") {
                        if let Some(out) = self.pending.get_mut(&k) {
                            let wait = v["retry_after_ms"].as_u64().unwrap_or(1000);
                            out.sent = None;
                            out.retry_at = Some(Instant::now() + Duration::from_millis(wait));
                        }
                    } else if self.pending.remove(&k).is_some() {
                        self.failed += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

/// The documented back-off: attempt n waits a random time in [cap/2, cap], cap =
/// min(30 s, 0.5 s · 2ⁿ).
pub(super) fn backoff(attempt: u32) -> Duration {
    let cap = (500.0 * 2f64.powi(attempt.min(20) as i32)).min(30_000.0);
    Duration::from_millis((cap / 2.0 + cap / 2.0 * rand::random::<f64>()) as u64)
}

/// A socket to `url` past its `ready`, within 10 s.
pub(super) async fn open(url: &str, token: &str) -> anyhow::Result<(Tx, Rx)> {
    let ws = tokio::time::timeout(Duration::from_secs(10), connect(url, token, true)).await.context("connect")??;
    let (tx, mut rx) = ws.split();
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(until, rx.next()).await.context("ready")? {
            Some(Ok(Message::Text(t))) if t.contains(r#""type":"ready""#) => return Ok((tx, rx)),
            Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => {}
            other => anyhow::bail!("no ready: {other:?}"),
        }
    }
}

pub(super) async fn run_device(ctx: Arc<Ctx>, spec: Spec, share: u64, first: (Tx, Rx)) -> Device {
    let mut d = Device::default();
    let mut node = spec.home;
    let mut socket = Some(first);
    let mut attempt = 0u32;
    let mut lost_at: Option<Instant> = None;
    loop {
        if Instant::now() >= ctx.end_at {
            break;
        }
        let url = ctx.urls[node].clone();
        let (mut tx, mut rx) = match socket.take() {
            Some(s) => s,
            None => {
                tokio::time::sleep(backoff(attempt)).await;
                d.generate(&ctx, &spec, share, Instant::now());
                match open(&url, &spec.token).await {
                    Ok(s) => s,
                    Err(_) => {
                        d.connect_failures += 1;
                        attempt += 1;
                        node = (node + 1) % ctx.urls.len();
                        continue;
                    }
                }
            }
        };
        let mut caught_up = true;
        for conv in &spec.convs {
            if d.catch_up(&ctx, &url, &spec.token, conv).await.is_err() {
                caught_up = false;
                break;
            }
        }
        if !caught_up {
            d.connect_failures += 1;
            attempt += 1;
            continue;
        }
        attempt = 0;
        if let Some(at) = lost_at.take() {
            d.outages.push((ctx.us(at), ctx.us(Instant::now())));
        }
        // Everything unanswered goes out again on the new socket.
        d.resends += d.pending.values().filter(|o| o.sent.is_some() || o.retry_at.is_some()).count() as u64;
        for out in d.pending.values_mut() {
            out.sent = None;
            out.retry_at = None;
        }
        ctx.live.fetch_add(1, Ordering::Relaxed);
        let down = d.session(&ctx, &spec, share, &url, &mut tx, &mut rx).await;
        ctx.live.fetch_sub(1, Ordering::Relaxed);
        let _ = tokio::time::timeout(Duration::from_secs(1), tx.close()).await;
        match down {
            Down::End => break,
            Down::Lost => {
                d.drops += 1;
                lost_at = Some(Instant::now());
            }
        }
    }
    if let Some(at) = lost_at {
        d.outages.push((ctx.us(at), u64::MAX));
    }
    d
}

/// A socket that completes its handshake and then never reads, with a 4 KiB receive
/// buffer so that the server's writes stall soon.
pub(super) async fn stall(url: &str, token: &str) -> anyhow::Result<WsStream> {
    let addr: std::net::SocketAddr =
        url::Url::parse(url)?.socket_addrs(|| None)?.into_iter().next().context("address")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let tcp = socket.connect(addr).await?;
    let request = nexus::client::ws_url(url, token);
    let config = crate::common::client_config();
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        request,
        tokio_tungstenite::MaybeTlsStream::Plain(tcp),
        Some(config),
    )
    .await?;
    Ok(ws)
}

/// Whether the server has closed a stalled socket: read what it holds, for at most 3 s; a
/// socket still open keeps yielding messages until then.
pub(super) async fn closed(ws: &mut WsStream) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(until, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_equal_jitter_capped_at_30_s() {
        for _ in 0..100 {
            let d0 = backoff(0).as_millis();
            assert!((250..=500).contains(&d0), "{d0}");
            let d3 = backoff(3).as_millis();
            assert!((2000..=4000).contains(&d3), "{d3}");
            let d9 = backoff(9).as_millis();
            assert!((15_000..=30_000).contains(&d9), "{d9}");
        }
    }

    #[test]
    fn a_gap_is_seen_and_closed() {
        let mut d = Device::default();
        assert!(!d.receive("c", 1, "a"));
        assert!(d.receive("c", 3, "c"));
        assert!(!d.receive("c", 2, "b"));
        assert_eq!(d.contiguous["c"], 3);
        d.receive("c", 2, "b");
        d.receive("c", 2, "x");
        assert_eq!((d.redelivered, d.conflicts), (1, 1));
    }
}

//! `group`: fan-out to one large group. `members` users, one socket each; one of them (the
//! sender) posts at a fixed rate, first for a warm-up, then for the measured window. Each
//! body carries its send time (µs since the run's epoch, one clock for the whole process),
//! so every other socket records send → `message.new` latency without any shared state.
//! Reports deliveries expected and received, lost, duplicated (by `seq`, one per stored
//! message, per socket), percentiles, deliveries per second, and the server's CPU seconds
//! and RSS over the window.

use std::{
    borrow::Cow,
    collections::BTreeMap,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use nexus::client::{self, WsStream};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::{Message, protocol::CloseFrame};

use crate::common::{
    check_loopback, connect, cpu_secs, http_client, next_event, percentile, register_users, rss_mb, run_tag, sum_over,
};

pub struct GroupPlan {
    pub url: String,
    pub members: usize,
    pub rate: u64,
    pub warmup: u64,
    pub duration: u64,
    /// Seconds to wait after the last send for deliveries still on their way.
    pub drain: u64,
    pub server_pids: Vec<u32>,
}

/// Sockets opened at once while connecting the members.
const CONNECTING: usize = 32;
/// Ids per `POST /conversations/{id}/members` (the server's cap per request).
const ADD_CHUNK: usize = 256;

/// What the receivers are told: when to stop at the latest, and (once the sender is done)
/// how many measured messages to wait for.
#[derive(Clone, Copy)]
struct Stop {
    deadline: tokio::time::Instant,
    target: Option<u64>,
}

/// Just the fields of a `message.new` that the receivers need; everything else is skipped.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    message: Option<Msg<'a>>,
}

#[derive(Deserialize)]
struct Msg<'a> {
    seq: u64,
    #[serde(borrow)]
    body: Cow<'a, str>,
}

/// One receiving socket's record, merged at the end.
#[derive(Default)]
struct Received {
    latency_us: Vec<u32>,
    unique: u64,
    duplicates: u64,
    /// µs since the epoch of the last measured delivery.
    last_us: u64,
    /// Why the socket ended before it was told to stop (server close code, error).
    ended: Option<String>,
}

/// Which `seq`s a socket has seen (`seq` is 1, 2, 3, … in a new group).
#[derive(Default)]
struct Seen(Vec<u64>);

impl Seen {
    /// True if `seq` was not seen before.
    fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }
}

/// The body of message `k`: `m` (measured) or `w` (warm-up), `k`, the send time.
fn body(measured: bool, k: u64, sent_us: u64) -> String {
    format!("{}{k} {sent_us}", if measured { 'm' } else { 'w' })
}

fn close_text(c: Option<CloseFrame>) -> String {
    c.map(|c| format!("closed {} {}", u16::from(c.code), c.reason)).unwrap_or_else(|| "closed".into())
}

fn record(text: &str, epoch: Instant, seen: &mut Seen, r: &mut Received) {
    let Ok(Event { kind, message: Some(m) }) = serde_json::from_str::<Event>(text) else { return };
    if kind != "message.new" {
        return;
    }
    let new = seen.insert(m.seq);
    if !m.body.starts_with('m') {
        return;
    }
    if !new {
        r.duplicates += 1;
        return;
    }
    let Some(sent_us) = m.body.rsplit(' ').next().and_then(|t| t.parse::<u64>().ok()) else { return };
    let now_us = epoch.elapsed().as_micros() as u64;
    r.unique += 1;
    r.last_us = now_us;
    r.latency_us.push(now_us.saturating_sub(sent_us).min(u64::from(u32::MAX)) as u32);
}

/// A member's socket: read until told to stop (or the deadline), recording deliveries.
async fn receive(mut ws: WsStream, epoch: Instant, mut stop: watch::Receiver<Stop>, expect: usize) -> Received {
    let mut r = Received { latency_us: Vec::with_capacity(expect), ..Default::default() };
    let mut seen = Seen::default();
    let mut now = *stop.borrow_and_update();
    let sleep = tokio::time::sleep_until(now.deadline);
    tokio::pin!(sleep);
    loop {
        if now.target.is_some_and(|t| r.unique >= t) {
            break;
        }
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(t))) => record(&t, epoch, &mut seen, &mut r),
                Some(Ok(Message::Close(c))) => { r.ended = Some(close_text(c)); break }
                Some(Ok(_)) => {} // pings are answered by tungstenite on the next read
                Some(Err(e)) => { r.ended = Some(e.to_string()); break }
                None => { r.ended = Some("closed".into()); break }
            },
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
                now = *stop.borrow_and_update();
                sleep.as_mut().reset(now.deadline);
            }
            _ = &mut sleep => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    r
}

/// The sender's record.
#[derive(Default)]
struct Sent {
    sent: u64,
    acked: u64,
    refused: u64,
    ack_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
    ended: Option<String>,
    first_us: u64,
    last_us: u64,
}

/// Post `warm + measured` messages at `rate`, from `start`; read acks until every message
/// is answered or `deadline`.
#[allow(clippy::too_many_arguments)]
async fn send(
    ws: WsStream,
    conv: String,
    epoch: Instant,
    start: tokio::time::Instant,
    rate: u64,
    warm: u64,
    measured: u64,
    deadline: tokio::time::Instant,
) -> Sent {
    let total = warm + measured;
    let mut s = Sent { ack_us: Vec::with_capacity(measured as usize), ..Default::default() };
    let mut sent_at = vec![0u64; total as usize];
    let mut answered = 0u64;
    let (mut tx, mut rx) = ws.split();
    let at = |k: u64| start + Duration::from_secs_f64(k as f64 / rate as f64);
    let tick = tokio::time::sleep_until(start);
    tokio::pin!(tick);
    let end = tokio::time::sleep_until(deadline);
    tokio::pin!(end);
    let mut k = 0u64;
    while k < total || answered < total {
        tokio::select! {
            _ = &mut tick, if k < total => {
                let us = epoch.elapsed().as_micros() as u64;
                sent_at[k as usize] = us;
                let frame = json!({"type": "message.send", "client_id": format!("g-{k}"), "conversation_id": conv,
                    "body": body(k >= warm, k, us)});
                if k >= warm {
                    s.sent += 1;
                    if k == warm { s.first_us = us }
                    s.last_us = us;
                }
                k += 1;
                tick.as_mut().reset(at(k));
                if let Err(e) = tx.send(Message::text(frame.to_string())).await {
                    s.ended = Some(format!("send: {e}"));
                    break;
                }
            }
            frame = rx.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(c))) => { s.ended = Some(close_text(c)); break }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => { s.ended = Some(e.to_string()); break }
                    None => { s.ended = Some("closed".into()); break }
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                let kind = v["type"].as_str().unwrap_or_default();
                if kind != "message.ack" && kind != "error" {
                    continue;
                }
                let Some(i) = v["client_id"].as_str().and_then(|c| c.strip_prefix("g-")).and_then(|n| n.parse::<u64>().ok()) else {
                    *s.errors.entry(format!("{kind} without client_id: {v}")).or_default() += 1;
                    continue;
                };
                answered += 1;
                if kind == "error" {
                    *s.errors.entry(v["code"].as_str().unwrap_or("?").to_string()).or_default() += 1;
                    if i >= warm { s.refused += 1 }
                } else if i >= warm && i < total {
                    s.acked += 1;
                    let us = epoch.elapsed().as_micros() as u64;
                    s.ack_us.push(us.saturating_sub(sent_at[i as usize]) as u32);
                }
            }
            _ = &mut end => { s.ended.get_or_insert_with(|| "deadline: not every message answered".into()); break }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), tx.close()).await;
    s
}

/// "a group has at most N members" → N.
fn limit_in(detail: &str) -> Option<usize> {
    let rest = &detail[detail.find("at most ")? + 8..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn group_limit_error(members: usize, detail: &str) -> anyhow::Error {
    let fits = limit_in(detail).map(|n| format!(" or run with --members {n}")).unwrap_or_default();
    anyhow::anyhow!(
        "the server refuses a group of {members} members ({detail}). The limit is not a setting: it is the \
         constant MAX_GROUP_MEMBERS in src/service/conversations.rs; raise it and rebuild the server{fits}"
    )
}

/// Ask for a group of `members` with made-up ids: the server checks the size before the
/// ids, so this tells whether the size is allowed before registering everyone.
async fn check_group_size(http: &reqwest::Client, url: &str, token: &str, members: usize) -> anyhow::Result<()> {
    let ids: Vec<String> = (1..members).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let body = json!({"kind": "group", "name": "bench size check", "member_ids": ids});
    let (status, v) = client::create_conversation(http, url, token, &body).await?;
    let detail = v["detail"].as_str().unwrap_or_default();
    if !status.is_success() && detail.contains("at most") {
        return Err(group_limit_error(members, detail));
    }
    Ok(())
}

/// The group: created with the first members, the rest added in chunks.
async fn create_group(http: &reqwest::Client, url: &str, token: &str, ids: &[&str]) -> anyhow::Result<String> {
    let first = &ids[..ids.len().min(ADD_CHUNK - 1)];
    let (status, v) = client::create_conversation(
        http,
        url,
        token,
        &json!({"kind": "group", "name": "bench fan-out", "member_ids": first}),
    )
    .await?;
    if !status.is_success() {
        bail!("create group: {status} {v}");
    }
    let id = v["id"].as_str().unwrap_or_default().to_string();
    for chunk in ids[first.len()..].chunks(ADD_CHUNK) {
        let r = http
            .post(format!("{url}/api/v1/conversations/{id}/members"))
            .bearer_auth(token)
            .json(&json!({"user_ids": chunk}))
            .send()
            .await?;
        let status = r.status();
        if !status.is_success() {
            let v: Value = r.json().await.unwrap_or_default();
            let detail = v["detail"].as_str().unwrap_or_default();
            if detail.contains("at most") {
                return Err(group_limit_error(ids.len() + 1, detail));
            }
            bail!("add members: {status} {v}");
        }
    }
    Ok(id)
}

fn ms(sorted: &[u32]) -> Value {
    json!({
        "p50": percentile(sorted, 0.5),
        "p90": percentile(sorted, 0.9),
        "p99": percentile(sorted, 0.99),
        "max": sorted.last().map(|m| f64::from(*m) / 1000.0),
    })
}

pub async fn run(plan: GroupPlan) -> anyhow::Result<()> {
    check_loopback(&plan.url)?;
    if plan.members < 2 || plan.rate == 0 || plan.duration == 0 {
        bail!("--members must be at least 2, --rate and --duration above 0");
    }
    let http = http_client()?;
    let tag = run_tag();
    let pids = &plan.server_pids;
    let t0 = Instant::now();
    let sender = register_users(&http, &plan.url, &format!("g{tag}s"), 1).await?.remove(0);
    check_group_size(&http, &plan.url, &sender.token, plan.members).await?;
    let others = register_users(&http, &plan.url, &format!("g{tag}m"), plan.members - 1).await?;
    eprintln!("registered {} users in {:.1}s", plan.members, t0.elapsed().as_secs_f64());
    let ids: Vec<&str> = others.iter().map(|u| u.id.as_str()).collect();
    let conv = create_group(&http, &plan.url, &sender.token, &ids).await?;
    let rss_before = sum_over(pids, rss_mb);

    // Receivers: each task connects, waits for `ready`, reports, then reads.
    let epoch = Instant::now();
    let far = tokio::time::Instant::now() + Duration::from_secs(15 * 60);
    let (stop_tx, stop_rx) = watch::channel(Stop { deadline: far, target: None });
    let expect = (plan.rate * plan.duration) as usize;
    let gate = std::sync::Arc::new(Semaphore::new(CONNECTING));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<anyhow::Result<()>>();
    let mut receivers = Vec::with_capacity(others.len());
    let t1 = Instant::now();
    for (i, u) in others.iter().enumerate() {
        let (url, token, gate, ready, stop) =
            (plan.url.clone(), u.token.clone(), gate.clone(), ready_tx.clone(), stop_rx.clone());
        receivers.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok()?;
            let opened = async {
                let mut ws = connect(&url, &token, false).await.with_context(|| format!("member {i}: connect"))?;
                next_event(&mut ws, "ready", |v| v["type"] == "ready").await.with_context(|| format!("member {i}"))?;
                anyhow::Ok(ws)
            }
            .await;
            drop(permit);
            match opened {
                Ok(ws) => {
                    let _ = ready.send(Ok(()));
                    Some(receive(ws, epoch, stop, expect).await)
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    None
                }
            }
        }));
    }
    drop(ready_tx);
    for _ in 0..others.len() {
        ready_rx.recv().await.context("a member's task ended")??;
    }
    let mut ws = connect(&plan.url, &sender.token, true).await.context("sender: connect")?;
    next_event(&mut ws, "ready", |v| v["type"] == "ready").await.context("sender")?;
    let rss_with = sum_over(pids, rss_mb);
    eprintln!(
        "{} sockets open in {:.1}s; server RSS {rss_with:?} MB; warm-up {}s, then {} msg/s for {}s",
        plan.members,
        t1.elapsed().as_secs_f64(),
        plan.warmup,
        plan.rate,
        plan.duration
    );

    // The sender, on a schedule known in advance.
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let window_start = start + Duration::from_secs(plan.warmup);
    let send_end = window_start + Duration::from_secs(plan.duration);
    let deadline = send_end + Duration::from_secs(plan.drain);
    let _ = stop_tx.send(Stop { deadline, target: None });
    let (warm, measured) = (plan.rate * plan.warmup, plan.rate * plan.duration);
    let mut sending = tokio::spawn(send(
        ws,
        conv.clone(),
        epoch,
        start,
        plan.rate,
        warm,
        measured,
        deadline + Duration::from_secs(1),
    ));
    tokio::time::sleep_until(window_start).await;
    let cpu0 = sum_over(pids, cpu_secs);
    let cpu_t0 = Instant::now();
    let mut rss_peak = rss_with.unwrap_or(0.0);
    let sent = loop {
        tokio::select! {
            s = &mut sending => break s?,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                rss_peak = rss_peak.max(sum_over(pids, rss_mb).unwrap_or(0.0));
            }
        }
    };
    // Receivers stop once they hold every acknowledged measured message, or at the deadline.
    let _ = stop_tx.send(Stop { deadline, target: Some(sent.acked) });
    let mut latency = Vec::with_capacity(expect * others.len());
    let (mut received, mut duplicates, mut last_us) = (0u64, 0u64, 0u64);
    let mut endings: BTreeMap<String, u64> = BTreeMap::new();
    for r in receivers {
        let Some(r) = r.await? else { continue };
        latency.extend_from_slice(&r.latency_us);
        received += r.unique;
        duplicates += r.duplicates;
        last_us = last_us.max(r.last_us);
        if let Some(e) = r.ended {
            *endings.entry(e).or_default() += 1;
        }
    }
    let cpu1 = sum_over(pids, cpu_secs);
    let cpu_window = cpu_t0.elapsed().as_secs_f64();
    latency.sort_unstable();
    let mut ack = sent.ack_us.clone();
    ack.sort_unstable();

    let expected = sent.acked * (plan.members as u64 - 1);
    let delivery_secs = last_us.saturating_sub(sent.first_us) as f64 / 1e6;
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let mut hints = Vec::new();
    if sent.errors.contains_key("rate_limited") {
        hints.push(format!(
            "rate_limited: raise messages.rate_per_sec to at least {} and messages.rate_burst \
             (NEXUS_MESSAGES__RATE_PER_SEC / NEXUS_MESSAGES__RATE_BURST; scripts/bench: NEXUS_BENCH_USER_RATE)",
            plan.rate
        ));
    }
    if sent.ended.as_deref().is_some_and(|e| e.contains("4029")) {
        hints.push(format!(
            "the sender was closed for flooding (4029): raise gateway.frames_per_sec above {} \
             (NEXUS_GATEWAY__FRAMES_PER_SEC; scripts/bench: NEXUS_BENCH_FRAMES_PER_SEC)",
            plan.rate
        ));
    }
    if endings.keys().any(|e| e.contains("4008")) {
        hints.push("receivers closed as too slow (4008): the load generator fell behind (gateway.send_queue)".into());
    }
    for h in &hints {
        eprintln!("hint: {h}");
    }
    let report = json!({
        "members": plan.members,
        "offered_rate": plan.rate,
        "warmup_s": plan.warmup,
        "duration_s": plan.duration,
        "sent": sent.sent,
        "acked": sent.acked,
        "refused": sent.refused,
        "errors": sent.errors,
        "sender_ended": sent.ended,
        "send_window_s": sent.last_us.saturating_sub(sent.first_us) as f64 / 1e6,
        "deliveries_expected": expected,
        "deliveries_received": received,
        "lost": expected.saturating_sub(received),
        "duplicated": duplicates,
        "deliveries_per_s": if delivery_secs > 0.0 { received as f64 / delivery_secs } else { 0.0 },
        "delivery_window_s": delivery_secs,
        "delivery_latency_ms": ms(&latency),
        "send_to_ack_ms": ms(&ack),
        "receivers_ended_early": endings,
        "server_cpu_s": cpu,
        "server_cpu_window_s": cpu_window,
        "server_cpu_cores": cpu.map(|c| c / cpu_window),
        "deliveries_per_server_cpu_s": cpu.filter(|c| *c > 0.0).map(|c| received as f64 / c),
        "server_rss_mb": {
            "before_sockets": rss_before,
            "with_sockets": rss_with,
            "peak": if pids.is_empty() { None } else { Some(rss_peak) },
            "end": sum_over(pids, rss_mb),
        },
        "hints": hints,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

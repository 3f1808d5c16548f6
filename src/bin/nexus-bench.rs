//! `nexus-bench`: load and measurement for a running Nexus server (loopback only).
//!
//! - `chat`: registers N users, opens their sockets, creates direct conversations and
//!   groups, sends at a fixed offered rate for a set time, then reports send→ack and
//!   send→delivered latency percentiles, delivered messages per second, messages lost or
//!   duplicated (checked against history afterwards) and the server's RSS.
//! - `idle`: opens many idle WebSocket connections and reports the server's RSS.
//! - `calls`: pairs of users call each other over and over (invite → ringing → accept →
//!   connecting → offer/answer/candidates relayed → connected → active → hang-up) and it
//!   reports each step's latency, the whole set-up time, and failures.
//! - `receipts`: drives the receipts service directly against a database and bus and
//!   counts database statements: one upsert per receipt (naive) versus write-behind.
//!
//! The server must allow the load: raise `auth.register_per_ip_per_hour` (all users
//! register from one address) and, for high rates, `messages.rate_per_sec`.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(name = "nexus-bench", about = "Load generator and measurements for Nexus (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Messaging load: latency, throughput, loss and duplicates.
    Chat {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Messages per second offered, in total.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// Seconds of load.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Groups of `group_size` users (the rest talk in direct pairs).
        #[arg(long, default_value_t = 10)]
        groups: usize,
        #[arg(long, default_value_t = 10)]
        group_size: usize,
        /// Share of messages sent to groups, in percent.
        #[arg(long, default_value_t = 10)]
        group_share: u64,
        /// PID of the server, to report its RSS (same machine).
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Idle connections: the server's memory per socket.
    Idle {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Users the connections are spread over.
        #[arg(long, default_value_t = 100)]
        users: usize,
        /// Seconds to hold them open before measuring.
        #[arg(long, default_value_t = 10)]
        hold: u64,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Call signaling: set-up latency and relay latency with many calls at once.
    Calls {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// Pairs of users calling each other at the same time.
        #[arg(long, default_value_t = 100)]
        pairs: usize,
        /// Calls each pair makes, one after the other.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// ICE candidates each side sends per call.
        #[arg(long, default_value_t = 8)]
        candidates: usize,
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Database statements for receipts: naive upserts versus write-behind.
    Receipts {
        /// `postgres://…` (with `--redis-url`) or empty for SQLite + in-process.
        #[arg(long, default_value = "")]
        database_url: String,
        #[arg(long, default_value = "")]
        redis_url: String,
        /// Prefix of the Redis keys this run makes.
        #[arg(long, default_value = "nexus:bench:")]
        redis_prefix: String,
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        #[arg(long, default_value_t = 500)]
        users: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        match cli.command {
            Cmd::Chat { url, users, rate, duration, groups, group_size, group_share, server_pid } => {
                chat(ChatPlan { url, users, rate, duration, groups, group_size, group_share, server_pid }).await
            }
            Cmd::Idle { url, connections, users, hold, server_pid } => {
                idle(&url, connections, users, hold, server_pid).await
            }
            Cmd::Calls { url, pairs, rounds, candidates, server_pid } => {
                calls(&url, pairs, rounds, candidates, server_pid).await
            }
            Cmd::Receipts { database_url, redis_url, redis_prefix, events, conversations, users } => {
                receipts(&database_url, &redis_url, &redis_prefix, events, conversations, users).await
            }
        }
    })
}

/// Only loopback targets: this tool must never load anything else.
fn check_loopback(url: &str) -> anyhow::Result<()> {
    let u = url::Url::parse(url).context("--url")?;
    let host = u.host_str().unwrap_or_default();
    let ok = host == "localhost"
        || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
        || host == "[::1]";
    if !ok {
        bail!("--url must point at this machine (127.0.0.0/8, ::1 or localhost)");
    }
    Ok(())
}

/// Small read buffers: the default 128 KiB is zeroed on every read, which made the load
/// generator itself a large share of the machine's CPU.
fn client_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024)
}

fn rss_mb(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct User {
    token: String,
    id: String,
}

async fn register_users(http: &reqwest::Client, url: &str, prefix: &str, n: usize) -> anyhow::Result<Vec<User>> {
    let sem = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let http = http.clone();
        let url = url.to_string();
        let name = format!("{prefix}_{i}");
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await?;
            let r = http
                .post(format!("{url}/api/v1/auth/register"))
                .json(&json!({"username": name, "display_name": name, "password": "bench-password"}))
                .send()
                .await?;
            let status = r.status();
            let body: Value = r.json().await?;
            if !status.is_success() {
                bail!("register {name}: {status} {body}");
            }
            Ok(User {
                token: body["access_token"].as_str().unwrap_or_default().to_string(),
                id: body["user"]["id"].as_str().unwrap_or_default().to_string(),
            })
        }));
    }
    let mut users = Vec::with_capacity(n);
    for t in tasks {
        users.push(t.await??);
    }
    Ok(users)
}

async fn create_conversation(http: &reqwest::Client, url: &str, token: &str, body: Value) -> anyhow::Result<String> {
    let r = http.post(format!("{url}/api/v1/conversations")).bearer_auth(token).json(&body).send().await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        bail!("create conversation: {status} {v}");
    }
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

struct ChatPlan {
    url: String,
    users: usize,
    rate: u64,
    duration: u64,
    groups: usize,
    group_size: usize,
    group_share: u64,
    server_pid: Option<u32>,
}

/// What every socket task records.
#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    errors: Mutex<HashMap<String, u64>>,
    ack_us: Mutex<Vec<u32>>,
    deliver_us: Mutex<Vec<u32>>,
    /// client_id -> send instant.
    sent_at: Mutex<HashMap<String, Instant>>,
    /// (recipient, message id) seen, to catch duplicate deliveries.
    seen: Mutex<HashSet<(usize, String)>>,
    duplicate_deliveries: AtomicU64,
    /// conversation -> acked message ids.
    acked_ids: Mutex<HashMap<String, Vec<String>>>,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

async fn chat(plan: ChatPlan) -> anyhow::Result<()> {
    check_loopback(&plan.url)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("b{}", &run[20..28]);
    let t0 = Instant::now();
    let users = register_users(&http, &plan.url, &prefix, plan.users).await?;
    eprintln!("registered {} users in {:.1}s", users.len(), t0.elapsed().as_secs_f64());

    // Conversations: consecutive pairs talk directly; the first groups*group_size users
    // also belong to one group each.
    let mut dm_of = vec![String::new(); users.len()];
    for pair in (0..users.len() - users.len() % 2).step_by(2) {
        let id = create_conversation(
            &http,
            &plan.url,
            &users[pair].token,
            json!({"kind": "direct", "user_id": users[pair + 1].id}),
        )
        .await?;
        dm_of[pair] = id.clone();
        dm_of[pair + 1] = id;
    }
    let mut group_of: Vec<Option<String>> = vec![None; users.len()];
    let mut members_of: HashMap<String, Vec<usize>> = HashMap::new();
    for g in 0..plan.groups {
        let start = g * plan.group_size;
        if start + plan.group_size > users.len() {
            break;
        }
        let ids: Vec<&str> = users[start + 1..start + plan.group_size].iter().map(|u| u.id.as_str()).collect();
        let gid = create_conversation(
            &http,
            &plan.url,
            &users[start].token,
            json!({"kind": "group", "name": format!("bench {g}"), "member_ids": ids}),
        )
        .await?;
        for i in start..start + plan.group_size {
            group_of[i] = Some(gid.clone());
        }
        members_of.insert(gid, (start..start + plan.group_size).collect());
    }
    for (i, c) in dm_of.iter().enumerate() {
        if !c.is_empty() {
            members_of.entry(c.clone()).or_default().push(i);
        }
    }
    eprintln!("created {} conversations", members_of.len());

    // Sockets.
    let ws_base = plan.url.replace("http://", "ws://");
    let stats = Arc::new(Stats::default());
    let mut sockets = Vec::with_capacity(users.len());
    for u in &users {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("{ws_base}/api/v1/ws?token={}", u.token),
            Some(client_config()),
            false,
        )
        .await
        .context("websocket connect")?;
        sockets.push(ws);
    }
    eprintln!("{} sockets open; RSS {:?} MB", sockets.len(), rss_mb(plan.server_pid));

    // Load: each user sends at rate/users per second, starting at a random phase.
    let per_user_interval = Duration::from_secs_f64(users.len() as f64 / plan.rate as f64);
    let load_for = Duration::from_secs(plan.duration);
    let started = Instant::now();
    let stop_at = started + load_for;
    let mut tasks = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let stats = stats.clone();
        let dm = dm_of[i].clone();
        let group = group_of[i].clone();
        let share = plan.group_share;
        tasks.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let phase = Duration::from_micros((i as u64 * 7919) % per_user_interval.as_micros().max(1) as u64);
            let mut next = tokio::time::Instant::from_std(started) + phase;
            let mut k: u64 = 0;
            let drain_until = stop_at + Duration::from_secs(5);
            loop {
                let now = Instant::now();
                if now >= drain_until {
                    break;
                }
                let sending = now < stop_at && !dm.is_empty();
                tokio::select! {
                    _ = tokio::time::sleep_until(next), if sending => {
                        next += per_user_interval;
                        let to_group = group.is_some() && (k * 37 + i as u64) % 100 < share;
                        let conv = if to_group { group.clone().unwrap() } else { dm.clone() };
                        let client_id = format!("{i}-{k}");
                        k += 1;
                        let frame = json!({"type": "message.send", "client_id": client_id, "conversation_id": conv, "body": format!("load {k}")});
                        stats.sent_at.lock().unwrap().insert(client_id, Instant::now());
                        stats.sent.fetch_add(1, Ordering::Relaxed);
                        if tx.send(Message::text(frame.to_string())).await.is_err() {
                            break;
                        }
                    }
                    frame = rx.next() => {
                        let Some(Ok(frame)) = frame else { break };
                        let Message::Text(text) = frame else { continue };
                        let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                        match v["type"].as_str() {
                            Some("message.ack") => {
                                let cid = v["client_id"].as_str().unwrap_or_default();
                                if let Some(t) = stats.sent_at.lock().unwrap().get(cid) {
                                    stats.ack_us.lock().unwrap().push(t.elapsed().as_micros() as u32);
                                }
                                stats.acked.fetch_add(1, Ordering::Relaxed);
                                stats.acked_ids.lock().unwrap().entry(v["conversation_id"].as_str().unwrap_or_default().to_string())
                                    .or_default().push(v["id"].as_str().unwrap_or_default().to_string());
                            }
                            Some("message.new") => {
                                let m = &v["message"];
                                let cid = m["client_id"].as_str().unwrap_or_default();
                                // The sender's own echo is not a delivery.
                                if cid.split('-').next() == Some(&i.to_string()) {
                                    continue;
                                }
                                let id = m["id"].as_str().unwrap_or_default().to_string();
                                if !stats.seen.lock().unwrap().insert((i, id)) {
                                    stats.duplicate_deliveries.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                }
                                if let Some(t) = stats.sent_at.lock().unwrap().get(cid) {
                                    stats.deliver_us.lock().unwrap().push(t.elapsed().as_micros() as u32);
                                }
                                stats.delivered.fetch_add(1, Ordering::Relaxed);
                            }
                            Some("error") => {
                                *stats.errors.lock().unwrap().entry(v["code"].as_str().unwrap_or("?").to_string()).or_default() += 1;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }));
    }
    let mut peak_rss: f64 = 0.0;
    while Instant::now() < stop_at {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(r) = rss_mb(plan.server_pid) {
            peak_rss = peak_rss.max(r);
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let load_secs = load_for.as_secs_f64();

    // Check every conversation's history against the acks.
    let acked_ids = std::mem::take(&mut *stats.acked_ids.lock().unwrap());
    let (mut lost, mut duplicated, mut stored) = (0usize, 0usize, 0usize);
    for (conv, ids) in &acked_ids {
        let reader = members_of.get(conv).and_then(|m| m.first()).copied().unwrap_or(0);
        let mut after = 0;
        let mut seen_ids = HashSet::new();
        let mut seen_clients = HashSet::new();
        loop {
            let page: Vec<Value> = http
                .get(format!("{}/api/v1/conversations/{conv}/messages?after_seq={after}&limit=100", plan.url))
                .bearer_auth(&users[reader].token)
                .send()
                .await?
                .json()
                .await?;
            let Some(last) = page.last() else { break };
            after = last["seq"].as_i64().unwrap_or(after);
            for m in &page {
                stored += 1;
                seen_ids.insert(m["id"].as_str().unwrap_or_default().to_string());
                let key = (
                    m["sender_id"].as_str().unwrap_or_default().to_string(),
                    m["client_id"].as_str().unwrap_or_default().to_string(),
                );
                if !seen_clients.insert(key) {
                    duplicated += 1;
                }
            }
        }
        lost += ids.iter().filter(|id| !seen_ids.contains(*id)).count();
    }

    let mut ack = std::mem::take(&mut *stats.ack_us.lock().unwrap());
    let mut del = std::mem::take(&mut *stats.deliver_us.lock().unwrap());
    ack.sort_unstable();
    del.sort_unstable();
    let errors = stats.errors.lock().unwrap().clone();
    let report = json!({
        "users": users.len(),
        "offered_rate": plan.rate,
        "duration_s": plan.duration,
        "sent": stats.sent.load(Ordering::Relaxed),
        "acked": stats.acked.load(Ordering::Relaxed),
        "delivered": stats.delivered.load(Ordering::Relaxed),
        "delivered_per_s": stats.delivered.load(Ordering::Relaxed) as f64 / load_secs,
        "send_to_ack_ms": {"p50": percentile(&ack, 0.5), "p99": percentile(&ack, 0.99), "p999": percentile(&ack, 0.999)},
        "send_to_delivered_ms": {"p50": percentile(&del, 0.5), "p99": percentile(&del, 0.99), "p999": percentile(&del, 0.999)},
        "stored": stored,
        "lost": lost,
        "duplicated_in_history": duplicated,
        "duplicate_deliveries": stats.duplicate_deliveries.load(Ordering::Relaxed),
        "errors": errors,
        "server_rss_mb_peak": peak_rss,
        "server_rss_mb_end": rss_mb(plan.server_pid),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn idle(url: &str, connections: usize, users: usize, hold: u64, server_pid: Option<u32>) -> anyhow::Result<()> {
    check_loopback(url)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let accounts = register_users(&http, url, &format!("i{}", &run[20..28]), users.max(1)).await?;
    let before = rss_mb(server_pid);
    let ws_base = url.replace("http://", "ws://");
    let mut sockets = Vec::with_capacity(connections);
    let t0 = Instant::now();
    for i in 0..connections {
        let u = &accounts[i % accounts.len()];
        let (ws, _) = tokio_tungstenite::connect_async_with_config(
            format!("{ws_base}/api/v1/ws?token={}", u.token),
            Some(client_config()),
            false,
        )
        .await
        .with_context(|| format!("connection {i}"))?;
        sockets.push(ws);
    }
    eprintln!("{connections} connections in {:.1}s; holding {hold}s", t0.elapsed().as_secs_f64());
    // Keep them alive: answer pings by reading.
    let mut readers = Vec::new();
    for ws in sockets {
        readers.push(tokio::spawn(async move {
            let (mut tx, mut rx) = ws.split();
            let until = tokio::time::Instant::now() + Duration::from_secs(hold);
            while let Ok(Some(Ok(m))) = tokio::time::timeout_at(until, rx.next()).await {
                if let Message::Ping(p) = m {
                    let _ = tx.send(Message::Pong(p)).await;
                }
            }
            let _ = tx.close().await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(hold.saturating_sub(1).max(1))).await;
    let during = rss_mb(server_pid);
    for r in readers {
        let _ = r.await;
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "connections": connections,
            "server_rss_mb_before": before,
            "server_rss_mb_with_connections": during,
            "kb_per_connection": match (before, during) {
                (Some(b), Some(d)) => Some((d - b) * 1024.0 / connections as f64),
                _ => None,
            },
        }))?
    );
    Ok(())
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next event on `ws` that `want` accepts (others are skipped), within 10 s.
async fn next_event(ws: &mut Ws, what: &str, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame =
            tokio::time::timeout_at(until, ws.next()).await.with_context(|| format!("no {what} within 10 s"))?;
        match frame {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t)?;
                if v["type"] == "error" {
                    bail!("error while waiting for {what}: {v}");
                }
                if want(&v) {
                    return Ok(v);
                }
            }
            Some(Ok(Message::Ping(p))) => ws.send(Message::Pong(p)).await?,
            Some(Ok(_)) => {}
            Some(Err(e)) => bail!("socket error while waiting for {what}: {e}"),
            None => bail!("socket closed while waiting for {what}"),
        }
    }
}

async fn send_event(ws: &mut Ws, v: Value) -> anyhow::Result<()> {
    ws.send(Message::text(v.to_string())).await?;
    Ok(())
}

/// Latencies of one call's steps, in µs.
#[derive(Default)]
struct CallSample {
    ringing: u32,
    accepted: u32,
    offer: u32,
    answer: u32,
    candidates: u32,
    active: u32,
    setup: u32,
    ended: u32,
}

/// One call from `a` to `b` (both sockets driven by this task, so one clock).
async fn one_call(a: &mut Ws, b: &mut Ws, conversation: &str, candidates: usize) -> anyhow::Result<CallSample> {
    let call = uuid::Uuid::now_v7().to_string();
    let is = |kind: &'static str, call: String| move |v: &Value| v["type"] == kind && v["call_id"] == call.as_str();
    let state = |want: &'static str, call: String| {
        move |v: &Value| v["type"] == "call.state" && v["call_id"] == call.as_str() && v["state"] == want
    };
    let mut s = CallSample::default();
    let us = |t: Instant| t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
    let t0 = Instant::now();
    send_event(a, json!({"type": "call.invite", "call_id": call, "conversation_id": conversation, "media": "video"}))
        .await?;
    next_event(b, "call.ringing", is("call.ringing", call.clone())).await?;
    s.ringing = us(t0);
    let t = Instant::now();
    send_event(b, json!({"type": "call.accept", "call_id": call})).await?;
    next_event(a, "connecting", state("connecting", call.clone())).await?;
    s.accepted = us(t);
    // A video offer is a few KB of SDP.
    let sdp = format!("v=0\r\n{}", "a=candidate-and-codec-lines-of-a-typical-offer\r\n".repeat(60));
    let t = Instant::now();
    send_event(a, json!({"type": "call.offer", "call_id": call, "sdp": sdp})).await?;
    next_event(b, "call.offer", is("call.offer", call.clone())).await?;
    s.offer = us(t);
    let t = Instant::now();
    send_event(b, json!({"type": "call.answer", "call_id": call, "sdp": sdp})).await?;
    next_event(a, "call.answer", is("call.answer", call.clone())).await?;
    s.answer = us(t);
    let t = Instant::now();
    for i in 0..candidates {
        let c = json!({"candidate": format!("candidate:{i} 1 udp 2122260223 127.0.0.1 {} typ host", 50000 + i), "sdpMid": "0", "sdpMLineIndex": 0});
        send_event(a, json!({"type": "call.ice", "call_id": call, "candidate": c})).await?;
    }
    for _ in 0..candidates {
        next_event(b, "call.ice", is("call.ice", call.clone())).await?;
    }
    s.candidates = us(t);
    let t = Instant::now();
    send_event(a, json!({"type": "call.connected", "call_id": call})).await?;
    next_event(b, "active", state("active", call.clone())).await?;
    s.active = us(t);
    s.setup = us(t0);
    let t = Instant::now();
    send_event(a, json!({"type": "call.hangup", "call_id": call})).await?;
    next_event(b, "ended", state("ended", call.clone())).await?;
    next_event(a, "ended", state("ended", call.clone())).await?;
    s.ended = us(t);
    Ok(s)
}

async fn calls(
    url: &str,
    pairs: usize,
    rounds: usize,
    candidates: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    check_loopback(url)?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let run = uuid::Uuid::now_v7().simple().to_string();
    let users = register_users(&http, url, &format!("k{}", &run[20..28]), pairs * 2).await?;
    let ws_base = url.replace("http://", "ws://");
    let mut setups = Vec::with_capacity(pairs);
    for p in 0..pairs {
        let (a, b) = (&users[2 * p], &users[2 * p + 1]);
        let conversation =
            create_conversation(&http, url, &a.token, json!({"kind": "direct", "user_id": b.id})).await?;
        let mut sockets = Vec::new();
        for u in [a, b] {
            let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
                format!("{ws_base}/api/v1/ws?token={}", u.token),
                Some(client_config()),
                // Browsers send WebSocket frames at once (TCP_NODELAY); so does this client.
                true,
            )
            .await
            .with_context(|| format!("socket of pair {p}"))?;
            next_event(&mut ws, "ready", |v| v["type"] == "ready").await?;
            sockets.push(ws);
        }
        let b_ws = sockets.pop().expect("two");
        let a_ws = sockets.pop().expect("two");
        setups.push((a_ws, b_ws, conversation));
    }
    let before = rss_mb(server_pid);
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(pairs);
    for (mut a, mut b, conversation) in setups {
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut errors = Vec::new();
            for _ in 0..rounds {
                match one_call(&mut a, &mut b, &conversation, candidates).await {
                    Ok(s) => samples.push(s),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            let _ = a.close(None).await;
            let _ = b.close(None).await;
            (samples, errors)
        }));
    }
    let mut samples = Vec::new();
    let mut errors: HashMap<String, u64> = HashMap::new();
    for t in tasks {
        let (s, e) = t.await?;
        samples.extend(s);
        for e in e {
            *errors.entry(e.chars().take(120).collect()).or_default() += 1;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let step = |f: fn(&CallSample) -> u32| {
        let mut v: Vec<u32> = samples.iter().map(f).collect();
        v.sort_unstable();
        json!({"p50_ms": percentile(&v, 0.5), "p99_ms": percentile(&v, 0.99), "max_ms": percentile(&v, 1.0)})
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "pairs": pairs,
            "calls_attempted": pairs * rounds,
            "calls_completed": samples.len(),
            "errors": errors,
            "seconds": elapsed,
            "calls_per_second": samples.len() as f64 / elapsed,
            "invite_to_ringing": step(|s| s.ringing),
            "accept_to_connecting": step(|s| s.accepted),
            "offer_relayed": step(|s| s.offer),
            "answer_relayed": step(|s| s.answer),
            "candidates_relayed": step(|s| s.candidates),
            "connected_to_active": step(|s| s.active),
            "setup_invite_to_active": step(|s| s.setup),
            "hangup_to_ended_both": step(|s| s.ended),
            "server_rss_mb": rss_mb(server_pid),
            "server_rss_mb_before": before,
        }))?
    );
    Ok(())
}

async fn receipts(
    database_url: &str,
    redis_url: &str,
    redis_prefix: &str,
    events: usize,
    conversations: usize,
    users: usize,
) -> anyhow::Result<()> {
    use chrono::Utc;
    use nexus::{
        app::Services,
        config::Config,
        service::receipts::Kind,
        store::{NewMessage, NewUser, Receipt},
    };
    use uuid::Uuid;

    let dir = std::env::temp_dir().join(format!("nexus-bench-{}", Uuid::now_v7().simple()));
    let mut config = Config::default();
    config.server.data_dir = dir.clone();
    config.database.url = database_url.to_string();
    config.redis.url = redis_url.to_string();
    config.redis.prefix = redis_prefix.to_string();
    let services = Services::build(config).await?;
    let store = services.store.clone();
    let scale = format!("{} + {}", store.backend(), services.bus.backend());

    // Users and conversations (members spread evenly), each with 100 messages.
    let mut user_ids = Vec::with_capacity(users);
    for i in 0..users {
        let u = store
            .create_user(NewUser {
                id: Uuid::now_v7(),
                username: format!("r{}_{i}", &Uuid::now_v7().simple().to_string()[24..]),
                display_name: format!("R {i}"),
                password_hash: "x".into(),
                admin: Some(false),
                created_at: Utc::now(),
            })
            .await?;
        user_ids.push(u.id);
    }
    let per = users / conversations;
    let mut convs = Vec::with_capacity(conversations);
    for c in 0..conversations {
        let members: Vec<Uuid> = user_ids[c * per..(c + 1) * per].to_vec();
        let conv = store.create_group(Uuid::now_v7(), &format!("c{c}"), members[0], &members[1..], Utc::now()).await?;
        let batch: Vec<NewMessage> = (0..100)
            .map(|k| NewMessage {
                id: Uuid::now_v7(),
                conversation_id: conv.id,
                sender_id: members[k % members.len()],
                client_id: format!("seed-{k}"),
                kind: "text".into(),
                body: "seed".into(),
                created_at: Utc::now(),
            })
            .collect();
        store.persist_batch(&batch).await?;
        convs.push((conv.id, members));
    }
    // The events: deterministic pseudo-random (conversation, member, kind, seq).
    let evs: Vec<(Uuid, Uuid, Kind, i64)> = (0..events)
        .map(|i| {
            let (c, members) = &convs[(i * 7919) % convs.len()];
            // Spread over every member of every conversation (all `users`).
            let u = members[(i / convs.len() + i) % members.len()];
            let kind = if i % 2 == 0 { Kind::Delivered } else { Kind::Read };
            (*c, u, kind, 1 + ((i * 31) % 100) as i64)
        })
        .collect();

    // Naive: one upsert per event.
    let t = Instant::now();
    let mut naive_statements = 0;
    for (c, u, kind, seq) in &evs {
        let (d, r) = match kind {
            Kind::Delivered => (*seq, 0),
            Kind::Read => (*seq, *seq),
        };
        naive_statements += store
            .upsert_receipts(&[Receipt { conversation_id: *c, user_id: *u, delivered_seq: d, read_seq: r }], Utc::now())
            .await?;
    }
    let naive_secs = t.elapsed().as_secs_f64();

    // Write-behind: every event through the service (validation, buffer, real-time fan-out),
    // then flushes; one flush here stands for the 10 s schedule.
    let t = Instant::now();
    for (c, u, kind, seq) in &evs {
        services.receipts.record(*u, *c, *kind, *seq).await?;
    }
    let record_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = services.receipts.flush().await?;
    let flush_secs = t.elapsed().as_secs_f64();
    let reduction = 100.0 * (1.0 - report.statements as f64 / naive_statements as f64);
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "scale": scale,
            "events": events,
            "conversations": conversations,
            "users": users,
            "naive": {"statements": naive_statements, "seconds": naive_secs, "events_per_s": events as f64 / naive_secs},
            "write_behind": {
                "statements": report.statements,
                "rows_flushed": report.entries,
                "record_seconds": record_secs,
                "events_per_s": events as f64 / record_secs,
                "flush_seconds": flush_secs,
            },
            "statement_reduction_percent": reduction,
        }))?
    );
    services.store.close().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

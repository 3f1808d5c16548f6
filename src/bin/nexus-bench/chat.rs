//! `chat`: the messaging load. Registers the users, pairs them in direct conversations
//! and groups, opens one socket each, sends at a fixed offered rate for a set time, then
//! reads every conversation's history back to count messages lost or duplicated.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    Conversations, HistoryCheck, check_history, check_loopback, connect, converse, cpu_secs, drain, http_client,
    percentile, register_users, rss_mb, run_tag, sum_over,
};

pub struct ChatPlan {
    /// One URL per node: sockets are spread over them; REST goes to the first.
    pub urls: Vec<String>,
    pub users: usize,
    pub rate: u64,
    pub duration: u64,
    pub groups: usize,
    pub group_size: usize,
    pub group_share: u64,
    /// The server processes (one per node), for RSS and CPU.
    pub server_pids: Vec<u32>,
}

/// What one socket task records; merged when the load is over. Nothing is shared between
/// the tasks while they run, so the load generator adds as little as it can to the
/// latencies it measures: the send time travels in the body, acks are matched in the
/// sender's own task.
#[derive(Default)]
struct Tally {
    sent: u64,
    acked: u64,
    delivered: u64,
    duplicate_deliveries: u64,
    errors: HashMap<String, u64>,
    ack_us: Vec<u32>,
    deliver_us: Vec<u32>,
    /// conversation -> acked message ids.
    acked_ids: HashMap<String, Vec<String>>,
}

/// The parts of a server frame the load generator reads.
#[derive(serde::Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    client_id: Option<String>,
    id: Option<String>,
    conversation_id: Option<String>,
    code: Option<String>,
    message: Option<Delivered>,
}

#[derive(serde::Deserialize)]
struct Delivered {
    id: String,
    client_id: Option<String>,
    body: String,
}

/// The send time in a load body `load <k> t<µs since start>`.
fn sent_us(body: &str) -> Option<u64> {
    body.rsplit_once(" t")?.1.parse().ok()
}

pub async fn run(plan: ChatPlan) -> anyhow::Result<()> {
    anyhow::ensure!(!plan.urls.is_empty(), "at least one --url");
    for u in &plan.urls {
        check_loopback(u)?;
    }
    let url = plan.urls[0].as_str();
    let http = http_client()?;
    let prefix = format!("b{}", run_tag());
    let t0 = Instant::now();
    let users = register_users(&http, url, &prefix, plan.users).await?;
    eprintln!("registered {} users in {:.1}s", users.len(), t0.elapsed().as_secs_f64());

    let Conversations { dm_of, group_of, members_of } =
        converse(&http, url, &users, plan.groups, plan.group_size).await?;
    eprintln!("created {} conversations", members_of.len());

    // Sockets, spread over the nodes.
    let mut sockets = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        let url = &plan.urls[i % plan.urls.len()];
        sockets.push(connect(url, &u.token, true).await.context("websocket connect")?);
    }
    eprintln!(
        "{} sockets open over {} node(s); RSS {:?} MB",
        sockets.len(),
        plan.urls.len(),
        sum_over(&plan.server_pids, rss_mb)
    );

    // Load: each user sends at rate/users per second, starting at a random phase.
    let per_user_interval = Duration::from_secs_f64(users.len() as f64 / plan.rate as f64);
    let load_for = Duration::from_secs(plan.duration);
    let started = Instant::now();
    let stop_at = started + load_for;
    let cpu_before = sum_over(&plan.server_pids, cpu_secs);
    let mut tasks = Vec::new();
    for (i, ws) in sockets.into_iter().enumerate() {
        let dm = dm_of[i].clone();
        let group = group_of[i].clone();
        let share = plan.group_share;
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut sent_at: HashMap<String, Instant> = HashMap::new();
            let mut seen: HashSet<String> = HashSet::new();
            let me = format!("{i}-");
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
                        let conv = if to_group { group.as_deref().unwrap() } else { dm.as_str() };
                        let client_id = format!("{i}-{k}");
                        k += 1;
                        let at = Instant::now();
                        let us = at.duration_since(started).as_micros();
                        let frame = json!({"type": "message.send", "client_id": client_id, "conversation_id": conv, "body": format!("load {k} t{us}")});
                        sent_at.insert(client_id, at);
                        t.sent += 1;
                        if tx.send(Message::text(frame.to_string())).await.is_err() {
                            break;
                        }
                    }
                    frame = rx.next() => {
                        let Some(Ok(frame)) = frame else { break };
                        let Message::Text(text) = frame else { continue };
                        let Ok(f) = serde_json::from_str::<Frame>(&text) else { continue };
                        match f.kind.as_str() {
                            "message.ack" => {
                                if let Some(at) = f.client_id.as_deref().and_then(|c| sent_at.remove(c)) {
                                    t.ack_us.push(at.elapsed().as_micros() as u32);
                                }
                                t.acked += 1;
                                t.acked_ids.entry(f.conversation_id.unwrap_or_default()).or_default().push(f.id.unwrap_or_default());
                            }
                            "message.new" => {
                                let Some(m) = f.message else { continue };
                                // The sender's own echo is not a delivery.
                                if m.client_id.as_deref().is_some_and(|c| c.starts_with(&me)) {
                                    continue;
                                }
                                if !seen.insert(m.id) {
                                    t.duplicate_deliveries += 1;
                                    continue;
                                }
                                if let Some(us) = sent_us(&m.body) {
                                    let at = started + Duration::from_micros(us);
                                    t.deliver_us.push(at.elapsed().as_micros() as u32);
                                }
                                t.delivered += 1;
                            }
                            "error" => *t.errors.entry(f.code.unwrap_or_else(|| "?".into())).or_default() += 1,
                            _ => {}
                        }
                    }
                }
            }
            t
        }));
    }
    let mut peak_rss: f64 = 0.0;
    while Instant::now() < stop_at {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(r) = sum_over(&plan.server_pids, rss_mb) {
            peak_rss = peak_rss.max(r);
        }
    }
    let cpu_load = sum_over(&plan.server_pids, cpu_secs).zip(cpu_before).map(|(a, b)| a - b);
    let mut stats = Tally::default();
    for task in tasks {
        let Ok(t) = task.await else { continue };
        stats.sent += t.sent;
        stats.acked += t.acked;
        stats.delivered += t.delivered;
        stats.duplicate_deliveries += t.duplicate_deliveries;
        for (k, v) in t.errors {
            *stats.errors.entry(k).or_default() += v;
        }
        stats.ack_us.extend(t.ack_us);
        stats.deliver_us.extend(t.deliver_us);
        for (c, ids) in t.acked_ids {
            stats.acked_ids.entry(c).or_default().extend(ids);
        }
    }
    let load_secs = load_for.as_secs_f64();

    // An overloaded server may still hold a backlog of acked messages in its queue: wait
    // until its stored count stops moving (at most a minute), so "lost" means lost.
    drain(&http, url).await;

    // Check every conversation's history against the acks.
    let acked_ids = std::mem::take(&mut stats.acked_ids);
    let HistoryCheck { stored, lost, duplicated, .. } =
        check_history(&http, url, &users, &members_of, &acked_ids).await?;

    let mut ack = std::mem::take(&mut stats.ack_us);
    let mut del = std::mem::take(&mut stats.deliver_us);
    ack.sort_unstable();
    del.sort_unstable();
    let errors = stats.errors.clone();
    let report = json!({
        "users": users.len(),
        "offered_rate": plan.rate,
        "duration_s": plan.duration,
        "nodes": plan.urls.len(),
        "sent": stats.sent,
        "acked": stats.acked,
        "delivered": stats.delivered,
        "delivered_per_s": stats.delivered as f64 / load_secs,
        "send_to_ack_ms": {"p50": percentile(&ack, 0.5), "p99": percentile(&ack, 0.99), "p999": percentile(&ack, 0.999)},
        "send_to_delivered_ms": {"p50": percentile(&del, 0.5), "p99": percentile(&del, 0.99), "p999": percentile(&del, 0.999)},
        "stored": stored,
        "lost": lost,
        "duplicated_in_history": duplicated,
        "duplicate_deliveries": stats.duplicate_deliveries,
        "errors": errors,
        "server_cpu_s_during_load": cpu_load,
        "server_rss_mb_peak": peak_rss,
        "server_rss_mb_end": sum_over(&plan.server_pids, rss_mb),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

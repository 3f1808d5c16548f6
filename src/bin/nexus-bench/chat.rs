//! `chat`: the messaging load. Registers the users, pairs them in direct conversations
//! and groups, opens one socket each, sends at a fixed offered rate for a set time, then
//! reads every conversation's history back to count messages lost or duplicated.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{
    check_loopback, connect, create_conversation, http_client, percentile, register_users, rss_mb, run_tag,
};

pub struct ChatPlan {
    pub url: String,
    pub users: usize,
    pub rate: u64,
    pub duration: u64,
    pub groups: usize,
    pub group_size: usize,
    pub group_share: u64,
    pub server_pid: Option<u32>,
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

pub async fn run(plan: ChatPlan) -> anyhow::Result<()> {
    check_loopback(&plan.url)?;
    let http = http_client()?;
    let prefix = format!("b{}", run_tag());
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
        for member in group_of.iter_mut().skip(start).take(plan.group_size) {
            *member = Some(gid.clone());
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
    let stats = Arc::new(Stats::default());
    let mut sockets = Vec::with_capacity(users.len());
    for u in &users {
        sockets.push(connect(&plan.url, &u.token, false).await.context("websocket connect")?);
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
            let query = format!("after_seq={after}&limit=100");
            let (_, page) = nexus::client::history(&http, &plan.url, &users[reader].token, conv, &query).await?;
            let page: Vec<Value> = serde_json::from_value(page)?;
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

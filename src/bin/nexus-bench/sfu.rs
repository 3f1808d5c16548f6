//! `sfu`: rooms of str0m participants ([`nexus::client::sfu_peer`]) sending synthetic Opus
//! (50 frames/s) and VP8 (30 frames/s) through the server's SFU, all rooms at once. After a
//! warm-up it measures, over a window: frames each participant received from every other
//! one against what was sent (loss), the send→receive delay of each frame (stamped with the
//! sender's clock: same machine), the server's CPU time, its datagrams out per second (from
//! `/metrics`), and its RSS per participant.

use std::time::{Duration, Instant};

use anyhow::Context;
use nexus::client::{
    WsStream, send_event,
    sfu_peer::{Peer, Sending},
};
use serde_json::{Value, json};

use crate::common::{
    check_loopback, connect, cpu_secs, create_conversation, http_client, register_users, rss_mb, run_tag,
};

pub struct SfuPlan {
    pub url: String,
    pub rooms: usize,
    pub participants: usize,
    pub warmup: u64,
    pub duration: u64,
    pub video: bool,
    pub server_pid: Option<u32>,
}

/// Every participant's peer state, for the window's counts.
type Shared =
    std::sync::Arc<std::sync::Mutex<Vec<std::sync::Arc<std::sync::Mutex<nexus::client::sfu_peer::PeerState>>>>>;

/// One participant's signaling loop: join, offer, follow the SFU's requests, until `until`.
async fn participant(
    mut ws: WsStream,
    conv: String,
    video: bool,
    until: Instant,
    states: Shared,
) -> anyhow::Result<(Peer, Vec<String>)> {
    send_event(&mut ws, &json!({"type": "room.join", "conversation_id": conv})).await?;
    crate::common::next_event(&mut ws, "room.joined", |v| v["type"] == "room.joined").await?;
    let peer = Peer::start([127, 0, 0, 1].into(), Sending { video, ..Sending::AV }).await?;
    states.lock().expect("states").push(peer.state.clone());
    let sdp = peer.offer((0, 0)).await.context("first offer")?;
    send_event(&mut ws, &json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": peer.tracks()}))
        .await?;
    let (mut offering, mut want): (bool, Option<(usize, usize)>) = (true, None);
    let mut slots: Vec<String> = Vec::new();
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((peer, slots));
        }
        let deadline = tokio::time::Instant::now() + left.min(Duration::from_millis(200));
        let v: Value = match nexus::client::next_event(&mut ws, deadline).await {
            Ok(v) => v,
            Err(nexus::client::NoEvent::TimedOut) => continue,
            Err(e) => anyhow::bail!("socket: {e:?}"),
        };
        let mut renegotiate = None;
        match v["type"].as_str().unwrap_or("") {
            "room.answer" => {
                peer.answer(v["sdp"].as_str().unwrap_or_default());
                slots = mids(&v);
                offering = false;
                renegotiate = want.take();
            }
            "room.slots" => {
                slots = mids(&v);
            }
            "room.renegotiate" => {
                let w = (v["audio"].as_u64().unwrap_or(0) as usize, v["video"].as_u64().unwrap_or(0) as usize);
                if offering { want = Some(w) } else { renegotiate = Some(w) }
            }
            "room.left" | "error" => anyhow::bail!("participant out: {v}"),
            _ => {}
        }
        if let Some(w) = renegotiate
            && let Some(sdp) = peer.offer(w).await
        {
            send_event(
                &mut ws,
                &json!({"type": "room.offer", "conversation_id": conv, "sdp": sdp, "tracks": peer.tracks()}),
            )
            .await?;
            offering = true;
        }
    }
}

/// The slot mids of a `room.answer` / `room.slots`.
fn mids(v: &Value) -> Vec<String> {
    v["slots"].as_array().into_iter().flatten().filter_map(|s| s["mid"].as_str().map(String::from)).collect()
}

async fn metric(http: &reqwest::Client, url: &str, name: &str) -> Option<f64> {
    let text = http.get(format!("{url}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub async fn run(plan: SfuPlan) -> anyhow::Result<()> {
    check_loopback(&plan.url)?;
    let http = http_client()?;
    let n = plan.rooms * plan.participants;
    let users = register_users(&http, &plan.url, &format!("sfu{}", run_tag()), n).await?;
    // Registration hashes passwords (19 MiB each): let the server settle first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_mb(plan.server_pid);
    let states: Shared = Default::default();
    let start = Instant::now();
    let until = start + Duration::from_secs(plan.warmup + plan.duration);
    let mut tasks = Vec::new();
    for r in 0..plan.rooms {
        let group = &users[r * plan.participants..(r + 1) * plan.participants];
        let ids: Vec<&str> = group[1..].iter().map(|u| u.id.as_str()).collect();
        let conv = create_conversation(
            &http,
            &plan.url,
            &group[0].token,
            json!({"kind": "group", "name": format!("room {r}"), "member_ids": ids}),
        )
        .await?;
        for u in group {
            let ws = connect(&plan.url, &u.token, true).await?;
            tasks.push(tokio::spawn(participant(ws, conv.clone(), plan.video, until, states.clone())));
        }
    }
    // The window opens after the warm-up: counters are read then and at the end.
    tokio::time::sleep(Duration::from_secs(plan.warmup)).await;
    let cpu0 = cpu_secs(plan.server_pid);
    let out0 = metric(&http, &plan.url, "nexus_sfu_packets_out_total").await;
    let drop0 = metric(&http, &plan.url, "nexus_sfu_dropped_total").await;
    let snapshot = |states: &Shared| -> (u64, usize) {
        let list = states.lock().expect("states");
        let frames =
            list.iter().map(|s| s.lock().expect("peer").received.values().map(|r| r.frames).sum::<u64>()).sum();
        let samples = list
            .iter()
            .map(|s| s.lock().expect("peer").received.values().map(|r| r.delays_ms.len()).sum::<usize>())
            .sum();
        (frames, samples)
    };
    let (frames0, _) = snapshot(&states);
    let skip: Vec<std::collections::HashMap<String, usize>> = states
        .lock()
        .expect("states")
        .iter()
        .map(|s| s.lock().expect("peer").received.iter().map(|(k, r)| (k.clone(), r.delays_ms.len())).collect())
        .collect();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(plan.duration).saturating_sub(Duration::from_millis(300))).await;
    let rss_during = rss_mb(plan.server_pid);
    let cpu1 = cpu_secs(plan.server_pid);
    let out1 = metric(&http, &plan.url, "nexus_sfu_packets_out_total").await;
    let drop1 = metric(&http, &plan.url, "nexus_sfu_dropped_total").await;
    let window = t0.elapsed().as_secs_f64();
    let (frames1, _) = snapshot(&states);
    let mut peers = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await? {
            Ok(p) => peers.push(p),
            Err(e) => {
                failed += 1;
                eprintln!("participant failed: {e:#}");
            }
        }
    }
    // Frames and delays in the window (each peer's samples from before it are skipped);
    // expected frames from the senders' rates.
    let frames = frames1 - frames0;
    let mut delays: Vec<f64> = Vec::new();
    for (i, s) in states.lock().expect("states").iter().enumerate() {
        for (mid, r) in &s.lock().expect("peer").received {
            let from = skip.get(i).and_then(|m| m.get(mid)).copied().unwrap_or(0);
            delays.extend(r.delays_ms.iter().skip(from));
        }
    }
    let _ = &peers;
    delays.sort_by(f64::total_cmp);
    let pct =
        |p: f64| if delays.is_empty() { f64::NAN } else { delays[((delays.len() - 1) as f64 * p).round() as usize] };
    let per_sender = if plan.video { 80.0 } else { 50.0 };
    let tracks_each = if plan.video { 2 } else { 1 };
    let subscriptions = plan.rooms * plan.participants * (plan.participants - 1) * tracks_each;
    let expected = (plan.rooms * plan.participants * (plan.participants - 1)) as f64 * per_sender * window;
    println!(
        "sfu: {} rooms × {} participants ({} video), {} s window after {} s warm-up",
        plan.rooms,
        plan.participants,
        if plan.video { "with" } else { "no" },
        plan.duration,
        plan.warmup
    );
    println!("  participants failed     {failed}");
    println!("  forwarded tracks        {subscriptions} (track × subscriber)");
    println!(
        "  frames received         {frames} of about {expected:.0} sent to subscribers ({:.2} %)",
        100.0 * frames as f64 / expected
    );
    println!(
        "  send→receive delay      p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} frames)",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        delays.len()
    );
    if let (Some(a), Some(b)) = (out0, out1) {
        println!("  datagrams out           {:.0}/s", (b - a) / window);
    }
    if let (Some(a), Some(b)) = (drop0, drop1) {
        println!("  dropped in the SFU      {:.0}", b - a);
    }
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        let cores = (b - a) / window;
        println!(
            "  server CPU              {:.2} cores  → {:.0} forwarded tracks per core",
            cores,
            subscriptions as f64 / cores.max(0.01)
        );
    }
    if let (Some(a), Some(b)) = (rss_before, rss_during) {
        println!(
            "  server RSS              {a:.1} MB before, {b:.1} MB during → {:.0} KB per participant",
            (b - a) * 1024.0 / n as f64
        );
    }
    Ok(())
}

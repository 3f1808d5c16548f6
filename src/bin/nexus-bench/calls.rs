//! `calls`: pairs of users call each other over and over, all pairs at once (invite →
//! ringing → accept → connecting → offer/answer/candidates relayed → connected → active →
//! hang-up → ended); reports each step's latency, the whole set-up time, and failures.

use std::{collections::HashMap, time::Instant};

use anyhow::Context;
use nexus::client::{WsStream, send_event};
use serde_json::{Value, json};

use crate::common::{
    check_loopback, connect, create_conversation, http_client, next_event, percentile, register_users, rss_mb, run_tag,
};

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
async fn one_call(
    a: &mut WsStream,
    b: &mut WsStream,
    conversation: &str,
    candidates: usize,
) -> anyhow::Result<CallSample> {
    let call = uuid::Uuid::now_v7().to_string();
    let is = |kind: &'static str, call: String| move |v: &Value| v["type"] == kind && v["call_id"] == call.as_str();
    let state = |want: &'static str, call: String| {
        move |v: &Value| v["type"] == "call.state" && v["call_id"] == call.as_str() && v["state"] == want
    };
    let mut s = CallSample::default();
    let us = |t: Instant| t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
    let t0 = Instant::now();
    send_event(a, &json!({"type": "call.invite", "call_id": call, "conversation_id": conversation, "media": "video"}))
        .await?;
    next_event(b, "call.ringing", is("call.ringing", call.clone())).await?;
    s.ringing = us(t0);
    let t = Instant::now();
    send_event(b, &json!({"type": "call.accept", "call_id": call})).await?;
    next_event(a, "connecting", state("connecting", call.clone())).await?;
    s.accepted = us(t);
    // A video offer is a few KB of SDP.
    let sdp = format!("v=0\r\n{}", "a=candidate-and-codec-lines-of-a-typical-offer\r\n".repeat(60));
    let t = Instant::now();
    send_event(a, &json!({"type": "call.offer", "call_id": call, "sdp": sdp})).await?;
    next_event(b, "call.offer", is("call.offer", call.clone())).await?;
    s.offer = us(t);
    let t = Instant::now();
    send_event(b, &json!({"type": "call.answer", "call_id": call, "sdp": sdp})).await?;
    next_event(a, "call.answer", is("call.answer", call.clone())).await?;
    s.answer = us(t);
    let t = Instant::now();
    for i in 0..candidates {
        let c = json!({"candidate": format!("candidate:{i} 1 udp 2122260223 127.0.0.1 {} typ host", 50000 + i), "sdpMid": "0", "sdpMLineIndex": 0});
        send_event(a, &json!({"type": "call.ice", "call_id": call, "candidate": c})).await?;
    }
    for _ in 0..candidates {
        next_event(b, "call.ice", is("call.ice", call.clone())).await?;
    }
    s.candidates = us(t);
    let t = Instant::now();
    send_event(a, &json!({"type": "call.connected", "call_id": call})).await?;
    next_event(b, "active", state("active", call.clone())).await?;
    s.active = us(t);
    s.setup = us(t0);
    let t = Instant::now();
    send_event(a, &json!({"type": "call.hangup", "call_id": call})).await?;
    next_event(b, "ended", state("ended", call.clone())).await?;
    next_event(a, "ended", state("ended", call.clone())).await?;
    s.ended = us(t);
    Ok(s)
}

pub async fn run(
    url: &str,
    pairs: usize,
    rounds: usize,
    candidates: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    check_loopback(url)?;
    let http = http_client()?;
    let users = register_users(&http, url, &format!("k{}", run_tag()), pairs * 2).await?;
    let mut setups = Vec::with_capacity(pairs);
    for p in 0..pairs {
        let (a, b) = (&users[2 * p], &users[2 * p + 1]);
        let conversation =
            create_conversation(&http, url, &a.token, json!({"kind": "direct", "user_id": b.id})).await?;
        let mut sockets = Vec::new();
        for u in [a, b] {
            // Browsers send WebSocket frames at once (TCP_NODELAY); so does this client.
            let mut ws = connect(url, &u.token, true).await.with_context(|| format!("socket of pair {p}"))?;
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

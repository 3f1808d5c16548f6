//! `chaos`: a messaging load whose clients survive faults, for `scripts/chaos`.
//!
//! Every device behaves as the web client does (`assets/src/gateway/`): it reconnects with
//! the documented back-off (equal jitter, 0.5 s doubling to 30 s, reset at `ready`; after a
//! failed attempt it tries the next node, as a load balancer would), sends `ping` every
//! `--ping-secs` and drops a socket that stays silent `--pong-timeout-secs` after it, sends
//! its unacknowledged messages again on every new socket with the same `client_id` (and
//! again `--send-timeout-secs` after a send with no answer, or after an `unavailable`,
//! `internal`, `rate_limited` or `delivery_failed` error), and catches up on every `ready` and at every gap
//! with `GET …/messages?after_seq=`. Shell commands (`--fault SECS:COMMAND`) run at set
//! times of the load: they are the faults. Afterwards the histories are read back:
//! acknowledged messages lost, messages stored twice, and for every device the messages it
//! never got, neither live nor by catch-up.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

mod device;

use device::{Ctx, Device, Spec, closed, open, run_device, stall};

use crate::common::{
    Conversations, HistoryCheck, check_history, check_loopback, converse, drain, http_client, percentile,
    register_users, run_tag,
};

pub struct ChaosPlan {
    /// The nodes; REST set-up and the final check go to the first.
    pub urls: Vec<String>,
    pub users: usize,
    /// Sockets per user; device 0 of each user sends.
    pub devices: usize,
    /// Senders on the last node, the other devices on the first (else spread over all).
    pub split: bool,
    pub rate: u64,
    pub duration: u64,
    /// Seconds after the load in which acks, reconnects and catch-up may finish.
    pub settle: u64,
    pub groups: usize,
    pub group_size: usize,
    pub group_share: u64,
    /// `(seconds after the load started, shell command)`.
    pub faults: Vec<(f64, String)>,
    pub ping_secs: u64,
    pub pong_timeout_secs: u64,
    pub send_timeout_secs: u64,
    /// Extra sockets of group members that complete the handshake and never read.
    pub stalled: usize,
}

pub async fn run(plan: ChaosPlan) -> anyhow::Result<()> {
    anyhow::ensure!(!plan.urls.is_empty() && plan.devices >= 1 && plan.users >= 2, "--url, --devices, --users");
    for u in &plan.urls {
        check_loopback(u)?;
    }
    let url = plan.urls[0].clone();
    let http = http_client()?;
    let users = register_users(&http, &url, &format!("c{}", run_tag()), plan.users).await?;
    let Conversations { dm_of, group_of, members_of } =
        converse(&http, &url, &users, plan.groups, plan.group_size).await?;
    let interval = Duration::from_secs_f64(users.len() as f64 / plan.rate.max(1) as f64);

    // Every socket is opened before the load starts, 256 at a time.
    let nodes = plan.urls.len();
    let home = |user: usize, device: usize| -> usize {
        if plan.split && nodes > 1 {
            if device == 0 { nodes - 1 } else { 0 }
        } else {
            (user * plan.devices + device) % nodes
        }
    };
    let sem = Arc::new(Semaphore::new(256));
    let mut opening = Vec::new();
    for (u, user) in users.iter().enumerate() {
        for dev in 0..plan.devices {
            let (sem, url, token) = (sem.clone(), plan.urls[home(u, dev)].clone(), user.token.clone());
            opening.push(tokio::spawn(async move {
                let _p = sem.acquire().await;
                open(&url, &token).await
            }));
        }
    }
    let mut sockets = Vec::with_capacity(opening.len());
    for o in opening {
        sockets.push(o.await?.context("opening the sockets")?);
    }
    eprintln!("{} users, {} sockets open over {nodes} node(s)", users.len(), sockets.len());
    let in_groups: Vec<usize> = (0..users.len()).filter(|u| group_of[*u].is_some()).collect();
    let mut stalled = Vec::new();
    for i in 0..plan.stalled.min(in_groups.len() * 4) {
        let u = in_groups[i % in_groups.len()];
        stalled.push(stall(&plan.urls[home(u, 0)], &users[u].token).await.context("a stalled socket")?);
    }

    let started = Instant::now();
    let stop_at = started + Duration::from_secs(plan.duration);
    let ctx = Arc::new(Ctx {
        urls: plan.urls.clone(),
        http: http.clone(),
        started,
        stop_at,
        end_at: stop_at + Duration::from_secs(plan.settle),
        ping: Duration::from_secs(plan.ping_secs),
        pong_timeout: Duration::from_secs(plan.pong_timeout_secs),
        send_timeout: Duration::from_secs(plan.send_timeout_secs),
        live: AtomicI64::new(0),
    });
    let total = sockets.len() as i64;
    let mut tasks = Vec::with_capacity(sockets.len());
    let mut sockets = sockets.into_iter();
    for (u, user) in users.iter().enumerate() {
        let convs: Vec<String> =
            [Some(dm_of[u].clone()).filter(|c| !c.is_empty()), group_of[u].clone()].into_iter().flatten().collect();
        for dev in 0..plan.devices {
            let sends = (dev == 0 && !dm_of[u].is_empty()).then(|| {
                let phase = (u as u64 * 7919) % interval.as_micros().max(1) as u64;
                (dm_of[u].clone(), group_of[u].clone(), interval, phase)
            });
            let spec = Spec {
                user: u,
                token: user.token.clone(),
                user_id: user.id.clone(),
                home: home(u, dev),
                convs: convs.clone(),
                sends,
            };
            let first = sockets.next().context("socket")?;
            tasks.push(tokio::spawn(run_device(ctx.clone(), spec, plan.group_share, first)));
        }
    }

    // The faults, at their times; the live-device count every 100 ms.
    let mut fault_runs = Vec::new();
    for (at, cmd) in plan.faults.clone() {
        let when = started + Duration::from_secs_f64(at);
        fault_runs.push(tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(when)).await;
            let ran_at = started.elapsed().as_secs_f64();
            let c = cmd.clone();
            let status =
                tokio::task::spawn_blocking(move || std::process::Command::new("sh").arg("-c").arg(&c).status())
                    .await
                    .ok()
                    .and_then(|s| s.ok())
                    .and_then(|s| s.code());
            eprintln!("fault at {ran_at:.1}s: {cmd} -> {status:?}");
            json!({"at_s": ran_at, "command": cmd, "exit": status, "took_s": started.elapsed().as_secs_f64() - ran_at})
        }));
    }
    let mut samples: Vec<(u64, i64)> = Vec::new();
    // (Not in the last second, when the devices end their sessions.)
    while Instant::now() + Duration::from_secs(1) < ctx.end_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples.push((ctx.us(Instant::now()), ctx.live.load(Ordering::Relaxed)));
    }
    let mut faults = Vec::new();
    for f in fault_runs {
        faults.push(f.await?);
    }
    let mut devices = Vec::with_capacity(tasks.len());
    for t in tasks {
        devices.push(t.await?);
    }
    let mut stalled_closed = 0;
    for ws in &mut stalled {
        stalled_closed += usize::from(closed(ws).await);
    }
    drop(stalled);
    for u in &plan.urls {
        drain(&http, u).await;
    }
    let extra = json!({"stalled_sockets": plan.stalled.min(in_groups.len() * 4), "stalled_cut_off": stalled_closed});
    report(&plan, &http, &url, &users, &members_of, &group_of, &dm_of, devices, faults, samples, total, extra).await
}

async fn report(
    plan: &ChaosPlan,
    http: &reqwest::Client,
    url: &str,
    users: &[crate::common::User],
    members_of: &HashMap<String, Vec<usize>>,
    group_of: &[Option<String>],
    dm_of: &[String],
    devices: Vec<Device>,
    faults: Vec<Value>,
    samples: Vec<(u64, i64)>,
    total: i64,
    extra: Value,
) -> anyhow::Result<()> {
    let mut acked_ids: HashMap<String, Vec<String>> = members_of.keys().map(|c| (c.clone(), Vec::new())).collect();
    let (mut offered, mut unacked, mut failed, mut resends, mut timeouts, mut drops, mut connect_failures) =
        (0, 0, 0, 0, 0, 0, 0);
    let (mut redelivered, mut conflicts, mut catchup_requests, mut catchup_messages) = (0, 0, 0, 0);
    let mut errors: HashMap<String, u64> = HashMap::new();
    let mut acks: Vec<(u64, u64)> = Vec::new();
    let mut outages: Vec<(u64, u64)> = Vec::new();
    let mut deliveries: Vec<(u64, u64)> = Vec::new();
    for d in &devices {
        deliveries.extend(&d.delivered);
        offered += d.offered;
        unacked += d.pending.len() as u64;
        failed += d.failed;
        resends += d.resends;
        timeouts += d.send_timeouts;
        drops += d.drops;
        connect_failures += d.connect_failures;
        redelivered += d.redelivered;
        conflicts += d.conflicts;
        catchup_requests += d.catchup_requests;
        catchup_messages += d.catchup_messages;
        for (k, v) in &d.errors {
            *errors.entry(k.clone()).or_default() += v;
        }
        for (c, ids) in &d.acked_ids {
            acked_ids.entry(c.clone()).or_default().extend(ids.iter().cloned());
        }
        acks.extend(&d.acks);
        outages.extend(&d.outages);
    }
    let HistoryCheck { stored, lost, duplicated, histories } =
        check_history(http, url, users, members_of, &acked_ids).await?;

    // Every device should hold every stored message of its conversations.
    // And hold nothing else: a message seen live that was never stored would break
    // "nothing is delivered before it is stored".
    let stored_ids: HashSet<&str> = histories.values().flatten().map(|(_, id)| id.as_str()).collect();
    let mut phantoms = 0u64;
    let mut ack_mismatches = 0u64;
    for d in &devices {
        ack_mismatches += d.ack_mismatches;
        phantoms +=
            d.seen.values().flat_map(|s| s.values()).filter(|id| !stored_ids.contains(id.as_str())).count() as u64;
    }
    let (mut missing, mut devices_missing) = (0u64, 0u64);
    for (i, d) in devices.iter().enumerate() {
        let u = i / plan.devices;
        let convs = [Some(dm_of[u].clone()).filter(|c| !c.is_empty()), group_of[u].clone()];
        let mut short = 0;
        for conv in convs.iter().flatten() {
            let seen = d.seen.get(conv);
            short += histories
                .get(conv)
                .map(|h| h.iter().filter(|(seq, id)| seen.and_then(|s| s.get(seq)) != Some(id)).count())
                .unwrap_or(0) as u64;
        }
        missing += short;
        devices_missing += u64::from(short > 0);
    }

    let mut delivered: Vec<u32> = deliveries.iter().map(|(o, a)| (a - o).min(u32::MAX as u64) as u32).collect();
    delivered.sort_unstable();
    let mut latency: Vec<u32> = acks.iter().map(|(o, a)| (a - o).min(u32::MAX as u64) as u32).collect();
    latency.sort_unstable();
    let delayed = acks.iter().filter(|(o, a)| a - o > 1_000_000).count();
    let per_fault: Vec<Value> = faults
        .iter()
        .map(|f| {
            let at = (f["at_s"].as_f64().unwrap_or(0.0) * 1e6) as u64;
            // Acks of messages offered from the fault on whose wait exceeded 1 s.
            let last_delayed = acks.iter().filter(|(o, a)| *a >= at && a - o > 1_000_000).map(|(_, a)| *a).max();
            let last_late = deliveries.iter().filter(|(o, a)| *a >= at && a - o > 1_000_000).map(|(_, a)| *a).max();
            let down = samples.iter().find(|(t, n)| *t >= at && *n < total).map(|(t, _)| *t);
            let back = down.and_then(|d| samples.iter().find(|(t, n)| *t > d && *n == total).map(|(t, _)| *t));
            let min_live = samples.iter().filter(|(t, _)| *t >= at).map(|(_, n)| *n).min();
            let outs: Vec<&(u64, u64)> = outages.iter().filter(|(l, _)| *l >= at.saturating_sub(1_000_000)).collect();
            let all_back = outs.iter().map(|(_, b)| *b).max();
            json!({
                "fault": f,
                "devices_down_max": min_live.map(|m| total - m),
                "all_devices_live_after_s": back.map(|b| (b - at) as f64 / 1e6),
                "last_delayed_ack_after_s": last_delayed.map(|l| (l.saturating_sub(at)) as f64 / 1e6),
                "last_late_delivery_after_s": last_late.map(|l| (l.saturating_sub(at)) as f64 / 1e6),
                "sockets_lost": outs.len(),
                "caught_up_after_s": all_back.map(|b| if b == u64::MAX { f64::INFINITY } else { b.saturating_sub(at) as f64 / 1e6 }),
            })
        })
        .collect();
    let mut outage_ms: Vec<u32> =
        outages.iter().filter(|(_, b)| *b != u64::MAX).map(|(l, b)| (b - l).min(u32::MAX as u64) as u32).collect();
    outage_ms.sort_unstable();
    let acks_per_s: Vec<usize> = {
        let secs = (plan.duration + plan.settle) as usize + 1;
        let mut v = vec![0; secs];
        for (_, a) in &acks {
            v[((*a / 1_000_000) as usize).min(secs - 1)] += 1;
        }
        v
    };
    let report = json!({
        "users": users.len(),
        "devices": total,
        "nodes": plan.urls.len(),
        "offered_rate": plan.rate,
        "duration_s": plan.duration,
        "offered": offered,
        "acked": acks.len(),
        "never_acked": unacked,
        "failed": failed,
        "errors": errors,
        "resends": resends,
        "send_timeouts": timeouts,
        "offer_to_ack_ms": {"p50": percentile(&latency, 0.5), "p99": percentile(&latency, 0.99),
            "p999": percentile(&latency, 0.999), "max": percentile(&latency, 1.0)},
        "delayed_over_1s": delayed,
        "offer_to_delivered_ms": {"p50": percentile(&delivered, 0.5), "p99": percentile(&delivered, 0.99),
            "p999": percentile(&delivered, 0.999), "max": percentile(&delivered, 1.0)},
        "delivered_live": delivered.len(),
        "delivered_over_1s": deliveries.iter().filter(|(o, a)| a - o > 1_000_000).count(),
        "delivered_over_5s": deliveries.iter().filter(|(o, a)| a - o > 5_000_000).count(),
        "stalled": extra,
        "stored": stored,
        "lost": lost,
        "duplicated_in_history": duplicated,
        "missing_on_devices": missing,
        "devices_missing_some": devices_missing,
        "same_seq_other_id": conflicts,
        "seen_but_not_stored": phantoms,
        "acks_naming_another_id": ack_mismatches,
        "redelivered": redelivered,
        "catchup_requests": catchup_requests,
        "catchup_messages": catchup_messages,
        "sockets_lost": drops,
        "connect_failures": connect_failures,
        "outage_ms": {"p50": percentile(&outage_ms, 0.5), "p99": percentile(&outage_ms, 0.99), "max": percentile(&outage_ms, 1.0),
            "never_back": outages.iter().filter(|(_, b)| *b == u64::MAX).count()},
        "faults": per_fault,
        "acks_per_s": acks_per_s,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let ok = lost == 0 && duplicated == 0 && missing == 0 && conflicts == 0 && unacked == 0 && failed == 0;
    anyhow::ensure!(
        ok,
        "chaos: lost {lost}, duplicated {duplicated}, missing on devices {missing}, conflicts {conflicts}, never acked {unacked}, failed {failed}"
    );
    Ok(())
}

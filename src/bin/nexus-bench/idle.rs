//! `idle`: many idle WebSocket connections, spread over a few users, held open; reports
//! the server's RSS before, with them and again after they closed (memory returned), so
//! its memory per connection, and the load generator's own.
//!
//! Scale: one source address has about 28,000 local ports to one server port
//! (`net.ipv4.ip_local_port_range`), so 100,000 sockets bind to `127.0.0.1` …
//! `127.0.0.N` (`--source-addrs`). They open `--concurrency` at a time; each one is then a
//! task that only reads (tungstenite answers the server's pings while reading) with a
//! 1 KiB read buffer, until it is told to close. Before opening anything the open-file
//! limits of this process and of the server, and the local port range, are checked.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

use crate::common::{check_loopback, connect_from, http_client, next_event, register_users, rss_mb, run_tag};

pub struct IdlePlan {
    pub url: String,
    pub connections: usize,
    pub users: usize,
    pub hold: u64,
    pub source_addrs: u8,
    pub concurrency: usize,
    /// Seconds after the close before the server's RSS is read again.
    pub after: u64,
    pub server_pid: Option<u32>,
}

/// Opening stops after this many failed connections (the report says why they failed).
const MAX_FAILURES: usize = 100;
/// One connection's budget: TCP connect, upgrade and `ready`.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// An idle socket reads at most a ping or a small event at a time.
fn idle_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(1024)
}

/// The soft "Max open files" of a process (`/proc/PID/limits`).
fn open_files_limit(pid: &str) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// Refuse to start a run that the limits would cut short, naming what to raise.
fn check_limits(plan: &IdlePlan) -> anyhow::Result<()> {
    let need = plan.connections as u64 + 256;
    if let Some(n) = open_files_limit("self").filter(|n| *n < need) {
        bail!(
            "this process may open {n} files; {} sockets need about {need}: raise `ulimit -n` \
             (scripts/bench asks for 1048576 for the bench and the server; the hard limit, `ulimit -Hn`, caps \
             it, and raising that takes root with CAP_SYS_RESOURCE or limits.conf / LimitNOFILE=)",
            plan.connections
        );
    }
    if let Some(pid) = plan.server_pid
        && let Some(n) = open_files_limit(&pid.to_string()).filter(|n| *n < need)
    {
        bail!(
            "the server (pid {pid}) may open {n} files; {} sockets need about {need}: raise its `ulimit -n` \
             before starting it (scripts/bench does; under systemd: LimitNOFILE=)",
            plan.connections
        );
    }
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let bounds: Vec<u64> = range.split_whitespace().filter_map(|p| p.parse().ok()).collect();
    if let [lo, hi] = bounds[..] {
        // Leave a tenth for other sockets and ports still in TIME_WAIT from an earlier run.
        let usable = (hi - lo + 1) * 9 / 10;
        let per_addr = (plan.connections as u64).div_ceil(u64::from(plan.source_addrs));
        if per_addr > usable {
            bail!(
                "{} connections from {} source address(es) need {per_addr} local ports each, about {usable} are \
                 free per address (net.ipv4.ip_local_port_range {lo}-{hi}): use --source-addrs {}",
                plan.connections,
                plan.source_addrs,
                (plan.connections as u64).div_ceil(usable)
            );
        }
    }
    Ok(())
}

/// The server's address, and the source addresses to spread the sockets over.
async fn addresses(url: &str, n: u8) -> anyhow::Result<(SocketAddr, Vec<IpAddr>)> {
    let u = url::Url::parse(url).context("--url")?;
    let host = u.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port)).await?.collect();
    let server = all.iter().find(|a| a.is_ipv4()).or(all.first()).copied().context("--url: no address")?;
    if !server.ip().is_loopback() {
        bail!("--url must point at this machine");
    }
    if n == 0 {
        bail!("--source-addrs must be at least 1");
    }
    if server.is_ipv6() {
        if n > 1 {
            bail!("--source-addrs needs an IPv4 server address (127.0.0.1), not {server}");
        }
        return Ok((server, vec![server.ip()]));
    }
    Ok((server, (1..=n).map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i))).collect()))
}

/// Read until told to stop; then close and wait (5 s at most) for the server's Close. The
/// reason the server ended it first, if it did.
async fn hold(mut ws: nexus::client::WsStream, mut stop: watch::Receiver<bool>) -> Option<String> {
    let ended = loop {
        tokio::select! {
            m = ws.next() => match m {
                Some(Ok(Message::Close(c))) => {
                    break Some(c.map(|c| format!("closed {}", u16::from(c.code))).unwrap_or_else(|| "closed".into()))
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break Some(e.to_string()),
                None => break Some("closed".into()),
            },
            _ = stop.changed() => break None,
        }
    };
    if ended.is_none() {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
    }
    ended
}

/// What to raise, from the errors that opening met.
fn hints(errors: &BTreeMap<String, u64>) -> Vec<String> {
    let mut out = Vec::new();
    let any = |s: &str| errors.keys().any(|e| e.contains(s));
    if any("Too many open files") {
        out.push("out of file descriptors: raise `ulimit -n` of the bench and the server".into());
    }
    if any("Cannot assign requested address") || any("Address already in use") {
        out.push("out of local ports: raise --source-addrs (about 28,000 sockets per address)".into());
    }
    if any("timed out") || any("Connection refused") || any("reset") {
        out.push("the server stopped accepting: check its open-file limit (/proc/<pid>/limits) and its log".into());
    }
    if any("429") || any("503") {
        out.push("the server refused upgrades (429/503): see its log for the limit".into());
    }
    out
}

pub async fn run(plan: IdlePlan) -> anyhow::Result<()> {
    check_loopback(&plan.url)?;
    check_limits(&plan)?;
    let (server, sources) = addresses(&plan.url, plan.source_addrs).await?;
    let http = http_client()?;
    let t_reg = Instant::now();
    let accounts = register_users(&http, &plan.url, &format!("i{}", run_tag()), plan.users.max(1)).await?;
    eprintln!("registered {} users in {:.1}s", accounts.len(), t_reg.elapsed().as_secs_f64());
    let me = Some(std::process::id());
    let (before, client_before) = (rss_mb(plan.server_pid), rss_mb(me));

    let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (opened_tx, mut opened_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let mut holders = Vec::with_capacity(plan.connections);
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut tally = |r: Result<(), String>, ok: &mut usize, failed: &mut usize| match r {
        Ok(()) => *ok += 1,
        Err(e) => {
            *failed += 1;
            *errors.entry(e).or_default() += 1;
        }
    };
    let t0 = Instant::now();
    for i in 0..plan.connections {
        while let Ok(r) = opened_rx.try_recv() {
            tally(r, &mut ok, &mut failed);
        }
        if failed >= MAX_FAILURES {
            eprintln!("stopped opening after {failed} failures");
            break;
        }
        let permit = gate.clone().acquire_owned().await?;
        let (url, token, source, stop, opened) = (
            plan.url.clone(),
            accounts[i % accounts.len()].token.clone(),
            sources[i % sources.len()],
            stop_rx.clone(),
            opened_tx.clone(),
        );
        holders.push(tokio::spawn(async move {
            // Boxed: the handshake's state is large and would otherwise size every held task.
            let open = tokio::time::timeout(
                OPEN_TIMEOUT,
                Box::pin(async {
                    let mut ws = connect_from(&url, server, source, &token, idle_config()).await?;
                    next_event(&mut ws, "ready", |v| v["type"] == "ready").await?;
                    anyhow::Ok(ws)
                }),
            )
            .await;
            drop(permit);
            let ws = match open {
                Ok(Ok(ws)) => ws,
                Ok(Err(e)) => {
                    let _ = opened.send(Err(format!("{e:#}")));
                    return None;
                }
                Err(_) => {
                    let _ = opened.send(Err(format!("timed out after {}s", OPEN_TIMEOUT.as_secs())));
                    return None;
                }
            };
            let _ = opened.send(Ok(()));
            drop(opened);
            Some(hold(ws, stop).await)
        }));
        if (i + 1) % 10_000 == 0 {
            eprintln!("{} connections started, {:.1}s", i + 1, t0.elapsed().as_secs_f64());
        }
    }
    drop(opened_tx);
    while let Some(r) = opened_rx.recv().await {
        tally(r, &mut ok, &mut failed);
    }
    let open_secs = t0.elapsed().as_secs_f64();
    eprintln!("{ok} connections open ({failed} failed) in {open_secs:.1}s; holding {}s", plan.hold);
    let hints = hints(&errors);
    for h in &hints {
        eprintln!("hint: {h}");
    }

    tokio::time::sleep(Duration::from_secs(plan.hold)).await;
    let (during, client_during) = (rss_mb(plan.server_pid), rss_mb(me));
    let t_close = Instant::now();
    let _ = stop_tx.send(true);
    let mut ended_early: BTreeMap<String, u64> = BTreeMap::new();
    for h in holders {
        if let Some(Some(reason)) = h.await? {
            *ended_early.entry(reason).or_default() += 1;
        }
    }
    let close_secs = t_close.elapsed().as_secs_f64();
    eprintln!("closed in {close_secs:.1}s; reading the server's RSS again in {}s", plan.after);
    tokio::time::sleep(Duration::from_secs(plan.after)).await;
    let after = rss_mb(plan.server_pid);
    let per_kb = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if ok > 0 => Some((b - a) * 1024.0 / ok as f64),
        _ => None,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "connections": ok,
            "failed": failed,
            "errors": errors,
            "hints": hints,
            "users": accounts.len(),
            "source_addrs": sources.len(),
            "concurrency": plan.concurrency,
            "open_s": open_secs,
            "opened_per_s": if open_secs > 0.0 { ok as f64 / open_secs } else { 0.0 },
            "ended_during_hold": ended_early,
            "close_s": close_secs,
            "server_rss_mb_before": before,
            "server_rss_mb_with_connections": during,
            "server_rss_mb_after_close": after,
            "after_close_s": plan.after,
            "kb_per_connection": per_kb(before, during),
            "client_rss_mb_before": client_before,
            "client_rss_mb_with_connections": client_during,
            "client_kb_per_connection": per_kb(client_before, client_during),
        }))?
    );
    Ok(())
}

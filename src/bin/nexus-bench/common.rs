//! What the scenarios share: the loopback guard, the server's RSS, percentiles, and the
//! load generator's side of [`nexus::client`] (accounts registered in parallel, sockets
//! with small read buffers, waits that turn a missing event into an error).

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use nexus::client::{self, NoEvent, WsStream};
use serde_json::{Value, json};
use tokio::{net::TcpSocket, sync::Semaphore};
use tokio_tungstenite::{MaybeTlsStream, tungstenite::protocol::WebSocketConfig};

/// Only loopback targets: this tool must never load anything else.
pub fn check_loopback(url: &str) -> anyhow::Result<()> {
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

/// The HTTP client of a run.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?)
}

/// Eight characters that differ between runs, so account names never collide.
pub fn run_tag() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..28].to_string()
}

/// Small read buffers: the default 128 KiB is zeroed on every read, which made the load
/// generator itself a large share of the machine's CPU.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(8 * 1024)
}

/// A socket as `token` with [`client_config`]; `nodelay` as in [`client::connect_with`].
pub async fn connect(url: &str, token: &str, nodelay: bool) -> anyhow::Result<WsStream> {
    Ok(client::connect_with(url, token, client_config(), nodelay).await?)
}

/// A socket as `token` from `source` (an address of this machine, port chosen by the
/// kernel) to `server`, the address of `url`: the same upgrade request as [`connect`].
pub async fn connect_from(
    url: &str,
    server: SocketAddr,
    source: IpAddr,
    token: &str,
    config: WebSocketConfig,
) -> anyhow::Result<WsStream> {
    let socket = if source.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.bind(SocketAddr::new(source, 0))?;
    let tcp = socket.connect(server).await?;
    let request = client::ws_url(url, token);
    Ok(tokio_tungstenite::client_async_with_config(request, MaybeTlsStream::Plain(tcp), Some(config)).await?.0)
}

pub fn rss_mb(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// User plus system CPU seconds the process has used (`/proc/PID/stat`, fields 14 and 15).
/// Ticks are divided by 100: `CLK_TCK` (`getconf CLK_TCK`) is 100 on every Linux build
/// this runs on (the kernel's `USER_HZ`, fixed for user space whatever `CONFIG_HZ` is).
pub fn cpu_secs(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The sum of [`rss_mb`] or [`cpu_secs`] over several server processes (the nodes of a
/// cluster on this machine); `None` if there are none or one cannot be read.
pub fn sum_over(pids: &[u32], f: impl Fn(Option<u32>) -> Option<f64>) -> Option<f64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| f(Some(*p))).sum()
}

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

pub struct User {
    pub token: String,
    pub id: String,
}

/// Register `{prefix}_0` … `{prefix}_{n-1}`, eight at a time.
pub async fn register_users(http: &reqwest::Client, url: &str, prefix: &str, n: usize) -> anyhow::Result<Vec<User>> {
    let sem = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let http = http.clone();
        let url = url.to_string();
        let name = format!("{prefix}_{i}");
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await?;
            let (status, body) = client::register(&http, &url, &name, &name, "bench-password").await?;
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

/// Create a conversation as `token`; its id.
pub async fn create_conversation(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Value,
) -> anyhow::Result<String> {
    let (status, v) = client::create_conversation(http, url, token, &body).await?;
    if !status.is_success() {
        bail!("create conversation: {status} {v}");
    }
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// Who talks where in a messaging load: user `i`'s direct conversation (`dm_of[i]`, empty
/// for the odd one out), its group if any, and each conversation's members.
pub struct Conversations {
    pub dm_of: Vec<String>,
    pub group_of: Vec<Option<String>>,
    pub members_of: HashMap<String, Vec<usize>>,
}

/// Consecutive pairs of `users` talk directly; the first `groups * group_size` users also
/// belong to one group each.
pub async fn converse(
    http: &reqwest::Client,
    url: &str,
    users: &[User],
    groups: usize,
    group_size: usize,
) -> anyhow::Result<Conversations> {
    let mut dm_of = vec![String::new(); users.len()];
    for pair in (0..users.len() - users.len() % 2).step_by(2) {
        let id = create_conversation(
            http,
            url,
            &users[pair].token,
            json!({"kind": "direct", "user_id": users[pair + 1].id}),
        )
        .await?;
        dm_of[pair] = id.clone();
        dm_of[pair + 1] = id;
    }
    let mut group_of: Vec<Option<String>> = vec![None; users.len()];
    let mut members_of: HashMap<String, Vec<usize>> = HashMap::new();
    for g in 0..groups {
        let start = g * group_size;
        if start + group_size > users.len() {
            break;
        }
        let ids: Vec<&str> = users[start + 1..start + group_size].iter().map(|u| u.id.as_str()).collect();
        let gid = create_conversation(
            http,
            url,
            &users[start].token,
            json!({"kind": "group", "name": format!("bench {g}"), "member_ids": ids}),
        )
        .await?;
        for member in group_of.iter_mut().skip(start).take(group_size) {
            *member = Some(gid.clone());
        }
        members_of.insert(gid, (start..start + group_size).collect());
    }
    for (i, c) in dm_of.iter().enumerate() {
        if !c.is_empty() {
            members_of.entry(c.clone()).or_default().push(i);
        }
    }
    Ok(Conversations { dm_of, group_of, members_of })
}

/// The next event on `ws` that `want` accepts (others are skipped), within 10 s; an
/// `error` event fails the wait.
pub async fn next_event(ws: &mut WsStream, what: &str, want: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let v = match client::next_event(ws, until).await {
            Ok(v) => v,
            Err(NoEvent::TimedOut) => bail!("no {what} within 10 s"),
            Err(NoEvent::Closed) => bail!("socket closed while waiting for {what}"),
            Err(NoEvent::Read(e)) => bail!("socket error while waiting for {what}: {e}"),
            Err(NoEvent::Pong(e)) => return Err(e.into()),
            Err(NoEvent::NotJson(e)) => return Err(e.into()),
        };
        if v["type"] == "error" {
            bail!("error while waiting for {what}: {v}");
        }
        if want(&v) {
            return Ok(v);
        }
    }
}

/// Wait until the server's `nexus_messages_stored_total` is unchanged for two seconds (or
/// a minute has passed).
pub async fn drain(http: &reqwest::Client, url: &str) {
    let stored = || async {
        let text = http.get(format!("{url}/metrics")).send().await.ok()?.text().await.ok()?;
        text.lines().find(|l| l.starts_with("nexus_messages_stored_total "))?.split(' ').nth(1)?.parse::<f64>().ok()
    };
    let until = Instant::now() + Duration::from_secs(60);
    let mut last = stored().await;
    let mut still = 0;
    while Instant::now() < until && still < 4 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = stored().await;
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
}

/// What the stored histories say about a load's acknowledged messages.
pub struct HistoryCheck {
    /// Messages stored in the conversations read.
    pub stored: usize,
    /// Acknowledged ids missing from their conversation's history.
    pub lost: usize,
    /// Messages stored a second time for the same (sender, client_id).
    pub duplicated: usize,
    /// Each conversation's history: (seq, id) in seq order.
    pub histories: HashMap<String, Vec<(i64, String)>>,
}

/// Read every conversation of `acked_ids` back (as its first member in `members_of`) and
/// check it against the acknowledged ids.
pub async fn check_history(
    http: &reqwest::Client,
    url: &str,
    users: &[User],
    members_of: &HashMap<String, Vec<usize>>,
    acked_ids: &HashMap<String, Vec<String>>,
) -> anyhow::Result<HistoryCheck> {
    let mut check = HistoryCheck { stored: 0, lost: 0, duplicated: 0, histories: HashMap::new() };
    for (conv, ids) in acked_ids {
        let reader = members_of.get(conv).and_then(|m| m.first()).copied().unwrap_or(0);
        let mut after = 0;
        let mut history = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut seen_clients = HashSet::new();
        loop {
            let query = format!("after_seq={after}&limit=100");
            let (status, page) = client::history(http, url, &users[reader].token, conv, &query).await?;
            if !status.is_success() {
                bail!("history of {conv}: {status} {page}");
            }
            let page: Vec<Value> = serde_json::from_value(page)?;
            let Some(last) = page.last() else { break };
            after = last["seq"].as_i64().unwrap_or(after);
            for m in &page {
                check.stored += 1;
                let id = m["id"].as_str().unwrap_or_default().to_string();
                history.push((m["seq"].as_i64().unwrap_or_default(), id.clone()));
                seen_ids.insert(id);
                let key = (
                    m["sender_id"].as_str().unwrap_or_default().to_string(),
                    m["client_id"].as_str().unwrap_or_default().to_string(),
                );
                if !seen_clients.insert(key) {
                    check.duplicated += 1;
                }
            }
        }
        check.lost += ids.iter().filter(|id| !seen_ids.contains(*id)).count();
        check.histories.insert(conv.clone(), history);
    }
    Ok(check)
}

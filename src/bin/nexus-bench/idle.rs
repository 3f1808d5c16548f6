//! `idle`: many idle WebSocket connections, spread over a few users, held open; reports
//! the server's RSS before and with them, and so its memory per connection.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{check_loopback, connect, http_client, register_users, rss_mb, run_tag};

pub async fn run(
    url: &str,
    connections: usize,
    users: usize,
    hold: u64,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    check_loopback(url)?;
    let http = http_client()?;
    let accounts = register_users(&http, url, &format!("i{}", run_tag()), users.max(1)).await?;
    let before = rss_mb(server_pid);
    let mut sockets = Vec::with_capacity(connections);
    let t0 = Instant::now();
    for i in 0..connections {
        let u = &accounts[i % accounts.len()];
        sockets.push(connect(url, &u.token, false).await.with_context(|| format!("connection {i}"))?);
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

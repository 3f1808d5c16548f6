//! A reader that stops reading: its socket's buffers fill, its send queue overflows, and it
//! is cut off (4008) while the others in the same conversation get every message. The
//! stalled socket is a raw TCP connection with a tiny receive buffer that completes the
//! WebSocket handshake and then never reads.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, spawn_with, user},
};

both_scales!(a_reader_that_stops_is_cut_off_and_the_others_get_everything);

/// A WebSocket that is opened and then never read.
async fn stalled_socket(app: &TestApp, token: &str) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut s = sock.connect(app.addr).await.unwrap();
    let req = format!(
        "GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        app.addr
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "handshake answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

async fn connections(app: &TestApp) -> u64 {
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("nexus_websocket_connections "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .expect("the connections gauge")
}

async fn a_reader_that_stops_is_cut_off_and_the_others_get_everything(scale: Scale) {
    let app = spawn_with(scale, |c| {
        // Well above what a reader that keeps reading has queued at once, even on two
        // busy cores (several stored batches may arrive before its writer runs; at 64
        // bob was sometimes cut off too), far below what a stalled socket accumulates.
        c.gateway.send_queue = 256;
        c.messages.rate_per_sec = 100_000;
        c.messages.rate_burst = 100_000;
    })
    .await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let conv =
        app.conversation_id(&alice, json!({"kind": "group", "name": "busy", "member_ids": [bob_id, carol_id]})).await;
    let mut bob_ws = Ws::connect(&app.base, &bob).await;
    let mut carol_raw = stalled_socket(&app, &carol).await;
    // Registered once the session runs (just after the handshake's answer).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while connections(&app).await != 2 {
        assert!(tokio::time::Instant::now() < deadline, "both sockets registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Big messages, 16 at a time, until carol's socket is cut off (bounded: 8,000). The
    // kernel buffers of a loopback connection can hold around 11 MB before the server's
    // writes stall (about 3,000 of these on the machines tried), then the queue fills.
    let body = "x".repeat(3_900);
    let mut sent = 0u64;
    let mut received = Vec::new();
    while sent < 8_000 {
        let posts = (0..16).map(|i| {
            let key = format!("m-{}", sent + i);
            let (app, alice, conv, body) = (&app, &alice, &conv, &body);
            async move { app.post_message(alice, conv, &key, body).await.status().as_u16() }
        });
        for status in join_all(posts).await {
            assert!((200..300).contains(&status), "post: {status}");
        }
        sent += 16;
        // Bob reads as he goes.
        while let Some(v) = bob_ws.try_next(Duration::from_millis(5)).await {
            if v["type"] == "message.new" {
                received.push(v["message"]["seq"].as_u64().unwrap());
            }
        }
        if connections(&app).await == 1 {
            break;
        }
    }
    if sent >= 8_000 {
        let n = connections(&app).await;
        panic!("carol's stalled socket was never cut off: {n} sockets open, bob got {} of {sent}", received.len());
    }

    // Bob gets every message, in order, gap-free.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while (received.len() as u64) < sent && tokio::time::Instant::now() < deadline {
        if let Some(v) = bob_ws.try_next(Duration::from_millis(200)).await
            && v["type"] == "message.new"
        {
            received.push(v["message"]["seq"].as_u64().unwrap());
        }
    }
    assert_eq!(received.len() as u64, sent, "bob got every message");
    assert!(received.windows(2).all(|w| w[1] == w[0] + 1), "in order and gap-free");

    // Carol's connection ends (it does not hang on the server): reading drains what was
    // buffered and reaches the end.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match carol_raw.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled socket was closed by the server");
    // Bob is still connected and served.
    assert_eq!(connections(&app).await, 1);
    app.post_message(&alice, &conv, "after", "still here").await;
    let v = bob_ws.wait_for("the next message", |v| v["type"] == "message.new").await;
    assert_eq!(v["message"]["seq"].as_u64().unwrap(), sent + 1);
    app.finish().await;
}

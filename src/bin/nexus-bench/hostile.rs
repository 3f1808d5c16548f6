//! `hostile`: a bounded stream of bad frames against a running server, over many sockets
//! at once: random bytes, invalid UTF-8, deep JSON nesting, huge numbers, wrong types,
//! unknown types, someone else's ids, oversize frames, binary frames, fragmented frames
//! and ping control frames. Each frame waits for its answer, which must be the documented
//! one (an `error` event with its code, a close code, a `pong`); a socket the server closes
//! as documented is opened again. At the end: frames per kind, answers that were not the
//! documented ones, frames never answered, the server's RSS and open sockets before and
//! after, and a normal message that must still go through.
//!
//! The server's frame budget (`gateway.frames_per_sec`, default 50) must be raised for
//! the run (`scripts/bench hostile` sets it), or every socket is cut off with 4029 after
//! its burst (a flood is one of the kinds anyway: a socket that sends past its budget).

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use nexus::client::WsStream;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::frame::{
        Frame,
        coding::{CloseCode, Data, OpCode},
    },
};

use crate::common::{self, User};

pub struct HostilePlan {
    pub url: String,
    pub frames: u64,
    pub sockets: usize,
    pub seed: u64,
    pub server_pid: Option<u32>,
}

/// What the server must answer.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// An `error` event with one of these codes.
    Error(&'static [&'static str]),
    /// A close frame with this code (then the socket is opened again).
    Close(u16),
    /// A `pong` event.
    PongEvent,
    /// A WebSocket pong control frame.
    PongFrame,
}

const KINDS: [&str; 14] = [
    "random bytes",
    "invalid UTF-8",
    "deep nesting",
    "huge number",
    "wrong types",
    "unknown type",
    "not an object",
    "someone else's conversation",
    "malformed id",
    "NUL in the body",
    "oversize",
    "binary",
    "fragmented",
    "ping control frame",
];

/// The frames of `kind`, and what must come back. `own` is a conversation of the socket's
/// user, `theirs` one it is not a member of.
fn hostile(kind: usize, rng: &mut StdRng, own: &str, theirs: &str) -> (Vec<Message>, Expect) {
    let text = |s: String| vec![Message::text(s)];
    let raw_text = |b: Vec<u8>| vec![Message::Frame(Frame::message(b, OpCode::Data(Data::Text), true))];
    match kind {
        0 => {
            let n = rng.random_range(1..200);
            let s: String = (0..n).map(|_| rng.random_range(b'!'..=b'~') as char).filter(|c| *c != '{').collect();
            (text(format!("x{s}")), Expect::Error(&["invalid_frame"]))
        }
        1 => {
            let mut b: Vec<u8> = br#"{"type":"ping","x":""#.to_vec();
            b.extend([0xff, 0xfe, 0xc3, 0x28]);
            b.extend(br#""}"#);
            (raw_text(b), Expect::Close(1007))
        }
        2 => {
            let depth = rng.random_range(200..20_000);
            (text(format!("{}{}", "[".repeat(depth), "]".repeat(depth))), Expect::Error(&["invalid_frame"]))
        }
        // Past a 64-bit float the number cannot be read (RFC 8259 lets a parser limit the
        // range): the frame is unreadable. Within it, the value is wrong for its field.
        3 if rng.random_bool(0.5) => (
            text(format!(r#"{{"type":"receipt.read","conversation_id":"{own}","seq":1{}}}"#, "0".repeat(400))),
            Expect::Error(&["invalid_frame"]),
        ),
        3 => (
            text(format!(r#"{{"type":"receipt.read","conversation_id":"{own}","seq":1{}}}"#, "0".repeat(30))),
            Expect::Error(&["invalid_event"]),
        ),
        4 => {
            let frames = [
                json!({"type": "message.send", "client_id": [], "conversation_id": 5, "body": {}}),
                json!({"type": "receipt.read", "conversation_id": own, "seq": "7"}),
                json!({"type": "typing.start", "conversation_id": null}),
                json!({"type": "receipt.delivered", "conversation_id": own, "seq": 1.5}),
            ];
            (text(frames[rng.random_range(0..frames.len())].to_string()), Expect::Error(&["invalid_event"]))
        }
        5 => {
            let frames = [json!({"type": "nope"}), json!({"type": 7}), json!({"kind": "ping"}), json!({"type": ""})];
            (text(frames[rng.random_range(0..frames.len())].to_string()), Expect::Error(&["unknown_type"]))
        }
        6 => {
            let frames = ["[1,2,3]", "\"ping\"", "42", "null", "true"];
            (text(frames[rng.random_range(0..frames.len())].to_string()), Expect::Error(&["invalid_frame"]))
        }
        7 => {
            let frames = [
                json!({"type": "typing.start", "conversation_id": theirs}),
                json!({"type": "receipt.read", "conversation_id": theirs, "seq": 0}),
                json!({"type": "message.send", "client_id": uuid::Uuid::new_v4().to_string(), "conversation_id": theirs, "body": "hi"}),
            ];
            let f = frames[rng.random_range(0..frames.len())].to_string();
            (text(f), Expect::Error(&["not_found", "rate_limited"]))
        }
        8 => (
            text(json!({"type": "typing.stop", "conversation_id": "not-a-uuid"}).to_string()),
            Expect::Error(&["invalid_event"]),
        ),
        9 => (
            text(
                json!({"type": "message.send", "client_id": uuid::Uuid::new_v4().to_string(), "conversation_id": own, "body": "a\u{0}b"})
                    .to_string(),
            ),
            Expect::Error(&["validation_failed", "rate_limited"]),
        ),
        10 => (text(format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70 * 1024))), Expect::Close(1009)),
        11 => {
            let n = rng.random_range(1..512);
            let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            (vec![Message::binary(b)], Expect::Error(&["invalid_frame"]))
        }
        12 => {
            let whole = br#"{"type":"ping"}"#;
            let cut = rng.random_range(1..whole.len() - 1);
            let frames = vec![
                Message::Frame(Frame::message(whole[..cut].to_vec(), OpCode::Data(Data::Text), false)),
                Message::Frame(Frame::message(whole[cut..].to_vec(), OpCode::Data(Data::Continue), true)),
            ];
            (frames, Expect::PongEvent)
        }
        _ => {
            let n = rng.random_range(0..125);
            let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            (vec![Message::Ping(b.into())], Expect::PongFrame)
        }
    }
}

#[derive(Default)]
struct Tally {
    sent: [AtomicU64; KINDS.len()],
    answered: [AtomicU64; KINDS.len()],
    reconnects: AtomicU64,
    /// Answers that were not the documented one: kind → examples.
    wrong: Mutex<BTreeMap<&'static str, (u64, String)>>,
    unanswered: Mutex<BTreeMap<&'static str, u64>>,
}

impl Tally {
    fn wrong(&self, kind: usize, got: String) {
        let mut w = self.wrong.lock().unwrap();
        let e = w.entry(KINDS[kind]).or_insert((0, got));
        e.0 += 1;
    }
}

enum Answer {
    Event(Value),
    Closed(Option<u16>),
    PongFrame,
}

/// The next answer: an event, a close (with its code), or a pong control frame.
async fn answer(ws: &mut WsStream, within: Duration) -> Option<Answer> {
    let until = tokio::time::Instant::now() + within;
    loop {
        let frame = tokio::time::timeout_at(until, ws.next()).await.ok()?;
        return Some(match frame {
            Some(Ok(Message::Text(t))) => match serde_json::from_str::<Value>(&t) {
                Ok(v) if v["type"] == "presence" || v["type"] == "typing" => continue,
                Ok(v) => Answer::Event(v),
                Err(_) => Answer::Event(json!({"type": "not json", "text": t.as_str()})),
            },
            Some(Ok(Message::Close(c))) => Answer::Closed(c.map(|c| u16::from(c.code))),
            Some(Ok(Message::Pong(_))) => Answer::PongFrame,
            Some(Ok(Message::Ping(p))) => {
                let _ = ws.send(Message::Pong(p)).await;
                continue;
            }
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => Answer::Closed(None),
        });
    }
}

fn judge(expect: Expect, got: &Answer) -> Result<bool, String> {
    // Ok(true): as documented and the socket was closed; Ok(false): as documented.
    match (expect, got) {
        (Expect::Error(codes), Answer::Event(v)) if v["type"] == "error" => {
            let code = v["code"].as_str().unwrap_or_default();
            if codes.contains(&code) { Ok(false) } else { Err(format!("error {code}")) }
        }
        (Expect::PongEvent, Answer::Event(v)) if v["type"] == "pong" => Ok(false),
        (Expect::PongFrame, Answer::PongFrame) => Ok(false),
        (Expect::Close(want), Answer::Closed(Some(code))) if *code == want => Ok(true),
        (_, Answer::Closed(code)) => Err(format!("closed {code:?}")),
        (_, Answer::Event(v)) => Err(format!("event {}", v.to_string().chars().take(120).collect::<String>())),
        (_, Answer::PongFrame) => Err("pong frame".into()),
    }
}

async fn one_socket(url: String, user: User, own: String, theirs: String, quota: u64, seed: u64, tally: Arc<Tally>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ws = None;
    for _ in 0..quota {
        if ws.is_none() {
            match common::connect(&url, &user.token, true).await {
                Ok(mut s) => {
                    // `ready` first.
                    let _ = answer(&mut s, Duration::from_secs(10)).await;
                    ws = Some(s);
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
        }
        let Some(s) = ws.as_mut() else { continue };
        let kind = rng.random_range(0..KINDS.len());
        let (frames, expect) = hostile(kind, &mut rng, &own, &theirs);
        tally.sent[kind].fetch_add(1, Relaxed);
        let mut failed = false;
        for f in frames {
            if s.send(f).await.is_err() {
                failed = true;
                break;
            }
        }
        let got = if failed { Some(Answer::Closed(None)) } else { answer(s, Duration::from_secs(10)).await };
        match got {
            None => {
                *tally.unanswered.lock().unwrap().entry(KINDS[kind]).or_default() += 1;
                ws = None;
            }
            Some(got) => match judge(expect, &got) {
                Ok(closed) => {
                    tally.answered[kind].fetch_add(1, Relaxed);
                    if closed {
                        ws = None;
                        tally.reconnects.fetch_add(1, Relaxed);
                    }
                }
                Err(what) => {
                    tally.wrong(kind, what);
                    if matches!(got, Answer::Closed(_)) {
                        ws = None;
                        tally.reconnects.fetch_add(1, Relaxed);
                    }
                }
            },
        }
    }
    if let Some(mut s) = ws {
        let _ = s
            .send(Message::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
    }
}

async fn open_sockets(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let text = http.get(format!("{url}/metrics")).send().await?.text().await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("nexus_websocket_connections "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(-1.0) as u64)
}

pub async fn run(p: HostilePlan) -> anyhow::Result<()> {
    common::check_loopback(&p.url)?;
    let http = common::http_client()?;
    let tag = common::run_tag();
    let users = common::register_users(&http, &p.url, &format!("hostile_{tag}"), p.sockets + 2).await?;
    let (outsiders, users) = users.split_at(2);
    let theirs = common::create_conversation(
        &http,
        &p.url,
        &outsiders[0].token,
        json!({"kind": "direct", "user_id": outsiders[1].id}),
    )
    .await?;
    let mut owns = Vec::with_capacity(users.len());
    for pair in users.chunks(2) {
        let other = pair.get(1).unwrap_or(&outsiders[0]);
        let id =
            common::create_conversation(&http, &p.url, &pair[0].token, json!({"kind": "direct", "user_id": other.id}))
                .await?;
        owns.extend(std::iter::repeat_n(id, pair.len()));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = common::rss_mb(p.server_pid);
    let sockets_before = open_sockets(&http, &p.url).await?;

    let tally = Arc::new(Tally::default());
    let per_socket = p.frames.div_ceil(p.sockets as u64);
    let started = Instant::now();
    let tasks: Vec<_> = users
        .iter()
        .zip(owns)
        .enumerate()
        .map(|(i, (u, own))| {
            let user = User { token: u.token.clone(), id: u.id.clone() };
            let seed = p.seed.wrapping_add(i as u64);
            tokio::spawn(one_socket(p.url.clone(), user, own, theirs.clone(), per_socket, seed, tally.clone()))
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();

    // The server must still work: a message round trip between the two outsiders.
    let mut a = common::connect(&p.url, &outsiders[0].token, true).await?;
    common::next_event(&mut a, "ready", |v| v["type"] == "ready").await?;
    nexus::client::send_event(
        &mut a,
        &json!({"type": "message.send", "client_id": "after", "conversation_id": theirs, "body": "still here"}),
    )
    .await?;
    common::next_event(&mut a, "message.ack", |v| v["type"] == "message.ack").await?;
    drop(a);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = common::rss_mb(p.server_pid);
    let sockets_after = open_sockets(&http, &p.url).await?;

    let sent: u64 = tally.sent.iter().map(|c| c.load(Relaxed)).sum();
    let answered: u64 = tally.answered.iter().map(|c| c.load(Relaxed)).sum();
    println!(
        "hostile frames: {sent} sent over {} sockets in {elapsed:.1} s ({:.0}/s)",
        p.sockets,
        sent as f64 / elapsed
    );
    println!("{:<30} {:>9} {:>9}", "kind", "sent", "as documented");
    for (i, k) in KINDS.iter().enumerate() {
        println!("{k:<30} {:>9} {:>9}", tally.sent[i].load(Relaxed), tally.answered[i].load(Relaxed));
    }
    println!("reconnects after a documented close: {}", tally.reconnects.load(Relaxed));
    let wrong = tally.wrong.lock().unwrap();
    let unanswered = tally.unanswered.lock().unwrap();
    println!("not as documented: {}", wrong.values().map(|w| w.0).sum::<u64>());
    for (k, (n, example)) in wrong.iter() {
        println!("  {k}: {n} (e.g. {example})");
    }
    println!("unanswered within 10 s: {}", unanswered.values().sum::<u64>());
    for (k, n) in unanswered.iter() {
        println!("  {k}: {n}");
    }
    let mb = |v: Option<f64>| v.map_or("n/a".to_string(), |m| format!("{m:.1} MB"));
    println!("server RSS before {}, after {}", mb(rss_before), mb(rss_after));
    println!("server sockets before {sockets_before}, after {sockets_after}");
    println!("a normal message afterwards: acknowledged");
    if answered != sent || sockets_after != sockets_before {
        bail!("{} frames not answered as documented; sockets {sockets_before} → {sockets_after}", sent - answered);
    }
    Ok(())
}

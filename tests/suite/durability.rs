//! Durability with real processes: an acknowledged message survives `kill -9` of the node
//! that acknowledged it (both scales), and in a two-node cluster the surviving node
//! reclaims the dead node's queued work.

use std::{
    collections::HashSet,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    both_scales,
    cli::{env_for, free_port, nexus, wait_ready},
    common::{Env, Scale, Ws},
};

/// Short, so that a dead node's users go offline quickly.
const PRESENCE_TTL_SECS: u64 = 3;

struct Node {
    child: Child,
    port: u16,
}

impl Node {
    async fn start(env: &Env, port: u16, dir: &std::path::Path) -> Node {
        Self::start_flushing_every(env, port, dir, 1).await
    }

    async fn start_flushing_every(env: &Env, port: u16, dir: &std::path::Path, flush_secs: u64) -> Node {
        let mut cmd: Command = nexus(dir);
        env_for(env, &mut cmd, port);
        cmd.env("NEXUS_MESSAGES__RATE_PER_SEC", "100000")
            .env("NEXUS_MESSAGES__RATE_BURST", "100000")
            .env("NEXUS_MESSAGES__RECLAIM_IDLE_SECS", "2")
            .env("NEXUS_GATEWAY__FRAMES_PER_SEC", "100000")
            .env("NEXUS_RECEIPTS__FLUSH_INTERVAL_SECS", flush_secs.to_string())
            .env("NEXUS_PRESENCE__TTL_SECS", PRESENCE_TTL_SECS.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        wait_ready(port, &mut child).await;
        Node { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill9(&mut self) {
        Command::new("kill").arg("-KILL").arg(self.child.id().to_string()).status().unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn register(base: &str, name: &str) -> (String, String) {
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": name, "display_name": name, "password": "password123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (r["access_token"].as_str().unwrap().to_string(), r["user"]["id"].as_str().unwrap().to_string())
}

async fn open_direct(base: &str, token: &str, other: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/conversations"))
        .bearer_auth(token)
        .json(&json!({"kind": "direct", "user_id": other}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_string()
}

async fn history(base: &str, token: &str, conversation: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page: Vec<Value> = client
            .get(format!("{base}/api/v1/conversations/{conversation}/messages?after_seq={after}&limit=100"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last["seq"].as_i64().unwrap();
        out.extend(page);
    }
    out
}

/// Send `total` messages without waiting, and collect acks until `kill_after` of them
/// have arrived. Returns the acked message ids.
async fn burst_until(ws: &mut Ws, conversation: &str, total: usize, kill_after: usize) -> Vec<String> {
    for i in 0..total {
        ws.send(json!({"type": "message.send", "client_id": format!("k{i}"), "conversation_id": conversation, "body": format!("n{i}")}))
            .await;
    }
    let mut acked = Vec::new();
    while acked.len() < kill_after {
        let ev = ws.wait_for("ack", |v| v["type"] == "message.ack").await;
        acked.push(ev["id"].as_str().unwrap().to_string());
    }
    acked
}

/// Every acked id is in the history exactly once, and `seq` is 1..=n without gaps.
async fn assert_all_stored(base: &str, token: &str, conversation: &str, acked: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = history(base, token, conversation).await;
        let ids: Vec<String> = h.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "no duplicates");
        let seqs: Vec<i64> = h.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=h.len() as i64).collect::<Vec<_>>(), "gap-free");
        let missing: Vec<&String> = acked.iter().filter(|a| !unique.contains(a)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{} acked messages missing after 30 s: {missing:?}", missing.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn acked_messages_survive_kill_9(scale: Scale) {
    let env = Env::new(scale).await;
    let dir = env.dir.path().to_path_buf();
    let port = free_port();
    let mut node = Node::start(&env, port, &dir).await;
    let base = node.base();
    let (alice, _) = register(&base, "alice").await;
    let (_, bob_id) = register(&base, "bob").await;
    let cid = open_direct(&base, &alice, &bob_id).await;
    let mut ws = Ws::connect(&base, &alice).await;
    let acked = burst_until(&mut ws, &cid, 400, 150).await;
    node.kill9();
    drop(ws);
    let node = Node::start(&env, port, &dir).await;
    assert_all_stored(&node.base(), &alice, &cid, &acked).await;
    drop(node);
    env.cleanup().await;
}

both_scales!(acked_messages_survive_kill_9);

/// Two nodes sharing PostgreSQL and Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_exchange_and_survive_a_node_dying() {
    let env = Env::new(Scale::Cluster).await;
    let dir_a = env.dir.path().join("a");
    let dir_b = env.dir.path().join("b");
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let mut a = Node::start(&env, free_port(), &dir_a).await;
    let b = Node::start(&env, free_port(), &dir_b).await;
    let (alice, alice_id) = register(&a.base(), "alice").await;
    // Bob registers on node B; tokens work across nodes (shared signing secret).
    let (bob, bob_id) = register(&b.base(), "bob").await;
    let cid = open_direct(&a.base(), &alice, &bob_id).await;
    let mut wa = Ws::connect(&a.base(), &alice).await;
    let mut wb = Ws::connect(&b.base(), &bob).await;
    // Presence crosses nodes.
    let p = wa.wait_for("presence", |v| v["type"] == "presence" && v["user_id"] == bob_id.as_str()).await;
    assert_eq!(p["online"], true);
    // Messages both ways.
    assert_eq!(wa.send_message(&cid, "a1", "from node A").await["type"], "message.ack");
    assert_eq!(wb.wait_for("message.new", |v| v["type"] == "message.new").await["message"]["body"], "from node A");
    assert_eq!(wb.send_message(&cid, "b1", "from node B").await["type"], "message.ack");
    assert_eq!(
        wa.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["body"] == "from node B").await["message"]
            ["seq"],
        2
    );
    // Typing crosses nodes.
    wb.send(json!({"type": "typing.start", "conversation_id": cid})).await;
    let t = wa.wait_for("typing", |v| v["type"] == "typing").await;
    assert_eq!((t["user_id"].as_str(), t["active"].as_bool()), (Some(bob_id.as_str()), Some(true)));

    // Node A dies mid-load; node B takes over its queued work.
    let acked = burst_until(&mut wa, &cid, 400, 150).await;
    a.kill9();
    let killed = Instant::now();
    drop(wa);
    // Alice's only socket was on node A: node B announces her offline within the TTL
    // (plus a second of slack for a loaded machine), not after a minute.
    let offline = wb
        .wait_for("alice offline", |v| {
            v["type"] == "presence" && v["user_id"] == alice_id.as_str() && v["online"] == false
        })
        .await;
    assert!(offline["last_seen"].is_string(), "{offline}");
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(PRESENCE_TTL_SECS + 1), "offline after {took:?}");
    assert_all_stored(&b.base(), &bob, &cid, &acked).await;
    // Alice reconnects to node B and carries on.
    let mut wa = Ws::connect(&b.base(), &alice).await;
    assert_eq!(wa.send_message(&cid, "after", "still here").await["type"], "message.ack");
    drop(b);
    env.cleanup().await;
}

/// Deterministic takeover: entries a consumer read and never finished (it died) are
/// reclaimed by a live node after `messages.reclaim_idle_secs`, stored once, delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_consumers_messages_are_reclaimed() {
    use nexus::{app::Services, bus::keys};
    let env = Env::new(Scale::Cluster).await;
    let tweak = |c: &mut nexus::config::Config| c.messages.reclaim_idle_secs = 1;
    let app = crate::common::start(env.clone(), tweak).await;
    let (alice, alice_id) = crate::common::user(&app, "alice").await;
    let (bob, bob_id) = crate::common::user(&app, "bob").await;
    let cid = app.conversation(&alice, json!({"kind": "direct", "user_id": bob_id})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let env = app.stop().await;

    // A node that accepts 20 messages (acked: they are in the stream), reads them, dies.
    let mut config = env.config();
    tweak(&mut config);
    let dead = Services::build(config).await.unwrap();
    let alice_uuid: uuid::Uuid = alice_id.parse().unwrap();
    let conv: uuid::Uuid = cid.parse().unwrap();
    let mut acked = Vec::new();
    for i in 0..20 {
        let ack = dead
            .messages
            .submit(alice_uuid, conv, &format!("d{i}"), &format!("taken {i}"))
            .await
            .unwrap()
            .wait()
            .await
            .unwrap();
        acked.push(ack.id.to_string());
    }
    dead.bus.queue_ensure_group(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP).await.unwrap();
    let taken = dead
        .bus
        .dequeue(keys::MESSAGES_STREAM, keys::MESSAGES_GROUP, "dead-node", 100, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(taken.len(), 20, "the dead node holds them all");
    drop(dead);

    // A live node comes up: nothing new to read, so only a reclaim can store them.
    let app = crate::common::start(env, tweak).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let mut delivered = HashSet::new();
    while delivered.len() < 20 {
        let ev = b.wait_for("message.new", |v| v["type"] == "message.new").await;
        delivered.insert(ev["message"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(delivered, acked.iter().cloned().collect::<HashSet<_>>());
    assert_all_stored(&app.base, &bob, &cid, &acked).await;
    assert!(app.services.bus.dead_letters(keys::MESSAGES_STREAM, 10).await.unwrap().is_empty());
    app.finish().await;
}

/// A read receipt that was only buffered when the node was killed reaches the database
/// after the restart (journal in the embedded mode, the Redis hash in the cluster).
async fn buffered_receipts_survive_kill_9(scale: Scale) {
    let env = Env::new(scale).await;
    let dir = env.dir.path().to_path_buf();
    let port = free_port();
    // No flush before the kill: the receipt exists only in the buffer.
    let mut node = Node::start_flushing_every(&env, port, &dir, 3600).await;
    let base = node.base();
    let (alice, _) = register(&base, "alice").await;
    let (bob, bob_id) = register(&base, "bob").await;
    let cid = open_direct(&base, &alice, &bob_id).await;
    let mut a = Ws::connect(&base, &alice).await;
    a.send_message(&cid, "m1", "read me").await;
    a.wait_for("stored", |v| v["type"] == "message.new").await;
    let mut b = Ws::connect(&base, &bob).await;
    b.send(json!({"type": "receipt.read", "conversation_id": cid, "seq": 1})).await;
    a.wait_for("receipt", |v| v["type"] == "receipt" && v["user_id"] == bob_id.as_str() && v["read_seq"] == 1).await;
    node.kill9();
    drop((a, b));
    let node = Node::start(&env, port, &dir).await; // flushes every second (see Node::start)
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let read: Option<i64> = match env.database_url() {
            Some(url) => {
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                let r = sqlx::query_scalar("SELECT read_seq FROM receipts WHERE user_id = $1")
                    .bind(bob_id.parse::<uuid::Uuid>().unwrap())
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                r
            }
            None => {
                let path = dir.join("data/nexus.db");
                let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display())).await.unwrap();
                let r = sqlx::query_scalar("SELECT read_seq FROM receipts WHERE user_id = $1")
                    .bind(bob_id.parse::<uuid::Uuid>().unwrap())
                    .fetch_optional(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                r
            }
        };
        if read == Some(1) {
            break;
        }
        assert!(Instant::now() < deadline, "receipt not in the database 20 s after the restart: {read:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(node);
    env.cleanup().await;
}

both_scales!(buffered_receipts_survive_kill_9);

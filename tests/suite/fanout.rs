//! Throughput machinery, checked for correctness: the sharded message worker
//! (`messages.workers`) with many conversations and senders at once, and the per-node
//! fan-out (a node receives only the events of users with sockets on it, while events
//! that change caches reach every node). On the cluster scale a second node shares the
//! PostgreSQL and Redis of the first.

use std::{
    collections::{BTreeMap, HashMap},
    sync::atomic::Ordering,
    time::Duration,
};

use serde_json::json;

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn_with, start, user},
};

fn fast(c: &mut nexus::config::Config) {
    c.messages.rate_per_sec = 100_000;
    c.messages.rate_burst = 100_000;
    c.gateway.frames_per_sec = 100_000;
    c.messages.workers = 4;
    // Small batches: many transactions in flight on the four shards.
    c.messages.batch_size = 8;
}

async fn second_node(app: &TestApp) -> Option<TestApp> {
    if app.env.scale != Scale::Cluster {
        return None;
    }
    let dir = app.env.dir.path().join("node-b");
    Some(
        start(app.env.clone(), |c| {
            fast(c);
            c.server.data_dir = dir;
        })
        .await,
    )
}

/// Eight conversations, three senders each sending to all eight without waiting for acks:
/// every conversation's `seq` is gap-free, each sender's messages keep their order, every
/// acked message is delivered once, in `seq` order, to a member watching all eight.
async fn many_conversations_at_once_keep_each_order(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let (tw, w_id) = user(&app, "watcher").await;
    let mut senders = Vec::new();
    for i in 0..3 {
        senders.push(user(&app, &format!("sender{i}")).await);
    }
    let members: Vec<&str> = senders.iter().map(|(_, id)| id.as_str()).chain([w_id.as_str()]).collect();
    let mut groups = Vec::new();
    for g in 0..8 {
        groups.push(
            app.conversation_id(&tw, json!({"kind": "group", "name": format!("g{g}"), "member_ids": members})).await,
        );
    }
    let mut watcher = Ws::connect(&app.base, &tw).await;
    const PER: usize = 15;
    let tasks: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, (t, _))| {
            let (base, t, groups) = (app.base.clone(), t.clone(), groups.clone());
            tokio::spawn(async move {
                let mut ws = Ws::connect(&base, &t).await;
                for k in 0..PER {
                    for g in &groups {
                        ws.send(json!({"type": "message.send", "client_id": format!("{i}-{k}-{g}"),
                            "conversation_id": g, "body": format!("{i}/{k}")}))
                            .await;
                    }
                }
                let mut acked = 0;
                while acked < PER * groups.len() {
                    let ev = ws.wait_for("ack", |v| v["type"] == "message.ack" || v["type"] == "error").await;
                    assert_eq!(ev["type"], "message.ack", "{ev}");
                    acked += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total = 3 * PER * groups.len();
    // conversation -> seq -> body
    let mut got: HashMap<String, BTreeMap<i64, String>> = HashMap::new();
    for _ in 0..total {
        let ev = watcher.wait_for("message.new", |v| v["type"] == "message.new").await;
        let m = &ev["message"];
        let by_seq = got.entry(m["conversation_id"].as_str().unwrap().to_string()).or_default();
        let seq = m["seq"].as_i64().unwrap();
        // Batches overlap (one stored while the last is fanned out), yet each conversation
        // arrives in `seq` order.
        assert!(by_seq.last_key_value().is_none_or(|(last, _)| *last < seq), "out of order: {seq} after {by_seq:?}");
        let old = by_seq.insert(seq, m["body"].as_str().unwrap().to_string());
        assert!(old.is_none(), "delivered twice: {ev}");
    }
    assert!(watcher.try_next(Duration::from_millis(300)).await.is_none_or(|v| v["type"] != "message.new"));
    assert_eq!(got.len(), groups.len());
    for (conv, by_seq) in &got {
        assert_eq!(by_seq.keys().copied().collect::<Vec<_>>(), (1..=(3 * PER) as i64).collect::<Vec<_>>(), "{conv}");
        for i in 0..3 {
            let mine: Vec<&String> = by_seq.values().filter(|b| b.starts_with(&format!("{i}/"))).collect();
            let want: Vec<String> = (0..PER).map(|k| format!("{i}/{k}")).collect();
            assert_eq!(mine, want.iter().collect::<Vec<_>>(), "sender {i} in order in {conv}");
        }
    }
    app.finish().await;
}

/// A node receives only what its users need: a conversation whose members are all on node
/// A costs node B nothing; once a member has a socket on B, B gets that member's events
/// (cut to that member); and a recipient with no socket anywhere costs no publish at all.
async fn events_go_only_to_the_nodes_of_their_recipients(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node_b = second_node(&app).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let (tc, c_id) = user(&app, "carol").await;
    let (_td, d_id) = user(&app, "dave").await;
    let ab = app.conversation_id(&ta, json!({"kind": "direct", "user_id": b_id})).await;
    let ad = app.conversation_id(&ta, json!({"kind": "direct", "user_id": d_id})).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&app.base, &tb).await;
    let base_b = node_b.as_ref().map_or(app.base.clone(), |n| n.base.clone());
    let _carol = Ws::connect(&base_b, &tc).await;
    let received = |n: &TestApp| n.services.fanout.stats.received_envelopes.load(Ordering::Relaxed);
    let published = |n: &TestApp| n.services.fanout.stats.published.load(Ordering::Relaxed);

    tokio::time::sleep(Duration::from_millis(200)).await;
    let b_before = node_b.as_ref().map(received);
    for k in 0..5 {
        a.send_message(&ab, &format!("m{k}"), "only node A").await;
        b.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["seq"] == k + 1).await;
    }
    if let Some(n) = &node_b {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(Some(received(n)), b_before, "node B has no socket of alice or bob: it hears nothing");
        // Bob opens a second device on node B: it gets his events, and only his.
        let mut b2 = Ws::connect(&n.base, &tb).await;
        a.send_message(&ab, "m5", "both nodes").await;
        let ev = b2.wait_for("message.new", |v| v["type"] == "message.new").await;
        assert_eq!(ev["message"]["body"], "both nodes");
        b.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["seq"] == 6).await;
        assert!(received(n) > b_before.unwrap());
    }
    let _ = c_id;

    // Dave has no socket: alice's message to him is stored, and published only to alice's
    // node (her own socket). With her socket closed too, nothing is published at all.
    drop(a);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = published(&app);
    let r = app.post_message(&ta, &ad, "offline-1", "nobody online").await;
    assert!(r.status().is_success(), "{}", r.status());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.history(&ta, &ad, "after_seq=0").await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "message not stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(published(&app), before, "no recipient online: no publish");
    if let Some(n) = node_b {
        n.stop().await;
    }
    app.finish().await;
}

/// Membership changes reach every node, also one with no socket of the people concerned: a
/// removed member's REST post on that node is refused at once (its cache was told).
async fn membership_changes_reach_every_node(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node_b = second_node(&app).await;
    let other = node_b.as_ref().unwrap_or(&app);
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let g = app.conversation_id(&ta, json!({"kind": "group", "name": "g", "member_ids": [b_id]})).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    // Bob posts over REST on the other node: it now caches the group's members.
    let r = other.post_message(&tb, &g, "b-1", "hello").await;
    assert!(r.status().is_success(), "{}", r.status());
    a.wait_for("message.new", |v| v["type"] == "message.new").await;
    let r = app.delete_auth(&format!("/api/v1/conversations/{g}/members/{b_id}"), &ta).await;
    assert!(r.status().is_success(), "{}", r.status());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_problem(other.post_message(&tb, &g, "b-2", "still here?").await, 404, "not_found").await;
    if let Some(n) = node_b {
        n.stop().await;
    }
    app.finish().await;
}

both_scales!(
    many_conversations_at_once_keep_each_order,
    events_go_only_to_the_nodes_of_their_recipients,
    membership_changes_reach_every_node,
);

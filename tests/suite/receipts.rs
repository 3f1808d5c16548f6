//! Read and delivery receipts, write-behind: real-time fan-out, buffered pointers that only
//! move forward, flushes that survive interruption, unread counts across devices.

use std::time::Duration;

use nexus::{bus::keys, service::receipts::Kind, store::Receipt};
use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn, start, user},
};

/// alice and bob in a DM with `n` messages from alice; returns tokens, ids, conversation.
async fn dm_with(app: &TestApp, n: usize) -> (String, String, String, String, String) {
    let (alice, alice_id) = user(app, "alice").await;
    let (bob, bob_id) = user(app, "bob").await;
    let cid = app.conversation(&alice, json!({"kind": "direct", "user_id": bob_id})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut a = Ws::connect(&app.base, &alice).await;
    for i in 0..n {
        a.send_message(&cid, &format!("m{i}"), &format!("message {i}")).await;
    }
    a.wait_for("last message.new", |v| v["type"] == "message.new" && v["message"]["seq"] == n as i64).await;
    (alice, alice_id, bob, bob_id, cid)
}

async fn stored(app: &TestApp, cid: &str) -> Vec<Receipt> {
    app.services.store.receipts_of(cid.parse().unwrap()).await.unwrap()
}

async fn read_receipt_is_live_then_stored_and_survives_restart(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _, bob, bob_id, cid) = dm_with(&app, 5).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    b.send(json!({"type": "receipt.delivered", "conversation_id": cid, "seq": 5})).await;
    let r = a.wait_for("receipt", |v| v["type"] == "receipt" && v["user_id"] == bob_id.as_str()).await;
    assert_eq!((r["delivered_seq"].as_i64(), r["read_seq"].as_i64()), (Some(5), Some(0)));
    b.send(json!({"type": "receipt.read", "conversation_id": cid, "seq": 4})).await;
    let r = a.wait_for("receipt", |v| v["type"] == "receipt" && v["read_seq"] == 4).await;
    assert_eq!(r["delivered_seq"], 5);
    // Buffered, not yet in the database; but reads merge the buffer.
    assert!(stored(&app, &cid).await.iter().all(|r| r.user_id.to_string() != bob_id), "write-behind");
    let pointers: Vec<Value> =
        app.get_auth(&format!("/api/v1/conversations/{cid}/receipts"), &alice).await.json().await.unwrap();
    let bobs = pointers.iter().find(|p| p["user_id"] == bob_id.as_str()).unwrap();
    assert_eq!((bobs["delivered_seq"].as_i64(), bobs["read_seq"].as_i64()), (Some(5), Some(4)));
    // The flusher writes it.
    let report = app.services.receipts.flush().await.unwrap();
    assert!(report.ran && report.entries >= 2 && report.statements == 1, "{report:?}");
    let rows = stored(&app, &cid).await;
    let row = rows.iter().find(|r| r.user_id.to_string() == bob_id).unwrap();
    assert_eq!((row.delivered_seq, row.read_seq), (5, 4));
    // And survives a restart.
    drop((a, b));
    let env = app.stop().await;
    let app = start(env, |_| {}).await;
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!((list[0]["read_seq"].as_i64(), list[0]["unread_count"].as_i64()), (Some(4), Some(1)));
    app.finish().await;
}

async fn pointers_only_move_forward_under_races(scale: Scale) {
    let app = spawn(scale).await;
    let (_, _, _, bob_id, cid) = dm_with(&app, 30).await;
    let bob: uuid::Uuid = bob_id.parse().unwrap();
    let conv: uuid::Uuid = cid.parse().unwrap();
    // 1,000 receipts with shuffled seqs, in parallel, read and delivered mixed.
    let mut seqs: Vec<i64> = (0..1000).map(|i| (i * 7919 % 30) + 1).collect();
    seqs.sort_by_key(|s| (s * 104729) % 1009);
    let max = *seqs.iter().max().unwrap();
    let tasks: Vec<_> = seqs
        .chunks(100)
        .enumerate()
        .map(|(k, chunk)| {
            let services = app.services.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                for (i, seq) in chunk.into_iter().enumerate() {
                    let kind = if (i + k) % 3 == 0 { Kind::Read } else { Kind::Delivered };
                    services.receipts.record(bob, conv, kind, seq).await.unwrap();
                    if i % 10 == 0 {
                        // Flushes interleave with the writes.
                        services.receipts.flush().await.unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    app.services.receipts.flush().await.unwrap();
    let rows = stored(&app, &cid).await;
    let row = rows.iter().find(|r| r.user_id == bob).unwrap();
    assert_eq!(row.delivered_seq, max);
    let max_read = seqs
        .chunks(100)
        .enumerate()
        .flat_map(|(k, c)| c.iter().enumerate().filter(move |(i, _)| (i + k) % 3 == 0).map(|(_, s)| *s))
        .max()
        .unwrap();
    assert_eq!(row.read_seq, max_read);
    // A lower value never overwrites, in the buffer or the database.
    app.services.receipts.record(bob, conv, Kind::Read, 1).await.unwrap();
    app.services.receipts.flush().await.unwrap();
    assert_eq!(stored(&app, &cid).await.iter().find(|r| r.user_id == bob).unwrap().read_seq, max_read);
    app.finish().await;
}

async fn an_interrupted_flush_is_completed_by_the_next(scale: Scale) {
    let app = spawn(scale).await;
    let (_, _, bob, bob_id, cid) = dm_with(&app, 3).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    b.send(json!({"type": "receipt.read", "conversation_id": cid, "seq": 3})).await;
    b.wait_for("own receipt", |v| v["type"] == "receipt" && v["user_id"] == bob_id.as_str()).await;
    // A flusher takes the buffer and dies before its upsert commits.
    let taken = app.services.bus.buffer_take(keys::RECEIPTS_BUFFER).await.unwrap();
    assert!(taken.iter().any(|(f, v)| f.ends_with(&format!("{bob_id}:r")) && *v == 3), "{taken:?}");
    // Meanwhile more arrives.
    b.send(json!({"type": "receipt.delivered", "conversation_id": cid, "seq": 3})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The next flush writes the taken batch too.
    let report = app.services.receipts.flush().await.unwrap();
    assert!(report.entries >= 1, "{report:?}");
    let rows = stored(&app, &cid).await;
    let row = rows.iter().find(|r| r.user_id.to_string() == bob_id).unwrap();
    assert_eq!((row.delivered_seq, row.read_seq), (3, 3));
    assert!(app.services.bus.buffer_take(keys::RECEIPTS_BUFFER).await.unwrap().is_empty(), "nothing left behind");
    app.finish().await;
}

async fn only_one_flusher_at_a_time(scale: Scale) {
    let app = spawn(scale).await;
    let (_, _, _, bob_id, cid) = dm_with(&app, 2).await;
    let bob: uuid::Uuid = bob_id.parse().unwrap();
    app.services.receipts.record(bob, cid.parse().unwrap(), Kind::Read, 2).await.unwrap();
    // Another node holds the lock: this one skips, and loses nothing.
    let token = app.services.bus.try_lock(keys::RECEIPTS_FLUSH_LOCK, Duration::from_secs(30)).await.unwrap().unwrap();
    let report = app.services.receipts.flush().await.unwrap();
    assert!(!report.ran);
    assert!(stored(&app, &cid).await.iter().all(|r| r.user_id != bob));
    app.services.bus.unlock(keys::RECEIPTS_FLUSH_LOCK, &token).await.unwrap();
    assert!(app.services.receipts.flush().await.unwrap().ran);
    assert_eq!(stored(&app, &cid).await.iter().find(|r| r.user_id == bob).unwrap().read_seq, 2);
    app.finish().await;
}

async fn hostile_receipts_are_refused_and_store_nothing(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _, _, _, cid) = dm_with(&app, 2).await;
    let (eve, eve_id) = user(&app, "eve").await;
    let mut e = Ws::connect(&app.base, &eve).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    e.send(json!({"type": "receipt.read", "conversation_id": cid, "seq": 1})).await;
    assert_eq!(e.wait_for("error", |v| v["type"] == "error").await["code"], "not_found");
    let cases = [
        (json!({"type": "receipt.read", "conversation_id": cid, "seq": 3}), "seq_out_of_range"),
        (json!({"type": "receipt.delivered", "conversation_id": cid, "seq": -1}), "validation_failed"),
        (json!({"type": "receipt.read", "conversation_id": cid, "seq": "2"}), "invalid_event"),
        (json!({"type": "receipt.read", "conversation_id": cid, "seq": 1e30}), "invalid_event"),
        (json!({"type": "receipt.read", "conversation_id": cid}), "invalid_event"),
        (json!({"type": "receipt.read", "conversation_id": uuid::Uuid::now_v7(), "seq": 0}), "not_found"),
    ];
    for (frame, code) in cases {
        a.send(frame.clone()).await;
        let ev = a.wait_for("error", |v| v["type"] == "error").await;
        assert_eq!(ev["code"], code, "{frame}");
    }
    let r = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{cid}/read")))
        .bearer_auth(&alice)
        .json(&json!({"seq": 99}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "seq_out_of_range").await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{cid}/read")))
        .bearer_auth(&alice)
        .json(&json!({"seq": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_request").await;
    app.services.receipts.flush().await.unwrap();
    let rows = stored(&app, &cid).await;
    assert!(rows.iter().all(|r| r.user_id.to_string() != eve_id), "nothing stored for eve");
    assert!(rows.iter().all(|r| r.read_seq <= 2 && r.delivered_seq <= 2), "{rows:?}");
    app.finish().await;
}

async fn unread_counts_across_two_devices(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _, bob, bob_id, cid) = dm_with(&app, 3).await;
    let mut phone = Ws::connect(&app.base, &bob).await;
    let mut laptop = Ws::connect(&app.base, &bob).await;
    let unread = |token: String| {
        let app = &app;
        async move {
            let list: Vec<Value> = app.get_auth("/api/v1/conversations", &token).await.json().await.unwrap();
            list[0]["unread_count"].as_i64().unwrap()
        }
    };
    assert_eq!(unread(bob.clone()).await, 3);
    // Reading on the phone clears the laptop's badge in real time…
    phone.send(json!({"type": "receipt.read", "conversation_id": cid, "seq": 3})).await;
    let r = laptop.wait_for("receipt", |v| v["type"] == "receipt" && v["user_id"] == bob_id.as_str()).await;
    assert_eq!(r["read_seq"], 3);
    assert_eq!(unread(bob.clone()).await, 0);
    // …and a new message counts again on both.
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&cid, "later", "one more").await;
    laptop.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["seq"] == 4).await;
    assert_eq!(unread(bob.clone()).await, 1);
    // REST read by an API client.
    let r = app
        .http
        .post(app.url(&format!("/api/v1/conversations/{cid}/read")))
        .bearer_auth(&bob)
        .json(&json!({"seq": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(unread(bob.clone()).await, 0);
    assert_eq!(
        phone.wait_for("receipt", |v| v["type"] == "receipt" && v["read_seq"] == 4).await["user_id"],
        bob_id.as_str()
    );
    app.finish().await;
}

both_scales!(
    read_receipt_is_live_then_stored_and_survives_restart,
    pointers_only_move_forward_under_races,
    an_interrupted_flush_is_completed_by_the_next,
    only_one_flusher_at_a_time,
    hostile_receipts_are_refused_and_store_nothing,
    unread_counts_across_two_devices,
);

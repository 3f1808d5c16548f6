//! Real-time messaging over the gateway and REST, on both scales: the invariants of the
//! pipeline (no loss, no duplicate, gap-free seq, stored before delivered, members only)
//! and hostile input.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    both_scales,
    common::{Scale, Ws, assert_problem, spawn, spawn_with, user},
};

async fn direct_and_group_conversations(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let r = app.post_auth("/api/v1/conversations", &alice, json!({"kind": "direct", "user_id": bob_id})).await;
    assert_eq!(r.status(), 201);
    let dm: Value = r.json().await.unwrap();
    assert_eq!(dm["kind"], "direct");
    assert_eq!(dm["members"].as_array().unwrap().len(), 2);
    // Idempotent, from either side.
    let alice_id = app.register_id_of(&alice).await;
    let again = app.post_auth("/api/v1/conversations", &bob, json!({"kind": "direct", "user_id": alice_id})).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], dm["id"]);

    let group =
        app.conversation(&alice, json!({"kind": "group", "name": "  Climbing  ", "member_ids": [bob_id]})).await;
    assert_eq!(group["name"], "Climbing");
    let gid = group["id"].as_str().unwrap().to_string();
    // Bob is a member, not an admin: cannot rename or add; can leave.
    let path = format!("/api/v1/conversations/{gid}");
    assert_problem(app.patch_auth(&path, &bob, json!({"name": "Mine"})).await, 403, "forbidden").await;
    let r = app.patch_auth(&path, &alice, json!({"name": "Bouldering"})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Bouldering");
    let r = app.post_auth(&format!("{path}/members"), &alice, json!({"user_ids": [carol_id]})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["members"].as_array().unwrap().len(), 3);
    assert_eq!(app.get_auth(&path, &carol).await.status(), 200);
    assert_eq!(app.delete_auth(&format!("{path}/members/{bob_id}"), &bob).await.status(), 204);
    assert_problem(app.get_auth(&path, &bob).await, 404, "not_found").await;

    // Listing: newest activity first, with last message and unread counts.
    let mut ws = Ws::connect(&app.base, &alice).await;
    ws.send_message(dm["id"].as_str().unwrap(), "c1", "hi bob").await;
    ws.wait_for("message.new", |v| v["type"] == "message.new").await;
    let list: Vec<Value> = app.get_auth("/api/v1/conversations", &bob).await.json().await.unwrap();
    assert_eq!(list[0]["id"], dm["id"], "the DM has the newest activity");
    assert_eq!(list[0]["last_message"]["body"], "hi bob");
    assert_eq!(list[0]["unread_count"], 1);
    let mine: Vec<Value> = app.get_auth("/api/v1/conversations", &alice).await.json().await.unwrap();
    assert_eq!(mine.iter().find(|c| c["id"] == dm["id"]).unwrap()["unread_count"], 0, "own messages are read");

    // Bad input.
    let bad = [
        (json!({"kind": "direct", "user_id": "not-a-uuid"}), 400, "invalid_request"),
        (json!({"kind": "direct", "user_id": uuid::Uuid::now_v7()}), 404, "not_found"),
        (json!({"kind": "direct", "user_id": alice_id}), 400, "validation_failed"),
        (json!({"kind": "group", "name": "", "member_ids": []}), 400, "validation_failed"),
        (json!({"kind": "group", "name": "x".repeat(65)}), 400, "validation_failed"),
        (json!({"kind": "group", "name": "g", "member_ids": [uuid::Uuid::now_v7()]}), 400, "validation_failed"),
        (json!({"kind": "channel", "name": "g"}), 400, "invalid_request"),
        (json!({"kind": "group", "name": 5}), 400, "invalid_request"),
    ];
    for (body, status, code) in bad {
        assert_problem(app.post_auth("/api/v1/conversations", &alice, body).await, status, code).await;
    }
    let r = app.post("/api/v1/conversations", json!({"kind": "direct", "user_id": bob_id})).await;
    assert_problem(r, 401, "unauthorized").await;
    app.finish().await;
}

async fn send_ack_and_deliver_to_every_device(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let dm = app.conversation(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let cid = dm["id"].as_str().unwrap();
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b1 = Ws::connect(&app.base, &bob).await;
    let mut b2 = Ws::connect(&app.base, &bob).await;
    assert_eq!(a.ready["user"]["id"], alice_id);
    let ack = a.send_message(cid, "m-1", "Hello <b>Bob</b> 👋").await;
    assert_eq!(ack["type"], "message.ack", "{ack}");
    assert_eq!(ack["conversation_id"], cid);
    for ws in [&mut a, &mut b1, &mut b2] {
        let ev = ws.wait_for("message.new", |v| v["type"] == "message.new").await;
        let m = &ev["message"];
        assert_eq!(
            (m["id"].clone(), m["seq"].clone(), m["body"].clone()),
            (ack["id"].clone(), json!(1), json!("Hello <b>Bob</b> 👋"))
        );
        assert_eq!(m["sender_id"], alice_id);
        assert_eq!(m["client_id"], "m-1");
    }
    // REST history and the bot path.
    let r = app.post_message(&bob, cid, "bot-1", "from a script").await;
    assert_eq!(r.status(), 202);
    let posted: Value = r.json().await.unwrap();
    assert_eq!(posted["client_id"], "bot-1");
    let ev = a.wait_for("message.new", |v| v["type"] == "message.new").await;
    assert_eq!(ev["message"]["seq"], 2);
    let history = app.history(&alice, cid, "").await;
    assert_eq!(history.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![1, 2]);
    app.finish().await;
}

async fn a_retried_client_id_makes_one_message(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let first = a.send_message(&cid, "same", "once").await;
    let second = a.send_message(&cid, "same", "once").await;
    assert_eq!(first["id"], second["id"]);
    // Also across sockets (a reconnecting client) and via REST with the same key.
    let mut again = Ws::connect(&app.base, &alice).await;
    assert_eq!(again.send_message(&cid, "same", "once").await["id"], first["id"]);
    for _ in 0..2 {
        assert_eq!(app.post_message(&alice, &cid, "rest-key", "rest").await.status(), 202);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app.history(&alice, &cid, "").await;
    assert_eq!(history.len(), 2, "{history:?}");
    // A client_id reused for another conversation is refused.
    let other = app.conversation_id(&alice, json!({"kind": "group", "name": "g"})).await;
    let r = a.send_message(&other, "same", "elsewhere").await;
    assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("validation_failed")));
    app.finish().await;
}

async fn seq_is_gap_free_and_identical_under_concurrent_senders(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.messages.rate_per_sec = 1000;
        c.messages.rate_burst = 1000;
    })
    .await;
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for i in 0..20 {
        let (t, id) = user(&app, &format!("sender{i:02}")).await;
        tokens.push(t);
        ids.push(id);
    }
    let gid = app.conversation_id(&tokens[0], json!({"kind": "group", "name": "crowd", "member_ids": ids[1..]})).await;
    let mut watchers = [Ws::connect(&app.base, &tokens[0]).await, Ws::connect(&app.base, &tokens[19]).await];
    const PER_SENDER: usize = 10;
    let tasks: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let base = app.base.clone();
            let t = t.clone();
            let gid = gid.clone();
            tokio::spawn(async move {
                let mut ws = Ws::connect(&base, &t).await;
                for k in 0..PER_SENDER {
                    let ack = ws.send_message(&gid, &format!("s{i}-{k}"), &format!("{i}/{k}")).await;
                    assert_eq!(ack["type"], "message.ack", "{ack}");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total = 20 * PER_SENDER;
    let mut seen = Vec::new();
    for w in watchers.iter_mut() {
        let mut got = Vec::new();
        while got.len() < total {
            let ev = w.wait_for("message.new", |v| v["type"] == "message.new").await;
            got.push((ev["message"]["seq"].as_i64().unwrap(), ev["message"]["id"].as_str().unwrap().to_string()));
        }
        got.sort();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), (1..=total as i64).collect::<Vec<_>>(), "gap-free");
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "every member sees the same order");
    let mut history = Vec::new();
    let mut after = 0;
    loop {
        let page = app.history(&tokens[5], &gid, &format!("after_seq={after}&limit=100")).await;
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap()["seq"].as_i64().unwrap();
        history.extend(page.into_iter().map(|m| (m["seq"].as_i64().unwrap(), m["id"].as_str().unwrap().to_string())));
    }
    assert_eq!(history, seen[0], "history agrees");
    // Each sender's own messages keep their order.
    let mut page = app.history(&tokens[5], &gid, "after_seq=0&limit=100").await;
    page.extend(app.history(&tokens[5], &gid, "after_seq=100&limit=100").await);
    assert_eq!(page.len(), total);
    for i in 0..20 {
        let mine: Vec<String> = page
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_string())
            .filter(|b| b.split('/').next() == Some(&i.to_string()))
            .collect();
        assert_eq!(mine, (0..PER_SENDER).map(|k| format!("{i}/{k}")).collect::<Vec<_>>(), "sender {i} in order");
    }
    app.finish().await;
}

async fn nothing_is_delivered_before_it_is_stored(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    for i in 0..15 {
        a.send(json!({"type": "message.send", "client_id": format!("n{i}"), "conversation_id": cid, "body": format!("m{i}")})).await;
    }
    for _ in 0..15 {
        let ev = b.wait_for("message.new", |v| v["type"] == "message.new").await;
        let seq = ev["message"]["seq"].as_i64().unwrap();
        // The moment it is delivered, it is readable from the database by anyone.
        let page = app.history(&bob, &cid, &format!("after_seq={}&limit=1", seq - 1)).await;
        assert_eq!(page[0]["id"], ev["message"]["id"], "delivered message {seq} is stored");
    }
    app.finish().await;
}

async fn non_members_get_nothing(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (_bob, bob_id) = user(&app, "bob").await;
    let (eve, _) = user(&app, "eve").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut e = Ws::connect(&app.base, &eve).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&cid, "secret-1", "secret").await;
    a.send(json!({"type": "typing.start", "conversation_id": cid})).await;
    // Eve's attempts, over WebSocket and REST.
    let r = e.send_message(&cid, "eve-1", "let me in").await;
    assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("not_found")));
    for frame in [
        json!({"type": "typing.start", "conversation_id": cid}),
        json!({"type": "receipt.read", "conversation_id": cid, "seq": 1}),
        json!({"type": "receipt.delivered", "conversation_id": cid, "seq": 1}),
    ] {
        e.send(frame).await;
        let ev = e.wait_for("error", |v| v["type"] == "error").await;
        assert_eq!(ev["code"], "not_found");
    }
    for path in ["", "/messages", "/messages?after_seq=0", "/receipts"] {
        assert_problem(app.get_auth(&format!("/api/v1/conversations/{cid}{path}"), &eve).await, 404, "not_found").await;
    }
    for (path, body) in
        [("/messages", json!({"body": "x"})), ("/read", json!({"seq": 1})), ("/members", json!({"user_ids": []}))]
    {
        let r = app.post_auth(&format!("/api/v1/conversations/{cid}{path}"), &eve, body).await;
        assert_problem(r, 404, "not_found").await;
    }
    // An id that does not exist looks the same as someone else's.
    let ghost = uuid::Uuid::now_v7();
    assert_problem(app.get_auth(&format!("/api/v1/conversations/{ghost}"), &eve).await, 404, "not_found").await;
    // Eve received nothing of theirs.
    let leaked = e.collect("message.new", Duration::from_millis(500)).await;
    assert!(leaked.is_empty(), "{leaked:?}");
    let mut e2 = Ws::connect(&app.base, &eve).await;
    assert!(e2.collect("typing", Duration::from_millis(300)).await.is_empty());
    app.finish().await;
}

async fn catch_up_after_seq_is_exact(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.messages.rate_per_sec = 1000;
        c.messages.rate_burst = 1000;
    })
    .await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&cid, "before", "seen by bob").await;
    let last_seen = 1;
    // Bob is offline while 50 messages arrive.
    let mut sent = Vec::new();
    for i in 0..50 {
        let ack = a.send_message(&cid, &format!("off-{i}"), &format!("missed {i}")).await;
        sent.push(ack["id"].as_str().unwrap().to_string());
    }
    // An ack means durable; stored follows. Wait until the last one is delivered.
    a.wait_for("message.new 51", |v| v["type"] == "message.new" && v["message"]["seq"] == 51).await;
    let missed = app.history(&bob, &cid, &format!("after_seq={last_seen}&limit=100")).await;
    assert_eq!(missed.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect::<Vec<_>>(), sent);
    assert_eq!(missed.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), (2..=51).collect::<Vec<_>>());
    // Paging backwards.
    let older = app.history(&bob, &cid, "before_seq=10&limit=5").await;
    assert_eq!(older.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![5, 6, 7, 8, 9]);
    let latest = app.history(&bob, &cid, "limit=3").await;
    assert_eq!(latest.iter().map(|m| m["seq"].as_i64().unwrap()).collect::<Vec<_>>(), vec![49, 50, 51]);
    for q in ["limit=0", "limit=101", "before_seq=-1", "after_seq=-5", "before_seq=3&after_seq=1", "limit=abc"] {
        let r = app.get_auth(&format!("/api/v1/conversations/{cid}/messages?{q}"), &bob).await;
        assert_eq!(r.status(), 400, "{q}");
    }
    app.finish().await;
}

async fn message_limits_and_rate_limit(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    for (i, body) in
        ["".to_string(), "   ".to_string(), "x".repeat(4001), "nul\u{0}byte".to_string()].iter().enumerate()
    {
        let r = a.send_message(&cid, &format!("bad{i}"), body).await;
        assert_eq!((r["type"].as_str(), r["code"].as_str()), (Some("error"), Some("validation_failed")), "{r}");
    }
    assert_eq!(a.send_message(&cid, "max", &"é".repeat(4000)).await["type"], "message.ack");
    for bad_id in ["", &"k".repeat(65), "with space"] {
        let r = a.send_message(&cid, bad_id, "x").await;
        assert_eq!(r["code"], "validation_failed", "{bad_id:?}");
    }
    // Default 10/s with a burst of 30: a burst of 40 is partly refused, with a retry hint.
    for i in 0..40 {
        a.send(
            json!({"type": "message.send", "client_id": format!("burst{i}"), "conversation_id": cid, "body": "spam"}),
        )
        .await;
    }
    let mut acks = 0;
    let mut limited = Vec::new();
    while acks + limited.len() < 40 {
        let ev = a.wait_for("ack or error", |v| v["type"] == "message.ack" || v["type"] == "error").await;
        if ev["type"] == "error" {
            assert_eq!(ev["code"], "rate_limited", "{ev}");
            assert!(ev["retry_after_ms"].as_u64().unwrap() > 0);
            limited.push(ev);
        } else {
            acks += 1;
        }
    }
    assert!(acks >= 25 && !limited.is_empty(), "acks {acks}, limited {}", limited.len());
    app.finish().await;
}

async fn hostile_frames_get_errors_and_others_keep_working(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (mallory, _mallory_id) = user(&app, "mallory").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mcid = app.conversation_id(&mallory, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut m = Ws::connect(&app.base, &mallory).await;
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "invalid_frame"),
        ("[1,2,3]".into(), "invalid_frame"),
        ("\"just a string\"".into(), "invalid_frame"),
        (json!({"type": "message.destroy", "id": 1}).to_string(), "unknown_type"),
        (json!({"no": "type"}).to_string(), "unknown_type"),
        (json!({"type": 7}).to_string(), "unknown_type"),
        (
            json!({"type": "message.send", "client_id": "x", "conversation_id": 12, "body": "hi"}).to_string(),
            "invalid_event",
        ),
        (
            json!({"type": "message.send", "client_id": "x", "conversation_id": mcid, "body": ["hi"]}).to_string(),
            "invalid_event",
        ),
        (json!({"type": "message.send", "client_id": "x", "conversation_id": mcid}).to_string(), "invalid_event"),
        (json!({"type": "receipt.read", "conversation_id": mcid, "seq": "1"}).to_string(), "invalid_event"),
        (json!({"type": "receipt.read", "conversation_id": mcid, "seq": -1}).to_string(), "validation_failed"),
        (json!({"type": "receipt.read", "conversation_id": mcid, "seq": 99}).to_string(), "seq_out_of_range"),
        (json!({"type": "typing.start", "conversation_id": cid}).to_string(), "not_found"),
        (
            json!({"type": "message.send", "client_id": "x", "conversation_id": cid, "body": "hi"}).to_string(),
            "not_found",
        ),
    ];
    for (frame, code) in cases {
        m.send_text(&frame).await;
        let ev = m.wait_for("error", |v| v["type"] == "error").await;
        assert_eq!(ev["code"], code, "{frame} -> {ev}");
    }
    m.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    assert_eq!(m.wait_for("error", |v| v["type"] == "error").await["code"], "invalid_frame");
    m.send(json!({"type": "ping"})).await;
    assert_eq!(m.wait_for("pong", |v| v["type"] == "pong").await["type"], "pong");

    // A 1 MB frame: closed with 1009.
    let mut big = Ws::connect(&app.base, &mallory).await;
    big.send_raw(Message::text("x".repeat(1 << 20))).await;
    assert_eq!(big.close_code().await, Some(1009));

    // 10,000 frames in a burst: the socket is closed (flood or too slow), not the server.
    let mut flood = Ws::connect(&app.base, &mallory).await;
    let ping = json!({"type": "ping"}).to_string();
    for _ in 0..10_000 {
        if !flood.send_raw(Message::text(ping.clone())).await {
            break;
        }
    }
    let code = flood.close_code().await;
    assert!(matches!(code, Some(4029) | Some(4008)), "{code:?}");

    // Everyone else is unaffected.
    let mut a = Ws::connect(&app.base, &alice).await;
    let mut b = Ws::connect(&app.base, &bob).await;
    assert_eq!(a.send_message(&cid, "still", "still here").await["type"], "message.ack");
    assert_eq!(b.wait_for("message.new", |v| v["type"] == "message.new").await["message"]["body"], "still here");
    app.finish().await;
}

async fn websocket_requires_a_valid_token_and_origin(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let ws_url = format!("{}/api/v1/ws", app.base.replace("http://", "ws://"));
    for url in [ws_url.clone(), format!("{ws_url}?token=garbage"), format!("{ws_url}?token={}x", alice)] {
        let err = tokio_tungstenite::connect_async(url).await.expect_err("refused");
        match err {
            tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 401),
            other => panic!("{other:?}"),
        }
    }
    // A browser on another origin is refused; the same origin and the Bearer header work.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{ws_url}?token={alice}").into_client_request().unwrap();
    req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await.expect_err("refused") {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 403),
        other => panic!("{other:?}"),
    }
    let mut req = ws_url.clone().into_client_request().unwrap();
    req.headers_mut().insert("origin", app.base.parse().unwrap());
    req.headers_mut().insert("authorization", format!("Bearer {alice}").parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
    app.finish().await;
}

async fn typing_and_presence(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    let presence = a.ready["presence"].as_array().unwrap().clone();
    assert_eq!(presence, vec![json!({"user_id": bob_id, "online": false, "last_seen": null})]);
    let mut b = Ws::connect(&app.base, &bob).await;
    let p = a.wait_for("presence", |v| v["type"] == "presence").await;
    assert_eq!((p["user_id"].as_str(), p["online"].as_bool()), (Some(bob_id.as_str()), Some(true)));
    assert!(b.ready["presence"][0]["online"].as_bool().unwrap(), "bob sees alice online at once");
    b.send(json!({"type": "typing.start", "conversation_id": cid})).await;
    let t = a.wait_for("typing", |v| v["type"] == "typing").await;
    assert_eq!(t, json!({"type": "typing", "conversation_id": cid, "user_id": bob_id, "active": true}));
    b.send(json!({"type": "typing.stop", "conversation_id": cid})).await;
    let t = a.wait_for("typing", |v| v["type"] == "typing").await;
    assert_eq!(t["active"], false);
    // A second device keeps bob online; closing both makes him offline with last_seen.
    let b2 = Ws::connect(&app.base, &bob).await;
    drop(b);
    assert!(a.try_next(Duration::from_millis(500)).await.is_none_or(|v| v["type"] != "presence"), "still online");
    drop(b2);
    let p = a.wait_for("presence", |v| v["type"] == "presence").await;
    assert_eq!(p["online"], false);
    assert!(p["last_seen"].is_string());
    app.finish().await;
}

async fn group_membership_changes_reach_sockets(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let mut b = Ws::connect(&app.base, &bob).await;
    let group = app.conversation(&alice, json!({"kind": "group", "name": "team", "member_ids": [bob_id]})).await;
    let gid = group["id"].as_str().unwrap().to_string();
    let up = b.wait_for("conversation.updated", |v| v["type"] == "conversation.updated").await;
    assert_eq!(up["conversation"]["id"], gid.as_str());
    // Bob can talk at once (no reconnect needed).
    assert_eq!(b.send_message(&gid, "hello", "hi team").await["type"], "message.ack");
    // Removed: told so, and can no longer send.
    let r = app.delete_auth(&format!("/api/v1/conversations/{gid}/members/{bob_id}"), &alice).await;
    assert_eq!(r.status(), 204);
    let gone = b.wait_for("conversation.removed", |v| v["type"] == "conversation.removed").await;
    assert_eq!(gone["conversation_id"], gid.as_str());
    let r = b.send_message(&gid, "after", "still here?").await;
    assert_eq!(r["code"], "not_found", "{r}");
    app.finish().await;
}

async fn a_store_failure_dead_letters_and_tells_the_sender(scale: Scale) {
    let app = spawn_with(scale, |c| c.messages.max_attempts = 2).await;
    let (alice, _) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let cid = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    assert_eq!(a.send_message(&cid, "ok", "fine").await["type"], "message.ack");
    // Break the messages table so every insert fails.
    app.sql("ALTER TABLE messages RENAME TO messages_broken").await;
    a.send(json!({"type": "message.send", "client_id": "doomed", "conversation_id": cid, "body": "lost?"})).await;
    let err = a.wait_for("delivery_failed", |v| v["type"] == "error" && v["client_id"] == "doomed").await;
    assert_eq!(err["code"], "delivery_failed", "{err}");
    if scale == Scale::Cluster {
        let dead = app.services.bus.dead_letters("q:messages", 10).await.unwrap();
        assert_eq!(dead.len(), 1);
    }
    app.sql("ALTER TABLE messages_broken RENAME TO messages").await;
    // The sender may retry with the same client_id, and it goes through.
    let retry = a.send_message(&cid, "doomed", "lost?").await;
    assert_eq!(retry["type"], "message.ack", "{retry}");
    a.wait_for("message.new", |v| v["type"] == "message.new" && v["message"]["client_id"] == "doomed").await;
    let history = app.history(&alice, &cid, "").await;
    assert_eq!(history.iter().map(|m| m["body"].as_str().unwrap()).collect::<Vec<_>>(), vec!["fine", "lost?"]);
    app.finish().await;
}

both_scales!(
    direct_and_group_conversations,
    send_ack_and_deliver_to_every_device,
    a_retried_client_id_makes_one_message,
    seq_is_gap_free_and_identical_under_concurrent_senders,
    nothing_is_delivered_before_it_is_stored,
    non_members_get_nothing,
    catch_up_after_seq_is_exact,
    message_limits_and_rate_limit,
    hostile_frames_get_errors_and_others_keep_working,
    websocket_requires_a_valid_token_and_origin,
    typing_and_presence,
    group_membership_changes_reach_sockets,
    a_store_failure_dead_letters_and_tells_the_sender,
);

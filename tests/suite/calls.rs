//! Calls: the server-owned state machine over the gateway (ring timeout, busy, glare, two
//! devices, dropped sockets, hostile frames), `GET /calls/ice-servers`, and the embedded
//! TURN relay driven by a real TURN client. On the cluster scale the two parties sit on
//! two different nodes.

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};
use uuid::Uuid;
use webrtc_util::Conn;

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn_with, start, user},
};

both_scales!(
    ring_timeout_ends_as_missed_with_an_entry,
    callee_in_a_call_is_busy,
    glare_resolves_to_one_call,
    first_device_to_accept_wins,
    dropped_socket_may_return_within_grace,
    dropped_socket_past_grace_ends_the_call,
    a_participant_connected_nowhere_frees_both_after_the_grace,
    frames_are_checked_against_the_participants,
    ice_servers_hand_out_turn_rest_credentials,
    turn_relay_checks_credentials_quota_and_peers,
);

fn fast(c: &mut nexus::config::Config) {
    c.calls.ring_timeout_secs = 2;
    c.calls.reconnect_grace_secs = 2;
    c.calls.connect_timeout_secs = 30;
}

/// On the cluster scale, a second node sharing the database and Redis; else the same app.
async fn other_node(app: &TestApp, tweak: fn(&mut nexus::config::Config)) -> Option<TestApp> {
    match app.env.scale {
        Scale::Cluster => Some(start(app.env.clone(), tweak).await),
        Scale::Embedded => None,
    }
}

fn base(app: &TestApp, node: &Option<TestApp>) -> String {
    node.as_ref().map_or(app.base.clone(), |n| n.base.clone())
}

async fn direct(app: &TestApp, token: &str, other: &str) -> String {
    let c = app.conversation(token, json!({"kind": "direct", "user_id": other})).await;
    c["id"].as_str().unwrap().to_string()
}

fn is_call(v: &Value, kind: &str, call: &str) -> bool {
    v["type"] == kind && v["call_id"] == call
}

async fn state(ws: &mut Ws, call: &str, want: &str) -> Value {
    let c = call.to_string();
    let w = want.to_string();
    ws.wait_for(&format!("call.state {want}"), move |v| is_call(v, "call.state", &c) && v["state"] == w.as_str()).await
}

async fn error(ws: &mut Ws, call: &str) -> Value {
    let c = call.to_string();
    ws.wait_for("call error", move |v| v["type"] == "error" && v["call_id"] == c.as_str()).await
}

fn invite(call: &str, conversation: &str) -> Value {
    json!({"type": "call.invite", "call_id": call, "conversation_id": conversation, "media": "video"})
}

/// Caller `a` (on `app`) rings callee `b` (on `b_base`); returns the call id.
async fn ring(a: &mut Ws, b: &mut Ws, conversation: &str) -> String {
    let call = Uuid::now_v7().to_string();
    a.send(invite(&call, conversation)).await;
    state(a, &call, "ringing").await;
    let c = call.clone();
    let ringing = b.wait_for("call.ringing", move |v| is_call(v, "call.ringing", &c)).await;
    assert_eq!(ringing["media"], "video");
    assert_eq!(ringing["caller_session"], a.ready["session_id"]);
    call
}

/// A call from `a` to `b` that reached `active`.
async fn active_call(a: &mut Ws, b: &mut Ws, conversation: &str) -> String {
    let call = ring(a, b, conversation).await;
    b.send(json!({"type": "call.accept", "call_id": call})).await;
    state(a, &call, "connecting").await;
    state(b, &call, "connecting").await;
    a.send(json!({"type": "call.connected", "call_id": call})).await;
    let s = state(b, &call, "active").await;
    assert!(s["answered_at"].is_string());
    state(a, &call, "active").await;
    call
}

async fn ring_timeout_ends_as_missed_with_an_entry(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node = other_node(&app, fast).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let conv = direct(&app, &ta, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&base(&app, &node), &tb).await;
    let call = ring(&mut a, &mut b, &conv).await;

    let ended = state(&mut a, &call, "ended").await;
    assert_eq!(ended["reason"], "missed");
    assert_eq!(state(&mut b, &call, "ended").await["reason"], "missed");
    // The missed call is an entry in the conversation, for both.
    for ws in [&mut a, &mut b] {
        let m = ws.wait_for("message.new", |v| v["type"] == "message.new").await;
        assert_eq!(m["message"]["kind"], "call");
        assert_eq!(m["message"]["body"], "Missed video call");
    }
    let history = app.history(&tb, &conv, "limit=10").await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["kind"], "call");
    // Both are free again: a new call rings.
    ring(&mut a, &mut b, &conv).await;
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

async fn callee_in_a_call_is_busy(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let node = other_node(&app, |_| {}).await;
    let (ta, a_id) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let (tc, _) = user(&app, "carol").await;
    let ab = direct(&app, &ta, &b_id).await;
    let cb = direct(&app, &tc, &b_id).await;
    let ca = direct(&app, &tc, &a_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&base(&app, &node), &tb).await;
    let mut c = Ws::connect(&base(&app, &node), &tc).await;
    let first = ring(&mut a, &mut b, &ab).await;

    // Bob is being rung: Carol's call to him ends as busy at once, and so does her call to
    // Alice (who is calling).
    for conv in [&cb, &ca] {
        let call = Uuid::now_v7().to_string();
        c.send(invite(&call, conv)).await;
        let s = state(&mut c, &call, "ended").await;
        assert_eq!(s["reason"], "busy", "{s}");
    }
    assert!(b.collect("call.ringing", Duration::from_millis(300)).await.is_empty(), "bob is not rung twice");
    // Alice cannot start a second call either.
    let second = Uuid::now_v7().to_string();
    a.send(invite(&second, &ab)).await;
    assert_eq!(error(&mut a, &second).await["code"], "call_invalid_state");
    // Once the first call ends, Carol gets through.
    a.send(json!({"type": "call.hangup", "call_id": first})).await;
    assert_eq!(state(&mut b, &first, "ended").await["reason"], "cancelled");
    let call = Uuid::now_v7().to_string();
    c.send(invite(&call, &cb)).await;
    state(&mut c, &call, "ringing").await;
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

async fn glare_resolves_to_one_call(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let node = other_node(&app, |_| {}).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let conv = direct(&app, &ta, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&base(&app, &node), &tb).await;
    let theirs = ring(&mut a, &mut b, &conv).await;

    // Bob calls Alice back while her call rings: his invite becomes his answer.
    let mine = Uuid::now_v7().to_string();
    b.send(invite(&mine, &conv)).await;
    let merged = state(&mut b, &mine, "ended").await;
    assert_eq!(merged["reason"], "glare");
    assert_eq!(merged["replaced_by"], theirs.as_str());
    let s = state(&mut b, &theirs, "connecting").await;
    assert_eq!(s["callee_session"], b.ready["session_id"]);
    state(&mut a, &theirs, "connecting").await;
    // One call: signaling flows between the two sockets.
    a.send(json!({"type": "call.offer", "call_id": theirs, "sdp": "v=0 offer"})).await;
    let t = theirs.clone();
    let offer = b.wait_for("call.offer", move |v| is_call(v, "call.offer", &t)).await;
    assert_eq!(offer["sdp"], "v=0 offer");
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

async fn first_device_to_accept_wins(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let node = other_node(&app, |_| {}).await;
    let (ta, a_id) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let conv = direct(&app, &ta, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut phone = Ws::connect(&base(&app, &node), &tb).await;
    let mut laptop = Ws::connect(&app.base, &tb).await;
    let call = ring(&mut a, &mut phone, &conv).await;
    let c = call.clone();
    laptop.wait_for("call.ringing", move |v| is_call(v, "call.ringing", &c)).await;

    phone.send(json!({"type": "call.accept", "call_id": call})).await;
    let s = state(&mut phone, &call, "connecting").await;
    assert_eq!(s["callee_session"], phone.ready["session_id"]);
    assert_eq!(state(&mut laptop, &call, "ended").await["reason"], "answered_elsewhere");
    state(&mut a, &call, "connecting").await;
    // The laptop is too late.
    laptop.send(json!({"type": "call.accept", "call_id": call})).await;
    assert_eq!(error(&mut laptop, &call).await["code"], "call_invalid_state");

    // Offer, answer and candidates go to the phone only, and back to Alice.
    a.send(json!({"type": "call.offer", "call_id": call, "sdp": "v=0 offer"})).await;
    let c = call.clone();
    let offer = phone.wait_for("call.offer", move |v| is_call(v, "call.offer", &c)).await;
    assert_eq!(offer["from"], a_id.as_str());
    let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "abcd"});
    a.send(json!({"type": "call.ice", "call_id": call, "candidate": candidate})).await;
    let c = call.clone();
    let ice = phone.wait_for("call.ice", move |v| is_call(v, "call.ice", &c)).await;
    assert_eq!(ice["candidate"], candidate);
    laptop.send(json!({"type": "call.answer", "call_id": call, "sdp": "v=0 answer"})).await;
    assert_eq!(error(&mut laptop, &call).await["code"], "call_not_found");
    phone.send(json!({"type": "call.answer", "call_id": call, "sdp": "v=0 answer"})).await;
    let c = call.clone();
    let answer = a.wait_for("call.answer", move |v| is_call(v, "call.answer", &c)).await;
    assert_eq!(answer["sdp"], "v=0 answer");
    assert_eq!(answer["from"], b_id.as_str());
    phone.send(json!({"type": "call.ice", "call_id": call, "candidate": null})).await;
    let c = call.clone();
    assert!(a.wait_for("end of candidates", move |v| is_call(v, "call.ice", &c)).await["candidate"].is_null());
    let relayed = laptop.collect("call.offer", Duration::from_millis(300)).await;
    assert!(relayed.is_empty(), "the laptop sees no signaling: {relayed:?}");

    phone.send(json!({"type": "call.connected", "call_id": call})).await;
    state(&mut a, &call, "active").await;
    phone.send(json!({"type": "call.hangup", "call_id": call})).await;
    for ws in [&mut a, &mut phone, &mut laptop] {
        assert_eq!(state(ws, &call, "ended").await["reason"], "hangup");
    }
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

async fn dropped_socket_may_return_within_grace(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.calls.reconnect_grace_secs = 3;
    })
    .await;
    let node = other_node(&app, |c| c.calls.reconnect_grace_secs = 3).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let conv = direct(&app, &ta, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&base(&app, &node), &tb).await;
    let call = active_call(&mut a, &mut b, &conv).await;

    drop(a);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Alice comes back on another node (cluster) and finds her call in `ready`.
    let mut a = Ws::connect(&base(&app, &node), &ta).await;
    let calls = a.ready["calls"].as_array().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["call_id"], call.as_str());
    assert_eq!(calls[0]["state"], "active");
    a.send(json!({"type": "call.rejoin", "call_id": call})).await;
    let s = state(&mut b, &call, "active").await;
    assert_eq!(s["caller_session"], a.ready["session_id"]);
    // Past the old grace the call goes on, and signaling reaches the new socket.
    tokio::time::sleep(Duration::from_secs(4)).await;
    b.send(json!({"type": "call.offer", "call_id": call, "sdp": "v=0 restart"})).await;
    let c = call.clone();
    a.wait_for("call.offer", move |v| is_call(v, "call.offer", &c)).await;
    let ended: Vec<Value> = b
        .collect("call.state", Duration::from_millis(200))
        .await
        .into_iter()
        .filter(|v| v["state"] == "ended")
        .collect();
    assert!(ended.is_empty(), "{ended:?}");
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

async fn dropped_socket_past_grace_ends_the_call(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let node = other_node(&app, fast).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let conv = direct(&app, &ta, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&base(&app, &node), &tb).await;
    let call = active_call(&mut a, &mut b, &conv).await;

    drop(b);
    let started = std::time::Instant::now();
    let s = state(&mut a, &call, "ended").await;
    assert_eq!(s["reason"], "connection_lost");
    assert!(started.elapsed() >= Duration::from_millis(1500), "ended after the grace, not before");
    // Too late to rejoin.
    let mut b = Ws::connect(&app.base, &tb).await;
    assert_eq!(b.ready["calls"], json!([]));
    b.send(json!({"type": "call.rejoin", "call_id": call})).await;
    assert_eq!(error(&mut b, &call).await["code"], "call_invalid_state");
    if let Some(n) = node {
        n.stop().await;
    }
    app.finish().await;
}

/// A node that dies closes no sockets: its users just fall out of presence. Whoever looks
/// at such a call next starts the grace, and past it the call ends.
async fn a_participant_connected_nowhere_frees_both_after_the_grace(scale: Scale) {
    let app = spawn_with(scale, fast).await;
    let (ta, _) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let (tc, _) = user(&app, "carol").await;
    let ab = direct(&app, &ta, &b_id).await;
    let cb = direct(&app, &tc, &b_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&app.base, &tb).await;
    let mut c = Ws::connect(&app.base, &tc).await;
    let call = active_call(&mut a, &mut b, &ab).await;

    // Bob's node "dies": his socket stays open here, but presence no longer knows him.
    let bob: Uuid = b_id.parse().unwrap();
    let session: Uuid = b.ready["session_id"].as_str().unwrap().parse().unwrap();
    let member = nexus::bus::keys::presence_member(&app.services.presence.node(), &session);
    assert_eq!(app.services.bus.live_remove(&nexus::bus::keys::presence(&bob), &member).await.unwrap(), 0);
    let first = Uuid::now_v7().to_string();
    c.send(invite(&first, &cb)).await;
    assert_eq!(state(&mut c, &first, "ended").await["reason"], "busy", "within the grace bob is still in his call");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let second = Uuid::now_v7().to_string();
    c.send(invite(&second, &cb)).await;
    state(&mut c, &second, "ringing").await;
    assert_eq!(state(&mut a, &call, "ended").await["reason"], "connection_lost");
    app.finish().await;
}

async fn frames_are_checked_against_the_participants(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let (ta, a_id) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let (tm, m_id) = user(&app, "mallory").await;
    let conv = direct(&app, &ta, &b_id).await;
    let group = app.conversation(&ta, json!({"kind": "group", "name": "g", "member_ids": [b_id]})).await;
    let group = group["id"].as_str().unwrap().to_string();
    let _mallory_alice = direct(&app, &tm, &a_id).await;
    let mut a = Ws::connect(&app.base, &ta).await;
    let mut b = Ws::connect(&app.base, &tb).await;
    let mut m = Ws::connect(&app.base, &tm).await;

    // Not a member, a group, a bad media kind, a malformed id.
    let x = Uuid::now_v7().to_string();
    m.send(invite(&x, &conv)).await;
    assert_eq!(error(&mut m, &x).await["code"], "not_found");
    let x = Uuid::now_v7().to_string();
    a.send(invite(&x, &group)).await;
    assert_eq!(error(&mut a, &x).await["code"], "validation_failed");
    let x = Uuid::now_v7().to_string();
    a.send(json!({"type": "call.invite", "call_id": x, "conversation_id": conv, "media": "hologram"})).await;
    assert_eq!(error(&mut a, &x).await["code"], "invalid_event");
    a.send(json!({"type": "call.invite", "call_id": "nope", "conversation_id": conv, "media": "video"})).await;
    assert_eq!(a.wait_for("error", |v| v["type"] == "error").await["code"], "invalid_event");
    a.send(json!({"type": "call.accept", "call_id": 7})).await;
    assert_eq!(a.wait_for("error", |v| v["type"] == "error").await["code"], "invalid_event");

    let call = ring(&mut a, &mut b, &conv).await;
    // The same call id again.
    a.send(invite(&call, &conv)).await;
    assert_eq!(error(&mut a, &call).await["code"], "call_exists");
    // Someone else's call: every frame is refused, and changes nothing.
    for frame in [
        json!({"type": "call.accept", "call_id": call}),
        json!({"type": "call.reject", "call_id": call}),
        json!({"type": "call.hangup", "call_id": call}),
        json!({"type": "call.rejoin", "call_id": call}),
        json!({"type": "call.connected", "call_id": call}),
        json!({"type": "call.offer", "call_id": call, "sdp": "v=0"}),
        json!({"type": "call.ice", "call_id": call, "candidate": null}),
    ] {
        m.send(frame.clone()).await;
        assert_eq!(error(&mut m, &call).await["code"], "call_not_found", "{frame}");
    }
    // An unknown call.
    let ghost = Uuid::now_v7().to_string();
    a.send(json!({"type": "call.hangup", "call_id": ghost})).await;
    assert_eq!(error(&mut a, &ghost).await["code"], "call_not_found");
    // Wrong state or wrong side.
    a.send(json!({"type": "call.accept", "call_id": call})).await;
    assert_eq!(error(&mut a, &call).await["code"], "call_invalid_state");
    a.send(json!({"type": "call.offer", "call_id": call, "sdp": "v=0"})).await;
    assert_eq!(error(&mut a, &call).await["code"], "call_invalid_state");
    b.send(json!({"type": "call.rejoin", "call_id": call})).await;
    assert_eq!(error(&mut b, &call).await["code"], "call_invalid_state");
    a.send(json!({"type": "call.hangup", "call_id": call, "reason": "boom"})).await;
    assert_eq!(error(&mut a, &call).await["code"], "invalid_event");

    b.send(json!({"type": "call.accept", "call_id": call})).await;
    state(&mut a, &call, "connecting").await;
    // Oversize SDP and candidate.
    a.send(json!({"type": "call.offer", "call_id": call, "sdp": "x".repeat(40 * 1024)})).await;
    assert_eq!(error(&mut a, &call).await["code"], "validation_failed");
    a.send(json!({"type": "call.ice", "call_id": call, "candidate": {"candidate": "c".repeat(2000)}})).await;
    assert_eq!(error(&mut a, &call).await["code"], "validation_failed");
    a.send(json!({"type": "call.offer", "call_id": call, "sdp": ""})).await;
    assert_eq!(error(&mut a, &call).await["code"], "validation_failed");
    // Mallory heard nothing of it; the call is intact.
    assert!(m.collect("call.state", Duration::from_millis(200)).await.is_empty());
    assert!(m.collect("call.ringing", Duration::from_millis(10)).await.is_empty());
    let _ = m_id;
    a.send(json!({"type": "call.hangup", "call_id": call, "reason": "failed"})).await;
    assert_eq!(state(&mut b, &call, "ended").await["reason"], "failed");
    // Late frames on an ended call.
    b.send(json!({"type": "call.connected", "call_id": call})).await;
    assert_eq!(error(&mut b, &call).await["code"], "call_invalid_state");
    app.finish().await;
}

async fn ice_servers_hand_out_turn_rest_credentials(scale: Scale) {
    let app = spawn_with(scale, |_| {}).await;
    let r = app.http.get(app.url("/api/v1/calls/ice-servers")).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    let r = app.get_auth("/api/v1/calls/ice-servers", "garbage").await;
    assert_problem(r, 401, "unauthorized").await;

    let (ta, a_id) = user(&app, "alice").await;
    let r = app.get_auth("/api/v1/calls/ice-servers", &ta).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["ttl"], 600);
    let port = app.services.turn.as_ref().unwrap().addr().port();
    let servers = body["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"], json!([format!("stun:127.0.0.1:{port}")]));
    let tcp = app.services.turn.as_ref().unwrap().tcp_addr().unwrap().port();
    assert_eq!(
        servers[1]["urls"],
        json!([format!("turn:127.0.0.1:{port}?transport=udp"), format!("turn:127.0.0.1:{tcp}?transport=tcp")]),
        "TURN over TCP too"
    );
    let username = servers[1]["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, a_id);
    let expiry: i64 = expiry.parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now + 590..=now + 610).contains(&expiry), "{expiry} vs {now}");
    let expected = {
        use base64::Engine;
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(app.services.turn_secret.as_bytes()).unwrap();
        mac.update(username.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_eq!(servers[1]["credential"], expected.as_str());
    // No public server is named by default.
    assert_eq!(servers.len(), 2);
    app.finish().await;
}

/// A TURN client of the `turn` crate on 127.0.0.1.
pub async fn turn_client(relay: std::net::SocketAddr, username: &str, password: &str) -> turn::client::Client {
    let conn = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = turn::client::Client::new(turn::client::ClientConfig {
        stun_serv_addr: relay.to_string(),
        turn_serv_addr: relay.to_string(),
        username: username.into(),
        password: password.into(),
        realm: "nexus".into(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(conn),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    client
}

async fn turn_relay_checks_credentials_quota_and_peers(scale: Scale) {
    let app = spawn_with(scale, |c| c.turn.user_quota = 2).await;
    let relay = app.services.turn.as_ref().unwrap().clone();
    let addr = relay.addr();
    let secret = app.services.turn_secret.clone();
    let (ta, a_id) = user(&app, "alice").await;
    let (tb, b_id) = user(&app, "bob").await;
    let creds = |user: &str, secs: i64| {
        nexus::rtc::turn::credentials::rest_credentials(
            &secret,
            user.parse().unwrap(),
            chrono::Utc::now() + chrono::Duration::seconds(secs),
        )
    };

    // STUN binding answered without credentials.
    let probe = turn_client(addr, "", "").await;
    let mapped = probe.send_binding_request().await.unwrap();
    assert_eq!(mapped.ip().to_string(), "127.0.0.1");
    probe.close().await.unwrap();

    // Expired and forged credentials are refused.
    let (u, p) = creds(&a_id, -5);
    let c = turn_client(addr, &u, &p).await;
    assert!(c.allocate().await.is_err(), "expired credentials allocate");
    c.close().await.unwrap();
    let (u, _) = creds(&a_id, 600);
    let c = turn_client(addr, &u, "Zm9yZ2VkIHBhc3N3b3Jk").await;
    assert!(c.allocate().await.is_err(), "forged credentials allocate");
    c.close().await.unwrap();

    // Valid credentials: alice and bob relay to each other (peers at this relay's own
    // addresses are allowed even with private peers refused).
    let (u, p) = creds(&a_id, 600);
    let alice = turn_client(addr, &u, &p).await;
    let a_relay = alice.allocate().await.unwrap();
    let (u, p) = creds(&b_id, 600);
    let bob = turn_client(addr, &u, &p).await;
    let b_relay = bob.allocate().await.unwrap();
    let (a_addr, b_addr) = (a_relay.local_addr().unwrap(), b_relay.local_addr().unwrap());
    assert_eq!(a_addr.ip().to_string(), "127.0.0.1");
    b_relay.send_to(b"hello from bob", a_addr).await.unwrap(); // bob's permission for alice
    let before = relay.stats.relayed_bytes.load(std::sync::atomic::Ordering::Relaxed);
    let mut got = None;
    let mut buf = [0u8; 1500];
    for _ in 0..20 {
        a_relay.send_to(b"hello from alice", b_addr).await.unwrap();
        if let Ok(Ok((n, from))) = tokio::time::timeout(Duration::from_millis(250), b_relay.recv_from(&mut buf)).await {
            got = Some((buf[..n].to_vec(), from));
            break;
        }
    }
    let (data, from) = got.expect("bob receives alice's datagram through the relay");
    assert_eq!(data, b"hello from alice");
    assert_eq!(from, a_addr);
    assert!(relay.stats.relayed_bytes.load(std::sync::atomic::Ordering::Relaxed) > before);

    // A peer on loopback that is not a relay port, and a private address: refused.
    let outsider = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let refused = relay.stats.refused_peer.load(std::sync::atomic::Ordering::Relaxed);
    let _ = a_relay.send_to(b"let me in", outsider.local_addr().unwrap()).await;
    let _ = a_relay.send_to(b"let me in", "10.0.0.1:9".parse().unwrap()).await;
    let mut obuf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), outsider.recv_from(&mut obuf)).await.is_err(),
        "nothing reaches a loopback peer"
    );
    assert!(relay.stats.refused_peer.load(std::sync::atomic::Ordering::Relaxed) >= refused + 2);

    // Quota: alice has 1 of 2; a second allocation works, a third is refused.
    let (u, p) = creds(&a_id, 600);
    let alice2 = turn_client(addr, &u, &p).await;
    let _a2 = alice2.allocate().await.unwrap();
    let alice3 = turn_client(addr, &u, &p).await;
    assert!(alice3.allocate().await.is_err(), "third allocation over the quota");
    assert_eq!(relay.allocations_of(&a_id), 2);
    assert!(relay.stats.refused_quota.load(std::sync::atomic::Ordering::Relaxed) >= 1);

    // A call between alice and bob ends: their allocations go.
    let conv = direct(&app, &ta, &b_id).await;
    let mut wa = Ws::connect(&app.base, &ta).await;
    let mut wb = Ws::connect(&app.base, &tb).await;
    let call = ring(&mut wa, &mut wb, &conv).await;
    wb.send(json!({"type": "call.reject", "call_id": call})).await;
    assert_eq!(state(&mut wa, &call, "ended").await["reason"], "declined");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while (relay.allocations_of(&a_id) > 0 || relay.allocations_of(&b_id) > 0) && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((relay.allocations_of(&a_id), relay.allocations_of(&b_id)), (0, 0));
    for c in [alice, bob, alice2, alice3] {
        c.close().await.unwrap();
    }
    app.finish().await;
}

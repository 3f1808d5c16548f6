//! Web Push end to end against a local push service ([`fake`]) that checks VAPID and
//! decrypts every push as a browser would: who gets a push (no socket open), who does not
//! (online, muted without a mention, do-not-disturb), what it carries (hidden content,
//! mentions, the badge count, TTL/Urgency/Topic), calls ringing through it, 410 deleting a
//! subscription, 5xx retried with back-off, the per-user rate limit, and the hostile
//! inputs of every endpoint. Both scales.

mod fake;

use std::{sync::atomic::Ordering::Relaxed, time::Duration};

use serde_json::{Value, json};

use self::fake::FakePushService;
use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn_with, start, user},
};

both_scales!(
    a_user_with_no_socket_open_gets_a_push_and_an_online_one_does_not,
    mutes_and_do_not_disturb_silence_pushes_but_a_mention_comes_through_a_mute,
    hidden_content_pushes_no_body,
    a_call_rings_an_offline_callee_through_push,
    a_gone_subscription_is_deleted_and_5xx_is_retried_with_back_off,
    the_rate_limit_caps_pushes_per_user,
    an_endpoint_moves_with_the_browser_and_is_only_its_owners_to_delete,
    the_endpoints_refuse_hostile_input,
    the_vapid_key_survives_a_restart_and_push_can_be_off,
);

async fn app(scale: Scale) -> TestApp {
    spawn_with(scale, |c| c.push.allow_http_endpoints = true).await
}

async fn subscribe(app: &TestApp, token: &str, subscription: &Value) {
    let r = app.post_auth("/api/v1/push/subscriptions", token, subscription.clone()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

async fn mute(app: &TestApp, token: &str, conversation: &str, body: Value) -> reqwest::Response {
    app.request_auth(reqwest::Method::PUT, &format!("/api/v1/notifications/mutes/{conversation}"), token, Some(body))
        .await
}

/// Alice and Bob with a direct conversation: `(alice's token, bob's token, bob's id, conversation)`.
async fn alice_and_bob(app: &TestApp) -> (String, String, String, String) {
    let (alice, _) = user(app, "alice").await;
    let (bob, bob_id) = user(app, "bob").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    (alice, bob, bob_id, conv)
}

/// Wait until this node's push counter `what` reaches `n`.
async fn wait_stat(app: &TestApp, what: &str, n: u64) {
    let s = app.services.push.stats();
    let counter = match what {
        "queued" => &s.queued,
        "sent" => &s.sent,
        "silenced" => &s.silenced,
        "gone" => &s.gone,
        "rate_limited" => &s.rate_limited,
        "retried" => &s.retried,
        _ => unreachable!(),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while counter.load(Relaxed) < n {
        assert!(std::time::Instant::now() < deadline, "push {what}: {} of {n}", counter.load(Relaxed));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_user_with_no_socket_open_gets_a_push_and_an_online_one_does_not(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let other = app.conversation_id(&alice, json!({"kind": "direct", "user_id": carol_id})).await;
    subscribe(&app, &bob, &push.subscription("bob")).await;
    subscribe(&app, &carol, &push.subscription("carol")).await;
    let mut a = Ws::connect(&app.base, &alice).await;

    // Bob has no socket: the push arrives, decrypted by his "browser".
    a.send_message(&conv, "m1", "hello bob\nsecond line").await;
    let got = push.wait_for("bob", 1).await;
    let p = &got[0].payload;
    assert_eq!(p["type"], "message");
    assert_eq!(p["v"], 1);
    assert_eq!(p["conversation_id"], conv.as_str());
    assert_eq!(p["conversation_kind"], "direct");
    assert_eq!(p["conversation_name"], Value::Null);
    assert_eq!(p["sender"]["display_name"], "ALICE");
    assert_eq!(p["body"], "hello bob", "only the first line");
    assert_eq!(p["image"], false);
    assert_eq!(p["hidden"], false);
    assert_eq!(p["mention"], false);
    assert_eq!(p["seq"], 1);
    assert_eq!(p["unread"], 1, "the badge");
    assert_eq!(got[0].ttl, 24 * 3600);
    assert_eq!(got[0].urgency, "normal");
    assert_eq!(got[0].topic.as_deref(), Some(conv.replace('-', "").as_str()), "collapses per conversation");
    let key: Value = app.get_auth("/api/v1/push/key", &bob).await.json().await.unwrap();
    assert_eq!(key["enabled"], true);
    assert_eq!(got[0].vapid_key, key["public_key"].as_str().unwrap(), "signed with the published key");

    // A second message: the badge counts both.
    a.send_message(&conv, "m2", "still there?").await;
    assert_eq!(push.wait_for("bob", 2).await[1].payload["unread"], 2);

    // Bob opens a tab: nothing more is pushed to him, while Carol (offline) still gets hers.
    let _b = Ws::connect(&app.base, &bob).await;
    a.send_message(&conv, "m3", "you are online now").await;
    a.send_message(&other, "m4", "hi carol").await;
    push.wait_for("carol", 1).await;
    wait_stat(&app, "sent", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(push.received("bob").len(), 2, "no push while a socket is open");
    // The sender never hears of their own message.
    assert_eq!(app.services.push.stats().queued.load(Relaxed), 3);
    assert!(push.faults().is_empty(), "{:?}", push.faults());
    app.finish().await;
}

async fn mutes_and_do_not_disturb_silence_pushes_but_a_mention_comes_through_a_mute(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (_carol, carol_id) = user(&app, "carol").await;
    let group =
        app.conversation_id(&alice, json!({"kind": "group", "name": "Team", "member_ids": [bob_id, carol_id]})).await;
    subscribe(&app, &bob, &push.subscription("bob")).await;
    let mut a = Ws::connect(&app.base, &alice).await;

    // Muted always: a plain message is silent, a mention comes through (high urgency).
    let r = mute(&app, &bob, &group, json!({"until": null})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"conversation_id": group, "until": null}));
    let settings: Value = app.get_auth("/api/v1/notifications/settings", &bob).await.json().await.unwrap();
    assert_eq!(settings["mutes"], json!([{"conversation_id": group, "until": null}]));
    a.send_message(&group, "m1", "hello all").await;
    wait_stat(&app, "silenced", 1).await;
    a.send_message(&group, "m2", "@bob can you look?").await;
    let got = push.wait_for("bob", 1).await;
    assert_eq!(got[0].payload["mention"], true);
    assert_eq!(got[0].payload["conversation_name"], "Team");
    assert_eq!(got[0].payload["body"], "@bob can you look?");
    assert_eq!(got[0].urgency, "high");

    // Muted for an hour works the same; unmuted, everything is pushed again.
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let r = mute(&app, &bob, &group, json!({"until": until})).await;
    assert_eq!(r.status(), 200);
    a.send_message(&group, "m3", "still muted").await;
    wait_stat(&app, "silenced", 2).await;
    let r = app.delete_auth(&format!("/api/v1/notifications/mutes/{group}"), &bob).await;
    assert_eq!(r.status(), 204);
    a.send_message(&group, "m4", "unmuted now").await;
    assert_eq!(push.wait_for("bob", 2).await[1].payload["body"], "unmuted now");

    // Do not disturb silences even mentions; ending it lets them through.
    let until = (chrono::Utc::now() + chrono::Duration::hours(8)).to_rfc3339();
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"dnd_until": until})).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["dnd_until"].is_string());
    a.send_message(&group, "m5", "@bob urgent?").await;
    wait_stat(&app, "silenced", 3).await;
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"dnd_until": null})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["dnd_until"], Value::Null);
    a.send_message(&group, "m6", "after dnd").await;
    let got = push.wait_for("bob", 3).await;
    assert_eq!(got[2].payload["body"], "after dnd");
    assert_eq!(got.len(), 3, "{got:?}");
    app.finish().await;
}

async fn hidden_content_pushes_no_body(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, bob, _, conv) = alice_and_bob(&app).await;
    subscribe(&app, &bob, &push.subscription("bob")).await;
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"hide_content": true})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["hide_content"], true);
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&conv, "m1", "the secret plan").await;
    let p = push.wait_for("bob", 1).await[0].payload.clone();
    assert_eq!(p["hidden"], true);
    assert!(p.get("body").is_none() && p.get("image").is_none(), "{p}");
    assert!(!p.to_string().contains("secret"), "{p}");
    assert_eq!(p["sender"]["display_name"], "ALICE");
    app.finish().await;

    // The server's default for users who did not choose.
    let app = spawn_with(scale, |c| {
        c.push.allow_http_endpoints = true;
        c.push.hide_content = true;
    })
    .await;
    let (alice, bob, _, conv) = alice_and_bob(&app).await;
    subscribe(&app, &bob, &push.subscription("bob2")).await;
    let settings: Value = app.get_auth("/api/v1/notifications/settings", &bob).await.json().await.unwrap();
    assert_eq!(settings["hide_content"], true);
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&conv, "m1", "also secret").await;
    assert_eq!(push.wait_for("bob2", 1).await[0].payload["hidden"], true);
    app.finish().await;
}

async fn a_call_rings_an_offline_callee_through_push(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    subscribe(&app, &bob, &push.subscription("bob")).await;
    // A mute does not silence a call.
    let r = mute(&app, &bob, &conv, json!({"until": null})).await;
    assert_eq!(r.status(), 200);
    let mut a = Ws::connect(&app.base, &alice).await;
    let call = uuid::Uuid::new_v4().to_string();
    a.send(json!({"type": "call.invite", "call_id": call, "conversation_id": conv, "media": "video"})).await;
    let got = push.wait_for("bob", 1).await;
    let p = &got[0].payload;
    assert_eq!(p["type"], "call");
    assert_eq!(p["call_id"], call.as_str());
    assert_eq!(p["conversation_id"], conv.as_str());
    assert_eq!(p["caller"]["id"], alice_id.as_str());
    assert_eq!(p["caller"]["display_name"], "ALICE");
    assert_eq!(got[0].urgency, "high");
    assert_eq!(got[0].ttl, app.services.config.calls.ring_timeout_secs, "lives as long as the ring");
    assert_eq!(got[0].topic.as_deref(), Some(call.replace('-', "").as_str()));
    app.finish().await;
}

async fn a_gone_subscription_is_deleted_and_5xx_is_retried_with_back_off(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, bob, bob_id, conv) = alice_and_bob(&app).await;
    // Bob has two browsers: the phone's push service is having trouble, the laptop's
    // subscription has expired.
    subscribe(&app, &bob, &push.subscription("phone")).await;
    subscribe(&app, &bob, &push.subscription("laptop")).await;
    push.script("phone", &[500, 503]);
    push.script("laptop", &[410]);
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&conv, "m1", "are you there").await;

    let got = push.wait_for("phone", 1).await;
    assert_eq!(got[0].payload["body"], "are you there");
    let attempts = push.attempts("phone");
    assert_eq!(attempts.iter().map(|a| a.0).collect::<Vec<_>>(), [500, 503, 201]);
    let waits: Vec<Duration> = attempts.windows(2).map(|w| w[1].1 - w[0].1).collect();
    assert!(waits[0] >= Duration::from_millis(900) && waits[1] >= Duration::from_millis(1900), "back-off: {waits:?}");
    wait_stat(&app, "gone", 1).await;
    assert_eq!(push.attempts("laptop").len(), 1, "410 is not retried");
    assert!(app.services.push.stats().retried.load(Relaxed) >= 2);

    // The gone subscription is deleted: the next message goes to the phone only.
    a.send_message(&conv, "m2", "again").await;
    push.wait_for("phone", 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(push.attempts("laptop").len(), 1, "nothing more sent to a gone subscription");
    let left = app.services.store.push_subscriptions(&[bob_id.parse().unwrap()]).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].endpoint.ends_with("/push/phone"));
    app.finish().await;
}

async fn the_rate_limit_caps_pushes_per_user(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.push.allow_http_endpoints = true;
        c.push.per_user_per_minute = 3;
    })
    .await;
    let push = FakePushService::start().await;
    let (alice, bob, _, conv) = alice_and_bob(&app).await;
    subscribe(&app, &bob, &push.subscription("bob")).await;
    let mut a = Ws::connect(&app.base, &alice).await;
    for i in 0..6 {
        a.send_message(&conv, &format!("m{i}"), &format!("message {i}")).await;
    }
    wait_stat(&app, "rate_limited", 3).await;
    wait_stat(&app, "sent", 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(push.received("bob").len(), 3);
    app.finish().await;
}

async fn an_endpoint_moves_with_the_browser_and_is_only_its_owners_to_delete(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let to_bob = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let to_carol = app.conversation_id(&alice, json!({"kind": "direct", "user_id": carol_id})).await;
    let shared = push.subscription("shared");
    subscribe(&app, &bob, &shared).await;

    // Carol cannot delete Bob's subscription (204, but it stays).
    let body = json!({"endpoint": shared["endpoint"]});
    let r = app.request_auth(reqwest::Method::DELETE, "/api/v1/push/subscriptions", &carol, Some(body.clone())).await;
    assert_eq!(r.status(), 204);
    let mut a = Ws::connect(&app.base, &alice).await;
    a.send_message(&to_bob, "m1", "for bob").await;
    assert_eq!(push.wait_for("shared", 1).await[0].payload["body"], "for bob");

    // The browser signs in as Carol: the endpoint is hers now, Bob's messages stop.
    subscribe(&app, &carol, &shared).await;
    a.send_message(&to_bob, "m2", "for bob again").await;
    a.send_message(&to_carol, "m3", "for carol").await;
    let got = push.wait_for("shared", 2).await;
    assert_eq!(got[1].payload["body"], "for carol");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(push.received("shared").len(), 2, "Bob's message no longer reaches Carol's browser");

    // Carol signs out on it: nothing more.
    let r = app.request_auth(reqwest::Method::DELETE, "/api/v1/push/subscriptions", &carol, Some(body)).await;
    assert_eq!(r.status(), 204);
    assert!(app.services.store.push_subscriptions(&[carol_id.parse().unwrap()]).await.unwrap().is_empty());
    app.finish().await;
}

async fn the_endpoints_refuse_hostile_input(scale: Scale) {
    let app = app(scale).await;
    let push = FakePushService::start().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, _) = user(&app, "carol").await;
    let conv = app.conversation_id(&alice, json!({"kind": "direct", "user_id": bob_id})).await;
    let good = push.subscription("x");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };

    // Unauthenticated.
    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/push/key".to_string()),
        (reqwest::Method::POST, "/api/v1/push/subscriptions".into()),
        (reqwest::Method::DELETE, "/api/v1/push/subscriptions".into()),
        (reqwest::Method::GET, "/api/v1/notifications/settings".into()),
        (reqwest::Method::PATCH, "/api/v1/notifications/settings".into()),
        (reqwest::Method::PUT, format!("/api/v1/notifications/mutes/{conv}")),
        (reqwest::Method::DELETE, format!("/api/v1/notifications/mutes/{conv}")),
    ] {
        let r = app.http.request(method.clone(), app.url(&path)).json(&json!({})).send().await.unwrap();
        assert_problem(r, 401, "unauthorized").await;
    }

    // Bad subscriptions.
    let long = format!("{}/push/{}", push.origin, "a".repeat(2100));
    for (what, body) in [
        ("ftp endpoint", with(&|v| v["endpoint"] = json!("ftp://127.0.0.1/push/x"))),
        ("credentials in the URL", with(&|v| v["endpoint"] = json!("http://u:p@127.0.0.1/push/x"))),
        ("not a URL", with(&|v| v["endpoint"] = json!("push me"))),
        (
            "a point off the curve",
            with(&|v| {
                v["keys"]["p256dh"] =
                    json!("BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            }),
        ),
        ("a short auth", with(&|v| v["keys"]["auth"] = json!("AAAA"))),
        ("not base64", with(&|v| v["keys"]["auth"] = json!("!!!!"))),
    ] {
        let r = app.post_auth("/api/v1/push/subscriptions", &bob, body).await;
        let p = assert_problem(r, 400, "validation_failed").await;
        assert!(p["detail"].as_str().unwrap().len() < 200, "{what}: {p}");
    }
    for (what, body) in [
        ("oversize endpoint", with(&|v| v["endpoint"] = json!(long))),
        ("wrong type", with(&|v| v["keys"] = json!(5))),
        ("missing keys", json!({"endpoint": good["endpoint"]})),
        ("not an object", json!([1, 2])),
    ] {
        let r = app.post_auth("/api/v1/push/subscriptions", &bob, body).await;
        assert_eq!(r.status(), 400, "{what}");
    }
    let r = app
        .request_auth(reqwest::Method::DELETE, "/api/v1/push/subscriptions", &bob, Some(json!({"endpoint": 1})))
        .await;
    assert_eq!(r.status(), 400);

    // Settings and mutes.
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"hide_content": "yes"})).await;
    assert_eq!(r.status(), 400);
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"dnd_until": "tomorrow"})).await;
    assert_eq!(r.status(), 400);
    let r = app.patch_auth("/api/v1/notifications/settings", &bob, json!({"mute_everything": true})).await;
    assert_eq!(r.status(), 400, "unknown fields are refused");
    // Someone else's conversation, a conversation that does not exist, a bad id.
    assert_problem(mute(&app, &carol, &conv, json!({"until": null})).await, 404, "not_found").await;
    assert_problem(mute(&app, &bob, &uuid::Uuid::new_v4().to_string(), json!({"until": null})).await, 404, "not_found")
        .await;
    assert_eq!(mute(&app, &bob, "not-a-uuid", json!({"until": null})).await.status(), 400);
    assert_problem(app.delete_auth(&format!("/api/v1/notifications/mutes/{conv}"), &carol).await, 404, "not_found")
        .await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert_problem(mute(&app, &bob, &conv, json!({"until": past})).await, 400, "validation_failed").await;
    assert_eq!(mute(&app, &bob, &conv, json!({"until": 12})).await.status(), 400);
    let settings: Value = app.get_auth("/api/v1/notifications/settings", &bob).await.json().await.unwrap();
    assert_eq!(settings, json!({"hide_content": false, "dnd_until": null, "mutes": []}), "nothing changed");
    app.finish().await;

    // Without `push.allow_http_endpoints`, only https to public hosts.
    let app = spawn_with(scale, |_| {}).await;
    let bob = app.token("bob").await;
    for endpoint in
        ["http://127.0.0.1:9/push/x", "https://127.0.0.1/push/x", "https://localhost/push/x", "https://10.0.0.8/x"]
    {
        let r = app.post_auth("/api/v1/push/subscriptions", &bob, with(&|v| v["endpoint"] = json!(endpoint))).await;
        assert_problem(r, 400, "validation_failed").await;
    }
    app.finish().await;
}

async fn the_vapid_key_survives_a_restart_and_push_can_be_off(scale: Scale) {
    let app = app(scale).await;
    let bob = app.token("bob").await;
    let key: Value = app.get_auth("/api/v1/push/key", &bob).await.json().await.unwrap();
    let env = app.stop().await;
    let app = start(env, |c| c.push.allow_http_endpoints = true).await;
    let again: Value = app.get_auth("/api/v1/push/key", &bob).await.json().await.unwrap();
    assert_eq!(key, again, "subscriptions stay valid across restarts");
    let env = app.stop().await;

    let app = start(env, |c| c.push.enabled = false).await;
    let off: Value = app.get_auth("/api/v1/push/key", &bob).await.json().await.unwrap();
    assert_eq!(off, json!({"enabled": false, "public_key": null}));
    let push = FakePushService::start().await;
    let r = app.post_auth("/api/v1/push/subscriptions", &bob, push.subscription("x")).await;
    assert_problem(r, 409, "push_disabled").await;
    app.finish().await;
}

//! The administrators' API (`/api/v1/admin/*`): who may call it, invites with notes traced
//! to the account that used them, revoking, the last administrator kept, disabling an
//! account (its socket closed with `4010` on whichever node holds it, its access token,
//! refresh token and password refused at once), and the server panel's figures. On the
//! cluster scale the disabled user's socket is on a second node.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, Ws, assert_problem, spawn, spawn_with, start, user},
};

async fn second_node(app: &TestApp) -> Option<TestApp> {
    if app.env.scale != Scale::Cluster {
        return None;
    }
    let dir = app.env.dir.path().join("node-b");
    Some(start(app.env.clone(), |c| c.server.data_dir = dir).await)
}

async fn json_of(r: reqwest::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn patch_user(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.patch_auth(&format!("/api/v1/admin/users/{id}"), token, body).await
}

async fn login(app: &TestApp, name: &str) -> reqwest::Response {
    app.post("/api/v1/auth/login", json!({"username": name, "password": "password123"})).await
}

async fn only_administrators_may_call_it(scale: Scale) {
    let app = spawn(scale).await;
    let admin = app.token("admin").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let some = uuid::Uuid::now_v7();
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/admin/users".into(), None),
        (Method::PATCH, format!("/api/v1/admin/users/{bob_id}"), Some(json!({"disabled": true}))),
        (Method::GET, "/api/v1/admin/invites".into(), None),
        (Method::POST, "/api/v1/admin/invites".into(), Some(json!({}))),
        (Method::DELETE, format!("/api/v1/admin/invites/{some}"), None),
        (Method::GET, "/api/v1/admin/server".into(), None),
    ];
    for (method, path, body) in &calls {
        let mut r = app.http.request(method.clone(), app.url(path));
        if let Some(b) = body {
            r = r.json(b);
        }
        assert_problem(r.send().await.unwrap(), 401, "unauthorized").await;
        let r = app.request_auth(method.clone(), path, "not.a.token", body.clone()).await;
        assert_problem(r, 401, "unauthorized").await;
        assert_problem(app.request_auth(method.clone(), path, &bob, body.clone()).await, 403, "forbidden").await;
    }
    // Nothing happened to Bob.
    assert_eq!(login(&app, "bob").await.status(), 200);

    // Hostile input from an administrator.
    for bad in [json!({"disabled": "yes"}), json!({"is_admin": 1}), json!({"nope": true}), json!([])] {
        assert_problem(patch_user(&app, &admin, &bob_id, bad).await, 400, "invalid_request").await;
    }
    assert_problem(patch_user(&app, &admin, &some.to_string(), json!({"disabled": true})).await, 404, "not_found")
        .await;
    assert_problem(patch_user(&app, &admin, "not-a-uuid", json!({"disabled": true})).await, 400, "invalid_request")
        .await;
    for bad in ["limit=0", "limit=201", "limit=-1", "offset=x", &format!("query={}", "a".repeat(65))] {
        let r = app.get_auth(&format!("/api/v1/admin/users?{bad}"), &admin).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let post = |body: Value| app.post_auth("/api/v1/admin/invites", &admin, body);
    assert_problem(post(json!({"note": "x".repeat(201)})).await, 400, "validation_failed").await;
    assert_problem(post(json!({"note": "a\u{7}b"})).await, 400, "validation_failed").await;
    assert_problem(post(json!({"expires_in_hours": 0})).await, 400, "validation_failed").await;
    assert_problem(post(json!({"expires_in_hours": 8761})).await, 400, "validation_failed").await;
    assert_problem(post(json!({"expires_in_hours": -1})).await, 400, "invalid_request").await;
    assert_problem(post(json!({"note": 5})).await, 400, "invalid_request").await;
    let big = json!({"note": "x".repeat(70 * 1024)});
    assert_eq!(post(big).await.status(), 413);
    let r = app.delete_auth(&format!("/api/v1/admin/invites/{some}"), &admin).await;
    assert_problem(r, 404, "not_found").await;
    assert_problem(app.delete_auth("/api/v1/admin/invites/zzz", &admin).await, 400, "invalid_request").await;
    app.finish().await;
}

async fn invites_carry_notes_and_show_who_used_them(scale: Scale) {
    use nexus::config::Registration;
    let app = spawn_with(scale, |c| c.auth.registration = Registration::Invite).await;
    let admin = app.token("admin").await;
    let created =
        json_of(app.post_auth("/api/v1/admin/invites", &admin, json!({"note": "  for Dana  "})).await, 201).await;
    let code = created["code"].as_str().unwrap().to_string();
    assert_eq!(created["path"], format!("/invite/{code}"));
    let invite = &created["invite"];
    assert_eq!((invite["note"].as_str(), invite["state"].as_str()), (Some("for Dana"), Some("active")));
    assert_eq!(invite["created_by"]["username"], "admin");
    let expires = chrono::DateTime::parse_from_rfc3339(invite["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "7 days by default: {days} h");
    let short =
        json_of(app.post_auth("/api/v1/admin/invites", &admin, json!({"expires_in_hours": 1})).await, 201).await;
    let exp = chrono::DateTime::parse_from_rfc3339(short["invite"]["expires_at"].as_str().unwrap()).unwrap();
    assert!((exp.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() <= 60);
    let short_id = short["invite"]["id"].as_str().unwrap().to_string();
    let short_code = short["code"].as_str().unwrap().to_string();

    // Dana registers with it; the list says so.
    let reg = |name: &str, code: &str| json!({"username": name, "display_name": name, "password": "password123", "invite_code": code});
    let dana = json_of(app.post("/api/v1/auth/register", reg("dana", &code)).await, 201).await;
    let list = json_of(app.get_auth("/api/v1/admin/invites", &admin).await, 200).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], short_id, "newest first");
    let used = &list[1];
    assert_eq!(used["state"], "used");
    assert_eq!(used["used_by"]["id"], dana["user"]["id"]);
    assert_eq!(used["used_by"]["username"], "dana");
    assert!(used["used_at"].is_string());
    assert!(list.iter().all(|i| i.get("code").is_none() && i.get("code_hash").is_none()), "codes are never listed");
    let r = app.delete_auth(&format!("/api/v1/admin/invites/{}", used["id"].as_str().unwrap()), &admin).await;
    assert_problem(r, 409, "invite_used").await;

    // A revoked invite no longer works; revoking twice is fine.
    for _ in 0..2 {
        assert_eq!(app.delete_auth(&format!("/api/v1/admin/invites/{short_id}"), &admin).await.status(), 204);
    }
    assert_problem(app.post("/api/v1/auth/register", reg("eve", &short_code)).await, 400, "invalid_invite").await;
    let list = json_of(app.get_auth("/api/v1/admin/invites", &admin).await, 200).await;
    assert_eq!(list[0]["state"], "revoked");
    assert!(list[0]["revoked_at"].is_string());
    app.finish().await;
}

async fn the_last_admin_is_kept(scale: Scale) {
    let app = spawn(scale).await;
    let (admin, admin_id) = user(&app, "admin").await;
    let (bob, bob_id) = user(&app, "bob").await;
    for body in [json!({"is_admin": false}), json!({"disabled": true})] {
        assert_problem(patch_user(&app, &admin, &admin_id, body).await, 409, "last_admin").await;
    }
    let b = json_of(patch_user(&app, &admin, &bob_id, json!({"is_admin": true})).await, 200).await;
    assert_eq!((b["is_admin"].as_bool(), &b["disabled_at"]), (Some(true), &Value::Null));
    // Bob's old token (issued before) works: the database decides, not the token's claim.
    json_of(app.get_auth("/api/v1/admin/users", &bob).await, 200).await;
    let a = json_of(patch_user(&app, &admin, &admin_id, json!({"is_admin": false})).await, 200).await;
    assert_eq!(a["is_admin"], false);
    // The former admin's token, which still claims `adm`, is refused.
    assert_problem(app.get_auth("/api/v1/admin/users", &admin).await, 403, "forbidden").await;
    assert_problem(patch_user(&app, &bob, &bob_id, json!({"is_admin": false})).await, 409, "last_admin").await;
    let users = json_of(app.get_auth("/api/v1/admin/users?query=ADM", &bob).await, 200).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!((users[0]["username"].as_str(), users[0]["is_admin"].as_bool()), (Some("admin"), Some(false)));
    let page = json_of(app.get_auth("/api/v1/admin/users?limit=1&offset=1", &bob).await, 200).await;
    assert_eq!(page[0]["username"], "bob");
    app.finish().await;
}

async fn disabling_ends_every_session_at_once(scale: Scale) {
    let app = spawn(scale).await;
    let node_b = second_node(&app).await;
    let base_b = node_b.as_ref().map_or(app.base.clone(), |n| n.base.clone());
    let (admin, _) = user(&app, "admin").await;
    let reg = app.register("bob").await;
    let bob = reg["access_token"].as_str().unwrap().to_string();
    let bob_id = reg["user"]["id"].as_str().unwrap().to_string();
    let refresh = reg["refresh_token"].as_str().unwrap().to_string();
    let mut ws = Ws::connect(&base_b, &bob).await;
    let mut second = Ws::connect(&app.base, &bob).await;

    let started = Instant::now();
    let r = json_of(patch_user(&app, &admin, &bob_id, json!({"disabled": true})).await, 200).await;
    assert!(r["disabled_at"].is_string(), "{r}");
    // At once on the node that answered.
    assert_problem(app.get_auth("/api/v1/users/me", &bob).await, 401, "account_disabled").await;
    assert_eq!(ws.close_code().await, Some(4010), "the socket on the other node closes");
    assert_eq!(second.close_code().await, Some(4010));
    assert!(started.elapsed() < Duration::from_secs(3), "at once: {:?}", started.elapsed());
    let node_b_me = node_b.as_ref().unwrap_or(&app).get_auth("/api/v1/users/me", &bob).await;
    assert_problem(node_b_me, 401, "account_disabled").await;
    let refused = nexus::client::connect(&base_b, &bob).await.expect_err("a disabled account cannot connect");
    assert!(matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 401), "{refused:?}");
    assert_problem(
        app.post("/api/v1/auth/refresh", json!({"refresh_token": refresh})).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_problem(login(&app, "bob").await, 401, "account_disabled").await;
    // A wrong password still looks like any wrong password.
    let wrong = app.post("/api/v1/auth/login", json!({"username": "bob", "password": "wrong-password"})).await;
    assert_problem(wrong, 401, "invalid_credentials").await;
    let listed = json_of(app.get_auth("/api/v1/admin/users?query=bob", &admin).await, 200).await;
    assert!(listed[0]["disabled_at"].is_string());

    // A node started later knows it too (loaded at start-up).
    if let Some(node) = node_b {
        node.stop().await;
    }
    let env = app.stop().await;
    let app = start(env, |_| {}).await;
    assert_problem(app.get_auth("/api/v1/users/me", &bob).await, 401, "account_disabled").await;

    // Enabled again: Bob signs in; the ended sessions stay ended.
    let admin = json_of(login(&app, "admin").await, 200).await["access_token"].as_str().unwrap().to_string();
    let r = json_of(patch_user(&app, &admin, &bob_id, json!({"disabled": false})).await, 200).await;
    assert_eq!(r["disabled_at"], Value::Null);
    let fresh = json_of(login(&app, "bob").await, 200).await["access_token"].as_str().unwrap().to_string();
    json_of(app.get_auth("/api/v1/users/me", &fresh).await, 200).await;
    Ws::connect(&app.base, &fresh).await;
    app.finish().await;
}

async fn the_server_panel_reports_this_nodes_figures(scale: Scale) {
    let app = spawn(scale).await;
    let (admin, _) = user(&app, "admin").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let conversation = app.conversation_id(&admin, json!({"kind": "direct", "user_id": bob_id})).await;
    let _b1 = Ws::connect(&app.base, &bob).await;
    let _b2 = Ws::connect(&app.base, &bob).await;
    let mut a = Ws::connect(&app.base, &admin).await;
    let before = json_of(app.get_auth("/api/v1/admin/server", &admin).await, 200).await;
    assert_eq!(before["registration"], "open");
    assert_eq!(before["version"], nexus::VERSION);
    assert!(before["name"].is_string() && before["uptime_secs"].is_u64());
    assert_eq!((before["users"].as_i64(), before["disabled_users"].as_i64()), (Some(2), Some(0)));
    assert_eq!((before["connections"].as_u64(), before["connected_users"].as_u64()), (Some(3), Some(2)));
    assert!(before["storage"]["database_bytes"].as_i64().unwrap() > 0);
    assert!(before["storage"]["media_bytes"].is_u64());
    for i in 0..3 {
        let ack = a.send_message(&conversation, &format!("c{i}"), "hi").await;
        assert_eq!(ack["type"], "message.ack", "{ack}");
    }
    let after = json_of(app.get_auth("/api/v1/admin/server", &admin).await, 200).await;
    let sent = after["messages_accepted_total"].as_u64().unwrap() - before["messages_accepted_total"].as_u64().unwrap();
    assert_eq!(sent, 3);
    assert!(after["sampled_at_ms"].as_u64() >= before["sampled_at_ms"].as_u64());
    // The same counter as /metrics.
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = metrics.lines().find(|l| l.starts_with("nexus_messages_accepted_total ")).unwrap();
    assert_eq!(line.split(' ').nth(1).unwrap().parse::<f64>().unwrap() as u64, after["messages_accepted_total"]);
    app.finish().await;
}

both_scales!(
    only_administrators_may_call_it,
    invites_carry_notes_and_show_who_used_them,
    the_last_admin_is_kept,
    disabling_ends_every_session_at_once,
    the_server_panel_reports_this_nodes_figures,
);

//! Accounts over HTTP: the happy paths and the hostile ones, on both scales.

use base64::Engine;
use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, assert_problem, spawn, spawn_with, start},
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

async fn register_login_me_and_survive_a_restart(scale: Scale) {
    let app = spawn(scale).await;
    let reg = app.register("alice").await;
    assert_eq!(reg["token_type"], "Bearer");
    assert_eq!(reg["expires_in"], 900);
    assert_eq!(reg["user"]["is_admin"], true, "first account is the administrator");
    assert!(reg["refresh_token"].is_string());
    let bob = app.register("bob").await;
    assert_eq!(bob["user"]["is_admin"], false);

    let login = app.post("/api/v1/auth/login", json!({"username": "Alice", "password": "password123"})).await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    let me: Value = app.get_auth("/api/v1/users/me", &token).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["display_name"], "ALICE");
    assert_eq!(me["id"], reg["user"]["id"]);

    // Restart on the same data: the account and the signing secret are kept.
    let env = app.stop().await;
    let app = start(env, |_| {}).await;
    let me = app.get_auth("/api/v1/users/me", &token).await;
    assert_eq!(me.status(), 200, "a token from before the restart still verifies");
    let login = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"})).await;
    assert_eq!(login.status(), 200);
    app.finish().await;
}

async fn register_rejects_bad_input(scale: Scale) {
    let app = spawn(scale).await;
    app.register("taken").await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"username": "taken", "display_name": "X", "password": "password123"}), 409, "username_taken"),
        (json!({"username": "TAKEN", "display_name": "X", "password": "password123"}), 409, "username_taken"),
        (json!({"username": "ab", "display_name": "X", "password": "password123"}), 400, "validation_failed"),
        (json!({"username": "a".repeat(33), "display_name": "X", "password": "password123"}), 400, "validation_failed"),
        (
            json!({"username": "robert'); DROP TABLE users;--", "display_name": "X", "password": "password123"}),
            400,
            "validation_failed",
        ),
        (json!({"username": "<script>", "display_name": "X", "password": "password123"}), 400, "validation_failed"),
        (json!({"username": "okname", "display_name": "   ", "password": "password123"}), 400, "validation_failed"),
        (
            json!({"username": "okname", "display_name": "x".repeat(65), "password": "password123"}),
            400,
            "validation_failed",
        ),
        (json!({"username": "okname", "display_name": "X", "password": "short"}), 400, "validation_failed"),
        (json!({"username": "okname", "display_name": "X", "password": "p".repeat(2000)}), 400, "validation_failed"),
        (json!({"username": 42, "display_name": "X", "password": "password123"}), 400, "invalid_request"),
        (json!({"username": "okname", "display_name": ["X"], "password": "password123"}), 400, "invalid_request"),
        (json!({"username": "okname", "password": "password123"}), 400, "invalid_request"),
        (
            json!({"username": "okname", "display_name": "X", "password": "password123", "is_admin": true}),
            400,
            "invalid_request",
        ),
        (json!(["not", "an", "object"]), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let r = app.post("/api/v1/auth/register", body.clone()).await;
        let p = assert_problem(r, status, code).await;
        if code == "validation_failed" {
            let field = p["detail"].as_str().unwrap().split(':').next().unwrap().to_string();
            assert!(["username", "display_name", "password"].contains(&field.as_str()), "detail names the field: {p}");
        }
    }
    // Not JSON at all, and the wrong content type.
    let r = app
        .http
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(r, 400, "invalid_request").await;
    let r = app.http.post(app.url("/api/v1/auth/register")).body("username=x").send().await.unwrap();
    assert!(matches!(r.status().as_u16(), 400 | 415));
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    // Oversize body.
    let huge = json!({"username": "okname", "display_name": "x".repeat(200_000), "password": "password123"});
    assert_problem(app.post("/api/v1/auth/register", huge).await, 413, "payload_too_large").await;
    // HTML in the display name is stored and returned verbatim, as JSON text.
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "html", "display_name": "<img src=x onerror=alert(1)>", "password": "password123"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["display_name"], "<img src=x onerror=alert(1)>");
    app.finish().await;
}

async fn login_failures_look_alike_and_are_rate_limited(scale: Scale) {
    let app = spawn(scale).await;
    app.register("alice").await;
    let wrong = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "wrong-password"})).await;
    let a = assert_problem(wrong, 401, "invalid_credentials").await;
    let unknown = app.post("/api/v1/auth/login", json!({"username": "nobody", "password": "wrong-password"})).await;
    let b = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(a["detail"], b["detail"], "no user enumeration");
    let bad = app.post("/api/v1/auth/login", json!({"username": "x", "password": 5})).await;
    assert_problem(bad, 400, "invalid_request").await;

    // Per-username limit: burst of 10 per minute by default.
    let mut limited = None;
    for i in 0..12 {
        let r = app.post("/api/v1/auth/login", json!({"username": "alice", "password": format!("bad{i}xxxxx")})).await;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("login is rate-limited per username");
    assert!(r.headers().contains_key("retry-after"));
    let p = assert_problem(r, 429, "rate_limited").await;
    assert!(p["retry_after_ms"].as_u64().unwrap() > 0);
    // Even the right password is refused while limited.
    let r = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"})).await;
    assert_eq!(r.status(), 429);
    app.finish().await;
}

async fn login_is_rate_limited_per_ip(scale: Scale) {
    let app = spawn_with(scale, |c| {
        c.auth.login_per_ip_per_minute = 3;
        c.auth.login_per_ip_burst = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let r = app.post("/api/v1/auth/login", json!({"username": format!("user{i}"), "password": "whatever1"})).await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 429, 429]);
    app.finish().await;
}

async fn unknown_user_costs_a_password_verification(scale: Scale) {
    // Coarse on purpose: without the dummy verification an unknown user answers in well
    // under a millisecond, with it in tens of milliseconds, like a wrong password.
    let app = spawn(scale).await;
    app.register("alice").await;
    let time = |body: Value| {
        let app = &app;
        async move {
            let t = std::time::Instant::now();
            let r = app.post("/api/v1/auth/login", body).await;
            assert_eq!(r.status(), 401);
            t.elapsed()
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..5 {
        known.push(time(json!({"username": "alice", "password": format!("wrong{i}xxx")})).await);
        unknown.push(time(json!({"username": format!("ghost{i}"), "password": "wrongxxx"})).await);
    }
    known.sort();
    unknown.sort();
    assert!(unknown[2] * 3 >= known[2], "unknown {unknown:?} vs known {known:?}");
    app.finish().await;
}

async fn refresh_rotates_and_a_replay_ends_the_session(scale: Scale) {
    let app = spawn(scale).await;
    let reg = app.register("alice").await;
    let r0 = reg["refresh_token"].as_str().unwrap().to_string();
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": r0})).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let r1 = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r0, r1, "rotated");
    assert!(app.get_auth("/api/v1/users/me", body["access_token"].as_str().unwrap()).await.status().is_success());

    // (A replay past the two-tab grace is `replay_after_grace_revokes_the_family`.)
    let r2 = {
        let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": r1})).await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_string()
    };
    // Garbage and unknown tokens.
    for bad in [json!({"refresh_token": "nope"}), json!({"refresh_token": "x".repeat(500)}), json!({})] {
        assert_problem(app.post("/api/v1/auth/refresh", bad).await, 401, "invalid_refresh_token").await;
    }
    assert_problem(app.post("/api/v1/auth/refresh", json!({"refresh_token": 12})).await, 400, "invalid_request").await;
    // Logout ends this family: r2 no longer works.
    let r = app.post("/api/v1/auth/logout", json!({"refresh_token": r2.clone()})).await;
    assert_eq!(r.status(), 204);
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": r2})).await;
    assert_problem(r, 401, "invalid_refresh_token").await;
    app.finish().await;
}

async fn replay_after_grace_revokes_the_family(scale: Scale) {
    let app = spawn(scale).await;
    let reg = app.register("alice").await;
    let r0 = reg["refresh_token"].as_str().unwrap().to_string();
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": r0.clone()})).await;
    let r1 = r.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_string();
    // Age the first use past the grace window, as a thief replaying later would.
    let hash = nexus::service::tokens::hash_token(&r0);
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    match app.env.database_url() {
        Some(url) => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2")
                .bind(past)
                .bind(&hash)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        None => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", app.env.data_dir().join("nexus.db").display()))
                .await
                .unwrap();
            sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2")
                .bind(past)
                .bind(&hash)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
    let replay = app.post("/api/v1/auth/refresh", json!({"refresh_token": r0})).await;
    assert_problem(replay, 401, "refresh_token_reused").await;
    // The legitimate successor is dead too: the family is revoked.
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": r1})).await;
    assert_problem(r, 401, "invalid_refresh_token").await;
    app.finish().await;
}

async fn web_client_refresh_cookie(scale: Scale) {
    let app = spawn(scale).await;
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": "alice", "display_name": "Alice", "password": "password123", "use_cookie": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("nexus_refresh="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/api/v1/auth"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let body: Value = r.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "not in the body when the cookie carries it");
    let pair = cookie.split(';').next().unwrap().to_string();
    let r =
        app.http.post(app.url("/api/v1/auth/refresh")).header("cookie", &pair).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rotated = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert_ne!(rotated.split(';').next().unwrap(), pair, "cookie rotated");
    let r = app
        .http
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", rotated.split(';').next().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    app.finish().await;
}

async fn logout_all_ends_every_session(scale: Scale) {
    let app = spawn(scale).await;
    let a = app.register("alice").await;
    let b: Value = app
        .post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"}))
        .await
        .json()
        .await
        .unwrap();
    let token = a["access_token"].as_str().unwrap();
    let r = app.http.post(app.url("/api/v1/auth/logout-all")).bearer_auth(token).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 204);
    for refresh in [&a["refresh_token"], &b["refresh_token"]] {
        let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": refresh})).await;
        assert_eq!(r.status(), 401);
    }
    let r = app.http.post(app.url("/api/v1/auth/logout-all")).json(&json!({})).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    app.finish().await;
}

async fn hostile_access_tokens_are_refused(scale: Scale) {
    let app = spawn(scale).await;
    let reg = app.register("alice").await;
    let good = reg["access_token"].as_str().unwrap();
    let id = reg["user"]["id"].as_str().unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let none_header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let forged_payload = B64.encode(format!(r#"{{"sub":"{id}","iat":1,"exp":9999999999,"adm":true}}"#));
    let hs512 = B64.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    // Correctly signed, but with another secret, and expired.
    let other = nexus::service::tokens::TokenKeys::new(&[1u8; 32], std::time::Duration::from_secs(900));
    let foreign = other.issue(id.parse().unwrap(), true, chrono::Utc::now()).unwrap();
    let expired = {
        let keys =
            nexus::service::tokens::TokenKeys::new(&app.signing_secret().await, std::time::Duration::from_secs(900));
        keys.issue(id.parse().unwrap(), false, chrono::Utc::now() - chrono::Duration::hours(2)).unwrap()
    };
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    let cases = [
        format!("{none_header}.{forged_payload}."),
        format!("{hs512}.{}.{}", parts[1], parts[2]),
        tampered,
        foreign,
        expired,
        "garbage".to_string(),
        String::new(),
        "a".repeat(10_000),
    ];
    for t in cases {
        let r = app.get_auth("/api/v1/users/me", &t).await;
        assert_problem(r, 401, "unauthorized").await;
    }
    let r = app.http.get(app.url("/api/v1/users/me")).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    let r = app.http.get(app.url("/api/v1/users/me")).header("authorization", "Basic YTpi").send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    app.finish().await;
}

async fn profile_update_and_user_search(scale: Scale) {
    let app = spawn(scale).await;
    let this = app.register("alice").await;
    let token = this["access_token"].as_str().unwrap().to_string();
    let other: Value = app
        .post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"}))
        .await
        .json()
        .await
        .unwrap();
    app.register("bob").await;
    app.register("bobby").await;
    let patch = |body: Value| app.http.patch(app.url("/api/v1/users/me")).bearer_auth(&token).json(&body).send();
    let r = patch(json!({"display_name": "  Alice A.  "})).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["display_name"], "Alice A.");
    assert_problem(patch(json!({"display_name": ""})).await.unwrap(), 400, "validation_failed").await;
    assert_problem(patch(json!({"display_name": 7})).await.unwrap(), 400, "invalid_request").await;
    assert_problem(patch(json!({"username": "root"})).await.unwrap(), 400, "invalid_request").await;
    let wrong = patch(json!({"password": {"current": "nope-nope", "new": "newpassword1"}})).await.unwrap();
    assert_problem(wrong, 400, "invalid_credentials").await;
    let ok = patch(json!({"password": {"current": "password123", "new": "newpassword1"}})).await.unwrap();
    assert_eq!(ok.status(), 200);
    // The session that changed it stays signed in; every other one is ended.
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": this["refresh_token"]})).await;
    assert_eq!(r.status(), 200);
    let r = app.post("/api/v1/auth/refresh", json!({"refresh_token": other["refresh_token"]})).await;
    assert_problem(r, 401, "invalid_refresh_token").await;
    let r = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "newpassword1"})).await;
    assert_eq!(r.status(), 200);

    let found: Vec<Value> = app.get_auth("/api/v1/users?query=BOB", &token).await.json().await.unwrap();
    let names: Vec<&str> = found.iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["bob", "bobby"]);
    assert!(found[0].get("password_hash").is_none());
    assert_problem(app.get_auth("/api/v1/users?query=", &token).await, 400, "validation_failed").await;
    let long = format!("/api/v1/users?query={}", "a".repeat(100));
    assert_problem(app.get_auth(&long, &token).await, 400, "validation_failed").await;
    assert_problem(app.get_auth("/api/v1/users", &token).await, 400, "invalid_request").await;
    let r = app.http.get(app.url("/api/v1/users?query=bob")).send().await.unwrap();
    assert_problem(r, 401, "unauthorized").await;
    app.finish().await;
}

async fn registration_modes(scale: Scale) {
    use nexus::config::Registration;
    let app = spawn_with(scale, |c| c.auth.registration = Registration::Invite).await;
    let info: Value = app.http.get(app.url("/api/v1/server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["registration"], "invite");
    assert_eq!(info["setup_required"], true);
    // The release and the commit it was built from (this is a git checkout).
    let version = info["version"].as_str().unwrap();
    let (release, commit) = version.split_once('+').expect("version+commit");
    assert_eq!(release, env!("CARGO_PKG_VERSION"));
    assert!(commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{version}");
    // The first account needs no invite; the second does.
    let admin = app.token("admin").await;
    let info: Value = app.http.get(app.url("/api/v1/server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["setup_required"], false);
    let body = |code: Option<&str>| json!({"username": "guest", "display_name": "Guest", "password": "password123", "invite_code": code});
    assert_problem(app.post("/api/v1/auth/register", body(None)).await, 400, "invite_required").await;
    assert_problem(app.post("/api/v1/auth/register", body(Some("bogus"))).await, 400, "invalid_invite").await;
    let inv = app.post_auth("/api/v1/admin/invites", &admin, json!({})).await;
    assert_eq!(inv.status(), 201);
    let code = inv.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
    assert_eq!(app.post("/api/v1/auth/register", body(Some(&code))).await.status(), 201);
    let again = json!({"username": "guest3", "display_name": "G", "password": "password123", "invite_code": code});
    assert_problem(app.post("/api/v1/auth/register", again).await, 400, "invalid_invite").await;
    // Non-admins cannot create invites.
    let login: Value = app
        .post("/api/v1/auth/login", json!({"username": "guest", "password": "password123"}))
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .http
        .post(app.url("/api/v1/admin/invites"))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(r, 403, "forbidden").await;
    app.finish().await;

    let app = spawn_with(scale, |c| c.auth.registration = Registration::Closed).await;
    let r = app
        .post("/api/v1/auth/register", json!({"username": "x_y", "display_name": "X", "password": "password123"}))
        .await;
    assert_problem(r, 403, "forbidden").await;
    app.finish().await;
}

both_scales!(
    register_login_me_and_survive_a_restart,
    register_rejects_bad_input,
    login_failures_look_alike_and_are_rate_limited,
    login_is_rate_limited_per_ip,
    unknown_user_costs_a_password_verification,
    refresh_rotates_and_a_replay_ends_the_session,
    replay_after_grace_revokes_the_family,
    web_client_refresh_cookie,
    logout_all_ends_every_session,
    hostile_access_tokens_are_refused,
    profile_update_and_user_search,
    registration_modes,
);

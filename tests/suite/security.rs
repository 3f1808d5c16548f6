//! Browser-facing defences: the security headers on every kind of response, and the refresh
//! cookie refused to requests from another site (CSRF). docs/security.md maps each
//! ASVS item to the test that covers it.

use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, TestApp, assert_problem, spawn},
};

both_scales!(every_response_carries_the_security_headers, the_refresh_cookie_works_only_for_this_sites_pages);

fn assert_security_headers(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    for (name, want) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        assert_eq!(h.get(name).and_then(|v| v.to_str().ok()), Some(want), "{name} on {what}");
    }
    let permissions = h.get("permissions-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(permissions.contains("camera=(self)") && permissions.contains("geolocation=()"), "{what}: {permissions}");
}

async fn every_response_carries_the_security_headers(scale: Scale) {
    let app = spawn(scale).await;
    let alice = app.register("alice").await;
    let token = alice["access_token"].as_str().unwrap();

    // An API answer with a token in it, an API answer with private data, a problem, a
    // route that does not exist, the client's page, health.
    let r = app.post("/api/v1/auth/login", json!({"username": "alice", "password": "password123"})).await;
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, "login");
    assert_eq!(r.headers()["cache-control"], "no-store", "tokens are never cached");
    let r = app.http.get(app.url("/api/v1/users/me")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, "users/me");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = app.http.get(app.url("/api/v1/users/me")).send().await.unwrap();
    assert_security_headers(&r, "a 401");
    assert_problem(r, 401, "unauthorized").await;
    let r = app.http.get(app.url("/api/v1/no-such-route")).send().await.unwrap();
    assert_security_headers(&r, "a 404");
    let r = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, "the client page");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_security_headers(&r, "healthz");
    app.finish().await;
}

/// Registers `name` with the refresh token in a cookie; returns the `name=value` pair.
async fn cookie_session(app: &TestApp, name: &str) -> String {
    let r = app
        .post(
            "/api/v1/auth/register",
            json!({"username": name, "display_name": name, "password": "password123", "use_cookie": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

async fn refresh_with(app: &TestApp, cookie: &str, origin: Option<&str>) -> reqwest::Response {
    let mut req = app.http.post(app.url("/api/v1/auth/refresh")).header("cookie", cookie).json(&json!({}));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

async fn the_refresh_cookie_works_only_for_this_sites_pages(scale: Scale) {
    let app = spawn(scale).await;
    let cookie = cookie_session(&app, "alice").await;

    // Another site's page posting to us with the cookie: refused, and the token not spent.
    for evil in ["https://evil.example", "http://127.0.0.1.evil.example", "null"] {
        let r = refresh_with(&app, &cookie, Some(evil)).await;
        assert_problem(r, 403, "forbidden").await;
        let r = app
            .http
            .post(app.url("/api/v1/auth/logout"))
            .header("cookie", &cookie)
            .header("origin", evil)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_problem(r, 403, "forbidden").await;
    }

    // This server's own page (Origin = its host) refreshes, and the token rotates.
    let own = app.base.clone();
    let r = refresh_with(&app, &cookie, Some(&own)).await;
    assert_eq!(r.status(), 200, "same-origin refresh with the cookie");
    let rotated = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(rotated, cookie);
    let body: Value = r.json().await.unwrap();
    assert!(body["access_token"].is_string());

    // An API client (no Origin, token in the body) is not a browser: not affected.
    let bob = app.register("bob").await;
    let r = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .header("origin", "https://evil.example")
        .json(&json!({"refresh_token": bob["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a refresh token in the body is not ambient authority");
    let r = refresh_with(&app, &rotated, None).await;
    assert_eq!(r.status(), 200, "no Origin: not a browser");
    app.finish().await;
}

//! The HTTP surface around the API: health, OpenAPI and Swagger UI, the embedded client,
//! problem JSON for routes that do not exist.

use serde_json::Value;

use crate::{
    both_scales,
    common::{Scale, assert_problem, spawn},
};

async fn health_and_readiness(scale: Scale) {
    let app = spawn(scale).await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["status"], "ready");
    let (db, bus) = if scale == Scale::Cluster { ("postgres", "redis") } else { ("sqlite", "memory") };
    assert_eq!((r["database"].as_str().unwrap(), r["bus"].as_str().unwrap()), (db, bus));
    app.finish().await;
}

async fn openapi_and_swagger_ui(scale: Scale) {
    let app = spawn(scale).await;
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/auth/logout-all",
        "/users/me",
        "/users",
        "/server",
        "/admin/invites",
        "/admin/invites/{id}",
        "/admin/users",
        "/admin/users/{id}",
        "/admin/server",
    ] {
        assert!(paths.contains_key(p), "spec documents {p}: {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert_eq!(spec["servers"][0]["url"], "/api/v1");
    assert!(spec["components"]["schemas"]["Problem"].is_object(), "problem schema documented");
    let docs = app.http.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "Swagger UI page");
    app.finish().await;
}

async fn unknown_api_routes_are_problems(scale: Scale) {
    let app = spawn(scale).await;
    assert_problem(app.http.get(app.url("/api/v1/nope")).send().await.unwrap(), 404, "not_found").await;
    assert_problem(app.http.get(app.url("/api/nope")).send().await.unwrap(), 404, "not_found").await;
    let r = app.http.delete(app.url("/api/v1/auth/login")).send().await.unwrap();
    assert_problem(r, 405, "method_not_allowed").await;
    app.finish().await;
}

async fn web_client_is_served_with_spa_fallback(scale: Scale) {
    let app = spawn(scale).await;
    let index = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.headers().contains_key("content-security-policy"));
    let etag = index.headers()["etag"].to_str().unwrap().to_string();
    let html = index.text().await.unwrap();
    assert!(html.contains("<div id=\"root\">"), "the client shell");
    // A deep link gets the same shell.
    let deep = app.http.get(app.url("/c/some-conversation")).send().await.unwrap();
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.text().await.unwrap(), html);
    // So does an invite link (the client opens sign-up with the code filled in).
    let invite = app.http.get(app.url("/invite/AbC-123_x")).send().await.unwrap();
    assert_eq!(invite.status(), 200);
    assert_eq!(invite.text().await.unwrap(), html);
    // Revalidation.
    let again = app.http.get(app.url("/")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    // Hashed assets: right MIME type, immutable, compressed on request.
    let script = html
        .split('"')
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("index.html references a hashed script")
        .to_string();
    let js = app.http.get(app.url(&script)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert_eq!(js.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(js.headers()["content-encoding"], "gzip");
    // A missing hashed asset is a 404, not the shell.
    let missing = app.http.get(app.url("/assets/nope-123.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    app.finish().await;
}

async fn metrics_count_the_pipeline(scale: Scale) {
    let app = spawn(scale).await;
    let (alice, _) = crate::common::user(&app, "alice").await;
    let (_, bob_id) = crate::common::user(&app, "bob").await;
    let cid = app.conversation(&alice, serde_json::json!({"kind": "direct", "user_id": bob_id})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = crate::common::Ws::connect(&app.base, &alice).await;
    ws.send_message(&cid, "m1", "counted").await;
    ws.wait_for("message.new", |v| v["type"] == "message.new").await;
    app.services.receipts.flush().await.unwrap();
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert_eq!(value("nexus_websocket_connections"), 1.0);
    assert_eq!(value("nexus_messages_stored_total"), 1.0);
    assert!(value("nexus_receipts_flushes_total") >= 1.0);
    assert!(value("nexus_receipts_last_flush_success_timestamp_seconds") > 0.0);
    assert!(value("process_resident_memory_bytes") > 0.0);
    app.finish().await;
}

both_scales!(
    metrics_count_the_pipeline,
    health_and_readiness,
    openapi_and_swagger_ui,
    unknown_api_routes_are_problems,
    web_client_is_served_with_spa_fallback,
    the_installable_app_is_served_as_itself,
);

/// The service worker and the manifest are files the browser fetches as themselves: the
/// right type, the worker allowed at `/` and revalidated, never `index.html` in their place.
async fn the_installable_app_is_served_as_itself(scale: Scale) {
    let app = spawn(scale).await;
    let r = app.http.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().contains("javascript"), "{h:?}");
    assert_eq!(h["service-worker-allowed"], "/");
    assert!(!h["cache-control"].to_str().unwrap().contains("immutable"), "the worker is revalidated: {h:?}");
    let body = r.text().await.unwrap();
    assert!(!body.contains("<!doctype html") && !body.contains("<html"), "not the page");
    let r = app.http.get(app.url("/manifest.webmanifest")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/manifest+json");
    let manifest: Value = r.json().await.unwrap();
    assert_eq!(manifest["start_url"], "/");
    assert_eq!(manifest["display"], "standalone");
    for icon in manifest["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let r = app.http.get(app.url(&format!("/{}", src.trim_start_matches('/')))).send().await.unwrap();
        assert_eq!(r.status(), 200, "{src}");
        assert_eq!(r.headers()["content-type"], "image/png", "{src}");
    }
    // Missing ones are 404, not the page.
    for path in ["/icons/nope.png", "/assets/nope.js"] {
        assert_eq!(app.http.get(app.url(path)).send().await.unwrap().status(), 404, "{path}");
    }
    app.finish().await;
}

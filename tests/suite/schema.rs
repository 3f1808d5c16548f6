//! The OpenAPI document against what the server answers (the findings of
//! `scripts/schemathesis`, kept here as regression tests): every `null` a response carries
//! is declared `nullable`, every required field is there, 405 names the allowed methods,
//! error details do not echo long input, hostile query strings are answered, not failed.

use serde_json::{Value, json};

use crate::{
    both_scales,
    common::{Scale, assert_problem, spawn, user},
};

/// `schema` with `$ref`s into `spec` resolved.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(spec, spec.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("no {r}"))),
        None => schema,
    }
}

/// Checks that `value` fits `schema` as far as presence and nullability go: a `null` only
/// where the schema says `nullable`, required properties present, objects and arrays
/// checked all the way down. Returns the violations, each with its JSON path.
pub(crate) fn conformance(spec: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if value.is_null() {
        if schema["nullable"] != true {
            out.push(format!("{path}: null, but the schema does not say nullable"));
        }
        return;
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            conformance(spec, s, value, path, out);
        }
    }
    if let Some(obj) = value.as_object() {
        for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                out.push(format!("{path}.{req}: required, but absent"));
            }
        }
        for (k, v) in obj {
            if let Some(s) = schema["properties"].get(k) {
                conformance(spec, s, v, &format!("{path}.{k}"), out);
            }
        }
    }
    if let (Some(items), Some(schema_items)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            conformance(spec, schema_items, v, &format!("{path}[{i}]"), out);
        }
    }
}

/// The schema of `method path`'s `status` response, as the spec documents it.
pub(crate) fn response_schema<'a>(spec: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &spec["paths"][path][method];
    let content = &op["responses"][status.to_string()]["content"];
    let schema = &content["application/json; charset=utf-8"]["schema"];
    assert!(schema.is_object(), "{method} {path} documents {status} with a JSON schema: {content}");
    schema
}

async fn responses_declare_every_null_they_carry(scale: Scale) {
    let app = spawn(scale).await;
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let (admin, _) = user(&app, "schemaadmin").await;
    let (_, peer_id) = user(&app, "schemapeer").await;
    // A direct conversation has no name and, before its first message, no last message;
    // an invite without a note is unused and unrevoked; no account is disabled.
    let direct = app.conversation_id(&admin, json!({"kind": "direct", "user_id": peer_id})).await;
    assert_eq!(app.post_auth("/api/v1/admin/invites", &admin, json!({})).await.status(), 201);
    let mut violations = Vec::new();
    for (path, template) in [
        ("/api/v1/conversations".to_string(), "/conversations"),
        (format!("/api/v1/conversations/{direct}"), "/conversations/{id}"),
        ("/api/v1/admin/users".to_string(), "/admin/users"),
        ("/api/v1/admin/invites".to_string(), "/admin/invites"),
        ("/api/v1/admin/server".to_string(), "/admin/server"),
    ] {
        let r = app.get_auth(&path, &admin).await;
        assert_eq!(r.status(), 200, "GET {path}");
        let body: Value = r.json().await.unwrap();
        conformance(&spec, response_schema(&spec, "get", template, 200), &body, template, &mut violations);
    }
    // A message posted over REST has no client id of its own in history.
    let r = app.post_auth(&format!("/api/v1/conversations/{direct}/messages"), &admin, json!({"body": "hi"})).await;
    assert_eq!(r.status(), 202);
    let r = app.get_auth(&format!("/api/v1/conversations/{direct}/messages"), &admin).await;
    let body: Value = r.json().await.unwrap();
    let schema = response_schema(&spec, "get", "/conversations/{id}/messages", 200);
    conformance(&spec, schema, &body, "/conversations/{id}/messages", &mut violations);
    assert!(violations.is_empty(), "responses that do not fit the spec:\n{}", violations.join("\n"));
    app.finish().await;
}

both_scales!(responses_declare_every_null_they_carry);

async fn method_not_allowed_names_the_allowed_methods(scale: Scale) {
    let app = spawn(scale).await;
    let (token, _) = user(&app, "allowuser").await;
    let conversation = "01900000-0000-7000-8000-000000000000";
    for (method, path, allow) in [
        ("TRACE", "/api/v1/users/me".to_string(), "GET, PATCH"),
        ("DELETE", "/api/v1/auth/login".to_string(), "POST"),
        ("PUT", format!("/api/v1/conversations/{conversation}"), "GET, PATCH"),
        ("PATCH", format!("/api/v1/conversations/{conversation}/messages"), "GET, POST"),
        ("GET", "/api/v1/admin/invites/01900000-0000-7000-8000-000000000000".to_string(), "DELETE"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = app.http.request(method.clone(), app.url(&path)).bearer_auth(&token).send().await.unwrap();
        let got = r.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), Some(allow), "{method} {path}");
        assert_problem(r, 405, "method_not_allowed").await;
    }
    app.finish().await;
}

both_scales!(method_not_allowed_names_the_allowed_methods);

async fn error_details_do_not_echo_long_input(scale: Scale) {
    let app = spawn(scale).await;
    let long = "x".repeat(5000);
    // An unknown field: the parser names it in the detail.
    let mut body = serde_json::Map::new();
    body.insert("username".into(), json!("someone"));
    body.insert("password".into(), json!("password123"));
    body.insert(long.clone(), json!(1));
    let r = app.post("/api/v1/auth/login", Value::Object(body)).await;
    let detail = assert_problem(r, 400, "invalid_request").await["detail"].as_str().unwrap().to_string();
    assert!(detail.chars().count() <= 201 && detail.ends_with('…'), "{} chars: {detail}", detail.len());
    assert!(detail.starts_with("parse request payload error"), "{detail}");
    // A wrong type, deep in a long body.
    let r = app.post("/api/v1/auth/login", json!({"username": long, "password": 5})).await;
    let detail = assert_problem(r, 400, "invalid_request").await["detail"].as_str().unwrap().to_string();
    assert!(detail.chars().count() <= 201, "{} chars: {detail}", detail.len());
    app.finish().await;
}

both_scales!(error_details_do_not_echo_long_input);

async fn control_characters_in_a_search_match_no_one(scale: Scale) {
    let app = spawn(scale).await;
    let (admin, _) = user(&app, "nuladmin").await;
    for path in ["/api/v1/users?query=nul%00admin", "/api/v1/users?query=%00", "/api/v1/users?query=nul%1Badmin"] {
        let r = app.get_auth(path, &admin).await;
        assert_eq!(r.status(), 200, "GET {path}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]), "GET {path}");
    }
    for path in ["/api/v1/admin/users?query=nul%00admin", "/api/v1/admin/users?query=%00"] {
        let r = app.get_auth(path, &admin).await;
        assert_eq!(r.status(), 200, "GET {path}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!([]), "GET {path}");
    }
    // The same search without the control character finds the user.
    let found: Value = app.get_auth("/api/v1/users?query=nuladmin", &admin).await.json().await.unwrap();
    assert_eq!(found[0]["username"], "nuladmin");
    app.finish().await;
}

both_scales!(control_characters_in_a_search_match_no_one);

/// The schema of `method path`'s JSON request body, resolved.
fn request_schema<'a>(spec: &'a Value, method: &str, path: &str) -> &'a Value {
    let content = &spec["paths"][path][method]["requestBody"]["content"];
    resolve(spec, &content["application/json; charset=utf-8"]["schema"])
}

async fn optional_request_fields_that_take_null_say_so(scale: Scale) {
    let app = spawn(scale).await;
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let (admin, _) = user(&app, "nulladmin").await;
    let (_, peer) = user(&app, "nullpeer").await;
    let direct = app.conversation_id(&admin, json!({"kind": "direct", "user_id": peer})).await;
    // Each request sends null for an optional field; the server takes it as absent, and
    // the spec must say that null is allowed there.
    let cases = [
        ("post", "/auth/register", "invite_code", "/api/v1/auth/register".to_string(), 201),
        ("post", "/auth/logout", "refresh_token", "/api/v1/auth/logout".to_string(), 204),
        ("patch", "/users/me", "display_name", "/api/v1/users/me".to_string(), 200),
        ("patch", "/users/me", "password", "/api/v1/users/me".to_string(), 200),
        ("patch", "/admin/users/{id}", "is_admin", format!("/api/v1/admin/users/{peer}"), 200),
        ("patch", "/admin/users/{id}", "disabled", format!("/api/v1/admin/users/{peer}"), 200),
        ("post", "/admin/invites", "note", "/api/v1/admin/invites".to_string(), 201),
        ("post", "/admin/invites", "expires_in_hours", "/api/v1/admin/invites".to_string(), 201),
    ];
    for (method, template, field, path, status) in cases {
        let mut body = json!({ field: null });
        if template == "/auth/register" {
            body = json!({"username": "nullthird", "display_name": "N", "password": "password123", field: null});
        }
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.request_auth(m, &path, &admin, Some(body)).await;
        assert_eq!(r.status().as_u16(), status, "{method} {template} with {field}: null");
        let prop = &request_schema(&spec, method, template)["properties"][field];
        assert_eq!(prop["nullable"], true, "{method} {template}: {field} is declared nullable: {prop}");
    }
    let r = app.post_auth(&format!("/api/v1/conversations/{direct}/messages"), &admin, json!({"body": null})).await;
    assert_problem(r, 400, "validation_failed").await;
    let prop = &request_schema(&spec, "post", "/conversations/{id}/messages")["properties"]["body"];
    assert_eq!(prop["nullable"], true, "a message's body is declared nullable: {prop}");
    app.finish().await;
}

both_scales!(optional_request_fields_that_take_null_say_so);

async fn bodies_that_refuse_unknown_fields_say_so(scale: Scale) {
    let app = spawn(scale).await;
    let spec: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let (admin, _) = user(&app, "closedadmin").await;
    let (_, peer) = user(&app, "closedpeer").await;
    let group = app.conversation_id(&admin, json!({"kind": "group", "name": "g", "member_ids": []})).await;
    // Every JSON body but two, with its required fields and one field the server does not
    // know: refused, and the spec says `additionalProperties: false`.
    let closed = [
        (
            "post",
            "/auth/register",
            "/api/v1/auth/register".to_string(),
            json!({"username": "x", "display_name": "x", "password": "p"}),
        ),
        ("post", "/auth/login", "/api/v1/auth/login".to_string(), json!({"username": "x", "password": "p"})),
        ("post", "/auth/refresh", "/api/v1/auth/refresh".to_string(), json!({})),
        ("post", "/auth/logout", "/api/v1/auth/logout".to_string(), json!({})),
        ("patch", "/users/me", "/api/v1/users/me".to_string(), json!({"password": {"current": "a", "new": "b"}})),
        ("patch", "/conversations/{id}", format!("/api/v1/conversations/{group}"), json!({"name": "n"})),
        (
            "post",
            "/conversations/{id}/members",
            format!("/api/v1/conversations/{group}/members"),
            json!({"user_ids": []}),
        ),
        ("post", "/conversations/{id}/messages", format!("/api/v1/conversations/{group}/messages"), json!({})),
        ("post", "/conversations/{id}/read", format!("/api/v1/conversations/{group}/read"), json!({"seq": 0})),
        (
            "patch",
            "/conversations/{id}/messages/{message_id}",
            format!("/api/v1/conversations/{group}/messages/{}", uuid::Uuid::now_v7()),
            json!({"body": "b"}),
        ),
        (
            "delete",
            "/push/subscriptions",
            "/api/v1/push/subscriptions".to_string(),
            json!({"endpoint": "https://push.example/x"}),
        ),
        ("patch", "/notifications/settings", "/api/v1/notifications/settings".to_string(), json!({})),
        (
            "put",
            "/notifications/mutes/{conversation_id}",
            format!("/api/v1/notifications/mutes/{group}"),
            json!({"until": null}),
        ),
        ("patch", "/admin/users/{id}", format!("/api/v1/admin/users/{peer}"), json!({})),
        ("post", "/admin/invites", "/api/v1/admin/invites".to_string(), json!({})),
    ];
    let open = [("post", "/conversations"), ("post", "/push/subscriptions")];
    for (method, template, path, mut body) in closed.clone() {
        let schema = request_schema(&spec, method, template);
        assert_eq!(schema["additionalProperties"], false, "{method} {template}: {schema}");
        body["zz_unknown"] = json!(1);
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.request_auth(m, &path, &admin, Some(body)).await;
        let problem = assert_problem(r, 400, "invalid_request").await;
        assert!(problem["detail"].as_str().unwrap().contains("unknown field"), "{method} {template}: {problem}");
    }
    // The password change's nested object is closed too.
    let nested = &request_schema(&spec, "patch", "/users/me")["properties"]["password"];
    let nested = resolve(&spec, &nested["allOf"][0]);
    assert_eq!(nested["additionalProperties"], false, "{nested}");
    for (method, template) in open {
        assert_ne!(request_schema(&spec, method, template)["additionalProperties"], false, "{method} {template}");
    }
    // No JSON body is left out of the lists above.
    for (template, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op["requestBody"]["content"].get("application/json; charset=utf-8").is_some() {
                let listed = closed.iter().any(|c| (c.0, c.1) == (method.as_str(), template.as_str()))
                    || open.contains(&(method.as_str(), template.as_str()));
                assert!(listed, "{method} {template} is checked here");
            }
        }
    }
    app.finish().await;
}

both_scales!(bodies_that_refuse_unknown_fields_say_so);

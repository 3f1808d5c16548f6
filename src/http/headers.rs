//! Security headers on every response, API and client alike (a handler's own value wins:
//! the client pages add their Content Security Policy, media its caching).
//!
//! - `X-Content-Type-Options: nosniff`: a response is only what its `Content-Type` says.
//! - `X-Frame-Options: DENY` (and `frame-ancestors 'none'` in the pages' CSP): no framing,
//!   so no clickjacking.
//! - `Referrer-Policy: no-referrer`: invite links and conversation ids stay here.
//! - `Cross-Origin-Opener-Policy` / `Cross-Origin-Resource-Policy: same-origin`: other
//!   sites get no window handle and cannot embed our responses (images included).
//! - `Permissions-Policy`: camera, microphone and screen capture for this origin only
//!   (calls), nothing else.
//! - `Cache-Control: no-store` on `/api/` responses that set none: tokens and private
//!   data are never kept by a shared cache or the browser's disk cache.
//!
//! `Strict-Transport-Security` belongs to whoever terminates TLS (the reverse proxy).

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response, http::HeaderValue};

const FIXED: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()",
    ),
];

pub async fn security_headers<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let headers = resp.headers_mut();
    for (name, value) in FIXED {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if api && !headers.contains_key("cache-control") {
        headers.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    Ok(resp)
}

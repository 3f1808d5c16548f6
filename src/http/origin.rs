//! Where a browser request comes from. A browser names the page's origin in `Origin` on
//! every WebSocket handshake and every cross-origin (or non-GET) fetch; the gateway and the
//! cookie-authenticated auth routes accept only this server's own origin or a configured
//! one (`gateway.allowed_origins`). No `Origin` at all is not a browser (an API client).

use poem::Request;

/// Same-origin (the `Origin`'s host is the request's `Host`), a configured origin, or no
/// `Origin` header at all (not a browser).
pub fn allowed(req: &Request, allowed: &[String]) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else { return true };
    if allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match url::Url::parse(origin) {
        Ok(u) => {
            let origin_host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
        Err(_) => false,
    }
}

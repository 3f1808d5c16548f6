//! `Allow` on `405 Method Not Allowed` (RFC 9110 §15.5.6): the methods of each API path,
//! read once from the OpenAPI document the API itself generates, so the header cannot
//! drift from the routes.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, StatusCode, header},
};

/// Each path of the API (segments, `None` for a `{parameter}`) with its `Allow` value.
pub struct Methods(Vec<(Vec<Option<String>>, HeaderValue)>);

impl Methods {
    /// From the OpenAPI document (`paths` relative to the API's server, `/api/v1`).
    pub fn from_spec(spec: &str) -> Methods {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut table = Vec::new();
        for (path, ops) in spec["paths"].as_object().into_iter().flatten() {
            let segments =
                segments(path).map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string())).collect();
            let mut methods: Vec<String> =
                ops.as_object().into_iter().flatten().map(|(m, _)| m.to_uppercase()).collect();
            methods.sort();
            if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
                table.push((segments, value));
            }
        }
        Methods(table)
    }

    /// The `Allow` value for a request path (with or without the `/api/v1` prefix). A
    /// literal segment wins over a parameter (`/users/me` is not `/users/{id}`).
    fn allow(&self, path: &str) -> Option<&HeaderValue> {
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        let asked: Vec<&str> = segments(path).collect();
        self.0
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == asked.len()
                    && pattern.iter().zip(&asked).all(|(p, a)| p.as_deref().is_none_or(|p| p == *a))
            })
            .max_by_key(|(pattern, _)| pattern.iter().filter(|p| p.is_some()).count())
            .map(|(_, allow)| allow)
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Answers a 405 as problem JSON with `Allow`.
pub async fn on_405<E: Endpoint>(ep: Arc<E>, req: Request, methods: Arc<Methods>) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => super::problem::to_problem(e).await,
        Err(e) => return Err(e),
    };
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = methods.allow(&path)
    {
        resp.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(resp)
}

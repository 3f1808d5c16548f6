//! The web client, embedded at build time from `assets/dist` (see `build.rs`), served at `/`
//! with SPA fallback: any path that is not a file and not under `/api/` gets `index.html`.
//!
//! Hashed files under `/assets/` are immutable (cached for a year); everything else is
//! revalidated with its ETag. Responses are compressed when the client accepts it.
//!
//! The installable app: `/sw.js` is the service worker (scope `/`, `Service-Worker-Allowed: /`,
//! revalidated on every update check) and `/manifest.webmanifest` the web manifest
//! (`application/manifest+json`, from `mime_guess`); like the hashed assets and the icons,
//! they are never answered with `index.html`.

use poem::{
    Endpoint, EndpointExt, IntoEndpoint, Request, Response, Result,
    http::{Method, StatusCode, header},
    middleware::Compression,
};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/dist/"]
struct Dist;

/// Content Security Policy of the client pages: only this origin, no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
                   font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Files the browser fetches as themselves: a page in their place would break them.
const NOT_PAGES: [&str; 2] = ["sw.js", "manifest.webmanifest"];

pub struct ClientEndpoint;

impl IntoEndpoint for ClientEndpoint {
    type Endpoint = poem::endpoint::BoxEndpoint<'static>;

    fn into_endpoint(self) -> Self::Endpoint {
        Serve.with(Compression::new()).boxed()
    }
}

struct Serve;

impl Endpoint for Serve {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return Err(poem::Error::from_status(StatusCode::METHOD_NOT_ALLOWED));
        }
        let path = req.uri().path().trim_start_matches('/');
        if path == "api" || path.starts_with("api/") {
            return Err(poem::Error::from_string(format!("no API route {}", req.uri().path()), StatusCode::NOT_FOUND));
        }
        let (name, file) = match Dist::get(path).filter(|_| !path.is_empty()) {
            Some(f) => (path.to_string(), f),
            None => {
                // A missing hashed asset must 404, not silently become index.html.
                if path.starts_with("assets/") || path.starts_with("icons/") || NOT_PAGES.contains(&path) {
                    return Err(poem::Error::from_status(StatusCode::NOT_FOUND));
                }
                match Dist::get("index.html") {
                    Some(f) => ("index.html".to_string(), f),
                    None => {
                        return Err(poem::Error::from_string(
                            "the web client was not built into this binary",
                            StatusCode::NOT_FOUND,
                        ));
                    }
                }
            }
        };
        let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
        let immutable = name.starts_with("assets/");
        let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
        let mut resp = if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
            Response::builder().status(StatusCode::NOT_MODIFIED).finish()
        } else {
            let mime = mime_guess::from_path(&name).first_or_octet_stream();
            Response::builder().content_type(mime.as_ref()).body(file.data.into_owned())
        };
        let headers = resp.headers_mut();
        headers.insert(header::ETAG, etag.parse().expect("hex etag"));
        headers.insert(header::CACHE_CONTROL, cache.parse().expect("static"));
        // nosniff, Referrer-Policy and the rest come with every response (`http::headers`).
        if name.ends_with(".html") {
            headers.insert("content-security-policy", CSP.parse().expect("static"));
        }
        if name == "sw.js" {
            headers.insert("service-worker-allowed", "/".parse().expect("static"));
        }
        Ok(resp)
    }
}

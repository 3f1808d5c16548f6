//! HTTP: the REST API (poem-openapi, served under `/api/v1`, spec at `/api/openapi.json`,
//! Swagger UI at `/api/docs`), health endpoints and the embedded web client.
//!
//! Handlers are thin: parse, call a service, map the result. Every error leaves as RFC 9457
//! problem JSON ([`problem::to_problem`] catches the ones poem and poem-openapi raise
//! themselves: malformed JSON, wrong types, unknown routes, oversize bodies).

mod admin;
mod allow;
pub mod assets;
mod auth;
mod calls;
mod changes;
mod conversations;
mod headers;
mod health;
mod media;
pub mod origin;
pub mod problem;
mod push;
mod search;
mod server;
mod spec;
pub mod text;
mod users;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route, http::StatusCode};
use poem_openapi::{OpenApiService, SecurityScheme, auth::Bearer};

use crate::{error::Error, gateway::Gateway, service::tokens::Claims, services::Services};

/// Largest JSON request body the API accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// `Authorization: Bearer <access token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT")]
pub struct BearerAuth(Bearer);

impl BearerAuth {
    pub fn claims(&self, services: &Services) -> Result<Claims, Error> {
        services.accounts.authenticate(&self.0.token)
    }
}

type Apis = (
    auth::AuthApi,
    users::UsersApi,
    conversations::ConversationsApi,
    changes::ChangesApi,
    media::MediaApi,
    calls::CallsApi,
    push::PushApi,
    search::SearchApi,
    server::ServerApi,
    admin::AdminApi,
);

pub fn api_service(services: Arc<Services>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            auth::AuthApi { services: services.clone() },
            users::UsersApi { services: services.clone() },
            conversations::ConversationsApi { services: services.clone() },
            changes::ChangesApi { services: services.clone() },
            media::MediaApi { services: services.clone() },
            calls::CallsApi { services: services.clone() },
            push::PushApi { services: services.clone() },
            search::SearchApi { services: services.clone() },
            server::ServerApi { services: services.clone() },
            admin::AdminApi { services },
        ),
        "Nexus API",
        crate::VERSION,
    )
    .description(
        "Self-hosted real-time chat. Authenticate with `POST /auth/login`, then send the \
         `access_token` as `Authorization: Bearer …`. Errors are RFC 9457 problem JSON with a \
         stable `code`.",
    )
    .server("/api/v1")
}

/// The whole HTTP application.
pub fn routes(services: Arc<Services>, gateway: Gateway) -> impl Endpoint {
    let api = api_service(services.clone());
    // An upload's multipart body: the file, plus room for the part headers.
    let upload_limit = services.media.max_upload_bytes() + 64 * 1024;
    let document = spec::document(&api.spec());
    let methods = Arc::new(allow::Methods::from_spec(&document));
    let spec = poem::endpoint::make_sync(move |_| {
        Response::builder().content_type("application/json; charset=utf-8").body(document.clone())
    });
    let docs = api.swagger_ui();
    Route::new()
        .at("/api/v1/ws", poem::get(crate::gateway::ws).data(services.clone()).data(gateway.clone()))
        .at("/api/v1/media/:id", poem::get(media::original).data(services.clone()))
        .at("/api/v1/media/:id/:variant", poem::get(media::rendition).data(services.clone()))
        .nest(
            "/api/v1",
            api.data(gateway.clone())
                .around(move |ep, req| limit_body(ep, req, upload_limit))
                .around(move |ep, req| allow::on_405(ep, req, methods.clone())),
        )
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/healthz", poem::get(health::healthz))
        .at("/readyz", poem::get(health::readyz).data(services.clone()))
        .at("/metrics", poem::get(health::metrics).data(services.clone()).data(gateway.clone()))
        .nest("/", assets::ClientEndpoint.into_endpoint())
        .catch_all_error(problem::to_problem)
        .around(headers::security_headers)
        .around(access_log)
}

/// Refuse request bodies over [`MAX_JSON_BODY`] with 413, whether announced by
/// `Content-Length` or streamed in chunks. An upload (`POST /uploads`) may announce up to
/// `upload_limit`, and is streamed on to its handler, which counts the file's bytes itself.
async fn limit_body<E: Endpoint>(ep: Arc<E>, mut req: Request, upload_limit: u64) -> poem::Result<Response> {
    let too_large = || poem::Error::from_string("request body too large", StatusCode::PAYLOAD_TOO_LARGE);
    if req.uri().path() == "/uploads" || req.uri().path() == "/api/v1/uploads" {
        let declared = req.header(poem::http::header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > upload_limit) {
            return Err(too_large());
        }
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_JSON_BODY as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.headers().contains_key(poem::http::header::TRANSFER_ENCODING) => {
            let body = req.take_body().into_bytes_limit(MAX_JSON_BODY).await.map_err(|_| too_large())?;
            req.set_body(body);
        }
        None => {}
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// One log line per request: method, path (never the query, which may hold an access
/// token), status and duration.
async fn access_log<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let result = ep.call(req).await.map(IntoResponse::into_response);
    let status = match &result {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status().as_u16(),
    };
    tracing::info!(%method, path, status, duration_ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    result
}

/// The client's IP: the socket peer, or with `server.trust_forwarded_for` the last
/// address of `X-Forwarded-For` (the one the trusted proxy itself appended; earlier
/// entries come from the client and can be forged).
pub fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next_back())
            .map(str::trim)
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
        {
            return first.to_string();
        }
    }
    match req.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".into(),
    }
}

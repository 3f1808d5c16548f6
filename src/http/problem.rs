//! Errors as HTTP: the status and RFC 9457 problem JSON of each service [`Error`], the
//! OpenAPI description of that response, and the fallback that turns every other error
//! reaching the top of the router into problem JSON too.

use poem::{Response, http::StatusCode};
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};

use crate::error::Error;

/// The HTTP status of a service error.
pub fn status(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) | Error::DeliveryFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The problem document of a service error.
pub fn problem(e: &Error) -> Problem {
    let retry_after_ms = match e {
        Error::RateLimited { retry_after_ms } => Some(*retry_after_ms),
        _ => None,
    };
    Problem::new(status(e), e.code(), e.to_string(), retry_after_ms)
}

/// RFC 9457 problem details, with Nexus' stable `code`.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` or a `urn:nexus:problem:` name).
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human summary of the status.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human explanation of this occurrence (at most 200 characters and an ellipsis).
    pub detail: String,
    /// Stable machine-readable code (`validation_failed`, `invalid_credentials`, …).
    pub code: String,
    /// For `rate_limited`: milliseconds until a retry may succeed.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// The longest `detail`, in characters: a detail that quotes the request (an unknown field's
/// name, a value) is cut there, so an error never echoes a large input back.
pub const MAX_DETAIL_CHARS: usize = 200;

fn cut(mut detail: String) -> String {
    if let Some((at, _)) = detail.char_indices().nth(MAX_DETAIL_CHARS) {
        detail.truncate(at);
        detail.push('…');
    }
    detail
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: String, retry_after_ms: Option<u64>) -> Self {
        let detail = cut(detail);
        Problem {
            kind: format!("urn:nexus:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            code: code.to_string(),
            retry_after_ms,
        }
    }

    pub fn into_response(self) -> poem::Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = poem::Response::builder()
            .status(status)
            .content_type("application/problem+json")
            .body(serde_json::to_vec(&self).unwrap_or_default());
        if let Some(ms) = self.retry_after_ms {
            let secs = ms.div_ceil(1000).max(1);
            resp.headers_mut().insert("retry-after", secs.into());
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is not read: the connection cannot carry another
            // request, and a client must not take it from its pool for the next one.
            resp.headers_mut().insert("connection", poem::http::HeaderValue::from_static("close"));
        }
        resp
    }
}

impl poem::error::ResponseError for Error {
    fn status(&self) -> StatusCode {
        status(self)
    }

    fn as_response(&self) -> poem::Response {
        if let Error::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        problem(self).into_response()
    }
}

/// Every operation documents the problem response once, as the `default` response.
impl ApiResponse for Error {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "A problem (RFC 9457) with a stable `code`",
                status: None,
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/problem+json",
                    schema: Problem::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

pub async fn to_problem(err: poem::Error) -> Response {
    if err.is::<Error>() {
        return err.into_response();
    }
    let status = err.status();
    let code = match status {
        StatusCode::BAD_REQUEST => "invalid_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let detail = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled server error");
        "internal error".to_string()
    } else if status == StatusCode::UNAUTHORIZED && err.to_string().is_empty() {
        "authentication required".to_string()
    } else {
        err.to_string()
    };
    Problem::new(status, code, detail, None).into_response()
}

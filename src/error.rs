//! One error type at the service boundary, [`Error`], with a stable machine-readable
//! [`Error::code`]. HTTP maps it to RFC 9457 problem JSON (here); the WebSocket gateway maps
//! the same codes to `error` events.

use poem::http::StatusCode;
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};

/// A service error. Unexpected causes are wrapped in `Internal` and logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{detail}")]
    Invalid { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("too many requests; retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// An accepted message could not be stored after repeated attempts.
    #[error("{0}")]
    DeliveryFailed(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn validation(detail: impl Into<String>) -> Self {
        Error::Invalid { code: "validation_failed", detail: detail.into() }
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        Error::Invalid { code, detail: detail.into() }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Error::Unauthorized { code: "unauthorized", detail: detail.into() }
    }

    /// The same error with a more specific stable code (for kinds that carry one).
    pub fn with_code(self, new: &'static str) -> Self {
        match self {
            Error::Invalid { detail, .. } => Error::Invalid { code: new, detail },
            Error::Unauthorized { detail, .. } => Error::Unauthorized { code: new, detail },
            Error::Conflict { detail, .. } => Error::Conflict { code: new, detail },
            other => other,
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }

    /// A copy for a second recipient (an internal cause is kept as text).
    pub fn duplicate(&self) -> Error {
        match self {
            Error::Invalid { code, detail } => Error::Invalid { code, detail: detail.clone() },
            Error::Unauthorized { code, detail } => Error::Unauthorized { code, detail: detail.clone() },
            Error::Forbidden(s) => Error::Forbidden(s.clone()),
            Error::NotFound(s) => Error::NotFound(s.clone()),
            Error::Conflict { code, detail } => Error::Conflict { code, detail: detail.clone() },
            Error::RateLimited { retry_after_ms } => Error::RateLimited { retry_after_ms: *retry_after_ms },
            Error::Unavailable(s) => Error::Unavailable(s.clone()),
            Error::DeliveryFailed(s) => Error::DeliveryFailed(s.clone()),
            Error::Internal(e) => Error::Internal(anyhow::anyhow!("{e:#}")),
        }
    }

    /// The stable code clients switch on. Listed in `docs/protocol.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. } | Error::Conflict { code, .. } | Error::Unauthorized { code, .. } => code,
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::DeliveryFailed(_) => "delivery_failed",
            Error::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) | Error::DeliveryFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        let retry_after_ms = match self {
            Error::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        };
        Problem::new(self.status(), self.code(), detail, retry_after_ms)
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Internal(anyhow::Error::new(e).context("store"))
    }
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
    /// Human explanation of this occurrence.
    pub detail: String,
    /// Stable machine-readable code (`validation_failed`, `invalid_credentials`, …).
    pub code: String,
    /// For `rate_limited`: milliseconds until a retry may succeed.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: String, retry_after_ms: Option<u64>) -> Self {
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
        resp
    }
}

impl poem::error::ResponseError for Error {
    fn status(&self) -> StatusCode {
        Error::status(self)
    }

    fn as_response(&self) -> poem::Response {
        if let Error::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        self.problem().into_response()
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

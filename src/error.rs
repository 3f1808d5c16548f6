//! One error type at the service boundary, [`Error`], with a stable machine-readable
//! [`Error::code`]. It knows nothing of the Faces: the REST API maps it to RFC 9457
//! problem JSON (`http::problem`), the WebSocket gateway to `error` events
//! (`protocol::ServerEvent::from_error`).
//!
//! Failures of the parts below the services map in one way each: a store failure is
//! `Internal` (logged, shown as "internal error"); a bus failure is `Unavailable` (logged,
//! 503 / `unavailable`: the bus is a live dependency, and a retry may succeed once it is
//! back).

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
    /// The request is larger than allowed (a file past the upload limit, a quota).
    #[error("{detail}")]
    TooLarge { code: &'static str, detail: String },
    /// What was sent is of a type that is not accepted.
    #[error("{detail}")]
    Unsupported { code: &'static str, detail: String },
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
            Error::TooLarge { detail, .. } => Error::TooLarge { code: new, detail },
            Error::Unsupported { detail, .. } => Error::Unsupported { code: new, detail },
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
            Error::TooLarge { code, detail } => Error::TooLarge { code, detail: detail.clone() },
            Error::Unsupported { code, detail } => Error::Unsupported { code, detail: detail.clone() },
            Error::RateLimited { retry_after_ms } => Error::RateLimited { retry_after_ms: *retry_after_ms },
            Error::Unavailable(s) => Error::Unavailable(s.clone()),
            Error::DeliveryFailed(s) => Error::DeliveryFailed(s.clone()),
            Error::Internal(e) => Error::Internal(anyhow::anyhow!("{e:#}")),
        }
    }

    /// The stable code clients switch on. Listed in `docs/protocol.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { code, .. }
            | Error::Conflict { code, .. }
            | Error::Unauthorized { code, .. }
            | Error::TooLarge { code, .. }
            | Error::Unsupported { code, .. } => code,
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::DeliveryFailed(_) => "delivery_failed",
            Error::Internal(_) => "internal",
        }
    }
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Internal(anyhow::Error::new(e).context("store"))
    }
}

impl From<crate::bus::BusError> for Error {
    fn from(e: crate::bus::BusError) -> Self {
        tracing::warn!(error = %e, "bus unavailable");
        Error::Unavailable("the bus (queue, locks, presence) is unreachable; retry later".into())
    }
}

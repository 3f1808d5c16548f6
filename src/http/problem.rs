//! Turns every error that reaches the top of the router into problem JSON.

use poem::{Response, http::StatusCode};

use crate::error::{Error, Problem};

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

//! The one error type of the HTTP layer.
//!
//! Client errors carry a message meant for the person or script that sent the
//! request; server errors are logged with their whole cause chain and answered
//! with an opaque body, so nothing internal leaks.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// One problem in a request body, located as precisely as we can: a JSON
/// pointer, an index in a batch or a line of a text body.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn at_pointer(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            pointer: Some(pointer.into()),
            index: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        message: String,
        problems: Vec<Problem>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    Unprocessable {
        message: String,
        problems: Vec<Problem>,
    },
    /// A limit was reached (ingest rate, login attempts); `retry_after` says
    /// when trying again can succeed.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    /// A service we depend on is unreachable; the request may succeed later.
    #[error("{what} is unavailable")]
    Unavailable {
        what: &'static str,
        #[source]
        source: anyhow::Error,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn unprocessable(problems: Vec<Problem>) -> Self {
        let message = match problems.as_slice() {
            [one] => one.message.clone(),
            many => format!("{} problems in the request", many.len()),
        };
        ApiError::Unprocessable { message, problems }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body: Value = match &self {
            ApiError::BadRequest { message, problems }
            | ApiError::Unprocessable { message, problems } => {
                if problems.is_empty() {
                    json!({ "error": message })
                } else {
                    json!({ "error": message, "problems": problems })
                }
            }
            ApiError::TooManyRequests {
                message,
                retry_after,
            } => json!({ "error": message, "retry_after": retry_secs(*retry_after) }),
            ApiError::Unavailable { what, source } => {
                tracing::warn!(error = format!("{source:#}"), "{what} unavailable");
                json!({ "error": format!("{what} is unavailable, try again later") })
            }
            ApiError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                json!({ "error": "internal error" })
            }
            other => json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_secs(*retry_after)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tellify\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Whole seconds to wait, rounded up, at least 1 (`Retry-After: 0` would
/// invite an immediate retry that fails again).
pub fn retry_secs(d: std::time::Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// MongoDB errors: unreachable servers are 503, the rest 500.
impl From<mongodb::error::Error> for ApiError {
    fn from(e: mongodb::error::Error) -> Self {
        use mongodb::error::ErrorKind;
        match *e.kind {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. } => ApiError::Unavailable {
                what: "MongoDB",
                source: e.into(),
            },
            _ => ApiError::Internal(e.into()),
        }
    }
}

/// Redis errors: connection trouble is 503, the rest 500.
impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout()
        {
            ApiError::Unavailable {
                what: "Redis",
                source: e.into(),
            }
        } else {
            ApiError::Internal(e.into())
        }
    }
}

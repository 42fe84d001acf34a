//! The API's error: an HTTP status and a machine-readable reason.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::rejection::Rejection;

/// A refused request.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Machine-readable reason.
    pub reason: &'static str,
    /// What a person needs to know.
    pub message: String,
}

impl ApiError {
    /// An error of the given status and reason.
    pub fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
        }
    }

    /// 400 `malformed`.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 `unavailable`: the node can't serve this now (database down, shutting down).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> Self {
        Self::new(
            rejection.status(),
            rejection.reason(),
            rejection.to_string(),
        )
    }
}

impl From<crate::Error> for ApiError {
    fn from(error: crate::Error) -> Self {
        tracing::warn!(target: "sequencer::api", %error, "request failed");
        Self::unavailable(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "reason": self.reason, "message": self.message })),
        )
            .into_response()
    }
}

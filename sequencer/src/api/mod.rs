//! The HTTP API (axum, JSON, hex fields): the only way in for users.
//!
//! | route | what |
//! | --- | --- |
//! | `POST /v1/transfers` | one signed transfer, or an array of them |
//! | `GET /v1/transfers/{hash}` | a transfer's (or withdrawal's) status |
//! | `POST /v1/withdrawals` | one signed withdrawal to L1, or an array of them |
//! | `GET /v1/withdrawals/{hash}` | a withdrawal's status |
//! | `GET /v1/accounts/{address}` | balance and nonce, executed and pending |
//! | `GET /v1/batches/{n}`, `GET /v1/batches/latest` | a sealed batch |
//! | `GET /health`, `GET /metrics` | readiness, Prometheus metrics |
//!
//! Every refusal is a 4xx with a body `{"reason": "...", "message": "..."}`.

mod error;
mod handlers;

use std::sync::Arc;

use axum::{extract::DefaultBodyLimit, routing::get, Router};

pub use error::ApiError;

use crate::node::Node;

/// The API's routes, built apart from any socket so tests can drive it in process.
pub fn router(node: Arc<Node>, max_body_bytes: usize) -> Router {
    Router::new()
        .route(
            "/v1/transfers",
            axum::routing::post(handlers::submit_transfers),
        )
        .route("/v1/transfers/{hash}", get(handlers::transfer_status))
        .route(
            "/v1/withdrawals",
            axum::routing::post(handlers::submit_withdrawals),
        )
        .route("/v1/withdrawals/{hash}", get(handlers::transfer_status))
        .route("/v1/accounts/{address}", get(handlers::account))
        .route("/v1/batches/latest", get(handlers::latest_batch))
        .route("/v1/batches/{number}", get(handlers::batch))
        .route("/health", get(handlers::health))
        .route("/metrics", get(handlers::metrics))
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(node)
}

#[cfg(test)]
mod tests;

//! The HTTP API (axum): the only way in for users.

use axum::{extract::State, http::StatusCode, routing::get, Json, Router};
use serde_json::{json, Value};
use sqlx::PgPool;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The node's database.
    pub db: PgPool,
}

/// The API's routes, built apart from any socket so tests can drive it in process.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(state)
}

/// Liveness and readiness: 200 when the database answers, 503 (with the reason) when not,
/// so a load balancer stops routing to a node that could not store a batch.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.db)
        .await
    {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok" })),
        ),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": error.to_string() })),
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn get_health(db: PgPool) -> (StatusCode, Value) {
        let request = axum::http::Request::get("/health")
            .body(Body::empty())
            .unwrap();
        let response = router(AppState { db }).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
    async fn health_is_ok_while_the_database_answers(db: PgPool) {
        let (status, body) = get_health(db).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["database"], "ok");
    }

    #[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
    async fn health_is_unavailable_once_the_database_is_gone(db: PgPool) {
        db.close().await;
        let (status, body) = get_health(db).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "unavailable");
    }
}

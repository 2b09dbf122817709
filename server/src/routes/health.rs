//! Liveness and readiness probes.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process is up and serving HTTP.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Redis and MongoDB answer: 200, or 503 naming what does not.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let limit = Duration::from_secs(3);
    let (redis, mongo) = tokio::join!(
        tokio::time::timeout(limit, state.broker.ping()),
        tokio::time::timeout(limit, state.store.ping()),
    );
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    let redis_ok = matches!(redis, Ok(Ok(())));
    let mongo_ok = matches!(mongo, Ok(Ok(())));
    let status = if redis_ok && mongo_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"redis": word(redis_ok), "mongodb": word(mongo_ok)})),
    )
}

//! A user's alerts: list with filters, one with its history, clear.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use redis::AsyncCommands;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::alerts::view;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::AlertQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/clear", post(clear_many))
        .route("/api/v1/alerts/{id}", get(one))
        .route("/api/v1/alerts/{id}/clear", post(clear_one))
}

const STATUSES: [&str; 3] = ["firing", "resolved", "cleared"];
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status must be one of {}",
            STATUSES.join(", ")
        )));
    }
    if let Some(s) = &q.severity
        && !SEVERITIES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "severity must be one of {}",
            SEVERITIES.join(", ")
        )));
    }
    let alerts = state.store.list_alerts(&caller.user, &q).await?;
    Ok(JsonOut(Value::Array(
        alerts.iter().map(|a| view(a, false)).collect(),
    )))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let a = state
        .store
        .alert(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(view(&a, true)))
}

async fn clear_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let a = state
        .store
        .alert(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let cleared = state
        .store
        .clear_alerts(&caller.user, None, Some(&a.id))
        .await?;
    publish_cleared(&state, &caller.user, &cleared).await;
    let a = state
        .store
        .alert(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(view(&a, true)))
}

#[derive(Debug, Deserialize)]
struct ClearQuery {
    handler: Option<String>,
}

/// Clear all of the caller's alerts, or those of one handler instance.
async fn clear_many(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ClearQuery>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    if let Some(h) = &q.handler
        && state.store.handler(&caller.user, h).await?.is_none()
    {
        return Err(ApiError::NotFound);
    }
    let cleared = state
        .store
        .clear_alerts(&caller.user, q.handler.as_deref(), None)
        .await?;
    publish_cleared(&state, &caller.user, &cleared).await;
    Ok(JsonOut(json!({"cleared": cleared.len()})))
}

async fn publish_cleared(state: &AppState, user: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let message = json!({"type": "cleared", "ids": ids}).to_string();
    let r: redis::RedisResult<()> = state
        .broker
        .conn()
        .publish(state.broker.live_channel(user), message)
        .await;
    if let Err(e) = r {
        tracing::debug!(error = %e, "live update not published");
    }
}

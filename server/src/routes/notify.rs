//! Channels, policies, the digest flush and the notification history: how
//! and when a user hears of their alerts. All owner-scoped (404 otherwise).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aggregate::policy::{Channel, Policy, parse_channel, parse_policy, policy_json};
use crate::aggregate::queue;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::store::{new_id, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/channels", get(list_channels).post(create_channel))
        .route(
            "/api/v1/channels/{id}",
            get(one_channel).put(replace_channel).delete(delete_channel),
        )
        .route("/api/v1/policies", get(list_policies).post(create_policy))
        .route(
            "/api/v1/policies/{id}",
            get(one_policy).put(replace_policy).delete(delete_policy),
        )
        .route("/api/v1/digest/flush", post(flush))
        .route("/api/v1/notifications", get(notifications))
}

fn channel_json(c: &Channel) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(id) = m.remove("_id") {
            m.insert("id".into(), id);
        }
        m.remove("owner");
    }
    v
}

async fn list_channels(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let list = state.store.list_channels(&caller.user).await?;
    Ok(JsonOut(Value::Array(
        list.iter().map(channel_json).collect(),
    )))
}

async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, JsonOut<Value>)> {
    caller.require(Scope::Api)?;
    let (label, kind) = parse_channel(&body).map_err(ApiError::unprocessable)?;
    let c = Channel {
        id: new_id(),
        owner: caller.user.clone(),
        label,
        kind,
    };
    state.store.insert_channel(&c).await?;
    Ok((StatusCode::CREATED, JsonOut(channel_json(&c))))
}

async fn one_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let c = state
        .store
        .channel(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(channel_json(&c)))
}

async fn replace_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    state
        .store
        .channel(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (label, kind) = parse_channel(&body).map_err(ApiError::unprocessable)?;
    let c = Channel {
        id,
        owner: caller.user.clone(),
        label,
        kind,
    };
    if !state.store.replace_channel(&c).await? {
        return Err(ApiError::NotFound);
    }
    Ok(JsonOut(channel_json(&c)))
}

/// A channel a policy still names cannot go.
async fn delete_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Api)?;
    state
        .store
        .channel(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let users: Vec<String> = state
        .store
        .list_policies(&caller.user)
        .await?
        .into_iter()
        .filter(|p| p.rules.iter().any(|r| r.channels.contains(&id)))
        .map(|p| p.name)
        .collect();
    if !users.is_empty() {
        return Err(ApiError::Conflict(format!(
            "the channel is used by the policies {}; change them first",
            users.join(", ")
        )));
    }
    state.store.delete_channel(&caller.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn owned_channel_ids(state: &AppState, user: &str) -> ApiResult<Vec<String>> {
    Ok(state
        .store
        .list_channels(user)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

async fn list_policies(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let list = state.store.list_policies(&caller.user).await?;
    Ok(JsonOut(Value::Array(
        list.iter().map(policy_json).collect(),
    )))
}

async fn save_policy(
    state: &AppState,
    caller: &Caller,
    id: String,
    body: &Value,
    create: bool,
) -> ApiResult<Policy> {
    let channels = owned_channel_ids(state, &caller.user).await?;
    let (name, default, rules) = parse_policy(body, &channels).map_err(ApiError::unprocessable)?;
    let p = Policy {
        id,
        owner: caller.user.clone(),
        name,
        default,
        rules,
    };
    if create {
        state.store.insert_policy(&p).await?;
    } else if !state.store.replace_policy(&p).await? {
        return Err(ApiError::NotFound);
    }
    if p.default {
        state.store.set_default_policy(&caller.user, &p.id).await?;
    }
    Ok(p)
}

async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, JsonOut<Value>)> {
    caller.require(Scope::Api)?;
    let p = save_policy(&state, &caller, new_id(), &body, true).await?;
    Ok((StatusCode::CREATED, JsonOut(policy_json(&p))))
}

async fn one_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let p = state
        .store
        .policy(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(policy_json(&p)))
}

async fn replace_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    state
        .store
        .policy(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let p = save_policy(&state, &caller, id, &body, false).await?;
    Ok(JsonOut(policy_json(&p)))
}

async fn delete_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Api)?;
    if !state.store.delete_policy(&caller.user, &id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Send the caller's pending digests now.
async fn flush(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let now = state.clock.now();
    let sent = queue::flush(&state, &caller.user, now)
        .await
        .map_err(ApiError::Internal)?;
    Ok(JsonOut(json!({"sent": sent.sent, "failed": sent.failed})))
}

#[derive(Debug, Deserialize)]
struct NotificationsQuery {
    limit: Option<i64>,
}

/// What was sent (and what failed), newest first, with the rendered bodies.
async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NotificationsQuery>,
) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let list = state
        .store
        .list_notifications(&caller.user, q.limit.unwrap_or(100))
        .await?;
    let out: Vec<Value> = list
        .iter()
        .map(|n| {
            json!({
                "id": n.id, "digest_id": n.digest_id, "channel_id": n.channel_id, "channel_label": n.channel_label,
                "channel_kind": n.channel_kind, "to": n.to, "attempt": n.attempt, "status": n.status, "error": n.error,
                "subject": n.rendered.subject, "text": n.rendered.text, "html": n.rendered.html, "sms": n.rendered.sms,
                "alert_ids": n.alert_ids, "created_at": rfc3339(n.created_at),
            })
        })
        .collect();
    Ok(JsonOut(Value::Array(out)))
}

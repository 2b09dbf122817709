//! Handler instances: a user's own, created and edited with parameters
//! checked against the type's JSON Schema and the type's own checks.
//! Another user's instance answers 404.
//!
//! `POST /api/v1/handlers/try` runs parameters that are not saved over the
//! newest events (see [`crate::trial`]): the same checks as creating an
//! instance, nothing stored.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tellify_handlers::handler_types;

use crate::auth::{Caller, Scope};
use crate::catalog;
use crate::error::{ApiError, ApiResult, Problem};
use crate::events::recent;
use crate::extract::Json;
use crate::state::AppState;
use crate::store::{HandlerDoc, new_id, rfc3339};
use crate::trial::{self, Trial};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/handler-types", get(types))
        .route("/api/v1/handlers", get(list).post(create))
        .route("/api/v1/handlers/try", post(try_params))
        .route(
            "/api/v1/handlers/{id}",
            get(one).put(replace).delete(remove),
        )
}

/// The handler types with their parameter schemas (the browser builds its
/// forms from these).
async fn types(caller: Caller) -> ApiResult<JsonOut<Value>> {
    caller.require(Scope::Api)?;
    let list: Vec<Value> = handler_types()
        .iter()
        .map(|t| json!({"name": t.name(), "description": t.description(), "schema": t.parameters_schema()}))
        .collect();
    Ok(JsonOut(Value::Array(list)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandlerBody {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    params: Value,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize)]
pub struct HandlerView {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    /// One line saying what this instance does.
    title: String,
    policy: Option<String>,
    enabled: bool,
    params: Value,
    created_at: String,
    updated_at: String,
}

impl HandlerView {
    pub fn of(h: &HandlerDoc) -> Self {
        let title = catalog::compile_stored(&h.kind, &h.params)
            .map(|c| c.title())
            .unwrap_or_else(|| format!("{} (invalid parameters)", h.kind));
        HandlerView {
            id: h.id.clone(),
            kind: h.kind.clone(),
            name: h.name.clone(),
            title,
            policy: h.policy.clone(),
            enabled: h.enabled,
            params: h.params.clone(),
            created_at: rfc3339(h.created_at),
            updated_at: rfc3339(h.updated_at),
        }
    }
}

/// Every problem of a body, each with its pointer; nothing is stored when
/// there is one. The policy, when named, must be one of the owner's.
async fn check(state: &AppState, owner: &str, body: &HandlerBody) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.push(Problem::at_pointer(
            "/name",
            "a name of 1 to 200 characters is needed",
        ));
    }
    if let Err(mut p) = catalog::compile(&body.kind, &body.params) {
        problems.append(&mut p);
    }
    if let Some(policy) = &body.policy
        && state.store.policy(owner, policy).await?.is_none()
    {
        problems.push(Problem::at_pointer(
            "/policy",
            format!("no policy with id '{policy}' (null uses your default policy)"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable(problems))
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<HandlerBody>,
) -> ApiResult<(StatusCode, JsonOut<HandlerView>)> {
    caller.require(Scope::Api)?;
    check(&state, &caller.user, &body).await?;
    let now = DateTime::now();
    let doc = HandlerDoc {
        id: new_id(),
        owner: caller.user.clone(),
        kind: body.kind,
        name: body.name.trim().to_owned(),
        policy: body.policy,
        enabled: body.enabled,
        params: body.params,
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_handler(&doc).await?;
    state.broker.signal_config_changed(&doc.id).await;
    Ok((StatusCode::CREATED, JsonOut(HandlerView::of(&doc))))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<JsonOut<Vec<HandlerView>>> {
    caller.require(Scope::Api)?;
    let list = state.store.list_handlers(&caller.user).await?;
    Ok(JsonOut(list.iter().map(HandlerView::of).collect()))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<HandlerView>> {
    caller.require(Scope::Api)?;
    let h = state
        .store
        .handler(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(HandlerView::of(&h)))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<HandlerBody>,
) -> ApiResult<JsonOut<HandlerView>> {
    caller.require(Scope::Api)?;
    let old = state
        .store
        .handler(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    check(&state, &caller.user, &body).await?;
    let changed = old.kind != body.kind || old.params != body.params;
    let doc = HandlerDoc {
        kind: body.kind,
        name: body.name.trim().to_owned(),
        policy: body.policy,
        enabled: body.enabled,
        params: body.params,
        revision: old.revision + i64::from(changed),
        updated_at: DateTime::now(),
        ..old
    };
    if !state.store.replace_handler(&doc).await? {
        return Err(ApiError::NotFound);
    }
    state.broker.signal_config_changed(&doc.id).await;
    Ok(JsonOut(HandlerView::of(&doc)))
}

/// Delete an instance and its dispatcher state.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Api)?;
    if !state.store.delete_handler(&caller.user, &id).await? {
        return Err(ApiError::NotFound);
    }
    state
        .broker
        .forget_handler_state(&id, state.config.partitions)
        .await?;
    state.broker.signal_config_changed(&id).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TryBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    params: Value,
    /// How many of the newest events to run over; checked by hand so that
    /// a bad one is a problem at `/limit` like every other.
    #[serde(default)]
    limit: Option<Value>,
}

/// Events tried when the body names no limit, and the most it may name.
const TRY_DEFAULT: u64 = 200;
const TRY_MAX: u64 = 1000;

#[derive(Debug, Serialize)]
struct TryAnswer {
    /// One line saying what the parameters do.
    title: String,
    #[serde(flatten)]
    trial: Trial,
}

/// Run unsaved parameters over the newest events, oldest first, from a
/// fresh state: which events would fire or resolve what, and why.
async fn try_params(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<TryBody>,
) -> ApiResult<JsonOut<TryAnswer>> {
    caller.require(Scope::Api)?;
    let mut problems = Vec::new();
    let limit = match &body.limit {
        None | Some(Value::Null) => TRY_DEFAULT,
        Some(v) => match v.as_u64().filter(|n| (1..=TRY_MAX).contains(n)) {
            Some(n) => n,
            None => {
                problems.push(Problem::at_pointer(
                    "/limit",
                    format!("how many events to try: a whole number from 1 to {TRY_MAX}, not {v}"),
                ));
                TRY_DEFAULT
            }
        },
    };
    let handler = match catalog::compile(&body.kind, &body.params) {
        Ok(h) => Some(h),
        Err(mut p) => {
            problems.append(&mut p);
            None
        }
    };
    let Some(handler) = handler.filter(|_| problems.is_empty()) else {
        return Err(ApiError::unprocessable(problems));
    };
    let window = recent::Window {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
        ..Default::default()
    };
    let mut events = recent::read(&state.broker, None, window).await?.events;
    events.reverse();
    let now = state.clock.now_millis();
    Ok(JsonOut(TryAnswer {
        title: handler.title(),
        trial: trial::run(handler.as_ref(), events, now),
    }))
}

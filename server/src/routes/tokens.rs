//! A user's API tokens: create (the secret is shown once), list, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json as JsonOut, Router};
use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Scope, secrets};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::state::AppState;
use crate::store::{Token, new_id, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", get(list).post(create))
        .route("/api/v1/tokens/{id}", delete(revoke))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTokenBody {
    label: String,
    scopes: Vec<Scope>,
}

#[derive(Debug, Serialize)]
struct TokenView {
    id: String,
    label: String,
    scopes: Vec<Scope>,
    created_at: String,
    /// Only in the answer to the creation, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl TokenView {
    fn of(t: &Token, secret: Option<String>) -> Self {
        TokenView {
            id: t.id.clone(),
            label: t.label.clone(),
            scopes: t.scopes.clone(),
            created_at: rfc3339(t.created_at),
            token: secret,
        }
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewTokenBody>,
) -> ApiResult<(StatusCode, JsonOut<TokenView>)> {
    caller.require(Scope::Api)?;
    let mut problems = Vec::new();
    let label = body.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > 100 {
        problems.push(Problem::at_pointer(
            "/label",
            "a label of 1 to 100 characters is needed",
        ));
    }
    let mut scopes = body.scopes.clone();
    scopes.sort_by_key(|s| *s as u8);
    scopes.dedup();
    if scopes.is_empty() {
        problems.push(Problem::at_pointer(
            "/scopes",
            "at least one scope: ingest, api or admin",
        ));
    }
    for s in &scopes {
        if !caller.scopes.contains(s) {
            problems.push(Problem::at_pointer(
                "/scopes",
                format!(
                    "you cannot grant the '{}' scope, which you do not have",
                    s.as_str()
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    let new = issue_token(&state, &caller.user, &label, scopes, None).await?;
    Ok((
        StatusCode::CREATED,
        JsonOut(TokenView::of(&new.token, Some(new.secret))),
    ))
}

/// Create and store a token for `owner`; `secret` when the operator chose it.
pub async fn issue_token(
    state: &AppState,
    owner: &str,
    label: &str,
    scopes: Vec<Scope>,
    secret: Option<String>,
) -> ApiResult<crate::store::NewToken> {
    let secret = secret.unwrap_or_else(|| secrets::new_secret("tfy_"));
    let token = Token {
        id: new_id(),
        owner: owner.to_owned(),
        label: label.to_owned(),
        scopes,
        hash: secrets::hash(&secret),
        created_at: DateTime::now(),
    };
    state.store.insert_token(&token).await?;
    Ok(crate::store::NewToken { token, secret })
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<Vec<TokenView>>> {
    caller.require(Scope::Api)?;
    let tokens = state.store.list_tokens(&caller.user).await?;
    Ok(JsonOut(
        tokens.iter().map(|t| TokenView::of(t, None)).collect(),
    ))
}

/// Revoke one of the caller's tokens; another user's token is 404.
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Scope::Api)?;
    let token = state
        .store
        .delete_token(&caller.user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.tokens.forget(&token.hash);
    Ok(StatusCode::NO_CONTENT)
}

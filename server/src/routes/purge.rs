//! `DELETE /api/v1/admin/users/{name}`: an administrator removes everything
//! of a user who left (see [`crate::purge`] for what goes and in what order).
//!
//! Answers `200 {"user": name, "removed": {"handlers": n, …}}`. A second call
//! for the same name answers 404, like every other DELETE of something that
//! is not there: the state the call asks for is reached either way (the
//! request is idempotent), and the 404 tells an operator who mistyped a name
//! that nothing was removed, where a 200 with zeros would look like success.
//! An administrator cannot purge themselves (409): that would lock out the
//! one person acting, and perhaps the last administrator.

use axum::extract::{Path, State};
use axum::routing::delete;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::{Caller, Scope};
use crate::error::{ApiError, ApiResult};
use crate::purge::purge_user;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/users/{name}", delete(purge))
}

async fn purge(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Scope::Admin)?;
    if name == caller.user {
        return Err(ApiError::Conflict(
            "you cannot delete yourself; ask another administrator".into(),
        ));
    }
    if state.store.user(&name).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let removed = purge_user(&state, &name, &caller.user).await?;
    Ok(Json(json!({"user": name, "removed": removed})))
}

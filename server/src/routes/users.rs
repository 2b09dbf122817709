//! Users: the admin creates and lists them; each user reads and edits their
//! own profile at `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Scope, secrets};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::state::AppState;
use crate::store::{User, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(list).post(create))
        .route("/api/v1/me", get(me).put(update_me))
}

#[derive(Debug, Serialize)]
pub struct UserView {
    name: String,
    email: String,
    timezone: String,
    admin: bool,
    created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            name: u.name.clone(),
            email: u.email.clone(),
            timezone: u.timezone.clone(),
            admin: u.admin,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    password: String,
    email: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default)]
    admin: bool,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// Checks of a user's fields, each problem with its pointer.
pub(crate) fn check_name(name: &str, problems: &mut Vec<Problem>) {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if !ok {
        problems.push(Problem::at_pointer(
            "/name",
            "1 to 64 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or digit",
        ));
    }
}

pub(crate) fn check_password(password: &str, problems: &mut Vec<Problem>) {
    if password.chars().count() < 8 || password.len() > 1024 {
        problems.push(Problem::at_pointer(
            "/password",
            "a password needs 8 to 1024 characters",
        ));
    }
}

pub(crate) fn check_email(email: &str, problems: &mut Vec<Problem>) {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !email.contains(char::is_whitespace)
        });
    if !ok {
        problems.push(Problem::at_pointer("/email", "not an email address"));
    }
}

/// An IANA timezone name that this build knows, e.g. `Europe/Paris`.
pub fn check_timezone(tz: &str, pointer: &str, problems: &mut Vec<Problem>) {
    if jiff::tz::TimeZone::get(tz).is_err() {
        problems.push(Problem::at_pointer(
            pointer,
            format!("'{tz}' is not an IANA timezone such as Europe/Paris or America/New_York"),
        ));
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewUser>,
) -> ApiResult<(StatusCode, JsonOut<UserView>)> {
    caller.require(Scope::Admin)?;
    let mut problems = Vec::new();
    check_name(&body.name, &mut problems);
    check_password(&body.password, &mut problems);
    check_email(&body.email, &mut problems);
    check_timezone(&body.timezone, "/timezone", &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    let password_hash = secrets::hash_password_off(body.password.clone()).await?;
    let user = User {
        name: body.name,
        email: body.email,
        timezone: body.timezone,
        admin: body.admin,
        password_hash,
        created_at: DateTime::now(),
    };
    if !state.store.insert_user(&user).await? {
        return Err(ApiError::Conflict(format!(
            "a user named '{}' exists already",
            user.name
        )));
    }
    tracing::info!(user = %user.name, by = %caller.user, "user created");
    Ok((StatusCode::CREATED, JsonOut(UserView::from(&user))))
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<Vec<UserView>>> {
    caller.require(Scope::Admin)?;
    let users = state.store.list_users().await?;
    Ok(JsonOut(users.iter().map(UserView::from).collect()))
}

async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<JsonOut<UserView>> {
    caller.require(Scope::Api)?;
    let user = state
        .store
        .user(&caller.user)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(UserView::from(&user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileUpdate {
    email: Option<String>,
    timezone: Option<String>,
    password: Option<String>,
}

async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProfileUpdate>,
) -> ApiResult<JsonOut<UserView>> {
    caller.require(Scope::Api)?;
    let mut problems = Vec::new();
    if let Some(e) = &body.email {
        check_email(e, &mut problems);
    }
    if let Some(tz) = &body.timezone {
        check_timezone(tz, "/timezone", &mut problems);
    }
    if let Some(p) = &body.password {
        check_password(p, &mut problems);
    }
    if !problems.is_empty() {
        return Err(ApiError::unprocessable(problems));
    }
    let password_hash = match body.password {
        Some(p) => Some(secrets::hash_password_off(p).await?),
        None => None,
    };
    let user = state
        .store
        .update_user(&caller.user, body.email, body.timezone, password_hash)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(JsonOut(UserView::from(&user)))
}

//! `/settings`: profile, timezone, password, API tokens.
//! Plain forms, each checking the session's CSRF token; a form with problems
//! is shown again with each problem by its field.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Layout, Page, PageResult, Viewer};
use crate::auth::{Scope, secrets};
use crate::error::{ApiError, Problem};
use crate::routes::users::{check_email, check_password, check_timezone};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(settings))
        .route("/settings/profile", post(update_profile))
        .route("/settings/tokens", post(create_token))
        .route("/settings/tokens/{id}/revoke", post(revoke_token))
}

/// Problems of a submitted form, shown by their field.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The messages about the field at `pointer`, joined.
    pub fn at(&self, pointer: &str) -> String {
        self.0
            .iter()
            .filter(|p| p.pointer.as_deref() == Some(pointer))
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub scopes: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "pages/settings.html")]
struct SettingsPage {
    l: Layout,
    email: String,
    timezone: String,
    zones: Vec<String>,
    tokens: Vec<TokenRow>,
    /// A token just created: its secret, shown this once.
    new_token: String,
    saved: bool,
    problems: Problems,
}

async fn render_settings(
    state: &AppState,
    viewer: &Viewer,
    new_token: String,
    saved: bool,
    problems: Problems,
) -> PageResult {
    let tokens = state.store.list_tokens(&viewer.user.name).await?;
    let mut zones: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    zones.sort();
    Ok(Page(SettingsPage {
        l: viewer.layout("Settings", "settings"),
        email: viewer.user.email.clone(),
        timezone: viewer.user.timezone.clone(),
        zones,
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.clone(),
                label: t.label.clone(),
                scopes: t
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                created: viewer.time(t.created_at),
            })
            .collect(),
        new_token,
        saved,
        problems,
    })
    .into_response())
}

async fn settings(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    render_settings(&state, &viewer, String::new(), false, Problems::default()).await
}

#[derive(Debug, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    timezone: String,
    /// Empty: unchanged.
    #[serde(default)]
    password: String,
}

async fn update_profile(
    State(state): State<AppState>,
    mut viewer: Viewer,
    Form(form): Form<ProfileForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    let email = form.email.trim().to_owned();
    let timezone = form.timezone.trim().to_owned();
    let mut problems = Vec::new();
    check_email(&email, &mut problems);
    check_timezone(&timezone, "/timezone", &mut problems);
    if !form.password.is_empty() {
        check_password(&form.password, &mut problems);
    }
    if !problems.is_empty() {
        return render_settings(&state, &viewer, String::new(), false, Problems(problems)).await;
    }
    let password_hash = match form.password.is_empty() {
        true => None,
        false => Some(secrets::hash_password_off(form.password).await?),
    };
    viewer.user = state
        .store
        .update_user(
            &viewer.user.name,
            Some(email),
            Some(timezone),
            password_hash,
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    render_settings(&state, &viewer, String::new(), true, Problems::default()).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    ingest: Option<String>,
    api: Option<String>,
    admin: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<TokenForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    let label = form.label.trim().to_owned();
    let mut problems = Vec::new();
    if label.is_empty() || label.chars().count() > 100 {
        problems.push(Problem::at_pointer(
            "/label",
            "a label of 1 to 100 characters is needed",
        ));
    }
    let mut scopes = Vec::new();
    for (on, scope) in [
        (&form.ingest, Scope::Ingest),
        (&form.api, Scope::Api),
        (&form.admin, Scope::Admin),
    ] {
        if on.is_some() {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        problems.push(Problem::at_pointer("/scopes", "choose at least one scope"));
    }
    if scopes.contains(&Scope::Admin) && !viewer.user.admin {
        problems.push(Problem::at_pointer(
            "/scopes",
            "only administrators can grant the admin scope",
        ));
    }
    if !problems.is_empty() {
        return render_settings(&state, &viewer, String::new(), false, Problems(problems)).await;
    }
    let new = crate::routes::issue_token(&state, &viewer.user.name, &label, scopes, None).await?;
    render_settings(&state, &viewer, new.secret, false, Problems::default()).await
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

async fn revoke_token(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    let token = state
        .store
        .delete_token(&viewer.user.name, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.tokens.forget(&token.hash);
    Ok(axum::response::Redirect::to("/settings").into_response())
}

//! `/admin/users`: the administrators' list of users, the form that creates
//! one, and the purge of a user who left (DESIGN story 7).
//!
//! The purge asks first, on a page of its own rather than in a script's
//! dialog: `GET /admin/users/{name}/purge` counts, on the server, what would
//! go ("ann and their 12 handler instances, 30 alerts, …") and shows a form
//! that POSTs to the same path. So the confirmation works without
//! JavaScript, names real numbers, and the list of users stays cheap (it
//! counts nothing). The POST runs [`crate::purge::purge_user`], exactly as
//! `DELETE /api/v1/admin/users/{name}` does, and shows the list again with
//! what was removed.
//!
//! Everything here is for administrators only: anyone else gets 403, before
//! any name is looked up, like the list itself. An administrator cannot
//! purge themselves (409, as in the API): that would lock out the one
//! person acting, and perhaps the last administrator.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Form, Router};
use mongodb::bson::DateTime;
use serde::Deserialize;

use super::account::{CsrfForm, Problems};
use super::{Layout, Page, PageResult, Viewer};
use crate::auth::secrets;
use crate::error::{ApiError, Problem};
use crate::purge::{Removed, preview, purge_user};
use crate::routes::users::{check_email, check_name, check_password, check_timezone};
use crate::state::AppState;
use crate::store::User;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{name}/purge", get(confirm_purge).post(purge))
}

pub struct UserRow {
    pub name: String,
    pub email: String,
    pub timezone: String,
    pub admin: bool,
    pub created: String,
    /// The viewer themselves: no delete button.
    pub is_viewer: bool,
}

/// A purge just done: whom, and what went ("12 handler instances and 3
/// alerts"; empty if nothing but the user).
pub struct Purged {
    pub name: String,
    pub removed: String,
}

#[derive(Template)]
#[template(path = "pages/admin_users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<UserRow>,
    created: String,
    purged: Option<Purged>,
    form: NewUserForm,
    problems: Problems,
}

#[derive(Template)]
#[template(path = "pages/admin_purge.html")]
struct PurgePage {
    l: Layout,
    name: String,
    /// What would go besides the user ("12 handler instances and 3
    /// alerts"); empty if nothing.
    what: String,
}

#[derive(Debug, Default, Deserialize)]
struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    timezone: String,
    admin: Option<String>,
}

fn require_admin(viewer: &Viewer) -> PageResult<()> {
    if viewer.user.admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only administrators may see this page".into()).into())
    }
}

/// What the list of users shows besides the users.
#[derive(Default)]
struct Outcome {
    created: String,
    purged: Option<Purged>,
}

async fn render_users(
    state: &AppState,
    viewer: &Viewer,
    outcome: Outcome,
    form: NewUserForm,
    problems: Problems,
) -> PageResult {
    let users = state.store.list_users().await?;
    Ok(Page(UsersPage {
        l: viewer.layout("Users", "admin"),
        users: users
            .iter()
            .map(|u| UserRow {
                name: u.name.clone(),
                email: u.email.clone(),
                timezone: u.timezone.clone(),
                admin: u.admin,
                created: viewer.time(u.created_at),
                is_viewer: u.name == viewer.user.name,
            })
            .collect(),
        created: outcome.created,
        purged: outcome.purged,
        form,
        problems,
    })
    .into_response())
}

fn fresh_form(viewer: &Viewer) -> NewUserForm {
    NewUserForm {
        timezone: viewer.user.timezone.clone(),
        ..NewUserForm::default()
    }
}

async fn users(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    require_admin(&viewer)?;
    let form = fresh_form(&viewer);
    render_users(
        &state,
        &viewer,
        Outcome::default(),
        form,
        Problems::default(),
    )
    .await
}

async fn create_user(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(mut form): Form<NewUserForm>,
) -> PageResult {
    require_admin(&viewer)?;
    viewer.check_csrf(&form.csrf)?;
    form.name = form.name.trim().to_owned();
    form.email = form.email.trim().to_owned();
    form.timezone = form.timezone.trim().to_owned();
    let mut problems = Vec::new();
    check_name(&form.name, &mut problems);
    check_password(&form.password, &mut problems);
    check_email(&form.email, &mut problems);
    check_timezone(&form.timezone, "/timezone", &mut problems);
    if !problems.is_empty() {
        form.password.clear();
        return render_users(
            &state,
            &viewer,
            Outcome::default(),
            form,
            Problems(problems),
        )
        .await;
    }
    let user = User {
        name: form.name.clone(),
        email: form.email.clone(),
        timezone: form.timezone.clone(),
        admin: form.admin.is_some(),
        password_hash: secrets::hash_password_off(std::mem::take(&mut form.password)).await?,
        created_at: DateTime::now(),
    };
    if !state.store.insert_user(&user).await? {
        let taken = Problem::at_pointer("/name", format!("'{}' exists already", user.name));
        let problems = Problems(vec![taken]);
        return render_users(&state, &viewer, Outcome::default(), form, problems).await;
    }
    tracing::info!(user = %user.name, by = %viewer.user.name, "user created");
    let outcome = Outcome {
        created: user.name,
        purged: None,
    };
    render_users(
        &state,
        &viewer,
        outcome,
        fresh_form(&viewer),
        Problems::default(),
    )
    .await
}

/// Whether `viewer` may purge `name`: an administrator, not themselves, and
/// the user exists (checked in that order, so only administrators learn
/// which names exist).
async fn check_purge(state: &AppState, viewer: &Viewer, name: &str) -> PageResult<()> {
    if name == viewer.user.name {
        return Err(ApiError::Conflict(
            "you cannot delete yourself; ask another administrator".into(),
        )
        .into());
    }
    if state.store.user(name).await?.is_none() {
        return Err(ApiError::NotFound.into());
    }
    Ok(())
}

async fn confirm_purge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> PageResult {
    require_admin(&viewer)?;
    check_purge(&state, &viewer, &name).await?;
    let counts = preview(&state, &name).await?;
    Ok(Page(PurgePage {
        l: viewer.layout(&format!("Delete {name}"), "admin"),
        what: and_list(&phrases(&counts)),
        name,
    })
    .into_response())
}

async fn purge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    require_admin(&viewer)?;
    viewer.check_csrf(&form.csrf)?;
    check_purge(&state, &viewer, &name).await?;
    let removed = purge_user(&state, &name, &viewer.user.name).await?;
    let outcome = Outcome {
        created: String::new(),
        purged: Some(Purged {
            name,
            removed: and_list(&phrases(&removed)),
        }),
    };
    render_users(
        &state,
        &viewer,
        outcome,
        fresh_form(&viewer),
        Problems::default(),
    )
    .await
}

/// The counts a user reads, as phrases ("12 handler instances", "1 policy"),
/// leaving out the kinds with none and the user document itself. Digests
/// pending and in flight are one kind to a reader: "not yet sent".
fn phrases(r: &Removed) -> Vec<String> {
    let kinds = [
        (r.handlers, "handler instance", "handler instances"),
        (
            r.handler_states,
            "handler state in Redis",
            "handler states in Redis",
        ),
        (r.alerts, "alert", "alerts"),
        (r.channels, "channel", "channels"),
        (r.policies, "policy", "policies"),
        (
            r.pending_digests + r.inflight_digests,
            "digest not yet sent",
            "digests not yet sent",
        ),
        (
            r.schedule_entries,
            "scheduled digest time",
            "scheduled digest times",
        ),
        (
            r.notifications,
            "logged notification",
            "logged notifications",
        ),
        (r.tokens, "API token", "API tokens"),
        (r.sessions, "session", "sessions"),
    ];
    kinds
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_phrases_without_the_empty_kinds() {
        let r = Removed {
            handlers: 12,
            alerts: 1,
            policies: 2,
            pending_digests: 1,
            inflight_digests: 1,
            tokens: 1,
            users: 1,
            ..Removed::default()
        };
        let p = phrases(&r);
        assert_eq!(
            and_list(&p),
            "12 handler instances, 1 alert, 2 policies, 2 digests not yet sent and 1 API token"
        );
        assert!(phrases(&Removed::default()).is_empty());
        assert_eq!(and_list(&["x".to_owned()]), "x");
        assert_eq!(and_list(&[]), "");
    }
}

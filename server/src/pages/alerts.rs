//! The dashboard (`/`, the user's firing alerts), the alert list with its
//! filters, one alert with its history and the event that changed it, and
//! the clear actions as plain forms.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::{Layout, Page, PageResult, Viewer, back_to};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AlertDoc, AlertQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/alerts", get(list))
        .route("/alerts/clear", post(clear_all))
        .route("/alerts/{id}", get(one))
        .route("/alerts/{id}/clear", post(clear_one))
}

/// One alert as a row of a table.
pub struct AlertRow {
    pub id: String,
    pub status: String,
    pub severity: String,
    pub summary: String,
    pub key: String,
    pub handler_id: String,
    pub handler: String,
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
}

impl AlertRow {
    fn of(a: &AlertDoc, names: &HashMap<String, String>, viewer: &Viewer) -> Self {
        AlertRow {
            id: a.id.clone(),
            status: a.status.clone(),
            severity: a.severity.clone(),
            summary: a.summary.clone(),
            key: a.key.clone(),
            handler_id: a.handler_id.clone(),
            handler: names
                .get(&a.handler_id)
                .cloned()
                .unwrap_or_else(|| "(deleted handler)".into()),
            count: a.count,
            first_seen: viewer.time(a.first_seen),
            last_seen: viewer.time(a.last_seen),
        }
    }
}

/// What `static/live.js` needs to render rows like the server does: the
/// handler names by id (JSON) and the user's timezone.
pub struct LiveData {
    pub names: String,
    pub tz: String,
}

impl LiveData {
    fn new(names: &HashMap<String, String>, viewer: &Viewer) -> Self {
        LiveData {
            names: serde_json::to_string(names).unwrap_or_else(|_| "{}".into()),
            tz: viewer.user.timezone.clone(),
        }
    }
}

/// The user's handler instances by id: their names.
async fn handler_names(state: &AppState, user: &str) -> PageResult<HashMap<String, String>> {
    Ok(state
        .store
        .list_handlers(user)
        .await?
        .into_iter()
        .map(|h| (h.id, h.name))
        .collect())
}

#[derive(Template)]
#[template(path = "pages/dashboard.html")]
struct Dashboard {
    l: Layout,
    alerts: Vec<AlertRow>,
    handlers: usize,
    live: LiveData,
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let names = handler_names(&state, &viewer.user.name).await?;
    let q = AlertQuery {
        status: Some("firing".into()),
        ..AlertQuery::default()
    };
    let alerts = state.store.list_alerts(&viewer.user.name, &q).await?;
    Ok(Page(Dashboard {
        l: viewer.layout("Firing alerts", "home"),
        alerts: alerts
            .iter()
            .map(|a| AlertRow::of(a, &names, &viewer))
            .collect(),
        handlers: names.len(),
        live: LiveData::new(&names, &viewer),
    })
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    handler: String,
}

#[derive(Template)]
#[template(path = "pages/alerts.html")]
struct AlertList {
    l: Layout,
    alerts: Vec<AlertRow>,
    status: String,
    severity: String,
    handler: String,
    /// (id, name) of the user's handler instances, for the filter.
    handlers: Vec<(String, String)>,
    statuses: [&'static str; 3],
    severities: [&'static str; 3],
    /// The list's own URL, where the clear forms come back to.
    here: String,
    live: LiveData,
}

const STATUSES: [&str; 3] = ["firing", "resolved", "cleared"];
const SEVERITIES: [&str; 3] = ["info", "warning", "critical"];

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let names = handler_names(&state, &viewer.user.name).await?;
    // Unknown filter values are ignored rather than refused: they come from
    // our own select boxes, or from an edited URL.
    let pick = |v: &str, allowed: &[&str]| allowed.contains(&v).then(|| v.to_owned());
    let query = AlertQuery {
        status: pick(&q.status, &STATUSES),
        severity: pick(&q.severity, &SEVERITIES),
        handler: names.contains_key(&q.handler).then(|| q.handler.clone()),
        limit: Some(500),
    };
    let alerts = state.store.list_alerts(&viewer.user.name, &query).await?;
    let mut handlers: Vec<(String, String)> = names.clone().into_iter().collect();
    handlers.sort_by(|a, b| a.1.cmp(&b.1));
    let here = format!(
        "/alerts?status={}&severity={}&handler={}",
        query.status.clone().unwrap_or_default(),
        query.severity.clone().unwrap_or_default(),
        query.handler.clone().unwrap_or_default()
    );
    Ok(Page(AlertList {
        l: viewer.layout("Alerts", "alerts"),
        alerts: alerts
            .iter()
            .map(|a| AlertRow::of(a, &names, &viewer))
            .collect(),
        status: query.status.unwrap_or_default(),
        severity: query.severity.unwrap_or_default(),
        handler: query.handler.unwrap_or_default(),
        handlers,
        statuses: STATUSES,
        severities: SEVERITIES,
        here,
        live: LiveData::new(&names, &viewer),
    })
    .into_response())
}

pub struct HistoryRow {
    pub at: String,
    pub what: String,
    pub severity: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "pages/alert.html")]
struct AlertPage {
    l: Layout,
    a: AlertRow,
    event_id: String,
    /// The event that last changed the alert, pretty-printed JSON.
    event: String,
    history: Vec<HistoryRow>,
}

async fn one(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    let a = state
        .store
        .alert(&viewer.user.name, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let names = handler_names(&state, &viewer.user.name).await?;
    let history = a
        .history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            at: viewer.time(h.at),
            what: h.what.clone(),
            severity: h.severity.clone().unwrap_or_default(),
            summary: h.summary.clone(),
        })
        .collect();
    Ok(Page(AlertPage {
        l: viewer.layout(&format!("Alert {}", a.key), "alerts"),
        event_id: a.event_id.clone().unwrap_or_default(),
        event: serde_json::to_string_pretty(&a.event).unwrap_or_default(),
        a: AlertRow::of(&a, &names, &viewer),
        history,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
struct ClearForm {
    #[serde(default)]
    csrf: String,
    back: Option<String>,
    /// Clear only this handler instance's alerts.
    handler: Option<String>,
}

async fn clear_one(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ClearForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    let user = &viewer.user.name;
    state
        .store
        .alert(user, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let cleared = state.store.clear_alerts(user, None, Some(&id)).await?;
    super::live::publish_cleared(&state, user, &cleared).await;
    Ok(back_to(form.back.as_deref(), &format!("/alerts/{id}")).into_response())
}

async fn clear_all(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<ClearForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    let user = &viewer.user.name;
    let handler = form.handler.as_deref().filter(|h| !h.is_empty());
    if let Some(h) = handler
        && state.store.handler(user, h).await?.is_none()
    {
        return Err(ApiError::NotFound.into());
    }
    let cleared = state.store.clear_alerts(user, handler, None).await?;
    super::live::publish_cleared(&state, user, &cleared).await;
    Ok(back_to(form.back.as_deref(), "/alerts").into_response())
}

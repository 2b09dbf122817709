//! What a user configures and what they were sent: handler instances
//! (`/handlers`, with the schema-generated forms of `static/handler-form.js`),
//! channels and policies (`/policies`, edited by `static/policies.js`) and the
//! notification history (`/notifications`).
//!
//! Lists are rendered here, so they work without JavaScript, and so do
//! enable, disable and delete (plain forms). Creating and editing need the
//! scripts: the forms are generated from JSON Schemas and submit JSON to the
//! API, which reports problems by JSON pointer.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use mongodb::bson::DateTime;
use serde::Deserialize;
use serde_json::Value;

use super::{Layout, Page, PageResult, Viewer};
use crate::aggregate::policy::{ChannelKind, policy_json};
use crate::catalog;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/handlers", get(handlers))
        .route("/handlers/new", get(new_handler))
        .route("/handlers/{id}/edit", get(edit_handler))
        .route("/handlers/{id}/enable", post(enable))
        .route("/handlers/{id}/disable", post(disable))
        .route("/handlers/{id}/delete", post(delete))
        .route("/policies", get(policies))
        .route("/notifications", get(notifications))
        .route("/notifications/{id}/html", get(notification_html))
}

pub struct HandlerRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub title: String,
    pub enabled: bool,
    pub policy: String,
}

#[derive(Template)]
#[template(path = "pages/handlers.html")]
struct HandlersPage {
    l: Layout,
    handlers: Vec<HandlerRow>,
    /// (name, description) of every handler type, for "New …" links.
    types: Vec<(String, String)>,
}

async fn handlers(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let user = &viewer.user.name;
    let policies = state.store.list_policies(user).await?;
    let list = state.store.list_handlers(user).await?;
    let rows = list
        .iter()
        .map(|h| HandlerRow {
            id: h.id.clone(),
            name: h.name.clone(),
            kind: h.kind.clone(),
            title: catalog::compile_stored(&h.kind, &h.params)
                .map(|c| c.title())
                .unwrap_or_else(|| format!("{} (invalid parameters)", h.kind)),
            enabled: h.enabled,
            policy: match &h.policy {
                Some(id) => policies
                    .iter()
                    .find(|p| &p.id == id)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| "(deleted policy)".into()),
                None => "default".into(),
            },
        })
        .collect();
    let types = tellify_handlers::handler_types()
        .iter()
        .map(|t| (t.name().to_owned(), t.description().to_owned()))
        .collect();
    Ok(Page(HandlersPage {
        l: viewer.layout("Handlers", "handlers"),
        handlers: rows,
        types,
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "pages/handler_form.html")]
struct HandlerForm {
    l: Layout,
    /// Empty when creating.
    id: String,
    kind: String,
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    #[serde(rename = "type", default)]
    kind: String,
}

async fn new_handler(viewer: Viewer, Query(q): Query<NewQuery>) -> PageResult {
    let kind = if tellify_handlers::handler_type(&q.kind).is_some() {
        q.kind
    } else {
        String::new()
    };
    Ok(Page(HandlerForm {
        l: viewer.layout("New handler", "handlers"),
        id: String::new(),
        kind,
    })
    .into_response())
}

async fn edit_handler(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let h = state
        .store
        .handler(&viewer.user.name, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Page(HandlerForm {
        l: viewer.layout(&format!("Edit {}", h.name), "handlers"),
        id: h.id,
        kind: h.kind,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn set_enabled(state: &AppState, viewer: &Viewer, id: &str, enabled: bool) -> PageResult {
    let old = state
        .store
        .handler(&viewer.user.name, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let doc = crate::store::HandlerDoc {
        enabled,
        updated_at: DateTime::now(),
        ..old
    };
    if !state.store.replace_handler(&doc).await? {
        return Err(ApiError::NotFound.into());
    }
    state.broker.signal_config_changed(id).await;
    Ok(Redirect::to("/handlers").into_response())
}

async fn enable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    set_enabled(&state, &viewer, &id, true).await
}

async fn disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    set_enabled(&state, &viewer, &id, false).await
}

async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    viewer.check_csrf(&form.csrf)?;
    if !state.store.delete_handler(&viewer.user.name, &id).await? {
        return Err(ApiError::NotFound.into());
    }
    state
        .broker
        .forget_handler_state(&id, state.config.partitions)
        .await?;
    state.broker.signal_config_changed(&id).await;
    Ok(Redirect::to("/handlers").into_response())
}

pub struct ChannelRow {
    pub id: String,
    pub label: String,
    pub kind: &'static str,
    pub to: String,
}

pub struct PolicyRow {
    pub id: String,
    pub name: String,
    pub default: bool,
    /// One readable line per rule.
    pub rules: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/policies.html")]
struct PoliciesPage {
    l: Layout,
    timezone: String,
    channels: Vec<ChannelRow>,
    policies: Vec<PolicyRow>,
}

async fn policies(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let user = &viewer.user.name;
    let channels: Vec<ChannelRow> = state
        .store
        .list_channels(user)
        .await?
        .into_iter()
        .map(|c| {
            let (kind, to) = match c.kind {
                ChannelKind::Email { address } => ("email", address),
                ChannelKind::Sms { number } => ("sms", number),
                ChannelKind::Webhook { url } => ("webhook", url),
            };
            ChannelRow {
                id: c.id,
                label: c.label,
                kind,
                to,
            }
        })
        .collect();
    let policies = state
        .store
        .list_policies(user)
        .await?
        .iter()
        .map(|p| {
            let v = policy_json(p);
            PolicyRow {
                id: p.id.clone(),
                name: p.name.clone(),
                default: p.default,
                rules: v["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| describe_rule(r, &channels))
                    .collect(),
            }
        })
        .collect();
    Ok(Page(PoliciesPage {
        l: viewer.layout("Policies", "policies"),
        timezone: viewer.user.timezone.clone(),
        channels,
        policies,
    })
    .into_response())
}

/// A rule as a sentence: "Mon–Fri 09:00–18:00: warning and worse → work
/// (email), collected 1m".
fn describe_rule(rule: &Value, channels: &[ChannelRow]) -> String {
    let schedule = |s: &Value| {
        let days: Vec<&str> = s["days"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        format!(
            "{} {}–{}",
            days.join(" "),
            s["from"].as_str().unwrap_or("?"),
            s["to"].as_str().unwrap_or("?")
        )
    };
    let when = match &rule["when"] {
        Value::String(s) if s == "always" => "always".to_owned(),
        Value::Object(o) if o.contains_key("not") => format!("outside {}", schedule(&o["not"])),
        other => schedule(other),
    };
    let to: Vec<String> = rule["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|id| {
            channels
                .iter()
                .find(|c| c.id == id)
                .map(|c| format!("{} ({})", c.label, c.kind))
                .unwrap_or_else(|| "(deleted channel)".into())
        })
        .collect();
    let mut line = format!(
        "{when}: {} and worse → {}, collected {}",
        rule["min_severity"].as_str().unwrap_or("info"),
        to.join(", "),
        rule["aggregate_for"].as_str().unwrap_or("1m"),
    );
    if rule["hold"] == Value::Bool(true) {
        line.push_str(", held until the window ends");
    }
    if let Some(r) = rule["repeat_every"].as_str() {
        line.push_str(&format!(", repeated every {r}"));
    }
    if rule["notify_resolved"] == Value::Bool(false) {
        line.push_str(", not told when resolved");
    }
    line
}

pub struct NotificationRow {
    pub id: String,
    pub at: String,
    pub channel: String,
    pub to: String,
    pub status: String,
    pub attempt: i64,
    pub error: String,
    pub subject: String,
    pub text: String,
    pub sms: String,
    pub has_html: bool,
}

#[derive(Template)]
#[template(path = "pages/notifications.html")]
struct NotificationsPage {
    l: Layout,
    notifications: Vec<NotificationRow>,
}

async fn notifications(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let list = state
        .store
        .list_notifications(&viewer.user.name, 100)
        .await?;
    let rows = list
        .iter()
        .map(|n| NotificationRow {
            id: n.id.clone(),
            at: viewer.time(n.created_at),
            channel: format!("{} ({})", n.channel_label, n.channel_kind),
            to: n.to.clone(),
            status: n.status.clone(),
            attempt: n.attempt,
            error: n.error.clone().unwrap_or_default(),
            subject: n.rendered.subject.clone(),
            text: n.rendered.text.clone(),
            sms: n.rendered.sms.clone(),
            has_html: !n.rendered.html.is_empty(),
        })
        .collect();
    Ok(Page(NotificationsPage {
        l: viewer.layout("Notifications", "notifications"),
        notifications: rows,
    })
    .into_response())
}

/// The HTML body of a notification, as it was mailed, for the sandboxed
/// iframe of `/notifications`. It is our own rendering (askama escaped every
/// value), yet it is served under a CSP of its own that forbids scripts,
/// plugins and requests, with the `sandbox` directive, and may be framed by
/// our pages only.
async fn notification_html(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    // The history page shows the newest 1000 at most; older ones are not
    // linked from anywhere.
    let n = state
        .store
        .list_notifications(&viewer.user.name, 1000)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
            ),
        ],
        n.rendered.html,
    )
        .into_response())
}

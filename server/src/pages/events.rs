//! `/events`: the newest events (of everyone: events are not owned, as in
//! the API's `/api/v1/events/recent`), with a filter in the text-line syntax.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use tellify_handlers::{Event, canonical, lookup};

use super::{Layout, Page, PageResult, Viewer};
use crate::events::parse;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

#[derive(Debug, Default, Deserialize)]
struct EventsQuery {
    #[serde(default)]
    q: String,
    before: Option<String>,
}

pub struct EventRow {
    pub id: String,
    /// When it was received, in the viewer's timezone.
    pub at: String,
    /// `key:value` pairs of the top-level scalar fields, for the list.
    pub line: String,
    /// The whole event, pretty-printed.
    pub json: String,
}

#[derive(Template)]
#[template(path = "pages/events.html")]
struct EventsPage {
    l: Layout,
    q: String,
    error: String,
    events: Vec<EventRow>,
    /// Where the next (older) page starts, if there is one.
    next: String,
}

/// Events per page, and how many stream entries a filtered page may scan.
const PAGE: usize = 50;
const MAX_SCAN: usize = 5_000;

async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EventsQuery>,
) -> PageResult {
    let q = query.q.trim().to_owned();
    let mut error = String::new();
    let filter = if q.is_empty() {
        None
    } else {
        match parse::parse_tokens(&q, 1) {
            Ok(f) => Some(f),
            Err(e) => {
                error = e.0.message.trim_start_matches("line 1: ").to_owned();
                None
            }
        }
    };
    let mut rows = Vec::new();
    let mut before = query.before.clone().filter(|b| !b.is_empty());
    let mut scanned = 0;
    let mut more = false;
    while error.is_empty() && scanned < MAX_SCAN {
        let batch = state
            .broker
            .recent_events(if filter.is_some() { 500 } else { PAGE }, before.as_deref())
            .await?;
        let Some(last) = batch.last() else { break };
        before = Some(last.id.clone());
        scanned += batch.len();
        for stored in batch {
            let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&stored.json) else {
                continue;
            };
            if filter.as_ref().is_some_and(|f| !matches(f, &event)) {
                continue;
            }
            if rows.len() == PAGE {
                more = true;
                break;
            }
            before = Some(stored.id.clone());
            rows.push(row(&viewer, stored.id, &event));
        }
        if more {
            break;
        }
    }
    let next = if more || scanned >= MAX_SCAN {
        before.unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Page(EventsPage {
        l: viewer.layout("Events", "events"),
        q,
        error,
        events: rows,
        next,
    })
    .into_response())
}

fn row(viewer: &Viewer, id: String, event: &Event) -> EventRow {
    let at = event
        .get("received_at")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| super::local_time(t.as_millisecond(), &viewer.user.timezone))
        .unwrap_or_default();
    let line = event
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "received_at" | "_origin"))
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some(format!("{k}:{s}")),
            Value::Number(n) => Some(format!("{k}:{n}")),
            Value::Bool(b) => Some(format!("{k}:{b}")),
            Value::Array(tags) if k == "tags" => Some(
                tags.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("  ");
    EventRow {
        id,
        at,
        line,
        json: serde_json::to_string_pretty(event).unwrap_or_default(),
    }
}

/// The filter's fields equal the event's (compared as handlers compare), and
/// its bare words are among the event's tags.
fn matches(filter: &Event, event: &Event) -> bool {
    filter.iter().all(|(key, want)| match (key.as_str(), want) {
        ("tags", Value::Array(wanted)) => {
            let have = event.get("tags").and_then(Value::as_array);
            wanted.iter().all(|t| have.is_some_and(|h| h.contains(t)))
        }
        _ => lookup(event, key).and_then(canonical) == canonical(want),
    })
}

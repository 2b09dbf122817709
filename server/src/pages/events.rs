//! `/events`: the newest events (of everyone: events are not owned, as in
//! the API's `/api/v1/events/recent`), with a filter in the text-line syntax.
//!
//! The first page updates live: `static/events.js` asks the same API for
//! the events newer than the newest one shown, with the page's filter,
//! every two seconds (README, "Decisions", says why polling and not SSE).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use tellify_handlers::Event;

use super::{Layout, Page, PageResult, Viewer};
use crate::events::recent;
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
    /// The newest event shown, from which `static/events.js` asks for newer
    /// ones; empty when the page does not update live (an older page, or
    /// a filter that does not parse).
    live_after: String,
    /// Whether the page updates live.
    live: bool,
    timezone: String,
}

/// Events per page.
const PAGE: usize = 50;

async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<EventsQuery>,
) -> PageResult {
    let q = query.q.trim().to_owned();
    let before = query
        .before
        .clone()
        .filter(|b| recent::is_stream_id(b.trim()));
    let (filter, error) = match recent::Query::parse(&q) {
        Ok(f) => (f, String::new()),
        Err(e) => (None, e),
    };
    let found = if error.is_empty() {
        let window = recent::Window {
            before: before.as_deref(),
            after: None,
            limit: PAGE,
        };
        recent::read(&state.broker, filter.as_ref(), window).await?
    } else {
        recent::Recent::default()
    };
    // The live updates continue from the newest event shown, or from the
    // stream's end when none matched yet (so events already read, which
    // the filter refused, are not asked for again).
    let live = error.is_empty() && before.is_none();
    let live_after = match found.events.first() {
        Some(e) => e.id.clone(),
        None if live => state
            .broker
            .recent_events(1, None, None)
            .await?
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_default(),
        None => String::new(),
    };
    let rows = found
        .events
        .into_iter()
        .map(|e| row(&viewer, e.id, &e.event))
        .collect();
    Ok(Page(EventsPage {
        l: viewer.layout("Events", "events"),
        q,
        error,
        events: rows,
        next: found.next.unwrap_or_default(),
        live_after,
        live,
        timezone: viewer.user.timezone.clone(),
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

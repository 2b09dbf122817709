//! `POST /events` (ingest) and `GET /api/v1/events/recent` (the explorer).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tellify_handlers::{Event, canonical, lookup};

use crate::auth::{Caller, Scope, Via};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Format, Limits, parse};
use crate::extract::body_rejection;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", post(ingest))
        .route("/api/v1/events/recent", get(recent))
}

/// Accept events; 202 only once they are in the stream.
async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Scope::Ingest)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = Format::from_content_type(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type '{content_type}' is not accepted: send application/json or text/plain"
        ))
    })?;
    let body = body.map_err(|r| body_rejection(r, state.config.max_request_bytes))?;
    let limits = Limits {
        max_event_bytes: state.config.max_event_bytes,
        max_batch: state.config.max_batch,
    };
    let received_at = jiff::Timestamp::now()
        .round(jiff::Unit::Millisecond)
        .unwrap_or_default()
        .to_string();
    let prepared = events::prepare(&body, format, limits, &received_at)?;
    // The rate limit counts events, per token (per user for a password or
    // session caller); a refused request stores nothing and takes nothing.
    let bucket = match &caller.via {
        Via::Token { id } => format!("token:{id}"),
        _ => format!("user:{}", caller.user),
    };
    if let Err(wait) = state.limits.ingest.take(&bucket, prepared.len()) {
        state.metrics.events_rate_limited.inc();
        return Err(ApiError::TooManyRequests {
            message: format!(
                "this token is over its ingest rate ({} events a second, bursts of {}); retry later",
                state.config.ingest_rate, state.config.ingest_burst
            ),
            retry_after: wait,
        });
    }
    let ids = state.broker.append_events(&prepared).await?;
    state.metrics.events_ingested.inc_by(ids.len() as u64);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"accepted": ids.len(), "ids": ids})),
    ))
}

#[derive(Debug, Deserialize)]
struct RecentQuery {
    /// How many events to return (default 50, at most 500).
    limit: Option<usize>,
    /// Only events older than this stream id (for paging).
    before: Option<String>,
    /// A filter in the text-line syntax: `project:vr0 status:failed` keeps
    /// events whose fields equal those values; bare words must be in `tags`.
    q: Option<String>,
}

/// How many stream entries one request may read while filtering.
const MAX_SCAN: usize = 10_000;

/// Newest first. With `q`, scans back at most [`MAX_SCAN`] entries; the
/// answer's `next` is where to continue.
async fn recent(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RecentQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Scope::Api)?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let filter = match query.q.as_deref().map(str::trim) {
        Some(q) if !q.is_empty() => Some(parse::parse_tokens(q, 1).map_err(|e| {
            ApiError::bad_request(format!("q: {}", e.0.message.trim_start_matches("line 1: ")))
        })?),
        _ => None,
    };
    let mut before = query.before.clone();
    let mut found = Vec::new();
    let mut scanned = 0;
    while found.len() < limit && scanned < MAX_SCAN {
        let page = if filter.is_some() { 500 } else { limit };
        let batch = state.broker.recent_events(page, before.as_deref()).await?;
        let Some(last) = batch.last() else { break };
        before = Some(last.id.clone());
        scanned += batch.len();
        for stored in batch {
            let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&stored.json) else {
                continue;
            };
            if filter.as_ref().is_none_or(|f| matches(f, &event)) {
                found.push(json!({"id": stored.id, "event": event}));
                if found.len() == limit {
                    before = Some(stored.id);
                    break;
                }
            }
        }
    }
    let next = if found.len() == limit || scanned >= MAX_SCAN {
        before
    } else {
        None
    };
    Ok(Json(json!({"events": found, "next": next})))
}

/// Every field of the filter equals the event's (as the handlers compare), and
/// every tag of the filter is among the event's tags.
fn matches(filter: &Event, event: &Event) -> bool {
    filter.iter().all(|(key, want)| {
        if key == "tags" {
            let have = event.get("tags").and_then(Value::as_array);
            return want
                .as_array()
                .into_iter()
                .flatten()
                .all(|t| have.is_some_and(|h| h.contains(t)));
        }
        lookup(event, key).and_then(canonical) == canonical(want)
    })
}

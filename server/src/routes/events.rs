//! `POST /events` (ingest) and `GET /api/v1/events/recent` (the explorer).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Caller, Scope, Via};
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Format, Limits, recent};
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
    /// Only events newer than this stream id (what arrived since a page
    /// was shown: the `/events` page polls with its newest id).
    after: Option<String>,
    /// A filter in the text-line syntax: `project:vr0 status:failed` keeps
    /// events whose fields equal those values; bare words must be in `tags`.
    q: Option<String>,
}

/// Newest first. With `q`, scans back at most [`recent::MAX_SCAN`] entries;
/// the answer's `next` is where to continue towards older events.
async fn recent(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<RecentQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Scope::Api)?;
    let filter = recent::Query::parse(query.q.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("q: {e}")))?;
    let before = stream_id("before", query.before.as_deref())?;
    let after = stream_id("after", query.after.as_deref())?;
    let window = recent::Window {
        before,
        after,
        limit: query.limit.unwrap_or(50).clamp(1, 500),
    };
    let found = recent::read(&state.broker, filter.as_ref(), window).await?;
    let events: Vec<Value> = found
        .events
        .into_iter()
        .map(|e| json!({"id": e.id, "event": e.event}))
        .collect();
    Ok(Json(
        json!({"events": events, "next": found.next, "newest": found.newest}),
    ))
}

/// A stream id from the query (empty means none), or 400 naming the parameter.
fn stream_id<'a>(name: &str, value: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(id) if recent::is_stream_id(id) => Ok(Some(id)),
        Some(id) => Err(ApiError::bad_request(format!(
            "{name}: '{id}' is not a stream id (like 1700000000000-0)"
        ))),
    }
}

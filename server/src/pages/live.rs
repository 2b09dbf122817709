//! `GET /live`: a user's live updates as server-sent events.
//!
//! Each stream has its own Redis pub/sub connection subscribed to the user's
//! channel (`<prefix>live:<user>`), where the alert writer publishes every
//! changed alert (`{"type":"alert","alert":{…}}`) and the clear actions
//! publish `{"type":"cleared","ids":[…]}`. The stream forwards them as SSE
//! events named after their `type`.
//!
//! Resuming: Redis pub/sub keeps no history, so there is nothing to replay
//! from a `Last-Event-ID`. Instead every stream (the first one and every
//! reconnection, which the browser makes with `Last-Event-ID`) starts with a
//! `snapshot` event: the user's firing alerts at that moment, taken *after*
//! subscribing, so nothing that happens in between is lost (at worst an alert
//! arrives twice, which the page handles by id). Event ids are
//! `<millis>-<n>`, increasing within a stream; the page only needs them for
//! the browser's reconnection.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::{Stream, StreamExt, stream};
use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::alerts::view;
use crate::auth::{Caller, Scope};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::AlertQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/live", get(live))
}

/// How long the browser waits before reconnecting a dropped stream.
const RETRY: Duration = Duration::from_secs(3);

async fn live(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Scope::Api)?;
    let mut pubsub = state.broker.client().get_async_pubsub().await?;
    pubsub
        .subscribe(state.broker.live_channel(&caller.user))
        .await?;
    let firing = AlertQuery {
        status: Some("firing".into()),
        ..AlertQuery::default()
    };
    let alerts = state.store.list_alerts(&caller.user, &firing).await?;
    let snapshot = json!({
        "type": "snapshot",
        "alerts": alerts.iter().map(|a| view(a, false)).collect::<Vec<_>>(),
    });
    let mut ids = EventIds::default();
    let first = Event::default()
        .event("snapshot")
        .id(ids.next())
        .retry(RETRY)
        .data(snapshot.to_string());
    let updates = pubsub.into_on_message().map(move |msg| {
        let payload: String = msg.get_payload().unwrap_or_default();
        let kind = serde_json::from_str::<Value>(&payload)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "message".into());
        Event::default().event(kind).id(ids.next()).data(payload)
    });
    let closing = state.closing.clone().cancelled_owned();
    let events = stream::once(async { first })
        .chain(updates)
        .take_until(closing)
        .map(Ok);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Increasing ids for the events of one stream.
#[derive(Default)]
struct EventIds {
    n: u64,
}

impl EventIds {
    fn next(&mut self) -> String {
        self.n += 1;
        format!("{}-{}", jiff::Timestamp::now().as_millisecond(), self.n)
    }
}

/// Tell the user's open pages that these alerts were cleared.
pub async fn publish_cleared(state: &AppState, user: &str, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    let message = json!({"type": "cleared", "ids": ids}).to_string();
    let r: redis::RedisResult<()> = state
        .broker
        .conn()
        .publish(state.broker.live_channel(user), message)
        .await;
    if let Err(e) = r {
        tracing::debug!(error = %e, "live update not published");
    }
}

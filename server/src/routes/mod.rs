//! The HTTP surface: one router per feature, merged here.

mod alerts;
mod events;
mod handlers;
mod health;
mod notify;
mod purge;
mod session;
mod tokens;
pub use tokens::issue_token;
pub(crate) mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The whole application's router. Tests build the app through this too.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_request_bytes;
    Router::new()
        .merge(health::router())
        .merge(events::router())
        .merge(session::router())
        .merge(tokens::router())
        .merge(handlers::router())
        .merge(alerts::router())
        .merge(notify::router())
        .route("/metrics", axum::routing::get(metrics))
        .merge(users::router())
        .merge(purge::router())
        .merge(crate::pages::router())
        .nest_service("/static", crate::pages::static_files(&state.config))
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(crate::pages::CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Prometheus text exposition.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

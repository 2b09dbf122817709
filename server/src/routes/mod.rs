//! The HTTP surface: one router per feature, merged here.

mod events;
mod handlers;
mod health;
mod session;
mod tokens;
pub use tokens::issue_token;
mod users;

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
        .merge(users::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

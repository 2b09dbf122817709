//! The state every request handler and background task shares.

use std::sync::Arc;

use crate::aggregate::deliver::Deliverer;
use crate::auth::TokenCache;
use crate::broker::Broker;
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// Concrete handles, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// MongoDB: users, tokens, sessions, configs, alerts, logs.
    pub store: Store,
    /// Redis: the events stream, dispatcher state, pub/sub.
    pub broker: Broker,
    /// Token lookups, so ingest need not ask MongoDB per request.
    pub tokens: Arc<TokenCache>,
    pub metrics: Arc<Metrics>,
    /// The aggregator's time (tests move it).
    pub clock: Clock,
    /// Email, SMS and webhook delivery.
    pub deliverer: Arc<Deliverer>,
    /// Ingest rate limits and login throttling (in memory, per node).
    pub limits: Arc<crate::limits::Limits>,
    /// Cancelled when the server starts shutting down: ends the open live
    /// streams (`GET /live`), which graceful shutdown would otherwise wait on.
    pub closing: tokio_util::sync::CancellationToken,
}

//! Building and running the application: connect to the services, prepare
//! the database, bind the listener, serve until shut down.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use mongodb::bson::DateTime;
use tokio::net::TcpListener;

use crate::aggregate::deliver::Deliverer;
use crate::alerts::writer::AlertWriter;
use crate::auth::{Scope, TokenCache, secrets};
use crate::broker::Broker;
use crate::clock::Clock;
use crate::config::Config;
use crate::dispatch::{Dispatcher, Settings};
use crate::metrics::Metrics;
use crate::routes;
use crate::state::AppState;
use crate::store::{Store, User};
use std::time::Duration;

/// A built application, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// Set on the first start with an empty database: what to tell the operator.
    pub first_start: Option<AdminCredentials>,
}

/// The admin's credentials made on the first start.
#[derive(Debug, Clone)]
pub struct AdminCredentials {
    /// `None` when the operator chose it (TELLIFY_ADMIN_PASSWORD).
    pub password: Option<String>,
    /// `None` when the operator chose it (TELLIFY_ADMIN_TOKEN).
    pub token: Option<String>,
}

impl Application {
    /// Connect, create indexes, create the admin on first start, bind.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.mongodb_uri).await?;
        store
            .create_indexes()
            .await
            .with_context(|| format!("preparing MongoDB at {}", redact(&config.mongodb_uri)))?;
        let broker =
            Broker::new(&config.redis_url, &config.redis_prefix).context("the Redis URL")?;
        let deliverer = Deliverer::new(
            config.smtp_url.as_deref(),
            &config.smtp_from,
            config.sms_webhook_url.as_deref(),
            Duration::from_secs(15),
        )
        .context("the delivery settings (SMTP URL, SMS gateway)")?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let limits = Arc::new(crate::limits::Limits::new(&config));
        let state = AppState {
            config: Arc::new(config),
            store,
            broker,
            tokens: Arc::new(TokenCache::default()),
            metrics: Arc::new(Metrics::default()),
            clock: Clock::default(),
            deliverer: Arc::new(deliverer),
            limits,
            closing: tokio_util::sync::CancellationToken::new(),
        };
        let first_start = bootstrap_admin(&state).await?;
        Ok(Application {
            listener,
            state,
            first_start,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The dispatcher settings from the configuration.
    pub fn dispatch_settings(&self) -> Settings {
        let c = &self.state.config;
        Settings {
            lease_ttl: c.lease_ttl,
            tick_every: c.tick_interval,
            reload_every: c.config_reload,
            ..Settings::default()
        }
    }

    /// Serve, dispatch and write alerts until `shutdown` completes; then
    /// finish in-flight requests, commit, and give the leases back.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop = tokio_util::sync::CancellationToken::new();
        let dispatcher = Dispatcher::new(self.state.clone(), self.dispatch_settings());
        let writer = AlertWriter::new(self.state.clone(), dispatcher.owned_handle());
        // Abort the background tasks if this future is dropped (a test's
        // simulated crash), rather than leave them running.
        let mut dispatching = AbortOnDrop(tokio::spawn(dispatcher.run(stop.clone())));
        let mut writing = AbortOnDrop(tokio::spawn(writer.run(stop.clone())));
        let mut aggregating = AbortOnDrop(tokio::spawn(aggregate_loop(
            self.state.clone(),
            stop.clone(),
        )));
        let app = routes::router(self.state.clone());
        tracing::info!(addr = %self.local_addr(), "tellify listening");
        let closing = self.state.closing.clone();
        let shutdown = async move {
            shutdown.await;
            closing.cancel();
        };
        // The peer's address counts failed logins per client.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        stop.cancel();
        let _ = (&mut dispatching.0).await;
        let _ = (&mut writing.0).await;
        let _ = (&mut aggregating.0).await;
        served
    }
}

/// Send due digests every `--digest-interval` (1 s: a digest goes within a
/// second of its due time).
async fn aggregate_loop(state: AppState, stop: tokio_util::sync::CancellationToken) {
    while !stop.is_cancelled() {
        if let Err(e) = crate::aggregate::queue::run_due(&state, state.clock.now(), None).await {
            tracing::warn!(error = format!("{e:#}"), "sending due digests failed");
        }
        tokio::select! {
            () = tokio::time::sleep(state.config.digest_interval) => {}
            () = stop.cancelled() => {}
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// On the first start (no users at all) create `admin` with every scope.
/// Two nodes starting together: the unique name lets exactly one win.
async fn bootstrap_admin(state: &AppState) -> anyhow::Result<Option<AdminCredentials>> {
    if state.store.count_users().await? > 0 {
        return Ok(None);
    }
    let config = &state.config;
    // An empty value (docker-compose passes unset variables as "") means
    // "not given".
    let chosen_password = config.admin_password.clone().filter(|p| !p.is_empty());
    let chosen_token = config.admin_token.clone().filter(|t| !t.is_empty());
    let password = chosen_password
        .clone()
        .unwrap_or_else(|| secrets::new_secret(""));
    let password_hash = secrets::hash_password_off(password.clone()).await?;
    let admin = User {
        name: "admin".to_owned(),
        email: "admin@localhost".to_owned(),
        timezone: "UTC".to_owned(),
        admin: true,
        password_hash,
        created_at: DateTime::now(),
    };
    if !state.store.insert_user(&admin).await? {
        return Ok(None);
    }
    let token = routes::issue_token(
        state,
        "admin",
        "first start",
        Scope::ALL.to_vec(),
        chosen_token.clone(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("creating the admin token: {e}"))?;
    Ok(Some(AdminCredentials {
        password: chosen_password.is_none().then_some(password),
        token: chosen_token.is_none().then_some(token.secret),
    }))
}

/// A URI without its password, for messages.
fn redact(uri: &str) -> String {
    match (uri.find("://"), uri.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &uri[..s], &uri[at + 1..]),
        _ => uri.to_owned(),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

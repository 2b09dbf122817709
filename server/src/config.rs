//! Configuration: command-line flags with `TELLIFY_*` environment fallbacks.
//!
//! Every flag can be given in the environment instead, which is how the
//! docker-compose file and the test scripts configure Tellify.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Tellify: a self-hosted event alert dashboard.
///
/// Build scripts and monitors POST events to /events; users choose in the
/// browser which events they care about and how and when they hear of them.
#[derive(Parser, Debug, Clone)]
#[command(name = "tellify", version, about, long_about = None)]
pub struct Config {
    /// Address the HTTP server listens on.
    #[arg(long, env = "TELLIFY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// MongoDB connection string; the database is the one named in the path
    /// (`tellify` when it names none).
    #[arg(
        long,
        env = "TELLIFY_MONGODB_URI",
        default_value = "mongodb://127.0.0.1:27017/tellify"
    )]
    pub mongodb_uri: String,

    /// Redis URL (the events stream, handler state, leases, pub/sub).
    #[arg(
        long,
        env = "TELLIFY_REDIS_URL",
        default_value = "redis://127.0.0.1:6379/"
    )]
    pub redis_url: String,

    /// Prefix of every Redis key Tellify uses, so several installations can
    /// share one Redis.
    #[arg(long, env = "TELLIFY_REDIS_PREFIX", default_value = "tellify:")]
    pub redis_prefix: String,

    /// The URL users reach the dashboard at: links in emails, and whether
    /// cookies are marked Secure (they are when it starts with https://).
    #[arg(
        long,
        env = "TELLIFY_BASE_URL",
        default_value = "http://localhost:8080"
    )]
    pub base_url: String,

    /// SMTP server for email digests: smtp://host:port (plain),
    /// smtp://host:port?tls=starttls, smtps://host:port (TLS); user and
    /// password in the URL's userinfo.
    #[arg(long, env = "TELLIFY_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Sender address of email digests.
    #[arg(long, env = "TELLIFY_SMTP_FROM", default_value = "tellify@localhost")]
    pub smtp_from: String,

    /// HTTP gateway SMS digests are posted to.
    #[arg(long, env = "TELLIFY_SMS_WEBHOOK_URL")]
    pub sms_webhook_url: Option<String>,

    /// Number of dispatcher partitions. Fixed for the life of an installation:
    /// handler state is kept per partition.
    #[arg(long, env = "TELLIFY_PARTITIONS", default_value_t = 16)]
    pub partitions: u32,

    /// How long a dispatcher partition lease lasts; a node that dies has its
    /// partitions taken over after this.
    #[arg(long, env = "TELLIFY_LEASE_TTL", default_value = "10s", value_parser = parse_duration)]
    pub lease_ttl: Duration,

    /// How often time-based handlers (heartbeat, windows) are checked.
    #[arg(long, env = "TELLIFY_TICK_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub tick_interval: Duration,

    /// Full reload of handler configs (changes also arrive at once by pub/sub).
    #[arg(long, env = "TELLIFY_CONFIG_RELOAD", default_value = "30s", value_parser = parse_duration)]
    pub config_reload: Duration,

    /// How long processed events stay in the stream (for the events page);
    /// nothing is trimmed that a partition has not processed yet.
    #[arg(long, env = "TELLIFY_EVENTS_RETENTION", default_value = "15m", value_parser = parse_duration)]
    pub events_retention: Duration,

    /// How often due digests are looked for and sent.
    #[arg(long, env = "TELLIFY_DIGEST_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub digest_interval: Duration,

    /// Largest accepted event, serialized as JSON, in bytes.
    #[arg(long, env = "TELLIFY_MAX_EVENT_BYTES", default_value_t = 64 * 1024)]
    pub max_event_bytes: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "TELLIFY_MAX_REQUEST_BYTES", default_value_t = 1024 * 1024)]
    pub max_request_bytes: usize,

    /// Most events accepted in one request.
    #[arg(long, env = "TELLIFY_MAX_BATCH", default_value_t = 1000)]
    pub max_batch: usize,

    /// Events a second one ingest token may post, on average (0: no limit).
    /// Counted in memory on each node.
    #[arg(long, env = "TELLIFY_INGEST_RATE", default_value_t = 50_000.0)]
    pub ingest_rate: f64,

    /// Events one ingest token may post at once above the rate.
    #[arg(long, env = "TELLIFY_INGEST_BURST", default_value_t = 100_000)]
    pub ingest_burst: u32,

    /// How long a login session lasts.
    #[arg(long, env = "TELLIFY_SESSION_TTL", default_value = "7d", value_parser = parse_duration)]
    pub session_ttl: Duration,

    /// Directory of the stylesheet and scripts served under `/static`. A
    /// relative path is read from the working directory; when it is not
    /// there, the `static/` of the source tree is used (running from the
    /// repository).
    #[arg(long, env = "TELLIFY_STATIC_DIR", default_value = "static")]
    pub static_dir: std::path::PathBuf,

    /// Password of the `admin` user created on first start (default: a
    /// random one, printed once).
    #[arg(long, env = "TELLIFY_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Token (all scopes) of the `admin` user created on first start
    /// (default: a random one, printed once).
    #[arg(long, env = "TELLIFY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

impl Config {
    /// Whether the dashboard is served over https (cookies get `Secure`).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// A configuration for tests: every limit at its default, services from
    /// the given URLs, listening on a free port.
    pub fn for_tests(mongodb_uri: &str, redis_url: &str, redis_prefix: &str) -> Self {
        let mut c = Config::parse_from(["tellify"]);
        c.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        c.mongodb_uri = mongodb_uri.to_owned();
        c.redis_url = redis_url.to_owned();
        c.redis_prefix = redis_prefix.to_owned();
        c.admin_password = None;
        c.admin_token = None;
        c.smtp_url = None;
        c.sms_webhook_url = None;
        c
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let ms = tellify_handlers::parse_duration(s)?;
    Ok(Duration::from_millis(ms.unsigned_abs()))
}

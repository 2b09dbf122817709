//! The document store: MongoDB, through the official driver.
//!
//! Configuration and history live here (users, tokens, sessions, and later
//! handlers, alerts, channels, policies, notifications, audit). One method per
//! query, grouped in files by collection, so the queries are easy to find and
//! the owner scoping of each is visible.

mod alerts;
mod audit;
mod channels;
mod handlers;
mod purge;
mod tokens;
mod users;

pub use alerts::{AlertDoc, AlertQuery, HISTORY_LEN, HistoryEntry};
pub use audit::AuditDoc;
pub use channels::NotificationDoc;
pub use handlers::{HandlerBrief, HandlerDoc};
pub use purge::OWNED_COLLECTIONS;
pub use tokens::{NewToken, Session, Token};
pub use users::User;

use std::time::Duration;

use anyhow::Context;
use mongodb::bson::doc;
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Database, IndexModel};

#[derive(Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Connect (lazily: the driver connects on first use). The database is the
    /// one named in the URI's path, `tellify` when it names none.
    pub async fn connect(uri: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri)
            .await
            .with_context(|| "parsing the MongoDB URI")?;
        // Answer 503 within seconds when MongoDB is away, not after 30 s.
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(Duration::from_secs(3));
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(Duration::from_secs(3));
        }
        options.app_name.get_or_insert_with(|| "tellify".to_owned());
        let name = options
            .default_database
            .clone()
            .unwrap_or_else(|| "tellify".to_owned());
        let client = Client::with_options(options)?;
        Ok(Store {
            db: client.database(&name),
        })
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// Create the indexes every query relies on. Idempotent.
    pub async fn create_indexes(&self) -> anyhow::Result<()> {
        let unique = || IndexOptions::builder().unique(true).build();
        self.db
            .collection::<Token>("tokens")
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! {"hash": 1})
                    .options(unique())
                    .build(),
                IndexModel::builder().keys(doc! {"owner": 1}).build(),
            ])
            .await
            .context("creating the indexes of tokens")?;
        self.db
            .collection::<Session>("sessions")
            .create_indexes([IndexModel::builder().keys(doc! {"owner": 1}).build()])
            .await
            .context("creating the indexes of sessions")?;
        Ok(())
    }

    pub async fn ping(&self) -> mongodb::error::Result<()> {
        self.db.run_command(doc! {"ping": 1}).await.map(|_| ())
    }
}

/// A new random id for a document: 24 hex digits, like an ObjectId.
pub fn new_id() -> String {
    mongodb::bson::oid::ObjectId::new().to_hex()
}

/// Whether a MongoDB error is a duplicate-key violation of a unique index.
pub fn is_duplicate(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*e.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errs| errs.iter().any(|w| w.code == 11000)),
        ErrorKind::Command(c) => c.code == 11000,
        _ => false,
    }
}

/// A stored time as RFC 3339 (UTC, milliseconds), as the API shows times.
pub fn rfc3339(t: mongodb::bson::DateTime) -> String {
    jiff::Timestamp::from_millisecond(t.timestamp_millis())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

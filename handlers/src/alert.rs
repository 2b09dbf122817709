//! The view of an alert that digest renderers get.
//!
//! The server owns alerts (storage, counting repeats, history); renderers only
//! need what a person reads, so this is a plain data carrier.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Millis, Severity};

/// Where an alert stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
    Cleared,
}

impl AlertStatus {
    /// The lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
            AlertStatus::Cleared => "cleared",
        }
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An alert as a digest shows it: its latest status and how often it fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertView {
    pub key: String,
    pub status: AlertStatus,
    pub severity: Severity,
    pub summary: String,
    /// How many times it fired (repeats included).
    pub count: u64,
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// The `fields` of the last `Fire`.
    pub fields: serde_json::Map<String, Value>,
}

/// One alert in a digest, with the name of the handler instance that raised it.
#[derive(Debug, Clone)]
pub struct DigestItem {
    pub instance_name: String,
    pub alert: AlertView,
}

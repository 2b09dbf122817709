//! Alerts: the writer that keeps MongoDB current from the partitions'
//! outboxes, and the view of an alert the API and live updates show.

pub mod writer;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::store::{AlertDoc, rfc3339};

/// The id of the alert (handler instance, key): stable, URL-safe.
pub fn alert_id(handler: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(handler.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    hex::encode(&h.finalize()[..12])
}

/// An alert as the API and the live channel show it.
pub fn view(a: &AlertDoc, with_history: bool) -> Value {
    let mut v = json!({
        "id": a.id,
        "handler_id": a.handler_id,
        "key": a.key,
        "status": a.status,
        "severity": a.severity,
        "summary": a.summary,
        "fields": a.fields,
        "count": a.count,
        "first_seen": rfc3339(a.first_seen),
        "last_seen": rfc3339(a.last_seen),
        "event_id": a.event_id,
        "event": a.event,
    });
    if with_history && let Value::Object(m) = &mut v {
        let history: Vec<Value> = a
            .history
            .iter()
            .map(|h| json!({"at": rfc3339(h.at), "what": h.what, "severity": h.severity, "summary": h.summary}))
            .collect();
        m.insert("history".into(), Value::Array(history));
    }
    v
}

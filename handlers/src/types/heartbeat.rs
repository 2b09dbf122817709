//! `heartbeat`: fire when no matching event arrived for a while, per key.
//!
//! Keys (the values of `key_fields` joined with `/`, or `default`) are learned
//! from events: a key never seen is never missing. A tick fires once when
//! `now - last seen > missing_after` (not again on later ticks); the next
//! matching event of that key resolves the alert ("is back").
//!
//! State: `{"<key>": [<last seen, ms>, <1 if missing else 0>]}`, plus the key
//! field values as a third element when there are several key fields (so the
//! alert can carry them). Keys are kept until the instance is reset; past
//! [`MAX_KEYS`](crate::state::MAX_KEYS) the least recently seen is forgotten.

use serde_json::{Map, Value, json};

use super::{incomplete, list};
use crate::duration::format_duration;
use crate::filter::Filter;
use crate::params::Params;
use crate::render;
use crate::schema::{filter_property, reference, reference_with_default, root, severity_property};
use crate::state::{DEFAULT_KEY, MAX_KEYS, evict_oldest, keyed, object, push_unique};
use crate::template::render_value;
use crate::{
    AlertStatus, AlertView, DigestItem, Event, Handler, HandlerType, Millis, Output, ParamError,
    Severity,
};

/// The `heartbeat` handler type.
pub struct HeartbeatType;

const DESCRIPTION: &str = "Watches for events that should keep arriving, such as \"host \
caddashboard is still alive\" every minute, and raises an alert when they stop arriving for \
longer than a given time, separately for each key (e.g. each host). The alert resolves when \
the events come back. Keys are learned from the events themselves.";

struct Heartbeat {
    filter: Filter,
    key_fields: Vec<String>,
    missing_after: Millis,
    severity: Severity,
}

impl HandlerType for HeartbeatType {
    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn parameters_schema(&self) -> Value {
        let example = example();
        root(
            "Heartbeat",
            DESCRIPTION,
            &["filter", "missing_after"],
            json!({
                "filter": filter_property("The events that should keep arriving.", example["filter"].clone()),
                "key_fields": reference_with_default(
                    "fields",
                    "Key fields",
                    "Fields that tell apart the senders watched (e.g. host): each has its own alert. Empty: one alert for all.",
                    json!([]),
                    json!([["host"]]),
                ),
                "missing_after": reference("duration", "Missing after", "Raise the alert when no event arrived for longer than this.", json!(["3m"])),
                "severity": severity_property("Severity of the alert.", "critical")
            }),
            example,
        )
    }

    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>> {
        let mut p = Params::new(
            params,
            &["filter", "key_fields", "missing_after", "severity"],
        );
        let filter = p.filter("filter");
        let key_fields = p.field_list("key_fields");
        let missing_after = p.duration("missing_after");
        let severity = p.severity("severity", Severity::Critical);
        p.finish()?;
        let (Some(filter), Some(key_fields), Some(missing_after), Some(severity)) =
            (filter, key_fields, missing_after, severity)
        else {
            return Err(incomplete());
        };
        Ok(Box::new(Heartbeat {
            filter,
            key_fields,
            missing_after,
            severity,
        }))
    }

    fn alert_ascii(&self, items: &[DigestItem]) -> String {
        render::ascii(self.name(), items)
    }

    fn alert_html(&self, items: &[DigestItem]) -> String {
        render::html(self.name(), items)
    }

    fn alert_text(&self, items: &[DigestItem]) -> String {
        render::text(items, short)
    }
}

/// In the SMS line, a resolved heartbeat reads "caddashboard is back".
fn short(a: &AlertView) -> String {
    match a.status {
        AlertStatus::Resolved if a.key == DEFAULT_KEY => "events are back".to_owned(),
        AlertStatus::Resolved => format!("{} is back", a.key),
        _ => render::summary_short(a),
    }
}

fn example() -> Value {
    json!({
        "filter": [
            {"field": "host", "op": "eq", "value": "caddashboard"},
            {"field": "tags", "op": "contains", "value": "alive"}
        ],
        "key_fields": ["host"],
        "missing_after": "3m",
        "severity": "critical"
    })
}

fn last_seen(entry: &Value) -> Millis {
    entry.get(0).and_then(Value::as_i64).unwrap_or(Millis::MIN)
}

fn is_missing(entry: &Value) -> bool {
    entry.get(1).and_then(Value::as_u64) == Some(1)
}

impl Heartbeat {
    /// The key field values of a stored key.
    fn fields_of(&self, key: &str, entry: &Value) -> Map<String, Value> {
        match (
            self.key_fields.as_slice(),
            entry.get(2).and_then(Value::as_array),
        ) {
            ([field], _) => Map::from_iter([(field.clone(), Value::from(key))]),
            (fields, Some(values)) => fields.iter().cloned().zip(values.iter().cloned()).collect(),
            _ => Map::new(),
        }
    }
}

impl Handler for Heartbeat {
    fn title(&self) -> String {
        let mut title = format!("no event for {}", format_duration(self.missing_after));
        if !self.key_fields.is_empty() {
            title.push_str(&format!(" per {}", list(&self.key_fields)));
        }
        if !self.filter.conditions().is_empty() {
            title.push_str(&format!(" where {}", self.filter));
        }
        title.push_str(&format!(" → {}", self.severity));
        title
    }

    fn required_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.filter.fields().map(str::to_owned).collect();
        self.key_fields
            .iter()
            .for_each(|f| push_unique(&mut fields, f));
        fields
    }

    fn filters(&self) -> Vec<&Filter> {
        vec![&self.filter]
    }

    fn handle(&self, state: &mut Value, event: &Event, now: Millis) -> Option<Vec<Output>> {
        if !self.filter.matches(event) {
            return None;
        }
        let keyed = keyed(event, &self.key_fields)?;
        let entries = object(state);
        let previous = entries.get(&keyed.key);
        let was_missing = previous.is_some_and(is_missing);
        let seen = previous.map_or(now, |p| last_seen(p).max(now));
        let entry = if self.key_fields.len() > 1 {
            let values: Vec<&Value> = self
                .key_fields
                .iter()
                .filter_map(|f| keyed.fields.get(f))
                .collect();
            json!([seen, 0, values])
        } else {
            json!([seen, 0])
        };
        entries.insert(keyed.key.clone(), entry);
        evict_oldest(entries, MAX_KEYS, last_seen);
        Some(if was_missing {
            vec![Output::Resolve { key: keyed.key }]
        } else {
            Vec::new()
        })
    }

    fn tick(&self, state: &mut Value, now: Millis) -> Option<Vec<Output>> {
        let Value::Object(entries) = state else {
            return None;
        };
        let mut outputs = Vec::new();
        for (key, entry) in entries.iter_mut() {
            let seen = last_seen(entry);
            if is_missing(entry) || now.saturating_sub(seen) <= self.missing_after {
                continue;
            }
            if let Some(flag) = entry.get_mut(1) {
                *flag = 1.into();
            }
            let mut fields = self.fields_of(key, entry);
            fields.insert("last_seen".to_owned(), seen.into());
            let label = match (key.as_str(), self.key_fields.len()) {
                (DEFAULT_KEY, 0) => String::new(),
                (_, 1) => format!("{key}: "),
                _ => format!(
                    "{}: ",
                    self.key_fields
                        .iter()
                        .map(|f| render_value(fields.get(f)))
                        .collect::<Vec<_>>()
                        .join(":")
                ),
            };
            let ago = now.saturating_sub(seen) / 1000 * 1000;
            outputs.push(Output::Fire {
                key: key.clone(),
                severity: self.severity,
                summary: format!(
                    "{label}no event for more than {} (last seen {} ago)",
                    format_duration(self.missing_after),
                    format_duration(ago)
                ),
                fields,
            });
        }
        (!outputs.is_empty()).then_some(outputs)
    }

    fn ticks(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;

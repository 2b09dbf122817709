//! Tellify's handler types: pure logic from (parameters, state, event or clock)
//! to (new state, outputs).
//!
//! This crate knows nothing of HTTP, Redis or MongoDB. The server compiles a
//! handler instance's parameters once ([`HandlerType::compile`]), keeps the
//! instance's state as a `serde_json::Value` and calls [`Handler::handle`] for
//! each event the dispatcher routes to it and [`Handler::tick`] on a clock.
//! Everything here is deterministic given its inputs, which is what makes a
//! replay after a crash safe and the handlers easy to test.
//!
//! Layout:
//! * [`filter`], [`template`], [`duration`]: the building blocks parameters
//!   are made of, parsed once into domain types.
//! * [`types`]: the five built-in handler types.
//! * [`render`]: the digest renderers shared by the types.
//! * [`derive`](mod@derive): marking derived events with their origin.

pub mod alert;
pub mod derive;
pub mod duration;
pub mod filter;
mod params;
pub mod render;
mod schema;
mod state;
pub mod template;
pub mod types;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use alert::{AlertStatus, AlertView, DigestItem};
pub use derive::{MAX_HOPS, derive};
pub use duration::{format_duration, parse_duration};
pub use filter::{Condition, Filter, Op, canonical, lookup};
pub use template::Template;

/// An event: a JSON object, as posted (plus what the server adds).
pub type Event = serde_json::Map<String, Value>;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// How bad an alert is; ordered `info < warning < critical`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// Every severity, least severe first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str() == s)
            .ok_or_else(|| format!("unknown severity '{s}'; one of info, warning, critical"))
    }
}

/// What a handler asks the server to do.
///
/// Serialized with a `type` tag: `{"type":"fire","key":…}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Output {
    /// Fire (or fire again) the alert `key` of this instance.
    Fire {
        key: String,
        severity: Severity,
        summary: String,
        /// The useful event values behind the alert (key fields, the value, the group…).
        fields: serde_json::Map<String, Value>,
    },
    /// Resolve the alert `key` of this instance.
    Resolve { key: String },
    /// A derived event, before [`derive()`] marks its origin.
    Emit { event: Event },
}

/// A problem with a handler's parameters, located by a JSON pointer into them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamError {
    /// JSON pointer into the parameters, e.g. `/levels/1/value` (`""` for the whole).
    pub pointer: String,
    /// A message meant for the user who wrote the parameters.
    pub message: String,
}

impl ParamError {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ParamError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.pointer, self.message)
        }
    }
}

/// A kind of handler: `match`, `threshold`, … It describes its parameters,
/// compiles them into instances and renders its alerts in digests.
pub trait HandlerType: Send + Sync {
    /// The type's name, as in the API: `"match"`, `"threshold"`, …
    fn name(&self) -> &'static str;
    /// A paragraph for users.
    fn description(&self) -> &'static str;
    /// JSON Schema (draft 2020-12) of the parameters, self-contained (`$defs` inline).
    fn parameters_schema(&self) -> Value;
    /// Parse params into a ready instance, doing every check a schema cannot
    /// express (regexes compile, durations parse, levels consistent, templates
    /// well-formed…). This is DESIGN's `validate`.
    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>>;
    /// Plain text digest part (fixed-width friendly) for alerts of instances of this type.
    fn alert_ascii(&self, items: &[DigestItem]) -> String;
    /// HTML digest fragment; everything from users and events is escaped.
    fn alert_html(&self, items: &[DigestItem]) -> String;
    /// A very short line, for SMS.
    fn alert_text(&self, items: &[DigestItem]) -> String;
}

/// A compiled handler instance.
pub trait Handler: Send + Sync {
    /// One line describing this instance for a person.
    fn title(&self) -> String;
    /// Event fields this instance reads.
    fn required_fields(&self) -> Vec<String>;
    /// Filters of which at least one must match an event for `handle` to do
    /// anything. The dispatcher builds its index from their eq/in conditions.
    fn filters(&self) -> Vec<&Filter>;
    /// Run on one event. `now` is the event's own time. `state` is
    /// `Value::Null` for a fresh instance. Returns `None` when the event
    /// changed nothing (state untouched, nothing to say: it did not match, or
    /// it matched but, say, stayed below every level of a key not firing),
    /// `Some(outputs)` otherwise; the dispatcher writes the state back only
    /// then, so `None` is what keeps unchanged states out of the commit.
    fn handle(&self, state: &mut Value, event: &Event, now: Millis) -> Option<Vec<Output>>;
    /// Time-based work. `None` = nothing changed.
    fn tick(&self, state: &mut Value, now: Millis) -> Option<Vec<Output>> {
        let _ = (state, now);
        None
    }
    /// True if `tick` can ever do something for this instance.
    fn ticks(&self) -> bool {
        false
    }
}

static HANDLER_TYPES: [&dyn HandlerType; 5] = [
    &types::matcher::MatchType,
    &types::threshold::ThresholdType,
    &types::distinct_count::DistinctCountType,
    &types::rate::RateType,
    &types::heartbeat::HeartbeatType,
];

/// The built-in handler types, in a stable order.
pub fn handler_types() -> &'static [&'static dyn HandlerType] {
    &HANDLER_TYPES
}

/// The handler type of that name.
pub fn handler_type(name: &str) -> Option<&'static dyn HandlerType> {
    HANDLER_TYPES.iter().copied().find(|t| t.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_parses_and_displays() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Critical);
        for sev in Severity::ALL {
            assert_eq!(sev.to_string().parse::<Severity>(), Ok(sev));
            assert_eq!(
                serde_json::to_value(sev).expect("serialize"),
                Value::from(sev.as_str())
            );
        }
        assert_eq!(
            "Critical".parse::<Severity>(),
            Err("unknown severity 'Critical'; one of info, warning, critical".to_owned())
        );
    }

    #[test]
    fn registry_lists_the_five_types_in_order() {
        let names: Vec<_> = handler_types().iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            ["match", "threshold", "distinct_count", "rate", "heartbeat"]
        );
        assert_eq!(handler_type("rate").map(|t| t.name()), Some("rate"));
        assert!(handler_type("nope").is_none());
    }

    #[test]
    fn outputs_serialize_with_a_type_tag() {
        let out = Output::Resolve { key: "a/b".into() };
        assert_eq!(
            serde_json::to_value(out).expect("serialize"),
            serde_json::json!({"type": "resolve", "key": "a/b"})
        );
    }
}

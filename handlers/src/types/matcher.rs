//! `match`: fire an alert on every event that matches a filter.
//!
//! The alert key is rendered from the `key` template (default: one alert,
//! `default`). An event matching `resolve_filter` resolves the alert whose
//! key it renders to; `resolve_after` resolves an alert that has not fired
//! again for that long. An event matching both filters fires. An empty
//! `resolve_filter` means no resolving events.
//!
//! State (only with `resolve_filter` or `resolve_after`, otherwise it stays
//! `null`): `{"<key>": <last fire, ms>}` for the firing keys. Past
//! [`MAX_KEYS`](crate::state::MAX_KEYS) keys the oldest is forgotten (it will
//! then not be auto-resolved).

use serde_json::{Map, Value, json};

use super::{describe, incomplete};
use crate::duration::format_duration;
use crate::filter::Filter;
use crate::params::Params;
use crate::render::{self, summary_short};
use crate::schema::{filter_property, reference_with_default, root, severity_property};
use crate::state::{
    DEFAULT_KEY, MAX_KEYS, bounded_key, copy_fields, evict_oldest, object, push_unique,
};
use crate::template::Template;
use crate::{DigestItem, Event, Handler, HandlerType, Millis, Output, ParamError, Severity};

/// The `match` handler type.
pub struct MatchType;

const DESCRIPTION: &str = "Raises an alert for every event that matches a filter, \
for example when a build of your block fails. Repeats of the same alert are counted. \
The key decides which events raise the same alert (by default all of them); \
the alert can be resolved by another kind of event, or automatically after a quiet period.";

struct Match {
    filter: Filter,
    severity: Severity,
    summary: Option<Template>,
    key: Option<Template>,
    resolve_filter: Option<Filter>,
    resolve_after: Option<Millis>,
}

impl HandlerType for MatchType {
    fn name(&self) -> &'static str {
        "match"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn parameters_schema(&self) -> Value {
        let block_failed = json!([
            {"field": "block", "op": "eq", "value": "blk001"},
            {"field": "status", "op": "eq", "value": "failed"}
        ]);
        root(
            "Match",
            DESCRIPTION,
            &["filter"],
            json!({
                "filter": filter_property("Events that raise the alert.", block_failed),
                "severity": severity_property("Severity of the alert.", "warning"),
                "summary": reference_with_default(
                    "template",
                    "Summary",
                    "The alert's one-line text, with event fields in braces. Empty: the matched fields and their values.",
                    json!(""),
                    json!(["{block} failed {step}"]),
                ),
                "key": reference_with_default(
                    "template",
                    "Alert key",
                    "Events that render the same key raise the same alert (counted as repeats); others raise separate alerts. The default makes one alert for all events.",
                    json!(DEFAULT_KEY),
                    json!(["{project}/{block}"]),
                ),
                "resolve_filter": reference_with_default(
                    "filter",
                    "Resolve on",
                    "Events that resolve the alert with the key they render, e.g. the next successful build. Empty: no such events.",
                    json!([]),
                    json!([[{"field": "block", "op": "eq", "value": "blk001"}, {"field": "status", "op": "eq", "value": "passed"}]]),
                ),
                "resolve_after": {
                    "anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}],
                    "title": "Resolve after",
                    "description": "Resolve an alert that has not fired again for this long. Empty: it stays until resolved or cleared.",
                    "default": null,
                    "examples": ["1h"]
                }
            }),
            json!({
                "filter": [
                    {"field": "block", "op": "eq", "value": "blk001"},
                    {"field": "status", "op": "eq", "value": "failed"}
                ],
                "severity": "warning",
                "summary": "{block} failed {step}",
                "key": "{project}/{block}",
                "resolve_filter": [
                    {"field": "block", "op": "eq", "value": "blk001"},
                    {"field": "status", "op": "eq", "value": "passed"}
                ],
                "resolve_after": "1d"
            }),
        )
    }

    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>> {
        let allowed = [
            "filter",
            "severity",
            "summary",
            "key",
            "resolve_filter",
            "resolve_after",
        ];
        let mut p = Params::new(params, &allowed);
        let filter = p.filter("filter");
        let severity = p.severity("severity", Severity::Warning);
        let summary = p.opt_template("summary");
        let key = p.opt_template("key");
        if key
            .as_ref()
            .is_some_and(|k| k.as_ref().is_some_and(|k| k.source().trim().is_empty()))
        {
            p.error(
                "/key",
                "must not be empty; leave it out for one alert for all events",
            );
        }
        let resolve_filter = p.opt_filter("resolve_filter");
        let resolve_after = p.opt_duration("resolve_after");
        p.finish()?;
        let (
            Some(filter),
            Some(severity),
            Some(summary),
            Some(key),
            Some(resolve_filter),
            Some(resolve_after),
        ) = (
            filter,
            severity,
            summary,
            key,
            resolve_filter,
            resolve_after,
        )
        else {
            return Err(incomplete());
        };
        Ok(Box::new(Match {
            filter,
            severity,
            summary: summary.filter(|s| !s.source().is_empty()),
            key,
            // An empty list (what a form sends when left alone) means no resolving events,
            // not "every other event resolves".
            resolve_filter: resolve_filter.filter(|f| !f.conditions().is_empty()),
            resolve_after,
        }))
    }

    fn alert_ascii(&self, items: &[DigestItem]) -> String {
        render::ascii(self.name(), items)
    }

    fn alert_html(&self, items: &[DigestItem]) -> String {
        render::html(self.name(), items)
    }

    fn alert_text(&self, items: &[DigestItem]) -> String {
        render::text(items, summary_short)
    }
}

impl Match {
    /// Whether fired keys are remembered (only needed to resolve them).
    fn tracks(&self) -> bool {
        self.resolve_filter.is_some() || self.resolve_after.is_some()
    }

    fn key(&self, event: &Event) -> String {
        match &self.key {
            Some(t) => bounded_key(t.render(event)),
            None => DEFAULT_KEY.to_owned(),
        }
    }

    /// The values of the fields the filter and templates read.
    fn fields(&self, event: &Event) -> Map<String, Value> {
        let mut fields = Map::new();
        copy_fields(event, self.filter.fields(), &mut fields);
        for t in [&self.key, &self.summary].into_iter().flatten() {
            copy_fields(event, t.fields().iter().map(String::as_str), &mut fields);
        }
        fields
    }

    fn summary(&self, event: &Event, fields: &Map<String, Value>) -> String {
        match &self.summary {
            Some(t) => t.render(event),
            None if fields.is_empty() => "event matched".to_owned(),
            None => describe(fields),
        }
    }
}

impl Handler for Match {
    fn title(&self) -> String {
        let mut title = format!("{} → {}", self.filter, self.severity);
        if let Some(key) = &self.key {
            title.push_str(&format!(", one alert per {}", key.source()));
        }
        if let Some(rf) = &self.resolve_filter {
            title.push_str(&format!("; resolved by {rf}"));
        }
        if let Some(after) = self.resolve_after {
            title.push_str(&format!(
                "; resolves after {} quiet",
                format_duration(after)
            ));
        }
        title
    }

    fn required_fields(&self) -> Vec<String> {
        let mut fields = Vec::new();
        for f in self.filters() {
            f.fields().for_each(|name| push_unique(&mut fields, name));
        }
        for t in [&self.key, &self.summary].into_iter().flatten() {
            t.fields()
                .iter()
                .for_each(|name| push_unique(&mut fields, name));
        }
        fields
    }

    fn filters(&self) -> Vec<&Filter> {
        std::iter::once(&self.filter)
            .chain(&self.resolve_filter)
            .collect()
    }

    fn handle(&self, state: &mut Value, event: &Event, now: Millis) -> Option<Vec<Output>> {
        if self.filter.matches(event) {
            let key = self.key(event);
            if self.tracks() {
                let firing = object(state);
                firing.insert(key.clone(), now.into());
                evict_oldest(firing, MAX_KEYS, |t| t.as_i64().unwrap_or(0));
            }
            let fields = self.fields(event);
            return Some(vec![Output::Fire {
                key,
                severity: self.severity,
                summary: self.summary(event, &fields),
                fields,
            }]);
        }
        if !self.resolve_filter.as_ref()?.matches(event) {
            return None;
        }
        let key = self.key(event);
        let was_firing = match state {
            Value::Object(firing) => firing.remove(&key).is_some(),
            _ => false,
        };
        // Not firing: nothing to resolve, nothing changed.
        was_firing.then(|| vec![Output::Resolve { key }])
    }

    fn tick(&self, state: &mut Value, now: Millis) -> Option<Vec<Output>> {
        let after = self.resolve_after?;
        let Value::Object(firing) = state else {
            return None;
        };
        let quiet: Vec<String> = firing
            .iter()
            .filter(|(_, t)| t.as_i64().is_none_or(|t| now.saturating_sub(t) >= after))
            .map(|(k, _)| k.clone())
            .collect();
        if quiet.is_empty() {
            return None;
        }
        for key in &quiet {
            firing.remove(key);
        }
        Some(
            quiet
                .into_iter()
                .map(|key| Output::Resolve { key })
                .collect(),
        )
    }

    fn ticks(&self) -> bool {
        self.resolve_after.is_some()
    }
}

#[cfg(test)]
mod tests;

//! `distinct_count`: more than N distinct values of a field within a group.
//!
//! Events are grouped by the values of `group_by` (the alert key, joined with
//! `/`). The alert fires when a group has seen more than `more_than` distinct
//! values of `distinct_field` (within `window`, when set): on the event that
//! crosses, and again on every further event of the group while above (the
//! server counts repeats). A repeated value counts once. When `emit` is set,
//! the crossing event (only it) also emits a derived event: the group fields,
//! `count` and `values`, then the members of `emit` (which win on a clash).
//! With a window, values expire and the alert resolves when the count drops
//! back to `more_than` or less (on a tick or the group's next event);
//! without one, the alert stays until it is cleared.
//!
//! State: `{"<group>": {"v": {"<value>": <last seen, ms>}, "f": true}}`,
//! `f` only while firing. Only the [`KEEP_EXTRA`] + `more_than` + 1 most
//! recently seen values of a group are kept. That is enough to count exactly:
//! the values within the window are always the most recently seen ones, so
//! "more than N within the window" holds exactly when the (N+1)th most recent
//! value is within it, and the count is exact up to the number kept (beyond,
//! summaries say "at least"). A value forgotten and seen again is simply
//! recorded anew. Groups without values left are dropped; past
//! [`MAX_KEYS`](crate::state::MAX_KEYS) groups the least recently active is
//! forgotten.

use serde_json::{Map, Value, json};

use super::{incomplete, list};
use crate::duration::format_duration;
use crate::filter::{Filter, lookup};
use crate::params::Params;
use crate::render::{self, summary_short};
use crate::schema::{filter_property, reference, reference_with_default, root, severity_property};
use crate::state::{MAX_KEYS, bounded_key, evict_oldest, keyed, object, push_unique};
use crate::template::{Template, render_value};
use crate::{DigestItem, Event, Handler, HandlerType, Millis, Output, ParamError, Severity};

/// The `distinct_count` handler type.
pub struct DistinctCountType;

/// Largest `more_than`, which bounds the values kept per group.
pub const MAX_MORE_THAN: u64 = 1000;
/// Values kept beyond `more_than + 1`, so alerts can show a few more.
pub const KEEP_EXTRA: usize = 9;
/// Values shown in a default summary.
const SHOWN_VALUES: usize = 5;

const DESCRIPTION: &str = "Counts the different values of a field within groups of events, \
for example the distinct blocks that failed the place step within each run tag, and raises \
an alert when a group has more than N of them (optionally only counting values seen within a \
time window). It can also emit a derived event that other handlers match.";

struct DistinctCount {
    filter: Filter,
    group_by: Vec<String>,
    distinct_field: String,
    more_than: usize,
    window: Option<Millis>,
    severity: Severity,
    emit: Option<Map<String, Value>>,
    summary: Option<Template>,
}

impl HandlerType for DistinctCountType {
    fn name(&self) -> &'static str {
        "distinct_count"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn parameters_schema(&self) -> Value {
        let example = example();
        root(
            "Distinct count",
            DESCRIPTION,
            &["filter", "distinct_field", "more_than"],
            json!({
                "filter": filter_property("Events to count.", example["filter"].clone()),
                "group_by": reference_with_default(
                    "fields",
                    "Group by",
                    "Fields whose values make a group; each group is counted and alerted on separately. Empty: one group.",
                    json!([]),
                    json!([["runtag"]]),
                ),
                "distinct_field": reference("field", "Count distinct", "The field whose different values are counted.", json!(["block"])),
                "more_than": {
                    "title": "More than",
                    "description": "The alert fires when a group has more than this many distinct values.",
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_MORE_THAN,
                    "examples": [4]
                },
                "window": {
                    "anyOf": [{"$ref": "#/$defs/duration"}, {"type": "null"}],
                    "title": "Within",
                    "description": "Only count values seen within this sliding time window; the alert resolves when the count drops back. Empty: count for ever.",
                    "default": null,
                    "examples": ["1d"]
                },
                "severity": severity_property("Severity of the alert.", "warning"),
                "emit": {
                    "anyOf": [{"type": "object"}, {"type": "null"}],
                    "title": "Emit event",
                    "description": "When a group crosses the limit, also post a derived event made of the group fields, count and values, plus these fields (e.g. a type for other handlers to match). Empty: no event.",
                    "default": null,
                    "examples": [{"type": "many_blocks_failed"}]
                },
                "summary": reference_with_default(
                    "template",
                    "Summary",
                    "The alert's one-line text, with fields of the latest event in braces. Empty: e.g. \"r42: 5 distinct block (more than 4): b1, b2, b3, b4, b5\".",
                    json!(""),
                    json!(["too many blocks failed in {runtag}"]),
                )
            }),
            example,
        )
    }

    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>> {
        let allowed = [
            "filter",
            "group_by",
            "distinct_field",
            "more_than",
            "window",
            "severity",
            "emit",
            "summary",
        ];
        let mut p = Params::new(params, &allowed);
        let filter = p.filter("filter");
        let group_by = p.field_list("group_by");
        let distinct_field = p.field_name("distinct_field");
        let more_than = p.count("more_than", MAX_MORE_THAN);
        let window = p.opt_duration("window");
        let severity = p.severity("severity", Severity::Warning);
        let emit = p.opt_object("emit");
        if let Some(Some(emit)) = &emit
            && emit.contains_key("_origin")
        {
            p.error("/emit/_origin", "_origin is set by Tellify; leave it out");
        }
        let summary = p.opt_template("summary");
        p.finish()?;
        let (
            Some(filter),
            Some(group_by),
            Some(distinct_field),
            Some(more_than),
            Some(window),
            Some(severity),
            Some(emit),
            Some(summary),
        ) = (
            filter,
            group_by,
            distinct_field,
            more_than,
            window,
            severity,
            emit,
            summary,
        )
        else {
            return Err(incomplete());
        };
        let more_than = usize::try_from(more_than).map_err(|_| incomplete())?;
        Ok(Box::new(DistinctCount {
            filter,
            group_by,
            distinct_field,
            more_than,
            window,
            severity,
            emit,
            summary: summary.filter(|s| !s.source().is_empty()),
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

fn example() -> Value {
    json!({
        "filter": [
            {"field": "step", "op": "eq", "value": "place"},
            {"field": "status", "op": "eq", "value": "failed"}
        ],
        "group_by": ["runtag"],
        "distinct_field": "block",
        "more_than": 4,
        "window": "1d",
        "severity": "critical",
        "emit": {"type": "many_blocks_failed"}
    })
}

/// The values of a group, as stored: value → last seen (ms).
fn values_of(group: &Value) -> Option<&Map<String, Value>> {
    group.get("v").and_then(Value::as_object)
}

fn last_seen(t: &Value) -> Millis {
    t.as_i64().unwrap_or(Millis::MIN)
}

impl DistinctCount {
    fn keep(&self) -> usize {
        self.more_than + 1 + KEEP_EXTRA
    }

    /// Forget values outside the window; true if any were.
    fn expire(&self, values: &mut Map<String, Value>, now: Millis) -> bool {
        let Some(window) = self.window else {
            return false;
        };
        let before = values.len();
        values.retain(|_, t| now.saturating_sub(last_seen(t)) < window);
        values.len() != before
    }

    fn count_text(&self, count: usize) -> String {
        if count >= self.keep() {
            format!("at least {count}")
        } else {
            count.to_string()
        }
    }

    fn summary(&self, event: &Event, label: &str, values: &[&String]) -> String {
        if let Some(t) = &self.summary {
            return t.render(event);
        }
        let mut shown: Vec<&str> = values
            .iter()
            .take(SHOWN_VALUES)
            .map(|s| s.as_str())
            .collect();
        if values.len() > SHOWN_VALUES {
            shown.push("…");
        }
        let what = format!(
            "{} distinct {} (more than {}): {}",
            self.count_text(values.len()),
            self.distinct_field,
            self.more_than,
            shown.join(", ")
        );
        if label.is_empty() {
            what
        } else {
            format!("{label}: {what}")
        }
    }
}

impl Handler for DistinctCount {
    fn title(&self) -> String {
        let mut title = format!(
            "more than {} distinct {}",
            self.more_than, self.distinct_field
        );
        if !self.group_by.is_empty() {
            title.push_str(&format!(" per {}", list(&self.group_by)));
        }
        if let Some(window) = self.window {
            title.push_str(&format!(" within {}", format_duration(window)));
        }
        if !self.filter.conditions().is_empty() {
            title.push_str(&format!(" where {}", self.filter));
        }
        title.push_str(&format!(" → {}", self.severity));
        if let Some(emit) = &self.emit {
            title.push_str(&format!(", emits {}", Value::Object(emit.clone())));
        }
        title
    }

    fn required_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.filter.fields().map(str::to_owned).collect();
        self.group_by
            .iter()
            .for_each(|f| push_unique(&mut fields, f));
        push_unique(&mut fields, &self.distinct_field);
        if let Some(t) = &self.summary {
            t.fields().iter().for_each(|f| push_unique(&mut fields, f));
        }
        fields
    }

    fn filters(&self) -> Vec<&Filter> {
        vec![&self.filter]
    }

    fn handle(&self, state: &mut Value, event: &Event, now: Millis) -> Option<Vec<Output>> {
        if !self.filter.matches(event) {
            return None;
        }
        let keyed = keyed(event, &self.group_by)?;
        let value = lookup(event, &self.distinct_field).filter(|v| !v.is_null())?;
        let value = bounded_key(render_value(Some(value)));

        let groups = object(state);
        let group = groups
            .entry(keyed.key.clone())
            .or_insert_with(|| json!({"v": {}}));
        if !group.is_object() {
            *group = json!({"v": {}});
        }
        let was_firing = group.get("f").is_some();
        if !group.get("v").is_some_and(Value::is_object) {
            group["v"] = json!({});
        }
        let values = group.get_mut("v").and_then(Value::as_object_mut)?;
        values.insert(value, now.into());
        self.expire(values, now);
        evict_oldest(values, self.keep(), last_seen);
        let mut sorted: Vec<&String> = values.keys().collect();
        sorted.sort();
        let count = sorted.len();

        let mut outputs = Vec::new();
        if count > self.more_than {
            let mut fields = keyed.fields.clone();
            fields.insert("count".to_owned(), count.into());
            fields.insert(
                "values".to_owned(),
                sorted.iter().map(|s| Value::from(s.as_str())).collect(),
            );
            let summary = self.summary(event, &keyed.label, &sorted);
            outputs.push(Output::Fire {
                key: keyed.key.clone(),
                severity: self.severity,
                summary,
                fields: fields.clone(),
            });
            if !was_firing {
                group["f"] = Value::Bool(true);
                if let Some(emit) = &self.emit {
                    let mut derived = fields;
                    derived.extend(emit.clone());
                    outputs.push(Output::Emit { event: derived });
                }
            }
        } else if was_firing {
            if let Some(g) = group.as_object_mut() {
                g.remove("f");
            }
            outputs.push(Output::Resolve {
                key: keyed.key.clone(),
            });
        }
        evict_oldest(groups, MAX_KEYS, |g| {
            values_of(g)
                .and_then(|v| v.values().map(last_seen).max())
                .unwrap_or(Millis::MIN)
        });
        Some(outputs)
    }

    fn tick(&self, state: &mut Value, now: Millis) -> Option<Vec<Output>> {
        self.window?;
        let Value::Object(groups) = state else {
            return None;
        };
        let mut changed = false;
        let mut outputs = Vec::new();
        groups.retain(|key, group| {
            let firing = group.get("f").is_some();
            let Some(Value::Object(values)) = group.get_mut("v") else {
                changed = true;
                return false;
            };
            if !self.expire(values, now) {
                return true;
            }
            changed = true;
            let count = values.len();
            if firing && count <= self.more_than {
                outputs.push(Output::Resolve { key: key.clone() });
                if let Some(g) = group.as_object_mut() {
                    g.remove("f");
                }
                return count > 0;
            }
            firing || count > 0
        });
        changed.then_some(outputs)
    }

    fn ticks(&self) -> bool {
        self.window.is_some()
    }
}

#[cfg(test)]
mod tests;

//! `threshold`: a numeric field against levels, per key.
//!
//! Each key (the values of `key_fields` joined with `/`) is at the most
//! severe level whose condition holds, or at none. Going up is immediate.
//! Going down (or resolving) needs the value to cross back past the level by
//! more than `hysteresis`: the key stays at a level it is at while the
//! condition holds with its value moved by `hysteresis` toward the other side
//! (for `ge 90`, hysteresis 1: it stays while value ≥ 89, leaves below 89;
//! for `gt 90`: leaves at ≤ 89; mirrored for `le`/`lt`). With hysteresis 0
//! that is exactly the level's condition. Every event at a level fires (the
//! server counts repeats); the event that leaves all levels resolves. An event
//! whose value is not a number, or that lacks a key field, is ignored.
//!
//! State: `{"<key>": <level>}` for keys at a level, the level being 1 for the
//! least severe. Keys at no level are not stored, so the state is as big as
//! the number of alerts firing.

use serde_json::{Map, Value, json};

use super::{incomplete, list};
use crate::filter::{Filter, Op, lookup};
use crate::params::{Params, pointer_to};
use crate::render::{self, summary_short};
use crate::schema::{filter_property, reference, reference_with_default, root};
use crate::state::{keyed, object, push_unique};
use crate::template::{Template, render_value};
use crate::{DigestItem, Event, Handler, HandlerType, Millis, Output, ParamError, Severity};

/// The `threshold` handler type.
pub struct ThresholdType;

const DESCRIPTION: &str = "Watches a number in events, such as the percentage used of a \
filesystem, separately for each key (e.g. each host and filesystem). The alert fires at the \
most severe level reached (e.g. warning at 90 or more, critical at 97 or more) and resolves \
when the value drops back; the hysteresis keeps a value hovering around a level from flapping.";

#[derive(Debug, Clone, Copy, PartialEq)]
struct Level {
    severity: Severity,
    op: Op,
    value: f64,
}

impl Level {
    fn upward(&self) -> bool {
        matches!(self.op, Op::Ge | Op::Gt)
    }

    /// Does the level's condition hold for `v`, with the level moved by `slack` toward the other side?
    fn holds(&self, v: f64, slack: f64) -> bool {
        match self.op {
            Op::Ge => v >= self.value - slack,
            Op::Gt => v > self.value - slack,
            Op::Le => v <= self.value + slack,
            _ => v < self.value + slack,
        }
    }
}

struct Threshold {
    filter: Filter,
    value_field: String,
    key_fields: Vec<String>,
    /// Least severe first.
    levels: Vec<Level>,
    hysteresis: f64,
    summary: Option<Template>,
}

impl HandlerType for ThresholdType {
    fn name(&self) -> &'static str {
        "threshold"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn parameters_schema(&self) -> Value {
        let example = example();
        root(
            "Threshold",
            DESCRIPTION,
            &["filter", "value_field", "levels"],
            json!({
                "filter": filter_property("Events that carry the value.", example["filter"].clone()),
                "value_field": reference("field", "Value field", "The event field holding the number to watch.", json!(["pct"])),
                "key_fields": reference_with_default(
                    "fields",
                    "Key fields",
                    "Fields that tell apart the things watched: each combination of their values has its own alert. Empty: one alert.",
                    json!([]),
                    json!([["host", "fs"]]),
                ),
                "levels": {
                    "title": "Levels",
                    "description": "Up to three levels, each with a severity, a comparison and a limit, all pointing the same way (all ge/gt or all le/lt); a more severe level needs a more extreme limit.",
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": {
                        "title": "Level",
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["severity", "op", "value"],
                        "properties": {
                            "severity": {"$ref": "#/$defs/severity", "title": "Severity", "description": "Severity of the alert at this level.", "default": "warning", "examples": ["warning", "critical"]},
                            "op": {"title": "Comparison", "description": "ge: value ≥ limit, gt: value > limit, le: value ≤ limit, lt: value < limit.", "type": "string", "enum": ["ge", "gt", "le", "lt"], "default": "ge", "examples": ["ge"]},
                            "value": {"title": "Limit", "description": "The limit the value is compared with.", "type": "number", "default": 90, "examples": [90, 97]}
                        }
                    },
                    "examples": [example["levels"].clone()]
                },
                "hysteresis": {
                    "title": "Hysteresis",
                    "description": "How far the value must cross back past a level before the alert steps down or resolves, so a value hovering around a limit does not flap. 0: no margin.",
                    "type": "number",
                    "minimum": 0,
                    "default": 0,
                    "examples": [1]
                },
                "summary": reference_with_default(
                    "template",
                    "Summary",
                    "The alert's one-line text, with event fields in braces. Empty: e.g. \"cad01:/sarc/fs02 pct 97.5 (critical ≥ 97)\".",
                    json!(""),
                    json!(["{host}:{fs} is {pct}% full"]),
                )
            }),
            example,
        )
    }

    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>> {
        let allowed = [
            "filter",
            "value_field",
            "key_fields",
            "levels",
            "hysteresis",
            "summary",
        ];
        let mut p = Params::new(params, &allowed);
        let filter = p.filter("filter");
        let value_field = p.field_name("value_field");
        let key_fields = p.field_list("key_fields");
        let levels = parse_levels(&mut p);
        let hysteresis = match p.get("hysteresis") {
            None => Some(0.0),
            Some(v) => v.as_f64().filter(|h| *h >= 0.0).or_else(|| {
                p.error("/hysteresis", "must be a number, 0 or more");
                None
            }),
        };
        let summary = p.opt_template("summary");
        p.finish()?;
        let (
            Some(filter),
            Some(value_field),
            Some(key_fields),
            Some(levels),
            Some(hysteresis),
            Some(summary),
        ) = (filter, value_field, key_fields, levels, hysteresis, summary)
        else {
            return Err(incomplete());
        };
        Ok(Box::new(Threshold {
            filter,
            value_field,
            key_fields,
            levels,
            hysteresis,
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
    let filesystems: Vec<String> = (1..=10).map(|i| format!("/sarc/fs{i:02}")).collect();
    json!({
        "filter": [
            {"field": "source", "op": "eq", "value": "disk-monitor"},
            {"field": "fs", "op": "in", "value": filesystems}
        ],
        "value_field": "pct",
        "key_fields": ["host", "fs"],
        "levels": [
            {"severity": "warning", "op": "ge", "value": 90},
            {"severity": "critical", "op": "ge", "value": 97}
        ],
        "hysteresis": 1.0
    })
}

/// Read `levels`, check they are consistent, and sort them least severe first.
fn parse_levels(p: &mut Params<'_>) -> Option<Vec<Level>> {
    let Some(v) = p.get("levels") else {
        p.error(
            "/levels",
            "missing levels, e.g. [{\"severity\": \"warning\", \"op\": \"ge\", \"value\": 90}]",
        );
        return None;
    };
    let Some(items) = v.as_array().filter(|a| (1..=3).contains(&a.len())) else {
        p.error("/levels", "must be a list of one to three levels");
        return None;
    };
    let mut levels: Vec<(usize, Level)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/levels/{i}");
        let Some(map) = item.as_object() else {
            p.error(at, "must be an object with severity, op and value");
            continue;
        };
        for key in map
            .keys()
            .filter(|k| !matches!(k.as_str(), "severity" | "op" | "value"))
        {
            p.error(
                pointer_to(&at, key),
                format!("unknown property '{key}'; a level has severity, op and value"),
            );
        }
        let severity = match map.get("severity") {
            Some(s) => p.severity_at(s, &format!("{at}/severity")),
            None => {
                p.error(format!("{at}/severity"), "missing severity");
                None
            }
        };
        let op = map
            .get("op")
            .and_then(Value::as_str)
            .and_then(Op::from_name);
        let op = op.filter(|op| matches!(op, Op::Ge | Op::Gt | Op::Le | Op::Lt));
        if op.is_none() {
            p.error(format!("{at}/op"), "must be one of ge, gt, le, lt");
        }
        let value = map.get("value").and_then(Value::as_f64);
        if value.is_none() {
            p.error(format!("{at}/value"), "must be a number");
        }
        if let (Some(severity), Some(op), Some(value)) = (severity, op, value) {
            levels.push((
                i,
                Level {
                    severity,
                    op,
                    value,
                },
            ));
        }
    }
    if levels.len() != items.len() {
        return None;
    }
    let mut ok = true;
    let upward = levels[0].1.upward();
    for (i, level) in &levels[1..] {
        if level.upward() != upward {
            p.error(
                format!("/levels/{i}/op"),
                "all levels must point the same way: all ge/gt, or all le/lt",
            );
            ok = false;
        }
    }
    for (n, (i, level)) in levels.iter().enumerate() {
        if levels[..n]
            .iter()
            .any(|(_, l)| l.severity == level.severity)
        {
            p.error(
                format!("/levels/{i}/severity"),
                format!("two levels have severity {}", level.severity),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    levels.sort_by_key(|(_, l)| l.severity);
    for pair in levels.windows(2) {
        let ((_, lower), (i, higher)) = (&pair[0], &pair[1]);
        let more_extreme = if upward {
            higher.value > lower.value
        } else {
            higher.value < lower.value
        };
        if !more_extreme {
            let side = if upward { "above" } else { "below" };
            p.error(
                format!("/levels/{i}/value"),
                format!(
                    "the {} limit must be {side} the {} limit ({}), since it is more severe",
                    higher.severity, lower.severity, lower.value
                ),
            );
            return None;
        }
    }
    Some(levels.into_iter().map(|(_, l)| l).collect())
}

impl Threshold {
    /// The level (1-based, 0 for none) for value `v` of a key now at `current`.
    fn level_for(&self, v: f64, current: usize) -> usize {
        (1..=self.levels.len())
            .rev()
            .find(|&j| {
                let level = &self.levels[j - 1];
                level.holds(v, 0.0) || (j <= current && level.holds(v, self.hysteresis))
            })
            .unwrap_or(0)
    }

    fn summary(&self, event: &Event, label: &str, value: &Value, level: &Level) -> String {
        if let Some(t) = &self.summary {
            return t.render(event);
        }
        let what = format!(
            "{} {} ({} {} {})",
            self.value_field,
            render_value(Some(value)),
            level.severity,
            level.op.symbol(),
            level.value
        );
        if label.is_empty() {
            what
        } else {
            format!("{label} {what}")
        }
    }
}

impl Handler for Threshold {
    fn title(&self) -> String {
        let levels: Vec<String> = self
            .levels
            .iter()
            .map(|l| format!("{} {} ({})", l.op.symbol(), l.value, l.severity))
            .collect();
        let mut title = format!("{} {}", self.value_field, levels.join(" / "));
        if !self.key_fields.is_empty() {
            title.push_str(&format!(" per {}", list(&self.key_fields)));
        }
        if !self.filter.conditions().is_empty() {
            title.push_str(&format!(" where {}", self.filter));
        }
        if self.hysteresis > 0.0 {
            title.push_str(&format!(", hysteresis {}", self.hysteresis));
        }
        title
    }

    fn required_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.filter.fields().map(str::to_owned).collect();
        push_unique(&mut fields, &self.value_field);
        self.key_fields
            .iter()
            .for_each(|f| push_unique(&mut fields, f));
        if let Some(t) = &self.summary {
            t.fields().iter().for_each(|f| push_unique(&mut fields, f));
        }
        fields
    }

    fn filters(&self) -> Vec<&Filter> {
        vec![&self.filter]
    }

    fn handle(&self, state: &mut Value, event: &Event, _now: Millis) -> Option<Vec<Output>> {
        if !self.filter.matches(event) {
            return None;
        }
        let value = lookup(event, &self.value_field)?;
        let v = value.as_f64()?;
        let keyed = keyed(event, &self.key_fields)?;
        let current = state
            .get(&keyed.key)
            .and_then(Value::as_u64)
            .map_or(0, |l| {
                usize::try_from(l).unwrap_or(0).min(self.levels.len())
            });
        let new = self.level_for(v, current);
        let Some(level) = new.checked_sub(1).map(|i| self.levels[i]) else {
            let was = match state {
                Value::Object(levels) => levels.remove(&keyed.key).is_some(),
                _ => false,
            };
            // Below every level and not firing: nothing changed.
            return was.then(|| vec![Output::Resolve { key: keyed.key }]);
        };
        if new != current {
            object(state).insert(keyed.key.clone(), new.into());
        }
        let mut fields: Map<String, Value> = keyed.fields;
        fields.insert(self.value_field.clone(), value.clone());
        Some(vec![Output::Fire {
            summary: self.summary(event, &keyed.label, value, &level),
            key: keyed.key,
            severity: level.severity,
            fields,
        }])
    }
}

#[cfg(test)]
mod tests;

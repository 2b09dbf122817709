//! `rate`: more than N matching events within a sliding window, per group.
//!
//! An event counts for `window` after it arrived (it is out once
//! `now - arrival ≥ window`). The alert of a group (the values of `group_by`
//! joined with `/`, or `default`) fires on each event that finds more than
//! `more_than` events in the window, itself included, and resolves when the
//! count drops back to `more_than` or less (on a tick or the group's next
//! event).
//!
//! State: `{"<group>": {"t": [<arrival, ms>…], "f": true}}`, arrivals in
//! ascending order, `f` only while firing. Only the `more_than + 1` most
//! recent arrivals are kept: "more than N in the window" holds exactly when
//! the (N+1)th most recent one is still in it, so older ones never matter.
//! Groups with no arrival left are dropped; past
//! [`MAX_KEYS`](crate::state::MAX_KEYS) groups the least recently active is
//! forgotten.

use serde_json::{Value, json};

use super::{incomplete, list};
use crate::duration::format_duration;
use crate::filter::Filter;
use crate::params::Params;
use crate::render::{self, summary_short};
use crate::schema::{filter_property, reference, reference_with_default, root, severity_property};
use crate::state::{MAX_KEYS, evict_oldest, keyed, object, push_unique};
use crate::template::Template;
use crate::{DigestItem, Event, Handler, HandlerType, Millis, Output, ParamError, Severity};

/// The `rate` handler type.
pub struct RateType;

/// Largest `more_than`, which bounds the arrivals kept per group.
pub const MAX_MORE_THAN: u64 = 1000;

const DESCRIPTION: &str = "Raises an alert when more than N matching events arrive within a \
sliding time window, for example more than 10 failed logins within an hour, optionally \
counted separately per group (e.g. per host). The alert resolves when the rate drops back.";

struct Rate {
    filter: Filter,
    more_than: usize,
    window: Millis,
    group_by: Vec<String>,
    severity: Severity,
    summary: Option<Template>,
}

impl HandlerType for RateType {
    fn name(&self) -> &'static str {
        "rate"
    }

    fn description(&self) -> &'static str {
        DESCRIPTION
    }

    fn parameters_schema(&self) -> Value {
        let example = example();
        root(
            "Rate",
            DESCRIPTION,
            &["filter", "more_than", "window"],
            json!({
                "filter": filter_property("Events to count.", example["filter"].clone()),
                "more_than": {
                    "title": "More than",
                    "description": "The alert fires when more than this many events arrived within the window.",
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_MORE_THAN,
                    "examples": [10]
                },
                "window": reference("duration", "Within", "The sliding time window events are counted in.", json!(["1h"])),
                "group_by": reference_with_default(
                    "fields",
                    "Group by",
                    "Fields whose values make a group; each group is counted and alerted on separately. Empty: one count for all events.",
                    json!([]),
                    json!([["host"]]),
                ),
                "severity": severity_property("Severity of the alert.", "warning"),
                "summary": reference_with_default(
                    "template",
                    "Summary",
                    "The alert's one-line text, with fields of the latest event in braces. Empty: e.g. \"cad01: more than 10 events within 1h\".",
                    json!(""),
                    json!(["{host}: too many failed logins"]),
                )
            }),
            example,
        )
    }

    fn compile(&self, params: &Value) -> Result<Box<dyn Handler>, Vec<ParamError>> {
        let allowed = [
            "filter",
            "more_than",
            "window",
            "group_by",
            "severity",
            "summary",
        ];
        let mut p = Params::new(params, &allowed);
        let filter = p.filter("filter");
        let more_than = p.count("more_than", MAX_MORE_THAN);
        let window = p.duration("window");
        let group_by = p.field_list("group_by");
        let severity = p.severity("severity", Severity::Warning);
        let summary = p.opt_template("summary");
        p.finish()?;
        let (
            Some(filter),
            Some(more_than),
            Some(window),
            Some(group_by),
            Some(severity),
            Some(summary),
        ) = (filter, more_than, window, group_by, severity, summary)
        else {
            return Err(incomplete());
        };
        let more_than = usize::try_from(more_than).map_err(|_| incomplete())?;
        Ok(Box::new(Rate {
            filter,
            more_than,
            window,
            group_by,
            severity,
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
            {"field": "source", "op": "eq", "value": "auth"},
            {"field": "status", "op": "eq", "value": "failed"}
        ],
        "more_than": 10,
        "window": "1h",
        "group_by": ["host"],
        "severity": "warning"
    })
}

fn arrivals(group: &Value) -> impl Iterator<Item = Millis> + '_ {
    group
        .get("t")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
}

impl Rate {
    /// The group's arrivals still in the window, at most `more_than + 1`, ascending.
    fn in_window(&self, group: &Value, now: Millis) -> Vec<Millis> {
        let mut times: Vec<Millis> = arrivals(group)
            .filter(|t| now.saturating_sub(*t) < self.window)
            .collect();
        times.sort_unstable();
        let excess = times.len().saturating_sub(self.more_than + 1);
        times.drain(..excess);
        times
    }
}

impl Handler for Rate {
    fn title(&self) -> String {
        let mut title = format!(
            "more than {} events within {}",
            self.more_than,
            format_duration(self.window)
        );
        if !self.group_by.is_empty() {
            title.push_str(&format!(" per {}", list(&self.group_by)));
        }
        if !self.filter.conditions().is_empty() {
            title.push_str(&format!(" where {}", self.filter));
        }
        title.push_str(&format!(" → {}", self.severity));
        title
    }

    fn required_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self.filter.fields().map(str::to_owned).collect();
        self.group_by
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

    fn handle(&self, state: &mut Value, event: &Event, now: Millis) -> Option<Vec<Output>> {
        if !self.filter.matches(event) {
            return None;
        }
        let keyed = keyed(event, &self.group_by)?;
        let groups = object(state);
        let group = groups
            .entry(keyed.key.clone())
            .or_insert_with(|| json!({"t": []}));
        let was_firing = group.get("f").is_some();
        let mut times = self.in_window(group, now);
        let at = times.partition_point(|t| *t <= now);
        times.insert(at, now);
        if times.len() > self.more_than + 1 {
            times.remove(0);
        }
        let count = times.len();
        let mut record = json!({"t": times});
        let mut outputs = Vec::new();
        if count > self.more_than {
            record["f"] = Value::Bool(true);
            let summary = match &self.summary {
                Some(t) => t.render(event),
                None => {
                    let what = format!(
                        "more than {} events within {}",
                        self.more_than,
                        format_duration(self.window)
                    );
                    if keyed.label.is_empty() {
                        what
                    } else {
                        format!("{}: {what}", keyed.label)
                    }
                }
            };
            outputs.push(Output::Fire {
                key: keyed.key,
                severity: self.severity,
                summary,
                fields: keyed.fields,
            });
        } else if was_firing {
            outputs.push(Output::Resolve { key: keyed.key });
        }
        *group = record;
        evict_oldest(groups, MAX_KEYS, |g| {
            arrivals(g).max().unwrap_or(Millis::MIN)
        });
        Some(outputs)
    }

    fn tick(&self, state: &mut Value, now: Millis) -> Option<Vec<Output>> {
        let Value::Object(groups) = state else {
            return None;
        };
        let mut changed = false;
        let mut outputs = Vec::new();
        groups.retain(|key, group| {
            let times = self.in_window(group, now);
            if times.len() == arrivals(group).count() {
                return true;
            }
            changed = true;
            let firing = group.get("f").is_some() && times.len() > self.more_than;
            if group.get("f").is_some() && !firing {
                outputs.push(Output::Resolve { key: key.clone() });
            }
            let keep = firing || !times.is_empty();
            *group = if firing {
                json!({"t": times, "f": true})
            } else {
                json!({"t": times})
            };
            keep
        });
        changed.then_some(outputs)
    }

    fn ticks(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;

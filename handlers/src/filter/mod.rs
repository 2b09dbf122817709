//! Filters: a list of conditions on event fields, all of which must hold.
//!
//! A filter is parsed once ([`Filter::parse`]) into conditions whose values
//! are already in the form matching needs (canonical keys, compiled regexes,
//! numbers), so [`Filter::matches`] runs on every event without allocating.
//!
//! Semantics, in short:
//! * Field paths use dots for nesting (`disk.pct`); see [`lookup`].
//! * Equality (`eq ne in not_in`, and array elements for `contains`) is loose:
//!   two scalars are equal when their [`canonical`] texts are, so the number
//!   `90`, the number `90.0` and the string `"90"` are all equal (events posted
//!   as text lines turn numbers into numbers; users write values as strings).
//!   The dispatcher's index uses the same canonical keys
//!   ([`Condition::index_keys`]), so index and matching always agree.
//! * `ne` and `not_in` hold when the field is missing; `exists` takes a
//!   boolean (a `null` field counts as missing).
//! * `gt ge lt le` compare numbers only: a field that is not a JSON number
//!   never satisfies them. The value may be written as a number or a numeric string.
//! * `contains`: substring for string fields, element (loosely equal) for arrays.
//! * `regex` (unanchored, Rust `regex` syntax, size-limited) tests strings and
//!   the canonical text of numbers and booleans.

mod value;

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::params::pointer_to;
use crate::{Event, ParamError};

pub use value::{canonical, lookup};
use value::{loose_eq, with_canonical_str};

/// Most conditions in one filter.
pub const MAX_CONDITIONS: usize = 64;
/// Most values in one `in`/`not_in` list.
pub const MAX_LIST: usize = 1000;
/// Longest regex source, in bytes.
pub const MAX_REGEX_LEN: usize = 1000;
/// Compiled regex size limit, in bytes (keeps hostile patterns cheap).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// A comparison operator of a condition.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    Regex,
    Exists,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

impl Op {
    /// Every operator, in the order the documentation lists them.
    pub const ALL: [Op; 11] = [
        Op::Eq,
        Op::Ne,
        Op::In,
        Op::NotIn,
        Op::Regex,
        Op::Exists,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::Contains,
    ];

    /// The name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Regex => "regex",
            Op::Exists => "exists",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Contains => "contains",
        }
    }

    /// The operator of that name.
    pub fn from_name(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// How titles write it: `=`, `≥`, `in`…
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "≠",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Regex => "~",
            Op::Exists => "exists",
            Op::Gt => ">",
            Op::Ge => "≥",
            Op::Lt => "<",
            Op::Le => "≤",
            Op::Contains => "contains",
        }
    }

    /// The names of all operators, for messages: `eq, ne, …`.
    fn list() -> String {
        Op::ALL.map(Op::as_str).join(", ")
    }
}

/// A parsed filter: conditions that must all hold. An empty filter matches every event.
#[derive(Debug, Clone)]
pub struct Filter {
    conditions: Vec<Condition>,
}

/// One condition of a filter: `field op value`.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Field path, dots for nesting.
    pub field: String,
    pub op: Op,
    /// The value as the user wrote it.
    pub value: Value,
    test: Test,
}

/// The value of a condition in the form matching needs.
#[derive(Debug, Clone)]
enum Test {
    /// eq/ne: the canonical text.
    Equal(String),
    /// in/not_in: canonical texts, sorted and deduplicated.
    OneOf(Vec<String>),
    Regex(Regex),
    Exists(bool),
    /// gt/ge/lt/le
    Compare(f64),
    /// contains: the canonical text.
    Contains(String),
}

impl Filter {
    /// Parse a filter (a JSON array of `{field, op, value}`); `pointer` locates it in
    /// the parameters, e.g. `/filter`, and prefixes the pointers of errors.
    pub fn parse(v: &Value, pointer: &str) -> Result<Filter, Vec<ParamError>> {
        let Value::Array(items) = v else {
            return Err(vec![ParamError::new(
                pointer,
                "must be a list of conditions such as [{\"field\": \"source\", \"op\": \"eq\", \"value\": \"disk-monitor\"}]",
            )]);
        };
        if items.len() > MAX_CONDITIONS {
            return Err(vec![ParamError::new(
                pointer,
                format!(
                    "too many conditions ({}); at most {MAX_CONDITIONS}",
                    items.len()
                ),
            )]);
        }
        let mut conditions = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match Condition::parse(item, &format!("{pointer}/{i}")) {
                Ok(c) => conditions.push(c),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(Filter { conditions })
        } else {
            Err(errors)
        }
    }

    /// True when every condition holds for the event. Does not allocate
    /// (except for `regex` on a number whose text is longer than 64 bytes).
    pub fn matches(&self, event: &Event) -> bool {
        self.conditions.iter().all(|c| c.holds(event))
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The fields the conditions read, in order, without repeats.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.conditions
            .iter()
            .enumerate()
            .filter(|(i, c)| !self.conditions[..*i].iter().any(|p| p.field == c.field))
            .map(|(_, c)| c.field.as_str())
    }
}

/// For people: `block = blk001 and status = failed`; `any event` when empty.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conditions.is_empty() {
            return f.write_str("any event");
        }
        for (i, c) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl Condition {
    fn parse(item: &Value, pointer: &str) -> Result<Condition, Vec<ParamError>> {
        let Value::Object(map) = item else {
            return Err(vec![ParamError::new(
                pointer,
                "must be an object with field, op and value",
            )]);
        };
        let mut errors = Vec::new();
        for key in map.keys() {
            if !matches!(key.as_str(), "field" | "op" | "value") {
                errors.push(ParamError::new(
                    pointer_to(pointer, key),
                    format!("unknown property '{key}'; a condition has field, op and value"),
                ));
            }
        }
        let field = match map.get("field") {
            None => {
                errors.push(ParamError::new(
                    format!("{pointer}/field"),
                    "missing field name",
                ));
                None
            }
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => Some(s.clone()),
            Some(_) => {
                errors.push(ParamError::new(
                    format!("{pointer}/field"),
                    "must be a field name such as \"status\" or \"disk.pct\" (dots for nesting)",
                ));
                None
            }
        };
        let op = match map.get("op") {
            None => {
                errors.push(ParamError::new(
                    format!("{pointer}/op"),
                    format!("missing operator; one of {}", Op::list()),
                ));
                None
            }
            Some(Value::String(s)) => Op::from_name(s).or_else(|| {
                errors.push(ParamError::new(
                    format!("{pointer}/op"),
                    format!("unknown operator '{s}'; one of {}", Op::list()),
                ));
                None
            }),
            Some(_) => {
                errors.push(ParamError::new(
                    format!("{pointer}/op"),
                    format!("must be one of {}", Op::list()),
                ));
                None
            }
        };
        let value_ptr = format!("{pointer}/value");
        let test = match (op, map.get("value")) {
            (None, _) => None,
            (Some(_), None) => {
                errors.push(ParamError::new(&value_ptr, "missing value"));
                None
            }
            (Some(op), Some(value)) => match Test::parse(op, value, &value_ptr) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        match (field, op, test) {
            (Some(field), Some(op), Some(test)) if errors.is_empty() => Ok(Condition {
                field,
                op,
                value: map.get("value").cloned().unwrap_or(Value::Null),
                test,
            }),
            _ => Err(errors),
        }
    }

    /// For `eq` and `in`: the canonical keys of the values this condition
    /// accepts (see [`canonical`]); `None` for other operators.
    pub fn index_keys(&self) -> Option<Vec<String>> {
        match (&self.op, &self.test) {
            (Op::Eq, Test::Equal(key)) => Some(vec![key.clone()]),
            (Op::In, Test::OneOf(keys)) => Some(keys.clone()),
            _ => None,
        }
    }

    /// Does the condition hold for this event?
    pub fn holds(&self, event: &Event) -> bool {
        let found = lookup(event, &self.field).filter(|v| !v.is_null());
        match &self.test {
            Test::Equal(key) => found.is_some_and(|v| loose_eq(v, key)) == (self.op == Op::Eq),
            Test::OneOf(keys) => found.is_some_and(|v| one_of(v, keys)) == (self.op == Op::In),
            Test::Regex(re) => found.is_some_and(|v| with_canonical_str(v, |s| re.is_match(s))),
            Test::Exists(wanted) => found.is_some() == *wanted,
            Test::Compare(limit) => found
                .and_then(Value::as_f64)
                .is_some_and(|x| match self.op {
                    Op::Gt => x > *limit,
                    Op::Ge => x >= *limit,
                    Op::Lt => x < *limit,
                    _ => x <= *limit,
                }),
            Test::Contains(needle) => match found {
                Some(Value::String(s)) => s.contains(needle.as_str()),
                Some(Value::Array(items)) => items.iter().any(|item| loose_eq(item, needle)),
                _ => false,
            },
        }
    }
}

/// Is `v` loosely equal to one of the sorted canonical `keys`?
fn one_of(v: &Value, keys: &[String]) -> bool {
    let find = |s: &str| keys.binary_search_by(|k| k.as_str().cmp(s)).is_ok();
    match v {
        Value::String(s) => find(s),
        Value::Bool(b) => find(if *b { "true" } else { "false" }),
        Value::Number(_) => keys.iter().any(|k| loose_eq(v, k)),
        _ => false,
    }
}

impl Test {
    fn parse(op: Op, value: &Value, pointer: &str) -> Result<Test, ParamError> {
        let scalar = |v: &Value, ptr: &str| {
            canonical(v).ok_or_else(|| ParamError::new(ptr, "must be a string, number or boolean"))
        };
        match op {
            Op::Eq | Op::Ne => scalar(value, pointer).map(Test::Equal),
            Op::Contains => scalar(value, pointer).map(Test::Contains),
            Op::In | Op::NotIn => {
                let Value::Array(items) = value else {
                    return Err(ParamError::new(
                        pointer,
                        format!(
                            "{} takes a list of values, e.g. [\"a\", \"b\"]",
                            op.as_str()
                        ),
                    ));
                };
                if items.is_empty() {
                    return Err(ParamError::new(pointer, "list at least one value"));
                }
                if items.len() > MAX_LIST {
                    return Err(ParamError::new(
                        pointer,
                        format!("too many values ({}); at most {MAX_LIST}", items.len()),
                    ));
                }
                let mut keys = items
                    .iter()
                    .enumerate()
                    .map(|(j, v)| scalar(v, &format!("{pointer}/{j}")))
                    .collect::<Result<Vec<_>, _>>()?;
                keys.sort();
                keys.dedup();
                Ok(Test::OneOf(keys))
            }
            Op::Regex => {
                let Value::String(source) = value else {
                    return Err(ParamError::new(
                        pointer,
                        "must be a regular expression (a string)",
                    ));
                };
                if source.len() > MAX_REGEX_LEN {
                    return Err(ParamError::new(
                        pointer,
                        format!("regular expression too long; at most {MAX_REGEX_LEN} bytes"),
                    ));
                }
                RegexBuilder::new(source)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map(Test::Regex)
                    .map_err(|e| {
                        ParamError::new(pointer, format!("invalid regular expression: {e}"))
                    })
            }
            Op::Exists => value.as_bool().map(Test::Exists).ok_or_else(|| {
                ParamError::new(
                    pointer,
                    "must be true (field present) or false (field missing)",
                )
            }),
            Op::Gt | Op::Ge | Op::Lt | Op::Le => {
                let number = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
                    _ => None,
                };
                number.map(Test::Compare).ok_or_else(|| {
                    ParamError::new(
                        pointer,
                        format!("{} compares numbers: give a number", op.as_str()),
                    )
                })
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.test {
            Test::Exists(true) => write!(f, "{field} exists"),
            Test::Exists(false) => write!(f, "{field} is missing"),
            Test::Regex(re) => write!(f, "{field} ~ /{}/", re.as_str()),
            Test::Compare(limit) => write!(f, "{field} {} {limit}", self.op.symbol()),
            Test::Equal(key) | Test::Contains(key) => {
                write!(f, "{field} {} {}", self.op.symbol(), quoted(key))
            }
            Test::OneOf(keys) if keys.len() > 4 => {
                write!(f, "{field} {} {} values", self.op.symbol(), keys.len())
            }
            Test::OneOf(keys) => {
                let list: Vec<_> = keys.iter().map(|k| quoted(k)).collect();
                write!(f, "{field} {} [{}]", self.op.symbol(), list.join(", "))
            }
        }
    }
}

/// A value in a title: bare when it reads unambiguously, JSON-quoted otherwise.
fn quoted(s: &str) -> String {
    let plain = !s.is_empty() && !s.contains([' ', ',', '[', ']', '"']) && !s.contains(" and ");
    if plain {
        s.to_owned()
    } else {
        Value::from(s).to_string()
    }
}

#[cfg(test)]
mod tests;

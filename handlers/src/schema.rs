//! Pieces of the parameter schemas shared by the handler types.
//!
//! Each type's schema is self-contained: the shared definitions (filter,
//! condition, severity, duration, field lists) are inlined under `$defs` and
//! referenced with `$ref`. A browser form is generated from them, so every
//! property has a title, a description and examples; optional properties also
//! have their default (required ones have none: a default there would be a
//! guess the user did not make).

use serde_json::{Value, json};

use crate::duration::DURATION_PATTERN;
use crate::filter::{MAX_CONDITIONS, MAX_LIST, MAX_REGEX_LEN, Op};
use crate::params::MAX_KEY_FIELDS;
use crate::template::MAX_TEMPLATE_LEN;

/// The whole schema of a type's parameters.
pub(crate) fn root(
    title: &str,
    description: &str,
    required: &[&str],
    properties: Value,
    example: Value,
) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
        "examples": [example],
        "$defs": defs(),
    })
}

/// A property that refers to a shared definition, with its own texts.
pub(crate) fn reference(def: &str, title: &str, description: &str, examples: Value) -> Value {
    json!({
        "$ref": format!("#/$defs/{def}"),
        "title": title,
        "description": description,
        "examples": examples,
    })
}

/// Like [`reference`], for an optional property with a default.
pub(crate) fn reference_with_default(
    def: &str,
    title: &str,
    description: &str,
    default: Value,
    examples: Value,
) -> Value {
    let mut v = reference(def, title, description, examples);
    v["default"] = default;
    v
}

/// The usual `filter` property.
pub(crate) fn filter_property(description: &str, example: Value) -> Value {
    let description =
        format!("{description} Every condition must hold; an empty list matches every event.");
    reference("filter", "Events to watch", &description, json!([example]))
}

/// The usual `severity` property.
pub(crate) fn severity_property(description: &str, default: &str) -> Value {
    reference_with_default(
        "severity",
        "Severity",
        description,
        json!(default),
        json!([default]),
    )
}

fn defs() -> Value {
    let ops: Vec<&str> = Op::ALL.iter().map(|op| op.as_str()).collect();
    let scalar = json!({"type": ["string", "number", "boolean"]});
    json!({
        "filter": {
            "title": "Filter",
            "description": "Conditions an event must all meet. An empty list matches every event.",
            "type": "array",
            "maxItems": MAX_CONDITIONS,
            "items": {"$ref": "#/$defs/condition"},
            "default": [],
            "examples": [[
                {"field": "source", "op": "eq", "value": "disk-monitor"},
                {"field": "fs", "op": "in", "value": ["/sarc/fs01", "/sarc/fs02"]}
            ]]
        },
        "condition": {
            "title": "Condition",
            "description": "One test on one field of the event: field, operator, value.",
            "type": "object",
            "additionalProperties": false,
            "required": ["field", "op", "value"],
            "properties": {
                "field": {
                    "title": "Field",
                    "description": "The event field to test; use dots for nested fields (disk.pct).",
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "default": "",
                    "examples": ["source", "status", "disk.pct"]
                },
                "op": {
                    "title": "Operator",
                    "description": "eq / ne: equals / differs (90, 90.0 and \"90\" are equal; ne also holds when the field is missing); in / not_in: is / is not one of a list; regex: matches a regular expression; exists: true if the field must be there, false if it must not; gt, ge, lt, le: >, ≥, <, ≤ on numbers; contains: text contains, or list has the value.",
                    "type": "string",
                    "enum": ops,
                    "default": "eq",
                    "examples": ["eq", "in", "ge"]
                },
                "value": {
                    "title": "Value",
                    "description": "What to compare with: a text, number or true/false; a list for in and not_in; a regular expression for regex; true or false for exists.",
                    "type": ["string", "number", "boolean", "array"],
                    "items": scalar,
                    "maxItems": MAX_LIST,
                    "default": "",
                    "examples": ["disk-monitor", 90, ["/sarc/fs01", "/sarc/fs02"], true]
                }
            },
            "allOf": [
                {"if": {"properties": {"op": {"enum": ["in", "not_in"]}}},
                 "then": {"properties": {"value": {"type": "array", "minItems": 1}}}},
                {"if": {"properties": {"op": {"enum": ["eq", "ne", "contains"]}}},
                 "then": {"properties": {"value": scalar}}},
                {"if": {"properties": {"op": {"const": "regex"}}},
                 "then": {"properties": {"value": {"type": "string", "maxLength": MAX_REGEX_LEN}}}},
                {"if": {"properties": {"op": {"const": "exists"}}},
                 "then": {"properties": {"value": {"type": "boolean"}}}},
                {"if": {"properties": {"op": {"enum": ["gt", "ge", "lt", "le"]}}},
                 "then": {"properties": {"value": {"type": ["number", "string"]}}}}
            ]
        },
        "severity": {
            "title": "Severity",
            "description": "How bad it is: info, warning or critical. Notification policies choose channels by severity.",
            "type": "string",
            "enum": ["info", "warning", "critical"],
            "examples": ["warning"]
        },
        "duration": {
            "title": "Duration",
            "description": "A number and a unit, largest first: 90s, 5m, 1h, 1d, 1h30m (units w, d, h, m, s, ms; at most 3650d).",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["90s", "5m", "1h", "1d", "1h30m"]
        },
        "template": {
            "title": "Text template",
            "description": "Text with event fields in braces, e.g. {block} failed {step}; a missing field shows as ?; write {{ and }} for literal braces.",
            "type": "string",
            "maxLength": MAX_TEMPLATE_LEN,
            "examples": ["{block} failed {step}"]
        },
        "field": {
            "title": "Field",
            "description": "An event field; dots for nested fields.",
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "examples": ["pct", "host"]
        },
        "fields": {
            "title": "Fields",
            "description": "A list of event fields; dots for nested fields.",
            "type": "array",
            "maxItems": MAX_KEY_FIELDS,
            "uniqueItems": true,
            "items": {"$ref": "#/$defs/field"},
            "examples": [["host", "fs"]]
        }
    })
}

#[cfg(test)]
mod tests;

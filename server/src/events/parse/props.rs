//! Property tests of the body parsers: whatever arrives, parsing answers
//! events or an error that says where, and never panics; a line rendered
//! from fields reads back as those fields.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use super::*;
use crate::events::{Format, Limits, prepare};

/// A value as a line carries it, and how it is written there.
#[derive(Debug, Clone)]
enum Field {
    /// Written in quotes (with `\"` and `\\` escaped): always a string.
    Quoted(String),
    /// Written bare: a number.
    Int(i64),
    /// Written bare as `int.frac`: a number.
    Decimal(i32, String),
    /// Written bare, not a plain number: a string.
    Word(String),
}

impl Field {
    fn render(&self) -> String {
        match self {
            Field::Quoted(s) => {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Field::Int(i) => i.to_string(),
            Field::Decimal(i, frac) => format!("{i}.{frac}"),
            Field::Word(w) => w.clone(),
        }
    }

    fn expected(&self) -> Value {
        match self {
            Field::Quoted(s) | Field::Word(s) => Value::String(s.clone()),
            Field::Int(i) => Value::from(*i),
            Field::Decimal(..) => self
                .render()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number),
        }
    }
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        // Anything printable, quotes, backslashes and spaces included.
        "\\PC{0,24}".prop_map(Field::Quoted),
        any::<i64>().prop_map(Field::Int),
        (any::<i32>(), "[0-9]{1,6}").prop_map(|(i, f)| Field::Decimal(i, f)),
        // Words that are not plain numbers: a letter somewhere, or a
        // leading zero.
        "[a-z][a-zA-Z0-9_./:@-]{0,12}".prop_map(Field::Word),
        "0[0-9]{1,5}".prop_map(Field::Word),
    ]
}

/// Keys a line may carry: no whitespace, no colon, not reserved.
fn key() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.-]{0,11}".prop_filter("reserved", |k| {
        k != "tags" && !RESERVED_FIELDS.contains(&k.as_str())
    })
}

/// One of the separators a line may use between tokens.
fn gap() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(" "), Just("  "), Just("\t"), Just(" \t ")]
}

/// A line that cannot parse, and the field its error names (if any).
fn bad_line() -> impl Strategy<Value = (String, Option<&'static str>)> {
    prop_oneof![
        Just((":x".to_owned(), None)),
        Just(("a:1 a:2".to_owned(), Some("a"))),
        Just(("msg:\"open".to_owned(), Some("msg"))),
        Just(("msg:\"a\"b:1".to_owned(), Some("msg"))),
        Just(("tags:x".to_owned(), Some("tags"))),
        Just(("_origin:x".to_owned(), Some("_origin"))),
        "[a-z]{1,8}( [a-z]{1,8}){0,3}".prop_map(|words| (words, None)),
    ]
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("ts"),
            Just("_origin"),
            Just("_id"),
            Just("received_at")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        "[a-z_]{1,6}",
                        Just("ts".to_owned()),
                        Just("_origin".to_owned()),
                        Just("_id".to_owned()),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const LIMITS: Limits = Limits {
    max_event_bytes: 4096,
    max_batch: 8,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_bodies_never_panic_on_any_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_text(&body);
        let _ = prepare(&body, Format::Text, LIMITS, "2026-11-23T00:00:00Z");
    }

    /// Strings made mostly of the characters the parser looks at.
    #[test]
    fn text_errors_name_a_line_of_the_body(body in "[a-c:\"\\\\ \t\n0-9._-]{0,80}") {
        match parse_text(body.as_bytes()) {
            Ok(events) => {
                prop_assert!(!events.is_empty());
                for (line, event) in &events {
                    prop_assert!(*line >= 1 && *line <= body.lines().count());
                    prop_assert!(event.keys().any(|k| k != "tags"));
                }
            }
            Err(ParseError(p)) => match p.line {
                Some(n) => {
                    prop_assert!(n >= 1 && n <= body.lines().count(), "{n}: {}", p.message);
                    prop_assert!(p.message.starts_with(&format!("line {n}")), "{}", p.message);
                }
                None => prop_assert_eq!(p.message, "the body holds no event"),
            },
        }
    }

    #[test]
    fn a_line_rendered_from_fields_reads_back_as_them(
        fields in prop::collection::btree_map(key(), field(), 1..8),
        tags in prop::collection::vec("[a-z][a-z0-9_-]{0,8}", 0..4),
        gaps in prop::collection::vec(gap(), 12),
        tag_at in prop::collection::vec(any::<prop::sample::Index>(), 4),
    ) {
        let mut tokens: Vec<String> =
            fields.iter().map(|(k, v)| format!("{k}:{}", v.render())).collect();
        // Tags go anywhere between the fields; their order is kept.
        let mut positions: Vec<usize> =
            tag_at.iter().take(tags.len()).map(|i| i.index(tokens.len() + 1)).collect();
        positions.sort_unstable();
        for (n, (tag, at)) in tags.iter().zip(positions).enumerate() {
            tokens.insert(at + n, tag.clone());
        }
        let mut line = String::from(gaps[0]);
        for (token, gap) in tokens.iter().zip(gaps.iter().cycle().skip(1)) {
            line.push_str(token);
            line.push_str(gap);
        }
        let event = parse_line(&line, 7).map_err(|e| TestCaseError::fail(e.0.message))?;
        let mut want: Map<String, Value> =
            fields.iter().map(|(k, v)| (k.clone(), v.expected())).collect();
        if !tags.is_empty() {
            want.insert("tags".into(), Value::Array(tags.into_iter().map(Value::String).collect()));
        }
        prop_assert_eq!(event, want, "line {:?}", line);
    }

    #[test]
    fn the_error_names_the_bad_line_among_good_ones(
        good in prop::collection::vec(
            prop::collection::btree_map(key(), field(), 1..4), 0..6),
        bad in bad_line(),
        at in any::<prop::sample::Index>(),
    ) {
        let mut lines: Vec<String> = good
            .iter()
            .map(|f| f.iter().map(|(k, v)| format!("{k}:{}", v.render())).collect::<Vec<_>>().join(" "))
            .collect();
        let at = at.index(lines.len() + 1);
        lines.insert(at, bad.0.clone());
        let err = parse_text(lines.join("\n").as_bytes()).expect_err("a bad line");
        prop_assert_eq!(err.0.line, Some(at + 1));
        prop_assert!(err.0.message.starts_with(&format!("line {}", at + 1)), "{}", err.0.message);
        prop_assert_eq!(err.0.field.as_deref(), bad.1);
    }

    #[test]
    fn json_bodies_give_events_or_a_clear_error(value in json_value()) {
        let body = value.to_string();
        match parse_json(body.as_bytes()) {
            Ok(events) => {
                let n = match &value {
                    Value::Array(items) => items.len(),
                    _ => 1,
                };
                prop_assert_eq!(events.len(), n);
            }
            Err(ParseError(p)) => {
                prop_assert!(!p.message.is_empty());
                let is_batch_of_objects = matches!(&value, Value::Array(items)
                    if !items.is_empty() && items.iter().all(Value::is_object));
                prop_assert!(!value.is_object() && !is_batch_of_objects, "{}", p.message);
            }
        }
        // The whole ingest path: stored whole, or refused whole with a
        // client error.
        match prepare(body.as_bytes(), Format::Json, LIMITS, "2026-11-23T00:00:00Z") {
            Ok(out) => {
                for json in out {
                    let event: Value = serde_json::from_str(&json).expect("stored JSON");
                    prop_assert_eq!(&event["received_at"], "2026-11-23T00:00:00Z");
                    prop_assert!(event.get("_origin").is_none() && event.get("_id").is_none());
                    prop_assert!(json.len() <= LIMITS.max_event_bytes);
                }
            }
            Err(e) => {
                let status = e.status().as_u16();
                prop_assert!(status == 400 || status == 413, "{status}: {e}");
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// Bytes that look like JSON: brackets nested at random, unbalanced,
    /// deep; never a panic nor a stack overflow, always a clear error when
    /// it is not an event.
    #[test]
    fn json_like_bytes_never_panic(body in "[\\[\\]{}\",:0-9a -]{0,300}", depth in 0usize..3000) {
        let nested = "[".repeat(depth) + &body + &"]".repeat(depth);
        for b in [body.as_bytes(), nested.as_bytes()] {
            if let Err(ParseError(p)) = parse_json(b) {
                prop_assert!(!p.message.is_empty());
            }
        }
    }
}

//! Parsing request bodies into events.
//!
//! Two formats (DESIGN 5): JSON (one object, or an array of objects) and
//! `text/plain`, one event per line of `key:value` tokens. Parsing is all or
//! nothing: the first problem rejects the whole body, and its message names
//! the line or index and the field at fault.
//!
//! Text lines, the decisions:
//! * `key:value` splits at the first colon, so `url:http://x/y` is fine;
//! * `key:"quoted value"` keeps spaces; `\"` and `\\` escape inside quotes;
//!   a quoted value is always a string;
//! * an unquoted value that is a plain decimal number (`-50`, `3.25`, `0`)
//!   becomes a number; anything else stays a string, including numbers with
//!   leading zeros (`007`), which are usually identifiers;
//! * words without a colon go, in order, into the `tags` array;
//! * empty lines are skipped; a line needs at least one `key:value`;
//! * a key given twice on one line, an empty key, an unterminated quote and
//!   the reserved keys `tags` and `_origin` are errors.

use serde_json::{Map, Number, Value};

use crate::error::Problem;
use tellify_handlers::Event;

/// A body that could not be turned into events.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub Problem);

impl ParseError {
    fn line(line: usize, field: Option<&str>, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = match field {
            Some(f) => format!("line {line}, field '{f}': {message}"),
            None => format!("line {line}: {message}"),
        };
        ParseError(Problem {
            pointer: None,
            index: None,
            line: Some(line),
            field: field.map(str::to_owned),
            message,
        })
    }

    pub(crate) fn index(
        index: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let prefix = match (index, field) {
            (Some(i), Some(f)) => format!("event {i}, field '{f}': "),
            (Some(i), None) => format!("event {i}: "),
            (None, Some(f)) => format!("field '{f}': "),
            (None, None) => String::new(),
        };
        ParseError(Problem {
            pointer: None,
            index,
            line: None,
            field: field.map(str::to_owned),
            message: format!("{prefix}{message}"),
        })
    }
}

/// Fields no client may set: the server derives them.
pub const RESERVED_FIELDS: &[&str] = &["_origin", "_id"];

/// Parse a JSON body: one object, or a non-empty array of objects.
pub fn parse_json(body: &[u8]) -> Result<Vec<Event>, ParseError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ParseError::index(None, None, format!("invalid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(vec![map]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(ParseError::index(None, None, "the batch is empty"));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(map) => Ok(map),
                    other => Err(ParseError::index(
                        Some(i),
                        None,
                        format!("an event must be a JSON object, not {}", kind(&other)),
                    )),
                })
                .collect()
        }
        other => Err(ParseError::index(
            None,
            None,
            format!(
                "expected a JSON object or an array of objects, not {}",
                kind(&other)
            ),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parse a `text/plain` body: one event per non-empty line. Returns each event
/// with its 1-based line number.
pub fn parse_text(body: &[u8]) -> Result<Vec<(usize, Event)>, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ParseError::index(
            None,
            None,
            format!("the body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        events.push((i + 1, parse_line(line, i + 1)?));
    }
    if events.is_empty() {
        return Err(ParseError::index(None, None, "the body holds no event"));
    }
    Ok(events)
}

/// Parse one `key:value` line (no newline in it).
pub fn parse_line(line: &str, number: usize) -> Result<Event, ParseError> {
    let event = parse_tokens(line, number)?;
    if event.keys().all(|k| k == "tags") {
        return Err(ParseError::line(
            number,
            None,
            "no key:value field (a line of bare words alone is not an event)",
        ));
    }
    Ok(event)
}

/// The tokens of a line as fields and tags; a line of bare words is fine
/// here (a filter may ask for tags alone).
pub fn parse_tokens(line: &str, number: usize) -> Result<Event, ParseError> {
    let mut event = Map::new();
    let mut tags = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let colon = rest[..end].find(':');
        let Some(colon) = colon else {
            // A bare word.
            tags.push(Value::String(rest[..end].to_owned()));
            rest = rest[end..].trim_start();
            continue;
        };
        let key = &rest[..colon];
        if key.is_empty() {
            let token = &rest[..end];
            return Err(ParseError::line(
                number,
                None,
                format!("'{token}' has no key before the colon"),
            ));
        }
        if key == "tags" {
            return Err(ParseError::line(
                number,
                Some(key),
                "'tags' is reserved: bare words (without a colon) become tags",
            ));
        }
        if RESERVED_FIELDS.contains(&key) {
            return Err(ParseError::line(
                number,
                Some(key),
                "this field is reserved",
            ));
        }
        let after = &rest[colon + 1..];
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let (s, remaining) = read_quoted(quoted).ok_or_else(|| {
                ParseError::line(number, Some(key), "the quoted value has no closing quote")
            })?;
            if remaining.chars().next().is_some_and(|c| !c.is_whitespace()) {
                return Err(ParseError::line(
                    number,
                    Some(key),
                    "text right after the closing quote; put a space between fields",
                ));
            }
            (Value::String(s), remaining)
        } else {
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            (typed(&after[..end]), &after[end..])
        };
        if event.insert(key.to_owned(), value).is_some() {
            return Err(ParseError::line(
                number,
                Some(key),
                "the field is given twice",
            ));
        }
        rest = remaining.trim_start();
    }
    if !tags.is_empty() {
        event.insert("tags".to_owned(), Value::Array(tags));
    }
    Ok(event)
}

/// Read a quoted string whose opening quote was consumed. Returns the string
/// and what follows the closing quote.
fn read_quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, next)) => out.push(next),
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// An unquoted value: a plain decimal number becomes a number.
fn typed(raw: &str) -> Value {
    if is_plain_number(raw) {
        if !raw.contains('.') {
            if let Ok(i) = raw.parse::<i64>() {
                return Value::Number(i.into());
            }
        } else if let Some(n) = raw.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(raw.to_owned())
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let int_ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(s: &str) -> Value {
        Value::Object(parse_line(s, 1).expect("parses"))
    }

    fn line_err(s: &str) -> String {
        parse_line(s, 3).expect_err("must fail").0.message
    }

    #[test]
    fn text_lines_become_typed_events() {
        assert_eq!(
            line(
                "project:vr0 block:gc_t route_opt user:gpupi runtag:myruntag completed status:good tns:-50"
            ),
            json!({"project":"vr0","block":"gc_t","user":"gpupi","runtag":"myruntag","status":"good",
                   "tns":-50,"tags":["route_opt","completed"]})
        );
        assert_eq!(
            line(r#"host:cad01 msg:"disk is \"full\" now" pct:97.5 zero:0 id:007 neg:-0.25"#),
            json!({"host":"cad01","msg":"disk is \"full\" now","pct":97.5,"zero":0,"id":"007","neg":-0.25})
        );
        assert_eq!(line("url:http://x/y?a=b"), json!({"url":"http://x/y?a=b"}));
        assert_eq!(line("  a:1\t b:\"\"  "), json!({"a":1,"b":""}));
        assert_eq!(
            line("n:\"42\" v:1e5 w:1. x:.5 y:--1"),
            json!({"n":"42","v":"1e5","w":"1.","x":".5","y":"--1"})
        );
        assert_eq!(
            line("big:99999999999999999999"),
            json!({"big":"99999999999999999999"})
        );
    }

    #[test]
    fn text_line_errors_name_the_line_and_field() {
        let cases = [
            (
                "hello world",
                "line 3: no key:value field (a line of bare words alone is not an event)",
            ),
            (":value", "line 3: ':value' has no key before the colon"),
            ("a:1 a:2", "line 3, field 'a': the field is given twice"),
            (
                "msg:\"open",
                "line 3, field 'msg': the quoted value has no closing quote",
            ),
            (
                "msg:\"a\"b:1",
                "line 3, field 'msg': text right after the closing quote; put a space between fields",
            ),
            (
                "tags:x",
                "line 3, field 'tags': 'tags' is reserved: bare words (without a colon) become tags",
            ),
            (
                "_origin:x",
                "line 3, field '_origin': this field is reserved",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(line_err(input), want, "input {input:?}");
        }
    }

    #[test]
    fn text_bodies_skip_empty_lines_and_keep_line_numbers() {
        let events = parse_text(b"a:1\n\n  \r\nb:2\r\n").expect("parses");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].0, 1);
        assert_eq!(events[1].0, 4);
        assert_eq!(events[1].1.get("b"), Some(&json!(2)));
        let err = parse_text(b"a:1\nb:2\n:x").expect_err("third line is bad");
        assert_eq!(err.0.line, Some(3));
        assert_eq!(
            parse_text(b"\n\n").expect_err("empty").0.message,
            "the body holds no event"
        );
        assert!(
            parse_text(b"a:\xff\xfe")
                .expect_err("not utf-8")
                .0
                .message
                .contains("UTF-8")
        );
    }

    #[test]
    fn json_bodies() {
        assert_eq!(parse_json(br#"{"a":1}"#).expect("object").len(), 1);
        assert_eq!(parse_json(br#"[{"a":1},{"b":2}]"#).expect("array").len(), 2);
        let cases: [(&[u8], &str); 5] = [
            (b"[]", "the batch is empty"),
            (
                b"[{\"a\":1}, 3]",
                "event 1: an event must be a JSON object, not a number",
            ),
            (
                b"\"x\"",
                "expected a JSON object or an array of objects, not a string",
            ),
            (
                b"{\"a\":",
                "invalid JSON: EOF while parsing a value at line 1 column 5",
            ),
            (
                b"nul",
                "invalid JSON: EOF while parsing a value at line 1 column 3",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_json(input).expect_err("must fail").0.message, want);
        }
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = parse_json(deep.as_bytes()).expect_err("too deep");
        assert!(
            err.0.message.contains("recursion limit"),
            "{}",
            err.0.message
        );
    }
}

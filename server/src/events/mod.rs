//! Events: what build scripts and monitors post, and how a request body
//! becomes the entries appended to the `events` stream.

pub mod parse;
pub mod recent;

use serde_json::Value;
use tellify_handlers::Event;

use crate::error::{ApiError, Problem};
use parse::{ParseError, RESERVED_FIELDS};

/// The body formats `POST /events` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    /// From a `Content-Type` header; `None` for anything we do not accept.
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(Format::Json),
            "text/plain" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Limits on what one request may carry (DESIGN 5).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_event_bytes: usize,
    pub max_batch: usize,
}

/// Turn a request body into the serialized events to append, in order.
/// All or nothing: any problem rejects the whole body.
pub fn prepare(
    body: &[u8],
    format: Format,
    limits: Limits,
    received_at: &str,
) -> Result<Vec<String>, ApiError> {
    let events: Vec<(Where, Event)> = match format {
        Format::Json => parse::parse_json(body)
            .map_err(bad)?
            .into_iter()
            .enumerate()
            .map(|(i, e)| (Where::Index(i), e))
            .collect(),
        Format::Text => parse::parse_text(body)
            .map_err(bad)?
            .into_iter()
            .map(|(line, e)| (Where::Line(line), e))
            .collect(),
    };
    if events.len() > limits.max_batch {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} events in one request; at most {} are accepted",
            events.len(),
            limits.max_batch
        )));
    }
    let mut out = Vec::with_capacity(events.len());
    for (at, mut event) in events {
        check_fields(&event, at).map_err(bad)?;
        event.insert(
            "received_at".to_owned(),
            Value::String(received_at.to_owned()),
        );
        let json = serde_json::to_string(&event).map_err(|e| ApiError::Internal(e.into()))?;
        if json.len() > limits.max_event_bytes {
            return Err(ApiError::PayloadTooLarge(format!(
                "{} is {} bytes; at most {} are accepted per event",
                at.describe(),
                json.len(),
                limits.max_event_bytes
            )));
        }
        out.push(json);
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Where {
    Index(usize),
    Line(usize),
}

impl Where {
    fn describe(self) -> String {
        match self {
            Where::Index(i) => format!("event {i}"),
            Where::Line(l) => format!("the event on line {l}"),
        }
    }
}

/// Checks common to both formats: `ts` is RFC 3339, reserved fields absent.
fn check_fields(event: &Event, at: Where) -> Result<(), ParseError> {
    let fail = |field: &str, message: &str| {
        Err(match at {
            Where::Index(i) => ParseError::index(Some(i), Some(field), message),
            Where::Line(l) => {
                let mut e = ParseError::index(None, Some(field), message);
                e.0.line = Some(l);
                e.0.message = format!("line {l}, {}", e.0.message);
                e
            }
        })
    };
    for reserved in RESERVED_FIELDS {
        if event.contains_key(*reserved) {
            return fail(reserved, "this field is reserved for derived events");
        }
    }
    if let Some(ts) = event.get("ts") {
        let ok = ts
            .as_str()
            .is_some_and(|s| s.parse::<jiff::Timestamp>().is_ok());
        if !ok {
            return fail(
                "ts",
                "must be an RFC 3339 time such as 2026-11-23T10:00:00Z",
            );
        }
    }
    Ok(())
}

fn bad(e: ParseError) -> ApiError {
    let ParseError(problem) = e;
    ApiError::BadRequest {
        message: problem.message.clone(),
        problems: vec![problem],
    }
}

/// The problems of a rejected body, for tests and logs.
pub fn problems(e: &ApiError) -> &[Problem] {
    match e {
        ApiError::BadRequest { problems, .. } => problems,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_event_bytes: 200,
        max_batch: 3,
    };

    fn err(body: &str, format: Format) -> (u16, String) {
        let e = prepare(body.as_bytes(), format, LIMITS, "2026-11-23T00:00:00Z")
            .expect_err("must fail");
        (e.status().as_u16(), e.to_string())
    }

    #[test]
    fn prepared_events_carry_received_at_and_keep_ts() {
        let out = prepare(
            br#"[{"a":1,"ts":"2026-11-23T10:00:00+01:00"},{"received_at":"forged"}]"#,
            Format::Json,
            LIMITS,
            "2026-11-23T00:00:00Z",
        )
        .expect("valid");
        assert_eq!(
            out[0],
            r#"{"a":1,"ts":"2026-11-23T10:00:00+01:00","received_at":"2026-11-23T00:00:00Z"}"#
        );
        assert_eq!(out[1], r#"{"received_at":"2026-11-23T00:00:00Z"}"#);
    }

    #[test]
    fn rejections_say_where_and_why() {
        assert_eq!(
            err(r#"[{"a":1},{"ts":"yesterday"}]"#, Format::Json),
            (
                400,
                "event 1, field 'ts': must be an RFC 3339 time such as 2026-11-23T10:00:00Z".into()
            )
        );
        assert_eq!(
            err("a:1\nts:12", Format::Text),
            (
                400,
                "line 2, field 'ts': must be an RFC 3339 time such as 2026-11-23T10:00:00Z".into()
            )
        );
        assert_eq!(
            err(r#"{"_origin":{}}"#, Format::Json),
            (
                400,
                "event 0, field '_origin': this field is reserved for derived events".into()
            )
        );
        assert_eq!(
            err("a:1\nb:2\nc:3\nd:4", Format::Text),
            (
                413,
                "4 events in one request; at most 3 are accepted".into()
            )
        );
        let long = format!("a:1\nmsg:\"{}\"", "x".repeat(300));
        assert_eq!(
            err(&long, Format::Text),
            (
                413,
                "the event on line 2 is 347 bytes; at most 200 are accepted per event".into()
            )
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type("application/json"),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_content_type("text/plain; charset=utf-8"),
            Some(Format::Text)
        );
        assert_eq!(
            Format::from_content_type("Application/JSON"),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_content_type("application/x-www-form-urlencoded"),
            None
        );
    }
}

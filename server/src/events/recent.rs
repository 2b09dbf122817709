//! Reading the newest events back: the one loop behind the JSON explorer
//! (`GET /api/v1/events/recent`), the `/events` page and its live updates,
//! and "try it on recent events" (which reads them without a filter).
//!
//! Events are read newest first, in pages, from the `events` stream, between
//! two stream ids (both exclusive): `before` pages back into older events,
//! `after` asks only for what arrived since the newest one a page already
//! shows. A filter in the text-line syntax (`project:vr0 status:failed ci`)
//! keeps the events whose fields equal its values and whose tags hold its
//! bare words. A filtered read scans at most [`MAX_SCAN`] entries, so a
//! filter that matches nothing costs a bounded amount of Redis work.

use serde_json::Value;
use tellify_handlers::{Event, canonical, lookup};

use crate::broker::Broker;
use crate::events::parse;

/// How many stream entries one read may go through while filtering.
pub const MAX_SCAN: usize = 10_000;

/// Entries asked of Redis at a time while filtering.
const SCAN_PAGE: usize = 500;

/// A filter in the text-line syntax, parsed once.
#[derive(Debug, Clone)]
pub struct Query(Event);

impl Query {
    /// `None` for an empty (or blank) filter; the parser's message, without
    /// its line number, for a bad one.
    pub fn parse(text: &str) -> Result<Option<Query>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        parse::parse_tokens(text, 1)
            .map(|f| Some(Query(f)))
            .map_err(|e| e.0.message.trim_start_matches("line 1: ").to_owned())
    }

    /// Every field of the filter equals the event's (compared as handlers
    /// compare), and every bare word is among the event's tags.
    pub fn matches(&self, event: &Event) -> bool {
        self.0.iter().all(|(key, want)| match (key.as_str(), want) {
            ("tags", Value::Array(wanted)) => {
                let have = event.get("tags").and_then(Value::as_array);
                wanted.iter().all(|t| have.is_some_and(|h| h.contains(t)))
            }
            _ => lookup(event, key).and_then(canonical) == canonical(want),
        })
    }
}

/// Is `text` a stream id (`1700000000000-3`, or milliseconds alone)? Ids
/// from clients are checked before they reach Redis, which would refuse
/// them with an error of its own.
pub fn is_stream_id(text: &str) -> bool {
    let (ms, seq) = text.split_once('-').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    digits(ms) && digits(seq)
}

/// Where to read and what to keep.
#[derive(Debug, Default, Clone, Copy)]
pub struct Window<'a> {
    /// Only events older than this stream id.
    pub before: Option<&'a str>,
    /// Only events newer than this stream id.
    pub after: Option<&'a str>,
    /// How many events to return at most.
    pub limit: usize,
}

/// One event of the stream, parsed.
#[derive(Debug, Clone)]
pub struct RecentEvent {
    pub id: String,
    pub event: Event,
}

/// What a read found, newest first.
#[derive(Debug, Default)]
pub struct Recent {
    pub events: Vec<RecentEvent>,
    /// Where to continue towards older events, when there may be more (the
    /// limit was reached or the scan ran out); `None` at the stream's start
    /// (or at `after`).
    pub next: Option<String>,
    /// The newest stream id looked at, kept or not: a caller that polls
    /// with `after` continues from here.
    pub newest: Option<String>,
}

/// Read the newest events in the window that the filter keeps. Entries that
/// are not a JSON object (none should be) are skipped.
pub async fn read(
    broker: &Broker,
    query: Option<&Query>,
    window: Window<'_>,
) -> redis::RedisResult<Recent> {
    let limit = window.limit.max(1);
    let mut before = window.before.map(str::to_owned);
    let mut found = Vec::new();
    let mut scanned = 0;
    let mut exhausted = false;
    let mut newest = None;
    while found.len() < limit && scanned < MAX_SCAN {
        let page = if query.is_some() { SCAN_PAGE } else { limit };
        let batch = broker
            .recent_events(page, before.as_deref(), window.after)
            .await?;
        let Some(last) = batch.last() else {
            exhausted = true;
            break;
        };
        before = Some(last.id.clone());
        if newest.is_none() {
            newest = batch.first().map(|e| e.id.clone());
        }
        let short = batch.len() < page;
        scanned += batch.len();
        for stored in batch {
            let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&stored.json) else {
                continue;
            };
            if query.is_none_or(|q| q.matches(&event)) {
                found.push(RecentEvent {
                    id: stored.id.clone(),
                    event,
                });
                if found.len() == limit {
                    before = Some(stored.id);
                    break;
                }
            }
        }
        if short && found.len() < limit {
            exhausted = true;
            break;
        }
    }
    Ok(Recent {
        events: found,
        next: if exhausted { None } else { before },
        newest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_query_compares_fields_as_handlers_do_and_words_as_tags() {
        let e = event(json!({"project": "vr0", "n": 12, "tags": ["ci", "nightly"]}));
        let q = |t: &str| Query::parse(t).expect("parses").expect("not empty");
        assert!(q("project:vr0").matches(&e));
        assert!(q("n:12 ci").matches(&e));
        assert!(q("n:\"12\" nightly ci").matches(&e));
        assert!(!q("project:vr1").matches(&e));
        assert!(!q("weekly").matches(&e));
        assert!(!q("missing:x").matches(&e));
    }

    #[test]
    fn stream_ids_are_checked() {
        for ok in ["1700000000000-3", "0", "1-0"] {
            assert!(is_stream_id(ok), "{ok}");
        }
        for bad in ["", "-", "1-", "x-1", "1-2-3", "+", "(1-0"] {
            assert!(!is_stream_id(bad), "{bad}");
        }
    }

    #[test]
    fn blank_queries_are_none_and_bad_ones_say_why() {
        assert!(Query::parse("  ").expect("blank is fine").is_none());
        assert_eq!(
            Query::parse(":x").map(|q| q.is_some()),
            Err("':x' has no key before the colon".to_owned())
        );
    }
}

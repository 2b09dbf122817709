//! "Try it on recent events": run a compiled handler, not saved, over events
//! already in the stream and report what it would have done.
//!
//! The handler starts from a fresh state (`null`, as a new instance does) and
//! sees the events oldest first, with the stream id in `_id` and the event's
//! stream time as `now`, exactly as the dispatcher hands them over. Nothing
//! is written anywhere: the state lives in this function, no alert is
//! recorded and derived events are reported, not appended.
//!
//! Time-based work (a heartbeat that goes missing, an alert resolved after a
//! quiet hour) runs on the clock in the dispatcher. Here the clock is ticked
//! just before each event, at that event's time, and once more at `now`
//! after the last one: such an alert shows at the time of the next event
//! (or now) rather than the moment the dispatcher would have noticed.

use serde::Serialize;
use serde_json::Value;
use tellify_handlers::derive::EVENT_ID_FIELD;
use tellify_handlers::{Handler, Millis, Output};

use crate::dispatch::id_millis;
use crate::events::recent::RecentEvent;

/// What the handler would have done, result by result.
#[derive(Debug, Serialize)]
pub struct Trial {
    /// How many events it was run over.
    pub scanned: usize,
    /// How many of them passed one of its filters.
    pub matched: usize,
    /// How many alerts it fired (or fired again) and resolved.
    pub fired: usize,
    pub resolved: usize,
    /// The stream ids of the oldest and newest events tried.
    pub oldest: Option<String>,
    pub newest: Option<String>,
    /// Each event (or clock tick) that made it do something, oldest first.
    pub results: Vec<TrialResult>,
}

/// One event (or tick of the clock) and what the handler did with it.
#[derive(Debug, Serialize)]
pub struct TrialResult {
    /// The event's stream id; `None` for a tick of the clock.
    pub id: Option<String>,
    /// The event's `received_at`; `None` for a tick.
    pub received_at: Option<String>,
    /// When the handler ran (RFC 3339).
    pub at: String,
    pub outputs: Vec<Output>,
}

/// Run `handler` over `events` (oldest first) from a fresh state; `now` is
/// when the trial runs, for the last tick.
pub fn run(handler: &dyn Handler, events: Vec<RecentEvent>, now: Millis) -> Trial {
    let mut state = Value::Null;
    let mut trial = Trial {
        scanned: events.len(),
        matched: 0,
        fired: 0,
        resolved: 0,
        oldest: events.first().map(|e| e.id.clone()),
        newest: events.last().map(|e| e.id.clone()),
        results: Vec::new(),
    };
    let ticks = handler.ticks();
    for RecentEvent { id, mut event } in events {
        let at = id_millis(&id);
        if ticks {
            tick(handler, &mut state, at, &mut trial);
        }
        if handler.filters().iter().any(|f| f.matches(&event)) {
            trial.matched += 1;
        }
        let received_at = event
            .get("received_at")
            .and_then(Value::as_str)
            .map(str::to_owned);
        event.insert(EVENT_ID_FIELD.to_owned(), Value::String(id.clone()));
        if let Some(outputs) = handler.handle(&mut state, &event, at)
            && !outputs.is_empty()
        {
            trial.add(Some(id), received_at, at, outputs);
        }
    }
    if ticks {
        tick(handler, &mut state, now, &mut trial);
    }
    trial
}

fn tick(handler: &dyn Handler, state: &mut Value, at: Millis, trial: &mut Trial) {
    if let Some(outputs) = handler.tick(state, at)
        && !outputs.is_empty()
    {
        trial.add(None, None, at, outputs);
    }
}

impl Trial {
    fn add(
        &mut self,
        id: Option<String>,
        received_at: Option<String>,
        at: Millis,
        outputs: Vec<Output>,
    ) {
        for o in &outputs {
            match o {
                Output::Fire { .. } => self.fired += 1,
                Output::Resolve { .. } => self.resolved += 1,
                Output::Emit { .. } => {}
            }
        }
        self.results.push(TrialResult {
            id,
            received_at,
            at: jiff::Timestamp::from_millisecond(at)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            outputs,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tellify_handlers::handler_type;

    fn events(list: &[(&str, Value)]) -> Vec<RecentEvent> {
        list.iter()
            .map(|(id, v)| RecentEvent {
                id: (*id).to_owned(),
                event: v.as_object().cloned().expect("an object"),
            })
            .collect()
    }

    fn threshold() -> Box<dyn Handler> {
        handler_type("threshold")
            .expect("threshold")
            .compile(&json!({
                "filter": [{"field": "source", "op": "eq", "value": "disk"}],
                "value_field": "pct", "key_fields": ["fs"],
                "levels": [{"severity": "critical", "op": "ge", "value": 90}]
            }))
            .expect("compiles")
    }

    #[test]
    fn fires_and_resolves_in_stream_order_from_a_fresh_state() {
        let h = threshold();
        let t = run(
            h.as_ref(),
            events(&[
                (
                    "1000-0",
                    json!({"source": "disk", "fs": "/a", "pct": 95, "received_at": "r1"}),
                ),
                ("2000-0", json!({"source": "cpu", "fs": "/a", "pct": 99})),
                ("3000-0", json!({"source": "disk", "fs": "/a", "pct": 96})),
                ("4000-0", json!({"source": "disk", "fs": "/a", "pct": 50})),
            ]),
            5000,
        );
        // Every event over the limit fires again (a repeat of the same alert).
        assert_eq!((t.scanned, t.matched, t.fired, t.resolved), (4, 3, 2, 1));
        assert_eq!(t.oldest.as_deref(), Some("1000-0"));
        assert_eq!(t.newest.as_deref(), Some("4000-0"));
        let ids: Vec<_> = t.results.iter().map(|r| r.id.as_deref()).collect();
        assert_eq!(ids, [Some("1000-0"), Some("3000-0"), Some("4000-0")]);
        assert_eq!(t.results[0].received_at.as_deref(), Some("r1"));
        assert_eq!(t.results[0].at, "1970-01-01T00:00:01Z");
        let first = serde_json::to_value(&t.results[0].outputs).expect("json");
        assert_eq!(first[0]["type"], "fire");
        assert_eq!(first[0]["key"], "/a");
        assert_eq!(first[0]["severity"], "critical");
        assert_eq!(
            serde_json::to_value(&t.results[2].outputs).expect("json"),
            json!([{"type": "resolve", "key": "/a"}])
        );
    }

    #[test]
    fn a_heartbeat_goes_missing_on_the_clock() {
        let h = handler_type("heartbeat")
            .expect("heartbeat")
            .compile(&json!({
                "filter": [{"field": "type", "op": "eq", "value": "alive"}],
                "key_fields": ["host"], "missing_after": "1m", "severity": "critical"
            }))
            .expect("compiles");
        let t = run(
            h.as_ref(),
            events(&[("1000-0", json!({"type": "alive", "host": "cad"}))]),
            1000 + 5 * 60_000,
        );
        assert_eq!((t.scanned, t.matched, t.fired), (1, 1, 1));
        let last = t.results.last().expect("a result");
        assert_eq!(last.id, None, "fired by the clock, not by an event");
        assert_eq!(last.at, "1970-01-01T00:05:01Z");
    }
}

use serde_json::{Value, json};

use super::KEEP_EXTRA;
use crate::types::testing::{assert_errors, brief, compile, event};
use crate::{Handler, Output};

const MIN: i64 = 60_000;

fn blocks(more_than: u64, window: Option<&str>) -> Box<dyn Handler> {
    compile(
        "distinct_count",
        json!({
            "filter": [{"field": "step", "op": "eq", "value": "place"}, {"field": "status", "op": "eq", "value": "failed"}],
            "group_by": ["runtag"],
            "distinct_field": "block",
            "more_than": more_than,
            "window": window,
            "severity": "critical",
            "emit": {"type": "many_blocks_failed", "project": "vr0"}
        }),
    )
}

fn failed(runtag: &str, block: &str) -> crate::Event {
    event(json!({"step": "place", "status": "failed", "runtag": runtag, "block": block}))
}

fn feed(h: &dyn Handler, state: &mut Value, runtag: &str, block: &str, now: i64) -> Vec<String> {
    brief(
        &h.handle(state, &failed(runtag, block), now)
            .expect("concerns it"),
    )
}

#[test]
fn fires_above_n_distinct_values_and_emits_once_when_crossing() {
    let h = blocks(4, None);
    let mut state = Value::Null;
    for block in ["b1", "b2", "b3", "b4", "b1", "b2"] {
        assert!(feed(&*h, &mut state, "r1", block, 0).is_empty(), "{block}");
    }
    let out = h.handle(&mut state, &failed("r1", "b5"), 1).expect("fires");
    assert_eq!(brief(&out), ["fire r1 critical", "emit"]);
    let Output::Fire {
        summary, fields, ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(
        summary,
        "r1: 5 distinct block (more than 4): b1, b2, b3, b4, b5"
    );
    assert_eq!(
        Value::Object(fields.clone()),
        json!({"runtag": "r1", "count": 5, "values": ["b1", "b2", "b3", "b4", "b5"]})
    );
    let Output::Emit { event } = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(
        Value::Object(event.clone()),
        json!({"type": "many_blocks_failed", "project": "vr0", "runtag": "r1", "count": 5, "values": ["b1", "b2", "b3", "b4", "b5"]})
    );
    // Repeats and further values fire again but do not emit again.
    assert_eq!(feed(&*h, &mut state, "r1", "b5", 2), ["fire r1 critical"]);
    assert_eq!(feed(&*h, &mut state, "r1", "b6", 3), ["fire r1 critical"]);
    // Without a window it never resolves.
    assert!(!h.ticks());
    assert_eq!(h.tick(&mut state, i64::MAX), None);
}

#[test]
fn groups_are_counted_apart() {
    let h = blocks(1, None);
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "r1", "b1", 0).is_empty());
    assert!(feed(&*h, &mut state, "r2", "b2", 0).is_empty());
    assert!(feed(&*h, &mut state, "r2", "b2", 0).is_empty());
    assert_eq!(
        feed(&*h, &mut state, "r2", "b3", 0),
        ["fire r2 critical", "emit"]
    );
    assert!(feed(&*h, &mut state, "r1", "b1", 0).is_empty());
    assert_eq!(state["r1"], json!({"v": {"b1": 0}}));
    assert_eq!(state["r2"]["f"], json!(true));
}

#[test]
fn window_expiry_resolves_on_tick_and_crossing_again_emits_again() {
    let h = blocks(2, Some("1h"));
    assert!(h.ticks());
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "r1", "b1", 0).is_empty());
    assert!(feed(&*h, &mut state, "r1", "b2", 10 * MIN).is_empty());
    assert_eq!(
        feed(&*h, &mut state, "r1", "b3", 20 * MIN),
        ["fire r1 critical", "emit"]
    );
    assert_eq!(h.tick(&mut state, 60 * MIN - 1), None);
    assert_eq!(
        h.tick(&mut state, 60 * MIN),
        Some(vec![Output::Resolve { key: "r1".into() }])
    );
    assert_eq!(h.tick(&mut state, 61 * MIN), None);
    assert_eq!(
        feed(&*h, &mut state, "r1", "b4", 65 * MIN),
        ["fire r1 critical", "emit"]
    );
    // b2 (seen at 10m) leaves the window: two remain.
    assert_eq!(
        h.tick(&mut state, 70 * MIN),
        Some(vec![Output::Resolve { key: "r1".into() }])
    );
    assert_eq!(h.tick(&mut state, 3 * 60 * MIN), Some(vec![]));
    assert_eq!(state, json!({}));
}

#[test]
fn a_repeated_value_refreshes_its_time() {
    let h = blocks(1, Some("1h"));
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "r1", "b1", 0).is_empty());
    assert!(feed(&*h, &mut state, "r1", "b1", 50 * MIN).is_empty());
    assert_eq!(
        feed(&*h, &mut state, "r1", "b2", 70 * MIN),
        ["fire r1 critical", "emit"]
    );
}

#[test]
fn the_groups_next_event_also_resolves() {
    let h = blocks(2, Some("1h"));
    let mut state = Value::Null;
    feed(&*h, &mut state, "r1", "b1", 0);
    feed(&*h, &mut state, "r1", "b2", MIN);
    assert_eq!(
        feed(&*h, &mut state, "r1", "b3", 2 * MIN),
        ["fire r1 critical", "emit"]
    );
    assert_eq!(feed(&*h, &mut state, "r1", "b4", 62 * MIN), ["resolve r1"]);
    assert_eq!(state, json!({"r1": {"v": {"b4": 62 * MIN}}}));
}

#[test]
fn stored_values_are_bounded_and_counting_stays_right() {
    let h = blocks(2, Some("1h"));
    let mut state = Value::Null;
    for i in 0..50 {
        feed(&*h, &mut state, "r1", &format!("b{i:02}"), i * 1000);
    }
    let kept = state["r1"]["v"].as_object().expect("values").len();
    assert_eq!(kept, 2 + 1 + KEEP_EXTRA);
    let out = h
        .handle(&mut state, &failed("r1", "b50"), 50_000)
        .expect("fires");
    let Output::Fire { summary, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        summary,
        "r1: at least 12 distinct block (more than 2): b39, b40, b41, b42, b43, …"
    );
    // The most recent values were kept, so expiry resolves exactly when
    // fewer than three remain: b48 (48s), b49 (49s) and b50 (50s) are the last.
    assert_eq!(h.tick(&mut state, 60 * MIN + 47_999), Some(vec![]));
    assert_eq!(
        h.tick(&mut state, 60 * MIN + 48_000),
        Some(vec![Output::Resolve { key: "r1".into() }])
    );
}

#[test]
fn events_without_the_fields_are_ignored() {
    let h = blocks(0, None);
    let mut state = Value::Null;
    assert_eq!(
        h.handle(
            &mut state,
            &event(json!({"step": "place", "status": "failed", "runtag": "r"})),
            0
        ),
        None
    );
    assert_eq!(
        h.handle(
            &mut state,
            &event(json!({"step": "place", "status": "failed", "block": "b"})),
            0
        ),
        None
    );
    assert_eq!(
        h.handle(
            &mut state,
            &event(json!({"step": "route", "status": "failed", "runtag": "r", "block": "b"})),
            0
        ),
        None
    );
    assert_eq!(state, Value::Null);
    // more_than 0: the first value fires.
    assert_eq!(
        feed(&*h, &mut state, "r", "b", 0),
        ["fire r critical", "emit"]
    );
}

#[test]
fn title_reads_well() {
    let h = blocks(4, Some("1d"));
    // The emitted object's members print in serde_json's map order, which
    // depends on whether the workspace enables `preserve_order`.
    let title = h.title();
    let (head, emits) = title
        .split_once(", emits ")
        .expect("mentions what it emits");
    assert_eq!(
        head,
        "more than 4 distinct block per runtag within 1d where step = place and status = failed → critical"
    );
    let emits: serde_json::Value = serde_json::from_str(emits).expect("JSON");
    assert_eq!(
        emits,
        serde_json::json!({"project": "vr0", "type": "many_blocks_failed"})
    );
    assert_eq!(h.required_fields(), ["step", "status", "runtag", "block"]);
}

#[test]
fn compile_errors_name_their_pointer() {
    let base = |extra: Value| {
        let mut p = json!({"filter": [], "distinct_field": "block", "more_than": 4});
        for (k, v) in extra.as_object().expect("object") {
            p[k] = v.clone();
        }
        p
    };
    assert_errors(
        "distinct_count",
        &[
            (
                json!({"filter": [], "more_than": 4}),
                "/distinct_field",
                "missing field name",
            ),
            (
                json!({"filter": [], "distinct_field": "b"}),
                "/more_than",
                "missing number",
            ),
            (
                base(json!({"more_than": -1})),
                "/more_than",
                "whole number from 0 to 1000",
            ),
            (
                base(json!({"more_than": 1001})),
                "/more_than",
                "whole number from 0 to 1000",
            ),
            (
                base(json!({"more_than": "4"})),
                "/more_than",
                "whole number",
            ),
            (
                base(json!({"more_than": 4.5})),
                "/more_than",
                "whole number",
            ),
            (
                base(json!({"window": "1 day"})),
                "/window",
                "not a duration",
            ),
            (base(json!({"emit": "many"})), "/emit", "must be an object"),
            (
                base(json!({"emit": {"_origin": {}}})),
                "/emit/_origin",
                "set by Tellify",
            ),
            (
                base(json!({"group_by": [""]})),
                "/group_by/0",
                "must be a field name",
            ),
            (
                base(json!({"severity": "high"})),
                "/severity",
                "unknown severity 'high'",
            ),
            (base(json!({"filter": {}})), "/filter", "list of conditions"),
        ],
    );
}

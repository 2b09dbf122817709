use serde_json::{Value, json};

use crate::types::testing::{assert_errors, brief, compile, event};
use crate::{Output, Severity};

const MIN: i64 = 60_000;

fn builds() -> Value {
    json!({
        "filter": [{"field": "status", "op": "eq", "value": "failed"}, {"field": "project", "op": "eq", "value": "vr0"}],
        "severity": "critical",
        "summary": "{block} failed {step}",
        "key": "{project}/{block}",
        "resolve_filter": [{"field": "status", "op": "eq", "value": "passed"}],
        "resolve_after": "1h"
    })
}

#[test]
fn fires_on_every_matching_event_with_rendered_key_summary_and_fields() {
    let h = compile("match", builds());
    let mut state = Value::Null;
    let failed = event(
        json!({"project": "vr0", "block": "b1", "step": "place", "status": "failed", "other": 1}),
    );
    for _ in 0..2 {
        let out = h.handle(&mut state, &failed, 1000).expect("concerns it");
        assert_eq!(
            out,
            [Output::Fire {
                key: "vr0/b1".into(),
                severity: Severity::Critical,
                summary: "b1 failed place".into(),
                fields:
                    json!({"status": "failed", "project": "vr0", "block": "b1", "step": "place"})
                        .as_object()
                        .cloned()
                        .expect("object"),
            }]
        );
    }
    assert_eq!(state, json!({"vr0/b1": 1000}));
    let other_project = event(json!({"project": "vr1", "block": "b1", "status": "failed"}));
    assert_eq!(h.handle(&mut state, &other_project, 2000), None);
}

#[test]
fn resolve_filter_resolves_the_same_key_once() {
    let h = compile("match", builds());
    let mut state = Value::Null;
    let fail = |block: &str| {
        event(json!({"project": "vr0", "block": block, "step": "route", "status": "failed"}))
    };
    let pass = |block: &str| event(json!({"project": "vr0", "block": block, "status": "passed"}));
    h.handle(&mut state, &fail("b1"), 0).expect("fires");
    h.handle(&mut state, &fail("b2"), 0).expect("fires");
    assert_eq!(
        brief(&h.handle(&mut state, &pass("b1"), 1).expect("resolves")),
        ["resolve vr0/b1"]
    );
    assert_eq!(h.handle(&mut state, &pass("b1"), 2), None);
    assert_eq!(h.handle(&mut state, &pass("b3"), 2), None);
    assert_eq!(state, json!({"vr0/b2": 0}));
    assert_eq!(
        h.handle(&mut state, &event(json!({"status": "running"})), 3),
        None
    );
}

#[test]
fn an_event_matching_both_filters_fires() {
    let h = compile(
        "match",
        json!({"filter": [{"field": "a", "op": "exists", "value": true}], "resolve_filter": []}),
    );
    let mut state = Value::Null;
    assert_eq!(
        brief(
            &h.handle(&mut state, &event(json!({"a": 1})), 0)
                .expect("fires")
        ),
        ["fire default warning"]
    );
    // An empty resolve filter means none: state is not even kept.
    assert_eq!(state, Value::Null);
    assert_eq!(h.filters().len(), 1);
    let h = compile(
        "match",
        json!({"filter": [{"field": "a", "op": "exists", "value": true}], "resolve_filter": [{"field": "a", "op": "ge", "value": 0}]}),
    );
    assert_eq!(
        brief(
            &h.handle(&mut state, &event(json!({"a": 1})), 0)
                .expect("fires")
        ),
        ["fire default warning"]
    );
    assert_eq!(h.filters().len(), 2);
}

#[test]
fn resolve_after_resolves_quiet_alerts_on_tick() {
    let h = compile("match", builds());
    assert!(h.ticks());
    let mut state = Value::Null;
    assert_eq!(h.tick(&mut state, 0), None);
    let fail = |block: &str| event(json!({"project": "vr0", "block": block, "status": "failed"}));
    h.handle(&mut state, &fail("b1"), 0).expect("fires");
    h.handle(&mut state, &fail("b2"), 30 * MIN).expect("fires");
    assert_eq!(h.tick(&mut state, 60 * MIN - 1), None);
    // b1 fires again just in time: its hour starts over.
    h.handle(&mut state, &fail("b1"), 60 * MIN - 1)
        .expect("fires");
    assert_eq!(
        h.tick(&mut state, 90 * MIN),
        Some(vec![Output::Resolve {
            key: "vr0/b2".into()
        }])
    );
    assert_eq!(h.tick(&mut state, 90 * MIN), None);
    assert_eq!(
        brief(&h.tick(&mut state, 120 * MIN).expect("b1 quiet")),
        ["resolve vr0/b1"]
    );
    assert_eq!(state, json!({}));
}

#[test]
fn without_resolving_no_state_is_kept() {
    let h = compile(
        "match",
        json!({"filter": [{"field": "status", "op": "eq", "value": "failed"}]}),
    );
    assert!(!h.ticks());
    let mut state = Value::Null;
    let out = h
        .handle(
            &mut state,
            &event(json!({"status": "failed", "block": "b"})),
            0,
        )
        .expect("fires");
    assert_eq!(
        out,
        [Output::Fire {
            key: "default".into(),
            severity: Severity::Warning,
            summary: "status=failed".into(),
            fields: json!({"status": "failed"})
                .as_object()
                .cloned()
                .expect("object"),
        }]
    );
    assert_eq!(state, Value::Null);
    assert_eq!(h.tick(&mut state, i64::MAX), None);
}

#[test]
fn missing_template_fields_render_as_question_marks() {
    let h = compile(
        "match",
        json!({"filter": [], "key": "{host}", "summary": "{host} says {msg}"}),
    );
    let out = h
        .handle(&mut Value::Null, &event(json!({"msg": "hi"})), 0)
        .expect("fires");
    let Output::Fire { key, summary, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((key.as_str(), summary.as_str()), ("?", "? says hi"));
}

#[test]
fn title_and_required_fields_read_well() {
    let h = compile(
        "match",
        json!({"filter": [{"field": "block", "op": "eq", "value": "blk001"}, {"field": "status", "op": "eq", "value": "failed"}]}),
    );
    assert_eq!(h.title(), "block = blk001 and status = failed → warning");
    let h = compile("match", builds());
    assert_eq!(
        h.title(),
        "status = failed and project = vr0 → critical, one alert per {project}/{block}; resolved by status = passed; resolves after 1h quiet"
    );
    assert_eq!(h.required_fields(), ["status", "project", "block", "step"]);
}

#[test]
fn compile_errors_name_their_pointer() {
    let f = json!([{"field": "a", "op": "eq", "value": 1}]);
    assert_errors(
        "match",
        &[
            (json!([]), "", "must be a JSON object"),
            (json!({}), "/filter", "missing filter"),
            (
                json!({"filter": f, "sevrity": "info"}),
                "/sevrity",
                "unknown property 'sevrity'",
            ),
            (
                json!({"filter": f, "severity": "urgent"}),
                "/severity",
                "unknown severity 'urgent'",
            ),
            (
                json!({"filter": f, "severity": 3}),
                "/severity",
                "one of info, warning, critical",
            ),
            (
                json!({"filter": f, "summary": "{block"}),
                "/summary",
                "unclosed '{'",
            ),
            (
                json!({"filter": f, "summary": 5}),
                "/summary",
                "must be a text",
            ),
            (
                json!({"filter": f, "key": "{}"}),
                "/key",
                "empty field name",
            ),
            (
                json!({"filter": f, "key": " "}),
                "/key",
                "must not be empty",
            ),
            (
                json!({"filter": f, "resolve_filter": [{"field": "a", "op": "eqq", "value": 1}]}),
                "/resolve_filter/0/op",
                "unknown operator 'eqq'",
            ),
            (
                json!({"filter": f, "resolve_after": "soon"}),
                "/resolve_after",
                "not a duration",
            ),
            (
                json!({"filter": f, "resolve_after": "0m"}),
                "/resolve_after",
                "is zero",
            ),
            (
                json!({"filter": f, "resolve_after": 60}),
                "/resolve_after",
                "must be a duration",
            ),
            (
                json!({"filter": [{"field": "a", "op": "regex", "value": "(("}]}),
                "/filter/0/value",
                "invalid regular expression",
            ),
        ],
    );
}

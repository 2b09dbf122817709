use serde_json::{Value, json};

use crate::types::testing::{assert_errors, brief, compile, event};
use crate::{Handler, Output, Severity, handler_type};

fn disk(hysteresis: f64) -> Box<dyn Handler> {
    compile(
        "threshold",
        json!({
            "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"}],
            "value_field": "pct",
            "key_fields": ["host", "fs"],
            "levels": [
                {"severity": "critical", "op": "ge", "value": 97},
                {"severity": "warning", "op": "ge", "value": 90}
            ],
            "hysteresis": hysteresis
        }),
    )
}

fn reading(host: &str, pct: Value) -> crate::Event {
    event(json!({"source": "disk-monitor", "host": host, "fs": "/sarc/fs02", "pct": pct}))
}

/// Feed values for one key; give the brief outputs of each.
fn run(h: &dyn Handler, state: &mut Value, values: &[f64]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            brief(
                &h.handle(state, &reading("cad01", json!(v)), 0)
                    .unwrap_or_default(),
            )
            .join(",")
        })
        .collect()
}

#[test]
fn levels_up_and_down_with_hysteresis() {
    let h = disk(1.0);
    let mut state = Value::Null;
    let key = "cad01//sarc/fs02";
    let (w, c, r) = (
        format!("fire {key} warning"),
        format!("fire {key} critical"),
        format!("resolve {key}"),
    );
    let values = [
        50.0, 90.0, 96.9, 97.0, 96.5, 95.9, 89.5, 89.0, 88.9, 88.9, 99.0,
    ];
    let expected = ["", &w, &w, &c, &c, &w, &w, &w, &r, "", &c];
    assert_eq!(run(&*h, &mut state, &values), expected);
    assert_eq!(state, json!({key: 2}));
}

#[test]
fn hysteresis_stops_flapping_and_zero_hysteresis_does_not() {
    let h = disk(1.0);
    let mut state = Value::Null;
    let out = run(&*h, &mut state, &[90.0, 89.5, 90.2, 89.1, 90.0]);
    assert!(out.iter().all(|o| o.ends_with("warning")), "{out:?}");

    let h = disk(0.0);
    let mut state = Value::Null;
    let out = run(&*h, &mut state, &[90.0, 89.9, 90.0, 97.0, 96.99]);
    let key = "cad01//sarc/fs02";
    assert_eq!(
        out,
        [
            format!("fire {key} warning"),
            format!("resolve {key}"),
            format!("fire {key} warning"),
            format!("fire {key} critical"),
            format!("fire {key} warning"),
        ]
    );
}

#[test]
fn keys_are_independent() {
    let h = disk(0.0);
    let mut state = Value::Null;
    let fire = |state: &mut Value, host: &str, pct: f64| {
        brief(
            &h.handle(state, &reading(host, json!(pct)), 0)
                .unwrap_or_default(),
        )
    };
    assert_eq!(
        fire(&mut state, "cad01", 98.0),
        ["fire cad01//sarc/fs02 critical"]
    );
    assert_eq!(
        fire(&mut state, "cad02", 91.0),
        ["fire cad02//sarc/fs02 warning"]
    );
    assert_eq!(fire(&mut state, "cad03", 10.0), Vec::<String>::new());
    assert_eq!(
        fire(&mut state, "cad02", 10.0),
        ["resolve cad02//sarc/fs02"]
    );
    assert_eq!(state, json!({"cad01//sarc/fs02": 2}));
    assert_eq!(
        fire(&mut state, "cad01", 98.0),
        ["fire cad01//sarc/fs02 critical"]
    );
}

#[test]
fn fire_carries_summary_and_fields() {
    let h = disk(1.0);
    let out = h
        .handle(&mut Value::Null, &reading("cad01", json!(97.5)), 0)
        .expect("fires");
    assert_eq!(
        out,
        [Output::Fire {
            key: "cad01//sarc/fs02".into(),
            severity: Severity::Critical,
            summary: "cad01:/sarc/fs02 pct 97.5 (critical ≥ 97)".into(),
            fields: json!({"host": "cad01", "fs": "/sarc/fs02", "pct": 97.5})
                .as_object()
                .cloned()
                .expect("object"),
        }]
    );
}

#[test]
fn events_without_a_number_or_key_are_ignored() {
    let h = disk(0.0);
    let mut state = json!({"cad01//sarc/fs02": 1});
    for e in [
        reading("cad01", json!("97")),
        reading("cad01", json!(null)),
        event(json!({"source": "disk-monitor", "host": "cad01", "pct": 99})),
        event(json!({"source": "other", "host": "cad01", "fs": "/sarc/fs02", "pct": 99})),
    ] {
        assert_eq!(h.handle(&mut state, &e, 0), None, "{e:?}");
    }
    assert_eq!(state, json!({"cad01//sarc/fs02": 1}));
}

#[test]
fn downward_levels_mirror_the_hysteresis() {
    let h = compile(
        "threshold",
        json!({
            "filter": [],
            "value_field": "free_gb",
            "levels": [{"severity": "warning", "op": "le", "value": 10}, {"severity": "critical", "op": "lt", "value": 3}],
            "hysteresis": 2
        }),
    );
    let mut state = Value::Null;
    let out: Vec<String> = [20.0, 10.0, 11.9, 12.0, 12.1, 2.9, 4.9, 5.0, 5.1]
        .iter()
        .map(|v| {
            brief(
                &h.handle(&mut state, &event(json!({"free_gb": v})), 0)
                    .unwrap_or_default(),
            )
            .join(",")
        })
        .collect();
    let (w, c) = ("fire default warning", "fire default critical");
    assert_eq!(out, ["", w, w, w, "resolve default", c, c, w, w]);
    assert_eq!(
        h.title(),
        "free_gb ≤ 10 (warning) / < 3 (critical), hysteresis 2"
    );
}

#[test]
fn gt_without_hysteresis_leaves_at_the_limit() {
    let h = compile(
        "threshold",
        json!({"filter": [], "value_field": "v", "levels": [{"severity": "info", "op": "gt", "value": 5}]}),
    );
    let mut state = Value::Null;
    let out: Vec<String> = [5.0, 5.5, 5.0]
        .iter()
        .map(|v| {
            brief(
                &h.handle(&mut state, &event(json!({"v": v})), 0)
                    .unwrap_or_default(),
            )
            .join(",")
        })
        .collect();
    assert_eq!(out, ["", "fire default info", "resolve default"]);
}

#[test]
fn title_reads_well() {
    let t = handler_type("threshold").expect("type");
    let example = t.parameters_schema()["examples"][0].clone();
    let h = t.compile(&example).expect("example compiles");
    assert_eq!(
        h.title(),
        "pct ≥ 90 (warning) / ≥ 97 (critical) per host, fs where source = disk-monitor and fs in 10 values, hysteresis 1"
    );
    assert_eq!(h.required_fields(), ["source", "fs", "pct", "host"]);
}

#[test]
fn compile_errors_name_their_pointer() {
    let f = json!([]);
    let ge90 = json!({"severity": "warning", "op": "ge", "value": 90});
    assert_errors(
        "threshold",
        &[
            (
                json!({"filter": f, "levels": [ge90]}),
                "/value_field",
                "missing field name",
            ),
            (
                json!({"filter": f, "value_field": ""}),
                "/value_field",
                "must be a field name",
            ),
            (
                json!({"filter": f, "value_field": "pct"}),
                "/levels",
                "missing levels",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": []}),
                "/levels",
                "one to three levels",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90, ge90, ge90, ge90]}),
                "/levels",
                "one to three",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [5]}),
                "/levels/0",
                "must be an object",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "warning", "op": "eq", "value": 90}]}),
                "/levels/0/op",
                "one of ge, gt, le, lt",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "warning", "op": "ge", "value": "90"}]}),
                "/levels/0/value",
                "must be a number",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "bad", "op": "ge", "value": 90}]}),
                "/levels/0/severity",
                "unknown severity 'bad'",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"op": "ge", "value": 90}]}),
                "/levels/0/severity",
                "missing severity",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "info", "op": "ge", "value": 90, "x": 1}]}),
                "/levels/0/x",
                "unknown property 'x'",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90, {"severity": "critical", "op": "le", "value": 97}]}),
                "/levels/1/op",
                "same way",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90, {"severity": "warning", "op": "ge", "value": 97}]}),
                "/levels/1/severity",
                "two levels have severity warning",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "critical", "op": "ge", "value": 80}, ge90]}),
                "/levels/0/value",
                "the critical limit must be above the warning limit (90)",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [{"severity": "critical", "op": "le", "value": 10}, {"severity": "warning", "op": "le", "value": 5}]}),
                "/levels/0/value",
                "must be below the warning limit (5)",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90], "hysteresis": -1}),
                "/hysteresis",
                "0 or more",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90], "key_fields": "host"}),
                "/key_fields",
                "list of field names",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90], "key_fields": ["h", "h"]}),
                "/key_fields/1",
                "listed twice",
            ),
            (
                json!({"filter": f, "value_field": "pct", "levels": [ge90], "key_fields": ["h", 1]}),
                "/key_fields/1",
                "must be a field name",
            ),
        ],
    );
}

use serde_json::{Value, json};

use crate::types::testing::{assert_errors, brief, compile, event};
use crate::{Handler, Output, Severity};

const SEC: i64 = 1000;

fn logins(more_than: u64, group_by: Value) -> Box<dyn Handler> {
    compile(
        "rate",
        json!({
            "filter": [{"field": "status", "op": "eq", "value": "failed"}],
            "more_than": more_than,
            "window": "1m",
            "group_by": group_by,
        }),
    )
}

fn feed(h: &dyn Handler, state: &mut Value, host: &str, now: i64) -> Vec<String> {
    brief(
        &h.handle(
            state,
            &event(json!({"status": "failed", "host": host})),
            now,
        )
        .expect("concerns it"),
    )
}

#[test]
fn fires_above_n_in_the_window_and_the_window_slides() {
    let h = logins(2, json!([]));
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "a", 0).is_empty());
    assert!(feed(&*h, &mut state, "a", 20 * SEC).is_empty());
    assert_eq!(
        feed(&*h, &mut state, "a", 40 * SEC),
        ["fire default warning"]
    );
    assert_eq!(h.tick(&mut state, 60 * SEC - 1), None);
    assert_eq!(
        h.tick(&mut state, 60 * SEC),
        Some(vec![Output::Resolve {
            key: "default".into()
        }])
    );
    assert_eq!(h.tick(&mut state, 61 * SEC), None);
    assert_eq!(
        feed(&*h, &mut state, "a", 70 * SEC),
        ["fire default warning"]
    );
    // At 100s, 20s and 40s are out: two left, so the event resolves.
    assert_eq!(feed(&*h, &mut state, "a", 100 * SEC), ["resolve default"]);
    assert_eq!(state, json!({"default": {"t": [70 * SEC, 100 * SEC]}}));
    assert_eq!(h.tick(&mut state, 10_000 * SEC), Some(vec![]));
    assert_eq!(state, json!({}));
}

#[test]
fn fires_on_every_event_while_above_and_keeps_n_plus_one_arrivals() {
    let h = logins(3, json!([]));
    let mut state = Value::Null;
    let outs: Vec<Vec<String>> = (0..100)
        .map(|i| feed(&*h, &mut state, "a", i * 10))
        .collect();
    assert!(outs[..3].iter().all(Vec::is_empty));
    assert!(outs[3..].iter().all(|o| o == &["fire default warning"]));
    assert_eq!(state["default"]["t"], json!([960, 970, 980, 990]));
}

#[test]
fn groups_are_counted_apart() {
    let h = logins(1, json!(["host"]));
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "a", 0).is_empty());
    assert!(feed(&*h, &mut state, "b", 0).is_empty());
    assert_eq!(feed(&*h, &mut state, "b", SEC), ["fire b warning"]);
    let out = h
        .handle(
            &mut state,
            &event(json!({"status": "failed", "host": "a"})),
            2 * SEC,
        )
        .expect("fires");
    assert_eq!(
        out,
        [Output::Fire {
            key: "a".into(),
            severity: Severity::Warning,
            summary: "a: more than 1 events within 1m".into(),
            fields: json!({"host": "a"}).as_object().cloned().expect("object"),
        }]
    );
    assert_eq!(
        h.handle(&mut state, &event(json!({"status": "failed"})), 0),
        None
    );
    assert_eq!(
        h.handle(&mut state, &event(json!({"status": "ok", "host": "a"})), 0),
        None
    );
}

#[test]
fn out_of_order_arrivals_are_counted_where_they_belong() {
    let h = logins(1, json!([]));
    let mut state = Value::Null;
    assert!(feed(&*h, &mut state, "a", 50 * SEC).is_empty());
    assert_eq!(
        feed(&*h, &mut state, "a", 10 * SEC),
        ["fire default warning"]
    );
    assert_eq!(state["default"]["t"], json!([10 * SEC, 50 * SEC]));
    assert_eq!(
        h.tick(&mut state, 70 * SEC),
        Some(vec![Output::Resolve {
            key: "default".into()
        }])
    );
}

#[test]
fn title_reads_well() {
    assert!(logins(10, json!(["host"])).ticks());
    assert_eq!(
        logins(10, json!(["host"])).title(),
        "more than 10 events within 1m per host where status = failed → warning"
    );
}

#[test]
fn compile_errors_name_their_pointer() {
    let f = json!([]);
    assert_errors(
        "rate",
        &[
            (
                json!({"filter": f, "more_than": 3}),
                "/window",
                "missing duration",
            ),
            (
                json!({"filter": f, "more_than": 3, "window": "0s"}),
                "/window",
                "is zero",
            ),
            (
                json!({"filter": f, "more_than": 3, "window": "1y"}),
                "/window",
                "unknown unit 'y'",
            ),
            (
                json!({"filter": f, "window": "1h"}),
                "/more_than",
                "missing number",
            ),
            (
                json!({"filter": f, "window": "1h", "more_than": 5000}),
                "/more_than",
                "from 0 to 1000",
            ),
            (
                json!({"window": "1h", "more_than": 5}),
                "/filter",
                "missing filter",
            ),
            (
                json!({"filter": f, "window": "1h", "more_than": 5, "group_by": [{}]}),
                "/group_by/0",
                "field name",
            ),
            (
                json!({"filter": f, "window": "1h", "more_than": 5, "summary": "}"}),
                "/summary",
                "unmatched '}'",
            ),
        ],
    );
}

use serde_json::{Map, Value, json};

use crate::types::testing::{assert_errors, brief, compile, event};
use crate::{AlertStatus, AlertView, DigestItem, Handler, Output, Severity, handler_type};

const MIN: i64 = 60_000;

fn alive(key_fields: Value) -> Box<dyn Handler> {
    compile(
        "heartbeat",
        json!({
            "filter": [{"field": "tags", "op": "contains", "value": "alive"}],
            "key_fields": key_fields,
            "missing_after": "3m"
        }),
    )
}

fn beat(host: &str) -> crate::Event {
    event(json!({"host": host, "site": "gre", "tags": ["still", "alive"]}))
}

#[test]
fn missing_fires_once_and_back_resolves_once() {
    let h = alive(json!(["host"]));
    assert!(h.ticks());
    let mut state = Value::Null;
    assert_eq!(h.tick(&mut state, 100 * MIN), None, "no key learned yet");
    assert_eq!(h.handle(&mut state, &beat("caddashboard"), 0), Some(vec![]));
    assert_eq!(
        h.handle(&mut state, &beat("caddashboard"), MIN),
        Some(vec![])
    );
    assert_eq!(
        h.tick(&mut state, 4 * MIN),
        None,
        "exactly 3m is not more than 3m"
    );
    let out = h.tick(&mut state, 4 * MIN + 1).expect("fires");
    assert_eq!(
        out,
        [Output::Fire {
            key: "caddashboard".into(),
            severity: Severity::Critical,
            summary: "caddashboard: no event for more than 3m (last seen 3m ago)".into(),
            fields: json!({"host": "caddashboard", "last_seen": MIN})
                .as_object()
                .cloned()
                .expect("object"),
        }]
    );
    assert_eq!(h.tick(&mut state, 5 * MIN), None, "fires once");
    assert_eq!(h.tick(&mut state, 500 * MIN), None, "fires once");
    assert_eq!(
        brief(
            &h.handle(&mut state, &beat("caddashboard"), 501 * MIN)
                .expect("back")
        ),
        ["resolve caddashboard"]
    );
    assert_eq!(
        h.handle(&mut state, &beat("caddashboard"), 502 * MIN),
        Some(vec![])
    );
    assert_eq!(state, json!({"caddashboard": [502 * MIN, 0]}));
    assert_eq!(
        h.handle(&mut state, &event(json!({"host": "x", "tags": []})), 0),
        None
    );
}

#[test]
fn keys_are_watched_apart() {
    let h = alive(json!(["host"]));
    let mut state = Value::Null;
    h.handle(&mut state, &beat("a"), 0).expect("a");
    h.handle(&mut state, &beat("b"), 2 * MIN).expect("b");
    assert_eq!(
        brief(&h.tick(&mut state, 4 * MIN).expect("a missing")),
        ["fire a critical"]
    );
    assert_eq!(
        brief(&h.tick(&mut state, 6 * MIN).expect("b missing")),
        ["fire b critical"]
    );
    assert_eq!(
        brief(&h.handle(&mut state, &beat("b"), 7 * MIN).expect("b back")),
        ["resolve b"]
    );
    assert_eq!(
        h.handle(&mut state, &event(json!({"tags": ["alive"]})), 0),
        None,
        "no key field"
    );
}

#[test]
fn several_key_fields_are_kept_for_the_alert() {
    let h = alive(json!(["site", "host"]));
    let mut state = Value::Null;
    h.handle(&mut state, &beat("cad01"), 0).expect("learned");
    let out = h.tick(&mut state, 10 * MIN).expect("missing");
    let Output::Fire {
        key,
        summary,
        fields,
        ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(key, "gre/cad01");
    assert_eq!(
        summary,
        "gre:cad01: no event for more than 3m (last seen 10m ago)"
    );
    assert_eq!(
        Value::Object(fields.clone()),
        json!({"site": "gre", "host": "cad01", "last_seen": 0})
    );
}

#[test]
fn without_key_fields_there_is_one_alert() {
    let h = alive(json!([]));
    let mut state = Value::Null;
    h.handle(&mut state, &beat("a"), 0).expect("learned");
    h.handle(&mut state, &beat("b"), MIN).expect("same key");
    let out = h.tick(&mut state, 5 * MIN).expect("missing");
    let Output::Fire { key, summary, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        (key.as_str(), summary.as_str()),
        ("default", "no event for more than 3m (last seen 4m ago)")
    );
}

#[test]
fn the_sms_line_says_it_is_back() {
    let t = handler_type("heartbeat").expect("type");
    let view = |status| AlertView {
        key: "caddashboard".into(),
        status,
        severity: Severity::Critical,
        summary: "caddashboard: no event for more than 3m (last seen 3m ago)".into(),
        count: 1,
        first_seen: 0,
        last_seen: 0,
        fields: Map::new(),
    };
    let item = |status| DigestItem {
        instance_name: "alive".into(),
        alert: view(status),
    };
    assert_eq!(
        t.alert_text(&[item(AlertStatus::Resolved)]),
        "alive: caddashboard is back"
    );
    assert_eq!(
        t.alert_text(&[item(AlertStatus::Firing)]),
        "alive: caddashboard: no event for more than 3m (last seen 3m ago)"
    );
}

#[test]
fn title_reads_well() {
    assert_eq!(
        alive(json!(["host"])).title(),
        "no event for 3m per host where tags contains alive → critical"
    );
}

#[test]
fn compile_errors_name_their_pointer() {
    let f = json!([]);
    assert_errors(
        "heartbeat",
        &[
            (json!({"filter": f}), "/missing_after", "missing duration"),
            (
                json!({"filter": f, "missing_after": "3"}),
                "/missing_after",
                "missing unit after 3",
            ),
            (
                json!({"filter": f, "missing_after": "3m", "key_fields": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]}),
                "/key_fields",
                "at most 10",
            ),
            (
                json!({"filter": f, "missing_after": "3m", "summary": "x"}),
                "/summary",
                "unknown property 'summary'",
            ),
            (
                json!({"filter": [{"field": "a", "op": "gt"}], "missing_after": "3m"}),
                "/filter/0/value",
                "missing value",
            ),
        ],
    );
}

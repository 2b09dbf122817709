use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn event(v: Value) -> Event {
    v.as_object().cloned().expect("an object")
}

fn filter(v: Value) -> Filter {
    match Filter::parse(&v, "/filter") {
        Ok(f) => f,
        Err(e) => panic!("{v} does not parse: {e:?}"),
    }
}

fn one(field: &str, op: &str, value: Value) -> Filter {
    filter(json!([{"field": field, "op": op, "value": value}]))
}

#[test]
fn canonical_texts() {
    let table = [
        (json!("90"), Some("90")),
        (json!(90), Some("90")),
        (json!(90.0), Some("90")),
        (json!(-0.0), Some("0")),
        (json!(97.5), Some("97.5")),
        (json!(-0.25), Some("-0.25")),
        (json!(1e20), Some("100000000000000000000")),
        (json!(1e-7), Some("0.0000001")),
        (json!(u64::MAX), Some("18446744073709551615")),
        (json!(i64::MIN), Some("-9223372036854775808")),
        (json!(true), Some("true")),
        (json!(false), Some("false")),
        (json!(""), Some("")),
        (json!(null), None),
        (json!([1]), None),
        (json!({"a": 1}), None),
    ];
    for (v, expected) in table {
        assert_eq!(canonical(&v).as_deref(), expected, "{v}");
    }
}

#[test]
fn lookup_follows_dots_arrays_and_literal_keys() {
    let e = event(json!({
        "a": {"b": {"c": 1}}, "tags": ["x", "y"], "d.e": "literal", "d": {"e": "nested"}
    }));
    assert_eq!(lookup(&e, "a.b.c"), Some(&json!(1)));
    assert_eq!(lookup(&e, "a.b"), Some(&json!({"c": 1})));
    assert_eq!(lookup(&e, "tags.1"), Some(&json!("y")));
    assert_eq!(lookup(&e, "d.e"), Some(&json!("literal")));
    assert_eq!(lookup(&e, "a.x.c"), None);
    assert_eq!(lookup(&e, "tags.9"), None);
    assert_eq!(lookup(&e, "tags.x"), None);
    assert_eq!(lookup(&e, "a.b.c.d"), None);
    assert_eq!(lookup(&e, "missing"), None);
}

#[test]
fn ops_table() {
    let e = event(json!({
        "s": "disk-monitor", "n": 90, "f": 97.5, "t": "90", "b": true, "nil": null,
        "fs": "/sarc/fs02", "tags": ["alive", 3], "nested": {"pct": 91.0}
    }));
    // (field, op, value, expected)
    let table = [
        ("s", "eq", json!("disk-monitor"), true),
        ("s", "eq", json!("disk"), false),
        ("n", "eq", json!("90"), true),
        ("n", "eq", json!(90.0), true),
        ("t", "eq", json!(90), true),
        ("t", "eq", json!(90.5), false),
        ("f", "eq", json!("97.5"), true),
        ("b", "eq", json!("true"), true),
        ("b", "eq", json!(true), true),
        ("nested.pct", "eq", json!(91), true),
        ("missing", "eq", json!("x"), false),
        ("nil", "eq", json!("null"), false),
        ("tags", "eq", json!("alive"), false),
        ("s", "ne", json!("other"), true),
        ("s", "ne", json!("disk-monitor"), false),
        ("n", "ne", json!("90"), false),
        ("missing", "ne", json!("x"), true),
        ("nil", "ne", json!("x"), true),
        ("fs", "in", json!(["/sarc/fs01", "/sarc/fs02"]), true),
        ("fs", "in", json!(["/sarc/fs01"]), false),
        ("n", "in", json!(["89", "90"]), true),
        ("n", "in", json!([89, 90.0]), true),
        ("b", "in", json!([true]), true),
        ("missing", "in", json!(["x"]), false),
        ("fs", "not_in", json!(["/sarc/fs01"]), true),
        ("fs", "not_in", json!(["/sarc/fs02"]), false),
        ("missing", "not_in", json!(["x"]), true),
        ("s", "regex", json!("^disk-"), true),
        ("s", "regex", json!("^monitor"), false),
        ("n", "regex", json!("^9\\d$"), true),
        ("f", "regex", json!("\\.5$"), true),
        ("missing", "regex", json!(".*"), false),
        ("tags", "regex", json!(".*"), false),
        ("s", "exists", json!(true), true),
        ("missing", "exists", json!(true), false),
        ("missing", "exists", json!(false), true),
        ("nil", "exists", json!(false), true),
        ("nested.pct", "exists", json!(true), true),
        ("n", "gt", json!(89), true),
        ("n", "gt", json!(90), false),
        ("n", "ge", json!(90), true),
        ("n", "ge", json!("90"), true),
        ("f", "lt", json!(98), true),
        ("f", "lt", json!(97.5), false),
        ("f", "le", json!(97.5), true),
        ("t", "ge", json!(0), false),
        ("missing", "lt", json!(100), false),
        ("nested.pct", "gt", json!(90.5), true),
        ("fs", "contains", json!("fs0"), true),
        ("fs", "contains", json!("fs1"), false),
        ("tags", "contains", json!("alive"), true),
        ("tags", "contains", json!("3"), true),
        ("tags", "contains", json!("dead"), false),
        ("n", "contains", json!("9"), false),
        ("missing", "contains", json!("x"), false),
    ];
    for (field, op, value, expected) in table {
        let f = one(field, op, value.clone());
        assert_eq!(f.matches(&e), expected, "{field} {op} {value}");
    }
}

#[test]
fn all_conditions_must_hold_and_empty_matches_all() {
    let e = event(json!({"block": "blk001", "status": "failed"}));
    let f = filter(json!([
        {"field": "block", "op": "eq", "value": "blk001"},
        {"field": "status", "op": "eq", "value": "failed"}
    ]));
    assert!(f.matches(&e));
    assert!(!f.matches(&event(json!({"block": "blk001", "status": "passed"}))));
    assert!(filter(json!([])).matches(&e));
    assert_eq!(filter(json!([])).to_string(), "any event");
    assert_eq!(f.to_string(), "block = blk001 and status = failed");
}

#[test]
fn describes_conditions_for_titles() {
    let table = [
        (
            json!({"field": "fs", "op": "in", "value": ["/a", "/b"]}),
            "fs in [/a, /b]",
        ),
        (
            json!({"field": "fs", "op": "in", "value": [1, 2, 3, 4, 5]}),
            "fs in 5 values",
        ),
        (
            json!({"field": "pct", "op": "ge", "value": "90"}),
            "pct ≥ 90",
        ),
        (
            json!({"field": "msg", "op": "regex", "value": "^a"}),
            "msg ~ /^a/",
        ),
        (
            json!({"field": "h", "op": "exists", "value": false}),
            "h is missing",
        ),
        (
            json!({"field": "m", "op": "eq", "value": "a b"}),
            "m = \"a b\"",
        ),
        (json!({"field": "m", "op": "ne", "value": ""}), "m ≠ \"\""),
    ];
    for (condition, expected) in table {
        assert_eq!(filter(json!([condition])).to_string(), expected);
    }
}

#[test]
fn index_keys_for_eq_and_in_only() {
    let f = filter(json!([
        {"field": "source", "op": "eq", "value": "disk-monitor"},
        {"field": "n", "op": "eq", "value": 90.0},
        {"field": "fs", "op": "in", "value": ["/b", "/a", "/b", 7]},
        {"field": "x", "op": "ne", "value": "y"},
        {"field": "x", "op": "regex", "value": "y"}
    ]));
    let keys: Vec<_> = f.conditions().iter().map(Condition::index_keys).collect();
    assert_eq!(
        keys,
        [
            Some(vec!["disk-monitor".to_owned()]),
            Some(vec!["90".to_owned()]),
            Some(vec!["/a".to_owned(), "/b".to_owned(), "7".to_owned()]),
            None,
            None
        ]
    );
    assert_eq!(f.fields().collect::<Vec<_>>(), ["source", "n", "fs", "x"]);
}

#[test]
fn parse_errors_name_their_pointer() {
    let table = [
        (
            json!({"field": "a"}),
            "/filter",
            "must be a list of conditions",
        ),
        (json!([1]), "/filter/0", "must be an object"),
        (
            json!([{"field": "a", "op": "eq", "value": 1, "x": 2}]),
            "/filter/0/x",
            "unknown property 'x'",
        ),
        (
            json!([{"op": "eq", "value": 1}]),
            "/filter/0/field",
            "missing field name",
        ),
        (
            json!([{"field": "", "op": "eq", "value": 1}]),
            "/filter/0/field",
            "must be a field name",
        ),
        (
            json!([{"field": 3, "op": "eq", "value": 1}]),
            "/filter/0/field",
            "must be a field name",
        ),
        (
            json!([{"field": "a", "value": 1}]),
            "/filter/0/op",
            "missing operator; one of eq, ne",
        ),
        (
            json!([{"field": "a", "op": "eq", "value": 1}, {"field": "a", "op": "eqq", "value": 1}]),
            "/filter/1/op",
            "unknown operator 'eqq'; one of eq, ne, in, not_in, regex, exists, gt, ge, lt, le, contains",
        ),
        (
            json!([{"field": "a", "op": 1, "value": 1}]),
            "/filter/0/op",
            "must be one of eq",
        ),
        (
            json!([{"field": "a", "op": "eq"}]),
            "/filter/0/value",
            "missing value",
        ),
        (
            json!([{"field": "a", "op": "eq", "value": null}]),
            "/filter/0/value",
            "string, number or boolean",
        ),
        (
            json!([{"field": "a", "op": "eq", "value": [1]}]),
            "/filter/0/value",
            "string, number or boolean",
        ),
        (
            json!([{"field": "a", "op": "in", "value": "x"}]),
            "/filter/0/value",
            "takes a list",
        ),
        (
            json!([{"field": "a", "op": "in", "value": []}]),
            "/filter/0/value",
            "at least one value",
        ),
        (
            json!([{"field": "a", "op": "not_in", "value": ["x", {}]}]),
            "/filter/0/value/1",
            "string, number or boolean",
        ),
        (
            json!([{"field": "a", "op": "regex", "value": "("}]),
            "/filter/0/value",
            "invalid regular expression",
        ),
        (
            json!([{"field": "a", "op": "regex", "value": 5}]),
            "/filter/0/value",
            "regular expression",
        ),
        (
            json!([{"field": "a", "op": "regex", "value": "a{10000}{10000}"}]),
            "/filter/0/value",
            "invalid regular expression",
        ),
        (
            json!([{"field": "a", "op": "exists", "value": "yes"}]),
            "/filter/0/value",
            "must be true",
        ),
        (
            json!([{"field": "a", "op": "gt", "value": "ninety"}]),
            "/filter/0/value",
            "compares numbers",
        ),
        (
            json!([{"field": "a", "op": "le", "value": true}]),
            "/filter/0/value",
            "compares numbers",
        ),
        (
            json!([{"field": "a", "op": "contains", "value": {}}]),
            "/filter/0/value",
            "string, number or boolean",
        ),
    ];
    for (v, pointer, text) in table {
        let errors = Filter::parse(&v, "/filter").expect_err(&v.to_string());
        assert!(
            errors
                .iter()
                .any(|e| e.pointer == pointer && e.message.contains(text)),
            "{v}: expected {pointer} ~ {text:?}, got {errors:?}"
        );
    }
}

#[test]
fn parse_reports_every_bad_condition() {
    let v = json!([
        {"field": "a", "op": "eqq", "value": 1},
        {"field": "b", "op": "eq", "value": 1},
        {"op": "in", "value": []}
    ]);
    let errors = Filter::parse(&v, "/resolve_filter").expect_err("bad");
    let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/resolve_filter/0/op",
            "/resolve_filter/2/field",
            "/resolve_filter/2/value"
        ]
    );
}

#[test]
fn limits_are_enforced() {
    let many: Vec<Value> = (0..=MAX_CONDITIONS)
        .map(|_| json!({"field": "a", "op": "exists", "value": true}))
        .collect();
    assert!(Filter::parse(&Value::Array(many), "").is_err());
    let long_list: Vec<usize> = (0..=MAX_LIST).collect();
    assert!(Filter::parse(&json!([{"field": "a", "op": "in", "value": long_list}]), "").is_err());
    let long_regex = "a".repeat(MAX_REGEX_LEN + 1);
    assert!(
        Filter::parse(
            &json!([{"field": "a", "op": "regex", "value": long_regex}]),
            ""
        )
        .is_err()
    );
}

#[test]
fn regex_on_long_numbers_still_works() {
    // 1e69 is written out in full (70 digits), past the stack buffer.
    let f = one("n", "regex", json!("^1[0-9]{69}$"));
    assert!(f.matches(&event(json!({"n": 1e69}))));
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_.(\\[*]{0,6}".prop_map(Value::from),
        prop_oneof![
            Just("eq"),
            Just("in"),
            Just("regex"),
            Just("exists"),
            Just("gt"),
            Just("contains")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("field".to_owned()),
                    Just("op".to_owned()),
                    Just("value".to_owned()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_and_match_never_panic(v in arb_json(), e in arb_json()) {
        if let Ok(f) = Filter::parse(&v, "/filter") {
            let e = match e { Value::Object(m) => m, other => Event::from_iter([("a".to_owned(), other)]) };
            let _ = f.matches(&e);
            let _ = f.to_string();
        }
    }

    #[test]
    fn loose_equality_agrees_with_canonical(a in any::<f64>().prop_filter("finite", |f| f.is_finite()), b in any::<i32>()) {
        let va = json!(a);
        let vb = json!(b);
        let key = canonical(&vb).expect("a number");
        prop_assert_eq!(loose_eq(&va, &key), canonical(&va) == Some(key));
        let f = one("x", "eq", vb.clone());
        let as_float = event(json!({"x": f64::from(b)}));
        let as_text = event(json!({"x": b.to_string()}));
        prop_assert!(f.matches(&as_float));
        prop_assert!(f.matches(&as_text));
    }
}

use serde_json::{Value, json};

use crate::handler_types;

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::meta::validate(schema).expect("a valid draft 2020-12 schema");
    jsonschema::draft202012::new(schema).expect("builds a validator")
}

/// Every `$ref` in the schema, wherever it is.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn schemas_are_valid_self_contained_and_accept_their_examples() {
    for t in handler_types() {
        let schema = t.parameters_schema();
        let v = validator(&schema);
        assert_eq!(schema["additionalProperties"], json!(false), "{}", t.name());
        assert_eq!(schema["description"], json!(t.description()));
        let mut found = Vec::new();
        refs(&schema, &mut found);
        for r in found {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("{}: non-local $ref {r}", t.name()));
            assert!(
                schema["$defs"].get(name).is_some(),
                "{}: dangling {r}",
                t.name()
            );
        }
        let examples = schema["examples"].as_array().expect("examples");
        assert!(!examples.is_empty());
        for example in examples {
            if let Err(e) = v.validate(example) {
                panic!("{}: example rejected by the schema: {e}", t.name());
            }
            if let Err(e) = t.compile(example) {
                panic!("{}: example does not compile: {e:?}", t.name());
            }
        }
    }
}

#[test]
fn every_property_reads_well_in_a_form() {
    for t in handler_types() {
        let schema = t.parameters_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let properties = schema["properties"].as_object().expect("properties");
        for name in &required {
            assert!(properties.contains_key(*name), "{}: {name}", t.name());
        }
        for (name, p) in properties {
            let at = format!("{}.{name}", t.name());
            assert!(
                p["title"].as_str().is_some_and(|s| !s.is_empty()),
                "{at}: title"
            );
            assert!(
                p["description"].as_str().is_some_and(|s| s.len() > 20),
                "{at}: description"
            );
            assert!(
                p["examples"].as_array().is_some_and(|e| !e.is_empty()),
                "{at}: examples"
            );
            if !required.contains(&name.as_str()) {
                assert!(
                    p.get("default").is_some(),
                    "{at}: optional without a default"
                );
            }
        }
        // The required properties of the example, alone, compile: defaults are enough.
        let example = &schema["examples"][0];
        let minimal: serde_json::Map<String, Value> = required
            .iter()
            .map(|name| ((*name).to_owned(), example[*name].clone()))
            .collect();
        let minimal = Value::Object(minimal);
        assert!(validator(&schema).is_valid(&minimal), "{}", t.name());
        assert!(t.compile(&minimal).is_ok(), "{}: {minimal}", t.name());
    }
}

#[test]
fn defaults_given_explicitly_compile_too() {
    for t in handler_types() {
        let schema = t.parameters_schema();
        let mut params = schema["examples"][0].clone();
        for (name, p) in schema["properties"].as_object().expect("properties") {
            if let Some(default) = p.get("default") {
                params[name] = default.clone();
            }
        }
        assert!(
            validator(&schema).is_valid(&params),
            "{}: {params}",
            t.name()
        );
        assert!(t.compile(&params).is_ok(), "{}: {params}", t.name());
    }
}

#[test]
fn schemas_reject_what_compile_rejects() {
    let threshold = crate::handler_type("threshold")
        .expect("type")
        .parameters_schema();
    let v = validator(&threshold);
    let example = threshold["examples"][0].clone();
    let with = |pointer: &str, value: Value| {
        let mut p = example.clone();
        *p.pointer_mut(pointer).expect("pointer") = value;
        p
    };
    let bad = [
        with("/filter/0/op", json!("eqq")),
        with("/filter/0/value", json!(null)),
        with("/filter/1/value", json!([])),
        with(
            "/filter/0",
            json!({"field": "a", "op": "exists", "value": "yes"}),
        ),
        with("/levels/0/op", json!("eq")),
        with("/levels/0/severity", json!("urgent")),
        with("/hysteresis", json!(-1)),
        with("/key_fields", json!(["host", "host"])),
        with("/value_field", json!("")),
    ];
    for params in bad {
        assert!(!v.is_valid(&params), "{params}");
        assert!(
            crate::handler_type("threshold")
                .expect("type")
                .compile(&params)
                .is_err(),
            "{params}"
        );
    }
    let mut unknown = example.clone();
    unknown["colour"] = json!("red");
    assert!(!v.is_valid(&unknown));

    let rate = crate::handler_type("rate")
        .expect("type")
        .parameters_schema();
    let v = validator(&rate);
    let mut p = rate["examples"][0].clone();
    for window in ["1 h", "h", "1.5h", ""] {
        p["window"] = json!(window);
        assert!(!v.is_valid(&p), "{window}");
    }
    p["window"] = json!("1h30m");
    assert!(v.is_valid(&p));
}

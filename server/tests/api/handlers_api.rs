//! The handler-instance and alert APIs: validation with pointers, owner
//! scoping, clearing, and the metrics.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn threshold(levels: Value) -> Value {
    json!({"type": "threshold", "name": "disk", "params": {
        "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"}],
        "value_field": "pct", "key_fields": ["host"], "levels": levels}})
}

#[tokio::test]
async fn handler_types_carry_their_schemas() {
    let app = TestApp::spawn().await;
    let (status, types) = app
        .get_json("/api/v1/handler-types", &app.admin_token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = types
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["match", "threshold", "distinct_count", "rate", "heartbeat"]
    );
    for t in types.as_array().expect("list") {
        assert_eq!(t["schema"]["type"], "object", "{}", t["name"]);
        assert!(t["description"].as_str().is_some_and(|d| d.len() > 40));
    }
}

/// Bad parameters: 422 with every problem at its JSON pointer, nothing stored.
#[tokio::test]
async fn bad_parameters_are_422_with_pointers() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let cases = [
        (json!({"type": "nope", "name": "x", "params": {}}), "/type"),
        (
            json!({"type": "match", "name": " ", "params": {"filter": [], "severity": "warning", "summary": "s"}}),
            "/name",
        ),
        (
            threshold(json!([{"severity": "warning", "op": "ge", "value": "ninety"}])),
            "/params/levels/0/value",
        ),
        (
            threshold(json!([{"severity": "loud", "op": "ge", "value": 90}])),
            "/params/levels/0/severity",
        ),
        (
            json!({"type": "match", "name": "x", "params": {"filter": [{"field": "a", "op": "regex", "value": "(unclosed"}], "severity": "info", "summary": "s"}}),
            "/params/filter/0/value",
        ),
        (
            json!({"type": "heartbeat", "name": "x", "params": {"filter": [], "key_fields": ["host"], "missing_after": "soon", "severity": "critical"}}),
            "/params/missing_after",
        ),
        (
            json!({"type": "match", "name": "x", "policy": "000000000000000000000000", "params": {"filter": [], "severity": "info", "summary": "s"}}),
            "/policy",
        ),
    ];
    for (body, pointer) in cases {
        let (status, answer) = app.post_json("/api/v1/handlers", &ann, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let pointers: Vec<&str> = answer["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .filter_map(|p| p["pointer"].as_str())
            .collect();
        assert!(
            pointers.contains(&pointer),
            "{body}: want {pointer} in {answer}"
        );
        assert!(
            answer["problems"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (_, list) = app.get_json("/api/v1/handlers", &ann).await;
    assert_eq!(list, json!([]), "nothing stored");
    let (status, _) = app.post_events(Some(&ann), "application/json", "{}").await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

/// Another user's instance and alerts answer 404 and are left alone.
#[tokio::test]
async fn instances_and_alerts_are_private() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;
    let body = json!({"type": "match", "name": "mine", "params": {
        "filter": [{"field": "block", "op": "eq", "value": "b1"}], "severity": "warning", "summary": "{block} failed", "key": "{block}"}});
    let id = app.create_handler(&ann, body.clone()).await;
    let (status, one) = app.get_json(&format!("/api/v1/handlers/{id}"), &ann).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        one["title"].as_str().map(|t| t.contains("b1")),
        Some(true),
        "{one}"
    );
    app.post(&ann, json!({"block": "b1"})).await;
    let alerts = app
        .wait_alerts(&ann, "", "ann's alert", |a| a.len() == 1)
        .await;
    let alert_id = alerts[0]["id"].as_str().expect("id").to_owned();

    for (method, path) in [
        (Method::GET, format!("/api/v1/handlers/{id}")),
        (Method::PUT, format!("/api/v1/handlers/{id}")),
        (Method::DELETE, format!("/api/v1/handlers/{id}")),
        (Method::GET, format!("/api/v1/alerts/{alert_id}")),
        (Method::POST, format!("/api/v1/alerts/{alert_id}/clear")),
        (Method::POST, format!("/api/v1/alerts/clear?handler={id}")),
    ] {
        let r = app
            .req(method.clone(), &path, Some(&bob))
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert!(app.alerts(&bob, "").await.is_empty());
    let (_, list) = app.get_json("/api/v1/handlers", &bob).await;
    assert_eq!(list, json!([]));
    let still = app.alerts(&ann, "").await;
    assert_eq!(
        still[0]["status"], "firing",
        "bob's attempts changed nothing"
    );
}

#[tokio::test]
async fn clearing_alerts_and_metrics() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let per_block = |b: &str| {
        json!({"type": "match", "name": b, "params": {
        "filter": [{"field": "block", "op": "eq", "value": b}], "severity": "warning", "summary": "{block} failed", "key": "{block}"}})
    };
    let h1 = app.create_handler(&ann, per_block("b1")).await;
    let h2 = app.create_handler(&ann, per_block("b2")).await;
    app.post(
        &ann,
        json!([{"block": "b1"}, {"block": "b2"}, {"block": "b2"}]),
    )
    .await;
    let alerts = app
        .wait_alerts(&ann, "status=firing", "two alerts", |a| a.len() == 2)
        .await;
    let a1 = alerts
        .iter()
        .find(|a| a["handler_id"] == h1.as_str())
        .expect("b1's alert");

    let (status, cleared) = app
        .post_json(
            &format!("/api/v1/alerts/{}/clear", a1["id"].as_str().expect("id")),
            &ann,
            &json!({}),
        )
        .await;
    assert_eq!(
        (status, cleared["status"].as_str()),
        (StatusCode::OK, Some("cleared"))
    );
    assert_eq!(
        cleared["history"]
            .as_array()
            .and_then(|h| h.last())
            .map(|h| h["what"].clone()),
        Some(json!("cleared"))
    );
    let (_, n) = app
        .post_json(
            &format!("/api/v1/alerts/clear?handler={h2}"),
            &ann,
            &json!({}),
        )
        .await;
    assert_eq!(n, json!({"cleared": 1}));
    assert!(app.alerts(&ann, "status=firing").await.is_empty());
    let (_, n) = app
        .post_json("/api/v1/alerts/clear", &ann, &json!({}))
        .await;
    assert_eq!(n, json!({"cleared": 0}), "nothing left to clear");
    // A new failure fires again, as a new episode.
    app.post(&ann, json!({"block": "b1"})).await;
    let again = app
        .wait_alerts(&ann, "status=firing", "b1 again", |a| a.len() == 1)
        .await;
    assert_eq!(again[0]["count"], 1);
    let (status, body) = app.get_json("/api/v1/alerts?status=burning", &ann).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("status must be one of firing, resolved, cleared")
        )
    );

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    assert_eq!(value("tellify_events_ingested_total"), 4.0);
    assert!(value("tellify_events_dispatched_total") >= 4.0);
    assert_eq!(value("tellify_alerts_fired_total"), 4.0);
    assert!(
        text.contains("tellify_dispatcher_lag_milliseconds{partition="),
        "{text}"
    );
}

#[tokio::test]
async fn an_instance_created_just_before_an_event_sees_it() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    for i in 0..5 {
        let id = app
            .create_handler(&ann, json!({"type": "match", "name": "x", "params": {
                "filter": [{"field": "n", "op": "eq", "value": i}], "severity": "info", "summary": "s"}}))
            .await;
        app.post(&ann, json!({"n": i})).await;
        app.wait_alerts(
            &ann,
            &format!("handler={id}"),
            "the event right after",
            |a| a.len() == 1,
        )
        .await;
    }
}

//! `POST /api/v1/handlers/try`: unsaved parameters run over the newest
//! events. What would fire and resolve, oldest first, from a fresh state;
//! the same 422 problems as creating an instance; nothing stored, and
//! nothing of another user's instances, state or alerts in the answer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const TRY: &str = "/api/v1/handlers/try";

fn disk_params() -> Value {
    json!({
        "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"}],
        "value_field": "pct", "key_fields": ["fs"],
        "levels": [{"severity": "warning", "op": "ge", "value": 90},
                   {"severity": "critical", "op": "ge", "value": 97}]
    })
}

/// Every entry of every partition's state hash (instance id → state).
async fn all_state(app: &TestApp) -> Vec<(String, String)> {
    let broker = &app.app_state.broker;
    let mut conn = broker.conn();
    let mut out = Vec::new();
    for p in 0..app.config.partitions {
        let entries: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(broker.state_key(p))
            .query_async(&mut conn)
            .await
            .expect("HGETALL");
        out.extend(entries);
    }
    out.sort();
    out
}

fn problem_pointers(answer: &Value) -> Vec<String> {
    answer["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["pointer"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn trying_parameters_lists_what_would_fire_oldest_first_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;

    // Bob has an instance with the same parameters; it has state and an
    // alert by the time ann tries hers.
    let bobs = app
        .create_handler(
            &bob,
            json!({"type": "threshold", "name": "bob's disks", "params": disk_params()}),
        )
        .await;
    app.post(
        &ann,
        json!([
            {"source": "disk-monitor", "fs": "/a", "pct": 95},
            {"source": "cpu-monitor", "fs": "/a", "pct": 99},
            {"source": "disk-monitor", "fs": "/b", "pct": 40},
            {"source": "disk-monitor", "fs": "/a", "pct": 98, "host": "<script>x</script>"},
            {"source": "disk-monitor", "fs": "/a", "pct": 30},
        ]),
    )
    .await;
    let bobs_alerts = app
        .wait_alerts(&bob, "", "bob's alert resolved", |a| {
            a.len() == 1 && a[0]["status"] == "resolved"
        })
        .await;
    let state_before = all_state(&app).await;
    assert!(
        state_before.iter().any(|(id, _)| *id == bobs),
        "bob's instance has state: {state_before:?}"
    );
    // The stream ids, oldest first.
    let mut ids: Vec<String> = app
        .recent(&ann, "limit=10")
        .await
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    ids.reverse();
    assert_eq!(ids.len(), 5);

    let (status, t) = app
        .post_json(
            TRY,
            &ann,
            &json!({"type": "threshold", "params": disk_params()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["scanned"], 5);
    assert_eq!(t["matched"], 4, "the cpu event is not the disk monitor's");
    assert_eq!(t["fired"], 2);
    assert_eq!(t["resolved"], 1);
    assert_eq!(t["oldest"], json!(ids[0]));
    assert_eq!(t["newest"], json!(ids[4]));
    assert!(
        t["title"].as_str().is_some_and(|s| s.contains("pct")),
        "{t}"
    );
    let results = t["results"].as_array().expect("results");
    let fired_by: Vec<&str> = results.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(fired_by, [&ids[0], &ids[3], &ids[4]], "oldest first: {t}");
    let first = &results[0];
    assert!(first["received_at"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(first["outputs"][0]["type"], "fire");
    assert_eq!(first["outputs"][0]["key"], "/a");
    assert_eq!(first["outputs"][0]["severity"], "warning");
    assert!(
        first["outputs"][0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("95")),
        "{first}"
    );
    assert_eq!(results[1]["outputs"][0]["severity"], "critical");
    assert_eq!(
        results[2]["outputs"],
        json!([{"type": "resolve", "key": "/a"}])
    );

    // Nothing of bob's shows, nothing was stored or changed.
    let text = t.to_string();
    assert!(!text.contains(&bobs), "bob's instance id: {text}");
    let bobs_alert = bobs_alerts[0]["id"].as_str().expect("id");
    assert!(!text.contains(bobs_alert), "bob's alert id: {text}");
    assert_eq!(all_state(&app).await, state_before, "no state written");
    assert_eq!(app.alerts(&ann, "").await, Vec::<Value>::new());
    let (_, handlers) = app.get_json("/api/v1/handlers", &ann).await;
    assert_eq!(handlers, json!([]));
    assert_eq!(app.stream_len().await, 5, "no event appended");

    // A limit takes the newest events only.
    let (status, t) = app
        .post_json(
            TRY,
            &ann,
            &json!({"type": "threshold", "params": disk_params(), "limit": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(
        (t["scanned"].clone(), t["matched"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(t["oldest"], json!(ids[3]));
    let fired_by: Vec<&str> = t["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(fired_by, [&ids[3], &ids[4]]);
}

/// A heartbeat fires on the clock: the trial ticks it up to now.
#[tokio::test]
async fn a_missing_heartbeat_shows_as_fired_by_the_clock() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    app.post(&ann, json!({"type": "alive", "host": "caddashboard"}))
        .await;
    let params = json!({"filter": [{"field": "type", "op": "eq", "value": "alive"}],
                        "key_fields": ["host"], "missing_after": "1m", "severity": "critical"});
    let (_, t) = app
        .post_json(TRY, &ann, &json!({"type": "heartbeat", "params": params}))
        .await;
    assert_eq!(t["fired"], 0, "it arrived a moment ago: {t}");
    app.app_state
        .clock
        .set(jiff::Timestamp::now() + jiff::SignedDuration::from_mins(5));
    let (status, t) = app
        .post_json(TRY, &ann, &json!({"type": "heartbeat", "params": params}))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["fired"], 1, "{t}");
    let last = &t["results"][0];
    assert_eq!(last["id"], Value::Null, "by the clock: {t}");
    assert_eq!(last["outputs"][0]["key"], "caddashboard");
}

/// Bad bodies: 422 with each problem at its pointer, as when creating an
/// instance (the pointers are the same), plus the limit's.
#[tokio::test]
async fn bad_trials_are_422_with_pointers() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bad_level = json!({
        "filter": [], "value_field": "pct", "key_fields": ["fs"],
        "levels": [{"severity": "warning", "op": "ge", "value": "ninety"}]
    });
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"type": "nope", "params": {}}), vec!["/type"]),
        (
            json!({"type": "threshold", "params": bad_level}),
            vec!["/params/levels/0/value"],
        ),
        (
            json!({"type": "match", "params": {"filter": [{"field": "a", "op": "regex", "value": "(x"}], "severity": "info", "summary": "s"}}),
            vec!["/params/filter/0/value"],
        ),
        (
            json!({"type": "threshold", "params": disk_params(), "limit": 0}),
            vec!["/limit"],
        ),
        (
            json!({"type": "threshold", "params": disk_params(), "limit": 1001}),
            vec!["/limit"],
        ),
        (
            json!({"type": "threshold", "params": disk_params(), "limit": "many"}),
            vec!["/limit"],
        ),
        (
            json!({"type": "threshold", "params": bad_level, "limit": 2.5}),
            vec!["/params/levels/0/value", "/limit"],
        ),
    ];
    for (body, want) in cases {
        let (status, answer) = app.post_json(TRY, &ann, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        let mut got = problem_pointers(&answer);
        got.sort();
        let mut want: Vec<String> = want.into_iter().map(str::to_owned).collect();
        want.sort();
        assert_eq!(got, want, "{body}: {answer}");
        // The same pointers as creating the instance would give.
        if let Some(mut create) = body.as_object().cloned()
            && create.remove("limit").is_none()
        {
            create.insert("name".into(), json!("x"));
            let (status, created) = app
                .post_json("/api/v1/handlers", &ann, &Value::Object(create))
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(created["problems"], answer["problems"], "{body}");
        }
    }
    let (_, answer) = app
        .post_json(
            TRY,
            &ann,
            &json!({"type": "threshold", "params": disk_params(), "limit": 0}),
        )
        .await;
    assert_eq!(
        answer["error"],
        "how many events to try: a whole number from 1 to 1000, not 0"
    );
    // Fields that do not belong are refused too.
    let (status, answer) = app
        .post_json(
            TRY,
            &ann,
            &json!({"type": "threshold", "params": disk_params(), "limt": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"].as_str().is_some_and(|e| e.contains("limt")),
        "{answer}"
    );
    let (_, list) = app.get_json("/api/v1/handlers", &ann).await;
    assert_eq!(list, json!([]), "nothing stored");
}

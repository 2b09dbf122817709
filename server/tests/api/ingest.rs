//! POST /events and the recent-events API.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, test_config, unique};

/// Good and bad bodies in each format: the status and the error text. A
/// rejected body leaves the stream as it was.
#[tokio::test]
async fn bodies_are_accepted_or_rejected_whole() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let json_ct = "application/json";
    let text = "text/plain; charset=utf-8";
    let too_many = format!("[{}]", vec!["{\"a\":1}"; 1001].join(","));
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            json_ct,
            r#"{"source":"disk-monitor","pct":91}"#.into(),
            202,
            "",
        ),
        (
            json_ct,
            r#"[{"a":1},{"b":"x"},{"c":[1,2]}]"#.into(),
            202,
            "",
        ),
        (text, "project:vr0 block:gc_t status:failed".into(), 202, ""),
        (text, "a:1\n\nb:2\n".into(), 202, ""),
        (
            json_ct,
            r#"[{"a":1},"oops",{"b":2}]"#.into(),
            400,
            "event 1: an event must be a JSON object, not a string",
        ),
        (
            json_ct,
            r#"{"a":1,"#.into(),
            400,
            "invalid JSON: EOF while parsing a value at line 1 column 7",
        ),
        (json_ct, "[]".into(), 400, "the batch is empty"),
        (
            json_ct,
            "42".into(),
            400,
            "expected a JSON object or an array of objects, not a number",
        ),
        (
            json_ct,
            r#"[{"a":1},{"ts":"last tuesday"}]"#.into(),
            400,
            "event 1, field 'ts': must be an RFC 3339 time such as 2026-11-23T10:00:00Z",
        ),
        (
            json_ct,
            r#"{"_origin":{"hops":0}}"#.into(),
            400,
            "event 0, field '_origin': this field is reserved for derived events",
        ),
        (
            text,
            "a:1\nb:2\nc:\"unterminated".into(),
            400,
            "line 3, field 'c': the quoted value has no closing quote",
        ),
        (
            text,
            "ok:1\njust some words".into(),
            400,
            "line 2: no key:value field (a line of bare words alone is not an event)",
        ),
        (
            text,
            "a:1 :x".into(),
            400,
            "line 1: ':x' has no key before the colon",
        ),
        (
            text,
            "a:1 a:2".into(),
            400,
            "line 1, field 'a': the field is given twice",
        ),
        (text, "\n  \n".into(), 400, "the body holds no event"),
        (
            json_ct,
            too_many,
            413,
            "1001 events in one request; at most 1000 are accepted",
        ),
        (
            "application/xml",
            "<a/>".into(),
            415,
            "Content-Type 'application/xml' is not accepted: send application/json or text/plain",
        ),
        (
            "",
            "a:1".into(),
            415,
            "Content-Type '' is not accepted: send application/json or text/plain",
        ),
    ];
    for (ct, body, want_status, want_error) in cases {
        let before = app.stream_len().await;
        let (status, answer) = app.post_events(Some(&t), ct, body.clone()).await;
        assert_eq!(status.as_u16(), want_status, "{ct} {body:.80}: {answer}");
        let after = app.stream_len().await;
        if want_status == 202 {
            let ids = answer["ids"].as_array().expect("ids");
            assert_eq!(answer["accepted"].as_u64(), Some(ids.len() as u64));
            assert_eq!(
                after - before,
                ids.len() as u64,
                "every accepted event is in the stream"
            );
        } else {
            assert_eq!(answer["error"], want_error, "{ct} {body:.80}");
            assert_eq!(after, before, "a rejected body stores nothing: {body:.80}");
        }
    }
}

#[tokio::test]
async fn invalid_utf8_and_deep_json_are_clear_errors() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let (status, body) = app
        .post_events(Some(&t), "text/plain", vec![b'a', b':', 0xff, 0xfe])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "the body is not valid UTF-8 (at byte 2)");
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    let (status, body) = app.post_events(Some(&t), "application/json", deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("recursion limit exceeded"),
        "{body}"
    );
    assert_eq!(app.stream_len().await, 0);
}

/// Text lines come back as the typed events a user expects.
#[tokio::test]
async fn text_lines_are_typed() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let body = "project:vr0 block:gc_t route_opt user:gpupi runtag:myruntag completed status:good tns:-50\n\
                \n\
                host:caddashboard msg:\"is still alive\" load:0.75 id:007 delta:-1.5\n";
    let (status, answer) = app.post_events(Some(&t), "text/plain", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 2);
    let events = app.recent(&t, "limit=10").await;
    assert_eq!(events.len(), 2);
    // Newest first.
    let second = strip_received(&events[0]["event"]);
    let first = strip_received(&events[1]["event"]);
    assert_eq!(
        first,
        json!({"project":"vr0","block":"gc_t","user":"gpupi","runtag":"myruntag","status":"good","tns":-50,
               "tags":["route_opt","completed"]})
    );
    assert_eq!(
        second,
        json!({"host":"caddashboard","msg":"is still alive","load":0.75,"id":"007","delta":-1.5})
    );
    assert_eq!(events[1]["id"], answer["ids"][0]);
}

fn strip_received(e: &Value) -> Value {
    let mut e = e.clone();
    let received = e.as_object_mut().and_then(|m| m.remove("received_at"));
    let received = received
        .and_then(|r| r.as_str().map(str::to_owned))
        .expect("received_at is set");
    assert!(received.parse::<jiff::Timestamp>().is_ok(), "{received}");
    e
}

#[tokio::test]
async fn recent_events_filter_and_page() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let lines: Vec<String> = (0..30)
        .map(|i| format!("n:{i} kind:{} ci", if i % 3 == 0 { "odd" } else { "even" }))
        .collect();
    let (status, _) = app
        .post_events(Some(&t), "text/plain", lines.join("\n"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let odd = app.recent(&t, "limit=4&q=kind:odd").await;
    let ns: Vec<i64> = odd
        .iter()
        .map(|e| e["event"]["n"].as_i64().expect("n"))
        .collect();
    assert_eq!(ns, vec![27, 24, 21, 18]);
    let (_, page) = app
        .get_json("/api/v1/events/recent?limit=4&q=kind:odd", &t)
        .await;
    let next = page["next"].as_str().expect("a next page").to_owned();
    let more = app
        .recent(&t, &format!("limit=4&q=kind:odd&before={next}"))
        .await;
    let ns: Vec<i64> = more
        .iter()
        .map(|e| e["event"]["n"].as_i64().expect("n"))
        .collect();
    assert_eq!(ns, vec![15, 12, 9, 6]);
    // Numbers compare with their text, tags with bare words.
    assert_eq!(app.recent(&t, "q=n:\"12\"").await.len(), 1);
    assert_eq!(app.recent(&t, "q=ci n:3").await.len(), 1);
    assert_eq!(app.recent(&t, "q=nightly").await.len(), 0);
    let (status, body) = app.get_json("/api/v1/events/recent?q=:x", &t).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "q: ':x' has no key before the colon");
}

/// `after`: only what arrived since a stream id (what the live `/events`
/// page asks every two seconds), with the filter; `newest` says where the
/// next question starts even when nothing matched.
#[tokio::test]
async fn recent_events_after_an_id_are_only_the_newer_ones() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let (status, _) = app
        .post_events(Some(&t), "text/plain", "n:1 kind:a\nn:2 kind:b\nn:3 kind:a")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, page) = app.get_json("/api/v1/events/recent?limit=3", &t).await;
    let newest = page["newest"].as_str().expect("newest").to_owned();
    let oldest = page["events"][2]["id"].as_str().expect("id").to_owned();
    assert_eq!(page["events"][0]["id"], json!(newest));

    let ns = |events: &[Value]| -> Vec<i64> {
        events
            .iter()
            .map(|e| e["event"]["n"].as_i64().expect("n"))
            .collect()
    };
    assert_eq!(
        ns(&app.recent(&t, &format!("after={oldest}")).await),
        [3, 2]
    );
    assert_eq!(
        ns(&app.recent(&t, &format!("after={oldest}&q=kind:a")).await),
        [3]
    );
    let (_, none) = app
        .get_json(&format!("/api/v1/events/recent?after={newest}"), &t)
        .await;
    assert_eq!(none["events"], json!([]));
    assert_eq!(none["next"], Value::Null);

    // New events, none of them matching: `newest` still moves on.
    let (status, _) = app
        .post_events(Some(&t), "text/plain", "n:4 kind:b\nn:5 kind:a")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, b) = app
        .get_json(
            &format!("/api/v1/events/recent?after={newest}&q=kind:b"),
            &t,
        )
        .await;
    assert_eq!(ns(b["events"].as_array().expect("events")), [4]);
    let moved = b["newest"].as_str().expect("newest");
    assert_ne!(moved, newest);
    let (_, c) = app
        .get_json(&format!("/api/v1/events/recent?after={moved}&q=kind:b"), &t)
        .await;
    assert_eq!(
        (c["events"].clone(), c["newest"].clone()),
        (json!([]), Value::Null)
    );

    for bad in ["after=yesterday", "before=1-2-3"] {
        let (status, body) = app
            .get_json(&format!("/api/v1/events/recent?{bad}"), &t)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("is not a stream id")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn().await;
    let t = app.admin_token.clone();
    let big = format!("{{\"blob\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (status, body) = app.post_events(Some(&t), "application/json", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body["error"],
        "the request body is larger than 1048576 bytes"
    );
    let one_event = format!("{{\"blob\":\"{}\"}}", "x".repeat(70 * 1024));
    let (status, body) = app
        .post_events(Some(&t), "application/json", one_event)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("event 0 is 71"),
        "{body}"
    );
    assert_eq!(app.stream_len().await, 0);
}

/// An app whose Redis is not there answers 503, never 2xx, and says so.
#[tokio::test]
async fn redis_unreachable_is_503() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let mut config = test_config(&unique("t"));
    config.redis_url = format!("redis://127.0.0.1:{port}/");
    let app = TestApp::spawn_with(config).await;
    let t = app.admin_token.clone();
    for (ct, body) in [
        ("application/json", "{\"a\":1}"),
        ("text/plain", "a:1\nb:2"),
    ] {
        let (status, answer) = app.post_events(Some(&t), ct, body).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert_eq!(answer["error"], "Redis is unavailable, try again later");
    }
    let (status, body) = app.get_json("/readyz", &t).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"redis": "unreachable", "mongodb": "ok"}));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let (status, body) = crate::helpers::read(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, body) = crate::helpers::read(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"redis": "ok", "mongodb": "ok"}))
    );
}

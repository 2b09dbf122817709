//! Digests end to end with a moved clock: DESIGN stories 1 and 5, the email
//! that arrives (parsed), SMTP down then back, and two nodes sending each
//! digest once. Mail goes to the real SMTP server the test scripts start,
//! which writes each message to a file; SMS to a local HTTP gateway.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tellify_server::aggregate::queue;

use crate::helpers::{TestApp, test_config, unique};

const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];
const ALL_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A time in Paris, as a timestamp.
fn paris(civil: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = civil.parse().expect("a civil date-time");
    dt.in_tz("Europe/Paris").expect("Paris").timestamp()
}

fn maildir() -> PathBuf {
    PathBuf::from(
        std::env::var("TELLIFY_TEST_MAILDIR")
            .expect("TELLIFY_TEST_MAILDIR: run the tests with scripts/test.sh"),
    )
}

/// The raw messages the SMTP server received for `to`.
fn mails_to(to: &str) -> Vec<String> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(maildir())
        .expect("the maildir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .filter_map(|e| {
            Some((
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).ok()?,
            ))
        })
        .filter(|(_, m)| m.lines().next().is_some_and(|l| l.contains(to)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, m)| m).collect()
}

async fn wait_mails(to: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let m = mails_to(to);
        if m.len() >= n {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} mail(s) to {to} expected, {} arrived",
            m.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded Subject of a raw message.
fn subject(mail: &str) -> String {
    let line = mail
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or("")
        .trim_start_matches("Subject:")
        .trim()
        .to_owned();
    decode_words(&line)
}

/// Minimal RFC 2047 decoding (`=?utf-8?b?…?=` and `=?utf-8?q?…?=`), enough
/// to read the subjects lettre writes.
fn decode_words(s: &str) -> String {
    use base64::Engine;
    s.split_whitespace()
        .map(|w| {
            let parts: Vec<&str> = w.split('?').collect();
            if parts.len() == 5 && parts[0] == "=" && parts[4] == "=" {
                match parts[2].to_ascii_lowercase().as_str() {
                    "b" => String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(parts[3])
                            .unwrap_or_default(),
                    )
                    .unwrap_or_default(),
                    _ => parts[3].replace('_', " "),
                }
            } else {
                format!(" {w} ")
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An SMS gateway that records what it is sent.
async fn sms_gateway() -> (String, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    let app = Router::new().route(
        "/sms",
        post(move |body: String| {
            let store = store.clone();
            async move {
                store.lock().expect("lock").push(body);
                "queued"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> String {
    let (status, answer) = app.post_json(path, token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
    answer["id"].as_str().expect("id").to_owned()
}

/// Let the writer queue what the dispatcher produced, then send what is due
/// at the app's clock.
async fn settle_and_send(app: &TestApp) -> queue::Sent {
    tokio::time::sleep(Duration::from_millis(600)).await;
    queue::run_due(&app.app_state, app.app_state.clock.now(), None)
        .await
        .expect("run_due")
}

fn disk(fs: &str, pct: f64) -> Value {
    json!({"source": "disk-monitor", "host": "cad01", "fs": fs, "pct": pct})
}

/// Story 1: 91% on Tuesday 10:00 mails the work address; 95% on Tuesday
/// 21:00 sends nothing; 98% on Saturday 11:00 mails home and sends one SMS.
#[tokio::test]
async fn story_1_work_hours_evenings_and_weekends() {
    let (sms_url, sms) = sms_gateway().await;
    let mut config = test_config(&unique("t"));
    config.smtp_url =
        Some(std::env::var("TELLIFY_SMTP_URL").expect("TELLIFY_SMTP_URL: run scripts/test.sh"));
    config.sms_webhook_url = Some(sms_url);
    let app = TestApp::spawn_with(config).await;
    let clock = app.app_state.clock.clone();
    clock.set(paris("2026-11-24T10:00:00"));
    let ann = app.create_user("ann").await;
    let tag = unique("s1");
    let (work, home) = (
        format!("work-{tag}@corp.example"),
        format!("home-{tag}@home.example"),
    );
    let work_id = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "work", "address": work}),
    )
    .await;
    let home_id = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "home", "address": home}),
    )
    .await;
    let phone_id = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "sms", "label": "phone", "number": "+33 6 12 34 56 78"}),
    )
    .await;
    let hours = json!({"days": WEEKDAYS, "from": "09:00", "to": "18:00"});
    create(
        &app,
        &ann,
        "/api/v1/policies",
        json!({"name": "disk", "default": true, "rules": [
            {"when": hours, "min_severity": "warning", "channels": [work_id], "aggregate_for": "1m"},
            {"when": {"not": hours}, "min_severity": "critical", "channels": [home_id, phone_id], "aggregate_for": "1m"}]}),
    )
    .await;
    let fs: Vec<String> = (0..10).map(|i| format!("/sarc/fs{i:02}")).collect();
    app.create_handler(
        &ann,
        json!({"type": "threshold", "name": "Disk space", "params": {
            "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"}, {"field": "fs", "op": "in", "value": fs}],
            "value_field": "pct", "key_fields": ["host", "fs"],
            "levels": [{"severity": "warning", "op": "ge", "value": 90}, {"severity": "critical", "op": "ge", "value": 97}]}}),
    )
    .await;

    // Tuesday 10:00: 91% → the work address, after a minute.
    app.post(&ann, disk("/sarc/fs01", 91.0)).await;
    app.wait_alerts(&ann, "status=firing", "the 91% alert", |a| a.len() == 1)
        .await;
    assert_eq!(
        settle_and_send(&app).await,
        queue::Sent::default(),
        "not before the minute is up"
    );
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 1);
    let mail = wait_mails(&work, 1).await;
    assert!(
        subject(&mail[0]).starts_with("warning: "),
        "{}",
        subject(&mail[0])
    );

    // Tuesday 21:00: 95% is a warning, and evenings need critical: nothing.
    clock.set(paris("2026-11-24T21:00:00"));
    app.post(&ann, disk("/sarc/fs02", 95.0)).await;
    app.wait_alerts(&ann, "status=firing", "the 95% alert", |a| a.len() == 2)
        .await;
    clock.advance(Duration::from_secs(300));
    assert_eq!(settle_and_send(&app).await, queue::Sent::default());

    // Saturday 11:00: 98% → home and one SMS.
    clock.set(paris("2026-11-28T11:00:00"));
    app.post(&ann, disk("/sarc/fs03", 98.0)).await;
    app.wait_alerts(&ann, "severity=critical", "the 98% alert", |a| a.len() == 1)
        .await;
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 2);
    let mail = wait_mails(&home, 1).await;
    assert!(
        subject(&mail[0]).starts_with("critical: "),
        "{}",
        subject(&mail[0])
    );
    assert_eq!(mails_to(&work).len(), 1, "nothing more to work");
    let texts = sms.lock().expect("lock").clone();
    assert_eq!(texts.len(), 1, "one SMS: {texts:?}");
    assert!(texts[0].contains("To=%2B33612345678"), "{}", texts[0]);
    let (_, log) = app.get_json("/api/v1/notifications", &ann).await;
    let statuses: Vec<&str> = log
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|n| n["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["sent"; 3]);
}

/// Story 5: every minute in the day; from 19:00 held until 06:00, then one
/// digest with everything. The email is parsed: both parts, the subject
/// counts, `<script>` from an event is escaped in the HTML.
#[tokio::test]
async fn story_5_minute_digests_by_day_and_one_held_digest_at_six() {
    let mut config = test_config(&unique("t"));
    config.smtp_url =
        Some(std::env::var("TELLIFY_SMTP_URL").expect("TELLIFY_SMTP_URL: run scripts/test.sh"));
    let app = TestApp::spawn_with(config).await;
    let clock = app.app_state.clock.clone();
    clock.set(paris("2026-11-25T10:00:00"));
    let ann = app.create_user("ann").await;
    let to = format!("{}@corp.example", unique("s5"));
    let mail_id = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "mail", "address": to}),
    )
    .await;
    let night = json!({"days": ALL_DAYS, "from": "19:00", "to": "06:00"});
    create(
        &app,
        &ann,
        "/api/v1/policies",
        json!({"name": "digest", "default": true, "rules": [
            {"when": {"not": night}, "min_severity": "info", "channels": [mail_id], "aggregate_for": "1m"},
            {"when": night, "min_severity": "info", "channels": [mail_id], "hold": true}]}),
    )
    .await;
    app.create_handler(
        &ann,
        json!({"type": "match", "name": "builds <b>", "params": {
            "filter": [{"field": "status", "op": "eq", "value": "failed"}],
            "severity": "warning", "summary": "{block} failed: {msg}", "key": "{block}"}}),
    )
    .await;
    let failed = |block: &str, msg: &str| json!({"status": "failed", "block": block, "msg": msg});
    let mut firing = 0;
    let mut post = async |block: &str, msg: &str| {
        app.post(&ann, failed(block, msg)).await;
        firing += 1;
        let n = firing;
        app.wait_alerts(&ann, "status=firing", block, |a| a.len() == n)
            .await;
    };

    // Day: each minute's alerts in their own digest.
    post("b1", "<script>alert(1)</script>").await;
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 1);
    clock.advance(Duration::from_secs(240));
    post("b2", "disk").await;
    post("b3", "disk").await;
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 1);
    let day = wait_mails(&to, 2).await;
    assert_eq!(
        subject(&day[1]),
        "2 warning: b3 failed: disk and 1 more",
        "{}",
        day[1]
    );

    // The first mail, parsed: both parts, the event's <script> escaped in HTML.
    let first = &day[0];
    assert!(first.contains("multipart/alternative"), "{first}");
    assert!(
        first.contains("text/plain") && first.contains("text/html"),
        "{first}"
    );
    let text_part = part(first, "text/plain");
    let html_part = part(first, "text/html");
    assert!(
        text_part.contains("b1 failed: <script>alert(1)</script>"),
        "{text_part}"
    );
    let escaped = [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#60;script&#62;alert(1)&#60;/script&#62;",
    ];
    assert!(escaped.iter().any(|e| html_part.contains(e)), "{html_part}");
    assert!(!html_part.contains("<script>"), "{html_part}");
    assert!(
        !html_part.contains("<b>"),
        "the instance name is escaped too: {html_part}"
    );

    // Night: held, whatever the hour, until 06:00.
    for (at, block) in [
        ("2026-11-25T19:30:00", "b4"),
        ("2026-11-25T23:10:00", "b5"),
        ("2026-11-26T02:00:00", "b6"),
    ] {
        clock.set(paris(at));
        post(block, "night").await;
        clock.advance(Duration::from_secs(300));
        assert_eq!(
            settle_and_send(&app).await,
            queue::Sent::default(),
            "held at {at}"
        );
    }
    clock.set(paris("2026-11-26T05:59:00"));
    assert_eq!(
        settle_and_send(&app).await,
        queue::Sent::default(),
        "not before six"
    );
    clock.set(paris("2026-11-26T06:00:01"));
    assert_eq!(settle_and_send(&app).await.sent, 1);
    let all = wait_mails(&to, 3).await;
    assert_eq!(all.len(), 3);
    let held = part(&all[2], "text/plain");
    for b in ["b4", "b5", "b6"] {
        assert!(
            held.contains(&format!("{b} failed: night")),
            "{b} in the held digest: {held}"
        );
    }
    assert_eq!(subject(&all[2]), "3 warning: b6 failed: night and 2 more");
}

/// The decoded body of the MIME part with this content type.
fn part(mail: &str, content_type: &str) -> String {
    let start = mail
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("{content_type} part in {mail}"));
    let rest = &mail[start..];
    let body_start = rest
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| rest.find("\n\n").map(|i| i + 2))
        .expect("a body");
    let headers = &rest[..body_start];
    let body = &rest[body_start..];
    let body = &body[..body.find("\n--").unwrap_or(body.len())];
    if headers.contains("quoted-printable") {
        decode_qp(body)
    } else if headers.contains("base64") {
        use base64::Engine;
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    } else {
        body.to_owned()
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&s[i + 1..i + 3], 16).ok())
            .flatten();
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// SMTP down: the attempt fails and is logged; once a server listens, the
/// retry delivers the same digest.
#[tokio::test]
async fn smtp_down_then_back() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut config = test_config(&unique("t"));
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    let app = TestApp::spawn_with(config).await;
    let clock = app.app_state.clock.clone();
    clock.set(paris("2026-11-25T10:00:00"));
    let ann = app.create_user("ann").await;
    let to = format!("{}@corp.example", unique("down"));
    let ch = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "mail", "address": to}),
    )
    .await;
    create(
        &app,
        &ann,
        "/api/v1/policies",
        json!({"name": "p", "default": true, "rules": [
        {"when": "always", "min_severity": "info", "channels": [ch], "aggregate_for": "30s"}]}),
    )
    .await;
    app.create_handler(&ann, json!({"type": "match", "name": "m", "params": {
        "filter": [{"field": "x", "op": "exists", "value": true}], "severity": "critical", "summary": "x is {x}"}})).await;
    app.post(&ann, json!({"x": 1})).await;
    app.wait_alerts(&ann, "", "the alert", |a| a.len() == 1)
        .await;
    clock.advance(Duration::from_secs(31));
    assert_eq!(settle_and_send(&app).await.failed, 1);
    let (_, log) = app.get_json("/api/v1/notifications", &ann).await;
    assert_eq!(log[0]["status"], "failed");
    assert!(
        log[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains(&port.to_string())),
        "{log}"
    );
    // The dashboard shows the failure and why.
    let session = app.login("ann", "ann-password").await;
    let sent_page = app.page("/notifications", Some(&session)).await;
    assert!(
        sent_page
            .body
            .contains(r#"<span class="status">failed</span>"#),
        "{}",
        sent_page.body
    );
    let shown_error = sent_page
        .body
        .split(r#"<p class="error">"#)
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default();
    assert!(
        shown_error.contains(&port.to_string()),
        "the error names the server: {}",
        sent_page.body
    );

    // The server comes up on that port; the retry (after its backoff) delivers.
    let venv_python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_sink.py");
    let mut server = std::process::Command::new(venv_python)
        .arg(script)
        .args(["--port", &port.to_string(), "--maildir"])
        .arg(maildir())
        .spawn()
        .expect("start an SMTP server");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the SMTP server starts"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    clock.advance(Duration::from_secs(5));
    let sent = queue::run_due(&app.app_state, clock.now(), None)
        .await
        .expect("run_due");
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(sent.sent, 1);
    let mails = wait_mails(&to, 1).await;
    assert_eq!(mails.len(), 1);
    let (_, log) = app.get_json("/api/v1/notifications", &ann).await;
    let statuses: Vec<&str> = log
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|n| n["status"].as_str())
        .collect();
    assert_eq!(statuses, vec!["sent", "failed"], "newest first");
    assert_eq!(
        log[0]["digest_id"], log[1]["digest_id"],
        "the same digest, retried"
    );
    assert_eq!(log[0]["attempt"], 2);
    let sent_page = app.page("/notifications", Some(&session)).await;
    assert!(
        sent_page
            .body
            .contains(r#"<span class="status">sent</span> (attempt 2)"#),
        "{}",
        sent_page.body
    );
}

/// Two nodes: each due digest is sent once.
#[tokio::test]
async fn two_nodes_send_each_digest_once() {
    let mut config = test_config(&unique("t"));
    config.digest_interval = Duration::from_millis(50);
    config.smtp_url =
        Some(std::env::var("TELLIFY_SMTP_URL").expect("TELLIFY_SMTP_URL: run scripts/test.sh"));
    let a = TestApp::spawn_with(config.clone()).await;
    let b = TestApp::spawn_with(config).await;
    let start = paris("2026-11-25T10:00:00");
    a.app_state.clock.set(start);
    b.app_state.clock.set(start);
    let ann = a.create_user("ann").await;
    let to = format!("{}@corp.example", unique("two"));
    let ch = create(
        &a,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "mail", "address": to}),
    )
    .await;
    create(
        &a,
        &ann,
        "/api/v1/policies",
        json!({"name": "p", "default": true, "rules": [
        {"when": "always", "min_severity": "info", "channels": [ch], "aggregate_for": "1m"}]}),
    )
    .await;
    a.create_handler(&ann, json!({"type": "match", "name": "m", "params": {
        "filter": [{"field": "n", "op": "exists", "value": true}], "severity": "warning", "summary": "n {n}", "key": "{n}"}})).await;
    a.post(&ann, json!([{"n": 1}, {"n": 2}, {"n": 3}])).await;
    a.wait_alerts(&ann, "", "three alerts", |x| x.len() == 3)
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    a.app_state.clock.advance(Duration::from_secs(61));
    b.app_state.clock.advance(Duration::from_secs(61));
    // Both nodes' loops (every second) and both explicit calls race for it.
    let (x, y) = tokio::join!(
        queue::run_due(&a.app_state, a.app_state.clock.now(), None),
        queue::run_due(&b.app_state, b.app_state.clock.now(), None)
    );
    let sent = x.expect("a").sent + y.expect("b").sent;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = mails_to(&to);
    assert_eq!(
        mails.len(),
        1,
        "one digest, sent once (explicit calls sent {sent})"
    );
    assert!(
        subject(&mails[0]).starts_with("3 warning"),
        "{}",
        subject(&mails[0])
    );
}

/// `repeat_every`: a still-firing alert is told again; once resolved, not.
#[tokio::test]
async fn repeats_while_firing_then_stops() {
    let mut config = test_config(&unique("t"));
    config.smtp_url =
        Some(std::env::var("TELLIFY_SMTP_URL").expect("TELLIFY_SMTP_URL: run scripts/test.sh"));
    let app = TestApp::spawn_with(config).await;
    let clock = app.app_state.clock.clone();
    clock.set(paris("2026-11-25T10:00:00"));
    let ann = app.create_user("ann").await;
    let to = format!("{}@corp.example", unique("rep"));
    let ch = create(
        &app,
        &ann,
        "/api/v1/channels",
        json!({"kind": "email", "label": "mail", "address": to}),
    )
    .await;
    create(&app, &ann, "/api/v1/policies", json!({"name": "p", "default": true, "rules": [
        {"when": "always", "min_severity": "info", "channels": [ch], "aggregate_for": "1m", "repeat_every": "10m", "notify_resolved": false}]})).await;
    app.create_handler(&ann, json!({"type": "match", "name": "m", "params": {
        "filter": [{"field": "state", "op": "eq", "value": "down"}], "severity": "critical", "summary": "down",
        "resolve_filter": [{"field": "state", "op": "eq", "value": "up"}]}})).await;
    app.post(&ann, json!({"state": "down"})).await;
    app.wait_alerts(&ann, "status=firing", "down", |a| a.len() == 1)
        .await;
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 1);
    clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(
        settle_and_send(&app).await,
        queue::Sent::default(),
        "not yet ten minutes"
    );
    clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(
        settle_and_send(&app).await,
        queue::Sent::default(),
        "the repeat is queued, due a minute later"
    );
    clock.advance(Duration::from_secs(61));
    assert_eq!(settle_and_send(&app).await.sent, 1, "told again");
    assert_eq!(wait_mails(&to, 2).await.len(), 2);
    app.post(&ann, json!({"state": "up"})).await;
    app.wait_alerts(&ann, "status=resolved", "up", |a| a.len() == 1)
        .await;
    for _ in 0..3 {
        clock.advance(Duration::from_secs(11 * 60));
        assert_eq!(
            settle_and_send(&app).await,
            queue::Sent::default(),
            "resolved: no more repeats"
        );
    }
    assert_eq!(mails_to(&to).len(), 2);
}

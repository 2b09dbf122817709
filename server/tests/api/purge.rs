//! The admin purge of a user who left (DESIGN story 7): afterwards nothing of
//! theirs is left in any MongoDB collection or Redis key, even with events
//! arriving meanwhile, and another user's data is untouched.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tellify_server::aggregate::queue;

use crate::helpers::{TestApp, test_config, unique};

/// Distinctive names, so a substring search finds nothing by chance.
const LEAVER: &str = "leaver";
const STAYER: &str = "stayer";

impl TestApp {
    /// `DELETE /api/v1/admin/users/{name}`.
    pub async fn purge_user(&self, token: &str, name: &str) -> (StatusCode, Value) {
        self.delete(&format!("/api/v1/admin/users/{name}"), token)
            .await
    }
}

pub(crate) fn disk(host: &str, pct: f64) -> Value {
    json!({"source": "disk", "host": host, "pct": pct})
}

/// A threshold instance (it keeps state in Redis), an email channel and a
/// webhook that cannot be reached (so a digest stays in flight), and a
/// default policy sending to both after `aggregate_for`.
pub(crate) async fn equip(app: &TestApp, token: &str, name: &str, aggregate_for: &str) -> String {
    let handler = app
        .create_handler(
            token,
            json!({"type": "threshold", "name": "Disk", "params": {
                "filter": [{"field": "source", "op": "eq", "value": "disk"}],
                "value_field": "pct", "key_fields": ["host"],
                "levels": [{"severity": "warning", "op": "ge", "value": 90}]}}),
        )
        .await;
    let mut channels = Vec::new();
    for body in [
        json!({"kind": "email", "label": "work", "address": format!("{name}@corp.example")}),
        json!({"kind": "webhook", "label": "hook", "url": "http://127.0.0.1:1/hook"}),
    ] {
        let (status, c) = app.post_json("/api/v1/channels", token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        channels.push(c["id"].as_str().expect("id").to_owned());
    }
    let (status, p) = app
        .post_json(
            "/api/v1/policies",
            token,
            &json!({"name": "all", "default": true, "rules": [
                {"when": "always", "min_severity": "info", "channels": channels, "aggregate_for": aggregate_for}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    handler
}

/// Where something of a user was found.
type Findings = Vec<String>;

/// Every string in a BSON value (keys too).
fn strings_in(b: &Bson, out: &mut Vec<String>) {
    match b {
        Bson::String(s) => out.push(s.clone()),
        Bson::Document(d) => {
            for (k, v) in d {
                out.push(k.clone());
                strings_in(v, out);
            }
        }
        Bson::Array(a) => a.iter().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

fn mentions(s: &str, needles: &[String]) -> bool {
    needles.iter().any(|n| s.contains(n.as_str()))
}

/// Every document of every collection of the test's database (but `audit`,
/// which keeps the purged user's name on purpose) and every Redis key under
/// the test's prefix, searched for `needles` in names, fields and values.
async fn scan(app: &TestApp, needles: &[String]) -> Findings {
    let mut found = Vec::new();
    let db = app.app_state.store.db();
    for collection in db.list_collection_names().await.expect("collections") {
        if collection == "audit" {
            continue;
        }
        let docs: Vec<Document> = db
            .collection::<Document>(&collection)
            .find(doc! {})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("documents");
        for d in docs {
            let mut strings = Vec::new();
            strings_in(&Bson::Document(d.clone()), &mut strings);
            if strings.iter().any(|s| mentions(s, needles)) {
                found.push(format!("mongodb {collection}: {d}"));
            }
        }
    }
    let mut conn = app.app_state.broker.conn();
    let prefix = &app.config.redis_prefix;
    let keys: Vec<String> = {
        let mut iter = conn
            .scan_match::<_, String>(format!("{prefix}*"))
            .await
            .expect("SCAN");
        let mut keys = Vec::new();
        while let Some(k) = iter.next_item().await {
            keys.push(k.expect("a key"));
        }
        keys
    };
    let mut conn = app.app_state.broker.conn();
    for key in keys {
        if mentions(&key, needles) {
            found.push(format!("redis key {key}"));
            continue;
        }
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("TYPE");
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![conn.get(&key).await.unwrap_or_default()],
            "hash" => {
                let h: Vec<(String, String)> = conn.hgetall(&key).await.expect("HGETALL");
                h.into_iter().flat_map(|(k, v)| [k, v]).collect()
            }
            "set" => conn.smembers(&key).await.expect("SMEMBERS"),
            "zset" => conn.zrange(&key, 0, -1).await.expect("ZRANGE"),
            "list" => conn.lrange(&key, 0, -1).await.expect("LRANGE"),
            "stream" => {
                let r: redis::streams::StreamRangeReply =
                    conn.xrange_all(&key).await.expect("XRANGE");
                r.ids
                    .into_iter()
                    .flat_map(|e| {
                        e.map
                            .into_iter()
                            .flat_map(|(k, v)| {
                                [k, redis::from_redis_value::<String>(v).unwrap_or_default()]
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        // The changes stream names deleted instances by id: that entry is
        // how every node learns of the deletion (it holds no name, and is
        // trimmed by length). The user's name must not be there either.
        let allowed_ids = key == format!("{prefix}configs:changes");
        for v in values {
            let hit = if allowed_ids {
                v.contains(&needles[0])
            } else {
                mentions(&v, needles)
            };
            if hit {
                found.push(format!("redis {kind} {key}: {v}"));
            }
        }
    }
    found
}

/// Scan until nothing is found (what was under way when the purge answered
/// settles within moments), or fail with what is left.
pub(crate) async fn scan_until_clean(app: &TestApp, needles: &[String]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = scan(app, needles).await;
        if found.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "left of {LEAVER} after the purge:\n{}",
            found.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn purge_removes_everything_of_a_user_even_while_events_arrive_and_nothing_of_another() {
    let mut config = test_config(&unique("t"));
    config.smtp_url =
        Some(std::env::var("TELLIFY_SMTP_URL").expect("TELLIFY_SMTP_URL: run scripts/test.sh"));
    let app = TestApp::spawn_with(config).await;
    let clock = app.app_state.clock.clone();
    clock.set(jiff::Timestamp::now());

    let leaver = app.create_user(LEAVER).await;
    let second = app
        .token_by_password(LEAVER, &format!("{LEAVER}-password"), &["api"])
        .await;
    let (status, login) = crate::helpers::read(
        app.client
            .post(app.url("/login"))
            .json(&json!({"name": LEAVER, "password": format!("{LEAVER}-password")}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let stayer = app.create_user(STAYER).await;
    let leaver_handler = equip(&app, &leaver, LEAVER, "1m").await;
    let stayer_handler = equip(&app, &stayer, STAYER, "1h").await;

    // One alert each, its digests: mail sent, the webhook failing (in flight,
    // retry scheduled) for the leaver; all pending for the stayer.
    app.post(&leaver, disk("a1", 95.0)).await;
    app.wait_alerts(&leaver, "", "the leaver's first alert", |a| a.len() == 1)
        .await;
    app.wait_alerts(&stayer, "", "the stayer's first alert", |a| a.len() == 1)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    clock.advance(Duration::from_secs(120));
    let sent = queue::run_due(&app.app_state, clock.now(), None)
        .await
        .expect("run_due");
    assert_eq!(
        (sent.sent, sent.failed),
        (1, 1),
        "mail sent, webhook failed"
    );
    // A second alert: pending again on both channels.
    app.post(&leaver, disk("a2", 96.0)).await;
    app.wait_alerts(&leaver, "", "the leaver's second alert", |a| a.len() == 2)
        .await;
    app.wait_alerts(&stayer, "", "the stayer's second alert", |a| a.len() == 2)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let needles = vec![LEAVER.to_owned(), leaver_handler.clone()];
    let before = scan(&app, &needles).await;
    for what in [
        "mongodb users",
        "mongodb tokens",
        "mongodb sessions",
        "mongodb handlers",
        "mongodb alerts",
        "mongodb channels",
        "mongodb policies",
        "mongodb notifications",
        ":pending:",
        ":inflight:",
        "state",
        "due",
        "retry",
    ] {
        assert!(
            before.iter().any(|f| f.contains(what)),
            "the scan finds the leaver's {what} before the purge: {before:#?}"
        );
    }

    // Events for both users' instances keep arriving during the purge (the
    // same hosts: they update the alerts, so the counts stay exact).
    let posting = {
        let client = app.client.clone();
        let url = app.url("/events");
        let token = stayer.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let host = if i % 2 == 0 { "a1" } else { "a2" };
                let _ = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&disk(host, 97.0 + f64::from(i % 2)))
                    .send()
                    .await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, answer) = app.purge_user(&app.admin_token, LEAVER).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer,
        json!({"user": LEAVER, "removed": {
            "handlers": 1, "handler_states": 1, "alerts": 2, "channels": 2, "policies": 1,
            "pending_digests": 2, "inflight_digests": 1,
            "schedule_entries": 3, // due: mail and webhook; retry: webhook
            "notifications": 2, "tokens": 2, "sessions": 1, "users": 1}})
    );
    posting.await.expect("posting");
    scan_until_clean(&app, &needles).await;

    // More events after the purge: the stayer's instance runs them (so the
    // pipeline went past them), and still nothing of the leaver comes back.
    let count = |alerts: &[Value]| {
        alerts
            .iter()
            .map(|a| a["count"].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    let seen = count(&app.alerts(&stayer, "").await);
    app.post(&stayer, json!([disk("a1", 99.0), disk("a3", 99.0)]))
        .await;
    app.wait_alerts(&stayer, "", "the events after the purge", |a| {
        a.len() == 3 && count(a) >= seen + 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = scan(&app, &needles).await;
    assert!(after.is_empty(), "came back: {after:#?}");

    // The leaver's ways in are closed.
    for token in [&leaver, &second] {
        let (status, _) = app.get_json("/api/v1/handlers", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .basic_auth(LEAVER, Some(format!("{LEAVER}-password")))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The stayer's data is all there and works.
    let (status, handlers) = app.get_json("/api/v1/handlers", &stayer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(handlers[0]["id"], stayer_handler.as_str());
    for path in ["/api/v1/channels", "/api/v1/tokens"] {
        let (_, list) = app.get_json(path, &stayer).await;
        assert!(!list.as_array().expect("a list").is_empty(), "{path}");
    }
    let (_, policies) = app.get_json("/api/v1/policies", &stayer).await;
    assert_eq!(policies.as_array().map(Vec::len), Some(1));
    let stayer_left = scan(&app, &[STAYER.to_owned(), stayer_handler.clone()]).await;
    for what in [
        ":pending:",
        "state",
        "due",
        "mongodb alerts",
        "mongodb users",
    ] {
        assert!(
            stayer_left.iter().any(|f| f.contains(what)),
            "the stayer's {what} is untouched: {stayer_left:#?}"
        );
    }

    // The audit record: who, when, whom, how many; nothing else of the user.
    let audit: Vec<Document> = app
        .app_state
        .store
        .db()
        .collection::<Document>("audit")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
    let record = &audit[0];
    assert_eq!(record.get_str("action"), Ok("purge_user"));
    assert_eq!(record.get_str("by"), Ok("admin"));
    assert_eq!(record.get_str("user"), Ok(LEAVER));
    assert_eq!(record.get_str("status"), Ok("done"));
    assert!(record.get_datetime("started_at").is_ok());
    let removed: Value =
        serde_json::to_value(record.get_document("removed").expect("removed")).expect("json");
    assert_eq!(removed["alerts"], 2);
    assert_eq!(removed["tokens"], 2);

    // Idempotent: the user is gone, a second purge finds no one.
    let (status, _) = app.purge_user(&app.admin_token, LEAVER).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn purge_is_for_admins_of_someone_else_who_exists() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    app.create_user("bob").await;

    let (status, body) = app.purge_user(&ann, "bob").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("only administrators may do this")
        )
    );
    let (status, _) = app.purge_user(&app.admin_token, "nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app.purge_user(&app.admin_token, "admin").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = app.get_json("/api/v1/me", &app.admin_token).await;
    assert_eq!(status, StatusCode::OK, "the admin is still there");

    // Another admin may purge the first one.
    let (status, _) = app
        .post_json(
            "/api/v1/admin/users",
            &app.admin_token,
            &json!({"name": "root2", "password": "root2-password", "email": "r@corp.example", "admin": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let root2 = app
        .token_by_password("root2", "root2-password", &["api", "admin"])
        .await;
    let (status, answer) = app.purge_user(&root2, "admin").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["removed"]["users"], 1);
    assert_eq!(answer["removed"]["tokens"], 1);
    let (status, _) = app.get_json("/api/v1/me", &app.admin_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

//! Events become alerts: DESIGN stories 1 to 4 end to end, exactly-once
//! processing across a crash, two nodes sharing the partitions, and edits of
//! handler instances taking effect.

use std::time::Duration;

use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, by_key, test_config, unique};

fn fs_list() -> Vec<String> {
    (0..10).map(|i| format!("/sarc/fs{i:02}")).collect()
}

fn disk(host: &str, fs: &str, pct: f64) -> Value {
    json!({"source": "disk-monitor", "host": host, "fs": fs, "pct": pct})
}

/// Story 1: 10 filesystems, warning over 90, critical over 97, resolved
/// below (with hysteresis).
#[tokio::test]
async fn story_1_disk_space_fires_escalates_and_resolves() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    app.create_handler(
        &ann,
        json!({"type": "threshold", "name": "Disk space", "params": {
            "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"},
                       {"field": "fs", "op": "in", "value": fs_list()}],
            "value_field": "pct", "key_fields": ["host", "fs"],
            "levels": [{"severity": "warning", "op": "ge", "value": 90}, {"severity": "critical", "op": "ge", "value": 97}],
            "hysteresis": 1.0}}),
    )
    .await;
    app.post(
        &ann,
        json!([
            disk("cad01", "/sarc/fs01", 91.0),
            disk("cad01", "/sarc/fs02", 50.0),
            disk("cad01", "/sarc/other", 99.0)
        ]),
    )
    .await;
    let alerts = app
        .wait_alerts(&ann, "", "a warning", |a| a.len() == 1)
        .await;
    assert_eq!(
        alerts[0]["key"], "cad01//sarc/fs01",
        "host and filesystem joined by '/'"
    );
    assert_eq!(
        (alerts[0]["status"].as_str(), alerts[0]["severity"].as_str()),
        (Some("firing"), Some("warning"))
    );

    app.post(&ann, json!(disk("cad01", "/sarc/fs01", 97.5)))
        .await;
    app.wait_alerts(&ann, "", "critical", |a| {
        a.len() == 1 && a[0]["severity"] == "critical"
    })
    .await;
    // 96.5 is within the hysteresis of 97: still critical. 95 drops to warning.
    app.post(
        &ann,
        json!([
            disk("cad01", "/sarc/fs01", 96.5),
            disk("cad01", "/sarc/fs01", 95.0)
        ]),
    )
    .await;
    let a = app
        .wait_alerts(&ann, "", "back to warning", |a| a[0]["count"] == 4)
        .await;
    assert_eq!(a[0]["severity"], "warning");
    app.post(&ann, json!(disk("cad01", "/sarc/fs01", 80.0)))
        .await;
    let a = app
        .wait_alerts(&ann, "", "resolved", |a| a[0]["status"] == "resolved")
        .await;
    assert_eq!(
        a.len(),
        1,
        "one alert, for the one filesystem that went over"
    );
    let (_, one) = app
        .get_json(
            &format!("/api/v1/alerts/{}", a[0]["id"].as_str().expect("id")),
            &ann,
        )
        .await;
    let what: Vec<&str> = one["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["what"].as_str())
        .collect();
    assert_eq!(what, vec!["fired", "severity", "severity", "resolved"]);
    assert_eq!(one["event"]["pct"], 80.0);
}

/// Story 2: a failed build of my block.
#[tokio::test]
async fn story_2_my_block_failed() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let flow = |block: &str, status: &str| json!({"source": "flow", "project": "vr0", "block": block, "step": "route_opt", "status": status});
    app.create_handler(
        &ann,
        json!({"type": "match", "name": "gc_t builds", "params": {
            "filter": [{"field": "block", "op": "eq", "value": "gc_t"}, {"field": "status", "op": "eq", "value": "failed"}],
            "severity": "warning", "summary": "{block} failed {step}", "key": "{project}/{block}",
            "resolve_filter": [{"field": "block", "op": "eq", "value": "gc_t"}, {"field": "status", "op": "eq", "value": "good"}]}}),
    )
    .await;
    app.post(
        &ann,
        json!([flow("other", "failed"), flow("gc_t", "failed")]),
    )
    .await;
    let a = app
        .wait_alerts(&ann, "status=firing", "the failure", |a| a.len() == 1)
        .await;
    assert_eq!(
        (a[0]["key"].as_str(), a[0]["summary"].as_str()),
        (Some("vr0/gc_t"), Some("gc_t failed route_opt"))
    );
    // Text lines work the same way.
    let (status, _) = app
        .post_events(
            Some(&ann),
            "text/plain",
            "source:flow project:vr0 block:gc_t step:route_opt status:good",
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_alerts(&ann, "status=resolved", "the fix", |a| a.len() == 1)
        .await;
    assert!(app.alerts(&ann, "status=firing").await.is_empty());
}

/// Story 3: more than 4 distinct blocks fail `place` in one run tag; and
/// more than three blocks of vr0 with one run tag raise a derived event that
/// another handler matches.
#[tokio::test]
async fn story_3_distinct_blocks_and_a_derived_event() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let failed = |block: &str, tag: &str| json!({"source": "flow", "project": "vr0", "block": block, "step": "place", "status": "failed", "runtag": tag});
    app.create_handler(
        &ann,
        json!({"type": "distinct_count", "name": "place failures", "params": {
            "filter": [{"field": "step", "op": "eq", "value": "place"}, {"field": "status", "op": "eq", "value": "failed"}],
            "group_by": ["runtag"], "distinct_field": "block", "more_than": 4, "severity": "critical"}}),
    )
    .await;
    app.create_handler(
        &ann,
        json!({"type": "distinct_count", "name": "vr0 failures", "params": {
            "filter": [{"field": "project", "op": "eq", "value": "vr0"}, {"field": "status", "op": "eq", "value": "failed"}],
            "group_by": ["runtag"], "distinct_field": "block", "more_than": 3, "severity": "info",
            "emit": {"type": "many_blocks_failed"}}}),
    )
    .await;
    let derived_matcher = app
        .create_handler(
            &ann,
            json!({"type": "match", "name": "derived", "params": {
                "filter": [{"field": "type", "op": "eq", "value": "many_blocks_failed"}],
                "severity": "critical", "summary": "many blocks failed in {runtag}", "key": "{runtag}"}}),
        )
        .await;
    // Four distinct blocks (one repeated) in run r1, two in r2: nothing yet
    // from the first handler; the second fires and emits for r1.
    app.post(
        &ann,
        json!([
            failed("b1", "r1"),
            failed("b2", "r1"),
            failed("b2", "r1"),
            failed("b3", "r1"),
            failed("b4", "r1"),
            failed("b1", "r2"),
            failed("b5", "r2")
        ]),
    )
    .await;
    let a = app
        .wait_alerts(
            &ann,
            &format!("handler={derived_matcher}"),
            "the derived event's alert",
            |a| a.len() == 1,
        )
        .await;
    assert_eq!(a[0]["summary"], "many blocks failed in r1");
    assert_eq!(a[0]["event"]["_origin"]["hops"], 1);
    let all = app.alerts(&ann, "severity=critical").await;
    assert!(by_key(&all, "r1").is_some_and(|x| x["handler_id"] == derived_matcher.as_str()));
    assert_eq!(all.len(), 1, "the 4-block rule has not fired: {all:#?}");
    // The fifth distinct block fires it.
    app.post(&ann, json!(failed("b5", "r1"))).await;
    let a = app
        .wait_alerts(&ann, "severity=critical", "five blocks", |a| a.len() == 2)
        .await;
    assert!(
        a.iter()
            .any(|x| x["key"] == "r1" && x["handler_id"] != derived_matcher.as_str())
    );
}

/// Story 4: the heartbeat stops, the alert fires once; it comes back, the
/// alert resolves.
#[tokio::test]
async fn story_4_heartbeat_missing_then_back() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    app.create_handler(
        &ann,
        json!({"type": "heartbeat", "name": "caddashboard alive", "params": {
            "filter": [{"field": "host", "op": "eq", "value": "caddashboard"}],
            "key_fields": ["host"], "missing_after": "2s", "severity": "critical"}}),
    )
    .await;
    let (status, _) = app
        .post_events(Some(&ann), "text/plain", "host:caddashboard is still alive")
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(app.alerts(&ann, "").await.is_empty(), "alive a second ago");
    let a = app
        .wait_alerts(&ann, "status=firing", "missing", |a| a.len() == 1)
        .await;
    assert_eq!(a[0]["key"], "caddashboard");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.alerts(&ann, "").await[0]["count"],
        1,
        "fires once, not every tick"
    );
    app.post_events(Some(&ann), "text/plain", "host:caddashboard is still alive")
        .await;
    app.wait_alerts(&ann, "status=resolved", "back", |a| a.len() == 1)
        .await;
}

fn counter(i: usize) -> Value {
    json!({"type": "match", "name": format!("counter {i}"), "params": {
        "filter": [{"field": "kind", "op": "eq", "value": "count"}, {"field": "lane", "op": "eq", "value": i}],
        "severity": "info", "summary": "seen", "key": "n"}})
}

/// The total count over the counting handlers' alerts.
async fn counted(app: &TestApp, token: &str) -> i64 {
    app.alerts(token, "")
        .await
        .iter()
        .map(|a| a["count"].as_i64().unwrap_or(0))
        .sum()
}

async fn wait_count(app: &TestApp, token: &str, want: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = counted(app, token).await;
        if n == want {
            // And it stays there: nothing counted twice later.
            tokio::time::sleep(Duration::from_millis(700)).await;
            assert_eq!(counted(app, token).await, want);
            return;
        }
        assert!(
            n < want,
            "counted {n} of {want}: something was counted twice"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "counted {n} of {want} in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn count_events(from: usize, to: usize, lanes: usize) -> Value {
    Value::Array(
        (from..to)
            .map(|i| json!({"kind": "count", "lane": i % lanes, "i": i}))
            .collect(),
    )
}

/// N events, the app crashes in the middle of them and starts again: every
/// event is counted exactly once.
#[tokio::test]
async fn exactly_once_across_a_crash() {
    let mut config = test_config(&unique("t"));
    config.events_retention = Duration::ZERO;
    let app = TestApp::spawn_with(config.clone()).await;
    let ann = app.create_user("ann").await;
    let lanes = 6;
    for i in 0..lanes {
        app.create_handler(&ann, counter(i)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut posted = 0;
    for chunk in 0..10 {
        app.post(&ann, count_events(chunk * 100, chunk * 100 + 100, lanes))
            .await;
        posted += 100;
    }
    // Crash while the dispatcher is (very likely) mid-stream.
    app.crash().await;
    let app = TestApp::spawn_with(config.clone()).await;
    app.post(&ann, count_events(1000, 1500, lanes)).await;
    posted += 500;
    wait_count(&app, &ann, posted).await;
    // Processed by every partition and past the retention: trimmed.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.stream_len().await > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream is trimmed once processed: {}",
            app.stream_len().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two nodes split the partitions and count like one; when one dies, the
/// other takes its partitions over after the lease and nothing is lost or
/// counted twice.
#[tokio::test]
async fn two_nodes_share_then_take_over() {
    let config = test_config(&unique("t"));
    let a = TestApp::spawn_with(config.clone()).await;
    let b = TestApp::spawn_with(config.clone()).await;
    let ann = a.create_user("ann").await;
    let lanes = 8;
    for i in 0..lanes {
        a.create_handler(&ann, counter(i)).await;
    }
    // Both nodes hold leases.
    let mut conn = a.app_state.broker.conn();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut owners = std::collections::HashSet::new();
        for p in 0..config.partitions {
            let owner: Option<String> = conn
                .get(a.app_state.broker.lease_key(p))
                .await
                .expect("GET");
            owners.extend(owner);
        }
        if owners.len() == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "both nodes should own partitions: {owners:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.post(&ann, count_events(0, 800, lanes)).await;
    wait_count(&a, &ann, 800).await;
    let per_lane: Vec<i64> = a
        .alerts(&ann, "")
        .await
        .iter()
        .map(|x| x["count"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        per_lane,
        vec![100; lanes],
        "each counter saw its 100 events"
    );

    b.crash().await;
    let crashed = std::time::Instant::now();
    a.post(&ann, count_events(800, 1600, lanes)).await;
    // Within the lease time (plus a's lease round, every third of it, and
    // some slack for a loaded machine), one node owns every partition: a.
    let limit = config.lease_ttl + config.lease_ttl / 3 + Duration::from_millis(1500);
    loop {
        let mut owners = std::collections::HashSet::new();
        let mut unowned = 0;
        for p in 0..config.partitions {
            let owner: Option<String> = conn
                .get(a.app_state.broker.lease_key(p))
                .await
                .expect("GET");
            match owner {
                Some(o) => {
                    owners.insert(o);
                }
                None => unowned += 1,
            }
        }
        if owners.len() == 1 && unowned == 0 {
            break;
        }
        assert!(
            crashed.elapsed() < limit,
            "no take-over within {limit:?}: owners {owners:?}, {unowned} partitions unowned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_count(&a, &ann, 1600).await;
}

/// Edits, disabling and deleting take effect; a deleted instance leaves no
/// state in Redis.
#[tokio::test]
async fn edited_disabled_and_deleted_instances() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let body = |value: f64, enabled: bool| {
        json!({"type": "threshold", "name": "pct", "enabled": enabled, "params": {
            "filter": [{"field": "source", "op": "eq", "value": "disk-monitor"}],
            "value_field": "pct", "key_fields": ["fs"],
            "levels": [{"severity": "warning", "op": "ge", "value": value}]}})
    };
    let id = app.create_handler(&ann, body(90.0, true)).await;
    let sentinel = app.create_handler(&ann, counter(0)).await;
    let tick = |n: i64| json!({"kind": "count", "lane": 0, "n": n});
    app.post(&ann, json!([disk("h", "/a", 85.0), tick(1)]))
        .await;
    app.wait_alerts(&ann, &format!("handler={sentinel}"), "sentinel 1", |a| {
        a.len() == 1
    })
    .await;
    assert!(
        app.alerts(&ann, &format!("handler={id}")).await.is_empty(),
        "85 < 90"
    );

    // Lower the level to 80: the same value now fires.
    let r = app
        .req(
            reqwest::Method::PUT,
            &format!("/api/v1/handlers/{id}"),
            Some(&ann),
        )
        .json(&body(80.0, true))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.post(&ann, json!(disk("h", "/a", 85.0))).await;
    app.wait_alerts(&ann, &format!("handler={id}"), "the edited level", |a| {
        a.len() == 1
    })
    .await;

    // Disabled: events go by it.
    let r = app
        .req(
            reqwest::Method::PUT,
            &format!("/api/v1/handlers/{id}"),
            Some(&ann),
        )
        .json(&body(80.0, false))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.post(&ann, json!([disk("h", "/a", 86.0), tick(2)]))
        .await;
    app.wait_alerts(&ann, &format!("handler={sentinel}"), "sentinel 2", |a| {
        a[0]["count"] == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.alerts(&ann, &format!("handler={id}")).await[0]["count"],
        1,
        "disabled: not counted"
    );

    // Deleted: its state goes.
    let state_key = app
        .app_state
        .broker
        .state_key(tellify_server::broker::partition_of(
            &id,
            app.config.partitions,
        ));
    let mut conn = app.app_state.broker.conn();
    let had: bool = conn.hexists(&state_key, &id).await.expect("HEXISTS");
    assert!(had, "the instance had state");
    let (status, _) = app.delete(&format!("/api/v1/handlers/{id}"), &ann).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.post(&ann, json!([disk("h", "/a", 99.0), tick(3)]))
        .await;
    app.wait_alerts(&ann, &format!("handler={sentinel}"), "sentinel 3", |a| {
        a[0]["count"] == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let has: bool = conn.hexists(&state_key, &id).await.expect("HEXISTS");
    assert!(!has, "a deleted instance leaves no state");
    let (status, _) = app.get_json(&format!("/api/v1/handlers/{id}"), &ann).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

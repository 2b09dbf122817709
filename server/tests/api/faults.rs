//! Faults driven for real: a MongoDB (SecantusDB) of the test's own is
//! killed and started again while events flow.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, test_config, unique};

/// A SecantusDB of this test's own, on `port`, its data in `dir`.
fn start_mongo(port: u16, dir: &Path) -> Child {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/secantusd-py");
    Command::new(bin)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--storage-path",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start SecantusDB (run the tests with scripts/test.sh, which installs it)")
}

async fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "SecantusDB listens on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// MongoDB unreachable: the API answers 503, ingest and dispatch go on, and
/// the alerts reach MongoDB when it is back, each event counted once.
#[tokio::test]
async fn mongodb_down_ingest_and_dispatch_go_on_and_alerts_catch_up() {
    let port = free_port();
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/faults")
        .join(unique("mongo"));
    std::fs::create_dir_all(&dir).expect("data dir");
    let mut mongo = start_mongo(port, &dir);
    wait_port(port).await;
    let mut config = test_config(&unique("t"));
    config.mongodb_uri = format!("mongodb://127.0.0.1:{port}/faults");
    let app = TestApp::spawn_with(config).await;
    let ann = app.create_user("ann").await;
    app.create_handler(&ann, json!({"type": "match", "name": "count", "params": {
        "filter": [{"field": "kind", "op": "eq", "value": "tick"}], "severity": "info", "summary": "tick"}}))
        .await;
    app.post(&ann, json!({"kind": "tick"})).await;
    app.wait_alerts(&ann, "", "the first tick", |a| {
        a.len() == 1 && a[0]["count"] == 1
    })
    .await;

    // MongoDB goes away (stopped as an operator would; SIGKILL without a
    // journal could lose writes it had acknowledged, which no database
    // configuration of ours can make up for).
    let _ = Command::new("kill").arg(mongo.id().to_string()).status();
    let _ = mongo.wait();
    let (status, body) = app.get_json("/api/v1/alerts", &ann).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "MongoDB is unavailable, try again later");
    let before: u64 = app.stream_len().await;
    for _ in 0..5 {
        let (status, body) = app
            .post_events(
                Some(&ann),
                "application/json",
                json!([{"kind": "tick"}, {"kind": "tick"}]).to_string(),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "ingest goes on: {body}");
    }
    assert_eq!(app.stream_len().await, before + 10);
    // Dispatch goes on: every partition's checkpoint reaches the last event.
    let last: String = {
        let events = app
            .app_state
            .broker
            .recent_events(1, None, None)
            .await
            .expect("XREVRANGE");
        events[0].id.clone()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut behind = 0;
        for p in 0..app.config.partitions {
            let c: Option<String> = redis::AsyncCommands::get(
                &mut app.app_state.broker.conn(),
                app.app_state.broker.checkpoint_key(p),
            )
            .await
            .expect("GET");
            if c.as_deref() != Some(last.as_str()) {
                behind += 1;
            }
        }
        if behind == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{behind} partitions did not reach {last} while MongoDB was down"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // MongoDB is back, with its data: the alert catches up, counted once.
    let mut mongo = start_mongo(port, &dir);
    wait_port(port).await;
    let alerts = app
        .wait_alerts(&ann, "", "11 ticks", |a| {
            a.len() == 1 && a[0]["count"] == 11
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.alerts(&ann, "").await[0]["count"],
        11,
        "and not more: {alerts:?}"
    );
    app.stop().await;
    let _ = mongo.kill();
    let _ = mongo.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Redis of this test's own that writes every command to disk before it
/// answers, so a restart keeps every acknowledged event.
fn start_redis(port: u16, dir: &Path) -> Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start redis-server (run the tests with scripts/test.sh, which installs it)")
}

/// Redis restarted in the middle of a run: every event answered 202 is
/// counted exactly once; the ones answered 503 are not stored.
#[tokio::test]
async fn redis_restarted_every_acknowledged_event_counts_once() {
    let port = free_port();
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/faults")
        .join(unique("redis"));
    std::fs::create_dir_all(&dir).expect("data dir");
    let mut redis = start_redis(port, &dir);
    wait_port(port).await;
    let mut config = test_config(&unique("t"));
    config.redis_url = format!("redis://127.0.0.1:{port}/");
    let app = TestApp::spawn_with(config).await;
    let ann = app.create_user("ann").await;
    app.create_handler(&ann, json!({"type": "match", "name": "count", "params": {
        "filter": [{"field": "kind", "op": "eq", "value": "tick"}], "severity": "info", "summary": "tick"}}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut acknowledged = 0u64;
    let mut refused = 0u64;
    for round in 0..60 {
        if round == 20 {
            let _ = redis.kill();
            let _ = redis.wait();
        }
        if round == 35 {
            redis = start_redis(port, &dir);
            wait_port(port).await;
        }
        let (status, _) = app
            .post_events(
                Some(&ann),
                "application/json",
                json!([{"kind": "tick", "round": round}, {"kind": "tick", "round": round}])
                    .to_string(),
            )
            .await;
        match status {
            StatusCode::ACCEPTED => acknowledged += 2,
            StatusCode::SERVICE_UNAVAILABLE => refused += 2,
            other => panic!("round {round}: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(refused > 0, "Redis was really down for a while");
    assert!(
        acknowledged >= 60,
        "and up for most of the run: {acknowledged}"
    );
    let want = acknowledged as i64;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = app
            .alerts(&ann, "")
            .await
            .first()
            .and_then(|a| a["count"].as_i64())
            .unwrap_or(0);
        if got == want {
            break;
        }
        assert!(
            got < want,
            "counted {got}, but only {want} were acknowledged"
        );
        assert!(
            Instant::now() < deadline,
            "counted {got} of {want} acknowledged events"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.alerts(&ann, "").await[0]["count"],
        want,
        "nothing counted twice later"
    );
    app.stop().await;
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

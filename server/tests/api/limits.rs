//! Abuse limits: the ingest rate per token, and login throttling per user
//! name (by `POST /login` and by HTTP Basic alike).

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, read, test_config, unique};

fn retry_after(r: &Response) -> u64 {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in seconds")
}

#[tokio::test]
async fn ingest_over_the_rate_of_a_token_is_refused_with_retry_after() {
    let mut config = test_config(&unique("t"));
    config.ingest_rate = 0.5;
    config.ingest_burst = 3;
    let app = TestApp::spawn_with(config).await;
    let ann = app.create_user("ann").await;
    let other = app
        .token_by_password("ann", "ann-password", &["ingest"])
        .await;

    app.post(&ann, json!([{"n": 1}, {"n": 2}, {"n": 3}])).await;
    let r = app
        .req(reqwest::Method::POST, "/events", Some(&ann))
        .json(&json!({"n": 4}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&r);
    assert!((1..=2).contains(&wait), "about 2 s for one event: {wait}");
    let (_, body) = read(r).await;
    assert_eq!(
        body["error"],
        "this token is over its ingest rate (0.5 events a second, bursts of 3); retry later"
    );
    assert_eq!(body["retry_after"], wait);

    // Each token has its own bucket.
    app.post(&other, json!({"n": 5})).await;
    assert_eq!(
        app.stream_len().await,
        4,
        "the refused event was not stored"
    );

    // After the wait, one event fits again.
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    app.post(&ann, json!({"n": 6})).await;
}

async fn login(app: &TestApp, name: &str, password: &str) -> (StatusCode, Option<u64>, Value) {
    let r = app
        .client
        .post(app.url("/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .expect("request");
    let wait = (r.status() == StatusCode::TOO_MANY_REQUESTS).then(|| retry_after(&r));
    let (status, body) = read(r).await;
    (status, wait, body)
}

async fn basic(app: &TestApp, name: &str, password: &str) -> StatusCode {
    app.client
        .get(app.url("/api/v1/me"))
        .basic_auth(name, Some(password))
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn five_failed_logins_lock_the_name_for_a_while_and_a_success_resets_the_count() {
    let app = TestApp::spawn().await;
    app.create_user("ann").await;
    app.create_user("bob").await;

    // Four failures (by form-less JSON login and by Basic), then the right
    // password: the count starts again.
    for _ in 0..2 {
        assert_eq!(
            login(&app, "ann", "wrong").await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(basic(&app, "ann", "wrong").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&app, "ann", "ann-password").await.0, StatusCode::OK);

    // Five failures in a row lock the name: even the right password is
    // refused, by both ways in, for about 15 minutes.
    for i in 0..5 {
        let (status, _, _) = login(&app, "ann", &format!("guess{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (status, wait, body) = login(&app, "ann", "ann-password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait = wait.expect("Retry-After");
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    assert_eq!(
        body["error"],
        "too many failed logins for 'ann'; try again later"
    );
    assert_eq!(
        basic(&app, "ann", "ann-password").await,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Other names are not affected; ann's tokens still work.
    assert_eq!(login(&app, "bob", "bob-password").await.0, StatusCode::OK);
    assert_eq!(basic(&app, "bob", "bob-password").await, StatusCode::OK);

    // Unknown names are throttled the same way (nothing tells they do not
    // exist).
    for _ in 0..5 {
        assert_eq!(login(&app, "nobody", "x").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login(&app, "nobody", "x").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_throttled_form_login_shows_how_long_to_wait() {
    let app = TestApp::spawn().await;
    app.create_user("ann").await;
    for _ in 0..5 {
        let failed = app
            .post_form("/login", None, &[("name", "ann"), ("password", "wrong")])
            .await;
        assert_eq!(failed.location, "/login?failed=1");
    }
    // Refused whatever the password; the redirect carries the wait.
    let refused = app
        .post_form(
            "/login",
            None,
            &[("name", "ann"), ("password", "ann-password")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let wait: u64 = refused
        .location
        .strip_prefix("/login?failed=1&throttled=")
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("a wait in {:?}", refused.location));
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");
    let page = app.page(&refused.location, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("Too many attempts; try again in {wait} s.")),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Wrong user name or password"),
        "the password was not checked"
    );
    // A wait that is not a number is not shown; the failure still is.
    let odd = app.page("/login?failed=1&throttled=soon", None).await;
    assert!(odd.body.contains("Wrong user name or password"));
    assert!(!odd.body.contains("Too many attempts"));
}

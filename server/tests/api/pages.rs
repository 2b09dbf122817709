//! The dashboard's pages over HTTP: who may see what (anonymous callers go to
//! the login page, another user's objects are 404, admin pages are for
//! admins), forms without the session's CSRF token are refused, what events
//! carry is escaped, the security headers, and the live stream.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, BrowserSession, TestApp};

const PAGES: [&str; 10] = [
    "/",
    "/alerts",
    "/events",
    "/notifications",
    "/settings",
    "/handlers",
    "/handlers/new?type=threshold",
    "/policies",
    "/admin/users",
    "/alerts/0123456789abcdef01234567",
];

/// ann with a handler and one firing alert made by an event that carries
/// markup; her session; the alert's and the handler's ids.
struct Fixture {
    app: TestApp,
    ann: BrowserSession,
    alert: String,
    handler: String,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let token = app.create_user("ann").await;
    let handler = app
        .create_handler(
            &token,
            json!({"type": "match", "name": "Builds <b>", "params": {
                "filter": [{"field": "status", "op": "eq", "value": "failed"}],
                "severity": "critical", "summary": "{block} failed: {note}", "key": "{block}"}}),
        )
        .await;
    app.post(
        &token,
        json!({"status": "failed", "block": "gc_t", "note": "<script>alert(1)</script>"}),
    )
    .await;
    let alerts = app
        .wait_alerts(&token, "", "the alert", |a| a.len() == 1)
        .await;
    let ann = app.login("ann", "ann-password").await;
    Fixture {
        alert: alerts[0]["id"].as_str().expect("id").to_owned(),
        app,
        ann,
        handler,
    }
}

#[tokio::test]
async fn anonymous_callers_are_sent_to_the_login_page() {
    let app = TestApp::spawn().await;
    for path in PAGES {
        let p = app.page(path, None).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(p.location, "/login", "{path}");
    }
    let stale = BrowserSession {
        cookie: "tellify_session=not-a-session".into(),
        csrf: String::new(),
    };
    assert_eq!(app.page("/", Some(&stale)).await.location, "/login");
    let login = app.page("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains(r#"action="/login""#));
    assert!(!login.body.contains("Wrong user name"));
    let failed = app.page("/login?failed=1", None).await;
    assert!(failed.body.contains("Wrong user name or password"));
}

#[tokio::test]
async fn the_login_form_signs_in_and_signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            "/login",
            None,
            &[("name", "admin"), ("password", "wrong-password")],
        )
        .await;
    assert_eq!(r.location, "/login?failed=1");
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.page("/", Some(&admin)).await.status, StatusCode::OK);
    let forged = app.post_form("/signout", Some(&admin), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let out = app
        .post_form("/signout", Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(out.location, "/login");
    assert_eq!(app.page("/", Some(&admin)).await.location, "/login");
}

#[tokio::test]
async fn the_owner_sees_every_page_and_event_markup_is_escaped() {
    let Fixture {
        app,
        ann,
        alert,
        handler,
    } = fixture().await;
    let expect: [(&str, &[&str]); 10] = [
        ("/", &["Firing alerts", "gc_t failed", "Builds &#60;b&#62;"]),
        ("/alerts", &["gc_t failed", "Clear all"]),
        ("/alerts?status=resolved", &["No alerts match"]),
        (&format!("/alerts/{alert}"), &["History", "fired", "gc_t"]),
        ("/events", &["Recent events", "block:gc_t"]),
        ("/events?q=block:gc_t", &["block:gc_t"]),
        ("/notifications", &["Sent notifications"]),
        (
            "/settings",
            &["ann@corp.example", "Europe/Paris", "API tokens"],
        ),
        ("/handlers", &["Builds &#60;b&#62;", "Disable"]),
        ("/policies", &["Channels", "Europe/Paris"]),
    ];
    for (path, texts) in expect {
        let p = app.page(path, Some(&ann)).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
        for t in texts {
            assert!(p.body.contains(t), "{path} lacks {t:?}:\n{}", p.body);
        }
        assert!(
            !p.body.contains("<script>alert(1)"),
            "{path} shows the event's markup unescaped"
        );
        assert!(
            !p.body.contains("<b>"),
            "{path} shows the handler's name unescaped"
        );
    }
    for path in [format!("/alerts/{alert}"), "/events".to_owned()] {
        let p = app.page(&path, Some(&ann)).await;
        assert!(
            p.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} shows the field escaped:\n{}",
            p.body
        );
    }
    let edit = app
        .page(&format!("/handlers/{handler}/edit"), Some(&ann))
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains(&format!(r#"data-id="{handler}""#)));
    let bad_filter = app.page("/events?q=a:%22open", Some(&ann)).await;
    assert_eq!(bad_filter.status, StatusCode::OK);
    assert!(bad_filter.body.contains(r#"class="error""#));
}

#[tokio::test]
async fn another_users_objects_are_not_found() {
    let Fixture {
        app,
        alert,
        handler,
        ..
    } = fixture().await;
    app.create_user("bob").await;
    let bob = app.login("bob", "bob-password").await;
    for path in [
        format!("/alerts/{alert}"),
        format!("/handlers/{handler}/edit"),
    ] {
        let p = app.page(&path, Some(&bob)).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!p.body.contains("gc_t"));
    }
    for path in [
        format!("/alerts/{alert}/clear"),
        format!("/handlers/{handler}/disable"),
        format!("/handlers/{handler}/delete"),
    ] {
        let p = app
            .post_form(&path, Some(&bob), &[("csrf", &bob.csrf)])
            .await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
    }
    let all = app
        .post_form(
            "/alerts/clear",
            Some(&bob),
            &[("csrf", &bob.csrf), ("handler", &handler)],
        )
        .await;
    assert_eq!(all.status, StatusCode::NOT_FOUND);
    let bobs = app.page("/", Some(&bob)).await;
    assert!(!bobs.body.contains("gc_t"), "bob's dashboard is his own");
    let ann = app.login("ann", "ann-password").await;
    let still = app.page("/", Some(&ann)).await;
    assert!(
        still.body.contains("gc_t failed"),
        "nothing of ann's changed"
    );
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let Fixture {
        app,
        ann,
        alert,
        handler,
    } = fixture().await;
    app.create_user("bob").await;
    let bob = app.login("bob", "bob-password").await;
    let clear = format!("/alerts/{alert}/clear");
    let disable = format!("/handlers/{handler}/disable");
    for (path, fields) in [
        (clear.as_str(), vec![]),
        (clear.as_str(), vec![("csrf", "forged")]),
        // Another session's token is no good either.
        (clear.as_str(), vec![("csrf", bob.csrf.as_str())]),
        ("/alerts/clear", vec![]),
        (disable.as_str(), vec![]),
        ("/settings/tokens", vec![("label", "x"), ("ingest", "on")]),
        (
            "/settings/profile",
            vec![("email", "evil@x.example"), ("timezone", "UTC")],
        ),
    ] {
        let p = app.post_form(path, Some(&ann), &fields).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path} {fields:?}");
        assert!(p.body.contains("CSRF"), "{}", p.body);
    }
    let p = app.page(&format!("/alerts/{alert}"), Some(&ann)).await;
    assert!(p.body.contains("firing"), "the alert was not cleared");
    // With the token, the same forms work.
    let ok = app
        .post_form(&clear, Some(&ann), &[("csrf", &ann.csrf), ("back", "/")])
        .await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (StatusCode::SEE_OTHER, "/")
    );
    let p = app.page(&format!("/alerts/{alert}"), Some(&ann)).await;
    assert!(p.body.contains("cleared"));
    let escape = app
        .post_form(
            "/alerts/clear",
            Some(&ann),
            &[("csrf", &ann.csrf), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(escape.location, "/alerts", "back stays on this site");
    let t = app
        .post_form(
            "/settings/tokens",
            Some(&ann),
            &[("csrf", &ann.csrf), ("label", "nightly"), ("ingest", "on")],
        )
        .await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.body.contains("shown only this once"));
    let secret = t
        .body
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the token is shown")
        .to_owned();
    let (status, _) = app.get_json("/api/v1/tokens", &secret).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an ingest-only token");
    let d = app
        .post_form(&disable, Some(&ann), &[("csrf", &ann.csrf)])
        .await;
    assert_eq!(d.location, "/handlers");
    let list = app.page("/handlers", Some(&ann)).await;
    assert!(list.body.contains("Enable"));
}

#[tokio::test]
async fn admin_pages_are_for_admins() {
    let app = TestApp::spawn().await;
    app.create_user("ann").await;
    let ann = app.login("ann", "ann-password").await;
    assert_eq!(
        app.page("/admin/users", Some(&ann)).await.status,
        StatusCode::FORBIDDEN
    );
    let sneak = app
        .post_form(
            "/admin/users",
            Some(&ann),
            &[
                ("csrf", &ann.csrf),
                ("name", "eve"),
                ("email", "eve@x.example"),
                ("password", "eve-password"),
                ("timezone", "UTC"),
                ("admin", "on"),
            ],
        )
        .await;
    assert_eq!(sneak.status, StatusCode::FORBIDDEN);
    assert!(
        !app.page("/", Some(&ann))
            .await
            .body
            .contains("/admin/users")
    );

    let admin = app.login("admin", ADMIN_PASSWORD).await;
    let list = app.page("/admin/users", Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("ann@corp.example"));
    let bad = app
        .post_form(
            "/admin/users",
            Some(&admin),
            &[
                ("csrf", &admin.csrf),
                ("name", "Carl!"),
                ("email", "carl"),
                ("password", "short"),
                ("timezone", "Mars/Base"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    for t in [
        "not an email address",
        "8 to 1024",
        "Mars/Base",
        "lowercase",
    ] {
        assert!(bad.body.contains(t), "{t}: {}", bad.body);
    }
    let ok = app
        .post_form(
            "/admin/users",
            Some(&admin),
            &[
                ("csrf", &admin.csrf),
                ("name", "carl"),
                ("email", "carl@corp.example"),
                ("password", "carl-password"),
                ("timezone", "Asia/Tokyo"),
            ],
        )
        .await;
    assert!(ok.body.contains("User carl created"), "{}", ok.body);
    let carl = app.login("carl", "carl-password").await;
    let settings = app.page("/settings", Some(&carl)).await;
    assert!(settings.body.contains("Asia/Tokyo"));
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_static_files_are_served() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    for path in ["/login", "/", "/static/tellify.css"] {
        let p = app.page(path, Some(&admin)).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        let csp = p.headers["content-security-policy"].to_str().unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(p.headers["x-content-type-options"], "nosniff");
        assert_eq!(p.headers["referrer-policy"], "same-origin");
    }
    let page = app.page("/", Some(&admin)).await;
    assert!(
        !page.body.contains("<script>"),
        "no inline script: {}",
        page.body
    );
    let js = app.page("/static/live.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("EventSource"));
}

/// Read the stream until an event named `name` arrives; its data.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| {
                l.strip_prefix("event: ")
                    .or_else(|| l.strip_prefix("event:"))
            });
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")));
            assert!(
                block.lines().any(|l| l.starts_with("id:")) || event.is_none(),
                "every event has an id: {block}"
            );
            if event == Some(name) {
                return serde_json::from_str(data.unwrap_or("null")).expect("JSON data");
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {name} event in time"))
            .expect("stream")
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn live_streams_a_snapshot_then_each_change_of_the_users_alerts() {
    let Fixture {
        app, ann, alert, ..
    } = fixture().await;
    let anonymous = app.page("/live", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let mut resp = app
        .client
        .get(app.url("/live"))
        .header("cookie", &ann.cookie)
        .header("last-event-id", "1-1")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    let mut buf = String::new();
    let snapshot = next_event(&mut resp, &mut buf, "snapshot").await;
    assert_eq!(snapshot["alerts"][0]["id"], alert.as_str());

    let token = app
        .token_by_password("ann", "ann-password", &["ingest"])
        .await;
    app.post(
        &token,
        json!({"status": "failed", "block": "io_t", "note": "x"}),
    )
    .await;
    let changed = next_event(&mut resp, &mut buf, "alert").await;
    assert_eq!(changed["alert"]["key"], "io_t");

    let clear = app
        .post_form(
            &format!("/alerts/{alert}/clear"),
            Some(&ann),
            &[("csrf", &ann.csrf)],
        )
        .await;
    assert_eq!(clear.status, StatusCode::SEE_OTHER);
    let cleared = next_event(&mut resp, &mut buf, "cleared").await;
    assert_eq!(cleared["ids"], json!([alert]));
}

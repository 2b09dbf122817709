//! The authorization matrix: every route of the JSON API (and ingest)
//! against an anonymous caller, the owner of the objects, another user and
//! an administrator, each with the status they must get. Another user's
//! object is 404, never 403 and never the object; an administrator is no
//! exception (the API shows everyone their own objects). The dashboard's
//! admin pages have a table of their own (sessions and forms with the CSRF
//! token, not bearer tokens). A last test keeps both tables complete: every
//! route the routers declare must be in them.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, read};

/// Who calls.
#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Owner,
    Other,
    Admin,
}

/// One route: method, path (with `{handler}`, `{alert}`… for the owner's
/// objects), body (with `{channel}` for the caller's own channel), and the
/// status for anonymous, owner, other user, admin.
struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: [u16; 4],
}

const HANDLER: &str = r#"{"type": "threshold", "name": "Disk", "params": {
    "filter": [{"field": "source", "op": "eq", "value": "disk"}],
    "value_field": "pct", "key_fields": ["host"],
    "levels": [{"severity": "warning", "op": "ge", "value": 90}]}}"#;
const TRY: &str = r#"{"type": "threshold", "limit": 10, "params": {
    "filter": [{"field": "source", "op": "eq", "value": "disk"}],
    "value_field": "pct", "key_fields": ["host"],
    "levels": [{"severity": "warning", "op": "ge", "value": 90}]}}"#;
const CHANNEL: &str = r#"{"kind": "email", "label": "more", "address": "x@corp.example"}"#;
const POLICY: &str = r#"{"name": "p", "default": false, "rules": [
    {"when": "always", "min_severity": "info", "channels": ["{channel}"], "aggregate_for": "1m"}]}"#;

/// Every route, in the order they are tried (deletions last, the policy
/// before the channel it uses). Owner, other user and admin are all
/// ordinary users for the owner-scoped routes, admins only for `admin/users`.
const ROWS: &[Row] = &[
    row(
        "POST",
        "/events",
        Some(r#"{"source": "disk", "host": "m", "pct": 1}"#),
        [401, 202, 202, 202],
    ),
    row("GET", "/api/v1/events/recent", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/handler-types", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/handlers", None, [401, 200, 200, 200]),
    row(
        "POST",
        "/api/v1/handlers",
        Some(HANDLER),
        [401, 201, 201, 201],
    ),
    row(
        "POST",
        "/api/v1/handlers/try",
        Some(TRY),
        [401, 200, 200, 200],
    ),
    row(
        "GET",
        "/api/v1/handlers/{handler}",
        None,
        [401, 200, 404, 404],
    ),
    row(
        "PUT",
        "/api/v1/handlers/{handler}",
        Some(HANDLER),
        [401, 200, 404, 404],
    ),
    row("GET", "/api/v1/alerts", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/alerts/{alert}", None, [401, 200, 404, 404]),
    row(
        "POST",
        "/api/v1/alerts/{alert}/clear",
        None,
        [401, 200, 404, 404],
    ),
    row("POST", "/api/v1/alerts/clear", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/channels", None, [401, 200, 200, 200]),
    row(
        "POST",
        "/api/v1/channels",
        Some(CHANNEL),
        [401, 201, 201, 201],
    ),
    row(
        "GET",
        "/api/v1/channels/{channel}",
        None,
        [401, 200, 404, 404],
    ),
    row(
        "PUT",
        "/api/v1/channels/{channel}",
        Some(CHANNEL),
        [401, 200, 404, 404],
    ),
    row("GET", "/api/v1/policies", None, [401, 200, 200, 200]),
    row(
        "POST",
        "/api/v1/policies",
        Some(POLICY),
        [401, 201, 201, 201],
    ),
    row(
        "GET",
        "/api/v1/policies/{policy}",
        None,
        [401, 200, 404, 404],
    ),
    row(
        "PUT",
        "/api/v1/policies/{policy}",
        Some(POLICY),
        [401, 200, 404, 404],
    ),
    row("POST", "/api/v1/digest/flush", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/notifications", None, [401, 200, 200, 200]),
    row("GET", "/api/v1/tokens", None, [401, 200, 200, 200]),
    row(
        "POST",
        "/api/v1/tokens",
        Some(r#"{"label": "m", "scopes": ["api"]}"#),
        [401, 201, 201, 201],
    ),
    row("GET", "/api/v1/me", None, [401, 200, 200, 200]),
    row(
        "PUT",
        "/api/v1/me",
        Some(r#"{"timezone": "Europe/Paris"}"#),
        [401, 200, 200, 200],
    ),
    row("GET", "/api/v1/admin/users", None, [401, 403, 403, 200]),
    row(
        "POST",
        "/api/v1/admin/users",
        Some(r#"{"name": "made", "password": "made-password", "email": "made@corp.example"}"#),
        [401, 403, 403, 201],
    ),
    row(
        "DELETE",
        "/api/v1/admin/users/temp",
        None,
        [401, 403, 403, 200],
    ),
    row(
        "DELETE",
        "/api/v1/tokens/{token}",
        None,
        [401, 204, 404, 404],
    ),
    row(
        "DELETE",
        "/api/v1/policies/{policy}",
        None,
        [401, 204, 404, 404],
    ),
    row(
        "DELETE",
        "/api/v1/channels/{channel}",
        None,
        [401, 204, 404, 404],
    ),
    row(
        "DELETE",
        "/api/v1/handlers/{handler}",
        None,
        [401, 204, 404, 404],
    ),
];

const fn row(
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    expect: [u16; 4],
) -> Row {
    Row {
        method,
        path,
        body,
        expect,
    }
}

/// A caller's token and own channel.
struct Caller {
    token: Option<String>,
    channel: String,
}

async fn own_channel(app: &TestApp, token: &str) -> String {
    let (status, c) = app
        .post_json(
            "/api/v1/channels",
            token,
            &json!({"kind": "email", "label": "own", "address": "own@corp.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    c["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn every_route_answers_anonymous_owner_other_user_and_admin_as_it_must() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;
    app.create_user("temp").await;

    // The owner's objects: an instance with an alert, a channel, a policy,
    // a token.
    let handler = app
        .create_handler(&ann, serde_json::from_str(HANDLER).expect("json"))
        .await;
    app.post(&ann, json!({"source": "disk", "host": "h1", "pct": 95}))
        .await;
    let alerts = app
        .wait_alerts(&ann, "", "ann's alert", |a| a.len() == 1)
        .await;
    let alert = alerts[0]["id"].as_str().expect("id").to_owned();
    let channel = own_channel(&app, &ann).await;
    let (_, policy) = app
        .post_json(
            "/api/v1/policies",
            &ann,
            &serde_json::from_str(&POLICY.replace("{channel}", &channel)).expect("json"),
        )
        .await;
    let policy = policy["id"].as_str().expect("id").to_owned();
    let token = {
        let (_, t) = app
            .post_json(
                "/api/v1/tokens",
                &ann,
                &json!({"label": "to revoke", "scopes": ["api"]}),
            )
            .await;
        t["id"].as_str().expect("id").to_owned()
    };

    let callers = [
        (
            Who::Anonymous,
            Caller {
                token: None,
                channel: channel.clone(),
            },
        ),
        (
            Who::Other,
            Caller {
                channel: own_channel(&app, &bob).await,
                token: Some(bob.clone()),
            },
        ),
        (
            Who::Admin,
            Caller {
                channel: own_channel(&app, &app.admin_token).await,
                token: Some(app.admin_token.clone()),
            },
        ),
        // The owner last: their calls may delete the objects. The policy
        // they create uses another channel, so the channel can be deleted.
        (
            Who::Owner,
            Caller {
                channel: own_channel(&app, &ann).await,
                token: Some(ann.clone()),
            },
        ),
    ];
    let mut wrong = Vec::new();
    for r in ROWS {
        let path = r
            .path
            .replace("{handler}", &handler)
            .replace("{alert}", &alert)
            .replace("{channel}", &channel)
            .replace("{policy}", &policy)
            .replace("{token}", &token);
        for (who, caller) in &callers {
            let want = r.expect[match who {
                Who::Anonymous => 0,
                Who::Owner => 1,
                Who::Other => 2,
                Who::Admin => 3,
            }];
            let method = Method::from_bytes(r.method.as_bytes()).expect("method");
            let mut req = app.req(method, &path, caller.token.as_deref());
            if let Some(body) = r.body {
                req = req
                    .header("content-type", "application/json")
                    .body(body.replace("{channel}", &caller.channel));
            }
            let (status, body) = read(req.send().await.expect("request")).await;
            if status.as_u16() != want {
                wrong.push(format!(
                    "{} {} as {who:?}: {status}, expected {want}: {body}",
                    r.method, r.path
                ));
            }
            if status == StatusCode::NOT_FOUND {
                assert_eq!(
                    body,
                    json!({"error": "not found"}),
                    "nothing of the object shows"
                );
            }
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

/// The routes the routers in `server/src/{folder}/*.rs` declare, as
/// `(METHOD, path)`, for the paths that `wanted` picks.
fn declared_routes(folder: &str, wanted: impl Fn(&str) -> bool) -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(folder);
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("the routes folder") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("a file");
        for piece in text.split(".route(").skip(1) {
            let Some(start) = piece.find('"') else {
                continue;
            };
            let rest = &piece[start + 1..];
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            if !wanted(path) {
                continue;
            }
            // The method routers of this route: up to the next route or the
            // end of the router.
            let tail = &rest[end..];
            let tail = &tail[..tail.find("\n}").unwrap_or(tail.len())];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = tail.match_indices(&format!("{m}(")).any(|(i, _)| {
                    !tail[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if called {
                    found.insert((m.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}

/// The dashboard's admin pages: method, path (`{user}` for a user who can
/// be purged), form fields (the caller's CSRF token is added), and the status
/// for anonymous, an ordinary user, an admin. Anonymous callers are sent to
/// the login page (303), ordinary users refused (403).
const ADMIN_PAGE_ROWS: &[PageRow] = &[
    PageRow {
        method: "GET",
        path: "/admin/users",
        fields: &[],
        expect: [303, 403, 200],
    },
    PageRow {
        method: "POST",
        path: "/admin/users",
        fields: &[
            ("name", "made"),
            ("email", "made@corp.example"),
            ("password", "made-password"),
            ("timezone", "UTC"),
        ],
        expect: [303, 403, 200],
    },
    PageRow {
        method: "GET",
        path: "/admin/users/{user}/purge",
        fields: &[],
        expect: [303, 403, 200],
    },
    PageRow {
        method: "POST",
        path: "/admin/users/{user}/purge",
        fields: &[],
        expect: [303, 403, 200],
    },
];

struct PageRow {
    method: &'static str,
    path: &'static str,
    fields: &'static [(&'static str, &'static str)],
    expect: [u16; 3],
}

#[tokio::test]
async fn every_admin_page_answers_anonymous_a_user_and_an_admin_as_it_must() {
    let app = TestApp::spawn().await;
    app.create_user("ann").await;
    app.create_user("temp").await;
    let callers = [
        None,
        Some(app.login("ann", "ann-password").await),
        Some(app.login("admin", ADMIN_PASSWORD).await),
    ];
    let mut wrong = Vec::new();
    for r in ADMIN_PAGE_ROWS {
        let path = r.path.replace("{user}", "temp");
        for (i, session) in callers.iter().enumerate() {
            let answer = match r.method {
                "GET" => app.page(&path, session.as_ref()).await,
                _ => {
                    let mut fields: Vec<(&str, &str)> = r.fields.to_vec();
                    if let Some(s) = session {
                        fields.push(("csrf", &s.csrf));
                    }
                    app.post_form(&path, session.as_ref(), &fields).await
                }
            };
            let who = ["anonymous", "user", "admin"][i];
            if answer.status.as_u16() != r.expect[i] {
                wrong.push(format!(
                    "{} {} as {who}: {}, expected {}",
                    r.method, r.path, answer.status, r.expect[i]
                ));
            }
            if answer.status == StatusCode::SEE_OTHER {
                assert_eq!(answer.location, "/login", "{} {path}", r.method);
            }
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}

#[test]
fn the_matrix_covers_every_declared_route() {
    let declared = declared_routes("routes", |p| p.starts_with("/api/") || p == "/events");
    assert!(declared.len() > 20, "the routes were read: {declared:?}");
    let admin_pages = declared_routes("pages", |p| p.starts_with("/admin"));
    assert!(
        admin_pages.len() >= 4,
        "the admin pages were read: {admin_pages:?}"
    );
    let generic = |p: &str| {
        let mut out = String::new();
        for (i, seg) in p.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if seg.starts_with('{') || seg == "temp" {
                out.push_str("{}");
            } else {
                out.push_str(seg);
            }
        }
        out
    };
    let in_table: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|r| (r.method.to_owned(), generic(r.path)))
        .collect();
    let declared: BTreeSet<(String, String)> = declared
        .into_iter()
        .map(|(m, p)| (m, generic(&p)))
        .collect();
    let missing: Vec<_> = declared.difference(&in_table).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the matrix: {missing:?}"
    );
    let extra: Vec<_> = in_table.difference(&declared).collect();
    assert!(
        extra.is_empty(),
        "rows of routes that do not exist: {extra:?}"
    );

    let in_table: BTreeSet<(String, String)> = ADMIN_PAGE_ROWS
        .iter()
        .map(|r| (r.method.to_owned(), generic(r.path)))
        .collect();
    let declared: BTreeSet<(String, String)> = admin_pages
        .into_iter()
        .map(|(m, p)| (m, generic(&p)))
        .collect();
    assert_eq!(
        declared, in_table,
        "the admin pages declared (left) and those in ADMIN_PAGE_ROWS (right)"
    );
}

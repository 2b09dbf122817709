//! Tokens, scopes, password login and sessions, users.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, TestApp, read};

const EVENT: &str = "project:vr0 block:gc_t status:failed";

#[tokio::test]
async fn ingest_needs_a_live_token_with_the_ingest_scope() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let api_only = app.token_by_password("ann", "ann-password", &["api"]).await;

    let (status, body) = app.post_events(None, "text/plain", EVENT).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["error"],
        "authentication required: a bearer token, HTTP Basic credentials or a session"
    );

    let (status, body) = app
        .post_events(Some("tfy_not_a_token"), "text/plain", EVENT)
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown or revoked token"))
    );

    let (status, body) = app.post_events(Some(&api_only), "text/plain", EVENT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("this token lacks the 'ingest' scope")
        )
    );

    let (status, _) = app.post_events(Some(&ann), "text/plain", EVENT).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // Revoke ann's ingest token with her api token: it stops working at once.
    let (_, tokens) = app.get_json("/api/v1/tokens", &api_only).await;
    let tokens = tokens.as_array().expect("a list").clone();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens.iter().all(|t| t.get("token").is_none()),
        "secrets are shown once only"
    );
    let ingest_id = tokens
        .iter()
        .find(|t| t["scopes"] == json!(["ingest", "api"]))
        .and_then(|t| t["id"].as_str())
        .expect("the ingest token");
    let (status, _) = app
        .delete(&format!("/api/v1/tokens/{ingest_id}"), &api_only)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.post_events(Some(&ann), "text/plain", EVENT).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unknown or revoked token"))
    );
    assert_eq!(
        app.stream_len().await,
        1,
        "only the one accepted event was stored"
    );
}

#[tokio::test]
async fn tokens_are_private_to_their_owner() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;
    let (_, ann_tokens) = app.get_json("/api/v1/tokens", &ann).await;
    let ann_id = ann_tokens[0]["id"].as_str().expect("id").to_owned();

    let (_, bob_tokens) = app.get_json("/api/v1/tokens", &bob).await;
    assert_eq!(
        bob_tokens.as_array().map(Vec::len),
        Some(1),
        "bob sees only his own: {bob_tokens}"
    );
    assert_ne!(bob_tokens[0]["id"].as_str(), Some(ann_id.as_str()));

    let (status, body) = app.delete(&format!("/api/v1/tokens/{ann_id}"), &bob).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not found"))
    );
    let (status, _) = app.post_events(Some(&ann), "text/plain", EVENT).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "ann's token survived bob's attempt"
    );
    let (status, _) = app
        .delete("/api/v1/tokens/000000000000000000000000", &ann)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn token_creation_is_checked() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let cases = [
        (
            json!({"label": "", "scopes": ["api"]}),
            422,
            "a label of 1 to 100 characters is needed",
        ),
        (
            json!({"label": "x", "scopes": []}),
            422,
            "at least one scope: ingest, api or admin",
        ),
        (
            json!({"label": "x", "scopes": ["admin"]}),
            422,
            "you cannot grant the 'admin' scope, which you do not have",
        ),
        (json!({"label": "x", "scopes": ["root"]}), 422, ""),
        (json!({"label": "x"}), 422, ""),
    ];
    for (body, status, error) in cases {
        let (got, answer) = app.post_json("/api/v1/tokens", &ann, &body).await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        if !error.is_empty() {
            assert_eq!(answer["error"], error, "{body}");
            assert_eq!(answer["problems"][0]["message"], error);
        } else {
            assert!(
                answer["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{answer}"
            );
        }
    }
    // A token cannot grant more than it has.
    let ingest_only = app
        .token_by_password("ann", "ann-password", &["ingest"])
        .await;
    let (status, _) = app
        .post_json(
            "/api/v1/tokens",
            &ingest_only,
            &json!({"label": "x", "scopes": ["ingest"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "creating tokens needs the api scope"
    );
    // The wrong password gets nothing.
    let r = app
        .client
        .post(app.url("/api/v1/tokens"))
        .basic_auth("ann", Some("wrong"))
        .json(&json!({"label": "x", "scopes": ["api"]}))
        .send()
        .await
        .expect("send");
    let (status, body) = read(r).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("wrong user name or password")
        )
    );
}

#[tokio::test]
async fn login_logout_and_sessions() {
    let app = TestApp::spawn().await;
    app.create_user("ann").await;

    let r = app
        .client
        .post(app.url("/login"))
        .json(&json!({"name": "ann", "password": "nope"}))
        .send()
        .await
        .expect("send");
    let (status, body) = read(r).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("wrong user name or password")
        )
    );
    let r = app
        .client
        .post(app.url("/login"))
        .json(&json!({"name": "nobody", "password": "nope"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = app
        .client
        .post(app.url("/login"))
        .json(&json!({"name": "ann", "password": "ann-password"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().expect("text").to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let (_, body) = read(r).await;
    let csrf = body["csrf"].as_str().expect("csrf").to_owned();
    assert_eq!(body["user"], "ann");

    let me = |c: &str| {
        app.client
            .get(app.url("/api/v1/me"))
            .header("cookie", c.to_owned())
            .send()
    };
    let (status, body) = read(me(&session).await.expect("send")).await;
    assert_eq!(
        (status, body["name"].as_str(), body["timezone"].as_str()),
        (StatusCode::OK, Some("ann"), Some("Europe/Paris"))
    );

    // A state-changing request with the cookie needs the CSRF token.
    let put = |c: Option<&str>| {
        let mut r = app
            .client
            .put(app.url("/api/v1/me"))
            .header("cookie", session.clone())
            .json(&json!({"timezone": "Asia/Tokyo"}));
        if let Some(c) = c {
            r = r.header("x-csrf-token", c.to_owned());
        }
        r.send()
    };
    let (status, body) = read(put(None).await.expect("send")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = read(put(Some("forged")).await.expect("send")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = read(put(Some(&csrf)).await.expect("send")).await;
    assert_eq!(
        (status, body["timezone"].as_str()),
        (StatusCode::OK, Some("Asia/Tokyo"))
    );

    let r = app
        .client
        .post(app.url("/logout"))
        .header("cookie", session.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("text")
            .contains("Max-Age=0")
    );
    let (status, body) = read(me(&session).await.expect("send")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::UNAUTHORIZED,
            Some("the session has expired; log in again")
        )
    );
}

#[tokio::test]
async fn admins_manage_users_and_others_cannot() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let admin = app.admin_token.clone();

    let (status, body) = app
        .post_json(
            "/api/v1/admin/users",
            &ann,
            &json!({"name": "eve", "password": "12345678", "email": "e@x.io"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("only administrators may do this")
        )
    );
    let (status, _) = app.get_json("/api/v1/admin/users", &ann).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = app
        .post_json(
            "/api/v1/admin/users",
            &admin,
            &json!({"name": "ann", "password": "12345678", "email": "a@x.io"}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::CONFLICT,
            Some("a user named 'ann' exists already")
        )
    );

    let (status, body) = app
        .post_json("/api/v1/admin/users", &admin, &json!({"name": "Bad Name", "password": "short", "email": "nope", "timezone": "Mars/Olympus"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = body["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["pointer"].as_str())
        .collect();
    assert_eq!(pointers, vec!["/name", "/password", "/email", "/timezone"]);
    assert_eq!(body["error"], "4 problems in the request");

    let (status, users) = app.get_json("/api/v1/admin/users", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = users
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, vec!["admin", "ann"]);
    assert!(
        users[0].get("password_hash").is_none(),
        "hashes never leave the server"
    );

    // The admin can also log in with the password from the environment.
    let r = app
        .client
        .request(Method::GET, app.url("/api/v1/me"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .expect("send");
    let (status, body) = read(r).await;
    assert_eq!(
        (status, body["admin"].as_bool()),
        (StatusCode::OK, Some(true))
    );
}

/// The first start creates the admin once; a restart on the same database
/// creates nothing and the admin's token still works.
#[tokio::test]
async fn first_start_creates_the_admin_once() {
    let config = crate::helpers::test_config(&crate::helpers::unique("t"));
    let mut generated = config.clone();
    generated.admin_password = None;
    generated.admin_token = None;
    let app = TestApp::spawn_with(config.clone()).await;
    let (status, _) = app.get_json("/api/v1/me", &app.admin_token).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;

    let again = tellify_server::Application::build(generated)
        .await
        .expect("builds");
    assert!(again.first_start.is_none(), "no second admin");
    drop(again);

    // Empty values (as docker-compose passes unset variables) mean "not given".
    let mut fresh = crate::helpers::test_config(&crate::helpers::unique("t"));
    fresh.admin_password = Some(String::new());
    fresh.admin_token = None;
    let first = tellify_server::Application::build(fresh)
        .await
        .expect("builds");
    let creds = first.first_start.clone().expect("first start");
    let token = creds.token.expect("a generated token");
    let password = creds.password.expect("a generated password");
    assert!(token.starts_with("tfy_") && password.len() >= 20);
}

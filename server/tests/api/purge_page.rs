//! The purge from the dashboard (`/admin/users`): a confirmation that counts
//! what will go, a CSRF-checked form that runs the same purge as the API,
//! administrators only, never oneself; afterwards the user is gone from
//! every collection and key, and the audit record is there.

use std::time::Duration;

use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use crate::purge::{disk, equip, scan_until_clean};

const CONFIRM: &str = "/admin/users/leaver/purge";

/// What the confirmation names for the leaver below, once the aggregator has
/// queued the alert's digests (one per channel, each with its due time).
const WHAT: &str = "This deletes the user leaver and their 1 handler instance, \
     1 handler state in Redis, 1 alert, 2 channels, 1 policy, 2 digests not yet sent, \
     2 scheduled digest times, 1 API token and 1 session.";

/// The confirmation page, polled until it names everything in [`WHAT`]
/// (the digests are queued moments after the alert is written).
async fn confirmation(app: &TestApp, admin: &crate::helpers::BrowserSession) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let p = app.page(CONFIRM, Some(admin)).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        if p.body.contains(WHAT) || std::time::Instant::now() > deadline {
            return p.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn audit(app: &TestApp) -> Vec<Document> {
    app.app_state
        .store
        .db()
        .collection::<Document>("audit")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("audit")
}

#[tokio::test]
async fn an_admin_purges_a_user_from_the_users_page_after_a_confirmation_that_counts() {
    let app = TestApp::spawn().await;
    let leaver = app.create_user("leaver").await;
    let handler = equip(&app, &leaver, "leaver", "1m").await;
    app.post(&leaver, disk("a1", 95.0)).await;
    app.wait_alerts(&leaver, "", "the leaver's alert", |a| a.len() == 1)
        .await;
    let leaver_session = app.login("leaver", "leaver-password").await;
    app.create_user("ann").await;
    let ann = app.login("ann", "ann-password").await;
    let admin = app.login("admin", ADMIN_PASSWORD).await;

    // The list offers the purge for everyone but oneself.
    let list = app.page("/admin/users", Some(&admin)).await;
    assert!(
        list.body.contains(&format!(r#"href="{CONFIRM}""#)),
        "{}",
        list.body
    );
    assert!(list.body.contains(r#"href="/admin/users/ann/purge""#));
    assert!(!list.body.contains("/admin/users/admin/purge"));

    // The confirmation counts what will go, and its form carries the CSRF
    // token and posts to itself.
    let page = confirmation(&app, &admin).await;
    assert!(page.contains(WHAT), "{page}");
    assert!(page.contains(&format!(r#"action="{CONFIRM}""#)), "{page}");
    assert!(page.contains(&format!(r#"name="csrf" value="{}""#, admin.csrf)));
    assert!(!page.contains("<script>"), "no inline script");

    // Not for ordinary users, whatever they send; a form without the
    // session's token does nothing either.
    assert_eq!(
        app.page(CONFIRM, Some(&ann)).await.status,
        StatusCode::FORBIDDEN
    );
    let sneak = app
        .post_form(CONFIRM, Some(&ann), &[("csrf", &ann.csrf)])
        .await;
    assert_eq!(sneak.status, StatusCode::FORBIDDEN);
    for fields in [vec![], vec![("csrf", "forged")], vec![("csrf", &ann.csrf)]] {
        let p = app.post_form(CONFIRM, Some(&admin), &fields).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{fields:?}");
        assert!(p.body.contains("CSRF"), "{}", p.body);
    }
    assert!(audit(&app).await.is_empty(), "nothing was purged");
    assert_eq!(
        app.page("/", Some(&leaver_session)).await.status,
        StatusCode::OK,
        "the leaver is still there"
    );

    // The purge, and what it removed.
    let done = app
        .post_form(CONFIRM, Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body.contains(
            "User leaver deleted, with their 1 handler instance, 1 handler state in Redis, \
             1 alert, 2 channels, 1 policy, 2 digests not yet sent, 2 scheduled digest times, \
             1 API token and 1 session."
        ),
        "{}",
        done.body
    );
    assert!(!done.body.contains("leaver@corp.example"), "off the list");
    assert!(done.body.contains("ann@corp.example"));

    // Gone: everywhere, for good, and the leaver's ways in are closed.
    scan_until_clean(&app, &["leaver".to_owned(), handler]).await;
    assert_eq!(
        app.page(CONFIRM, Some(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
    let again = app
        .post_form(CONFIRM, Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.page("/", Some(&leaver_session)).await.location,
        "/login"
    );
    let (status, _) = app.get_json("/api/v1/handlers", &leaver).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let records = audit(&app).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r.get_str("action"), Ok("purge_user"));
    assert_eq!(r.get_str("by"), Ok("admin"));
    assert_eq!(r.get_str("user"), Ok("leaver"));
    assert_eq!(r.get_str("status"), Ok("done"));
    let removed: Value =
        serde_json::to_value(r.get_document("removed").expect("removed")).expect("json");
    assert_eq!(
        (
            &removed["handlers"],
            &removed["alerts"],
            &removed["channels"],
            &removed["users"]
        ),
        (&1.into(), &1.into(), &2.into(), &1.into())
    );

    // ann, never purged, is still signed in.
    assert_eq!(app.page("/", Some(&ann)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_admin_cannot_purge_themselves_or_someone_who_does_not_exist() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin", ADMIN_PASSWORD).await;
    let mine = "/admin/users/admin/purge";
    let confirm = app.page(mine, Some(&admin)).await;
    assert_eq!(confirm.status, StatusCode::CONFLICT);
    assert!(
        confirm
            .body
            .contains("you cannot delete yourself; ask another administrator"),
        "{}",
        confirm.body
    );
    let post = app
        .post_form(mine, Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(post.status, StatusCode::CONFLICT);
    assert!(post.body.contains("you cannot delete yourself"));
    assert_eq!(
        app.page("/admin/users", Some(&admin)).await.status,
        StatusCode::OK,
        "the admin is still signed in"
    );
    let nobody = "/admin/users/nobody/purge";
    assert_eq!(
        app.page(nobody, Some(&admin)).await.status,
        StatusCode::NOT_FOUND
    );
    let post = app
        .post_form(nobody, Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert!(audit(&app).await.is_empty());
}

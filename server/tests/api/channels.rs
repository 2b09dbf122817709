//! Editing a channel in place (`PUT /api/v1/channels/{id}`, what the
//! `/policies` page's inline editor sends): the same checks as adding one,
//! and another user's channel answers 404 and stays as it was.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn pointers(answer: &Value) -> Vec<&str> {
    answer["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["pointer"].as_str())
        .collect()
}

#[tokio::test]
async fn a_channel_is_edited_with_the_checks_of_adding_one_and_only_by_its_owner() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;
    let (status, c) = app
        .post_json(
            "/api/v1/channels",
            &ann,
            &json!({"kind": "email", "label": "work", "address": "ann@corp.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/channels/{id}");

    // Another label and address, then another kind.
    let (status, edited) = app
        .put_json(
            &path,
            &ann,
            &json!({"kind": "email", "label": "office", "address": "ann@office.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        edited,
        json!({"id": id, "kind": "email", "label": "office", "address": "ann@office.example"})
    );
    let (status, edited) = app
        .put_json(
            &path,
            &ann,
            &json!({"kind": "sms", "label": "phone", "number": "+33 6 12 34 56 78"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (_, stored) = app.get_json(&path, &ann).await;
    assert_eq!(
        stored,
        json!({"id": id, "kind": "sms", "label": "phone", "number": "+33612345678"})
    );

    // Bad edits: 422 at the field, the channel unchanged.
    for (body, pointer) in [
        (
            json!({"kind": "email", "label": "work", "address": "not an address"}),
            "/address",
        ),
        (
            json!({"kind": "sms", "label": "", "number": "+336"}),
            "/label",
        ),
        (json!({"kind": "pager", "label": "p"}), "/kind"),
        (
            json!({"kind": "webhook", "label": "chat", "url": "ftp://x"}),
            "/url",
        ),
    ] {
        let (status, answer) = app.put_json(&path, &ann, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(pointers(&answer).contains(&pointer), "{body}: {answer}");
    }
    let (_, after) = app.get_json(&path, &ann).await;
    assert_eq!(after, stored, "bad edits change nothing");

    // Bob cannot see or change it.
    let (status, answer) = app
        .put_json(
            &path,
            &bob,
            &json!({"kind": "email", "label": "mine", "address": "bob@corp.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer, json!({"error": "not found"}));
    let (_, after) = app.get_json(&path, &ann).await;
    assert_eq!(after, stored, "bob changed nothing");
    let (_, bobs) = app.get_json("/api/v1/channels", &bob).await;
    assert_eq!(bobs, json!([]), "nor made a channel of it");
}

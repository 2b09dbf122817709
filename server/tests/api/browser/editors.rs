//! The editors of the dashboard in the browser: a channel added and then
//! edited in place on `/policies`, a policy with a weekly schedule, "try it
//! on recent events" on the handler form, and `/events` updating live. What
//! was saved is read back through the JSON API and compared with what was
//! typed.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::elements::Element;
use serde_json::{Value, json};

use super::{Browser, field_xpath, fieldset_xpath, with_browser};
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_edits_a_channel_builds_a_weekly_policy_and_tries_a_handler_in_the_browser() {
    let app = TestApp::spawn().await;
    let token = app.create_user_in("cy", "America/New_York").await;
    let base = app.base.clone();
    with_browser(&base, |b| async move {
        sign_in(&b).await;
        let channel = add_and_edit_channel(&b, &app, &token).await;
        weekly_policy(&b, &app, &token, &channel).await;
        try_on_recent_events(&b, &app, &token).await;
        live_events(&b, &app, &token).await;
    })
    .await;
}

async fn sign_in(b: &Browser) {
    b.goto("/login").await;
    b.fill(&b.element("input[name=name]").await, "cy").await;
    b.fill(&b.element("input[name=password]").await, "cy-password")
        .await;
    b.click(&b.element("form[action='/login'] button[type=submit]").await)
        .await;
    b.wait_page("/", "Firing alerts").await;
}

/// Set a control's value by script and tell the page it changed. Used for
/// `<input type=time>`, whose keyboard entry depends on whether the
/// browser's locale writes 12 or 24 hours.
async fn set_value(b: &Browser, input: &Element, value: &str) {
    b.client
        .execute(
            "arguments[0].value = arguments[1];
             arguments[0].dispatchEvent(new Event('input', {bubbles: true}));
             arguments[0].dispatchEvent(new Event('change', {bubbles: true}));
             return arguments[0].value;",
            vec![
                serde_json::to_value(input).expect("an element as an argument"),
                json!(value),
            ],
        )
        .await
        .expect("set a value");
}

/// Choose the option `value` of the select `select_xpath`.
async fn choose(b: &Browser, what: &str, select_xpath: &str, value: &str) {
    let option = b
        .xpath(what, &format!("{select_xpath}/option[@value='{value}']"))
        .await;
    b.click(&option).await;
}

/// The caller's channels, as the API shows them.
async fn channels(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, list) = app.get_json("/api/v1/channels", token).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{list}");
    list.as_array().expect("a list").clone()
}

/// Add an email channel, then edit it in its row: a bad address is refused
/// by its field, a good one saved. Returns the channel's id.
async fn add_and_edit_channel(b: &Browser, app: &TestApp, token: &str) -> String {
    b.goto("/policies").await;
    b.wait_page("/policies", "Add a channel").await;
    let add = "//div[@id='channel-editor']/form";
    choose(b, "the kind", &format!("{add}//select"), "email").await;
    b.fill(
        &b.xpath(
            "the new label",
            &format!("{add}//input[@data-pointer='/label']"),
        )
        .await,
        "work",
    )
    .await;
    b.fill(
        &b.xpath(
            "the new address",
            &format!("{add}//input[@data-pointer='/address']"),
        )
        .await,
        "cy@corp.example",
    )
    .await;
    b.click(
        &b.xpath("Add channel", &format!("{add}//button[@type='submit']"))
            .await,
    )
    .await;
    let row = "//table[@id='channels']//tr[@data-id]";
    b.xpath(
        "the new channel's row",
        &format!("{row}[contains(., 'cy@corp.example')]"),
    )
    .await;
    let added = channels(app, token).await;
    assert_eq!(added.len(), 1, "{added:?}");
    let id = added[0]["id"].as_str().expect("id").to_owned();

    // Edit it in place.
    b.click(
        &b.xpath(
            "the row's Edit button",
            &format!("{row}//button[normalize-space(.)='Edit']"),
        )
        .await,
    )
    .await;
    let form = format!("//tr[@data-id='{id}']//form[contains(@class,'channel-edit')]");
    let label = b
        .xpath(
            "the label in the row",
            &format!("{form}//input[@data-pointer='/label']"),
        )
        .await;
    assert_eq!(
        label.prop("value").await.ok().flatten().as_deref(),
        Some("work")
    );
    let address = b
        .xpath(
            "the address in the row",
            &format!("{form}//input[@data-pointer='/address']"),
        )
        .await;
    assert_eq!(
        address.prop("value").await.ok().flatten().as_deref(),
        Some("cy@corp.example")
    );
    b.fill(&label, "office").await;
    b.fill(&address, "not an address").await;
    let save = b
        .xpath("Save channel", &format!("{form}//button[@type='submit']"))
        .await;
    b.click(&save).await;
    let error = b
        .xpath(
            "the address's error in the row",
            &format!("{form}//input[@data-pointer='/address']/following-sibling::p[contains(@class,'field-error')]"),
        )
        .await;
    let text = error.text().await.unwrap_or_default();
    assert!(text.contains("not an address"), "{text:?}");
    b.screenshot("policies-channel-edit").await;
    assert_eq!(
        channels(app, token).await[0]["address"],
        "cy@corp.example",
        "nothing saved yet"
    );
    b.fill(&address, "cy@office.example").await;
    b.click(&save).await;
    b.xpath(
        "the edited row",
        &format!("//tr[@data-id='{id}'][contains(., 'cy@office.example') and contains(., 'office')][not(.//form)]"),
    )
    .await;
    let saved = channels(app, token).await;
    assert_eq!(
        saved,
        vec![json!({"id": id, "kind": "email", "label": "office", "address": "cy@office.example"})]
    );
    id
}

/// The `i`-th rule of the policy editor (from 1).
fn rule(i: usize) -> String {
    format!("(//div[@id='policy-editor']//fieldset[contains(@class,'rule')])[{i}]")
}

/// A policy of two rules: during Mon, Wed and Sat 08:30–17:45 (the user's
/// New York time) warnings are collected for 5 minutes and held; outside
/// the (default) weekday hours only critical alerts go out.
async fn weekly_policy(b: &Browser, app: &TestApp, token: &str, channel: &str) {
    b.goto("/policies").await;
    b.wait_page("/policies", "America/New_York").await;
    b.click(
        &b.xpath("New policy", "//button[normalize-space(.)='New policy']")
            .await,
    )
    .await;
    b.fill(
        &b.element("#policy-editor input[data-pointer='/name']")
            .await,
        "Work hours",
    )
    .await;

    let first = rule(1);
    choose(
        b,
        "the first rule's when",
        &format!("{first}{}", field_xpath("When")),
        "during",
    )
    .await;
    let legend = b
        .xpath(
            "the schedule",
            &format!("{first}//fieldset[contains(@class,'schedule')]/legend"),
        )
        .await;
    assert_eq!(
        legend.text().await.unwrap_or_default(),
        "Days and hours (America/New_York time)"
    );
    for (day, want) in [
        ("mon", true),
        ("tue", false),
        ("wed", true),
        ("thu", false),
        ("fri", false),
        ("sat", true),
        ("sun", false),
    ] {
        let box_ = b
            .xpath(
                "a day",
                &format!("{first}//div[@class='days']//input[@value='{day}']"),
            )
            .await;
        if box_.is_selected().await.expect("a checkbox's state") != want {
            b.click(&box_).await;
        }
    }
    set_value(
        b,
        &b.xpath("From", &format!("{first}{}", field_like("From")))
            .await,
        "08:30",
    )
    .await;
    set_value(
        b,
        &b.xpath("To", &format!("{first}{}", field_like("To"))).await,
        "17:45",
    )
    .await;
    choose(
        b,
        "the severity",
        &format!("{first}{}", field_xpath("Severity")),
        "warning",
    )
    .await;
    b.click(
        &b.xpath(
            "the channel",
            &format!("{first}//div[@class='checks']//input[@value='{channel}']"),
        )
        .await,
    )
    .await;
    b.fill(
        &b.xpath(
            "Collect for",
            &format!("{first}{}", field_xpath("Collect for")),
        )
        .await,
        "5m",
    )
    .await;
    b.click(
        &b.xpath(
            "Hold",
            &format!("{first}//label[contains(., 'Hold alerts')]/input"),
        )
        .await,
    )
    .await;

    b.click(
        &b.xpath("+ Add rule", "//button[normalize-space(.)='+ Add rule']")
            .await,
    )
    .await;
    let second = rule(2);
    choose(
        b,
        "the second rule's when",
        &format!("{second}{}", field_xpath("When")),
        "outside",
    )
    .await;
    choose(
        b,
        "its severity",
        &format!("{second}{}", field_xpath("Severity")),
        "critical",
    )
    .await;
    b.click(
        &b.xpath(
            "its channel",
            &format!("{second}//div[@class='checks']//input[@value='{channel}']"),
        )
        .await,
    )
    .await;
    b.screenshot("policy-editor").await;
    b.click(
        &b.xpath("Save policy", "//button[normalize-space(.)='Save policy']")
            .await,
    )
    .await;
    b.wait_page("/policies", "mon wed sat 08:30–17:45").await;
    let page = b.text().await;
    assert!(
        page.contains("mon wed sat 08:30–17:45: warning and worse → office (email), collected 5m, held until the window ends"),
        "{page}"
    );
    assert!(
        page.contains("outside mon tue wed thu fri 09:00–18:00: critical and worse → office (email), collected 1m"),
        "{page}"
    );

    let (_, policies) = app.get_json("/api/v1/policies", token).await;
    let p = &policies[0];
    assert_eq!(p["name"], "Work hours", "{policies}");
    assert_eq!(p["default"], true, "the first policy is the default");
    let rules = p["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2, "{p}");
    assert_eq!(
        rules[0]["when"],
        json!({"days": ["mon", "wed", "sat"], "from": "08:30", "to": "17:45"})
    );
    assert_eq!(rules[0]["min_severity"], "warning");
    assert_eq!(rules[0]["channels"], json!([channel]));
    assert_eq!(rules[0]["aggregate_for"], "5m");
    assert_eq!(rules[0]["hold"], true);
    assert_eq!(
        rules[1]["when"],
        json!({"not": {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"}})
    );
    assert_eq!(rules[1]["min_severity"], "critical");
    assert_eq!(rules[1]["channels"], json!([channel]));
    assert_eq!(rules[1]["hold"], false);
    b.screenshot("policies-with-policy").await;
}

/// A control inside a `label` that starts with `title` (not in a `.field`).
fn field_like(title: &str) -> String {
    format!("//label[starts-with(normalize-space(.), '{title}')]/input")
}

/// Post build events, fill a match handler's form without saving it and
/// press "Try on recent events": the failing build of blk001 is listed with
/// its key, severity and summary (the `<b>` it carries shown as text).
async fn try_on_recent_events(b: &Browser, app: &TestApp, token: &str) {
    app.post(
        token,
        json!([
            {"project": "vr0", "block": "blk001", "status": "passed", "step": "place"},
            {"project": "vr0", "block": "blk001", "status": "failed", "step": "<b>route</b>"},
            {"project": "vr0", "block": "blk002", "status": "failed", "step": "place"},
        ]),
    )
    .await;
    let events = app.recent(token, "limit=3").await;
    let failed = events[1]["id"].as_str().expect("id").to_owned();

    b.goto("/handlers/new?type=match").await;
    b.wait_page("/handlers/new?type=match", "Try it on recent events")
        .await;
    let filter = fieldset_xpath("Events to watch");
    while let Ok(remove) = b
        .client
        .find(Locator::XPath(&format!(
            "{filter}//div[contains(@class,'list-item')]/button"
        )))
        .await
    {
        b.click(&remove).await;
    }
    let add = b
        .xpath(
            "the filter's add button",
            &format!("{filter}//button[starts-with(normalize-space(.), '+ Add')]"),
        )
        .await;
    for (i, (field, value)) in [("block", "blk001"), ("status", "failed")]
        .into_iter()
        .enumerate()
    {
        b.click(&add).await;
        let cond = format!("({filter}//div[contains(@class,'cond')])[{}]", i + 1);
        b.fill(
            &b.xpath("a condition's field", &format!("{cond}/input[1]"))
                .await,
            field,
        )
        .await;
        choose(b, "eq", &format!("{cond}/select"), "eq").await;
        b.fill(
            &b.xpath("a condition's value", &format!("{cond}/input[2]"))
                .await,
            value,
        )
        .await;
    }
    choose(b, "the severity", &field_xpath("Severity"), "critical").await;
    b.fill(
        &b.xpath("the summary", &field_xpath("Summary")).await,
        "{block} failed {step}",
    )
    .await;
    b.fill(
        &b.xpath("the key", &field_xpath("Alert key")).await,
        "{project}/{block}",
    )
    .await;

    // A limit past the most: its error shows by the field.
    let limit = b.element("input[data-pointer='/limit']").await;
    b.fill(&limit, "5000").await;
    let try_button = b
        .xpath(
            "the try button",
            "//button[normalize-space(.)='Try on recent events']",
        )
        .await;
    b.click(&try_button).await;
    let error = b
        .element("input[data-pointer='/limit'] + p.field-error")
        .await;
    let text = error.text().await.unwrap_or_default();
    assert!(text.contains("from 1 to 1000"), "{text:?}");

    b.fill(&limit, "50").await;
    b.click(&try_button).await;
    let row = b
        .element(&format!(
            "#try-result table.try-results tr[data-event='{failed}']"
        ))
        .await;
    let row_text = row.text().await.unwrap_or_default();
    assert!(row_text.contains("critical"), "{row_text}");
    assert!(row_text.contains("vr0/blk001"), "{row_text}");
    assert!(
        row_text.contains("blk001 failed <b>route</b>"),
        "shown as text: {row_text}"
    );
    let rows = b
        .client
        .find_all(Locator::Css("#try-result table.try-results tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "only blk001's failure fires");
    assert!(
        b.client.find(Locator::Css("#try-result b")).await.is_err(),
        "no markup from an event is parsed"
    );
    let summary = b.element("#try-result p.try-summary").await;
    assert_eq!(
        summary.text().await.unwrap_or_default(),
        "Tried on 3 events: 1 event matched the filter; 1 alert fired (repeats count), 0 resolved."
    );
    assert!(
        b.client.find(Locator::Css("p.field-error")).await.is_err(),
        "the limit's error is gone"
    );
    b.screenshot("handler-try").await;
    let (_, handlers) = app.get_json("/api/v1/handlers", token).await;
    assert_eq!(handlers, json!([]), "trying saves nothing");
    assert_eq!(b.path().await, "/handlers/new?type=match");
}

/// `/events` with a filter: new matching events appear at the top without a
/// reload, others do not.
async fn live_events(b: &Browser, app: &TestApp, token: &str) {
    b.goto("/events?q=project:vr0").await;
    b.wait_page("/events?q=project:vr0", "New events appear at the top")
        .await;
    let before = b
        .client
        .find_all(Locator::Css("ul.events > li"))
        .await
        .expect("rows")
        .len();
    assert_eq!(before, 3, "the build events posted earlier");
    b.client
        .execute("window.tellifyTestMark = 'same page'; return null;", vec![])
        .await
        .expect("set a mark");
    app.post(
        token,
        json!([
            {"project": "vr1", "block": "blk009", "status": "failed"},
            {"project": "vr0", "block": "blk007", "status": "failed", "note": "<i>live</i>"},
        ]),
    )
    .await;
    let newest = app.recent(token, "limit=1").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let first = b
        .xpath(
            "the new event at the top",
            &format!("//ul[contains(@class,'events')]/li[1][@data-id='{newest}']"),
        )
        .await;
    let text = first.text().await.unwrap_or_default();
    assert!(text.contains("block:blk007"), "{text}");
    assert!(text.contains("note:<i>live</i>"), "shown as text: {text}");
    // Give a second poll the chance to add what it must not.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let page = b.text().await;
    assert!(!page.contains("blk009"), "vr1 is filtered out: {page}");
    let rows = b
        .client
        .find_all(Locator::Css("ul.events > li"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 4);
    let mark = b
        .client
        .execute("return window.tellifyTestMark || null;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(mark, json!("same page"), "the page reloaded");
    b.screenshot("events-live").await;
}

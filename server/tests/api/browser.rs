//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (chromedriver, through `fantoccini`), against a real Tellify on port 0.
//!
//! One test function walks what a new user does (sign in, create a threshold
//! handler for ten filesystems through the generated form, see its alert
//! arrive on the dashboard without a reload, open it, clear it; a bad value
//! in a form shows the server's error by its field) and saves a screenshot
//! of every main page under `target/screenshots/`. It is one function
//! because each browser is a heavy process and the steps build on each
//! other; it runs beside the other tests of the binary on its own app.
//! The editors (a channel edited in place, a policy with a weekly schedule,
//! "try it on recent events", `/events` live) have a test of their own in
//! [`editors`], with its own browser and user, built on the harness here.
//!
//! The test starts chromedriver itself, on a free loopback port, with a fresh
//! Chromium profile under `target/`, and ends both however the test ends.
//! Without Chromium or chromedriver it fails, saying to run `scripts/test.sh`
//! (which installs them): a browser test that silently passes tests nothing.
//!
//! Waits poll for an element or a text with a deadline, never a fixed sleep,
//! and a failed wait says what it waited for, where the browser was and what
//! the page said, and saves `target/screenshots/failed-*.png`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, by_key};

mod editors;

/// How long a wait for something on a page may take.
const WAIT: Duration = Duration::from_secs(15);

/// The flags Chromium needs here: headless as root, and no connections of
/// its own (this machine's network is closed; Chromium's background
/// connections would be refused, many at a time).
const CHROMIUM_ARGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// The workspace's `target/` directory (or `CARGO_TARGET_DIR`), without
/// `..` in it: chromedriver cannot find a profile whose path has one (it
/// fails with "Could not read in devtools port number").
fn target_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&dir).expect("the target directory");
    dir.canonicalize().expect("the target directory's path")
}

/// A program the browser test needs: from its environment variable (which
/// `scripts/test.sh` sets) or Debian's path; fails if it is not there.
fn program(var: &str, default: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} not found ({var}={}): the browser tests need Debian's {package}; \
         run them with scripts/test.sh, which installs it (scripts/services.sh start)",
        path.display(),
        path.display(),
    );
    path
}

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Start chromedriver on a free loopback port and wait until it answers.
    async fn start(binary: &Path, log: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log_file = std::fs::File::create(log).expect("chromedriver's log file");
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::from(
                log_file.try_clone().expect("chromedriver's log file"),
            ))
            .stderr(Stdio::from(log_file))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = http.get(&status).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {} within {WAIT:?}; see {}",
                driver.url,
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A Chromium profile directory, removed when dropped (also when the
/// browser did not start).
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A browser session and where its screenshots go.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    async fn path(&self) -> String {
        match self.client.current_url().await {
            Ok(u) => match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            },
            Err(e) => format!("(no URL: {e})"),
        }
    }

    /// The text the page shows.
    async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Save a picture of the whole page (the window is made as tall as the
    /// page for it, 1280 pixels wide).
    async fn screenshot(&self, name: &str) {
        let height = self
            .client
            .execute(
                "return Math.max(document.documentElement.scrollHeight, 600);",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(900)
            .min(4000) as u32;
        let _ = self.client.set_window_size(1280, height + 160).await;
        let png = self.client.screenshot().await;
        let _ = self.client.set_window_size(1280, 900).await;
        let png = png.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let file = self.shots.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }

    /// Poll `probe` until it gives something; on timeout, fail saying what
    /// was awaited, where the browser is and what the page shows.
    async fn wait_for<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            if Instant::now() >= deadline {
                let slug: String = what
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .take(40)
                    .collect();
                let shot = format!("failed-{slug}");
                let _ = self
                    .client
                    .screenshot()
                    .await
                    .map(|png| std::fs::write(self.shots.join(format!("{shot}.png")), png));
                let text = self.text().await;
                panic!(
                    "timed out after {WAIT:?} waiting for {what}\n  at: {}\n  screenshot: target/screenshots/{shot}.png\n  the page says:\n{}",
                    self.path().await,
                    text.chars().take(3000).collect::<String>()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first element `css` finds, once there is one and it is shown.
    async fn element(&self, css: &str) -> Element {
        self.wait_for(&format!("an element {css}"), || async {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            e.is_displayed().await.ok()?.then_some(e)
        })
        .await
    }

    /// The element the XPath finds, once there is one and it is shown.
    async fn xpath(&self, what: &str, xpath: &str) -> Element {
        self.wait_for(what, || async {
            let e = self.client.find(Locator::XPath(xpath)).await.ok()?;
            e.is_displayed().await.ok()?.then_some(e)
        })
        .await
    }

    /// Wait until the page is at `path` and shows `text`.
    async fn wait_page(&self, path: &str, text: &str) {
        self.wait_for(&format!("{path} showing {text:?}"), || async {
            (self.path().await == path && self.text().await.contains(text)).then_some(())
        })
        .await
    }

    /// Replace what a form control holds with `value`.
    async fn fill(&self, input: &Element, value: &str) {
        input.clear().await.expect("clear a field");
        if !value.is_empty() {
            input.send_keys(value).await.expect("type into a field");
        }
    }

    async fn click(&self, e: &Element) {
        e.click().await.expect("click");
    }
}

/// Start chromedriver and Chromium, run `steps`, then close the browser and
/// stop chromedriver whatever happened (a panic is passed on afterwards).
async fn with_browser<F, Fut>(base: &str, steps: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()>,
{
    let chromedriver = program(
        "TELLIFY_CHROMEDRIVER",
        "/usr/bin/chromedriver",
        "chromium-driver",
    );
    let chromium = program("TELLIFY_CHROMIUM", "/usr/bin/chromium", "chromium");
    let target = target_dir();
    let shots = target.join("screenshots");
    std::fs::create_dir_all(&shots).expect("target/screenshots");
    let profile = target
        .join("browser-profiles")
        .join(crate::helpers::unique("chromium"));
    std::fs::create_dir_all(&profile).expect("a Chromium profile directory");
    let profile = Profile(profile);
    let driver = Driver::start(&chromedriver, &target.join("chromedriver.log")).await;

    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.0.display()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": args}),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| {
            panic!("Chromium did not start through chromedriver ({e}); see target/chromedriver.log")
        });
    let browser = Browser {
        client: client.clone(),
        base: base.to_owned(),
        shots,
    };
    let outcome = std::panic::AssertUnwindSafe(steps(browser))
        .catch_unwind()
        .await;
    let _ = client.close().await;
    drop(driver);
    drop(profile);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Ten filesystems, as a user would paste them.
fn filesystems() -> Vec<String> {
    (1..=10).map(|i| format!("/sarc/fs{i:02}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_watches_ten_filesystems_and_handles_an_alert_in_the_browser() {
    let app = TestApp::spawn().await;
    let token = app.create_user("ann").await;
    let base = app.base.clone();
    with_browser(&base, |b| async move {
        sign_in(&b, "ann", "ann-password").await;
        let handler = create_threshold_handler(&b).await;
        live_alert_open_and_clear(&b, &app, &token, &handler).await;
        other_pages(&b).await;
        admin_pages(&b).await;
    })
    .await;
}

/// Sign in through the login form (a wrong password first).
async fn sign_in(b: &Browser, name: &str, password: &str) {
    b.goto("/").await;
    b.wait_page("/login", "Sign in to Tellify").await;
    b.screenshot("login").await;
    let submit = |password: &'static str| async move {
        let user = b.element("input[name=name]").await;
        b.fill(&user, name).await;
        let pw = b.element("input[name=password]").await;
        b.fill(&pw, password).await;
        b.click(&b.element("form[action='/login'] button[type=submit]").await)
            .await;
    };
    submit("not-the-password").await;
    b.wait_page("/login?failed=1", "Wrong user name or password")
        .await;
    let user = b.element("input[name=name]").await;
    b.fill(&user, name).await;
    let pw = b.element("input[name=password]").await;
    b.fill(&pw, password).await;
    b.click(&b.element("form[action='/login'] button[type=submit]").await)
        .await;
    b.wait_page("/", "Firing alerts").await;
    b.wait_for("the dashboard to say nothing is firing", || async {
        b.text().await.contains("Nothing is firing").then_some(())
    })
    .await;
}

/// The generated form's control for a field: the input or select inside
/// the `.field` whose label starts with `title`.
fn field_xpath(title: &str) -> String {
    format!(
        "//div[contains(@class,'field')]/label[starts-with(normalize-space(.), '{title}')]/*[self::input or self::select]"
    )
}

/// The fieldset (a list or an object) whose legend starts with `title`.
fn fieldset_xpath(title: &str) -> String {
    format!("//fieldset[legend[starts-with(normalize-space(.), '{title}')]]")
}

/// Create a threshold handler for ten filesystems through the generated
/// form: first with an empty name and a limit that is not a number, which
/// the server refuses field by field, then corrected. Returns its id.
async fn create_threshold_handler(b: &Browser) -> String {
    b.goto("/handlers").await;
    b.wait_page("/handlers", "No handlers yet").await;
    b.click(
        &b.element("a.button[href='/handlers/new?type=threshold']")
            .await,
    )
    .await;
    b.wait_page("/handlers/new?type=threshold", "What to watch")
        .await;
    b.element("form.handler").await;
    b.screenshot("handler-form-empty").await;

    // The filter: events from the disk monitor, for ten filesystems.
    let filter = fieldset_xpath("Events to watch");
    let conds = |i: usize| format!("({filter}//div[contains(@class,'cond')])[{i}]");
    let add_condition = b
        .xpath(
            "the filter's add button",
            &format!("{filter}//button[starts-with(normalize-space(.), '+ Add')]"),
        )
        .await;
    // Start from an empty filter, whatever the form offers by default.
    while let Ok(remove) = b
        .client
        .find(Locator::XPath(&format!(
            "{filter}//div[contains(@class,'list-item')]/button"
        )))
        .await
    {
        b.click(&remove).await;
    }
    for (i, (field, op, value)) in [
        ("source", "eq", "disk-monitor".to_owned()),
        ("fs", "in", filesystems().join(", ")),
    ]
    .into_iter()
    .enumerate()
    {
        b.click(&add_condition).await;
        let cond = conds(i + 1);
        let f = b
            .xpath("a condition's field", &format!("{cond}/input[1]"))
            .await;
        b.fill(&f, field).await;
        let o = b
            .xpath("a condition's operator", &format!("{cond}/select"))
            .await;
        b.click(
            &b.xpath(
                "an operator",
                &format!("{cond}/select/option[@value='{op}']"),
            )
            .await,
        )
        .await;
        drop(o);
        let v = b
            .xpath("a condition's value", &format!("{cond}/input[2]"))
            .await;
        b.fill(&v, &value).await;
    }

    b.fill(
        &b.xpath("Value field", &field_xpath("Value field")).await,
        "pct",
    )
    .await;
    // Key fields: host and fs, one input each.
    let keys = fieldset_xpath("Key fields");
    let key_inputs = format!("{keys}//div[contains(@class,'list-item')]//input");
    let existing = b
        .client
        .find_all(Locator::XPath(&key_inputs))
        .await
        .unwrap_or_default();
    for (i, key) in ["host", "fs"].into_iter().enumerate() {
        let input = match existing.get(i) {
            Some(e) => e.clone(),
            None => {
                b.click(
                    &b.xpath(
                        "the key fields' add button",
                        &format!("{keys}//button[starts-with(normalize-space(.), '+ Add')]"),
                    )
                    .await,
                )
                .await;
                b.xpath("a new key field", &format!("({key_inputs})[{}]", i + 1))
                    .await
            }
        };
        b.fill(&input, key).await;
    }

    // Levels: warning at 90 or more, critical at 97 or more; the second
    // limit is first given as text, which is not a number.
    let levels = fieldset_xpath("Levels");
    let level_items =
        format!("{levels}/div/div[contains(@class,'list')]/div[contains(@class,'list-item')]");
    let add_level = b
        .xpath(
            "the levels' add button",
            &format!("{levels}/div/button[starts-with(normalize-space(.), '+ Add')]"),
        )
        .await;
    let count = b
        .client
        .find_all(Locator::XPath(&level_items))
        .await
        .map(|v| v.len())
        .unwrap_or(0);
    for _ in count..2 {
        b.click(&add_level).await;
    }
    for (i, (severity, limit)) in [("warning", "90"), ("critical", "ninety-seven")]
        .into_iter()
        .enumerate()
    {
        let item = format!("({level_items})[{}]", i + 1);
        b.click(
            &b.xpath(
                "a level's severity",
                &format!(
                    "{item}{}/option[@value='{severity}']",
                    field_xpath("Severity")
                ),
            )
            .await,
        )
        .await;
        b.click(
            &b.xpath(
                "a level's comparison",
                &format!("{item}{}/option[@value='ge']", field_xpath("Comparison")),
            )
            .await,
        )
        .await;
        let input = b
            .xpath(
                "a level's limit",
                &format!("{item}{}", field_xpath("Limit")),
            )
            .await;
        b.fill(&input, limit).await;
    }

    // Submit without a name and with the bad limit: the server's problems
    // appear next to those fields.
    let name = b.element("input[data-pointer='/name']").await;
    b.fill(&name, "").await;
    b.click(&b.element("form.handler button[type=submit]").await)
        .await;
    let name_error = b
        .element("input[data-pointer='/name'] + p.field-error")
        .await;
    let text = name_error.text().await.unwrap_or_default();
    assert!(!text.is_empty(), "the name's error is empty");
    let limit_error = b
        .element("[data-pointer='/params/levels/1/value'] + p.field-error")
        .await;
    let text = limit_error.text().await.unwrap_or_default();
    assert!(
        text.to_lowercase().contains("number"),
        "the limit's error should say it must be a number: {text:?}"
    );
    assert_eq!(b.path().await, "/handlers/new?type=threshold");
    b.screenshot("handler-form").await;

    // Correct both and create it.
    b.fill(&name, "Disk space of the CAD servers").await;
    let limit = b
        .element("input[data-pointer='/params/levels/1/value']")
        .await;
    b.fill(&limit, "97").await;
    b.click(&b.element("form.handler button[type=submit]").await)
        .await;
    b.wait_page("/handlers", "Disk space of the CAD servers")
        .await;
    b.screenshot("handlers").await;
    let link = b
        .xpath(
            "the new handler's link",
            "//table[contains(@class,'handlers')]//a[normalize-space(.)='Disk space of the CAD servers']",
        )
        .await;
    let href = link.attr("href").await.ok().flatten().unwrap_or_default();
    href.trim_start_matches("/handlers/")
        .trim_end_matches("/edit")
        .to_owned()
}

/// With the dashboard open, post events over HTTP: the alert appears without
/// a reload; open it and clear it.
async fn live_alert_open_and_clear(b: &Browser, app: &TestApp, token: &str, handler: &str) {
    let (status, h) = app
        .get_json(&format!("/api/v1/handlers/{handler}"), token)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{h}");
    assert_eq!(h["params"]["filter"][1]["value"], json!(filesystems()));
    assert_eq!(h["params"]["key_fields"], json!(["host", "fs"]));

    b.goto("/").await;
    b.wait_page("/", "Nothing is firing").await;
    b.wait_for("the live stream to connect", || async {
        let s = b.client.find(Locator::Css("#live-status")).await.ok()?;
        (s.is_displayed().await.ok()? && s.text().await.ok()? == "live").then_some(())
    })
    .await;
    // A mark on this page: it is gone if the page reloads.
    b.client
        .execute("window.tellifyTestMark = 'same page'; return null;", vec![])
        .await
        .expect("set a mark");

    app.post(
        token,
        json!([
            {"source": "disk-monitor", "host": "cad01", "fs": "/sarc/fs03", "pct": 98.5},
            {"source": "disk-monitor", "host": "cad01", "fs": "/sarc/fs04", "pct": 91},
            {"source": "disk-monitor", "host": "cad01", "fs": "/sarc/fs11", "pct": 99},
            {"source": "disk-monitor", "host": "cad02", "fs": "/sarc/fs05", "pct": 40},
        ]),
    )
    .await;
    let row = b
        .xpath(
            "the alert of cad01:/sarc/fs03 on the dashboard",
            "//table[@data-live]//tr[@data-alert][contains(., 'cad01/sarc/fs03') or contains(., 'cad01:/sarc/fs03')]",
        )
        .await;
    b.xpath(
        "the alert of cad01:/sarc/fs04 on the dashboard",
        "//table[@data-live]//tr[@data-alert][contains(., 'fs04')]",
    )
    .await;
    let mark = b
        .client
        .execute("return window.tellifyTestMark || null;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(mark, json!("same page"), "the dashboard reloaded");
    let rows = b
        .client
        .find_all(Locator::Css("table[data-live] tr[data-alert]"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2, "fs11 is not watched and cad02 is below 90");
    let empty = b
        .client
        .find(Locator::Css("p.empty"))
        .await
        .expect("p.empty");
    assert_eq!(
        empty.is_displayed().await.ok(),
        Some(false),
        "\"Nothing is firing\" is still shown"
    );
    let row_text = row.text().await.unwrap_or_default();
    assert!(row_text.contains("critical"), "{row_text}");
    // Let the new rows' highlight fade before the picture.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    b.screenshot("dashboard").await;

    // Open it.
    let alerts = app
        .wait_alerts(token, "", "two alerts", |a| a.len() == 2)
        .await;
    // The key is the key fields' values joined with `/`.
    let alert = by_key(&alerts, "cad01//sarc/fs03")
        .expect("the fs03 alert")
        .clone();
    let id = alert["id"].as_str().expect("id").to_owned();
    b.click(
        &row.find(Locator::Css("a[href^='/alerts/']"))
            .await
            .expect("the alert's link"),
    )
    .await;
    b.wait_page(&format!("/alerts/{id}"), "History").await;
    let page = b.text().await;
    assert!(page.contains("firing"), "{page}");
    assert!(page.contains("98.5"), "the event is shown: {page}");
    b.screenshot("alert").await;

    // Clear it.
    b.click(
        &b.xpath(
            "the clear button",
            "//button[normalize-space(.)='Clear this alert']",
        )
        .await,
    )
    .await;
    b.wait_page(&format!("/alerts/{id}"), "cleared").await;
    b.wait_for("the clear button to go", || async {
        b.client
            .find(Locator::XPath(
                "//button[normalize-space(.)='Clear this alert']",
            ))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    let (_, after) = app.get_json(&format!("/api/v1/alerts/{id}"), token).await;
    assert_eq!(after["status"], "cleared", "{after}");

    // The dashboard now shows only the other one.
    b.goto("/").await;
    b.wait_page("/", "Firing alerts").await;
    b.wait_for("the dashboard to show one alert", || async {
        let rows = b
            .client
            .find_all(Locator::Css("table[data-live] tr[data-alert]"))
            .await
            .ok()?;
        (rows.len() == 1).then_some(())
    })
    .await;
    b.goto("/alerts").await;
    b.wait_page("/alerts", "cleared").await;
    b.screenshot("alerts").await;
}

/// Every other main page opens and shows what it is for.
async fn other_pages(b: &Browser) {
    for (path, text, shot) in [
        ("/events", "disk-monitor", "events"),
        ("/policies", "Channels and policies", "policies"),
        ("/notifications", "Sent notifications", "notifications"),
        ("/settings", "API tokens", "settings"),
    ] {
        b.goto(path).await;
        b.wait_page(path, text).await;
        b.screenshot(shot).await;
    }
}

/// Sign out, sign in as the admin and see the users page.
async fn admin_pages(b: &Browser) {
    b.goto("/").await;
    b.click(&b.element("form[action='/signout'] button").await)
        .await;
    b.wait_page("/login", "Sign in to Tellify").await;
    let user = b.element("input[name=name]").await;
    b.fill(&user, "admin").await;
    let pw = b.element("input[name=password]").await;
    b.fill(&pw, ADMIN_PASSWORD).await;
    b.click(&b.element("form[action='/login'] button[type=submit]").await)
        .await;
    b.wait_page("/", "Firing alerts").await;
    b.goto("/admin/users").await;
    b.wait_page("/admin/users", "ann@corp.example").await;
    b.screenshot("admin-users").await;
}

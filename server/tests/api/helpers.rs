//! The test harness: a real Tellify on port 0 against the real Redis and
//! MongoDB-compatible server that `scripts/test.sh` started, each test with
//! its own database and Redis key prefix, spoken to over HTTP.

use std::sync::LazyLock;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tellify_server::{Application, Config};
use tokio::sync::oneshot;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_test_writer()
            .init();
    }
});

fn service_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test.sh, which starts Redis and SecantusDB")
    })
}

/// A fresh, unique name for a test's database and key prefix.
pub fn unique(tag: &str) -> String {
    let mut b = [0u8; 6];
    rand_bytes(&mut b);
    format!(
        "{tag}_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn rand_bytes(b: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    for chunk in b.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// The configuration of a test app with its own database and prefix.
pub fn test_config(name: &str) -> Config {
    let mongo = service_env("TELLIFY_MONGODB_URI");
    let base = mongo
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&mongo)
        .to_owned();
    let mut c = Config::for_tests(
        &format!("{base}/{name}"),
        &service_env("TELLIFY_REDIS_URL"),
        &format!("{name}:"),
    );
    c.admin_password = Some(ADMIN_PASSWORD.to_owned());
    c.admin_token = Some(format!("tfy_admin_{name}"));
    c.lease_ttl = std::time::Duration::from_millis(1500);
    c.tick_interval = std::time::Duration::from_millis(100);
    c.config_reload = std::time::Duration::from_secs(2);
    c.partitions = 8;
    // Tests send digests themselves, at the moved clock's times.
    c.digest_interval = std::time::Duration::from_secs(3600);
    c
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub config: Config,
    pub admin_token: String,
    pub app_state: tellify_server::state::AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_config(&unique("t"))).await
    }

    pub async fn spawn_with(config: Config) -> TestApp {
        LazyLock::force(&TRACING);
        let app = Application::build(config.clone())
            .await
            .expect("the app builds");
        let base = format!("http://{}", app.local_addr());
        let app_state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            admin_token: config.admin_token.clone().expect("set by test_config"),
            config,
            app_state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Simulate a crash: the app stops at whatever await it is at, without
    /// committing or giving its leases back.
    pub async fn crash(mut self) {
        self.stop.take();
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Stop serving and wait until the server has finished.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.req(Method::POST, path, Some(token))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        read(
            self.req(Method::PUT, path, Some(token))
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        read(
            self.req(Method::GET, path, Some(token))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        read(
            self.req(Method::DELETE, path, Some(token))
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// POST /events with a body and content type.
    pub async fn post_events(
        &self,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let r = self
            .req(Method::POST, "/events", token)
            .header("content-type", content_type)
            .body(body);
        read(r.send().await.expect("request")).await
    }

    /// Create a user as the admin; returns an `ingest`+`api` token of theirs.
    /// The password is `<name>-password`.
    pub async fn create_user(&self, name: &str) -> String {
        self.create_user_in(name, "Europe/Paris").await
    }

    /// [`TestApp::create_user`] in another timezone.
    pub async fn create_user_in(&self, name: &str, timezone: &str) -> String {
        let (status, body) = self
            .post_json(
                "/api/v1/admin/users",
                &self.admin_token,
                &json!({"name": name, "password": format!("{name}-password"), "email": format!("{name}@corp.example"), "timezone": timezone}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.token_by_password(name, &format!("{name}-password"), &["ingest", "api"])
            .await
    }

    /// Create a token with the user's password (HTTP Basic).
    pub async fn token_by_password(&self, name: &str, password: &str, scopes: &[&str]) -> String {
        let r = self
            .client
            .post(self.url("/api/v1/tokens"))
            .basic_auth(name, Some(password))
            .json(&json!({"label": "test", "scopes": scopes}))
            .send()
            .await
            .expect("request");
        let (status, body) = read(r).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("token shown once").to_owned()
    }

    pub async fn stream_len(&self) -> u64 {
        self.app_state.broker.events_len().await.expect("XLEN")
    }

    /// The newest events, as the API shows them.
    pub async fn recent(&self, token: &str, query: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!("/api/v1/events/recent?{query}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        body["events"].as_array().expect("events").clone()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Status and JSON body (Null when the body is empty or not JSON).
pub async fn read(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl TestApp {
    /// Create a handler instance; its id.
    pub async fn create_handler(&self, token: &str, body: Value) -> String {
        let (status, answer) = self.post_json("/api/v1/handlers", token, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer["id"].as_str().expect("id").to_owned()
    }

    /// Post events as JSON; asserts 202.
    pub async fn post(&self, token: &str, events: Value) {
        let (status, answer) = self
            .post_events(Some(token), "application/json", events.to_string())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    }

    pub async fn alerts(&self, token: &str, query: &str) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!("/api/v1/alerts?{query}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().expect("a list").clone()
    }

    /// Poll the alerts until `done` holds for them (10 s at most).
    pub async fn wait_alerts(
        &self,
        token: &str,
        query: &str,
        what: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let alerts = self.alerts(token, query).await;
            if done(&alerts) {
                return alerts;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; alerts: {alerts:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// The alert with this key, if any.
pub fn by_key<'a>(alerts: &'a [Value], key: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| a["key"] == key)
}

/// A browser's session: the cookie and the CSRF token of the session.
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
}

/// A page as a browser gets it: status, `Location` (redirects), body.
pub struct PageAnswer {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl TestApp {
    /// Log in with a password, as the login form does (JSON here, to get the
    /// CSRF token from the answer as a page's script would from its <meta>).
    pub async fn login(&self, name: &str, password: &str) -> BrowserSession {
        let r = self
            .client
            .post(self.url("/login"))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .expect("request");
        let cookie = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let (status, body) = read(r).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        BrowserSession {
            cookie,
            csrf: body["csrf"].as_str().expect("csrf").to_owned(),
        }
    }

    /// GET a page, with a session or anonymously.
    pub async fn page(&self, path: &str, session: Option<&BrowserSession>) -> PageAnswer {
        let mut r = self.client.get(self.url(path));
        if let Some(s) = session {
            r = r.header(reqwest::header::COOKIE, &s.cookie);
        }
        page_answer(r.send().await.expect("request")).await
    }

    /// POST a form as a page does (the fields as given: add `csrf` yourself).
    pub async fn post_form(
        &self,
        path: &str,
        session: Option<&BrowserSession>,
        fields: &[(&str, &str)],
    ) -> PageAnswer {
        let mut r = self.client.post(self.url(path)).form(fields);
        if let Some(s) = session {
            r = r.header(reqwest::header::COOKIE, &s.cookie);
        }
        page_answer(r.send().await.expect("request")).await
    }
}

async fn page_answer(r: Response) -> PageAnswer {
    let status = r.status();
    let headers = r.headers().clone();
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    PageAnswer {
        status,
        location,
        body: r.text().await.unwrap_or_default(),
        headers,
    }
}

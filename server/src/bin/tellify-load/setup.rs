//! `setup`: the users, their tokens and their handler instances of a
//! workload file (`workload.py handlers`: lines `{"owner":…,"body":…}`).
//!
//! Users and tokens come first (a token needs the user's password, checked
//! with argon2, so they are slow and few); then every instance is posted with
//! its owner's token, `concurrency` requests in flight.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use base64::Engine;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::http::{Conn, Target};
use crate::report::Report;

/// The password every bench user gets: the tool must be able to log in as
/// them again (to make a token) on a database it did not create.
pub fn password_of(user: &str) -> String {
    format!("bench-{user}-password")
}

#[derive(Clone)]
pub struct Instance {
    owner: String,
    body: String,
}

pub fn read_instances(path: &Path) -> anyhow::Result<Vec<Instance>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let (Some(owner), Some(body)) = (v["owner"].as_str(), v.get("body")) else {
            bail!("{}:{}: needs 'owner' and 'body'", path.display(), n + 1);
        };
        out.push(Instance {
            owner: owner.to_owned(),
            body: body.to_string(),
        });
    }
    Ok(out)
}

/// Run `f` over `items`, `concurrency` at a time, each worker with its own
/// keep-alive connection. Returns the failures' messages.
async fn for_each<T: Clone, F, Fut>(
    target: &Target,
    items: &[T],
    concurrency: usize,
    f: F,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(Conn, T) -> Fut,
    Fut: Future<Output = (Conn, anyhow::Result<()>)>,
{
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = (0..concurrency.max(1)).map(|_| async {
        let mut conn = Conn::connect(target).await?;
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i).cloned() else {
                return anyhow::Ok(());
            };
            let (c, r) = f(conn, item).await;
            conn = c;
            if let Err(e) = r {
                // The connection may be broken; a fresh one costs little here.
                conn = Conn::connect(target).await?;
                if let Ok(mut v) = failures.lock() {
                    v.push(format!("{e:#}"));
                }
            }
        }
    });
    for r in join_all(workers).await {
        r?;
    }
    Ok(failures.into_inner().unwrap_or_default())
}

/// Create users, tokens, instances; report counts and times. Writes
/// `user token` lines to `tokens_out` when given.
pub async fn run(
    target: &Target,
    admin_token: &str,
    instances: &[Instance],
    concurrency: usize,
    tokens_out: Option<&Path>,
) -> anyhow::Result<Report> {
    let mut owners: Vec<String> = instances.iter().map(|i| i.owner.clone()).collect();
    owners.sort();
    owners.dedup();
    let start = Instant::now();

    let tokens = Mutex::new(HashMap::new());
    let user_failures = for_each(target, &owners, concurrency, |mut conn, user| {
        let tokens = &tokens;
        async move {
            let r = async {
                let body = json!({"name": user, "password": password_of(&user),
                    "email": format!("{user}@bench.invalid"), "timezone": "UTC"});
                let req = target.json_request(
                    "POST",
                    "/api/v1/admin/users",
                    admin_token,
                    body.to_string().as_bytes(),
                );
                let r = conn.roundtrip(&req).await?;
                // 409: made by an earlier run with the same password.
                if !r.is_success() && r.status != 409 {
                    bail!(
                        "creating user {user}: {} {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", password_of(&user)));
                let req = target.request(
                    "POST",
                    "/api/v1/tokens",
                    &[
                        ("Authorization", &format!("Basic {basic}")),
                        ("Content-Type", "application/json"),
                    ],
                    br#"{"label":"bench","scopes":["ingest","api"]}"#,
                );
                let r = conn.roundtrip(&req).await?;
                let v = r.json()?;
                let Some(token) = v["token"].as_str().filter(|_| r.is_success()) else {
                    bail!("token of {user}: {} {v}", r.status);
                };
                if let Ok(mut t) = tokens.lock() {
                    t.insert(user.clone(), token.to_owned());
                }
                Ok(())
            }
            .await;
            (conn, r)
        }
    })
    .await?;
    let users_time = start.elapsed();
    let tokens = tokens.into_inner().unwrap_or_default();

    let handlers_start = Instant::now();
    let handler_failures = for_each(target, instances, concurrency, |mut conn, inst| {
        let tokens = &tokens;
        async move {
            let r = async {
                let Some(token) = tokens.get(&inst.owner) else {
                    bail!("no token for {}", inst.owner);
                };
                let req =
                    target.json_request("POST", "/api/v1/handlers", token, inst.body.as_bytes());
                let r = conn.roundtrip(&req).await?;
                if !r.is_success() {
                    bail!("{} {}", r.status, String::from_utf8_lossy(&r.body));
                }
                Ok(())
            }
            .await;
            (conn, r)
        }
    })
    .await?;
    let handlers_time = handlers_start.elapsed();

    if let Some(path) = tokens_out {
        let mut lines: Vec<String> = tokens.iter().map(|(u, t)| format!("{u} {t}\n")).collect();
        lines.sort();
        std::fs::write(path, lines.concat())
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let mut r = Report::new("setup");
    r.add("users", "users with a token", tokens.len(), "");
    r.add(
        "user_failures",
        "user/token failures",
        user_failures.len(),
        "",
    );
    r.add_f(
        "users_seconds",
        "users and tokens time",
        users_time.as_secs_f64(),
        "s",
    );
    let created = instances.len() - handler_failures.len();
    r.add("handlers", "handler instances created", created, "");
    r.add(
        "handler_failures",
        "handler failures",
        handler_failures.len(),
        "",
    );
    let secs = handlers_time.as_secs_f64().max(1e-9);
    r.add_f("handlers_seconds", "handlers time", secs, "s");
    r.add_f(
        "handlers_per_s",
        "handlers created/s",
        created as f64 / secs,
        "handlers/s",
    );
    if let Some(e) = user_failures.first().or(handler_failures.first()) {
        r.add("first_error", "first error", e.clone(), "");
    }
    Ok(r)
}

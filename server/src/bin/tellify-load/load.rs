//! The closed-loop load: `concurrency` keep-alive connections, each sending
//! the next pre-built request as soon as the previous one is answered.
//!
//! Requests are built once, before the clock starts, from the events file
//! (one JSON object per line): a body is one line, or a JSON array of
//! `batch` lines. Workers take the next request from a shared counter and
//! cycle through the list, so the server sees the whole workload's variety.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;

use crate::http::{Conn, Response, Target};
use crate::report::{Latencies, Report};

/// One ready-to-send request and how many events it carries.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Bytes,
    pub events: usize,
}

/// Read the events file: one JSON object per non-empty line.
pub fn read_events(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        bail!("{} holds no events", path.display());
    }
    Ok(lines)
}

/// `POST /events` requests of `batch` events each (the last may be short).
pub fn prepare(target: &Target, token: &str, events: &[String], batch: usize) -> Vec<Prepared> {
    events
        .chunks(batch.max(1))
        .map(|chunk| {
            let body = if batch <= 1 {
                chunk.concat()
            } else {
                format!("[{}]", chunk.join(","))
            };
            Prepared {
                bytes: target.json_request("POST", "/events", token, body.as_bytes()),
                events: chunk.len(),
            }
        })
        .collect()
}

/// When to stop.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// Keep going this long.
    Elapsed(Duration),
    /// Send this many requests in all (cycling through the list).
    Requests(usize),
}

/// Called with every 2xx answer (e.g. to collect the stream ids).
pub type OnAccepted = Arc<dyn Fn(&Response) + Send + Sync>;

/// What a load run saw.
#[derive(Debug, Default)]
pub struct Outcome {
    pub requests_ok: u64,
    pub events_ok: u64,
    /// Answers that were not 2xx, by status.
    pub non_2xx: BTreeMap<u16, u64>,
    /// Connections that failed (refused, reset, malformed answer).
    pub io_errors: u64,
    pub elapsed: Duration,
    /// Of every answered request, 2xx or not.
    pub latencies: Latencies,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn merge(&mut self, o: Outcome) {
        self.requests_ok += o.requests_ok;
        self.events_ok += o.events_ok;
        for (s, n) in o.non_2xx {
            *self.non_2xx.entry(s).or_default() += n;
        }
        self.io_errors += o.io_errors;
        self.latencies.merge(o.latencies);
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }

    /// Requests/s, events/s, latency and failures.
    pub fn report(&mut self, r: &mut Report) {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        r.add_f("seconds", "time", secs, "s");
        r.add("requests", "requests accepted (2xx)", self.requests_ok, "");
        r.add_f(
            "requests_per_s",
            "requests/s (2xx)",
            self.requests_ok as f64 / secs,
            "req/s",
        );
        r.add_f(
            "events_per_s",
            "events/s (2xx)",
            self.events_ok as f64 / secs,
            "events/s",
        );
        r.add_latencies(
            "latency",
            "request latency",
            &mut self.latencies,
            &[0.5, 0.99, 1.0],
        );
        let non_2xx: u64 = self.non_2xx.values().sum();
        let detail = self
            .non_2xx
            .iter()
            .map(|(s, n)| format!("{s}:{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        r.add("non_2xx", "non-2xx answers", non_2xx, "");
        if !detail.is_empty() {
            r.add("non_2xx_by_status", "non-2xx by status", detail, "");
        }
        r.add("io_errors", "connection errors", self.io_errors, "");
        if let Some(e) = &self.first_error {
            r.add("first_error", "first error", e.clone(), "");
        }
    }
}

/// Run the load and wait for every worker.
pub async fn run(
    target: &Target,
    requests: Arc<Vec<Prepared>>,
    concurrency: usize,
    until: Until,
    on_accepted: Option<OnAccepted>,
) -> anyhow::Result<Outcome> {
    if requests.is_empty() {
        bail!("nothing to send");
    }
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        let requests = requests.clone();
        let next = next.clone();
        let on_accepted = on_accepted.clone();
        workers.push(tokio::spawn(async move {
            worker(&target, &requests, &next, start, until, on_accepted).await
        }));
    }
    let mut total = Outcome::default();
    for w in workers {
        total.merge(w.await.context("a load worker panicked")?);
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn worker(
    target: &Target,
    requests: &[Prepared],
    next: &AtomicUsize,
    start: Instant,
    until: Until,
    on_accepted: Option<OnAccepted>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut conn: Option<Conn> = None;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let done = match until {
            Until::Elapsed(d) => start.elapsed() >= d,
            Until::Requests(n) => i >= n,
        };
        if done {
            return out;
        }
        let request = &requests[i % requests.len()];
        if conn.is_none() {
            match Conn::connect(target).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    out.fail(e);
                    // Do not spin on a server that is down.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let sent = Instant::now();
        match c.roundtrip(&request.bytes).await {
            Ok(response) => {
                out.latencies.record(sent.elapsed());
                if response.is_success() {
                    out.requests_ok += 1;
                    out.events_ok += request.events as u64;
                    if let Some(f) = &on_accepted {
                        f(&response);
                    }
                } else {
                    *out.non_2xx.entry(response.status).or_default() += 1;
                    if out.first_error.is_none() {
                        out.first_error = Some(format!(
                            "{}: {}",
                            response.status,
                            String::from_utf8_lossy(&response.body)
                        ));
                    }
                }
                if response.close {
                    conn = None;
                }
            }
            Err(e) => {
                out.fail(e);
                conn = None;
            }
        }
    }
}

impl Outcome {
    fn fail(&mut self, e: anyhow::Error) {
        self.io_errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{e:#}"));
        }
    }
}

//! `latency`: from POST to the alert on the user's live channel, at a steady
//! rate.
//!
//! Open loop: event `i` is due at `start + i / rate` whether or not earlier
//! requests were answered, so a slow server shows up as latency rather than
//! as a lower rate (no coordinated omission). Latency is counted from the due
//! time, not from the moment a connection was free to send it; the largest
//! send delay is reported so that a client that fell behind is visible.
//!
//! Sends and live messages are paired by stream id (the 202 answer's id and
//! the alert's `event_id`). The alert can arrive before the 202 answer is
//! read, so a message with an id not yet known is kept until the answer
//! comes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::http::{Conn, Target};
use crate::report::{Latencies, Report};

pub struct Options<'a> {
    pub target: &'a Target,
    pub token: &'a str,
    pub redis_url: &'a str,
    pub prefix: &'a str,
    pub user: &'a str,
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    /// How long to wait for the last alerts after the last send.
    pub grace: Duration,
}

#[derive(Default)]
struct Pairing {
    /// Stream id → due time of the event, until its alert arrives.
    sent: HashMap<String, Instant>,
    /// Stream id → arrival time of an alert whose 202 was not read yet.
    early: HashMap<String, Instant>,
    latencies: Latencies,
    max_send_delay: Duration,
    send_failures: u64,
    /// Live messages that are not alerts of an event.
    other_messages: u64,
    first_error: Option<String>,
}

impl Pairing {
    fn sent(&mut self, id: String, due: Instant) {
        match self.early.remove(&id) {
            Some(arrived) => self
                .latencies
                .record(arrived.saturating_duration_since(due)),
            None => {
                self.sent.insert(id, due);
            }
        }
    }

    fn arrived(&mut self, id: String, at: Instant) {
        match self.sent.remove(&id) {
            Some(due) => self.latencies.record(at.saturating_duration_since(due)),
            None => {
                self.early.insert(id, at);
            }
        }
    }
}

fn probe_handler() -> Value {
    json!({"type": "match", "name": "latency probe", "params": {
        "filter": [{"field": "source", "op": "eq", "value": "latency-probe"}],
        "severity": "info", "summary": "probe {seq}", "key": "{seq}"}})
}

pub async fn run(o: Options<'_>) -> anyhow::Result<Report> {
    if o.rate <= 0.0 {
        bail!("--rate must be positive");
    }
    let mut conn = Conn::connect(o.target).await?;
    let req = o.target.json_request(
        "POST",
        "/api/v1/handlers",
        o.token,
        probe_handler().to_string().as_bytes(),
    );
    let created = conn.roundtrip(&req).await?;
    let handler = created.json()?;
    if !created.is_success() {
        bail!("creating the probe handler: {} {handler}", created.status);
    }
    let handler_id = handler["id"].as_str().unwrap_or_default().to_owned();

    let client = redis::Client::open(o.redis_url).context("bad --redis-url")?;
    let mut pubsub = client
        .get_async_pubsub()
        .await
        .context("connecting to Redis")?;
    let channel = format!("{}live:{}", o.prefix, o.user);
    pubsub.subscribe(&channel).await?;
    let mut messages = pubsub.into_on_message();

    // Warm up: the new handler reaches the dispatcher within a second or so.
    let warm = Instant::now();
    let mut ready = false;
    for k in 0.. {
        if warm.elapsed() > Duration::from_secs(15) {
            break;
        }
        let body = json!({"source": "latency-probe", "seq": format!("warmup-{k}")});
        let r = conn
            .roundtrip(&o.target.json_request(
                "POST",
                "/events",
                o.token,
                body.to_string().as_bytes(),
            ))
            .await?;
        if !r.is_success() {
            bail!(
                "posting a warm-up event: {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
        let until = tokio::time::Instant::now() + Duration::from_millis(300);
        if let Ok(Some(_)) = tokio::time::timeout_at(until, messages.next()).await {
            ready = true;
            break;
        }
    }
    if !ready {
        eprintln!("latency: no alert reached {channel} within 15 s; measuring anyway");
    }
    // Drop the warm-up alerts still on their way.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), messages.next()).await
    {
    }

    let pairing = Arc::new(Mutex::new(Pairing::default()));
    let receiver = {
        let pairing = pairing.clone();
        tokio::spawn(async move {
            while let Some(msg) = messages.next().await {
                let at = Instant::now();
                let payload: String = msg.get_payload().unwrap_or_default();
                let v: Value = serde_json::from_str(&payload).unwrap_or_default();
                let Ok(mut p) = pairing.lock() else { return };
                match v["alert"]["event_id"].as_str() {
                    Some(id) if v["type"] == "alert" => p.arrived(id.to_owned(), at),
                    _ => p.other_messages += 1,
                }
            }
        })
    };

    // The schedule feeds a pool of connections through one queue: a slow
    // answer holds up one connection, not the schedule.
    let (tx, rx) = tokio::sync::mpsc::channel::<(u64, Instant)>(100_000);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut senders = Vec::new();
    for _ in 0..o.connections.max(1) {
        let rx = rx.clone();
        let pairing = pairing.clone();
        let target = o.target.clone();
        let token = o.token.to_owned();
        senders.push(tokio::spawn(async move {
            let mut conn: Option<Conn> = None;
            loop {
                let Some((seq, due)) = rx.lock().await.recv().await else {
                    return;
                };
                let body = format!(r#"{{"source":"latency-probe","seq":{seq}}}"#);
                let req = target.json_request("POST", "/events", &token, body.as_bytes());
                let delay = due.elapsed();
                let result = async {
                    if conn.is_none() {
                        conn = Some(Conn::connect(&target).await?);
                    }
                    let c = conn.as_mut().context("no connection")?;
                    let r = c.roundtrip(&req).await?;
                    let v = r.json()?;
                    match v["ids"][0].as_str() {
                        Some(id) if r.is_success() => anyhow::Ok(id.to_owned()),
                        _ => bail!("{} {v}", r.status),
                    }
                }
                .await;
                let Ok(mut p) = pairing.lock() else { return };
                p.max_send_delay = p.max_send_delay.max(delay);
                match result {
                    Ok(id) => p.sent(id, due),
                    Err(e) => {
                        conn = None;
                        p.send_failures += 1;
                        if p.first_error.is_none() {
                            p.first_error = Some(format!("{e:#}"));
                        }
                    }
                }
            }
        }));
    }

    let total = (o.rate * o.duration.as_secs_f64()).round() as u64;
    let start = Instant::now();
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / o.rate);
        tokio::time::sleep_until(due.into()).await;
        if tx.send((i, due)).await.is_err() {
            break;
        }
    }
    drop(tx);
    for s in senders {
        s.await.context("a sender panicked")?;
    }
    let sent_for = start.elapsed();
    // Wait for the stragglers, but not longer than needed.
    let deadline = Instant::now() + o.grace;
    while Instant::now() < deadline {
        if pairing.lock().map(|p| p.sent.is_empty()).unwrap_or(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    receiver.abort();

    if !handler_id.is_empty() {
        let req = o.target.json_request(
            "DELETE",
            &format!("/api/v1/handlers/{handler_id}"),
            o.token,
            b"",
        );
        if let Err(e) = conn.roundtrip(&req).await {
            eprintln!("latency: could not delete the probe handler {handler_id}: {e:#}");
        }
    }

    let mut p = pairing
        .lock()
        .map_err(|_| anyhow::anyhow!("a sender panicked"))?;
    let mut r = Report::new("latency");
    r.add("sent", "events due", total, "");
    r.add_f("send_seconds", "sending time", sent_for.as_secs_f64(), "s");
    r.add_f(
        "rate_per_s",
        "achieved rate",
        total as f64 / sent_for.as_secs_f64().max(1e-9),
        "events/s",
    );
    r.add(
        "received",
        "alerts received and paired",
        p.latencies.len(),
        "",
    );
    r.add(
        "missing",
        "accepted events whose alert never arrived",
        p.sent.len(),
        "",
    );
    r.add("send_failures", "events not accepted", p.send_failures, "");
    let delay_ms = p.max_send_delay.as_secs_f64() * 1000.0;
    r.add_f(
        "max_send_delay_ms",
        "largest send delay behind schedule",
        delay_ms,
        "ms",
    );
    let early_unmatched = p.early.len() as u64 + p.other_messages;
    r.add(
        "unmatched_messages",
        "live messages not paired with a send",
        early_unmatched,
        "",
    );
    r.add_latencies(
        "latency",
        "POST to live alert",
        &mut p.latencies,
        &[0.5, 0.9, 0.99, 1.0],
    );
    if let Some(e) = &p.first_error {
        r.add("first_error", "first error", e.clone(), "");
    }
    Ok(r)
}

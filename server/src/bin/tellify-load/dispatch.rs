//! `dispatch`: how fast the dispatcher turns events into handler work.
//!
//! Posts N events in batches as fast as the server takes them, while a
//! sampler reads every partition's checkpoint (`P{pN}:ckpt`, the last stream
//! id the partition has fully processed) every `sample` interval. Dispatch
//! rate is N over the time from the first post to the moment every
//! checkpoint has reached the last accepted id.
//!
//! Lag is given two ways, both between the newest id accepted so far and the
//! slowest partition's checkpoint: in events (how many of the ids this tool
//! was given lie above the checkpoint: exact when nothing else writes to the
//! stream, which is the case on a fresh prefix) and in milliseconds (the
//! difference of the ids' time parts).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use redis::AsyncCommands;

use crate::http::{Response, Target};
use crate::load::{self, OnAccepted, Until};
use crate::report::Report;

/// A stream id `ms-seq` as one ordered number.
pub fn parse_id(id: &str) -> Option<u128> {
    let (ms, seq) = id.split_once('-')?;
    Some((u128::from(ms.parse::<u64>().ok()?) << 64) | u128::from(seq.parse::<u64>().ok()?))
}

fn id_ms(id: u128) -> u64 {
    (id >> 64) as u64
}

pub struct Options<'a> {
    pub target: &'a Target,
    pub token: &'a str,
    pub events: &'a [String],
    pub count: usize,
    pub batch: usize,
    pub concurrency: usize,
    pub redis_url: &'a str,
    pub prefix: &'a str,
    pub partitions: u32,
    pub sample: Duration,
    pub timeout: Duration,
}

#[derive(Default)]
struct Lag {
    /// Every id accepted so far, in arrival order (nearly sorted).
    ids: Vec<u128>,
    max_events: usize,
    max_ms: u64,
}

impl Lag {
    /// Lag against `slowest`, remembering the largest. Returns events behind.
    fn sample(&mut self, slowest: u128) -> usize {
        // Answers arrive nearly in id order: this sort is close to linear.
        self.ids.sort_unstable();
        let (Some(&oldest), Some(&newest)) = (self.ids.first(), self.ids.last()) else {
            return 0;
        };
        let behind = self.ids.len() - self.ids.partition_point(|&id| id <= slowest);
        // A partition with no checkpoint yet (or one below this run's first
        // id) is behind by everything this run posted, no more.
        let ms = id_ms(newest).saturating_sub(id_ms(slowest.max(oldest)));
        self.max_events = self.max_events.max(behind);
        if behind > 0 {
            self.max_ms = self.max_ms.max(ms);
        }
        behind
    }
}

pub async fn run(o: Options<'_>) -> anyhow::Result<Report> {
    let client = redis::Client::open(o.redis_url).context("bad --redis-url")?;
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("connecting to {}", o.redis_url))?;
    let ckpt_keys: Vec<String> = (0..o.partitions)
        .map(|p| format!("{}{{p{p}}}:ckpt", o.prefix))
        .collect();

    let events: Vec<String> = o.events.iter().cycle().take(o.count).cloned().collect();
    let requests = Arc::new(load::prepare(o.target, o.token, &events, o.batch));
    let n_requests = requests.len();

    let lag = Arc::new(Mutex::new(Lag::default()));
    let collect: OnAccepted = {
        let lag = lag.clone();
        Arc::new(move |r: &Response| {
            let ids: Vec<u128> = r
                .json()
                .ok()
                .and_then(|v| {
                    v["ids"].as_array().map(|a| {
                        a.iter()
                            .filter_map(|i| i.as_str().and_then(parse_id))
                            .collect()
                    })
                })
                .unwrap_or_default();
            if let Ok(mut l) = lag.lock() {
                l.ids.extend(ids);
            }
        })
    };

    // The sampler runs until told to stop; it also ends the wait for the
    // catch-up, so one loop does both.
    let (posted_tx, posted_rx) = tokio::sync::watch::channel(false);
    let sampler = {
        let lag = lag.clone();
        let keys = ckpt_keys.clone();
        let mut redis = redis.clone();
        let sample = o.sample;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(sample);
            loop {
                tick.tick().await;
                if *posted_rx.borrow() {
                    return anyhow::Ok(());
                }
                let slowest = slowest_checkpoint(&mut redis, &keys).await?;
                if let Ok(mut l) = lag.lock() {
                    l.sample(slowest);
                }
            }
        })
    };

    let start = Instant::now();
    let mut outcome = load::run(
        o.target,
        requests,
        o.concurrency,
        Until::Requests(n_requests),
        Some(collect),
    )
    .await?;
    let posted = start.elapsed();
    // Stop the sampler before taking the final figures.
    let _ = posted_tx.send(true);
    sampler.await.context("the sampler panicked")??;

    let last = lag.lock().ok().and_then(|l| l.ids.iter().max().copied());
    let mut caught_up = last.is_none();
    let mut behind_at_end = 0;
    if let Some(last) = last {
        let deadline = Instant::now() + o.timeout;
        loop {
            let slowest = slowest_checkpoint(&mut redis, &ckpt_keys).await?;
            if let Ok(mut l) = lag.lock() {
                behind_at_end = l.sample(slowest);
            }
            if slowest >= last {
                caught_up = true;
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let dispatched = start.elapsed();

    let mut r = Report::new("dispatch");
    r.add("events_posted", "events posted", events.len(), "");
    r.add("events_accepted", "events accepted", outcome.events_ok, "");
    r.add_f("ingest_seconds", "ingest time", posted.as_secs_f64(), "s");
    r.add_f(
        "ingest_events_per_s",
        "ingest events/s",
        outcome.events_ok as f64 / posted.as_secs_f64().max(1e-9),
        "events/s",
    );
    r.add("caught_up", "all partitions caught up", caught_up, "");
    if caught_up {
        r.add_f(
            "dispatch_seconds",
            "first post to all caught up",
            dispatched.as_secs_f64(),
            "s",
        );
        r.add_f(
            "dispatch_events_per_s",
            "dispatch events/s",
            outcome.events_ok as f64 / dispatched.as_secs_f64().max(1e-9),
            "events/s",
        );
    } else {
        r.add(
            "behind_at_timeout",
            "events not dispatched at timeout",
            behind_at_end,
            "events",
        );
        let done = outcome.events_ok.saturating_sub(behind_at_end as u64);
        r.add_f(
            "dispatch_events_per_s_at_timeout",
            "dispatch events/s until the timeout (slowest partition)",
            done as f64 / dispatched.as_secs_f64().max(1e-9),
            "events/s",
        );
    }
    let (max_events, max_ms) = lag
        .lock()
        .map(|l| (l.max_events, l.max_ms))
        .unwrap_or_default();
    r.add(
        "max_lag_events",
        "largest lag (accepted ids above slowest checkpoint)",
        max_events,
        "events",
    );
    r.add(
        "max_lag_ms",
        "largest lag (id time difference)",
        max_ms,
        "ms",
    );
    outcome.elapsed = posted;
    let non_2xx: u64 = outcome.non_2xx.values().sum();
    r.add("non_2xx", "non-2xx answers", non_2xx, "");
    r.add("io_errors", "connection errors", outcome.io_errors, "");
    if let Some(e) = &outcome.first_error {
        r.add("first_error", "first error", e.clone(), "");
    }
    Ok(r)
}

/// The lowest checkpoint over all partitions (0 for one that has none yet).
async fn slowest_checkpoint(
    redis: &mut redis::aio::MultiplexedConnection,
    keys: &[String],
) -> anyhow::Result<u128> {
    let values: Vec<Option<String>> = redis.mget(keys).await.context("reading checkpoints")?;
    Ok(values
        .iter()
        .map(|v| v.as_deref().and_then(parse_id).unwrap_or(0))
        .min()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_order_by_time_then_sequence() {
        assert!(parse_id("5-10") > parse_id("5-9"));
        assert!(parse_id("6-0") > parse_id("5-99"));
        assert_eq!(parse_id("x-1"), None);
    }

    #[test]
    fn lag_counts_ids_above_the_checkpoint() {
        let mut l = Lag {
            ids: ["3-0", "1-0", "2-0", "2-1"]
                .iter()
                .filter_map(|s| parse_id(s))
                .collect(),
            ..Lag::default()
        };
        assert_eq!(l.sample(parse_id("2-0").unwrap_or(0)), 2);
        assert_eq!(l.max_ms, 1);
        assert_eq!(l.sample(parse_id("3-0").unwrap_or(0)), 0);
        assert_eq!(l.max_events, 2);
    }
}

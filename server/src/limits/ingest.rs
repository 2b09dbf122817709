//! The ingest rate limit: a token bucket per ingest token.
//!
//! A bucket holds up to `burst` events and refills at `rate` events a second.
//! A request of `n` events takes `n` from its token's bucket, or is refused
//! (429) with the time after which it would fit; a refused request takes
//! nothing. A batch larger than the whole bucket takes all of a full bucket,
//! so the batch limit (`--max-batch`) stays the only cap on batch size.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept at most; past that, full (idle) buckets are dropped, which
/// loses nothing: a missing bucket starts full.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug)]
pub struct IngestLimiter {
    /// Events a second; 0 turns the limit off.
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl IngestLimiter {
    pub fn new(rate: f64, burst: u32) -> Self {
        IngestLimiter {
            rate: if rate.is_finite() { rate.max(0.0) } else { 0.0 },
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.rate > 0.0
    }

    /// Take `n` events from `key`'s bucket, or say how long until they fit.
    pub fn take(&self, key: &str, n: usize) -> Result<(), Duration> {
        self.take_at(key, n, Instant::now())
    }

    fn take_at(&self, key: &str, n: usize, now: Instant) -> Result<(), Duration> {
        if !self.enabled() {
            return Ok(());
        }
        let cost = (n as f64).min(self.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| refilled(b, rate, burst, now) < burst);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = refilled(bucket, self.rate, self.burst, now);
        if tokens >= cost {
            *bucket = Bucket {
                tokens: tokens - cost,
                at: now,
            };
            Ok(())
        } else {
            Err(Duration::from_secs_f64((cost - tokens) / self.rate))
        }
    }
}

/// What the bucket holds at `now`.
fn refilled(b: &Bucket, rate: f64, burst: f64, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * rate).min(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_the_rate() {
        let l = IngestLimiter::new(2.0, 5);
        let t0 = Instant::now();
        assert_eq!(l.take_at("a", 5, t0), Ok(()));
        let wait = l.take_at("a", 1, t0).expect_err("empty");
        assert_eq!(wait, Duration::from_millis(500));
        // Another token has its own bucket.
        assert_eq!(l.take_at("b", 3, t0), Ok(()));
        // Half a second later one event fits, not two.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.take_at("a", 2, t1).is_err(), "a refusal takes nothing");
        assert_eq!(l.take_at("a", 1, t1), Ok(()));
        // Refills stop at the burst.
        let later = t1 + Duration::from_secs(3600);
        assert_eq!(l.take_at("a", 5, later), Ok(()));
        assert!(l.take_at("a", 1, later).is_err());
    }

    #[test]
    fn a_batch_larger_than_the_burst_takes_a_full_bucket() {
        let l = IngestLimiter::new(10.0, 100);
        let t0 = Instant::now();
        assert_eq!(l.take_at("a", 1000, t0), Ok(()));
        assert_eq!(
            l.take_at("a", 1000, t0),
            Err(Duration::from_secs(10)),
            "until the bucket is full again"
        );
    }

    #[test]
    fn rate_zero_is_off() {
        let l = IngestLimiter::new(0.0, 1);
        assert!(!l.enabled());
        for _ in 0..100 {
            assert_eq!(l.take("a", 1000), Ok(()));
        }
    }
}

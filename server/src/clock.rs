//! The clock the aggregator reads. Real time in production; tests set it to
//! a moment ("Tuesday 10:00 in Paris") and move it, instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the epoch; a set time, or the real one.
#[derive(Clone, Default, Debug)]
pub struct Clock {
    /// 0: real time; otherwise the fixed time in milliseconds.
    fixed: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> jiff::Timestamp {
        match self.fixed.load(Ordering::Acquire) {
            0 => jiff::Timestamp::now(),
            ms => jiff::Timestamp::from_millisecond(ms).unwrap_or_else(|_| jiff::Timestamp::now()),
        }
    }

    pub fn now_millis(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Stop the clock at `t` (tests).
    pub fn set(&self, t: jiff::Timestamp) {
        self.fixed
            .store(t.as_millisecond().max(1), Ordering::Release);
    }

    /// Move a set clock forward (tests).
    pub fn advance(&self, by: std::time::Duration) {
        let now = self.now_millis();
        self.fixed
            .store(now + by.as_millis() as i64, Ordering::Release);
    }
}

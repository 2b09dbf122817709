//! Login throttling: failed password checks per user name and per client
//! address within a sliding window.
//!
//! After [`MAX_FAILURES_PER_NAME`] failures for one name within [`WINDOW`],
//! further attempts on that name are refused with 429 (without checking the
//! password, right or wrong) until the oldest failure leaves the window. A
//! successful login clears the name's failures. The per-address limit is
//! higher ([`MAX_FAILURES_PER_ADDRESS`]): one address guessing across many
//! names is caught, while people behind one NAT or proxy who mistype their
//! own passwords are not all locked out by five typos. Behind a reverse
//! proxy every client has the proxy's address: the per-name limit still
//! holds, the per-address one then counts everyone's failures together.
//!
//! An attempt is counted as a failure *before* the password is checked and
//! taken back when it was right, so many attempts sent at once cannot all
//! slip in before the first failure is recorded.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts on one user name allowed within [`WINDOW`].
pub const MAX_FAILURES_PER_NAME: usize = 5;
/// Failed attempts from one client address allowed within [`WINDOW`].
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
/// How long a failed attempt counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Names and addresses tracked at most; past that, those without a failure
/// in the window are dropped.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String),
    Address(IpAddr),
}

/// Failure times per name and per address (oldest first).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

/// Why an attempt is refused, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Name(Duration),
    Address(Duration),
}

impl LoginThrottle {
    /// Start an attempt: refused if the name or the address is over its
    /// limit; otherwise counted as a failure until [`LoginThrottle::succeeded`].
    pub fn begin(&self, name: &str, address: Option<IpAddr>) -> Result<(), Refused> {
        self.begin_at(name, address, Instant::now())
    }

    /// The password was right: forget the name's failures, and take back the
    /// attempt counted against the address.
    pub fn succeeded(&self, name: &str, address: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&Key::Name(name.to_owned()));
        if let Some(a) = address
            && let Some(times) = failures.get_mut(&Key::Address(a))
        {
            times.pop_back();
        }
    }

    /// The attempt could not be checked (a server error): take it back.
    pub fn cancelled(&self, name: &str, address: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let keys = std::iter::once(Key::Name(name.to_owned())).chain(address.map(Key::Address));
        for k in keys {
            if let Some(times) = failures.get_mut(&k) {
                times.pop_back();
            }
        }
    }

    fn begin_at(&self, name: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Refused> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        let name_key = Key::Name(name.to_owned());
        if let Some(wait) = over(&mut failures, &name_key, MAX_FAILURES_PER_NAME, now) {
            return Err(Refused::Name(wait));
        }
        let address_key = address.map(Key::Address);
        if let Some(k) = &address_key
            && let Some(wait) = over(&mut failures, k, MAX_FAILURES_PER_ADDRESS, now)
        {
            return Err(Refused::Address(wait));
        }
        failures.entry(name_key).or_default().push_back(now);
        if let Some(k) = address_key {
            failures.entry(k).or_default().push_back(now);
        }
        Ok(())
    }
}

/// Drop the failures that left the window.
fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

/// How long `key` must wait, if it has `max` failures in the window.
fn over(
    failures: &mut HashMap<Key, VecDeque<Instant>>,
    key: &Key,
    max: usize,
    now: Instant,
) -> Option<Duration> {
    let times = failures.get_mut(key)?;
    expire(times, now);
    if times.len() < max {
        return None;
    }
    let oldest = *times.front()?;
    Some(WINDOW.saturating_sub(now.saturating_duration_since(oldest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn five_failures_lock_the_name_until_the_oldest_leaves_the_window() {
        let t = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(t.begin_at("ann", HOME, t0 + Duration::from_secs(i)), Ok(()));
        }
        let at = t0 + Duration::from_secs(60);
        assert_eq!(
            t.begin_at("ann", HOME, at),
            Err(Refused::Name(WINDOW - Duration::from_secs(60)))
        );
        assert_eq!(t.begin_at("bob", HOME, at), Ok(()), "other names are free");
        // Once the first failure is 15 minutes old, one more attempt.
        let later = t0 + WINDOW;
        assert_eq!(t.begin_at("ann", HOME, later), Ok(()));
        assert!(t.begin_at("ann", HOME, later).is_err());
    }

    #[test]
    fn success_clears_the_name_and_takes_back_the_attempt() {
        let t = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(t.begin_at("ann", HOME, t0), Ok(()));
        }
        assert_eq!(t.begin_at("ann", HOME, t0), Ok(()));
        t.succeeded("ann", HOME);
        for _ in 0..5 {
            assert_eq!(t.begin_at("ann", HOME, t0), Ok(()));
        }
        assert!(t.begin_at("ann", HOME, t0).is_err());
    }

    #[test]
    fn one_address_guessing_many_names_is_stopped() {
        let t = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            assert_eq!(t.begin_at(&format!("user{i}"), HOME, t0), Ok(()));
        }
        assert_eq!(
            t.begin_at("someone-else", HOME, t0),
            Err(Refused::Address(WINDOW))
        );
        assert_eq!(
            t.begin_at("someone-else", None, t0),
            Ok(()),
            "another address"
        );
    }
}

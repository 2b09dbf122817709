//! Abuse limits: how fast one ingest token may post events, and how many
//! wrong passwords a user name or a client address may try.
//!
//! Both are kept in memory, per node. With several nodes behind a load
//! balancer each node counts on its own, so a client that is spread over `N`
//! nodes gets up to `N` times the limit; a shared count in Redis is a later
//! step. That is acceptable for what these limits are for: keeping one
//! runaway script from filling the events stream, and making password
//! guessing slow, not counting to the exact event.
//!
//! Secrets are compared so that timing tells nothing (see the README,
//! "Limits"): tokens and session cookies are looked up by their SHA-256, so
//! a guess only ever meets hashes it cannot steer; the CSRF token is compared
//! with [`crate::auth::secrets::same`]; passwords are checked by argon2, and
//! against a dummy hash when the user does not exist.

mod ingest;
pub mod login;

pub use ingest::IngestLimiter;
pub use login::{LoginThrottle, MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_NAME, WINDOW};

/// Every limit of one node.
#[derive(Debug)]
pub struct Limits {
    pub ingest: IngestLimiter,
    pub logins: LoginThrottle,
}

impl Limits {
    pub fn new(config: &crate::Config) -> Self {
        Limits {
            ingest: IngestLimiter::new(config.ingest_rate, config.ingest_burst),
            logins: LoginThrottle::default(),
        }
    }
}

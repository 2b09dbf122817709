//! The aggregator: how and when each user hears about their alerts.
//!
//! Alert transitions that matter to a person (an alert fires, changes
//! severity, resolves) become *notices* in the owner's pending queue, one per
//! (user, channel). The owner's policy decides, through its first matching
//! rule, which channels get a notice and when the digest of each is due
//! (`aggregate_for`, or the end of a `hold` window). Due digests are rendered
//! (plain text and HTML email, one-line SMS, webhook JSON) and delivered with
//! retries; every attempt is logged in MongoDB `notifications`.
//!
//! * `policy`: channels, policies and rules as domain types, parsed and
//!   checked at the edge.
//! * `schedule`: pure, clock-injected time logic (which rule applies, when a
//!   digest is due), correct across daylight-saving changes.
//! * `render`: digests into their three forms.
//! * `deliver`: SMTP, the SMS gateway and webhooks.

pub mod deliver;
pub mod policy;
pub mod queue;
pub mod render;
pub mod schedule;

use serde::{Deserialize, Serialize};
use tellify_handlers::AlertView;

pub use policy::{Channel, ChannelKind};

/// One alert as a digest carries it: its latest status when the digest was
/// made, and what raised it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    pub alert_id: String,
    pub handler_id: String,
    /// The handler type's name (`threshold`, …): picks the renderer.
    pub handler_type: String,
    /// The handler instance's name, as its owner called it.
    pub instance_name: String,
    pub alert: AlertView,
}

/// A digest for one user and one channel.
#[derive(Debug, Clone)]
pub struct Digest {
    /// Stable across retries of the same digest.
    pub id: String,
    pub owner: String,
    pub channel: Channel,
    pub notices: Vec<Notice>,
    /// When it was made (milliseconds since the epoch).
    pub created_at: i64,
    /// The owner's IANA timezone, for the times shown.
    pub timezone: String,
    /// Link to the dashboard (the configured base URL).
    pub dashboard_url: String,
}

/// A digest in every form a channel may need.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// One line of at most 160 characters.
    pub sms: String,
    /// The webhook's JSON document.
    pub webhook: serde_json::Value,
}

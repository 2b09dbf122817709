//! Prometheus metrics (`GET /metrics`), with the official client crate.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabel {
    pub partition: u32,
}

/// Every metric Tellify exports.
pub struct Metrics {
    registry: Registry,
    pub events_ingested: Counter,
    pub events_dispatched: Counter,
    pub handler_evaluations: Counter,
    pub alerts_fired: Counter,
    pub alerts_resolved: Counter,
    /// Milliseconds between the newest event read and a partition's checkpoint.
    pub dispatcher_lag_ms: Family<PartitionLabel, Gauge>,
    pub alert_writes: Counter,
    /// Ingest requests refused by the rate limit.
    pub events_rate_limited: Counter,
    /// Login attempts refused by the throttle.
    pub logins_throttled: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tellify");
        let m = Metrics {
            events_ingested: Counter::default(),
            events_dispatched: Counter::default(),
            handler_evaluations: Counter::default(),
            alerts_fired: Counter::default(),
            alerts_resolved: Counter::default(),
            dispatcher_lag_ms: Family::default(),
            alert_writes: Counter::default(),
            events_rate_limited: Counter::default(),
            logins_throttled: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "events_ingested",
            "Events accepted by POST /events",
            m.events_ingested.clone(),
        );
        registry.register(
            "events_dispatched",
            "Events run through the handlers of a partition (counted once per node)",
            m.events_dispatched.clone(),
        );
        registry.register(
            "handler_evaluations",
            "Handler instances run on an event (the index's candidates for it)",
            m.handler_evaluations.clone(),
        );
        registry.register(
            "alerts_fired",
            "Alert fire transitions committed",
            m.alerts_fired.clone(),
        );
        registry.register(
            "alerts_resolved",
            "Alert resolve transitions committed",
            m.alerts_resolved.clone(),
        );
        registry.register(
            "dispatcher_lag_milliseconds",
            "Time between the newest event read and the partition's checkpoint",
            m.dispatcher_lag_ms.clone(),
        );
        registry.register(
            "alert_writes",
            "Alert transitions written to MongoDB",
            m.alert_writes.clone(),
        );
        registry.register(
            "events_rate_limited",
            "Ingest requests refused (429) by the per-token rate limit",
            m.events_rate_limited.clone(),
        );
        registry.register(
            "logins_throttled",
            "Password checks refused (429) after too many failures",
            m.logins_throttled.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

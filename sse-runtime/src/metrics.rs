//! What the server and the hub count, through the [`metrics`] facade: the
//! application installs the recorder it wants (Prometheus, StatsD,
//! OpenTelemetry, ...) and every number below appears there. Without a
//! recorder each handle is a no-op.
//!
//! Install the recorder before the server starts (handles are taken when a
//! connection, a stream or a hub is made), then call [`describe`] to give
//! each metric its unit and help text:
//!
//! ```no_run
//! # fn install_prometheus() {}
//! install_prometheus(); // e.g. metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()
//! sse_runtime::metrics::describe();
//! ```
//!
//! | name | type | unit | labels | what it counts |
//! |---|---|---|---|---|
//! | `sse_connections_open` | gauge | connections | | connections the server holds now, any protocol |
//! | `sse_connections_refused_total` | counter | connections | | connections answered `503` at the connection limit |
//! | `sse_streams_open` | gauge | streams | `route` | streams open now |
//! | `sse_streams_opened_total` | counter | streams | `route` | streams opened (their handler started) |
//! | `sse_streams_ended_total` | counter | streams | `route`, `reason` | streams ended, by why (below) |
//! | `sse_requests_refused_total` | counter | requests | `route`, `status` | requests to a route that got no stream: `405`, `400` (an unreadable `Last-Event-ID`, a path parameter), a body refused (`408`, `413`, `415`, `400`, `422`), an extractor's rejection |
//! | `sse_requests_answered_total` | counter | requests | `route`, `status` | requests a route's handler answered instead of streaming ([`Session::answer`](crate::Session::answer)): an answer, not a refusal |
//! | `sse_events_written_total` | counter | events | `route` | events handed to the connection (heartbeats and `retry:` are not events) |
//! | `sse_bytes_written_total` | counter | bytes | `route` | stream bytes handed to the connection, after compression, heartbeats included |
//! | `sse_heartbeats_total` | counter | heartbeats | `route` | heartbeat comments written |
//! | `sse_hub_subscribers` | gauge | subscribers | `hub` | hub subscribers being served now |
//! | `sse_hub_published_total` | counter | events | `hub` | events published |
//! | `sse_hub_delivered_total` | counter | events | `hub` | events written to subscribers (one per subscriber per event) |
//! | `sse_hub_lagged_total` | counter | subscribers | `hub` | subscribers that fell behind the history (closed or skipped ahead, by the `Lagging` policy) |
//! | `sse_hub_history_lost_total` | counter | signals | `hub` | `history-lost` signals sent |
//! | `sse_hub_publish_failures_total` | counter | publishes | `hub`, `outcome` | publishes the backplane failed: `not_published`, or `unknown` (no answer: it may still be stored) |
//!
//! `route` is the route's path pattern (`/rooms/{room}`), never the
//! request's path, so the label has one value per route. `hub` is the name
//! of the hub's route type (`ChatRoute`). `reason` is one of
//! `handler_returned`, `client_left`, `write_timeout` (the connection took
//! nothing for the write timeout), `slow_consumer` (a hub subscriber closed
//! by `Lagging::Close`), `shutdown`, `shutdown_deadline`, `handler_failed`,
//! `handler_panicked`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use metrics::{counter, describe_counter, describe_gauge, gauge, Counter, Gauge, Unit};

/// Connections the server holds now.
pub const CONNECTIONS_OPEN: &str = "sse_connections_open";
/// Connections answered `503` at the connection limit.
pub const CONNECTIONS_REFUSED: &str = "sse_connections_refused_total";
/// Streams open now, per route.
pub const STREAMS_OPEN: &str = "sse_streams_open";
/// Streams opened, per route.
pub const STREAMS_OPENED: &str = "sse_streams_opened_total";
/// Streams ended, per route and reason.
pub const STREAMS_ENDED: &str = "sse_streams_ended_total";
/// Requests to a route refused before a stream opened, per route and status.
pub const REQUESTS_REFUSED: &str = "sse_requests_refused_total";
/// Requests a route's handler answered instead of streaming, per route and
/// status.
pub const REQUESTS_ANSWERED: &str = "sse_requests_answered_total";
/// Events handed to the connection, per route.
pub const EVENTS_WRITTEN: &str = "sse_events_written_total";
/// Stream bytes handed to the connection, per route.
pub const BYTES_WRITTEN: &str = "sse_bytes_written_total";
/// Heartbeats written, per route.
pub const HEARTBEATS: &str = "sse_heartbeats_total";
/// Hub subscribers served now, per hub.
pub const HUB_SUBSCRIBERS: &str = "sse_hub_subscribers";
/// Events published, per hub.
pub const HUB_PUBLISHED: &str = "sse_hub_published_total";
/// Events delivered to subscribers, per hub.
pub const HUB_DELIVERED: &str = "sse_hub_delivered_total";
/// Subscribers that fell behind the history, per hub.
pub const HUB_LAGGED: &str = "sse_hub_lagged_total";
/// `history-lost` signals sent, per hub.
pub const HUB_HISTORY_LOST: &str = "sse_hub_history_lost_total";
/// Publishes the backplane failed, per hub and outcome.
pub const HUB_PUBLISH_FAILURES: &str = "sse_hub_publish_failures_total";

/// Gives every metric its unit and help text in the installed recorder
/// (an exporter shows them as `# HELP` and `# TYPE` lines). Call it after
/// installing the recorder; calling it again is harmless.
///
/// ```
/// sse_runtime::metrics::describe(); // no recorder: nothing happens
/// ```
pub fn describe() {
    for &(name, kind, unit, help) in DESCRIPTIONS {
        match kind {
            Kind::Counter => describe_counter!(name, unit, help),
            Kind::Gauge => describe_gauge!(name, unit, help),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// Each metric's kind, unit and help text.
const DESCRIPTIONS: &[(&str, Kind, Unit, &str)] = &[
    (
        CONNECTIONS_OPEN,
        Kind::Gauge,
        Unit::Count,
        "Connections the server holds now.",
    ),
    (
        CONNECTIONS_REFUSED,
        Kind::Counter,
        Unit::Count,
        "Connections answered 503 at the connection limit.",
    ),
    (STREAMS_OPEN, Kind::Gauge, Unit::Count, "Streams open now."),
    (
        STREAMS_OPENED,
        Kind::Counter,
        Unit::Count,
        "Streams opened.",
    ),
    (
        STREAMS_ENDED,
        Kind::Counter,
        Unit::Count,
        "Streams ended, by reason.",
    ),
    (
        REQUESTS_REFUSED,
        Kind::Counter,
        Unit::Count,
        "Requests to a route refused before a stream opened, by status.",
    ),
    (
        REQUESTS_ANSWERED,
        Kind::Counter,
        Unit::Count,
        "Requests a route's handler answered instead of streaming, by status.",
    ),
    (
        EVENTS_WRITTEN,
        Kind::Counter,
        Unit::Count,
        "Events handed to the connection.",
    ),
    (
        BYTES_WRITTEN,
        Kind::Counter,
        Unit::Bytes,
        "Stream bytes handed to the connection, after compression.",
    ),
    (
        HEARTBEATS,
        Kind::Counter,
        Unit::Count,
        "Heartbeat comments written.",
    ),
    (
        HUB_SUBSCRIBERS,
        Kind::Gauge,
        Unit::Count,
        "Hub subscribers served now.",
    ),
    (
        HUB_PUBLISHED,
        Kind::Counter,
        Unit::Count,
        "Events published to the hub.",
    ),
    (
        HUB_DELIVERED,
        Kind::Counter,
        Unit::Count,
        "Hub events written to subscribers, one per subscriber per event.",
    ),
    (
        HUB_LAGGED,
        Kind::Counter,
        Unit::Count,
        "Hub subscribers that fell behind the history.",
    ),
    (
        HUB_HISTORY_LOST,
        Kind::Counter,
        Unit::Count,
        "history-lost signals sent to hub subscribers.",
    ),
    (
        HUB_PUBLISH_FAILURES,
        Kind::Counter,
        Unit::Count,
        "Publishes the hub's backplane failed, by outcome (not_published, or unknown: it may still be stored).",
    ),
];

/// One open connection: counted while it lives.
pub(crate) struct ConnectionMetric(Gauge);

impl ConnectionMetric {
    pub(crate) fn open() -> Self {
        let gauge = gauge!(CONNECTIONS_OPEN);
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for ConnectionMetric {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// A connection answered `503` at the connection limit.
pub(crate) fn connection_refused() {
    counter!(CONNECTIONS_REFUSED).increment(1);
}

/// A request to `route` that its handler answered with `status` instead
/// of a stream.
pub(crate) fn request_answered(route: &Arc<str>, status: http::StatusCode) {
    counter!(REQUESTS_ANSWERED, "route" => route.clone(), "status" => status.as_str().to_owned())
        .increment(1);
}

/// A request to `route` that got `status` instead of a stream.
pub(crate) fn request_refused(route: &Arc<str>, status: http::StatusCode) {
    counter!(REQUESTS_REFUSED, "route" => route.clone(), "status" => status.as_str().to_owned())
        .increment(1);
}

/// One stream's handles, taken when its request is decided: the hot
/// counters are bumped without looking them up again. Counted open from
/// [`opened`](Self::opened) until dropped.
pub(crate) struct StreamMetrics {
    route: Arc<str>,
    open: Gauge,
    counted: AtomicBool,
    events: Counter,
    bytes: Counter,
    heartbeats: Counter,
}

impl StreamMetrics {
    /// The handles of a stream of `route`.
    pub(crate) fn new(route: &Arc<str>) -> Self {
        Self {
            route: route.clone(),
            open: gauge!(STREAMS_OPEN, "route" => route.clone()),
            counted: AtomicBool::new(false),
            events: counter!(EVENTS_WRITTEN, "route" => route.clone()),
            bytes: counter!(BYTES_WRITTEN, "route" => route.clone()),
            heartbeats: counter!(HEARTBEATS, "route" => route.clone()),
        }
    }

    /// The stream opened: its handler started.
    pub(crate) fn opened(&self) {
        counter!(STREAMS_OPENED, "route" => self.route.clone()).increment(1);
        self.open.increment(1.0);
        self.counted.store(true, Ordering::Relaxed);
    }

    /// `events` events went to the connection.
    pub(crate) fn events(&self, events: u64) {
        if events > 0 {
            self.events.increment(events);
        }
    }

    /// `bytes` bytes went to the connection.
    pub(crate) fn bytes(&self, bytes: usize) {
        self.bytes.increment(bytes as u64);
    }

    /// A heartbeat went to the connection.
    pub(crate) fn heartbeat(&self) {
        self.heartbeats.increment(1);
    }

    /// The stream ended, for `reason` (a label: `client_left`, ...).
    pub(crate) fn ended(&self, reason: &'static str) {
        counter!(STREAMS_ENDED, "route" => self.route.clone(), "reason" => reason).increment(1);
    }
}

impl Drop for StreamMetrics {
    fn drop(&mut self) {
        if *self.counted.get_mut() {
            self.open.decrement(1.0);
        }
    }
}

/// A hub's handles, taken when the hub is made.
#[derive(Clone)]
pub(crate) struct HubMetrics {
    /// The hub's name (its route type's).
    pub(crate) name: &'static str,
    pub(crate) subscribers: Gauge,
    pub(crate) published: Counter,
    pub(crate) delivered: Counter,
    pub(crate) lagged: Counter,
    pub(crate) history_lost: Counter,
}

/// A publish to the hub `hub` failed in its backplane, with `outcome`
/// (`not_published` or `unknown`). Rare: the handle is looked up each time.
pub(crate) fn publish_failed(hub: &'static str, outcome: &'static str) {
    counter!(HUB_PUBLISH_FAILURES, "hub" => hub, "outcome" => outcome).increment(1);
}

impl HubMetrics {
    /// The handles of the hub named `hub` (its route type's name).
    pub(crate) fn new(hub: &'static str) -> Self {
        Self {
            name: hub,
            subscribers: gauge!(HUB_SUBSCRIBERS, "hub" => hub),
            published: counter!(HUB_PUBLISHED, "hub" => hub),
            delivered: counter!(HUB_DELIVERED, "hub" => hub),
            lagged: counter!(HUB_LAGGED, "hub" => hub),
            history_lost: counter!(HUB_HISTORY_LOST, "hub" => hub),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table in this module's documentation and [`DESCRIPTIONS`] say
    /// the same: every metric, its kind, and its unit (counts are written
    /// as what they count, bytes as bytes).
    #[test]
    fn the_documented_table_lists_every_metric_as_described() {
        let source = include_str!("metrics.rs");
        for &(name, kind, unit, _) in DESCRIPTIONS {
            let kind = match kind {
                Kind::Counter => "counter",
                Kind::Gauge => "gauge",
            };
            let row = format!("//! | `{name}` | {kind} | ");
            let line = source
                .lines()
                .find(|line| line.starts_with(&row))
                .unwrap_or_else(|| panic!("no row for {name} as a {kind}"));
            assert_eq!(line.contains("| bytes |"), unit == Unit::Bytes, "{line}");
        }
        let rows = source
            .lines()
            .filter(|l| l.starts_with("//! | `sse_"))
            .count();
        assert_eq!(
            rows,
            DESCRIPTIONS.len(),
            "a documented metric without a description"
        );
    }
}

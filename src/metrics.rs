//! The daemon's counters, gauges and histograms, in Prometheus text format through
//! `prometheus-client`.
//!
//! Each is updated where its event happens (a fetch ends, a feed is served, a reload or
//! a prune runs); a scrape only encodes what is already counted and never queries the
//! database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// How a fetch ended, as counted.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum FetchOutcome {
    Stored,
    NotModified,
    Failed,
}

/// How a request for a published file was answered.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Response {
    /// 200 with the bytes.
    Served,
    /// 304: the client's copy is current.
    NotModified,
}

/// How a configuration reload ended.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum ReloadOutcome {
    Applied,
    /// The files did not validate: the running configuration stays.
    Rejected,
}

/// Label values as Prometheus users write them: snake case.
macro_rules! label_values {
    ($($type:ty { $($variant:ident => $name:literal),+ })+) => {$(
        impl EncodeLabelValue for $type {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
                use std::fmt::Write as _;
                encoder.write_str(match self { $(Self::$variant => $name),+ })
            }
        }
    )+};
}

label_values! {
    FetchOutcome { Stored => "stored", NotModified => "not_modified", Failed => "failed" }
    Response { Served => "served", NotModified => "not_modified" }
    ReloadOutcome { Applied => "applied", Rejected => "rejected" }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: FetchOutcome,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResponseLabel {
    response: Response,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabel {
    outcome: ReloadOutcome,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

/// Every metric the daemon exports; cheap to share behind an `Arc`.
pub struct Metrics {
    registry: Registry,
    fetches: Family<OutcomeLabel, Counter>,
    items_ingested: Counter,
    items_relevant: Counter,
    fetch_duration: Histogram,
    last_success: Family<SourceLabel, Gauge>,
    consecutive_failures: Family<SourceLabel, Gauge>,
    feed_requests: Family<ResponseLabel, Counter>,
    retags: Counter,
    reloads: Family<ReloadLabel, Counter>,
    prunes: Counter,
    items_pruned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("entente");
        let fetches = Family::<OutcomeLabel, Counter>::default();
        registry.register("fetches", "Source fetches, by outcome", fetches.clone());
        let items_ingested = Counter::default();
        registry.register(
            "items_ingested",
            "New items stored from fetched feeds",
            items_ingested.clone(),
        );
        let items_relevant = Counter::default();
        registry.register(
            "items_relevant",
            "New items the classifier found relevant",
            items_relevant.clone(),
        );
        // 10 ms to about 80 s.
        let fetch_duration = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "fetch_duration_seconds",
            "Time from request to stored outcome, per source fetch",
            fetch_duration.clone(),
        );
        let last_success = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "source_last_success_timestamp_seconds",
            "When each source was last fetched successfully (Unix time)",
            last_success.clone(),
        );
        let consecutive_failures = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "source_consecutive_failures",
            "Failed fetches in a row, per source",
            consecutive_failures.clone(),
        );
        let feed_requests = Family::<ResponseLabel, Counter>::default();
        registry.register(
            "feed_requests",
            "Requests for published files, by response",
            feed_requests.clone(),
        );
        let retags = Counter::default();
        registry.register(
            "retag_runs",
            "Background retags after a rules change",
            retags.clone(),
        );
        let reloads = Family::<ReloadLabel, Counter>::default();
        registry.register(
            "reload_runs",
            "Configuration reloads, by outcome",
            reloads.clone(),
        );
        let prunes = Counter::default();
        registry.register("prune_runs", "Retention prunes", prunes.clone());
        let items_pruned = Counter::default();
        registry.register(
            "items_pruned",
            "Items deleted by retention",
            items_pruned.clone(),
        );
        Metrics {
            registry,
            fetches,
            items_ingested,
            items_relevant,
            fetch_duration,
            last_success,
            consecutive_failures,
            feed_requests,
            retags,
            reloads,
            prunes,
            items_pruned,
        }
    }
}

impl Metrics {
    /// A fetch of `source` ended: `failures` is its count of failures in a row after it.
    pub fn fetch_ended(
        &self,
        source: &str,
        outcome: FetchOutcome,
        took: Duration,
        failures: u32,
        now: DateTime<Utc>,
    ) {
        self.fetches.get_or_create(&OutcomeLabel { outcome }).inc();
        self.fetch_duration.observe(took.as_secs_f64());
        let label = SourceLabel {
            source: source.to_string(),
        };
        self.consecutive_failures
            .get_or_create(&label)
            .set(i64::from(failures));
        if outcome != FetchOutcome::Failed {
            self.last_success.get_or_create(&label).set(now.timestamp());
        }
    }

    pub fn items_stored(&self, new: u64, relevant: u64) {
        self.items_ingested.inc_by(new);
        self.items_relevant.inc_by(relevant);
    }

    /// A source's state as stored before this process started, so that a restart does
    /// not show every source as never fetched.
    pub fn source_known(&self, source: &str, last_success: Option<DateTime<Utc>>, failures: u32) {
        let label = SourceLabel {
            source: source.to_string(),
        };
        self.consecutive_failures
            .get_or_create(&label)
            .set(i64::from(failures));
        if let Some(at) = last_success {
            self.last_success.get_or_create(&label).set(at.timestamp());
        }
    }

    /// A source left the configuration: its series end.
    pub fn source_removed(&self, source: &str) {
        let label = SourceLabel {
            source: source.to_string(),
        };
        self.consecutive_failures.remove(&label);
        self.last_success.remove(&label);
    }

    pub fn feed_request(&self, response: Response) {
        self.feed_requests
            .get_or_create(&ResponseLabel { response })
            .inc();
    }

    pub fn retagged(&self) {
        self.retags.inc();
    }

    pub fn reloaded(&self, outcome: ReloadOutcome) {
        self.reloads.get_or_create(&ReloadLabel { outcome }).inc();
    }

    pub fn pruned(&self, items: u64) {
        self.prunes.inc();
        self.items_pruned.inc_by(items);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

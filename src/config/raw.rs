//! The shape of feeds.toml as written, before validation. Every value a later check may
//! complain about keeps its position (`toml::Spanned`).

use serde::Deserialize;
use toml::Spanned;

/// The keys of each table, so that every unknown key can be reported (serde stops at
/// the first) and the rest of the table still checked.
pub const DAEMON_KEYS: &[&str] = &[
    "database",
    "listen",
    "public_url",
    "title",
    "description",
    "schedule",
    "timezone",
    "feed_items",
    "user_agent",
    "retention_days",
    "irrelevant_retention_days",
    "max_items_per_topic",
    "retention_interval_minutes",
    "watch_config",
    "dedup_threshold",
    "dedup_window_hours",
    "websub_hub",
    "limits",
];
pub const LIMITS_KEYS: &[&str] = &[
    "connect_timeout_secs",
    "timeout_secs",
    "max_body_bytes",
    "per_host",
    "concurrency",
    "max_redirects",
    "max_backoff_secs",
    "failing_after",
    "grace_secs",
    "max_items_per_fetch",
    "max_title_chars",
    "max_summary_chars",
    "max_content_bytes",
];
pub const SOURCE_KEYS: &[&str] = &[
    "id", "url", "name", "schedule", "timezone", "lang", "enabled",
];

/// `[daemon]`: where the database lives, how the server and the fetcher behave.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    pub database: Option<Spanned<String>>,
    pub listen: Option<Spanned<String>>,
    pub public_url: Option<Spanned<String>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub schedule: Option<Spanned<String>>,
    /// The IANA time zone every schedule is read in (default UTC).
    pub timezone: Option<Spanned<String>>,
    pub feed_items: Option<Spanned<i64>>,
    pub user_agent: Option<String>,
    pub retention_days: Option<Spanned<i64>>,
    pub irrelevant_retention_days: Option<Spanned<i64>>,
    pub max_items_per_topic: Option<Spanned<i64>>,
    pub retention_interval_minutes: Option<Spanned<i64>>,
    /// Reload when feeds.toml or the rules file changes (else on SIGHUP only).
    pub watch_config: Option<bool>,
    /// Title similarity (0 to 1) at or above which two items are the same story.
    pub dedup_threshold: Option<Spanned<f64>>,
    /// How far apart (by date) two copies of a story may be.
    pub dedup_window_hours: Option<Spanned<i64>>,
    /// The WebSub hub the feeds advertise and the daemon pings when they change.
    pub websub_hub: Option<Spanned<String>>,
    #[serde(default)]
    pub limits: RawLimits,
}

/// `[daemon.limits]`: timeouts, sizes, concurrency and retry policy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub connect_timeout_secs: Option<Spanned<i64>>,
    pub timeout_secs: Option<Spanned<i64>>,
    pub max_body_bytes: Option<Spanned<i64>>,
    pub per_host: Option<Spanned<i64>>,
    pub concurrency: Option<Spanned<i64>>,
    pub max_redirects: Option<Spanned<i64>>,
    pub max_backoff_secs: Option<Spanned<i64>>,
    pub failing_after: Option<Spanned<i64>>,
    pub grace_secs: Option<Spanned<i64>>,
    pub max_items_per_fetch: Option<Spanned<i64>>,
    pub max_title_chars: Option<Spanned<i64>>,
    pub max_summary_chars: Option<Spanned<i64>>,
    pub max_content_bytes: Option<Spanned<i64>>,
}

/// One `[[source]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub id: Spanned<String>,
    pub url: Spanned<String>,
    pub name: Option<String>,
    pub schedule: Option<Spanned<String>>,
    /// This source's schedule's time zone, instead of the daemon's.
    pub timezone: Option<Spanned<String>>,
    pub lang: Option<Spanned<String>>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

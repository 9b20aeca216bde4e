//! feeds.toml: the sources, the daemon's settings and the classifier's rules.
//!
//! Two stages, as the operator's file meets the program: `raw` mirrors the file with
//! positions kept, then [`Config::parse`] validates everything once (URLs parsed, cron
//! expressions compiled, rules compiled) and reports *every* problem as
//! `FILE:LINE:COL: message`. Nothing downstream re-validates.

mod raw;
mod schedule;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;
use url::Url;

use crate::classify::{RawRules, Rules};
use crate::dedup::Policy as DedupPolicy;
use crate::item::FieldCaps;
pub use raw::{RawDaemon, RawLimits, RawSource};
use raw::{DAEMON_KEYS, LIMITS_KEYS, SOURCE_KEYS};
pub use schedule::{Schedule, ScheduleError};

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file, as named on the command line.
    pub path: PathBuf,
    /// The rules file the config names, resolved against the config's folder.
    pub rules_path: PathBuf,
    pub daemon: Daemon,
    pub sources: Vec<Source>,
    pub rules: Arc<Rules>,
}

/// `[daemon]`, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// Resolved against the config file's folder.
    pub database: PathBuf,
    pub listen: SocketAddr,
    /// Ends with `/`.
    pub public_url: Url,
    pub title: String,
    pub description: String,
    /// In `timezone`.
    pub default_schedule: Schedule,
    /// The zone schedules are read in, unless a source names its own.
    pub timezone: Tz,
    /// How many items each published feed carries.
    pub feed_items: usize,
    pub user_agent: String,
    /// How long items are kept: see [`Retention`].
    pub retention: Retention,
    /// Reload on edits of feeds.toml and the rules file, not only on SIGHUP.
    pub watch_config: bool,
    /// When two items are the same story, so that it is published once.
    pub dedup: DedupPolicy,
    /// The WebSub hub that feeds advertise and that is pinged when they change.
    pub websub_hub: Option<Url>,
    pub limits: Limits,
}

/// What the periodic prune deletes. Whatever a published feed shows is always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Relevant items older than this are deleted; `None` keeps them by age.
    pub relevant: Option<Duration>,
    /// Items the classifier found irrelevant are kept this long, so that a rule change
    /// followed by a retag can still find them.
    pub irrelevant: Duration,
    /// At most this many relevant items per topic, the newest; `None`: no limit.
    pub max_per_topic: Option<usize>,
    /// How often the daemon prunes.
    pub interval: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            relevant: None,
            irrelevant: Duration::from_secs(30 * 86_400),
            max_per_topic: None,
            interval: Duration::from_secs(3600),
        }
    }
}

/// Fetch limits and retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub per_host: usize,
    pub concurrency: usize,
    pub max_redirects: usize,
    pub max_backoff: Duration,
    /// Consecutive failures after which a source is shown as failing.
    pub failing_after: u32,
    /// How long in-flight work may take to end after SIGTERM.
    pub grace: Duration,
    /// How much of one fetched feed is kept (items, field lengths).
    pub caps: FieldCaps,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            per_host: 2,
            concurrency: 16,
            max_redirects: 10,
            max_backoff: Duration::from_secs(6 * 3600),
            failing_after: 5,
            grace: Duration::from_secs(10),
            caps: FieldCaps::default(),
        }
    }
}

/// Where a source's feed comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Http(Url),
    /// A `file:` source, resolved against the config file's folder.
    File(PathBuf),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Http(url) => write!(f, "{url}"),
            Location::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// One `[[source]]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    /// The URL as the operator wrote it.
    pub url: String,
    pub location: Location,
    pub name: String,
    /// In the source's time zone (its own, else the daemon's).
    pub schedule: Schedule,
    pub lang: Option<String>,
    pub enabled: bool,
    /// Where the `url` was written, for problems found after validation.
    pub url_position: Position,
}

impl Source {
    /// When this source should run next: at its retry time while it is failing, else at
    /// its next cron firing (an hour from now for a schedule that never fires again).
    pub fn next_run(
        &self,
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> chrono::DateTime<chrono::Utc> {
        match retry_at {
            Some(at) => at,
            None => self
                .schedule
                .next_after(now)
                .unwrap_or(now + chrono::Duration::hours(1)),
        }
    }
}

/// A place in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// A problem found at this place.
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

/// One problem in a config or rules file, at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is part of the message and deliberately not a `source()`, so that
    /// printing the error with its causes does not repeat it.
    #[error("{path}: cannot read: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

fn render_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns byte offsets of one file into `FILE:LINE:COL` problems.
struct Reporter<'a> {
    file: String,
    text: &'a str,
    /// Where each line of `text` starts: every source's URL position is looked up
    /// here, and counting the newlines before each of 2,000 sources from the top of
    /// the file was 88 % of loading such a config (callgrind: 1.6 G instructions).
    line_starts: Vec<usize>,
    problems: Vec<Problem>,
}

impl<'a> Reporter<'a> {
    fn new(file: &Path, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Reporter {
            file: file.display().to_string(),
            text,
            line_starts,
            problems: Vec::new(),
        }
    }

    /// The line and column (in characters), both from 1, of a byte offset of the text.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // The last line start at or before the offset (the first is 0).
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    fn at(&mut self, span: Option<Range<usize>>, message: impl Into<String>) {
        let (line, column) = self.line_col(span.map_or(0, |s| s.start));
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        });
    }

    fn toml_error(&mut self, error: &toml::de::Error) {
        self.at(error.span(), error.message().trim_end().to_string());
    }
}

/// The top of feeds.toml before validation.
#[derive(Debug, Default)]
struct RawConfig {
    rules: Option<Spanned<String>>,
    daemon: RawDaemon,
    sources: Vec<RawSource>,
}

impl Config {
    /// Reads and validates the config file and the rules file it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Config::parse(&text, path, read)
    }

    /// Validates config text; `path` names the file in messages and anchors relative
    /// paths. `read_rules` loads the rules file the config names.
    pub fn parse(
        text: &str,
        path: &Path,
        read_rules: impl FnOnce(&Path) -> Result<String, ConfigError>,
    ) -> Result<Config, ConfigError> {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut report = Reporter::new(path, text);
        let raw = read_raw(text, &mut report);
        let daemon = validate_daemon(&raw.daemon, &base_dir, &mut report);
        let sources = validate_sources(&raw.sources, &daemon, &base_dir, &mut report);
        let rules_name = raw
            .rules
            .as_ref()
            .map_or("rules.toml", |r| r.get_ref().as_str());
        let rules_path = base_dir.join(rules_name);
        let mut problems = report.problems;
        problems.sort_by_key(|p| (p.line, p.column));
        let rules = match read_rules(&rules_path) {
            Ok(rules_text) => compile_rules(&rules_text, &rules_path, &mut problems),
            Err(err) => {
                let mut report = Reporter::new(path, text);
                report.at(raw.rules.as_ref().map(Spanned::span), err.to_string());
                problems.extend(report.problems);
                None
            }
        };
        match (problems.is_empty(), daemon, rules) {
            (true, Some(daemon), Some(rules)) => Ok(Config {
                path: path.to_path_buf(),
                rules_path,
                daemon,
                sources,
                rules: Arc::new(rules),
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }

    /// The enabled sources, or those named (an unknown name is an error).
    pub fn select_sources(&self, ids: &[String]) -> Result<Vec<Source>, String> {
        if ids.is_empty() {
            return Ok(self.sources.iter().filter(|s| s.enabled).cloned().collect());
        }
        ids.iter()
            .map(|id| {
                self.sources
                    .iter()
                    .find(|s| &s.id == id)
                    .cloned()
                    .ok_or_else(|| format!("no source with id `{id}` in {}", self.path.display()))
            })
            .collect()
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: path.display().to_string(),
        cause,
    })
}

/// Parses the document and deserializes each section on its own, so that a mistake in
/// one source does not hide a mistake in the next.
fn read_raw(text: &str, report: &mut Reporter<'_>) -> RawConfig {
    let (doc, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for error in &syntax_errors {
            report.toml_error(error);
        }
        return RawConfig::default();
    }
    let mut raw = RawConfig::default();
    for (key, value) in doc.into_inner() {
        match key.get_ref().as_ref() {
            "rules" => raw.rules = deserialize(value, report),
            "daemon" => {
                let value = drop_unknown_keys(value, "daemon", DAEMON_KEYS, report);
                raw.daemon = deserialize(value, report).unwrap_or_default();
            }
            "source" => raw.sources = deserialize_sources(value, report),
            other => report.at(
                Some(key.span()),
                format!("unknown key `{other}`, expected `rules`, `daemon` or `source`"),
            ),
        }
    }
    raw
}

fn deserialize<T: for<'de> Deserialize<'de>>(
    value: Spanned<DeValue<'_>>,
    report: &mut Reporter<'_>,
) -> Option<T> {
    T::deserialize(ValueDeserializer::from(value))
        .map_err(|err| report.toml_error(&err))
        .ok()
}

fn deserialize_sources(value: Spanned<DeValue<'_>>, report: &mut Reporter<'_>) -> Vec<RawSource> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => {
            let mut sources = Vec::new();
            for item in items {
                let item = drop_unknown_keys(item, "source", SOURCE_KEYS, report);
                sources.extend(deserialize(item, report));
            }
            sources
        }
        _ => {
            report.at(
                Some(span),
                "`source` must be an array of tables: write `[[source]]`",
            );
            Vec::new()
        }
    }
}

/// Reports each key of a table that `allowed` does not name, and removes it, so that
/// the rest of the table is still deserialized and checked.
fn drop_unknown_keys<'i>(
    value: Spanned<DeValue<'i>>,
    section: &str,
    allowed: &[&str],
    report: &mut Reporter<'_>,
) -> Spanned<DeValue<'i>> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        report.at(Some(span.clone()), format!("`{section}` must be a table"));
        return Spanned::new(span, DeValue::Table(DeTable::default()));
    };
    let unknown: Vec<_> = table
        .keys()
        .filter(|key| !allowed.contains(&key.get_ref().as_ref()))
        .cloned()
        .collect();
    for key in unknown {
        let expected = allowed
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        report.at(
            Some(key.span()),
            format!(
                "unknown key `{}` in {section}, expected one of {expected}",
                key.get_ref()
            ),
        );
        table.remove(&key);
    }
    if section == "daemon" {
        if let Some((key, limits)) = table.remove_entry("limits") {
            let limits = drop_unknown_keys(limits, "daemon.limits", LIMITS_KEYS, report);
            table.insert(key, limits);
        }
    }
    Spanned::new(span, DeValue::Table(table))
}

fn positive(value: &Option<Spanned<i64>>, what: &str, report: &mut Reporter<'_>) -> Option<u64> {
    let value = value.as_ref()?;
    match u64::try_from(*value.get_ref()) {
        Ok(n) if n > 0 => Some(n),
        _ => {
            report.at(
                Some(value.span()),
                format!("`{what}` must be a positive number"),
            );
            None
        }
    }
}

fn validate_limits(raw: &RawLimits, report: &mut Reporter<'_>) -> Limits {
    let d = Limits::default();
    let secs = |n: Option<u64>, default: Duration| n.map_or(default, Duration::from_secs);
    let count = |n: Option<u64>, default: usize| n.map_or(default, |n| n as usize);
    Limits {
        connect_timeout: secs(
            positive(&raw.connect_timeout_secs, "connect_timeout_secs", report),
            d.connect_timeout,
        ),
        timeout: secs(
            positive(&raw.timeout_secs, "timeout_secs", report),
            d.timeout,
        ),
        max_body_bytes: positive(&raw.max_body_bytes, "max_body_bytes", report)
            .unwrap_or(d.max_body_bytes),
        per_host: count(positive(&raw.per_host, "per_host", report), d.per_host),
        concurrency: count(
            positive(&raw.concurrency, "concurrency", report),
            d.concurrency,
        ),
        max_redirects: count(
            positive(&raw.max_redirects, "max_redirects", report),
            d.max_redirects,
        ),
        max_backoff: secs(
            positive(&raw.max_backoff_secs, "max_backoff_secs", report),
            d.max_backoff,
        ),
        failing_after: positive(&raw.failing_after, "failing_after", report)
            .map_or(d.failing_after, |n| n.min(u64::from(u32::MAX)) as u32),
        grace: secs(positive(&raw.grace_secs, "grace_secs", report), d.grace),
        caps: FieldCaps {
            max_items: count(
                positive(&raw.max_items_per_fetch, "max_items_per_fetch", report),
                d.caps.max_items,
            ),
            max_title_chars: count(
                positive(&raw.max_title_chars, "max_title_chars", report),
                d.caps.max_title_chars,
            ),
            max_summary_chars: count(
                positive(&raw.max_summary_chars, "max_summary_chars", report),
                d.caps.max_summary_chars,
            ),
            max_content_bytes: count(
                positive(&raw.max_content_bytes, "max_content_bytes", report),
                d.caps.max_content_bytes,
            ),
            ..d.caps
        },
    }
}

const DEFAULT_SCHEDULE: &str = "*/30 * * * *";
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

fn validate_daemon(raw: &RawDaemon, base_dir: &Path, report: &mut Reporter<'_>) -> Option<Daemon> {
    let limits = validate_limits(&raw.limits, report);
    let listen_text = raw
        .listen
        .as_ref()
        .map_or(DEFAULT_LISTEN, |l| l.get_ref().as_str());
    let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
        let message = format!("`listen` must be an address and port such as {DEFAULT_LISTEN}");
        report.at(raw.listen.as_ref().map(Spanned::span), message);
    });
    let public_url = match &raw.public_url {
        Some(url) => parse_public_url(url.get_ref()).map_err(|m| report.at(Some(url.span()), m)),
        None => Url::parse(&format!("http://{listen_text}/")).map_err(|_| ()),
    };
    let timezone = parse_timezone(&raw.timezone, report).unwrap_or(Tz::UTC);
    let default_schedule = match &raw.schedule {
        Some(expr) => Schedule::parse(expr.get_ref(), timezone)
            .map_err(|e| report.at(Some(expr.span()), e.to_string())),
        None => {
            Ok(Schedule::parse(DEFAULT_SCHEDULE, timezone).expect("the default schedule is valid"))
        }
    };
    let websub_hub = match &raw.websub_hub {
        Some(url) => parse_hub_url(url.get_ref())
            .map(Some)
            .map_err(|m| report.at(Some(url.span()), m)),
        None => Ok(None),
    };
    let feed_items = positive(&raw.feed_items, "feed_items", report).unwrap_or(50) as usize;
    let retention = validate_retention(raw, report);
    let database = raw
        .database
        .as_ref()
        .map_or("data/entente.db", |d| d.get_ref().as_str());
    Some(Daemon {
        database: base_dir.join(database),
        listen: listen.ok()?,
        public_url: public_url.ok()?,
        title: raw
            .title
            .clone()
            .unwrap_or_else(|| "entente: France–Kazakhstan".to_string()),
        description: raw.description.clone().unwrap_or_else(|| {
            "News about relations between France and Kazakhstan, curated by topic.".to_string()
        }),
        default_schedule: default_schedule.ok()?,
        timezone,
        feed_items,
        user_agent: raw.user_agent.clone().unwrap_or_else(default_user_agent),
        retention,
        watch_config: raw.watch_config.unwrap_or(true),
        dedup: validate_dedup(raw, report),
        websub_hub: websub_hub.ok()?,
        limits,
    })
}

fn validate_retention(raw: &RawDaemon, report: &mut Reporter<'_>) -> Retention {
    let defaults = Retention::default();
    let days = |n: u64| Duration::from_secs(n.saturating_mul(86_400));
    let relevant = positive(&raw.retention_days, "retention_days", report).map(days);
    let irrelevant = positive(
        &raw.irrelevant_retention_days,
        "irrelevant_retention_days",
        report,
    )
    .map_or(defaults.irrelevant, days);
    Retention {
        relevant,
        // `retention_days` bounds every item: an irrelevant one is never kept longer.
        irrelevant: relevant.map_or(irrelevant, |r| r.min(irrelevant)),
        max_per_topic: positive(&raw.max_items_per_topic, "max_items_per_topic", report)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        interval: positive(
            &raw.retention_interval_minutes,
            "retention_interval_minutes",
            report,
        )
        .map_or(defaults.interval, |m| {
            Duration::from_secs(m.saturating_mul(60))
        }),
    }
}

fn validate_dedup(raw: &RawDaemon, report: &mut Reporter<'_>) -> DedupPolicy {
    let defaults = DedupPolicy::default();
    let title_threshold = match &raw.dedup_threshold {
        Some(value) if *value.get_ref() > 0.0 && *value.get_ref() <= 1.0 => *value.get_ref(),
        Some(value) => {
            let message = "`dedup_threshold` must be a number above 0 and at most 1, such as 0.7";
            report.at(Some(value.span()), message);
            defaults.title_threshold
        }
        None => defaults.title_threshold,
    };
    let window = positive(&raw.dedup_window_hours, "dedup_window_hours", report)
        .map_or(defaults.window, |hours| {
            Duration::from_secs(hours.saturating_mul(3600))
        });
    DedupPolicy {
        title_threshold,
        window,
    }
}

/// Names entente and where to learn about it, as polite crawlers do.
pub fn default_user_agent() -> String {
    format!(
        "entente/{} (+https://github.com/entente-feeds/entente; feed curator)",
        env!("CARGO_PKG_VERSION")
    )
}

fn parse_hub_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`websub_hub` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("`websub_hub` must be an http or https URL".to_string());
    }
    Ok(url)
}

fn parse_public_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|e| format!("`public_url` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("`public_url` must be an http or https URL".to_string());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

fn validate_sources(
    raw: &[RawSource],
    daemon: &Option<Daemon>,
    base_dir: &Path,
    report: &mut Reporter<'_>,
) -> Vec<Source> {
    let mut seen_ids: HashMap<&str, Range<usize>> = HashMap::new();
    let mut seen_urls: HashMap<String, Range<usize>> = HashMap::new();
    let mut sources = Vec::new();
    for source in raw {
        let id = source.id.get_ref();
        if !is_valid_id(id) {
            report.at(
                Some(source.id.span()),
                format!("source id `{id}` must be lowercase letters, digits and dashes"),
            );
        }
        if let Some(first) = seen_ids.insert(id, source.id.span()) {
            let (line, col) = report.line_col(first.start);
            let message = format!("duplicate source id `{id}` (first used at {line}:{col})");
            report.at(Some(source.id.span()), message);
        }
        let location = parse_location(source.url.get_ref(), base_dir)
            .map_err(|m| report.at(Some(source.url.span()), m));
        if let Ok(location) = &location {
            if let Some(first) = seen_urls.insert(location.to_string(), source.url.span()) {
                let (line, col) = report.line_col(first.start);
                let message =
                    format!("duplicate source URL `{location}` (first used at {line}:{col})");
                report.at(Some(source.url.span()), message);
            }
        }
        let timezone = match &source.timezone {
            Some(_) => parse_timezone(&source.timezone, report),
            None => daemon.as_ref().map(|d| d.timezone),
        };
        let schedule = match (&source.schedule, timezone) {
            // With an unknown zone (already reported) the expression is still checked.
            (Some(expr), _) => Schedule::parse(expr.get_ref(), timezone.unwrap_or(Tz::UTC))
                .map_err(|e| report.at(Some(expr.span()), e.to_string()))
                .ok(),
            (None, Some(timezone)) => daemon
                .as_ref()
                .map(|d| d.default_schedule.in_timezone(timezone)),
            (None, None) => None,
        };
        let lang = source.lang.as_ref().map(|lang| {
            let code = lang.get_ref().trim().to_ascii_lowercase();
            if !is_language_code(&code) {
                let message = format!(
                    "`lang` must be a language code such as en, fr, ru or kk, not `{}`",
                    lang.get_ref()
                );
                report.at(Some(lang.span()), message);
            }
            code
        });
        if let (Ok(location), Some(schedule)) = (location, schedule) {
            let (line, column) = report.line_col(source.url.span().start);
            let url_position = Position {
                file: report.file.clone(),
                line,
                column,
            };
            sources.push(Source {
                url_position,
                id: id.clone(),
                url: source.url.get_ref().clone(),
                location,
                name: source.name.clone().unwrap_or_else(|| id.clone()),
                schedule,
                lang,
                enabled: source.enabled,
            });
        }
    }
    sources
}

/// An IANA time zone name such as `Asia/Almaty`; `None` (reported) when unknown.
fn parse_timezone(value: &Option<Spanned<String>>, report: &mut Reporter<'_>) -> Option<Tz> {
    let value = value.as_ref()?;
    let name = value.get_ref().trim();
    match name.parse::<Tz>() {
        Ok(tz) => Some(tz),
        Err(_) => {
            let message = format!(
                "unknown time zone `{name}`: use an IANA name such as UTC, Asia/Almaty or Europe/Paris"
            );
            report.at(Some(value.span()), message);
            None
        }
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_language_code(code: &str) -> bool {
    let primary = code.split('-').next().unwrap_or_default();
    (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase())
}

/// `http`/`https` URLs, or `file:` paths (relative ones against the config's folder).
fn parse_location(text: &str, base_dir: &Path) -> Result<Location, String> {
    if let Some(rest) = text.strip_prefix("file:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err("`file:` URL names no file".to_string());
        }
        return Ok(Location::File(base_dir.join(path)));
    }
    let url = Url::parse(text).map_err(|e| format!("invalid URL `{text}`: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(Location::Http(url)),
        "http" | "https" => Err(format!("URL `{text}` has no host")),
        scheme => Err(format!(
            "unsupported URL scheme `{scheme}`: use http, https or file"
        )),
    }
}

fn compile_rules(text: &str, path: &Path, problems: &mut Vec<Problem>) -> Option<Rules> {
    let mut report = Reporter::new(path, text);
    let raw: Option<RawRules> = match toml::from_str(text) {
        Ok(raw) => Some(raw),
        Err(err) => {
            report.toml_error(&err);
            None
        }
    };
    let rules = raw.and_then(|raw| match Rules::compile(&raw) {
        // Without a topic every item is irrelevant and every feed empty.
        Ok(rules) if rules.topics().is_empty() => {
            let message = if text.trim().is_empty() {
                "the rules file is empty: it needs the two sides' names and at least one [[topic]] (see docs/classifier.md)"
            } else {
                "the rules declare no topic: add at least one [[topic]] (see docs/classifier.md)"
            };
            report.at(None, message);
            None
        }
        Ok(rules) => Some(rules),
        Err(errors) => {
            for error in errors {
                report.at(error.span, error.message);
            }
            None
        }
    });
    let mut found = report.problems;
    found.sort_by_key(|p| (p.line, p.column));
    problems.extend(found);
    rules
}

#[cfg(test)]
mod tests;

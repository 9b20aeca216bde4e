//! One source through the stages: fetch → parse → classify → store, and the fetch state
//! recorded whatever happened. One broken source is a normal event: its error is
//! recorded and logged, and it never stops the others.
//!
//! Bounded at every stage, so that memory does not grow with the number of sources: at
//! most `limits.concurrency` + one per core sources are between their fetch and their
//! commit, and the fetcher's slots bound the requests among them; the bodies they
//! fetched are bounded by bytes (a buffer of `BUFFER_KIB_PER_CORE` per core, held from
//! the fetch until the items are stored, the body itself dropped once parsed);
//! parsing and classifying run on the [`ParsePool`]'s threads, one per core; and the
//! store's one writer batches the feeds that wait for it into one transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tokio::sync::Semaphore;
use tracing::{debug, info, instrument, warn};
use url::Url;

use super::parse_pool::{ParsePool, PoolError};
use crate::classify::{classify, Decision, Rules, Text};
use crate::config::{Config, Location, Source};
use crate::fetch::{FetchError, Fetched, Fetcher, Outcome};
use crate::item::Item;
use crate::metrics::{FetchOutcome, Metrics};
use crate::parse::{parse_feed, Origin, ParseError};
use crate::store::queries as q;
use crate::store::{FetchRecord, IngestSummary, SourceState, Store, StoreError};

/// The fetched bodies between their fetch and the commit of their items, in KiB per
/// core: each parser has a typical feed (20–200 KB) to parse next while the writer
/// stores the ones before. A body holds its items' memory too (about as much again)
/// until they are stored, so this bounds the ingest's memory by bytes; a body larger
/// than the whole buffer goes through alone. Measured on 400 `file:` feeds of the
/// bench farm (BENCHMARKS.md, memory3): no buffer 57 MB peak RSS, 2 MiB 55, 1 MiB 50,
/// 512 KiB 47, for the same CPU.
const BUFFER_KIB_PER_CORE: u32 = 256;
const MIN_BUFFER_KIB: u32 = 512;

/// What the stages share while the program runs.
#[derive(Clone)]
pub struct Pipeline {
    pub config: Arc<Config>,
    pub store: Store,
    pub fetcher: Arc<Fetcher>,
    /// Counted as each run ends.
    pub metrics: Arc<Metrics>,
    /// Sources between the start of their fetch and the end of their store.
    in_flight: Arc<Semaphore>,
    /// Feeds handed to the parser threads at once: one per thread, the others wait
    /// here with their bodies counted in the buffer.
    parsers: Arc<Semaphore>,
    /// The threads that parse and classify.
    pool: Arc<ParsePool>,
    /// KiB of fetched bodies between their fetch and the commit of their items.
    buffered: Arc<Semaphore>,
    buffer_kib: u32,
}

/// How one source's run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Stored(IngestSummary),
    NotModified,
    Failed { kind: String, message: String },
}

/// One source's run, as `entente fetch` prints it.
#[derive(Debug, Clone)]
pub struct SourceRun {
    pub source_id: String,
    pub outcome: RunOutcome,
    pub next_attempt: DateTime<Utc>,
    /// Set after a failure: the backoff or Retry-After time that replaces the schedule.
    pub retry_at: Option<DateTime<Utc>>,
}

impl std::fmt::Display for SourceRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            RunOutcome::Stored(s) => write!(
                f,
                "{}: {} new ({} relevant), {} updated, {} unchanged",
                self.source_id, s.new, s.new_relevant, s.updated, s.unchanged
            ),
            RunOutcome::NotModified => write!(f, "{}: not modified", self.source_id),
            RunOutcome::Failed { kind, message } => {
                write!(f, "{}: error ({kind}): {message}", self.source_id)
            }
        }
    }
}

/// Why a run failed, as recorded.
struct Failure {
    kind: String,
    message: String,
    retry_after: Option<DateTime<Utc>>,
}

impl From<FetchError> for Failure {
    fn from(error: FetchError) -> Self {
        Failure {
            kind: error.kind().to_string(),
            message: error.to_string(),
            retry_after: error.retry_after(),
        }
    }
}

impl Failure {
    /// A body that is not a readable feed, with what came back: the operator's first
    /// question is whether the URL serves what they think it does.
    fn parse(error: &ParseError, fetched: &Fetched) -> Self {
        let kind = match error {
            ParseError::NotAFeed { .. } | ParseError::Empty => "not_a_feed",
            ParseError::Invalid(_) | ParseError::ParserPanicked => "parse",
        };
        Failure {
            kind: kind.to_string(),
            message: format!("{error} [{}]", served_as(fetched)),
            retry_after: None,
        }
    }
}

/// "HTTP 200, Content-Type: text/html" or "file".
fn served_as(fetched: &Fetched) -> String {
    let Some(status) = fetched.status else {
        return "file".to_string();
    };
    let content_type = fetched.content_type.as_deref().unwrap_or("none");
    format!("HTTP {status}, Content-Type: {content_type}")
}

impl Pipeline {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        fetcher: Arc<Fetcher>,
        metrics: Arc<Metrics>,
    ) -> Result<Pipeline, PoolError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Enough for every fetch slot, plus one parsing per core.
        let in_flight = config.daemon.limits.concurrency.max(1) + cores;
        let buffer_kib = BUFFER_KIB_PER_CORE
            .saturating_mul(u32::try_from(cores).unwrap_or(u32::MAX))
            .max(MIN_BUFFER_KIB);
        Ok(Pipeline {
            config,
            store,
            fetcher,
            metrics,
            in_flight: Arc::new(Semaphore::new(in_flight)),
            parsers: Arc::new(Semaphore::new(cores)),
            pool: Arc::new(ParsePool::new(cores)?),
            buffered: Arc::new(Semaphore::new(buffer_kib as usize)),
            buffer_kib,
        })
    }

    /// Runs the given sources once, a bounded number at a time; the runs in the order
    /// of `sources`.
    pub async fn run_pass(&self, sources: &[Source]) -> Result<Vec<SourceRun>, StoreError> {
        let at_once = self.in_flight.available_permits().max(1);
        let mut runs: Vec<(usize, Result<SourceRun, StoreError>)> =
            stream::iter(sources.iter().enumerate())
                .map(|(n, source)| async move { (n, self.run_source(source).await) })
                .buffer_unordered(at_once)
                .collect()
                .await;
        runs.sort_by_key(|(n, _)| *n);
        runs.into_iter().map(|(_, run)| run).collect()
    }

    /// Fetches, parses, classifies and stores one source. Only a database failure is an
    /// error here; everything the source does wrong is recorded as its outcome.
    #[instrument(skip_all, fields(source = %source.id))]
    pub async fn run_source(&self, source: &Source) -> Result<SourceRun, StoreError> {
        let _slot = self
            .in_flight
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let id = source.id.clone();
        let state = self.store.read(move |c| q::source_state(c, &id)).await?;
        let location = current_location(source, &state);
        let started = Utc::now();
        let timer = std::time::Instant::now();
        let report = self.fetcher.fetch(&location, &state.validators).await;
        let moved_to = report.moved_to.map(|u| u.to_string());
        let outcome = match report.result {
            Ok(Outcome::NotModified) => self.record_success(source, None, moved_to, started).await,
            Ok(Outcome::Unchanged { validators }) => {
                self.record_success(source, Some(validators), moved_to, started)
                    .await
            }
            Ok(Outcome::Fetched(mut fetched)) => {
                // The body's share of the buffer, held until its items are stored.
                let _buffered = self.buffer(fetched.body.len()).await?;
                let body = std::mem::take(&mut fetched.body);
                match self.parse_and_classify(source, body, &fetched).await {
                    Ok(items) => {
                        self.store_items(source, items, fetched, moved_to, started)
                            .await
                    }
                    Err(failure) => self.record_failure(source, &state, failure, started).await,
                }
            }
            Err(error) => {
                self.record_failure(source, &state, error.into(), started)
                    .await
            }
        }?;
        self.count(&outcome, state.consecutive_failures, timer.elapsed());
        Ok(outcome)
    }

    fn count(&self, run: &SourceRun, failures_before: u32, took: std::time::Duration) {
        let (outcome, failures) = match &run.outcome {
            RunOutcome::Stored(summary) => {
                self.metrics
                    .items_stored(summary.new as u64, summary.new_relevant as u64);
                (FetchOutcome::Stored, 0)
            }
            RunOutcome::NotModified => (FetchOutcome::NotModified, 0),
            RunOutcome::Failed { .. } => (FetchOutcome::Failed, failures_before.saturating_add(1)),
        };
        self.metrics
            .fetch_ended(&run.source_id, outcome, took, failures, Utc::now());
    }

    /// Waits until `bytes` more of fetched bodies fit in the buffer; a body larger than
    /// the whole buffer waits for all of it, so that it goes through alone.
    async fn buffer(&self, bytes: usize) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.buffer_kib);
        self.buffered
            .acquire_many(kib)
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// Parses and classifies `body` (fetched as `fetched`, whose body was taken: the
    /// body is dropped as soon as its items exist).
    async fn parse_and_classify(
        &self,
        source: &Source,
        body: Vec<u8>,
        fetched: &Fetched,
    ) -> Result<crate::store::PreparedFeed, Failure> {
        let url = fetched
            .final_url
            .clone()
            .or_else(|| match &source.location {
                Location::Http(url) => Some(url.clone()),
                Location::File(_) => None,
            });
        let source_id = source.id.clone();
        let lang = source.lang.clone();
        let rules = self.config.rules.clone();
        let _parser = self.parsers.acquire().await.map_err(|e| Failure {
            kind: "internal".into(),
            message: e.to_string(),
            retry_after: None,
        })?;
        let caps = self.config.daemon.limits.caps;
        let work = move || {
            let origin = Origin {
                source_id: &source_id,
                lang_hint: lang.as_deref(),
                url: url.as_ref(),
                caps,
            };
            parse_feed(&body, origin).map(|feed| {
                let mut items = classify_items(&rules, feed.items);
                // Only what will be published is worth sanitizing (see `ItemHtml`).
                for (item, _) in items.iter_mut().filter(|(_, d)| d.relevant) {
                    item.sanitize_content();
                }
                crate::store::prepare(items)
            })
        };
        match self.pool.run(work).await {
            Ok(result) => result.map_err(|error| Failure::parse(&error, fetched)),
            // A panic while normalising or classifying is a bug of ours: named as such,
            // and kept to this source.
            Err(error) => Err(Failure {
                kind: "internal".into(),
                message: format!("crashed while reading the feed: {error}"),
                retry_after: None,
            }),
        }
    }

    async fn store_items(
        &self,
        source: &Source,
        items: crate::store::PreparedFeed,
        fetched: Fetched,
        moved_to: Option<String>,
        started: DateTime<Utc>,
    ) -> Result<SourceRun, StoreError> {
        let next = source.next_run(None, Utc::now());
        let record = FetchRecord {
            status: "ok",
            error_kind: None,
            error: None,
            attempted_at: started,
            validators: Some(fetched.validators),
            consecutive_failures: 0,
            next_attempt: Some(next),
            // Only a new permanent move changes the suggestion. Once fetched at its new
            // address a source is no longer redirected, and that must not make us forget
            // the move: the suggestion lasts until feeds.toml names a new URL.
            suggested_url: moved_to.map(Some),
        };
        debug!(items = items.len(), "Storing the feed.");
        let summary = self
            .store
            .ingest(&source.id, items, record, self.config.daemon.dedup)
            .await?;
        info!(
            new = summary.new,
            relevant = summary.new_relevant,
            duplicates = summary.duplicates,
            updated = summary.updated,
            "Feed stored."
        );
        Ok(SourceRun {
            source_id: source.id.clone(),
            outcome: RunOutcome::Stored(summary),
            next_attempt: next,
            retry_at: None,
        })
    }

    async fn record_success(
        &self,
        source: &Source,
        validators: Option<crate::fetch::Validators>,
        moved_to: Option<String>,
        started: DateTime<Utc>,
    ) -> Result<SourceRun, StoreError> {
        let next = source.next_run(None, Utc::now());
        let record = FetchRecord {
            status: "not_modified",
            error_kind: None,
            error: None,
            attempted_at: started,
            validators,
            consecutive_failures: 0,
            next_attempt: Some(next),
            suggested_url: moved_to.map(Some),
        };
        self.record(source, record).await?;
        debug!("Not modified.");
        Ok(SourceRun {
            source_id: source.id.clone(),
            outcome: RunOutcome::NotModified,
            next_attempt: next,
            retry_at: None,
        })
    }

    /// Records a run that brought no items: a feed of none, batched like the others.
    async fn record(&self, source: &Source, record: FetchRecord) -> Result<(), StoreError> {
        self.store
            .ingest(&source.id, Vec::new(), record, self.config.daemon.dedup)
            .await
            .map(|_| ())
    }

    async fn record_failure(
        &self,
        source: &Source,
        state: &SourceState,
        failure: Failure,
        started: DateTime<Utc>,
    ) -> Result<SourceRun, StoreError> {
        let limits = &self.config.daemon.limits;
        let failures = state.consecutive_failures.saturating_add(1);
        let retry_at = retry_time(
            failures,
            failure.retry_after,
            limits.max_backoff,
            Utc::now(),
        );
        if failures >= limits.failing_after {
            warn!(url = %source.url, failures, error = %failure.message, "Source is failing.");
        } else {
            // One failure is routine (the next attempt is scheduled): the daemon's log
            // shows it at info, and `entente fetch` already printed it on stdout.
            info!(url = %source.url, error = %failure.message, "Fetch failed.");
        }
        let record = FetchRecord {
            status: "error",
            error_kind: Some(failure.kind.clone()),
            error: Some(failure.message.clone()),
            attempted_at: started,
            validators: None,
            consecutive_failures: failures,
            next_attempt: Some(retry_at),
            suggested_url: None,
        };
        self.record(source, record).await?;
        Ok(SourceRun {
            source_id: source.id.clone(),
            outcome: RunOutcome::Failed {
                kind: failure.kind,
                message: failure.message,
            },
            next_attempt: retry_at,
            retry_at: Some(retry_at),
        })
    }
}

/// When to try again after the `failures`th consecutive failure: when the server asked
/// (Retry-After), else after the exponential backoff. A Retry-After that is not in the
/// future (a stale date, a skewed clock, `0`) says nothing useful and would have us
/// retry at once, over and over; one beyond the cap is held to the cap, so that a
/// source is never left alone longer than any failing source.
fn retry_time(
    failures: u32,
    retry_after: Option<DateTime<Utc>>,
    cap: std::time::Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let cap = chrono::Duration::from_std(cap).unwrap_or_else(|_| chrono::Duration::hours(6));
    match retry_after.filter(|at| *at > now) {
        Some(at) => at.min(now + cap),
        None => {
            let backoff =
                backoff_delay(failures, cap.to_std().unwrap_or_default(), &mut rand::rng());
            now + chrono::Duration::from_std(backoff).unwrap_or(cap)
        }
    }
}

/// The first retry after a failure waits about this long; each further failure doubles it.
const FIRST_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long to wait after `failures` consecutive failures: exponential from one minute,
/// capped, with ±20 % jitter so that failing sources do not retry in lockstep.
fn backoff_delay(
    failures: u32,
    cap: std::time::Duration,
    rng: &mut impl rand::Rng,
) -> std::time::Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let base = FIRST_RETRY.saturating_mul(1 << exponent).min(cap);
    let jitter = rng.random_range(0.8..1.2);
    base.mul_f64(jitter).min(cap)
}

/// The URL to fetch: where a recorded permanent redirect points, else the configured one.
fn current_location(source: &Source, state: &SourceState) -> Location {
    match (
        &source.location,
        state
            .suggested_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok()),
    ) {
        (Location::Http(_), Some(moved)) => Location::Http(moved),
        (location, _) => location.clone(),
    }
}

/// The classifier's decision for each item: the same function `eval` measures.
pub fn classify_items(rules: &Rules, items: Vec<Item>) -> Vec<(Item, Decision)> {
    items
        .into_iter()
        .map(|mut item| {
            item.lang =
                crate::lang::item_language(&item.title, &item.summary, item.lang.as_deref());
            let decision = decide(rules, &item);
            (item, decision)
        })
        .collect()
}

/// Classifies one stored or fetched item.
pub fn decide(rules: &Rules, item: &Item) -> Decision {
    classify(
        rules,
        &Text {
            title: &item.title,
            summary: &item.summary,
            lang: item.lang.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    const CAP: Duration = Duration::from_secs(6 * 3600);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn retry_after_in_the_future_is_honoured() {
        let at = now() + chrono::Duration::minutes(30);
        assert_eq!(retry_time(1, Some(at), CAP, now()), at);
    }

    #[test]
    fn retry_after_in_the_past_falls_back_to_the_backoff() {
        let at = now() - chrono::Duration::minutes(30);
        let next = retry_time(1, Some(at), CAP, now());
        assert!(next >= now() + chrono::Duration::seconds(48), "{next}");
        assert!(next <= now() + chrono::Duration::seconds(72), "{next}");
    }

    #[test]
    fn retry_after_beyond_the_cap_is_held_to_it() {
        let at = now() + chrono::Duration::days(30);
        assert_eq!(
            retry_time(1, Some(at), CAP, now()),
            now() + chrono::Duration::hours(6)
        );
    }

    #[test]
    fn backoff_doubles_from_a_minute_and_stops_at_the_cap() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let cap = Duration::from_secs(6 * 3600);
        let first = backoff_delay(1, cap, &mut rng);
        assert!(
            first >= Duration::from_secs(48) && first <= Duration::from_secs(72),
            "{first:?}"
        );
        let fourth = backoff_delay(4, cap, &mut rng);
        assert!(
            fourth >= Duration::from_secs(384) && fourth <= Duration::from_secs(576),
            "{fourth:?}"
        );
        assert!(backoff_delay(40, cap, &mut rng) <= cap);
        assert!(backoff_delay(40, cap, &mut rng) >= cap.mul_f64(0.8));
    }
}

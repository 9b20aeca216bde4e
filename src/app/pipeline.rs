//! One source through the stages: fetch → parse → classify → store, and the fetch state
//! recorded whatever happened. One broken source is a normal event: its error is
//! recorded and logged, and it never stops the others.
//!
//! Bounded at every stage, so that memory does not grow with the number of sources, and
//! shaped so that the store's one writer (the slowest stage) never waits for work:
//! - at most `limits.concurrency` + one per core sources are between the start of their
//!   fetch and their body's place in the buffer (the fetcher's slots bound the requests
//!   among them), and [`QUEUED_FEEDS`] more are in flight to the end of their store;
//! - fetched bodies are bounded by bytes (`BODIES_KIB_PER_CORE` a core), from the fetch
//!   until their items are parsed and have a place in the writer's queue; the body
//!   itself is dropped on the parser thread once parsed;
//! - parsing and classifying run on the [`ParsePool`]'s threads, one per core;
//! - the parsed feeds waiting for the writer are bounded by the bytes of their items
//!   ([`QUEUED_ITEMS_KIB`]), not by the bodies they came from: the writer stores one
//!   batch while the next one is parsed, instead of the parsers waiting for the
//!   writer's commit to free the bodies' buffer (BENCHMARKS.md, branch pass4);
//! - the store's writer batches the feeds that wait for it into one transaction.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
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
use crate::store::{FetchRecord, IngestSummary, PreparedFeed, SourceState, Store, StoreError};

/// The fetched bodies between their fetch and their items' place in the writer's queue,
/// in KiB per core: each parser has a typical feed (20–200 KB) to parse next. A body
/// larger than the whole buffer goes through alone. Measured on 400 `file:` feeds of
/// the bench farm when this buffer also held the items until their commit
/// (BENCHMARKS.md, memory3): no buffer 57 MB peak RSS, 2 MiB 55, 1 MiB 50, 512 KiB 47.
const BODIES_KIB_PER_CORE: u32 = 256;
const MIN_BODIES_KIB: u32 = 512;

/// The parsed items waiting for the writer or being stored, in KiB of their text
/// ([`items_kib`]; the heap they hold is about twice that): room for the writer's next
/// batch to be ready while it stores the one before. Larger batches cost the writer
/// less per feed, and memory more: measured over 400 farm feeds (BENCHMARKS.md,
/// branch pass4), 512 KiB 38.3 MB peak RSS and 1.3 feeds a batch, 1 MiB 39.4 MB and
/// 2.4, 2 MiB 42–43 MB, 4 MiB 47 MB and 6.5. A feed larger than the whole queue goes
/// through alone.
pub const QUEUED_ITEMS_KIB: u32 = 1024;

/// Sources in flight beyond the fetch slots and the parsers: the feeds that wait in
/// the writer's queue (its batches take up to 32), and records of runs that brought no
/// items (a 304, a failure), which the writer batches the same way.
pub const QUEUED_FEEDS: usize = 48;

/// Sources whose fetch states `run_pass` reads in one go.
const STATES_AT_ONCE: usize = 64;

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
    /// Sources between the start of their fetch and their body's share of `bodies`
    /// (or their fetch's end, when it brought nothing to parse): the fetched bodies
    /// that no budget counts yet.
    fetching: Arc<Semaphore>,
    /// Feeds handed to the parser threads at once: one per thread, the others wait
    /// here with their bodies counted in `bodies`.
    parsers: Arc<Semaphore>,
    /// The threads that parse and classify.
    pool: Arc<ParsePool>,
    /// KiB of fetched bodies between their fetch and their items' place in `queued`.
    bodies: Budget,
    /// KiB of parsed items between their parse and their commit.
    queued: Budget,
}

/// A number of KiB that the feeds in one stage may hold together.
#[derive(Clone)]
struct Budget {
    kib: Arc<Semaphore>,
    total: u32,
}

impl Budget {
    fn new(total: u32) -> Budget {
        Budget {
            kib: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until `kib` more fit; more than the whole budget waits for all of it, so
    /// that it goes through alone.
    async fn take(&self, kib: usize) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        let kib = u32::try_from(kib).unwrap_or(u32::MAX).clamp(1, self.total);
        self.kib
            .acquire_many(kib)
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
    }
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
        // Enough for every fetch slot plus one parsing per core, and the writer's queue.
        let fetching = config.daemon.limits.concurrency.max(1) + cores;
        let bodies_kib = BODIES_KIB_PER_CORE
            .saturating_mul(u32::try_from(cores).unwrap_or(u32::MAX))
            .max(MIN_BODIES_KIB);
        Ok(Pipeline {
            config,
            store,
            fetcher,
            metrics,
            in_flight: Arc::new(Semaphore::new(fetching + QUEUED_FEEDS)),
            fetching: Arc::new(Semaphore::new(fetching)),
            parsers: Arc::new(Semaphore::new(cores)),
            pool: Arc::new(ParsePool::new(cores)?),
            bodies: Budget::new(bodies_kib),
            queued: Budget::new(QUEUED_ITEMS_KIB),
        })
    }

    /// Runs the given sources once, a bounded number at a time; yields each run in the
    /// order of `sources`, as soon as the runs before it have ended, so that a caller
    /// can print it and let it go: 2,000 runs collected until the pass ends were
    /// long-lived allocations scattered among the bodies', which kept the heap from
    /// shrinking (BENCHMARKS.md, branch pass4). Their fetch states are read a chunk at
    /// a time on one read connection, as the runs need them: one read per source, each
    /// on a connection of the store's pool, had up to eight connections at once (one
    /// per blocking thread) each fill a page cache of its own, 7 MB of the pass's heap.
    pub fn run_pass<'a>(
        &'a self,
        sources: &'a [Source],
    ) -> impl Stream<Item = Result<SourceRun, StoreError>> + 'a {
        let at_once = self.in_flight.available_permits().max(1);
        let states = stream::iter(sources.chunks(STATES_AT_ONCE))
            .then(|chunk| self.read_states(chunk))
            .map_ok(|states| stream::iter(states.into_iter().map(Ok)))
            .try_flatten();
        let runs = states
            .zip(stream::iter(sources.iter().enumerate()))
            .map(move |(state, (n, source))| async move {
                let run = match state {
                    Ok(state) => match self.slot().await {
                        Ok(_slot) => self.run_with_state(source, state).await,
                        Err(error) => Err(error),
                    },
                    Err(error) => Err(error),
                };
                (n, run)
            })
            .buffer_unordered(at_once);
        in_order(runs)
    }

    /// The fetch states of `sources`, in their order, in one read.
    async fn read_states(&self, sources: &[Source]) -> Result<Vec<SourceState>, StoreError> {
        let ids: Vec<String> = sources.iter().map(|s| s.id.clone()).collect();
        self.store
            .read(move |c| ids.iter().map(|id| q::source_state(c, id)).collect())
            .await
    }

    /// Fetches, parses, classifies and stores one source. Only a database failure is an
    /// error here; everything the source does wrong is recorded as its outcome.
    pub async fn run_source(&self, source: &Source) -> Result<SourceRun, StoreError> {
        let _slot = self.slot().await?;
        let id = source.id.clone();
        let state = self.store.read(move |c| q::source_state(c, &id)).await?;
        self.run_with_state(source, state).await
    }

    /// A place among the sources in flight.
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        self.in_flight
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// [`Pipeline::run_source`] from the fetch state `state`, read before, in a slot
    /// the caller holds.
    #[instrument(skip_all, fields(source = %source.id))]
    async fn run_with_state(
        &self,
        source: &Source,
        state: SourceState,
    ) -> Result<SourceRun, StoreError> {
        let location = current_location(source, &state);
        let fetching = self
            .fetching
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let started = Utc::now();
        let timer = std::time::Instant::now();
        let report = self.fetcher.fetch(&location, &state.validators).await;
        let moved_to = report.moved_to.map(|u| u.to_string());
        let outcome = match report.result {
            Ok(Outcome::NotModified) => {
                drop(fetching);
                self.record_success(source, None, moved_to, started).await
            }
            Ok(Outcome::Unchanged { validators }) => {
                drop(fetching);
                self.record_success(source, Some(validators), moved_to, started)
                    .await
            }
            Ok(Outcome::Fetched(mut fetched)) => {
                // The body's share, held until its items have their place in the
                // writer's queue: the feeds parsed and waiting for one are bounded too.
                let body_share = self.bodies.take(fetched.body.len().div_ceil(1024)).await?;
                drop(fetching);
                let body = std::mem::take(&mut fetched.body);
                match self.parse_and_classify(source, body, &fetched).await {
                    Ok(items) => {
                        let _queued = self.queued.take(items_kib(&items)).await?;
                        drop(body_share);
                        self.store_items(source, items, fetched, moved_to, started)
                            .await
                    }
                    Err(failure) => {
                        drop(body_share);
                        self.record_failure(source, &state, failure, started).await
                    }
                }
            }
            Err(error) => {
                drop(fetching);
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

    /// Parses and classifies `body` (fetched as `fetched`, whose body was taken: the
    /// body is dropped as soon as its items exist).
    async fn parse_and_classify(
        &self,
        source: &Source,
        body: Vec<u8>,
        fetched: &Fetched,
    ) -> Result<PreparedFeed, Failure> {
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
        items: PreparedFeed,
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

/// The items of a stream of `(position, item)` in the order of their positions
/// (0, 1, 2, …, each once), each as soon as those before it came.
fn in_order<T>(items: impl Stream<Item = (usize, T)>) -> impl Stream<Item = T> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    items.flat_map(move |(position, item)| {
        waiting.insert(position, item);
        let mut ready = Vec::new();
        while let Some(item) = waiting.remove(&next) {
            ready.push(item);
            next += 1;
        }
        stream::iter(ready)
    })
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

/// What prepared items hold, in KiB: their text and their decisions' evidence, which
/// is most of it (the strings' own allocations; a few hundred bytes of struct per
/// item), and their packed rows.
fn items_kib(items: &PreparedFeed) -> usize {
    const PER_ITEM: usize = 512;
    let bytes: usize = items
        .entries()
        .map(|(item, decision, packed)| {
            let html = item
                .content_html
                .as_ref()
                .map_or(0, |h| h.stored_form().0.len());
            let strings = [&item.key, &item.source_id, &item.title, &item.summary]
                .iter()
                .map(|s| s.len())
                .sum::<usize>();
            let optional = [&item.guid, &item.link, &item.lang]
                .iter()
                .map(|s| s.as_deref().map_or(0, str::len))
                .sum::<usize>();
            let lists = item.authors.iter().chain(&item.categories).map(String::len);
            let evidence = decision
                .evidence
                .iter()
                .map(|e| e.term.len() + e.matched.len() + e.role.len() + 64);
            PER_ITEM
                + html
                + strings
                + optional
                + lists.sum::<usize>()
                + evidence.sum::<usize>()
                + packed
        })
        .sum();
    bytes.div_ceil(1024)
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

    #[tokio::test]
    async fn runs_come_out_in_the_order_of_the_sources() {
        let ended = stream::iter([(2, 'c'), (0, 'a'), (3, 'd'), (1, 'b')]);
        let ordered: Vec<char> = in_order(ended).collect().await;
        assert_eq!(ordered, ['a', 'b', 'c', 'd']);
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

//! The scheduler: each source on its own cron schedule, retried with backoff after a
//! failure, until shutdown; sources come and go while it runs.
//!
//! One task per source loops: sleep until the next firing (cron, or the retry time after
//! a failure), run the source, repeat. Concurrency limits live in the fetcher, so many
//! sources firing at once queue there. Sources that share a cron time are spread by a
//! little jitter so that a dozen requests do not leave in the same second. Each task
//! has its own cancellation (a reload stops or restarts it) and can be woken for a run
//! now. On shutdown no new run starts; runs in flight get the grace period to finish.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use rand::Rng;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::clock::Clock;
use crate::config::Source;

/// Spreads sources that fire at the same cron time over a few seconds.
fn start_jitter(rng: &mut impl Rng) -> Duration {
    Duration::from_millis(rng.random_range(0..5_000))
}

/// Fetches one source; returns when it wants to be retried early (after a failure).
pub type Runner = Arc<dyn Fn(Source) -> BoxFuture<'static, Option<DateTime<Utc>>> + Send + Sync>;

/// The sources being scheduled, each in a task of its own with its own cancellation,
/// so that a reload can add, stop or restart one without touching the others.
pub struct Scheduler {
    tasks: HashMap<String, SourceTask>,
    runner: Runner,
    clock: Clock,
    shutdown: CancellationToken,
    /// Every run in flight, so that shutdown waits for them (but not for sleeps).
    runs: TaskTracker,
}

struct SourceTask {
    source: Source,
    /// Ends this source's loop; a run in flight still finishes.
    stop: CancellationToken,
    /// Wakes the loop for a run now.
    wake: Arc<Notify>,
}

impl Scheduler {
    pub fn new(runner: Runner, clock: Clock, shutdown: CancellationToken) -> Scheduler {
        Scheduler {
            tasks: HashMap::new(),
            runner,
            clock,
            shutdown,
            runs: TaskTracker::new(),
        }
    }

    /// The source scheduled under `id`, if any.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.tasks.get(id).map(|t| &t.source)
    }

    /// The ids of the sources being scheduled.
    pub fn ids(&self) -> Vec<String> {
        self.tasks.keys().cloned().collect()
    }

    /// Schedules `source` (replacing a task of the same id): its first run at
    /// `first_run`, or at its next cron firing when `None`.
    pub fn start(&mut self, source: Source, first_run: Option<DateTime<Utc>>) {
        self.stop(&source.id);
        let task = SourceTask {
            source: source.clone(),
            stop: self.shutdown.child_token(),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(source_loop(
            source,
            first_run,
            self.runner.clone(),
            self.clock.clone(),
            task.stop.clone(),
            task.wake.clone(),
            self.runs.clone(),
        ));
        self.tasks.insert(task.source.id.clone(), task);
    }

    /// Stops scheduling `id`; a run in flight finishes.
    pub fn stop(&mut self, id: &str) {
        if let Some(task) = self.tasks.remove(id) {
            task.stop.cancel();
        }
    }

    /// Runs `id` now (unless it is running); false when no such source is scheduled.
    pub fn fetch_now(&self, id: &str) -> bool {
        self.tasks.get(id).is_some_and(|t| {
            t.wake.notify_one();
            true
        })
    }

    /// After shutdown was signalled: waits up to `grace` for the runs in flight.
    pub async fn drain(&self, grace: Duration) {
        self.runs.close();
        info!(
            grace_secs = grace.as_secs(),
            "Shutting down: waiting for fetches in flight."
        );
        if tokio::time::timeout(grace, self.runs.wait()).await.is_err() {
            warn!("Fetches still in flight after the grace period were abandoned.");
        }
    }
}

async fn source_loop(
    source: Source,
    first_run: Option<DateTime<Utc>>,
    runner: Runner,
    clock: Clock,
    stop: CancellationToken,
    wake: Arc<Notify>,
    runs: TaskTracker,
) {
    let mut retry_at = first_run;
    loop {
        let now = clock.now();
        let at = source.next_run(retry_at, now);
        let mut wait = (at - now).to_std().unwrap_or_default();
        // Cron firings shared by many sources are spread; a run asked for is not.
        if retry_at.is_none() {
            wait += start_jitter(&mut rand::rng());
        }
        debug!(source = %source.id, next = %at.to_rfc3339(), "Next fetch scheduled.");
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
        if stop.is_cancelled() {
            return;
        }
        let run = runs.spawn(runner(source.clone()));
        tokio::select! {
            result = run => retry_at = result.unwrap_or(None),
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::Mutex;

    fn source(id: &str, schedule: &str) -> Source {
        Source {
            id: id.to_string(),
            url: format!("https://example.org/{id}.rss"),
            location: crate::config::Location::Http(
                url::Url::parse(&format!("https://example.org/{id}.rss")).unwrap(),
            ),
            name: id.to_string(),
            schedule: crate::config::Schedule::parse(schedule, chrono_tz::UTC).unwrap(),
            lang: None,
            enabled: true,
            url_position: crate::config::Position {
                file: "feeds.toml".into(),
                line: 1,
                column: 1,
            },
        }
    }

    /// Each run: the source and the clock's time.
    type Runs = Arc<Mutex<Vec<(String, DateTime<Utc>)>>>;

    /// A scheduler whose runs record (source, clock time) and succeed.
    fn recording(clock: &Clock) -> (Scheduler, Runs) {
        let runs = Arc::new(Mutex::new(Vec::new()));
        let seen = runs.clone();
        let at = clock.clone();
        let runner: Runner = Arc::new(move |source: Source| {
            seen.lock().unwrap().push((source.id.clone(), at.now()));
            Box::pin(async { None })
        });
        let scheduler = Scheduler::new(runner, clock.clone(), CancellationToken::new());
        (scheduler, runs)
    }

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 10, 3, 0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn sources_run_at_their_cron_firings_on_paused_time() {
        let clock = Clock::starting_at(start());
        let (mut scheduler, runs) = recording(&clock);
        scheduler.start(source("a", "*/10 * * * *"), None);
        tokio::time::sleep(Duration::from_secs(35 * 60)).await;
        let runs = runs.lock().unwrap().clone();
        let minutes: Vec<_> = runs
            .iter()
            .map(|(_, at)| (*at - start()).num_seconds())
            .collect();
        // 10:10, 10:20, 10:30, each within the start jitter of the firing.
        assert_eq!(runs.len(), 3, "{minutes:?}");
        for (run, firing) in minutes.iter().zip([7 * 60, 17 * 60, 27 * 60]) {
            assert!((firing..firing + 5).contains(run), "{minutes:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopped_source_stops_and_a_new_one_runs_at_once() {
        let clock = Clock::starting_at(start());
        let (mut scheduler, runs) = recording(&clock);
        scheduler.start(source("a", "*/10 * * * *"), None);
        tokio::time::sleep(Duration::from_secs(8 * 60)).await;
        scheduler.stop("a");
        scheduler.start(source("b", "0 0 1 1 *"), Some(clock.now()));
        tokio::time::sleep(Duration::from_secs(60 * 60)).await;
        let ids: Vec<String> = runs
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(scheduler.fetch_now("b"));
        assert!(!scheduler.fetch_now("a"));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(runs.lock().unwrap().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_run_retries_at_the_time_it_asks_for() {
        let clock = Clock::starting_at(start());
        let runs = Arc::new(Mutex::new(Vec::new()));
        let seen = runs.clone();
        let at = clock.clone();
        let runner: Runner = Arc::new(move |_source: Source| {
            let now = at.now();
            seen.lock().unwrap().push(now);
            Box::pin(async move { Some(now + chrono::Duration::seconds(90)) })
        });
        let mut scheduler = Scheduler::new(runner, clock.clone(), CancellationToken::new());
        scheduler.start(source("a", "0 0 1 1 *"), Some(clock.now()));
        tokio::time::sleep(Duration::from_secs(200)).await;
        let gaps: Vec<i64> = runs
            .lock()
            .unwrap()
            .iter()
            .map(|t| (*t - start()).num_seconds())
            .collect();
        assert_eq!(gaps, [0, 90, 180]);
    }
}

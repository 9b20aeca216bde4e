//! The scheduler: each source on its own cron schedule, retried with backoff after a
//! failure, until shutdown.
//!
//! One task per source loops: sleep until the next firing (cron, or the retry time after
//! a failure), run the source, repeat. Concurrency limits live in the fetcher, so many
//! sources firing at once queue there. Sources that share a cron time are spread by a
//! little jitter so that a dozen requests do not leave in the same second. On shutdown
//! no new run starts; runs in flight get the grace period to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::config::Source;

/// The first retry after a failure waits about this long; each further failure doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(60);

/// How long to wait after `failures` consecutive failures: exponential from one minute,
/// capped, with ±20 % jitter so that failing sources do not retry in lockstep.
pub fn backoff_delay(failures: u32, cap: Duration, rng: &mut impl Rng) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let base = FIRST_RETRY.saturating_mul(1 << exponent).min(cap);
    let jitter = rng.random_range(0.8..1.2);
    base.mul_f64(jitter).min(cap)
}

/// Spreads sources that fire at the same cron time over a few seconds.
fn start_jitter(rng: &mut impl Rng) -> Duration {
    Duration::from_millis(rng.random_range(0..5_000))
}

/// When a source should run next: at its retry time while it is failing, else at its
/// next cron firing.
pub fn next_run(
    source: &Source,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    match retry_at {
        Some(at) => at,
        None => source
            .schedule
            .next_after(now)
            .unwrap_or(now + chrono::Duration::hours(1)),
    }
}

/// Runs every source on its schedule until `shutdown` is cancelled, then waits up to
/// `grace` for runs in flight. Each source comes with the time of its first run (`None`:
/// its next cron firing). `run_source` fetches one source and returns when it wants to
/// be retried early (after a failure), if at all.
pub async fn run<F, Fut>(
    sources: Vec<(Source, Option<DateTime<Utc>>)>,
    run_source: F,
    shutdown: CancellationToken,
    grace: Duration,
) where
    F: Fn(Source) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<DateTime<Utc>>> + Send + 'static,
{
    let run_source = Arc::new(run_source);
    let tracker = TaskTracker::new();
    for (source, first_run) in sources {
        let task = source_loop(
            source,
            first_run,
            run_source.clone(),
            shutdown.clone(),
            tracker.clone(),
        );
        tracker.spawn(task);
    }
    tracker.close();
    shutdown.cancelled().await;
    info!(
        grace_secs = grace.as_secs(),
        "Shutting down: waiting for fetches in flight."
    );
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        warn!("Fetches still in flight after the grace period were abandoned.");
    }
}

async fn source_loop<F, Fut>(
    source: Source,
    first_run: Option<DateTime<Utc>>,
    run_source: Arc<F>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) where
    F: Fn(Source) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<DateTime<Utc>>> + Send + 'static,
{
    let mut retry_at = first_run;
    loop {
        let now = Utc::now();
        let at = next_run(&source, retry_at, now);
        let wait = (at - now).to_std().unwrap_or_default() + start_jitter(&mut rand::rng());
        debug!(source = %source.id, next = %at.to_rfc3339(), "Next fetch scheduled.");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        // The run is tracked on its own so that shutdown waits for it but not for the sleep.
        let run = tracker.spawn(run_source(source.clone()));
        tokio::select! {
            result = run => retry_at = result.unwrap_or(None),
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_doubles_from_a_minute_and_stops_at_the_cap() {
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

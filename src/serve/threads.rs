//! Rendering and compressing published files on a fixed pair of threads of the
//! server's own.
//!
//! Why not on the async runtime: rendering a feed of large items, and brotli over it,
//! take seconds of CPU; on a worker they hold every request queued behind it (on a
//! one-core machine, all of them, `/healthz` too).
//!
//! Why not on tokio's blocking pool: its threads take work in no particular order, so
//! with readers polling every file after each change, every one of them ends up
//! rendering and compressing, and glibc gives each thread that allocates a malloc
//! arena of its own, which keeps what a rendering left fragmented. The soak with
//! readers grew by about 0.4 MiB a cycle with the work spread so (RELIABILITY.md,
//! "Soak"); `app::parse_pool` keeps parsing on a few threads for the same reason.
//! Here two threads do all of it, so that the garbage lives in two arenas, and at most
//! two cores are taken by publishing while the fetcher and the store go on.
//!
//! A caller waits on a oneshot channel, on the runtime, holding no thread.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

/// Work for a publishing thread.
type Job = Box<dyn FnOnce() + Send>;

/// How many threads render and compress: each takes a core while it works, and the
/// fetcher, the parser threads and the store need theirs.
const PUBLISHING_THREADS: usize = 2;

/// The job queue of the publishing threads, or why they could not be started.
static QUEUE: LazyLock<Result<Mutex<mpsc::Sender<Job>>, String>> = LazyLock::new(start);

fn start() -> Result<Mutex<mpsc::Sender<Job>>, String> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..PUBLISHING_THREADS {
        let queue = Arc::clone(&queue);
        std::thread::Builder::new()
            .name(format!("entente-publish-{n}"))
            .spawn(move || loop {
                // The lock is held while taking a job, never while running one.
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                match next {
                    Ok(job) => job(),
                    Err(mpsc::RecvError) => return,
                }
            })
            .map_err(|error| format!("cannot start a publishing thread: {error}"))?;
    }
    Ok(Mutex::new(jobs))
}

/// Runs `work` on a publishing thread, in the order asked, and returns its result. A
/// panic in `work` is resumed in the caller, as if it had run there. Work already
/// queued runs even if the caller stops waiting (a client left): what it makes is
/// cached by whoever asked. Should the threads not start (no thread can be created),
/// the work runs on tokio's blocking pool instead.
pub(super) async fn run<T, F>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, Box<dyn Any + Send>>>();
    let job: Job = Box::new(move || {
        // Nobody waiting (the task was dropped): nothing to tell.
        let _ = reply.send(catch_unwind(AssertUnwindSafe(work)));
    });
    let job = match &*QUEUE {
        Ok(queue) => match queue.lock().unwrap_or_else(|p| p.into_inner()).send(job) {
            Ok(()) => None,
            Err(mpsc::SendError(job)) => Some(job),
        },
        Err(problem) => {
            tracing::warn!(%problem, "Publishing on tokio's blocking threads instead.");
            Some(job)
        }
    };
    if let Some(job) = job {
        // Joining here would lose nothing: the job sends its own result or panic.
        let _ = tokio::task::spawn_blocking(job).await;
    }
    match answer.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => resume_unwind(panic),
        // The job was dropped unrun: only when the runtime shuts down under it.
        Err(_) => resume_unwind(Box::new("a publishing job was dropped unrun")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[tokio::test]
    async fn all_work_runs_on_the_two_publishing_threads() {
        let mut names = HashSet::new();
        for _ in 0..50 {
            names.insert(run(|| std::thread::current().name().unwrap_or("").to_string()).await);
        }
        assert!(
            !names.is_empty() && names.len() <= PUBLISHING_THREADS,
            "{names:?}"
        );
        assert!(
            names.iter().all(|n| n.starts_with("entente-publish-")),
            "{names:?}"
        );
    }

    #[tokio::test]
    async fn a_panic_reaches_the_caller_and_the_threads_go_on() {
        let panicked = tokio::spawn(run(|| -> u32 { panic!("bad file") })).await;
        assert!(panicked.unwrap_err().is_panic());
        assert_eq!(run(|| 7).await, 7);
    }
}

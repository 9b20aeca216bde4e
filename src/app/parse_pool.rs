//! Parsing and classifying on a fixed set of threads, one per core.
//!
//! Why not tokio's blocking pool: its threads take blocking work in no particular
//! order, so over a pass every one of them ends up parsing some feed, and glibc gives
//! each thread that allocates a malloc arena of its own. A parse leaves its arena
//! fragmented (html5ever's trees, feed-rs's model, the sanitized strings), and an arena
//! gives little of that back: eight threads that each parsed once held about four
//! times the memory of two that parsed everything (BENCHMARKS.md, branch memory3).
//! Here the same few threads do all of it, so the parsing garbage lives in as many
//! arenas as there are cores.
//!
//! A caller still waits on a blocking thread of tokio's ([`ParsePool::run`]), which
//! allocates nothing while it waits: tokio then knows that work is in progress, so a
//! runtime with paused time (the daemon's tests) does not jump its clock ahead while a
//! feed is being parsed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Work for a parser thread.
type Job = Box<dyn FnOnce() + Send>;

/// Why a job gave no result.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the parser threads stopped")]
    Stopped,
    #[error("panicked: {0}")]
    Panicked(String),
    #[error("cannot start a parser thread: {0}")]
    Spawn(String),
}

/// The parser threads. They end when the pool is dropped and their queue is empty.
pub struct ParsePool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl ParsePool {
    /// Starts `threads` parser threads (at least one).
    pub fn new(threads: usize) -> Result<ParsePool, PoolError> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("entente-parse-{n}"))
                .spawn(move || loop {
                    // The lock is held only while taking a job, never while running it.
                    let next = queue
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    match next {
                        Ok(job) => job(),
                        Err(mpsc::RecvError) => return,
                    }
                })
                .map_err(|e| PoolError::Spawn(e.to_string()))?;
        }
        Ok(ParsePool {
            jobs: Mutex::new(jobs),
        })
    }

    /// Runs `work` on a parser thread and returns its result; a panic in it is caught
    /// and returned as [`PoolError::Panicked`], and the thread goes on with the next job.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.run_blocking(work))
            .await
            .map_err(|e| PoolError::Panicked(e.to_string()))?
    }

    /// [`ParsePool::run`] from a thread that may block.
    pub fn run_blocking<T, F>(&self, work: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(work)).map_err(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                PoolError::Panicked(message)
            });
            // The caller may have gone (its task was cancelled): nothing to tell.
            let _ = reply.send(result);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job)
            .map_err(|_| PoolError::Stopped)?;
        answer.recv().map_err(|_| PoolError::Stopped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn runs_work_on_its_own_threads_only() {
        let pool = ParsePool::new(2).unwrap();
        let names: HashSet<String> = (0..50)
            .map(|_| {
                pool.run_blocking(|| std::thread::current().name().unwrap_or("").to_string())
                    .unwrap()
            })
            .collect();
        assert!(!names.is_empty() && names.len() <= 2, "{names:?}");
        assert!(
            names.iter().all(|n| n.starts_with("entente-parse-")),
            "{names:?}"
        );
    }

    #[test]
    fn a_panic_is_an_error_and_the_pool_goes_on() {
        let pool = ParsePool::new(1).unwrap();
        let err = pool
            .run_blocking(|| -> u32 { panic!("bad feed") })
            .unwrap_err();
        assert!(
            matches!(&err, PoolError::Panicked(m) if m == "bad feed"),
            "{err}"
        );
        assert_eq!(pool.run_blocking(|| 7).unwrap(), 7);
    }
}

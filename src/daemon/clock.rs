//! The time the scheduler reads, so that schedule tests run on tokio's paused time.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// Wall-clock time for cron: the system's, or one that follows tokio's clock from a
/// chosen start (under `tokio::time::pause` it jumps as sleeps auto-advance).
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Tokio {
        start: DateTime<Utc>,
        at: Instant,
    },
}

impl Clock {
    /// A clock that reads `start` now and moves with tokio's time.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock::Tokio {
            start,
            at: Instant::now(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Tokio { start, at } => {
                *start + chrono::Duration::from_std(at.elapsed()).unwrap_or_default()
            }
        }
    }
}

//! Which published feeds the store's writes changed: the cache keys of the server.
//!
//! The store records here after every write it commits (see [`super::Store`]): an
//! ingest names the topics whose feeds it changed; any other write (retag, retention,
//! an operator's SQL) and any commit by another process counts as a change of
//! everything. Callers never record, so no write can forget to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Versions that grow when what a published file shows may have changed.
#[derive(Debug, Default)]
pub struct Changes {
    /// Bumped by every change: the `all` feeds and the front page show every topic.
    any: AtomicU64,
    /// Bumped when the change cannot be narrowed to topics: every file is stale.
    everything: AtomicU64,
    /// Bumped per topic whose feeds changed.
    topics: Mutex<HashMap<String, u64>>,
    /// Wakes the one waiter of [`Changes::changed`] (the WebSub publisher).
    notify: tokio::sync::Notify,
}

impl Changes {
    /// Records that these topics' feeds (and so `all` and the front page) changed.
    pub fn record<'a>(&self, topics: impl IntoIterator<Item = &'a String>) {
        {
            let mut versions = self.topics.lock().unwrap_or_else(|p| p.into_inner());
            for topic in topics {
                *versions.entry(topic.clone()).or_default() += 1;
            }
        }
        self.any.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Records a change that may touch any published file.
    pub fn record_all(&self) {
        self.everything.fetch_add(1, Ordering::SeqCst);
        self.any.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Resolves after the next change recorded (or at once if one was since the
    /// last call).
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// The version of the files that show every topic (`all`, the front page).
    pub fn of_all(&self) -> u64 {
        self.any.load(Ordering::SeqCst)
    }

    /// The version of one topic's files.
    pub fn of_topic(&self, topic: &str) -> u64 {
        let versions = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        let own = versions.get(topic).copied().unwrap_or_default();
        // Both only grow, so their sum changes whenever either does.
        own + self.everything.load(Ordering::SeqCst)
    }
}

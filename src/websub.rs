//! The WebSub publisher (W3C WebSub §7): when a feed's bytes change, tell the hub
//! (`hub.mode=publish`, `hub.url` the feed), so that subscribers get the story in
//! seconds instead of at their next poll.
//!
//! It runs beside ingestion and never holds it up: it wakes when an ingest records a
//! change (and once a minute, for changes committed by another process), renders each
//! feed through the [`Catalog`] (cached, so unchanged feeds cost a lookup), and pings
//! for those whose ETag moved since the last look. Each ping is its own task, retried
//! with exponential backoff; a hub that is down delays nothing else.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::publish::{FeedId, SitePath};
use crate::serve::Catalog;

/// Why the publisher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebSubError {
    #[error("cannot build the HTTP client for the WebSub hub: {0}")]
    Client(#[source] reqwest::Error),
    #[error("cannot render the feeds to compare: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// How many times a ping is tried before it is given up (the next change pings again).
const ATTEMPTS: u32 = 6;
/// The wait before the first retry; it doubles after each failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// After a change, wait this long for the rest of the same ingest round to land.
const SETTLE: Duration = Duration::from_millis(300);
/// How often feeds are compared without a recorded change (another process's commit).
const RECHECK: Duration = Duration::from_secs(60);

/// Starts the publisher when `hub` is set: the feeds as they are now are the baseline
/// (so a restart pings nothing that did not change), then a task pings for every
/// change until `shutdown`.
pub async fn start(
    catalog: Arc<Catalog>,
    hub: Option<Url>,
    user_agent: &str,
    shutdown: CancellationToken,
) -> Result<(), WebSubError> {
    let Some(hub) = hub else {
        return Ok(());
    };
    let client = reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(WebSubError::Client)?;
    let mut publisher = Publisher {
        catalog,
        hub,
        client,
        seen: HashMap::new(),
    };
    publisher.changed_feeds().await?;
    tokio::spawn(async move { publisher.run(shutdown).await });
    Ok(())
}

struct Publisher {
    catalog: Arc<Catalog>,
    hub: Url,
    client: reqwest::Client,
    /// Each feed's ETag when last compared.
    seen: HashMap<FeedId, String>,
}

impl Publisher {
    async fn run(&mut self, shutdown: CancellationToken) {
        let changes = self.catalog.changes().clone();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = changes.changed() => tokio::time::sleep(SETTLE).await,
                () = tokio::time::sleep(RECHECK) => {}
            }
            match self.changed_feeds().await {
                Ok(changed) => {
                    for feed in changed {
                        let url = self.catalog.site().page_url(&SitePath::Feed(feed));
                        tokio::spawn(ping(self.client.clone(), self.hub.clone(), url));
                    }
                }
                Err(err) => tracing::warn!(error = %err, "Could not compare the feeds for WebSub."),
            }
        }
    }

    /// The feeds whose bytes changed since the last call (every feed, the first time:
    /// the caller ignores those).
    async fn changed_feeds(&mut self) -> Result<Vec<FeedId>, WebSubError> {
        let mut changed = Vec::new();
        for feed in self.catalog.feeds() {
            let Some(rendered) = self.catalog.get_path(&SitePath::Feed(feed.clone())).await? else {
                continue;
            };
            if self.seen.get(&feed) != Some(&rendered.etag) {
                self.seen.insert(feed.clone(), rendered.etag);
                changed.push(feed);
            }
        }
        Ok(changed)
    }
}

/// Tells the hub that `feed_url` changed, retrying with backoff until it answers 2xx.
async fn ping(client: reqwest::Client, hub: Url, feed_url: String) {
    let mut wait = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(hub.clone())
            .form(&[("hub.mode", "publish"), ("hub.url", feed_url.as_str())])
            .send()
            .await;
        let problem = match sent {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(feed = %feed_url, "WebSub hub told.");
                return;
            }
            Ok(response) => format!("the hub answered {}", response.status()),
            Err(err) => err.to_string(),
        };
        if attempt == ATTEMPTS {
            tracing::warn!(feed = %feed_url, hub = %hub, error = %problem, "WebSub ping given up.");
            return;
        }
        tracing::debug!(feed = %feed_url, error = %problem, attempt, "WebSub ping failed; retrying.");
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

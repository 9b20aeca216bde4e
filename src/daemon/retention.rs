//! Retention as its own periodic task: prune, reclaim the space, tell the published
//! files' cache.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::serve::Changes;
use crate::store::retention::{self, Policy};
use crate::store::{Store, StoreError};

/// Prunes at start, then every `retention.interval` of the configuration in force, until
/// `shutdown`.
pub(super) async fn run(
    store: Store,
    mut config: watch::Receiver<Arc<Config>>,
    changes: Arc<Changes>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) {
    loop {
        let current = config.borrow_and_update().clone();
        match prune_once(&store, &current).await {
            Ok(deleted) => {
                metrics.pruned(deleted as u64);
                if deleted > 0 {
                    // The store does not yet tell the catalog what its writes change
                    // (the scale issue): until it does, the prune says so itself.
                    changes.record_all();
                    info!(deleted, "Old items pruned.");
                }
            }
            Err(err) => warn!(error = %err, "Retention prune failed."),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(current.daemon.retention.interval) => {}
            // A reload may have shortened the interval or the limits.
            Ok(()) = config.changed() => {}
        }
    }
}

/// One prune under `config`'s policy; returns how many items went.
pub async fn prune_once(store: &Store, config: &Config) -> Result<usize, StoreError> {
    let retention = config.daemon.retention;
    let policy = Policy {
        relevant: retention.relevant,
        irrelevant: retention.irrelevant,
        max_per_topic: retention.max_per_topic,
        feed_items: config.daemon.feed_items,
    };
    let topics: Vec<String> = config.rules.topics().iter().map(|t| t.id.clone()).collect();
    store
        .call(move |c| {
            let summary = retention::prune(c, &policy, &topics, Utc::now())?;
            retention::reclaim(c)?;
            Ok(summary.deleted)
        })
        .await
}

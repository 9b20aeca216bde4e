//! The task that owns the running configuration, the only one that changes it:
//! a reload validates the files, then applies them (sources rescheduled, fetcher and
//! catalog replaced when their inputs changed, a retag after a rules change).

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch as channel};
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use super::config_source::{ConfigSource, Loaded};
use super::lock::PidLock;
use super::scheduler::Scheduler;
use super::{new_fetcher, published, sync_sources, watch, Clock, DaemonError};
use crate::app::{decide_with, site, Pipeline};
use crate::config::{Config, ConfigError, Source};
use crate::metrics::{Metrics, ReloadOutcome};
use crate::serve::{Changes, ConfigStatus, Health, ReloadError, ServerState};
use crate::store::corrections;
use crate::store::queries as q;
use crate::store::{Store, StoreError};

/// Whether two configurations publish the same site (every published file's frame).
fn same_site(a: &crate::publish::Site, b: &crate::publish::Site) -> bool {
    a.base_url == b.base_url
        && a.title == b.title
        && a.description == b.description
        && a.topics == b.topics
        && a.ttl_minutes == b.ttl_minutes
}

fn same_source(a: &Source, b: &Source) -> bool {
    Source {
        url_position: b.url_position.clone(),
        ..a.clone()
    } == *b
}

/// The running daemon's state, owned by the one task that changes it.
pub(super) struct Daemon {
    pub(super) config_source: ConfigSource,
    pub(super) current: Loaded,
    pub(super) store: Store,
    /// Read by each run as it starts; replaced by a reload.
    pub(super) pipeline: Arc<RwLock<Pipeline>>,
    pub(super) scheduler: Scheduler,
    pub(super) server_state: ServerState,
    pub(super) config_tx: channel::Sender<Arc<Config>>,
    pub(super) changes: Arc<Changes>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) health: Arc<Health>,
    pub(super) lock: PidLock,
    /// Retags and the retention task: abandoned at shutdown (each commits per batch).
    pub(super) background: TaskTracker,
    /// Held by the retag that runs.
    pub(super) retagging: Arc<tokio::sync::Mutex<()>>,
    pub(super) clock: Clock,
}

impl Daemon {
    pub(super) fn config(&self) -> &Config {
        &self.current.config
    }

    /// When a source scheduled now should first run: at once if never fetched or
    /// overdue, else at the time stored before (a backoff survives restarts).
    pub(super) async fn first_run(&self, source: &Source) -> Result<DateTime<Utc>, StoreError> {
        let id = source.id.clone();
        let state = self.store.call(move |c| q::source_state(c, &id)).await?;
        let now = self.clock.now();
        Ok(state.next_attempt.map_or(now, |at| at.max(now)))
    }

    /// Seeds the per-source gauges of `sources` from the store (one query for all).
    pub(super) async fn metrics_from_store(&self, sources: &[&Source]) -> Result<(), StoreError> {
        let stored = self.store.call(|c| q::list_sources(c)).await?;
        for status in stored
            .iter()
            .filter(|s| sources.iter().any(|source| source.id == s.id))
        {
            self.metrics
                .source_known(&status.id, status.last_success, status.consecutive_failures);
        }
        Ok(())
    }

    pub(super) fn watch(
        &self,
        edits: &mpsc::UnboundedSender<()>,
    ) -> Option<notify::RecommendedWatcher> {
        let config = self.config();
        let files = [config.path.as_path(), config.rules_path.as_path()];
        match watch::watch(&files, edits.clone()) {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                warn!(error = %err, "Cannot watch the configuration files: reload with SIGHUP or `entente reload`.");
                None
            }
        }
    }

    /// Shows the configuration's state in `/healthz` and to `entente sources`.
    pub(super) fn publish_status(&self, last_reload_error: Option<ReloadError>) {
        let previous = self.health.config();
        let status = ConfigStatus {
            path: self.config_source.path().display().to_string(),
            loaded_at: if last_reload_error.is_some() {
                previous.loaded_at
            } else {
                Some(Utc::now())
            },
            last_reload_error,
        };
        if let Err(err) = self.lock.write_status(&status) {
            warn!(error = %err, "Cannot write the daemon's status file.");
        }
        self.health.set_config(status);
    }

    /// Reads the files again and applies them if valid; true when a new configuration
    /// is in force.
    pub(super) async fn reload(&mut self) -> bool {
        let loaded = match self.config_source.load_async().await {
            Ok(loaded) => loaded,
            Err(err) => {
                let problems: Vec<String> = match &err {
                    ConfigError::Invalid(problems) => {
                        problems.iter().map(ToString::to_string).collect()
                    }
                    ConfigError::Read { .. } => vec![err.to_string()],
                };
                for problem in &problems {
                    error!("{problem}");
                }
                error!(
                    problems = problems.len(),
                    "Configuration rejected: the running configuration stays."
                );
                // Status before the counter: whoever sees the count sees the reason too.
                self.publish_status(Some(ReloadError {
                    at: Utc::now(),
                    problems,
                }));
                self.metrics.reloaded(ReloadOutcome::Rejected);
                return false;
            }
        };
        if loaded.feeds_hash == self.current.feeds_hash
            && loaded.rules_hash == self.current.rules_hash
        {
            info!("Configuration unchanged.");
            if self.health.config().last_reload_error.is_some() {
                // The files are back to what runs: the error no longer stands.
                self.publish_status(None);
            }
            return false;
        }
        match self.apply(loaded).await {
            Ok(()) => {
                self.publish_status(None);
                self.metrics.reloaded(ReloadOutcome::Applied);
                true
            }
            Err(err) => {
                error!(error = %err, "Reload failed on the database: the running configuration stays.");
                self.publish_status(Some(ReloadError {
                    at: Utc::now(),
                    problems: vec![err.to_string()],
                }));
                self.metrics.reloaded(ReloadOutcome::Rejected);
                false
            }
        }
    }

    async fn apply(&mut self, mut loaded: Loaded) -> Result<(), DaemonError> {
        let old = self.current.config.clone();
        let new = &mut loaded.config;
        if new.daemon.database != old.daemon.database {
            warn!(database = %old.daemon.database.display(), "`database` changed: takes effect at the next start.");
            new.daemon.database = old.daemon.database.clone();
        }
        if new.daemon.listen != old.daemon.listen {
            warn!(listen = %old.daemon.listen, "`listen` changed: takes effect at the next start.");
            new.daemon.listen = old.daemon.listen;
        }
        sync_sources(&self.store, new).await?;
        let config = Arc::new(new.clone());
        {
            let mut pipeline = self.pipeline.write().unwrap_or_else(|p| p.into_inner());
            if config.daemon.limits != old.daemon.limits
                || config.daemon.user_agent != old.daemon.user_agent
            {
                pipeline.fetcher = new_fetcher(&config)?;
            }
            pipeline.config = config.clone();
        }
        let (added, removed, changed) = self.reschedule(&config).await?;
        if !same_site(&site(&old), &site(&config))
            || config.daemon.feed_items != old.daemon.feed_items
        {
            // A new catalog renders everything afresh; otherwise the cache (and each
            // file's Last-Modified history) stays.
            let (catalog, max_age) = published(&config, &self.store, &self.changes);
            self.server_state.replace_catalog(catalog, max_age);
        }
        let rules_changed = loaded.rules_hash != self.current.rules_hash;
        self.current = loaded;
        let _ = self.config_tx.send(config.clone());
        info!(
            added,
            removed, changed, rules_changed, "Configuration reloaded."
        );
        if rules_changed {
            self.background.spawn(retag(
                self.store.clone(),
                config,
                self.changes.clone(),
                self.metrics.clone(),
                self.retagging.clone(),
            ));
        }
        Ok(())
    }

    /// Makes the scheduled sources those `config` enables: new ones at once, removed
    /// ones stopped, changed ones restarted (at once if their URL changed, else at
    /// their next firing or stored retry time).
    async fn reschedule(&mut self, config: &Config) -> Result<(usize, usize, usize), StoreError> {
        let wanted: Vec<&Source> = config.sources.iter().filter(|s| s.enabled).collect();
        let mut removed = 0;
        for id in self.scheduler.ids() {
            if !wanted.iter().any(|s| s.id == id) {
                self.scheduler.stop(&id);
                if !config.sources.iter().any(|s| s.id == id) {
                    self.metrics.source_removed(&id);
                }
                removed += 1;
            }
        }
        let (mut added, mut changed) = (0, 0);
        for source in wanted {
            let first = match self.scheduler.source(&source.id) {
                // Where the source is written in the file is not what it is.
                Some(running) if same_source(running, source) => continue,
                Some(running) => {
                    changed += 1;
                    if running.url == source.url {
                        self.retry_time(source).await?
                    } else {
                        Some(self.clock.now())
                    }
                }
                None => {
                    added += 1;
                    self.metrics_from_store(&[source]).await?;
                    Some(self.first_run(source).await?)
                }
            };
            self.scheduler.start(source.clone(), first);
        }
        Ok((added, removed, changed))
    }

    /// A failing source keeps its stored retry time; others follow their schedule.
    async fn retry_time(&self, source: &Source) -> Result<Option<DateTime<Utc>>, StoreError> {
        let id = source.id.clone();
        let state = self.store.call(move |c| q::source_state(c, &id)).await?;
        Ok((state.consecutive_failures > 0)
            .then_some(state.next_attempt)
            .flatten())
    }
}

/// Decides every stored item again after a rules change, so that the published feeds
/// follow the new rules. On a connection of its own: the shared one would be held for
/// the whole retag (one call), stalling ingests and every feed request behind it, and
/// batches committed from another connection move `data_version`, so the served files
/// follow batch by batch. Retags run one at a time (`retagging`), so that the last
/// rules win.
async fn retag(
    store: Store,
    config: Arc<Config>,
    changes: Arc<Changes>,
    metrics: Arc<Metrics>,
    retagging: Arc<tokio::sync::Mutex<()>>,
) {
    let _one_at_a_time = retagging.lock().await;
    let database = config.daemon.database.clone();
    let own = tokio::task::spawn_blocking(move || Store::open(&database)).await;
    let store = match own {
        Ok(Ok(own)) => own,
        _ => store,
    };
    let rules = config.rules.clone();
    let policy = config.daemon.dedup;
    let result = store
        .call(move |c| {
            // An operator's decision wins over the new rules too.
            let corrected = corrections::all(c)?;
            let decide = |item: &_| decide_with(&rules, &corrected, item);
            q::retag(c, 500, &policy, decide, |_, _| {})
        })
        .await;
    // Some batches may have committed even if a later one failed.
    changes.record_all();
    metrics.retagged();
    match result {
        Ok(summary) => info!(
            items = summary.items,
            relevance_changed = summary.relevance_changed,
            topics_changed = summary.topics_changed,
            "Retagged after a rules change."
        ),
        Err(err) => error!(error = %err, "Retag after a rules change failed."),
    }
}

//! The daemon: the scheduler, the HTTP server, retention and live reload, until
//! shutdown. [`run`] is the whole of it, driven in-process by tests and by `entente run`
//! (which only binds the socket and turns signals into [`Controller`] calls).
//!
//! One task owns the running configuration and is the only one that changes it: it
//! answers [`Controller`] commands (reload, fetch now) and file-watch events. A reload
//! validates first; a broken edit is logged with every `FILE:LINE:COL: message`, shown
//! in `/healthz` and `entente sources`, and the running configuration stays. A valid
//! one applies at once: new sources are fetched, removed ones stop (their items stay
//! until retention), changed ones restart, and changed rules trigger a background
//! retag.

mod clock;
pub mod lock;
mod retention;
mod scheduler;
mod watch;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch as channel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

pub use clock::Clock;
pub use lock::{LockError, PidLock};
pub use scheduler::{backoff_delay, next_run, Runner, Scheduler};

use crate::app::{decide, site, Pipeline};
use crate::config::{Config, ConfigError, Source};
use crate::fetch::Fetcher;
use crate::metrics::{Metrics, ReloadOutcome};
use crate::serve::{Catalog, Changes, ConfigStatus, Health, ReloadError, ServerState};
use crate::store::queries as q;
use crate::store::{Store, StoreError};

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("invalid configuration:\n{0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("HTTP server failed: {0}")]
    Server(#[source] std::io::Error),
}

/// Where the configuration comes from: feeds.toml and the rules file it names.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    path: PathBuf,
}

/// A validated configuration and what its files held, to tell an edit from a touch.
struct Loaded {
    config: Config,
    feeds_hash: u64,
    rules_hash: u64,
}

impl ConfigSource {
    pub fn file(path: impl Into<PathBuf>) -> ConfigSource {
        ConfigSource { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(&self.path).map_err(|source| ConfigError::Read {
            path: self.path.display().to_string(),
            source,
        })?;
        let mut rules_text = String::new();
        let config = Config::parse(&text, &self.path, |path| {
            let read = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            rules_text.clone_from(&read);
            Ok(read)
        })?;
        Ok(Loaded {
            config,
            feeds_hash: hash(&text),
            rules_hash: hash(&rules_text),
        })
    }

    async fn load_async(&self) -> Result<Loaded, ConfigError> {
        let source = self.clone();
        match tokio::task::spawn_blocking(move || source.load()).await {
            Ok(loaded) => loaded,
            Err(err) => Err(ConfigError::Read {
                path: self.path.display().to_string(),
                source: std::io::Error::other(err.to_string()),
            }),
        }
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What the daemon is asked to do while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Read the configuration files again (SIGHUP, `entente reload`, a file edit).
    Reload,
    /// Fetch this source now.
    FetchNow(String),
}

/// Asks a running daemon to reload, fetch or stop; cheap to clone.
#[derive(Debug, Clone)]
pub struct Controller {
    commands: mpsc::UnboundedSender<Command>,
    shutdown: CancellationToken,
}

impl Controller {
    pub fn reload(&self) {
        let _ = self.commands.send(Command::Reload);
    }

    pub fn fetch_now(&self, source: &str) {
        let _ = self.commands.send(Command::FetchNow(source.to_string()));
    }

    /// Stop new work; work in flight gets the grace period.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}

/// The daemon's end of the [`Controller`], given to [`run`].
pub struct Control {
    commands: mpsc::UnboundedReceiver<Command>,
    shutdown: CancellationToken,
    clock: Clock,
    /// Watch feeds.toml and the rules file (tests that drive reloads themselves may not).
    watch_files: bool,
}

impl Control {
    /// The scheduler reads `clock` instead of the system's (tests on paused time).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Control {
        self.clock = clock;
        self
    }

    /// Reload only when asked, not on file edits.
    #[must_use]
    pub fn without_file_watch(mut self) -> Control {
        self.watch_files = false;
        self
    }
}

/// A controller and the control it drives.
pub fn control() -> (Controller, Control) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    (
        Controller {
            commands: sender,
            shutdown: shutdown.clone(),
        },
        Control {
            commands: receiver,
            shutdown,
            clock: Clock::System,
            watch_files: true,
        },
    )
}

/// Edits closer together than this are one reload (an editor writes, then renames).
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Runs the daemon on `listener` until the control's shutdown, then lets work in
/// flight finish within the grace period. Fails at start when the configuration is
/// invalid, another daemon holds the database, or the database cannot be opened.
pub async fn run(
    config_source: ConfigSource,
    listener: TcpListener,
    control: Control,
) -> Result<(), DaemonError> {
    let Control {
        mut commands,
        shutdown,
        clock,
        watch_files,
    } = control;
    let loaded = config_source.load_async().await?;
    let config = Arc::new(loaded.config.clone());
    let database = config.daemon.database.clone();
    let lock = PidLock::acquire(&database)?;
    let store = open_store(&database).await?;
    sync_sources(&store, &config).await?;

    let metrics = Arc::new(Metrics::default());
    let health = Arc::new(Health::default());
    let changes = Arc::new(Changes::default());
    let fetcher = new_fetcher(&config)?;
    let pipeline = Arc::new(RwLock::new(Pipeline {
        config: config.clone(),
        store: store.clone(),
        fetcher,
        changes: changes.clone(),
        metrics: metrics.clone(),
    }));
    let (catalog, max_age) = published(&config, &store, &changes);
    let server_state = ServerState::with(catalog, max_age, metrics.clone(), health.clone());
    let address = listener.local_addr().map_err(DaemonError::Server)?;
    info!(address = %address, sources = config.sources.len(), "Listening.");
    let server = tokio::spawn(crate::serve::serve(
        listener,
        server_state.clone(),
        shutdown.clone().cancelled_owned(),
    ));

    let (config_tx, config_rx) = channel::channel(config.clone());
    let background = TaskTracker::new();
    background.spawn(retention::run(
        store.clone(),
        config_rx,
        changes.clone(),
        metrics.clone(),
        shutdown.clone(),
    ));

    let runner: Runner = {
        let pipeline = pipeline.clone();
        Arc::new(move |source: Source| {
            let pipeline = pipeline.read().unwrap_or_else(|p| p.into_inner()).clone();
            async move {
                match pipeline.run_source(&source).await {
                    Ok(run) => run.retry_at,
                    Err(err) => {
                        error!(source = %source.id, error = %err, "Database error.");
                        None
                    }
                }
            }
            .boxed()
        })
    };
    let mut daemon = Daemon {
        config_source,
        current: loaded,
        store: store.clone(),
        pipeline,
        scheduler: Scheduler::new(runner, clock.clone(), shutdown.clone()),
        server_state,
        config_tx,
        changes,
        metrics,
        health,
        lock,
        background: background.clone(),
        clock,
    };
    daemon.publish_status(None);
    let enabled: Vec<&Source> = config.sources.iter().filter(|s| s.enabled).collect();
    daemon.metrics_from_store(&enabled).await?;
    for source in enabled {
        let first = daemon.first_run(source).await?;
        daemon.scheduler.start(source.clone(), Some(first));
    }

    let (edits_tx, mut edits) = mpsc::unbounded_channel();
    let watch_files = watch_files && config.daemon.watch_config;
    let mut watcher = watch_files.then(|| daemon.watch(&edits_tx)).flatten();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(()) = edits.recv() => {
                debounce(&mut edits).await;
                info!("Configuration files changed.");
                if daemon.reload().await && watch_files {
                    // The rules file may have moved.
                    watcher = daemon.watch(&edits_tx);
                }
            }
            Some(command) = commands.recv() => match command {
                Command::Reload => {
                    info!("Reload requested.");
                    if daemon.reload().await && watch_files {
                        watcher = daemon.watch(&edits_tx);
                    }
                }
                Command::FetchNow(id) => {
                    if !daemon.scheduler.fetch_now(&id) {
                        warn!(source = %id, "No such source scheduled: nothing fetched.");
                    }
                }
            },
        }
    }
    drop(watcher);
    let grace = daemon.config().daemon.limits.grace;
    daemon.scheduler.drain(grace).await;
    background.close();
    if tokio::time::timeout(Duration::from_millis(100), background.wait())
        .await
        .is_err()
    {
        info!("A retag or prune in progress was abandoned; its finished batches stay.");
    }
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Err(err))) => return Err(DaemonError::Server(err)),
        Ok(_) => {}
        Err(_) => warn!("HTTP requests still open after the grace period were dropped."),
    }
    drop(daemon);
    info!("Stopped.");
    Ok(())
}

/// Waits until no edit came for [`DEBOUNCE`], dropping the ones that did.
async fn debounce(edits: &mut mpsc::UnboundedReceiver<()>) {
    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, edits.recv()).await {}
}

async fn open_store(database: &Path) -> Result<Store, StoreError> {
    let path = database.to_path_buf();
    tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

async fn sync_sources(store: &Store, config: &Config) -> Result<(), StoreError> {
    let sources: Vec<_> = config
        .sources
        .iter()
        .map(|s| (s.id.clone(), s.url.clone(), s.name.clone()))
        .collect();
    store.call(move |c| q::sync_sources(c, &sources)).await
}

fn new_fetcher(config: &Config) -> Result<Arc<Fetcher>, DaemonError> {
    Fetcher::new(&config.daemon.user_agent, config.daemon.limits.clone())
        .map(Arc::new)
        .map_err(|e| DaemonError::Client(e.to_string()))
}

/// The catalog for `config` and the `max-age` of what it serves.
fn published(config: &Config, store: &Store, changes: &Arc<Changes>) -> (Arc<Catalog>, Duration) {
    let catalog = Catalog::new(
        store.clone(),
        site(config),
        config.daemon.feed_items,
        changes.clone(),
    );
    let max_age = Duration::from_secs(u64::from(catalog.site().ttl_minutes) * 60);
    (Arc::new(catalog), max_age)
}

/// Whether two configurations publish the same site (every published file's frame).
fn same_site(a: &crate::publish::Site, b: &crate::publish::Site) -> bool {
    a.base_url == b.base_url
        && a.title == b.title
        && a.description == b.description
        && a.topics == b.topics
        && a.ttl_minutes == b.ttl_minutes
}

/// The running daemon's state, owned by the one task that changes it.
struct Daemon {
    config_source: ConfigSource,
    current: Loaded,
    store: Store,
    /// Read by each run as it starts; replaced by a reload.
    pipeline: Arc<RwLock<Pipeline>>,
    scheduler: Scheduler,
    server_state: ServerState,
    config_tx: channel::Sender<Arc<Config>>,
    changes: Arc<Changes>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    lock: PidLock,
    /// Retags and the retention task: abandoned at shutdown (each commits per batch).
    background: TaskTracker,
    clock: Clock,
}

impl Daemon {
    fn config(&self) -> &Config {
        &self.current.config
    }

    /// When a source scheduled now should first run: at once if never fetched or
    /// overdue, else at the time stored before (a backoff survives restarts).
    async fn first_run(&self, source: &Source) -> Result<DateTime<Utc>, StoreError> {
        let id = source.id.clone();
        let state = self.store.call(move |c| q::source_state(c, &id)).await?;
        let now = self.clock.now();
        Ok(state.next_attempt.map_or(now, |at| at.max(now)))
    }

    /// Seeds the per-source gauges of `sources` from the store (one query for all).
    async fn metrics_from_store(&self, sources: &[&Source]) -> Result<(), StoreError> {
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

    fn watch(&self, edits: &mpsc::UnboundedSender<()>) -> Option<notify::RecommendedWatcher> {
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
    fn publish_status(&self, last_reload_error: Option<ReloadError>) {
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
    async fn reload(&mut self) -> bool {
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
                self.metrics.reloaded(ReloadOutcome::Rejected);
                self.publish_status(Some(ReloadError {
                    at: Utc::now(),
                    problems,
                }));
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
                self.metrics.reloaded(ReloadOutcome::Applied);
                self.publish_status(None);
                true
            }
            Err(err) => {
                error!(error = %err, "Reload failed on the database: the running configuration stays.");
                self.metrics.reloaded(ReloadOutcome::Rejected);
                self.publish_status(Some(ReloadError {
                    at: Utc::now(),
                    problems: vec![err.to_string()],
                }));
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
                Some(running) if running == source => continue,
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
/// follow the new rules.
async fn retag(store: Store, config: Arc<Config>, changes: Arc<Changes>, metrics: Arc<Metrics>) {
    let rules = config.rules.clone();
    let policy = config.daemon.dedup;
    let result = store
        .call(move |c| q::retag(c, 500, &policy, |item| decide(&rules, item), |_, _| {}))
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

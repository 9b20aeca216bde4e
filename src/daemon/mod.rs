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
mod config_source;
mod control;
pub mod lock;
mod reload;
mod retention;
mod scheduler;
mod watch;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch as channel};
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

pub use clock::Clock;
pub use config_source::ConfigSource;
pub use control::{control, Command, Control, Controller};
pub use lock::{LockError, PidLock};
use reload::Daemon;
pub use scheduler::{Runner, Scheduler};

use crate::app::{site, Pipeline};
use crate::config::{Config, ConfigError, Source};
use crate::fetch::Fetcher;
use crate::metrics::Metrics;
use crate::serve::{Catalog, Changes, Health, ServerState};
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
    #[error("cannot start the parser threads: {0}")]
    Parsers(String),
    #[error("HTTP server failed: {0}")]
    Server(#[source] std::io::Error),
    #[error(transparent)]
    WebSub(#[from] crate::websub::WebSubError),
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
    // The store records what its commits change; the rest only reads it.
    let changes = store.changes().clone();
    let fetcher = new_fetcher(&config)?;
    let pipeline = Arc::new(RwLock::new(
        Pipeline::new(config.clone(), store.clone(), fetcher, metrics.clone())
            .map_err(|e| DaemonError::Parsers(e.to_string()))?,
    ));
    let (catalog, max_age) = published(&config, &store, &changes);
    // The publisher compares the catalog of the configuration loaded at start: a reload
    // that changes the topics or the hub takes effect for WebSub at the next restart.
    crate::websub::start(
        catalog.clone(),
        config.daemon.websub_hub.clone(),
        &config.daemon.user_agent,
        shutdown.clone(),
    )
    .await?;
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
        retagging: Arc::default(),
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
    // The catalog reads the store's own record of changes; `changes` is that record.
    debug_assert!(Arc::ptr_eq(changes, store.changes()));
    let catalog = Catalog::new(store.clone(), site(config), config.daemon.feed_items);
    let max_age = Duration::from_secs(u64::from(catalog.site().ttl_minutes) * 60);
    (Arc::new(catalog), max_age)
}

//! Each command of the command line, wiring the stages together. The only module that
//! knows them all: one file per command; `pipeline` takes one source through the stages.
//!
//! Commands print with `out!` and `outln!`, never `println!`: a reader that goes
//! away (`entente items --json | head -1`) then ends the command quietly with exit 0
//! instead of a panic (see [`run()`]).

/// `println!` that returns an error instead of panicking: use as `outln!(...)?`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::app::StdoutError)
    }};
}

/// `print!` that returns an error instead of panicking: use as `out!(...)?`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::app::StdoutError)
    }};
}

mod add;
mod backup;
mod check;
mod edit;
mod eval;
mod explain;
mod export;
mod fetch;
mod items;
mod locate;
mod mark;
mod opml;
mod parse_pool;
mod pipeline;
mod purge;
mod reload;
mod retag;
mod run;
mod sources;
mod try_source;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;

pub use pipeline::{classify_items, decide, Pipeline, RunOutcome, SourceRun};
pub(crate) use retag::decide_with;

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigError};
use crate::fetch::Fetcher;
use crate::publish::Site;
use crate::serve::Catalog;
use crate::store::lookup;
use crate::store::queries as q;
use crate::store::{Store, StoreError};

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub std::io::Error);

/// Runs one command; the exit code says how it went. A closed standard output (the
/// reader of a pipe has all it wanted) is a normal end, not an error.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match run_command(cli) {
        Err(err) if is_closed_stdout(&err) => Ok(ExitCode::SUCCESS),
        result => result,
    }
}

fn is_closed_stdout(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run_command(cli: Cli) -> Result<ExitCode> {
    let config_path = cli.config;
    match cli.command {
        Command::Check => check::check(&config_path),
        Command::Eval {
            file, json, errors, ..
        } => eval::eval_command(&config_path, file.as_deref(), json, errors),
        // Edits need no valid config to start from (removing the broken source is a
        // fix); what they write must be valid (`edit::save_checked`).
        Command::Remove { id } => edit::edit(&config_path, &id, edit::Edit::Remove),
        Command::Disable { id } => edit::edit(&config_path, &id, edit::Edit::Disable),
        Command::Enable { id } => edit::edit(&config_path, &id, edit::Edit::Enable),
        Command::ImportOpml { file } => opml::import(&config_path, &file),
        Command::ExportOpml => opml::export(&load_config(&config_path)?),
        Command::Backup { file } => backup::backup(&load_config(&config_path)?, &file),
        Command::Reload => reload::reload(&load_config(&config_path)?),
        command => {
            // Few blocking threads: the pipeline bounds its parsing and the store its
            // connections anyway, and each extra thread may hold a malloc arena of its
            // own, which is memory that is never given back.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .max_blocking_threads(8)
                .build()
                .context("cannot start the async runtime")?;
            let result = runtime.block_on(async {
                if let Command::Run { listen } = command {
                    return run::run_daemon(&config_path, listen).await;
                }
                run_with_config(load_config(&config_path)?, command).await
            });
            // Work abandoned after the grace period (a fetch, a database call on a
            // blocking thread) must not hold the exit: every write is a transaction.
            runtime.shutdown_timeout(std::time::Duration::from_millis(500));
            result
        }
    }
}

async fn run_with_config(config: Config, command: Command) -> Result<ExitCode> {
    match command {
        Command::Fetch { sources } => fetch::fetch(config, &sources).await,
        Command::Sources { json } => sources::sources(config, json).await,
        Command::Items {
            topic,
            source,
            since,
            search,
            limit,
            all,
            json,
        } => {
            let request = items::ItemsRequest {
                topic,
                source,
                since,
                search,
                limit,
                all,
                json,
            };
            items::items(config, request).await
        }
        Command::Explain { item } => explain::explain(config, item).await,
        Command::Retag { dry_run } => retag::retag(config, dry_run).await,
        Command::Export { out } => export::export(config, &out).await,
        Command::Add {
            url,
            id,
            schedule,
            lang,
            pick,
        } => {
            let request = add::AddRequest {
                url,
                id,
                schedule,
                lang,
                pick,
            };
            add::add(config, request).await
        }
        Command::Try { target, json } => try_source::try_source(config, &target, json).await,
        Command::Mark {
            item,
            verdict,
            topics,
            ..
        } => mark::mark(config, item, verdict, topics).await,
        Command::Purge { source } => purge::purge(config, source).await,
        Command::Check
        | Command::Eval { .. }
        | Command::Remove { .. }
        | Command::Disable { .. }
        | Command::Enable { .. }
        | Command::ImportOpml { .. }
        | Command::ExportOpml
        | Command::Backup { .. }
        | Command::Reload
        | Command::Run { .. } => unreachable!("handled before"),
    }
}

pub(crate) fn load_config(path: &Path) -> Result<Config> {
    Config::load(path).map_err(|err| match err {
        ConfigError::Invalid(_) => anyhow::anyhow!("invalid configuration:\n{err}"),
        ConfigError::Read { .. } => anyhow::Error::new(err),
    })
}

/// Opens the database and makes its sources table match the config.
async fn open_store(config: &Config) -> Result<Store> {
    let path = config.daemon.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .context("database task failed")??;
    let sources: Vec<_> = config
        .sources
        .iter()
        .map(|s| (s.id.clone(), s.url.clone(), s.name.clone()))
        .collect();
    // Only when feeds.toml changed them: a write waits behind a daemon's long ingest,
    // and a command beside the daemon must not.
    // Only what is compared: `list_sources` also counts every source's items, a cost
    // that grew with the history for every command (`explain` included).
    let stored = store.read(lookup::source_identities).await?;
    let in_sync = sources
        .iter()
        .all(|(id, url, name)| stored.get(id) == Some(&(url.clone(), name.clone())));
    if !in_sync {
        store.call(move |c| q::sync_sources(c, &sources)).await?;
    }
    Ok(store)
}

/// [`open_store`] for the commands that only read (`items`, `sources`, `explain`,
/// `export`): a database this process cannot write is opened read-only instead, as
/// it is (sources added to feeds.toml since its last write are then not listed).
async fn open_store_for_reading(config: &Config) -> Result<Store> {
    match open_store(config).await {
        Err(err) if matches!(err.downcast_ref(), Some(StoreError::ReadOnly { .. })) => {
            let path = config.daemon.database.clone();
            let store = tokio::task::spawn_blocking(move || Store::open_read_only(&path))
                .await
                .context("database task failed")??;
            Ok(store)
        }
        opened => opened,
    }
}

fn pipeline(config: Config, store: Store) -> Result<Pipeline> {
    let fetcher = Fetcher::new(&config.daemon.user_agent, config.daemon.limits.clone())
        .context("cannot build the HTTP client")?;
    Pipeline::new(
        Arc::new(config),
        store,
        Arc::new(fetcher),
        Arc::new(crate::metrics::Metrics::default()),
    )
    .context("cannot start the parser threads")
}

/// What a site says about itself in every published file.
pub fn site(config: &Config) -> Site {
    let now = Utc::now();
    let shortest = config
        .sources
        .iter()
        .filter(|s| s.enabled)
        .map(|s| s.schedule.shortest_interval(now))
        .min()
        .unwrap_or_else(|| config.daemon.default_schedule.shortest_interval(now));
    Site {
        base_url: config.daemon.public_url.clone(),
        title: config.daemon.title.clone(),
        description: config.daemon.description.clone(),
        topics: config.rules.topics().to_vec(),
        ttl_minutes: u32::try_from(shortest.num_minutes().max(1)).unwrap_or(u32::MAX),
        websub_hub: config.daemon.websub_hub.clone(),
    }
}

fn catalog(config: &Config, store: Store) -> Catalog {
    Catalog::new(store, site(config), config.daemon.feed_items)
}

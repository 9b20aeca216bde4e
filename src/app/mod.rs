//! Each command of the command line, wiring the stages together. The only module that
//! knows them all: one file per command; `pipeline` takes one source through the stages.

mod check;
mod eval;
mod explain;
mod export;
mod fetch;
mod items;
mod pipeline;
mod retag;
mod run;
mod sources;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;

pub use pipeline::{classify_items, decide, Pipeline, RunOutcome, SourceRun};

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigError};
use crate::fetch::Fetcher;
use crate::publish::Site;
use crate::serve::{Catalog, Changes};
use crate::store::queries as q;
use crate::store::Store;

/// Runs one command; the exit code says how it went.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli.config;
    match cli.command {
        Command::Check => check::check(&config_path),
        Command::Eval { file, json, errors } => {
            eval::eval_command(&config_path, &file, json, errors)
        }
        command => {
            let config = load_config(&config_path)?;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(run_with_config(config, command))
        }
    }
}

async fn run_with_config(config: Config, command: Command) -> Result<ExitCode> {
    match command {
        Command::Run { listen } => run::run_daemon(config, listen).await,
        Command::Fetch { sources } => fetch::fetch(config, &sources).await,
        Command::Sources { json } => sources::sources(config, json).await,
        Command::Items {
            topic,
            limit,
            all,
            json,
        } => items::items(config, topic, limit, all, json).await,
        Command::Explain { item } => explain::explain(config, item).await,
        Command::Retag => retag::retag(config).await,
        Command::Export { out } => export::export(config, &out).await,
        Command::Check | Command::Eval { .. } => unreachable!("handled without a runtime"),
    }
}

fn load_config(path: &Path) -> Result<Config> {
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
    store.call(move |c| q::sync_sources(c, &sources)).await?;
    Ok(store)
}

fn pipeline(config: Config, store: Store) -> Result<Pipeline> {
    let fetcher = Fetcher::new(&config.daemon.user_agent, config.daemon.limits.clone())
        .context("cannot build the HTTP client")?;
    Ok(Pipeline {
        config: Arc::new(config),
        store,
        fetcher: Arc::new(fetcher),
        changes: Arc::new(Changes::default()),
    })
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

fn catalog(config: &Config, store: Store, changes: Arc<Changes>) -> Catalog {
    Catalog::new(store, site(config), config.daemon.feed_items, changes)
}

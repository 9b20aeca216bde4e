//! Each command of the command line, wiring the stages together. The only module that
//! knows them all.

mod pipeline;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::Utc;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

pub use pipeline::{classify_items, decide, Pipeline, RunOutcome, SourceRun};

use crate::classify::{eval, Rules};
use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigError};
use crate::fetch::Fetcher;
use crate::publish::Site;
use crate::serve::{Catalog, Changes, ServerState};
use crate::store::queries::{self as q, ItemFilter};
use crate::store::Store;

/// Runs one command; the exit code says how it went.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli.config;
    match cli.command {
        Command::Check => check(&config_path),
        Command::Eval { file, json, errors } => eval_command(&config_path, &file, json, errors),
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
        Command::Run { listen } => run_daemon(config, listen).await,
        Command::Fetch { sources } => fetch(config, &sources).await,
        Command::Sources { json } => sources(config, json).await,
        Command::Items {
            topic,
            limit,
            all,
            json,
        } => items(config, topic, limit, all, json).await,
        Command::Explain { item } => explain(config, item).await,
        Command::Retag => retag(config).await,
        Command::Export { out } => export(config, &out).await,
        Command::Check | Command::Eval { .. } => unreachable!("handled without a runtime"),
    }
}

fn load_config(path: &Path) -> Result<Config> {
    Config::load(path).map_err(|err| match err {
        ConfigError::Invalid(_) => anyhow::anyhow!("invalid configuration:\n{err}"),
        ConfigError::Read { .. } => anyhow::Error::new(err),
    })
}

fn check(path: &Path) -> Result<ExitCode> {
    match Config::load(path) {
        Ok(config) => {
            println!(
                "{}: ok ({} sources, {} enabled; {} topics)",
                path.display(),
                config.sources.len(),
                config.sources.iter().filter(|s| s.enabled).count(),
                config.rules.topics().len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("{err}");
            Ok(ExitCode::from(1))
        }
    }
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

async fn fetch(config: Config, ids: &[String]) -> Result<ExitCode> {
    let selected = config.select_sources(ids).map_err(anyhow::Error::msg)?;
    let store = open_store(&config).await?;
    let pipeline = pipeline(config, store)?;
    let runs = pipeline.run_pass(&selected).await?;
    let mut failed = false;
    for run in &runs {
        println!("{run}");
        failed |= matches!(run.outcome, RunOutcome::Failed { .. });
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
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
    }
}

fn catalog(config: &Config, store: Store, changes: Arc<Changes>) -> Catalog {
    Catalog::new(store, site(config), config.daemon.feed_items, changes)
}

async fn run_daemon(config: Config, listen: Option<std::net::SocketAddr>) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let addr = listen.unwrap_or(config.daemon.listen);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let pipeline = pipeline(config, store.clone())?;
    let config = pipeline.config.clone();
    let catalog = Arc::new(catalog(&config, store.clone(), pipeline.changes.clone()));
    let max_age = Duration::from_secs(u64::from(catalog.site().ttl_minutes) * 60);
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    info!(address = %listener.local_addr()?, sources = config.sources.len(), "Listening.");
    let server = tokio::spawn(crate::serve::serve(
        listener,
        ServerState { catalog, max_age },
        shutdown.clone().cancelled_owned(),
    ));
    let sources = config.select_sources(&[]).map_err(anyhow::Error::msg)?;
    let first_runs = first_runs(&store, &sources).await?;
    let retention = config.daemon.retention;
    let run_source = move |source: crate::config::Source| {
        let pipeline = pipeline.clone();
        async move {
            let run = match pipeline.run_source(&source).await {
                Ok(run) => run,
                Err(err) => {
                    tracing::error!(source = %source.id, error = %err, "Database error.");
                    return None;
                }
            };
            if let Some(keep) = retention {
                prune(&pipeline.store, keep).await;
            }
            run.retry_at
        }
    };
    crate::daemon::run(
        first_runs,
        run_source,
        shutdown.clone(),
        config.daemon.limits.grace,
    )
    .await;
    match tokio::time::timeout(config.daemon.limits.grace, server).await {
        Ok(Ok(Err(err))) => return Err(err).context("HTTP server failed"),
        Ok(_) => {}
        Err(_) => tracing::warn!("HTTP requests still open after the grace period were dropped."),
    }
    info!("Stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Each source and when it should first run: at once if it was never fetched or is
/// overdue, else at the time stored before a restart (a backoff survives restarts).
async fn first_runs(
    store: &Store,
    sources: &[crate::config::Source],
) -> Result<Vec<(crate::config::Source, Option<chrono::DateTime<Utc>>)>> {
    let mut runs = Vec::new();
    for source in sources {
        let id = source.id.clone();
        let state = store.call(move |c| q::source_state(c, &id)).await?;
        let now = Utc::now();
        let first = Some(state.next_attempt.map_or(now, |at| at.max(now)));
        runs.push((source.clone(), first));
    }
    Ok(runs)
}

async fn prune(store: &Store, keep: Duration) {
    let cutoff = Utc::now()
        - chrono::Duration::from_std(keep).unwrap_or_else(|_| chrono::Duration::days(36500));
    if let Err(err) = store.call(move |c| q::delete_older_than(c, cutoff)).await {
        tracing::warn!(error = %err, "Could not delete old items.");
    }
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler can be installed");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    info!("Signal received.");
    shutdown.cancel();
}

async fn sources(config: Config, as_json: bool) -> Result<ExitCode> {
    let failing_after = config.daemon.limits.failing_after;
    let store = open_store(&config).await?;
    let statuses = store.call(|c| q::list_sources(c)).await?;
    let configured: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    let statuses: Vec<_> = statuses
        .into_iter()
        .filter(|s| configured.contains(&s.id.as_str()))
        .collect();
    if as_json {
        let rows: Vec<_> = statuses
            .iter()
            .map(|s| {
                json!({
                    "id": s.id, "url": s.url, "name": s.name, "status": s.status,
                    "error": s.error, "error_kind": s.error_kind,
                    "last_attempt": s.last_attempt, "last_success": s.last_success,
                    "next_attempt": s.next_attempt,
                    "consecutive_failures": s.consecutive_failures,
                    "failing": s.consecutive_failures >= failing_after,
                    "last_new_items": s.last_new_items,
                    "items": s.items, "relevant": s.relevant, "suggested_url": s.suggested_url,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let when = |t: Option<chrono::DateTime<Utc>>| t.map_or("never".to_string(), |t| t.to_rfc3339());
    for s in &statuses {
        let state = if s.consecutive_failures >= failing_after {
            "FAILING"
        } else {
            s.status.as_str()
        };
        println!("{} [{}] {}", s.id, state, s.url);
        if let Some(error) = &s.error {
            let kind = s.error_kind.as_deref().unwrap_or("error");
            println!(
                "  error ({kind}): {error} ({} consecutive failures)",
                s.consecutive_failures
            );
        }
        println!(
            "  last attempt: {}; last success: {}; next attempt: {}",
            when(s.last_attempt),
            when(s.last_success),
            s.next_attempt
                .map_or("at start".to_string(), |t| t.to_rfc3339())
        );
        println!(
            "  items: {} ({} relevant); new in last fetch: {}",
            s.items, s.relevant, s.last_new_items
        );
        if let Some(url) = &s.suggested_url {
            println!("  moved permanently: put url = \"{url}\" in the config");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn items(
    config: Config,
    topic: Option<String>,
    limit: Option<usize>,
    all: bool,
    as_json: bool,
) -> Result<ExitCode> {
    if let Some(topic) = &topic {
        if !config.rules.topics().iter().any(|t| &t.id == topic) {
            bail!(
                "unknown topic `{topic}`; the topics are: {}",
                topic_ids(&config)
            );
        }
    }
    let store = open_store(&config).await?;
    let filter = ItemFilter {
        topic,
        include_irrelevant: all,
        limit,
    };
    let items = store.call(move |c| q::list_items(c, &filter)).await?;
    if as_json {
        let rows: Vec<_> = items
            .iter()
            .map(|s| {
                json!({
                    "id": s.item.key, "number": s.id, "source": s.item.source_id,
                    "title": s.item.title, "link": s.item.link, "published": s.date,
                    "relevant": s.decision.relevant, "score": s.decision.score,
                    "topics": s.decision.topics, "lang": s.item.lang,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in &items {
        let mark = if s.decision.relevant { "+" } else { "-" };
        println!(
            "{mark} {} {} [{}] {} ({})",
            s.id,
            s.date.format("%Y-%m-%d"),
            s.item.source_id,
            s.item.title,
            s.decision.topics.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn topic_ids(config: &Config) -> String {
    config
        .rules
        .topics()
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn explain(config: Config, query: String) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let stored = store.call(move |c| q::find_item(c, &query)).await?;
    let decision = decide(&config.rules, &stored.item);
    println!(
        "Item {} ({}) from {}",
        stored.id, stored.item.key, stored.source_name
    );
    println!("Title: {}", stored.item.title);
    if let Some(link) = &stored.item.link {
        println!("Link: {link}");
    }
    println!();
    println!("{}", decision.explain());
    if decision != stored.decision {
        println!();
        println!("The stored decision differs (rules changed since): run `entente retag`.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn retag(config: Config) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let rules = config.rules.clone();
    let policy = config.daemon.dedup;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} items ({per_sec}, {eta} left)",
            )
            .expect("the progress template is valid"),
        );
        bar
    });
    let progress_bar = bar.clone();
    let summary = store
        .call(move |c| {
            q::retag(
                c,
                500,
                &policy,
                |item| decide(&rules, item),
                |done, total| {
                    if let Some(bar) = &progress_bar {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    }
                },
            )
        })
        .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "retagged {} items: {} changed relevance, {} changed topics only",
        summary.items, summary.relevance_changed, summary.topics_changed
    );
    Ok(ExitCode::SUCCESS)
}

async fn export(config: Config, out: &Path) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let catalog = catalog(&config, store, Arc::new(Changes::default()));
    for path in catalog.paths() {
        let rendered = catalog
            .get(&path)
            .await?
            .context("a listed path always renders")?;
        write_atomically(&out.join(&path), &rendered.body)?;
    }
    println!(
        "wrote {} files under {}",
        catalog.paths().len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes beside the target, then renames over it, so a web server never serves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("an export path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile_in(dir)?;
    temp.1
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", temp.0.display()))?;
    temp.1.sync_all()?;
    std::fs::rename(&temp.0, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> Result<(std::path::PathBuf, std::fs::File)> {
    let name = format!(
        ".entente-{}-{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    );
    let path = dir.join(name);
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    Ok((path, file))
}

/// The rules shipped with this build, for `eval` where no config file is at hand.
const SHIPPED_RULES: &str = include_str!("../../rules.toml");

/// The config's rules; the shipped ones when the config file does not exist, so that
/// `eval` works from any folder.
fn rules_for_eval(config_path: &Path) -> Result<Arc<Rules>> {
    if config_path.exists() {
        return Ok(load_config(config_path)?.rules);
    }
    eprintln!(
        "{} not found: using the rules shipped with entente",
        config_path.display()
    );
    let rules = Rules::from_toml(SHIPPED_RULES).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        anyhow::anyhow!("the shipped rules are invalid: {first}")
    })?;
    Ok(Arc::new(rules))
}

fn eval_command(config_path: &Path, file: &Path, as_json: bool, errors: bool) -> Result<ExitCode> {
    let rules = rules_for_eval(config_path)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let labelled =
        eval::parse_jsonl(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let report = eval::evaluate(&rules, &labelled);
    if as_json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    if errors {
        print!(
            "{}",
            eval::render_errors(&eval::misclassified(&rules, &labelled))
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `entente run`: the daemon, scheduler and HTTP server until a signal.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{catalog, open_store, pipeline};
use crate::config::Config;
use crate::serve::ServerState;
use crate::store::queries as q;
use crate::store::Store;

pub(super) async fn run_daemon(
    config: Config,
    listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode> {
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
    crate::websub::start(
        catalog.clone(),
        config.daemon.websub_hub.clone(),
        &config.daemon.user_agent,
        shutdown.clone(),
    )
    .await?;
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

//! `entente run`: bind the socket, turn signals into daemon commands, run the daemon.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tracing::{info, warn};

use super::load_config;
use crate::daemon::{self, ConfigSource, Controller};

pub(super) async fn run_daemon(
    config_path: &Path,
    listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode> {
    // Loaded here for the address only (and to fail early with the usual message);
    // the daemon loads and owns its configuration.
    let config = load_config(config_path)?;
    // A second daemon is told about the first before it fails to bind the same port
    // (the lock itself is taken by the daemon, which tests also start in-process).
    if let Some(pid) = daemon::lock::running(&config.daemon.database)? {
        return Err(daemon::LockError::Held {
            pid: pid.to_string(),
            database: config.daemon.database.display().to_string(),
        }
        .into());
    }
    let addr = listen.unwrap_or(config.daemon.listen);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let (controller, control) = daemon::control();
    tokio::spawn(forward_signals(controller));
    daemon::run(ConfigSource::file(config_path), listener, control).await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGHUP reloads; the first SIGINT or SIGTERM stops the daemon within its grace
/// period, a second one ends the process at once.
#[cfg(unix)]
async fn forward_signals(controller: Controller) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut hangup), Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::hangup()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        warn!("Cannot install signal handlers: stop the daemon with SIGKILL.");
        return;
    };
    loop {
        let name = tokio::select! {
            _ = hangup.recv() => {
                info!("SIGHUP: reloading the configuration.");
                controller.reload();
                continue;
            }
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        if controller.is_shutting_down() {
            warn!(signal = name, "Second signal: exiting at once.");
            // Every write is a transaction: SQLite rolls back the one in flight.
            std::process::exit(130);
        }
        info!(signal = name, "Signal received: stopping.");
        controller.shutdown();
    }
}

#[cfg(not(unix))]
async fn forward_signals(controller: Controller) {
    let mut stopping = false;
    while tokio::signal::ctrl_c().await.is_ok() {
        if stopping {
            std::process::exit(130);
        }
        stopping = true;
        info!("Signal received: stopping.");
        controller.shutdown();
    }
}

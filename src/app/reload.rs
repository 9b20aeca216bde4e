//! `entente reload`: ask the running daemon to re-read its configuration (SIGHUP).

use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::config::Config;
use crate::daemon::lock;

pub(super) fn reload(config: &Config) -> Result<ExitCode> {
    let database = &config.daemon.database;
    let Some(pid) = lock::running(database)? else {
        bail!(
            "no entente daemon is running on {} (its pid file {} is not locked)",
            database.display(),
            lock::pid_path(database).display()
        );
    };
    lock::signal_reload(pid)?;
    outln!(
        "asked the daemon (pid {pid}) to reload {}",
        config.path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

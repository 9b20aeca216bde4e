//! `entente backup FILE`: an online copy of the database.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Config;
use crate::store::backup::backup as backup_database;

pub(super) fn backup(config: &Config, dest: &Path) -> Result<ExitCode> {
    let bytes = backup_database(&config.daemon.database, dest)?;
    outln!(
        "backed up {} to {} ({bytes} bytes)",
        config.daemon.database.display(),
        dest.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

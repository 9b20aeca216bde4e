//! `entente check`: validate feeds.toml and the rules, every problem as FILE:LINE:COL;
//! then, when the database exists, warn (without failing) about sources that moved
//! permanently or have been failing for more than a day.
//!
//! Beyond what loading refuses, `check` looks at the world the file names: a `file:`
//! source whose file is missing would only fail at its first fetch (the daemon accepts
//! it, since a mirror may write the file later).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;

use super::sources::{ago, local};
use crate::config::{Config, Location, Problem};
use crate::store::lookup;
use crate::store::queries as q;
use crate::store::Store;

pub(super) fn check(path: &Path) -> Result<ExitCode> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(err) => {
            outln!("{err}")?;
            return Ok(ExitCode::from(1));
        }
    };
    let missing = missing_files(&config);
    if !missing.is_empty() {
        for problem in &missing {
            outln!("{problem}")?;
        }
        return Ok(ExitCode::from(1));
    }
    outln!(
        "{}: ok ({} sources, {} enabled; {} topics)",
        path.display(),
        config.sources.len(),
        config.sources.iter().filter(|s| s.enabled).count(),
        config.rules.topics().len()
    )?;
    for warning in warnings(&config) {
        outln!("warning: {warning}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `file:` sources naming a file that is not there (or not a file).
fn missing_files(config: &Config) -> Vec<Problem> {
    config
        .sources
        .iter()
        .filter_map(|source| match &source.location {
            Location::File(file) if !file.is_file() => Some(source.url_position.problem(format!(
                "`{}`: no such file ({})",
                source.url,
                file.display()
            ))),
            _ => None,
        })
        .collect()
}

/// What the sources' fetch history says the operator should look at. A database that
/// does not exist yet, or cannot be read, has nothing to say: `check` is about the
/// files, and it must not create a database.
fn warnings(config: &Config) -> Vec<String> {
    if !config.daemon.database.exists() {
        return Vec::new();
    }
    let history = Store::open(&config.daemon.database).and_then(|store| {
        store.call_blocking(|c| Ok((q::list_sources(c)?, lookup::failing_since(c)?)))
    });
    let (statuses, failing_since) = match history {
        Ok(history) => history,
        Err(error) => {
            return vec![format!(
                "cannot read the fetch history in {}: {error}",
                config.daemon.database.display()
            )]
        }
    };
    let now = Utc::now();
    let mut warnings = Vec::new();
    for source in config.sources.iter().filter(|s| s.enabled) {
        let Some(status) = statuses.iter().find(|s| s.id == source.id) else {
            continue;
        };
        if let Some(moved) = &status.suggested_url {
            warnings.push(format!(
                "source `{}` moved permanently: {} now redirects to {moved}; put url = \"{moved}\" in {}",
                source.id,
                source.url,
                config.path.display()
            ));
        }
        if let Some(since) = failing_since.get(&source.id) {
            let failing_for = now.signed_duration_since(*since);
            if failing_for > chrono::Duration::days(1) {
                warnings.push(format!(
                    "source `{}` has been failing for {} (since {}): {}",
                    source.id,
                    ago(failing_for),
                    local(*since),
                    status.error.as_deref().unwrap_or("unknown error")
                ));
            }
        }
    }
    warnings
}

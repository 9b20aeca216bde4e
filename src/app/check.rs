//! `entente check`: validate feeds.toml and the rules, every problem as FILE:LINE:COL.
//!
//! Beyond what loading refuses, `check` looks at the world the file names: a `file:`
//! source whose file is missing would only fail at its first fetch (the daemon accepts
//! it, since a mirror may write the file later).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::{Config, Location, Problem};

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

//! `entente check`: validate feeds.toml and the rules, every problem as FILE:LINE:COL.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Config;

pub(super) fn check(path: &Path) -> Result<ExitCode> {
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

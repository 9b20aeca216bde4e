//! `entente fetch`: one pass now over all (or the named) sources.

use std::process::ExitCode;

use anyhow::Result;

use super::{open_store, pipeline, RunOutcome};
use crate::config::Config;

pub(super) async fn fetch(config: Config, ids: &[String]) -> Result<ExitCode> {
    let selected = config.select_sources(ids).map_err(anyhow::Error::msg)?;
    let store = open_store(&config).await?;
    let pipeline = pipeline(config, store)?;
    let runs = pipeline.run_pass(&selected).await?;
    let mut failed = false;
    for run in &runs {
        outln!("{run}")?;
        failed |= matches!(run.outcome, RunOutcome::Failed { .. });
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

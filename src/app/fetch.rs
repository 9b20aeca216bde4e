//! `entente fetch`: one pass now over all (or the named) sources, one line each.

use std::process::ExitCode;

use anyhow::Result;

use super::{open_store, pipeline, RunOutcome, SourceRun};
use crate::config::Config;

pub(super) async fn fetch(config: Config, ids: &[String]) -> Result<ExitCode> {
    let selected = config.select_sources(ids).map_err(anyhow::Error::msg)?;
    let store = open_store(&config).await?;
    let pipeline = pipeline(config, store)?;
    let runs = pipeline.run_pass(&selected).await?;
    let mut failed = false;
    for run in &runs {
        outln!("{}", line(run))?;
        failed |= matches!(run.outcome, RunOutcome::Failed { .. });
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The run as one line; a stored feed also says how many of its new relevant items
/// were copies of stories already published (they appear as "Also reported by").
fn line(run: &SourceRun) -> String {
    match &run.outcome {
        RunOutcome::Stored(s) if s.duplicates > 0 => format!(
            "{}: {} new ({} relevant, {} of them already reported elsewhere), {} updated, {} unchanged",
            run.source_id, s.new, s.new_relevant, s.duplicates, s.updated, s.unchanged
        ),
        _ => run.to_string(),
    }
}

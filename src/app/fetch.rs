//! `entente fetch`: one pass now over all (or the named) sources, one line each.

use std::process::ExitCode;

use anyhow::Result;
use futures_util::StreamExt;

use super::{open_store, pipeline, RunOutcome, SourceRun};
use crate::config::Config;

pub(super) async fn fetch(config: Config, ids: &[String]) -> Result<ExitCode> {
    let selected = config.select_sources(ids).map_err(anyhow::Error::msg)?;
    let store = open_store(&config).await?;
    let pipeline = pipeline(config, store)?;
    // Each line as soon as its run and those before it ended, so that no run is kept
    // until the pass ends. A reader that went away does not end the pass: every
    // source is still fetched and recorded, and the closed output reported after.
    let runs = pipeline.run_pass(&selected);
    let mut runs = std::pin::pin!(runs);
    let mut failed = false;
    let mut printed = Ok(());
    while let Some(run) = runs.next().await {
        let run = run?;
        if printed.is_ok() {
            printed = outln!("{}", line(&run));
        }
        failed |= matches!(run.outcome, RunOutcome::Failed { .. });
    }
    printed?;
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

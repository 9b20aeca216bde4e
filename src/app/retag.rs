//! `entente retag`: decide every stored item again with the current rules.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;

use super::{decide, open_store};
use crate::config::Config;
use crate::store::queries as q;

pub(super) async fn retag(config: Config) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let rules = config.rules.clone();
    let policy = config.daemon.dedup;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} items ({per_sec}, {eta} left)",
            )
            .expect("the progress template is valid"),
        );
        bar
    });
    let progress_bar = bar.clone();
    let summary = store
        .call(move |c| {
            q::retag(
                c,
                500,
                &policy,
                |item| decide(&rules, item),
                |done, total| {
                    if let Some(bar) = &progress_bar {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    }
                },
            )
        })
        .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outln!(
        "retagged {} items: {} changed relevance, {} changed topics only",
        summary.items,
        summary.relevance_changed,
        summary.topics_changed
    )?;
    Ok(ExitCode::SUCCESS)
}

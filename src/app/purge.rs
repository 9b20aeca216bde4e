//! `entente purge SOURCE`: delete the items of a source removed from feeds.toml.

use std::process::ExitCode;

use anyhow::{bail, Result};

use super::open_store;
use crate::config::Config;
use crate::store::retention;

pub(super) async fn purge(config: Config, source: String) -> Result<ExitCode> {
    if config.sources.iter().any(|s| s.id == source) {
        bail!(
            "source `{source}` is still in {}: remove it there first (or `enabled = false` to stop fetching it)",
            config.path.display()
        );
    }
    let store = open_store(&config).await?;
    let id = source.clone();
    let deleted = store
        .call(move |c| {
            let deleted = retention::purge_source(c, &id)?;
            retention::reclaim(c)?;
            Ok(deleted)
        })
        .await?;
    outln!("purged {deleted} items of `{source}`")?;
    Ok(ExitCode::SUCCESS)
}

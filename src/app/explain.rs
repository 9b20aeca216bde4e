//! `entente explain`: why an item is (not) relevant, and its topics.

use std::process::ExitCode;

use anyhow::Result;

use super::{decide, open_store};
use crate::config::Config;
use crate::store::queries as q;

pub(super) async fn explain(config: Config, query: String) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let stored = store.call(move |c| q::find_item(c, &query)).await?;
    let decision = decide(&config.rules, &stored.item);
    outln!(
        "Item {} ({}) from {}",
        stored.id,
        stored.item.key,
        stored.source_name
    )?;
    outln!("Title: {}", stored.item.title)?;
    if let Some(link) = &stored.item.link {
        outln!("Link: {link}")?;
    }
    outln!()?;
    outln!("{}", decision.explain())?;
    if decision != stored.decision {
        outln!()?;
        outln!("The stored decision differs (rules changed since): run `entente retag`.")?;
    }
    Ok(ExitCode::SUCCESS)
}

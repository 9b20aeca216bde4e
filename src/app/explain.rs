//! `entente explain`: why an item is (not) relevant, and its topics.

use std::process::ExitCode;

use anyhow::Result;

use super::{decide, open_store};
use crate::config::Config;
use crate::store::queries as q;

pub(super) async fn explain(config: Config, query: String) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let stored = store.read(move |c| q::find_item(c, &query)).await?;
    let decision = decide(&config.rules, &stored.item);
    println!(
        "Item {} ({}) from {}",
        stored.id, stored.item.key, stored.source_name
    );
    println!("Title: {}", stored.item.title);
    if let Some(link) = &stored.item.link {
        println!("Link: {link}");
    }
    println!();
    println!("{}", decision.explain());
    if !q::same_verdict(&decision, &stored.decision) {
        println!();
        println!("The stored decision differs (rules changed since): run `entente retag`.");
    }
    Ok(ExitCode::SUCCESS)
}

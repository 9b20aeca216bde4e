//! `entente mark`: an operator's decision on one item, in force at once and kept over
//! later fetches and `retag`; `--clear` gives the item back to the classifier.

use std::process::ExitCode;

use anyhow::{bail, Result};
use chrono::Utc;

use super::{decide, open_store};
use crate::cli::Verdict;
use crate::config::Config;
use crate::store::corrections::{self, Correction};
use crate::store::lookup;

pub(super) async fn mark(
    config: Config,
    query: String,
    verdict: Option<Verdict>,
    topics: Vec<String>,
) -> Result<ExitCode> {
    let known: Vec<&str> = config
        .rules
        .topics()
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    if let Some(unknown) = topics.iter().find(|t| !known.contains(&t.as_str())) {
        bail!(
            "unknown topic `{unknown}`; the topics are: {}",
            known.join(", ")
        );
    }
    if verdict == Some(Verdict::Irrelevant) && !topics.is_empty() {
        bail!("an irrelevant item has no topics: leave out --topic");
    }
    let store = open_store(&config).await?;
    let stored = store.call(move |c| lookup::find(c, &query)).await?;
    let classifier = decide(&config.rules, &stored.item);
    let policy = config.daemon.dedup;
    let (id, key) = (stored.id, stored.item.key.clone());
    let Some(verdict) = verdict else {
        let cleared = store
            .call(move |c| corrections::clear(c, id, &key, &classifier, &policy))
            .await?;
        if cleared {
            outln!(
                "item {id} ({}): the operator's decision is cleared; the classifier's is in force",
                stored.item.title
            )?;
        } else {
            outln!(
                "item {id} ({}) had no operator's decision",
                stored.item.title
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    let correction = Correction {
        relevant: verdict == Verdict::Relevant,
        topics,
        marked_at: Utc::now(),
    };
    let agrees = classifier.relevant == correction.relevant;
    let decision = store
        .call(move |c| corrections::mark(c, id, &key, &correction, &classifier, &policy))
        .await?;
    let verdict = if decision.relevant {
        "relevant"
    } else {
        "irrelevant"
    };
    let topics = if decision.relevant && !decision.topics.is_empty() {
        format!(" in {}", decision.topics.join(", "))
    } else {
        String::new()
    };
    outln!(
        "item {id} ({}) marked {verdict}{topics} by the operator{}",
        stored.item.title,
        if agrees {
            ""
        } else {
            "; the classifier disagrees"
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

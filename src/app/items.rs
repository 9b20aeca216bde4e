//! `entente items`: the stored items, newest first.

use std::process::ExitCode;

use anyhow::{bail, Result};
use serde_json::json;

use super::open_store;
use crate::config::Config;
use crate::store::queries::{self as q, ItemFilter};

pub(super) async fn items(
    config: Config,
    topic: Option<String>,
    limit: Option<usize>,
    all: bool,
    as_json: bool,
) -> Result<ExitCode> {
    if let Some(topic) = &topic {
        if !config.rules.topics().iter().any(|t| &t.id == topic) {
            bail!(
                "unknown topic `{topic}`; the topics are: {}",
                topic_ids(&config)
            );
        }
    }
    let store = open_store(&config).await?;
    let filter = ItemFilter {
        topic,
        include_irrelevant: all,
        limit,
    };
    let items = store.call(move |c| q::list_items(c, &filter)).await?;
    if as_json {
        let rows: Vec<_> = items
            .iter()
            .map(|s| {
                json!({
                    "id": s.item.key, "number": s.id, "source": s.item.source_id,
                    "title": s.item.title, "link": s.item.link, "published": s.date,
                    "relevant": s.decision.relevant, "score": s.decision.score,
                    "topics": s.decision.topics, "lang": s.item.lang,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in &items {
        let mark = if s.decision.relevant { "+" } else { "-" };
        outln!(
            "{mark} {} {} [{}] {} ({})",
            s.id,
            s.date.format("%Y-%m-%d"),
            s.item.source_id,
            s.item.title,
            s.decision.topics.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn topic_ids(config: &Config) -> String {
    config
        .rules
        .topics()
        .iter()
        .map(|t| t.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

//! `entente items`: the stored items, newest first, with their story clusters.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::open_store_for_reading;
use crate::config::Config;
use crate::store::lookup::{self, Cluster, ClusterReader, Listing};
use crate::store::{corrections, StoredItem};

/// What `entente items` was asked for.
pub(super) struct ItemsRequest {
    pub topic: Option<String>,
    pub source: Option<String>,
    pub since: Option<String>,
    pub search: Vec<String>,
    pub limit: Option<usize>,
    pub all: bool,
    pub json: bool,
}

/// The first line of the text listing.
const LEGEND: &str = "# + relevant, - not relevant, = a copy of the story listed as #N, \
* decided by the operator (entente mark); topics in parentheses";

pub(super) async fn items(config: Config, request: ItemsRequest) -> Result<ExitCode> {
    if let Some(topic) = &request.topic {
        if !config.rules.topics().iter().any(|t| &t.id == topic) {
            bail!(
                "unknown topic `{topic}`; the topics are: {}",
                topic_ids(&config)
            );
        }
    }
    if let Some(source) = &request.source {
        if !config.sources.iter().any(|s| &s.id == source) {
            bail!("no source with id `{source}` in {}", config.path.display());
        }
    }
    let since = request.since.as_deref().map(parse_since).transpose()?;
    let listing = Listing {
        topic: request.topic,
        source: request.source,
        since,
        words: request
            .search
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_string)
            .collect(),
        include_irrelevant: request.all,
        limit: request.limit,
    };
    let store = open_store_for_reading(&config).await?;
    let rows = store
        .read(move |c| {
            let corrected = corrections::all(c)?;
            let mut clusters = ClusterReader::default();
            lookup::list(c, &listing)?
                .into_iter()
                .map(|item| {
                    let cluster = clusters.cluster(c, &item)?;
                    let by_operator = corrected.contains_key(&item.item.key);
                    Ok(Row {
                        item,
                        cluster,
                        by_operator,
                    })
                })
                .collect::<Result<Vec<_>, crate::store::StoreError>>()
        })
        .await?;
    if request.json {
        let rows: Vec<_> = rows.iter().map(Row::json).collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{LEGEND}")?;
    for row in &rows {
        outln!("{}", row.line())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One listed item and where it stands.
struct Row {
    item: StoredItem,
    cluster: Cluster,
    by_operator: bool,
}

impl Row {
    fn json(&self) -> serde_json::Value {
        let s = &self.item;
        json!({
            "id": s.item.key, "number": s.id, "source": s.item.source_id,
            "title": s.item.title, "link": s.item.link, "published": s.date,
            "relevant": s.decision.relevant, "score": s.decision.score,
            "topics": s.decision.topics, "lang": s.item.lang,
            "duplicate_of": self.cluster.duplicate_of.as_ref().map(|m| &m.id),
            "duplicate_of_number": self.cluster.duplicate_of.as_ref().map(|m| m.number),
            "also_reported_by": self.cluster.also_reported_by,
            "set_by_operator": self.by_operator,
        })
    }

    /// `+ 12 2026-03-02 [astana-times] Title (diplomacy)`, then the cluster.
    fn line(&self) -> String {
        let s = &self.item;
        let mark = match (&self.cluster.duplicate_of, s.decision.relevant) {
            (Some(_), _) => "=",
            (None, true) => "+",
            (None, false) => "-",
        };
        let operator = if self.by_operator { "*" } else { "" };
        let mut line = format!(
            "{mark}{operator} {} {} [{}] {}",
            s.id,
            s.date.format("%Y-%m-%d"),
            s.item.source_id,
            s.item.title
        );
        if !s.decision.topics.is_empty() {
            line.push_str(&format!(" ({})", s.decision.topics.join(", ")));
        }
        if let Some(shown) = &self.cluster.duplicate_of {
            line.push_str(&format!(
                "\n    duplicate of #{} [{}]",
                shown.number, shown.source
            ));
        }
        if !self.cluster.also_reported_by.is_empty() {
            let others: Vec<String> = self
                .cluster
                .also_reported_by
                .iter()
                .map(|m| format!("#{} [{}]", m.number, m.source))
                .collect();
            line.push_str(&format!("\n    also reported by {}", others.join(", ")));
        }
        line
    }
}

/// A day (`2026-03-01`, from its start, UTC) or an RFC 3339 time.
fn parse_since(text: &str) -> Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("--since `{text}`: give a day (2026-03-01) or a time (2026-03-01T08:00:00Z)")
    })?;
    Ok(day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
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

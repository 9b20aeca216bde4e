//! `entente try`: what a feed would contribute, judged before it is trusted: each
//! item's verdict, topics and evidence, then a summary. Nothing is stored; the
//! database is not even opened.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::classify_items;
use super::locate::{self, locate, read_source};
use crate::classify::{Decision, Evidence, Place};
use crate::config::Config;
use crate::item::Item;

/// How many items a feed serves, how many are relevant, in which topics.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub items: usize,
    pub relevant: usize,
    pub topics: BTreeMap<String, usize>,
}

impl Tally {
    pub fn of(decided: &[(Item, Decision)]) -> Tally {
        let mut tally = Tally {
            items: decided.len(),
            ..Tally::default()
        };
        for (_, decision) in decided.iter().filter(|(_, d)| d.relevant) {
            tally.relevant += 1;
            for topic in &decision.topics {
                *tally.topics.entry(topic.clone()).or_default() += 1;
            }
        }
        tally
    }

    /// The relevant share, 0 to 1 (0 for an empty feed).
    pub fn share(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            self.relevant as f64 / self.items as f64
        }
    }
}

pub(super) fn print_summary(tally: &Tally) -> Result<()> {
    outln!(
        "  {} items, {} relevant ({:.0} %)",
        tally.items,
        tally.relevant,
        tally.share() * 100.0
    )?;
    if !tally.topics.is_empty() {
        let topics: Vec<String> = tally
            .topics
            .iter()
            .map(|(topic, n)| format!("{topic} {n}"))
            .collect();
        outln!("  topics: {}", topics.join(", "))?;
    }
    Ok(())
}

pub(super) async fn try_source(config: Config, target: &str, as_json: bool) -> Result<ExitCode> {
    let fetcher = locate::fetcher(&config)?;
    let configured = config.sources.iter().find(|s| s.id == target);
    let (url, feed) = match configured {
        Some(source) => {
            let feed = read_source(
                &fetcher,
                &source.location,
                &source.id,
                source.lang.as_deref(),
            )
            .await?;
            (source.url.clone(), feed)
        }
        None => {
            let found = locate(&fetcher, target, None, None).await?;
            if found.candidates.len() > 1 && !as_json {
                outln!(
                    "{target} links {} feeds; trying the first:\n{}",
                    found.candidates.len(),
                    locate::list(&found.candidates)
                )?;
            }
            (found.url, found.feed)
        }
    };
    let title = feed.title.clone();
    let decided = classify_items(&config.rules, feed.items);
    let tally = Tally::of(&decided);
    if as_json {
        let items: Vec<_> = decided
            .iter()
            .map(|(item, d)| {
                json!({
                    "title": item.title, "link": item.link, "published": item.published,
                    "lang": item.lang, "relevant": d.relevant, "score": d.score,
                    "threshold": d.threshold, "topics": d.topics, "evidence": d.evidence,
                })
            })
            .collect();
        let report = json!({
            "url": url, "title": title, "items": items,
            "summary": {
                "items": tally.items, "relevant": tally.relevant, "share": tally.share(),
                "topics": tally.topics,
            },
        });
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{url}{} (nothing stored)",
        title.map(|t| format!(": {t}")).unwrap_or_default()
    )?;
    for (item, d) in &decided {
        let verdict = if d.relevant {
            "+ RELEVANT"
        } else {
            "- not relevant"
        };
        outln!()?;
        outln!(
            "{verdict} (score {:.2}, threshold {:.2}) {}",
            d.score,
            d.threshold,
            item.title
        )?;
        if let Some(link) = &item.link {
            outln!("    {link}")?;
        }
        if d.relevant {
            outln!("    topics: {}", d.topics.join(", "))?;
        }
        let evidence = evidence(&d.evidence);
        if !evidence.is_empty() {
            outln!("    evidence: {evidence}")?;
        }
    }
    outln!()?;
    outln!("Summary:")?;
    print_summary(&tally)?;
    Ok(ExitCode::SUCCESS)
}

/// `"Macron" (france, title), "Astana" (kazakhstan, summary)`
fn evidence(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| {
            let place = match e.place {
                Place::Title => "title",
                Place::Summary => "summary",
            };
            format!("\"{}\" ({}, {place})", e.matched, e.role)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

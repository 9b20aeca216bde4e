//! `entente retag`: decide every stored item again with the current rules, and list
//! the items whose decision changed. Operators' corrections stay in force.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;

use super::{decide, open_store};
use crate::classify::{Decision, Rules};
use crate::config::Config;
use crate::item::Item;
use crate::store::corrections::{self, Correction};
use crate::store::lookup;
use crate::store::queries as q;
use crate::store::StoredItem;

/// One item whose decision the current rules change.
struct Change {
    number: i64,
    source: String,
    title: String,
    before: (bool, Vec<String>),
    after: (bool, Vec<String>),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = |(relevant, topics): &(bool, Vec<String>)| {
            if *relevant {
                format!("relevant ({})", topics.join(", "))
            } else {
                "not relevant".to_string()
            }
        };
        let mark = match (self.before.0, self.after.0) {
            (false, true) => "+",
            (true, false) => "-",
            _ => "~",
        };
        write!(
            f,
            "  {mark} {} [{}] {}: {} → {}",
            self.number,
            self.source,
            self.title,
            verdict(&self.before),
            verdict(&self.after)
        )
    }
}

impl Change {
    /// The change from the stored decision to `after`, if its relevance or topics differ.
    fn of(stored: &StoredItem, after: &Decision) -> Option<Change> {
        let before = &stored.decision;
        (after.relevant != before.relevant || after.topics != before.topics).then(|| Change {
            number: stored.id,
            source: stored.item.source_id.clone(),
            title: stored.item.title.clone(),
            before: (before.relevant, before.topics.clone()),
            after: (after.relevant, after.topics.clone()),
        })
    }
}

/// The decision in force: the operator's when there is one, else the classifier's.
pub(crate) fn decide_with(
    rules: &Rules,
    corrected: &HashMap<String, Correction>,
    item: &Item,
) -> Decision {
    let decision = decide(rules, item);
    match corrected.get(&item.key) {
        Some(correction) => correction.apply(&decision),
        None => decision,
    }
}

pub(super) async fn retag(config: Config, dry_run: bool) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    if dry_run {
        let rules = config.rules.clone();
        let (changes, total) = store
            .call(move |c| {
                let corrected = corrections::all(c)?;
                let mut changes = Vec::new();
                let mut total = 0_usize;
                lookup::each_item(c, 500, |stored| {
                    total += 1;
                    let after = decide_with(&rules, &corrected, &stored.item);
                    if let Some(change) = Change::of(stored, &after) {
                        changes.push(change);
                    }
                })?;
                Ok((changes, total))
            })
            .await?;
        outln!(
            "retag would change {} of {total} items (nothing stored: --dry-run)",
            changes.len()
        )?;
        for change in &changes {
            outln!("{change}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
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
    // One pass: each item is read and decided once, and its change listed as stored.
    let (summary, changes) = store
        .call(move |c| {
            let corrected = corrections::all(c)?;
            let mut changes = Vec::new();
            let summary = q::retag_reporting(
                c,
                500,
                &policy,
                |item| decide_with(&rules, &corrected, item),
                |stored, after| changes.extend(Change::of(stored, after)),
                |done, total| {
                    if let Some(bar) = &progress_bar {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    }
                },
            )?;
            Ok((summary, changes))
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
    for change in &changes {
        outln!("{change}")?;
    }
    Ok(ExitCode::SUCCESS)
}

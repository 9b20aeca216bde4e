//! `entente eval`: classifier metrics on a labelled JSONL file.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::{decide, load_config};
use crate::classify::eval::{self, LabelledItem};
use crate::classify::Rules;
use crate::config::Config;
use crate::store::{corrections, Store};

/// The rules shipped with this build, for `eval` where no config file is at hand.
const SHIPPED_RULES: &str = include_str!("../../rules.toml");

/// The config's rules; the shipped ones when the config file does not exist, so that
/// `eval` works from any folder.
fn rules_for_eval(config_path: &Path) -> Result<Arc<Rules>> {
    if config_path.exists() {
        return Ok(load_config(config_path)?.rules);
    }
    eprintln!(
        "{} not found: using the rules shipped with entente",
        config_path.display()
    );
    let rules = Rules::from_toml(SHIPPED_RULES).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        anyhow::anyhow!("the shipped rules are invalid: {first}")
    })?;
    Ok(Arc::new(rules))
}

pub(super) fn eval_command(
    config_path: &Path,
    file: Option<&Path>,
    as_json: bool,
    errors: bool,
) -> Result<ExitCode> {
    let (rules, labelled, what) = match file {
        Some(file) => {
            let rules = rules_for_eval(config_path)?;
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let labelled =
                eval::parse_jsonl(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            (rules, labelled, None)
        }
        None => {
            let config = load_config(config_path)?;
            let labelled = corrections_as_labelled(&config)?;
            let what = format!("{} operators' corrections", labelled.len());
            (config.rules, labelled, Some(what))
        }
    };
    let report = eval::evaluate(&rules, &labelled);
    let misclassified = eval::misclassified(&rules, &labelled);
    if as_json {
        outln!("{}", serde_json::to_string(&report)?)?;
    } else {
        if let Some(what) = &what {
            outln!(
                "The classifier disagrees with {} of {what} (relevance or topics).",
                misclassified.len()
            )?;
        }
        out!("{}", report.render_text())?;
    }
    if errors {
        out!("{}", eval::render_errors(&misclassified))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The operators' corrections as labelled items: their verdict and topics are the
/// labels (the topics in force when they gave none), the stored text the input.
fn corrections_as_labelled(config: &Config) -> Result<Vec<LabelledItem>> {
    let store = Store::open(&config.daemon.database)?;
    let corrected = store.call_blocking(|c| corrections::labelled(c))?;
    Ok(corrected
        .into_iter()
        .map(|l| {
            let decision = l.correction.apply(&decide(&config.rules, &l.item));
            let lang = l
                .item
                .lang
                .clone()
                .or_else(|| {
                    let source = config.sources.iter().find(|s| s.id == l.item.source_id);
                    source.and_then(|s| s.lang.clone())
                })
                .unwrap_or_else(|| "und".to_string());
            LabelledItem {
                id: l.item.key,
                lang,
                source: l.item.source_id,
                title: l.item.title,
                summary: l.item.summary,
                published: l.item.published.map(|p| p.to_rfc3339()),
                relevant: l.correction.relevant,
                topics: decision.topics,
                note: format!(
                    "marked by the operator on {}",
                    l.correction.marked_at.format("%Y-%m-%d")
                ),
            }
        })
        .collect())
}

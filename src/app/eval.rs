//! `entente eval`: classifier metrics on a labelled JSONL file.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::load_config;
use crate::classify::{eval, Rules};

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
    file: &Path,
    as_json: bool,
    errors: bool,
) -> Result<ExitCode> {
    let rules = rules_for_eval(config_path)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let labelled =
        eval::parse_jsonl(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let report = eval::evaluate(&rules, &labelled);
    if as_json {
        outln!("{}", serde_json::to_string(&report)?)?;
    } else {
        out!("{}", report.render_text())?;
    }
    if errors {
        out!(
            "{}",
            eval::render_errors(&eval::misclassified(&rules, &labelled))
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

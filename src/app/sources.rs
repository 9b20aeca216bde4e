//! `entente sources`: each source's fetch state.

use std::process::ExitCode;

use anyhow::Result;
use chrono::Utc;
use serde_json::json;

use super::open_store;
use crate::config::{Config, Source};
use crate::daemon::lock;
use crate::store::queries as q;

pub(super) async fn sources(config: Config, as_json: bool) -> Result<ExitCode> {
    let failing_after = config.daemon.limits.failing_after;
    let store = open_store(&config).await?;
    let statuses = store.call(|c| q::list_sources(c)).await?;
    // A daemon that refused an edit runs on its previous configuration: say so first,
    // on stderr too with --json so that the array stays the contract's shape.
    if let Some(error) =
        lock::daemon_status(&config.daemon.database).and_then(|s| s.last_reload_error)
    {
        let mut text = format!(
            "the running daemon rejected the configuration at {} and runs on the previous one:\n",
            error.at.to_rfc3339()
        );
        for problem in &error.problems {
            text.push_str(&format!("  {problem}\n"));
        }
        if as_json {
            eprint!("{text}");
        } else {
            out!("{text}")?;
        }
    }
    let configured: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
    let statuses: Vec<_> = statuses
        .into_iter()
        .filter(|s| configured.contains(&s.id.as_str()))
        .collect();
    if as_json {
        let rows: Vec<_> = statuses
            .iter()
            .map(|s| {
                let configured = configured_source(&config, &s.id);
                let next_attempt = s.next_attempt.filter(|_| configured.enabled);
                json!({
                    "enabled": configured.enabled,
                    "schedule": configured.schedule.expression(),
                    "timezone": configured.schedule.timezone().name(),
                    "id": s.id, "url": s.url, "name": s.name, "status": s.status,
                    "error": s.error, "error_kind": s.error_kind,
                    "last_attempt": s.last_attempt, "last_success": s.last_success,
                    "next_attempt": next_attempt,
                    "consecutive_failures": s.consecutive_failures,
                    "failing": s.consecutive_failures >= failing_after,
                    "last_new_items": s.last_new_items,
                    "items": s.items, "relevant": s.relevant, "suggested_url": s.suggested_url,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let when = |t: Option<chrono::DateTime<Utc>>| t.map_or("never".to_string(), |t| t.to_rfc3339());
    for s in &statuses {
        let configured = configured_source(&config, &s.id);
        let state = if !configured.enabled {
            "disabled"
        } else if s.consecutive_failures >= failing_after {
            "FAILING"
        } else {
            s.status.as_str()
        };
        outln!("{} [{}] {}", s.id, state, s.url)?;
        outln!(
            "  name: {}; schedule: {} ({})",
            configured.name,
            configured.schedule.expression(),
            configured.schedule.timezone().name()
        )?;
        if let Some(error) = &s.error {
            let kind = s.error_kind.as_deref().unwrap_or("error");
            outln!(
                "  error ({kind}): {error} ({} consecutive failures)",
                s.consecutive_failures
            )?;
        }
        outln!(
            "  last attempt: {}; last success: {}; next attempt: {}",
            when(s.last_attempt),
            when(s.last_success),
            match s.next_attempt {
                _ if !configured.enabled => "none (disabled)".to_string(),
                Some(t) => t.to_rfc3339(),
                None => "at start".to_string(),
            }
        )?;
        outln!(
            "  items: {} ({} relevant); new in last fetch: {}",
            s.items,
            s.relevant,
            s.last_new_items
        )?;
        if let Some(url) = &s.suggested_url {
            outln!("  moved permanently: put url = \"{url}\" in the config")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The config's entry for a listed source (the listing holds configured ones only).
fn configured_source<'a>(config: &'a Config, id: &str) -> &'a Source {
    config
        .sources
        .iter()
        .find(|source| source.id == id)
        .expect("only configured sources are listed")
}

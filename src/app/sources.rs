//! `entente sources`: each source's fetch state, in the order of feeds.toml.

use std::process::ExitCode;

use anyhow::Result;
use chrono::{DateTime, Local, Utc};
use serde_json::json;

use super::open_store;
use crate::config::Config;
use crate::daemon::lock;
use crate::store::lookup;
use crate::store::queries as q;

pub(super) async fn sources(config: Config, as_json: bool) -> Result<ExitCode> {
    let failing_after = config.daemon.limits.failing_after;
    let store = open_store(&config).await?;
    let (statuses, failing_since) = store
        .read(|c| Ok((q::list_sources(c)?, lookup::failing_since(c)?)))
        .await?;
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
    let now = Utc::now();
    let listed: Vec<_> = config
        .sources
        .iter()
        .filter_map(|source| {
            let status = statuses.iter().find(|s| s.id == source.id)?;
            Some((source, status, failing_since.get(&source.id).copied()))
        })
        .collect();
    if as_json {
        let rows: Vec<_> = listed
            .iter()
            .map(|(source, s, since)| {
                json!({
                    "id": s.id, "url": s.url, "name": s.name, "status": s.status,
                    "error": s.error, "error_kind": s.error_kind,
                    "last_attempt": s.last_attempt, "last_success": s.last_success,
                    "next_attempt": s.next_attempt.filter(|_| source.enabled),
                    "consecutive_failures": s.consecutive_failures,
                    "failing": s.consecutive_failures >= failing_after,
                    "failing_since": since,
                    "last_new_items": s.last_new_items,
                    "items": s.items, "relevant": s.relevant, "suggested_url": s.suggested_url,
                    "schedule": source.schedule.expression(), "enabled": source.enabled,
                    "timezone": source.schedule.timezone().name(),
                    "lang": source.lang,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (source, s, since) in &listed {
        let state = if !source.enabled {
            "disabled"
        } else if s.consecutive_failures >= failing_after {
            "FAILING"
        } else {
            s.status.as_str()
        };
        outln!("{} [{}] {}", s.id, state, s.url)?;
        outln!(
            "  name: {}; schedule: {} ({}){}",
            s.name,
            source.schedule.expression(),
            source.schedule.timezone().name(),
            source
                .lang
                .as_ref()
                .map(|l| format!("; lang: {l}"))
                .unwrap_or_default()
        )?;
        if let Some(error) = &s.error {
            let kind = s.error_kind.as_deref().unwrap_or("error");
            let failures = match s.consecutive_failures {
                1 => "1 consecutive failure".to_string(),
                n => format!("{n} consecutive failures"),
            };
            outln!("  error ({kind}): {error} ({failures})")?;
            if let Some(since) = since {
                outln!(
                    "  failing since {} ({})",
                    local(*since),
                    ago(now.signed_duration_since(*since))
                )?;
            }
        }
        outln!(
            "  last attempt: {}; last success: {}",
            s.last_attempt.map_or("never".to_string(), local),
            s.last_success.map_or("never".to_string(), local),
        )?;
        let next = if !source.enabled {
            "none (disabled)".to_string()
        } else {
            s.next_attempt.map_or("at start".to_string(), |at| {
                let wait = at.signed_duration_since(now);
                if wait > chrono::Duration::zero() {
                    format!("{} (in {})", local(at), ago(wait))
                } else {
                    format!("{} (overdue: at the next start or pass)", local(at))
                }
            })
        };
        outln!("  next attempt: {next}")?;
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

/// A time in the machine's zone, to the second: `2026-03-02 18:04:58 +01:00`.
pub(super) fn local(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// `3 days`, `5 hours`, `12 minutes`, `less than a minute`: how long, roughly.
pub(super) fn ago(duration: chrono::Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if duration.num_days() >= 1 {
        plural(duration.num_days(), "day")
    } else if duration.num_hours() >= 1 {
        plural(duration.num_hours(), "hour")
    } else if duration.num_minutes() >= 1 {
        plural(duration.num_minutes(), "minute")
    } else {
        "less than a minute".to_string()
    }
}

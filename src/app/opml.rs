//! `entente import-opml` and `export-opml`: the source list to and from the OPML files
//! feed readers exchange.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::edit::save_checked;
use crate::config::Config;
use crate::sources_file::opml::{self, ExportedSource};
use crate::sources_file::{derive_id, NewSource, SourcesFile};

pub(super) fn import(config_path: &Path, opml_path: &Path) -> Result<ExitCode> {
    let xml = std::fs::read_to_string(opml_path)
        .with_context(|| format!("cannot read {}", opml_path.display()))?;
    let subscriptions =
        opml::read(&xml).with_context(|| format!("cannot import {}", opml_path.display()))?;
    let mut file = SourcesFile::read(config_path)?;
    let mut added = Vec::new();
    let mut skipped = Vec::new();
    for subscription in subscriptions {
        let url = subscription.url.trim();
        let web = url::Url::parse(url)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !web {
            skipped.push(format!("{url}: not an http or https address"));
            continue;
        }
        if let Some(listed) = file.same_url(url) {
            skipped.push(format!("{url}: already a source (`{}`)", listed.id));
            continue;
        }
        let id = file.free_id(&derive_id(subscription.title.as_deref(), url));
        // A language code as feeds.toml takes it, else none (the config would refuse it).
        let lang = subscription
            .lang
            .clone()
            .filter(|l| l.len() <= 8 && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
        file.append(&NewSource {
            name: subscription.title.clone(),
            lang,
            enabled: subscription.enabled,
            ..NewSource::new(&id, url)
        })?;
        let folder = if subscription.folders.is_empty() {
            String::new()
        } else {
            format!(" [{}]", subscription.folders.join(" / "))
        };
        added.push(format!("{id}: {url}{folder}"));
    }
    if !added.is_empty() {
        save_checked(&file)?;
    }
    outln!(
        "imported {} sources from {} into {}",
        added.len(),
        opml_path.display(),
        config_path.display()
    )?;
    for line in &added {
        outln!("  + {line}")?;
    }
    if !skipped.is_empty() {
        outln!("skipped {}:", skipped.len())?;
        for line in &skipped {
            outln!("  - {line}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn export(config: &Config) -> Result<ExitCode> {
    let sources: Vec<ExportedSource> = config
        .sources
        .iter()
        .map(|s| ExportedSource {
            id: s.id.clone(),
            name: s.name.clone(),
            url: s.url.clone(),
            lang: s.lang.clone(),
            enabled: s.enabled,
        })
        .collect();
    let title = format!("{}: sources", config.daemon.title);
    out!("{}", opml::write(&title, &sources))?;
    Ok(ExitCode::SUCCESS)
}

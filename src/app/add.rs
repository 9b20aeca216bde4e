//! `entente add`: a new source from a feed's or a site's address, appended to
//! feeds.toml once it is known to serve a readable feed.

use std::process::ExitCode;

use anyhow::{bail, Result};

use super::classify_items;
use super::edit::save_checked;
use super::locate::{self, locate};
use super::try_source::{print_summary, Tally};
use crate::config::Config;
use crate::dedup::canonical_url;
use crate::sources_file::{derive_id, NewSource, SourcesFile};

/// What the operator asked to add.
pub(super) struct AddRequest {
    pub url: String,
    pub id: Option<String>,
    pub schedule: Option<String>,
    pub lang: Option<String>,
    pub pick: Option<usize>,
}

pub(super) async fn add(config: Config, request: AddRequest) -> Result<ExitCode> {
    let mut file = SourcesFile::read(&config.path)?;
    refuse_duplicate(&file, &request.url)?;
    if let Some(id) = &request.id {
        if file.has_id(id) {
            bail!(
                "{} already has a source with id `{id}`",
                config.path.display()
            );
        }
    }
    let fetcher = locate::fetcher(&config)?;
    let found = locate(
        &fetcher,
        &request.url,
        request.pick,
        request.lang.as_deref(),
    )
    .await?;
    if found.candidates.len() > 1 {
        outln!(
            "{} links {} feeds:\n{}",
            request.url,
            found.candidates.len(),
            locate::list(&found.candidates)
        )?;
        outln!("taking {} (choose another with --pick N)", found.url)?;
    }
    if canonical_url(&found.url) != canonical_url(&request.url) {
        refuse_duplicate(&file, &found.url)?;
    }
    let name = found
        .feed
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let id = match request.id {
        Some(id) => id,
        None => file.free_id(&derive_id(name.as_deref(), &found.url)),
    };
    let source = NewSource {
        name: name.clone(),
        schedule: request.schedule,
        lang: request.lang,
        ..NewSource::new(&id, &found.url)
    };
    file.append(&source)?;
    save_checked(&file)?;
    outln!(
        "added `{id}`{} to {}: {}",
        name.map(|n| format!(" ({n})")).unwrap_or_default(),
        config.path.display(),
        found.url
    )?;
    let decided = classify_items(&config.rules, found.feed.items);
    let tally = Tally::of(&decided);
    outln!("It would have contributed, from the items it serves now:")?;
    print_summary(&tally)?;
    outln!("A running daemon fetches it after its next reload (SIGHUP).")?;
    Ok(ExitCode::SUCCESS)
}

fn refuse_duplicate(file: &SourcesFile, url: &str) -> Result<()> {
    if let Some(listed) = file.same_url(url) {
        bail!(
            "{url} is already a source: `{}` ({}) in {}",
            listed.id,
            listed.url,
            file.path().display()
        );
    }
    Ok(())
}

//! `entente export`: every published file, as served, written atomically; files in
//! the folders that only entente writes (`feeds/`, `topics/`, `fr/`, …) that the site
//! no longer publishes (a removed topic's) are removed, so the folder mirrors the
//! site. The top-level files are always published; others there are left alone.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::task::JoinSet;

use super::{catalog, open_store_for_reading};
use crate::config::Config;
use crate::publish::{FeedId, Format, SitePath};
use crate::serve::Catalog;

pub(super) async fn export(config: Config, out: &Path) -> Result<ExitCode> {
    let store = open_store_for_reading(&config).await?;
    // Every file walks the relevant items again: keep the pages read in memory.
    store.read_in_bulk();
    let catalog = Arc::new(catalog(&config, store));
    let paths = catalog.paths();
    // One job per core: each reads its stories on a blocking thread of the store's
    // pool, renders on a worker and writes on a blocking thread, so both cores are
    // busy (one file at a time left one idle). The jobs' files do not overlap.
    let at_once = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let mut running = JoinSet::new();
    for job in jobs(catalog.site_paths()) {
        if running.len() >= at_once {
            finished(running.join_next().await)?;
        }
        running.spawn(render_and_write(
            Arc::clone(&catalog),
            job,
            out.to_path_buf(),
        ));
    }
    while let Some(done) = running.join_next().await {
        finished(Some(done))?;
    }
    let removed = remove_stale(out, &paths)?;
    outln!(
        "wrote {} files under {}, removed {removed} stale",
        paths.len(),
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// What one export job renders: a file, or one feed in several formats (which read
/// the same stories, see [`Catalog::render_feed_formats`]).
enum Job {
    File(SitePath),
    Feed(FeedId, Vec<Format>),
}

/// The site's files as jobs, each feed's formats together.
fn jobs(paths: Vec<SitePath>) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    for path in paths {
        let SitePath::Feed(feed) = path else {
            jobs.push(Job::File(path));
            continue;
        };
        let same = jobs.iter_mut().find_map(|job| match job {
            Job::Feed(first, formats) if first.topic == feed.topic && first.lang == feed.lang => {
                Some(formats)
            }
            _ => None,
        });
        match same {
            Some(formats) => formats.push(feed.format),
            None => {
                let format = feed.format;
                jobs.push(Job::Feed(feed, vec![format]));
            }
        }
    }
    jobs
}

async fn render_and_write(catalog: Arc<Catalog>, job: Job, out: PathBuf) -> Result<()> {
    let files: Vec<(String, Arc<Vec<u8>>)> = match job {
        Job::File(path) => {
            let file = path.file();
            let rendered = catalog
                .render_file(&file)
                .await?
                .context("a listed path always renders")?;
            vec![(file, rendered.body)]
        }
        Job::Feed(feed, formats) => {
            let rendered = catalog.render_feed_formats(&feed, &formats).await?;
            formats
                .iter()
                .zip(rendered)
                .map(|(&format, rendered)| {
                    let path = SitePath::Feed(FeedId {
                        format,
                        ..feed.clone()
                    });
                    (path.file(), rendered.body)
                })
                .collect()
        }
    };
    tokio::task::spawn_blocking(move || {
        files
            .iter()
            .try_for_each(|(file, body)| write_atomically(&out.join(file), body))
    })
    .await
    .context("an export writer failed")?
}

fn finished(done: Option<Result<Result<()>, tokio::task::JoinError>>) -> Result<()> {
    match done {
        Some(result) => result.context("an export job failed")?,
        None => Ok(()),
    }
}

/// Removes every file in the folders that only entente writes (`feeds/`, `topics/`,
/// the language folders) that this export did not write, then the folders left
/// empty. Returns how many files went.
fn remove_stale(out: &Path, paths: &[String]) -> Result<usize> {
    let current: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
    let mut candidates = BTreeSet::new();
    let owned_dirs: BTreeSet<&str> = paths
        .iter()
        .filter_map(|p| p.split_once('/').map(|(dir, _)| dir))
        .collect();
    for dir in &owned_dirs {
        files_under(&out.join(dir), dir, &mut candidates)?;
    }
    let mut removed = 0;
    for stale in candidates.iter().filter(|p| !current.contains(p.as_str())) {
        let path = out.join(stale);
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot remove {}", path.display()))
            }
        }
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(folder) = dir.filter(|d| d != out) {
            if std::fs::remove_dir(&folder).is_err() {
                break; // not empty
            }
            dir = folder.parent().map(Path::to_path_buf);
        }
    }
    Ok(removed)
}

/// Every file under `dir`, as paths relative to the export folder.
fn files_under(dir: &Path, prefix: &str, found: &mut BTreeSet<String>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}/{name}");
        if entry.file_type()?.is_dir() {
            files_under(&entry.path(), &relative, found)?;
        } else {
            found.insert(relative);
        }
    }
    Ok(())
}

/// Writes beside the target, then renames over it, so a web server never serves half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("an export path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile_in(dir)?;
    temp.1
        .write_all(bytes)
        .with_context(|| format!("cannot write {}", temp.0.display()))?;
    temp.1.sync_all()?;
    std::fs::rename(&temp.0, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    let name = format!(
        ".entente-{}-{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    );
    let path = dir.join(name);
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    Ok((path, file))
}

//! `entente export`: every published file, as served, written atomically; files in
//! the folders that only entente writes (`feeds/`, `topics/`, `fr/`, …) that the site
//! no longer publishes (a removed topic's) are removed, so the folder mirrors the
//! site. The top-level files are always published; others there are left alone.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{catalog, open_store_for_reading};
use crate::config::Config;

pub(super) async fn export(config: Config, out: &Path) -> Result<ExitCode> {
    let store = open_store_for_reading(&config).await?;
    // Every file walks the relevant items again: keep the pages read in memory.
    store.read_in_bulk();
    let catalog = catalog(&config, store);
    let paths = catalog.paths();
    for path in &paths {
        let rendered = catalog
            .render_file(path)
            .await?
            .context("a listed path always renders")?;
        write_atomically(&out.join(path), &rendered.body)?;
    }
    let removed = remove_stale(out, &paths)?;
    outln!(
        "wrote {} files under {}, removed {removed} stale",
        paths.len(),
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
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

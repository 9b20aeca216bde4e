//! Watches feeds.toml and the rules file for edits.
//!
//! The folders are watched, not the files: editors that save by writing a new file
//! and renaming it over the old one replace the inode a file watch would follow.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

/// Calls `changed` on every event that creates, writes, renames or removes one of
/// `files`. Watching stops when the returned watcher is dropped.
pub fn watch(files: &[&Path], changed: UnboundedSender<()>) -> notify::Result<RecommendedWatcher> {
    let names: BTreeSet<OsString> = files
        .iter()
        .filter_map(|f| f.file_name().map(OsString::from))
        .collect();
    let folders: BTreeSet<PathBuf> = files.iter().map(|f| folder_of(f)).collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| names.contains(n)));
        if ours {
            let _ = changed.send(());
        }
    })?;
    for folder in &folders {
        watcher.watch(folder, RecursiveMode::NonRecursive)?;
    }
    Ok(watcher)
}

fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

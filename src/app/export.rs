//! `entente export`: every published file, as served, written atomically.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::{catalog, open_store};
use crate::config::Config;
use crate::serve::Changes;

pub(super) async fn export(config: Config, out: &Path) -> Result<ExitCode> {
    let store = open_store(&config).await?;
    let catalog = catalog(&config, store, Arc::new(Changes::default()));
    for path in catalog.paths() {
        let rendered = catalog
            .get(&path)
            .await?
            .context("a listed path always renders")?;
        write_atomically(&out.join(&path), &rendered.body)?;
    }
    outln!(
        "wrote {} files under {}",
        catalog.paths().len(),
        out.display()
    )?;
    Ok(ExitCode::SUCCESS)
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

fn tempfile_in(dir: &Path) -> Result<(std::path::PathBuf, std::fs::File)> {
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

//! `entente remove`, `disable` and `enable`: one careful edit of feeds.toml each, and
//! the check every edit of the source list passes before it replaces the file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::{Config, ConfigError};
use crate::sources_file::SourcesFile;

/// What to do to one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Edit {
    Remove,
    Disable,
    Enable,
}

pub(super) fn edit(config_path: &Path, id: &str, edit: Edit) -> Result<ExitCode> {
    let mut file = SourcesFile::read(config_path)?;
    match edit {
        Edit::Remove => {
            let removed = file.remove(id)?;
            save_checked(&file)?;
            outln!(
                "removed `{id}` ({}) from {}; its stored items stay in the database",
                removed.url,
                config_path.display()
            )?;
        }
        Edit::Disable | Edit::Enable => {
            let enabled = edit == Edit::Enable;
            let word = if enabled { "enabled" } else { "disabled" };
            if file.set_enabled(id, enabled)? {
                save_checked(&file)?;
                outln!("{word} `{id}` in {}", config_path.display())?;
            } else {
                outln!(
                    "`{id}` is already {word}; {} unchanged",
                    config_path.display()
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the edited file only if the whole configuration, rules included, is still
/// valid with it: an edit never leaves a file that the daemon's reload would refuse.
pub(super) fn save_checked(file: &SourcesFile) -> Result<Config> {
    let read_rules = |path: &Path| {
        std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.display().to_string(),
            cause,
        })
    };
    let config = Config::parse(file.text(), file.path(), read_rules).map_err(|err| {
        anyhow::anyhow!(
            "{} left unchanged: the edited file would be invalid:\n{err}",
            file.path().display()
        )
    })?;
    file.save()
        .with_context(|| format!("cannot save {}", file.path().display()))?;
    Ok(config)
}

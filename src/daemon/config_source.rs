//! Where the configuration comes from, and what its files held when loaded.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError};

/// Where the configuration comes from: feeds.toml and the rules file it names.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    path: PathBuf,
}

/// A validated configuration and what its files held, to tell an edit from a touch.
pub(super) struct Loaded {
    pub(super) config: Config,
    pub(super) feeds_hash: u64,
    pub(super) rules_hash: u64,
}

impl ConfigSource {
    pub fn file(path: impl Into<PathBuf>) -> ConfigSource {
        ConfigSource { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn load(&self) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(&self.path).map_err(|cause| ConfigError::Read {
            path: self.path.display().to_string(),
            cause,
        })?;
        let mut rules_text = String::new();
        let config = Config::parse(&text, &self.path, |path| {
            let read = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
                path: path.display().to_string(),
                cause,
            })?;
            rules_text.clone_from(&read);
            Ok(read)
        })?;
        Ok(Loaded {
            config,
            feeds_hash: hash(&text),
            rules_hash: hash(&rules_text),
        })
    }

    pub(super) async fn load_async(&self) -> Result<Loaded, ConfigError> {
        let source = self.clone();
        match tokio::task::spawn_blocking(move || source.load()).await {
            Ok(loaded) => loaded,
            Err(err) => Err(ConfigError::Read {
                path: self.path.display().to_string(),
                cause: std::io::Error::other(err.to_string()),
            }),
        }
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

//! What `/healthz` reports besides the database: the configuration's state, which the
//! daemon updates as it loads and reloads its files.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The configuration in force and the last reload that failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigStatus {
    /// The config file, as the daemon was started with it.
    pub path: String,
    /// When the configuration in force was loaded.
    pub loaded_at: Option<DateTime<Utc>>,
    /// The last reload, when it failed after the configuration in force was loaded:
    /// the running configuration stayed.
    pub last_reload_error: Option<ReloadError>,
}

/// A reload that was refused, with every problem as `FILE:LINE:COL: message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadError {
    pub at: DateTime<Utc>,
    pub problems: Vec<String>,
}

/// Shared between the daemon, which writes, and the server, which reports.
#[derive(Debug, Default)]
pub struct Health {
    config: Mutex<ConfigStatus>,
}

impl Health {
    pub fn config(&self) -> ConfigStatus {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_config(&self, status: ConfigStatus) {
        *self.config.lock().unwrap_or_else(|p| p.into_inner()) = status;
    }
}

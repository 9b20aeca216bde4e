//! The command line, as `../shared/DESIGN.md` fixes it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// entente: follows news about France–Kazakhstan relations and republishes the
/// relevant items as curated per-topic feeds.
#[derive(Debug, Parser)]
#[command(name = "entente", version, about)]
pub struct Cli {
    /// The configuration file; its rules file and database are found relative to it.
    #[arg(long, global = true, default_value = "feeds.toml")]
    pub config: PathBuf,

    /// How log lines (on stderr) are written: `text` for people, `json` (one object a
    /// line) for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event, fields before the message.
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: fetch each source on its schedule and serve the feeds over HTTP,
    /// until SIGINT or SIGTERM.
    Run {
        /// Address to listen on, instead of the config's `listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Fetch every enabled source (or the named ones) once, now. Exits 0 when every
    /// source was fetched or not modified, 2 when some failed, 1 on a fatal error.
    Fetch {
        /// A source id; repeat or list several.
        #[arg(long = "source", num_args = 1..)]
        sources: Vec<String>,
    },
    /// Validate the configuration and the rules; print every problem as FILE:LINE:COL.
    Check,
    /// Each source's state: last fetch, outcome, items, errors, next attempt.
    Sources {
        /// Print a JSON array, one object per source.
        #[arg(long)]
        json: bool,
    },
    /// The stored items, newest first: the relevant ones, or all with --all.
    Items {
        /// Only items tagged with this topic id.
        #[arg(long)]
        topic: Option<String>,
        /// At most this many items.
        #[arg(long)]
        limit: Option<usize>,
        /// Irrelevant items too.
        #[arg(long)]
        all: bool,
        /// Print a JSON array, one object per item.
        #[arg(long)]
        json: bool,
    },
    /// Why an item is (not) relevant and which topics it has: the matched terms and scores.
    Explain {
        /// An item id (from `items`), key or link.
        item: String,
    },
    /// Re-run the classifier over every stored item, after a change of rules.
    Retag,
    /// Classifier metrics on a labelled JSONL file (see shared/corpus/README.md).
    Eval {
        /// One labelled item per line, as shared/corpus/README.md describes.
        file: PathBuf,
        /// Print one JSON object with every figure.
        #[arg(long)]
        json: bool,
        /// Also list the misclassified items with the classifier's reasons.
        #[arg(long)]
        errors: bool,
    },
    /// Write every published file, as served, under DIR.
    Export {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Copy the database to FILE with SQLite's online backup, safe while the daemon
    /// runs; restore by putting the copy in the database's place while it is stopped.
    Backup {
        /// Where to write the copy; an existing file is replaced.
        file: PathBuf,
    },
    /// Ask the daemon running on this config's database to re-read feeds.toml and the
    /// rules (the same as `kill -HUP $(cat DATABASE.pid)`).
    Reload,
    /// Delete every stored item of a source that is no longer in feeds.toml.
    Purge {
        /// The removed source's id.
        source: String,
    },
}

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
    /// `+` marks a relevant item, `-` an irrelevant one, `=` a copy of a story listed
    /// under an earlier item; `*` after the mark: set by the operator (`entente mark`).
    Items {
        /// Only items tagged with this topic id.
        #[arg(long)]
        topic: Option<String>,
        /// Only items of this source id.
        #[arg(long)]
        source: Option<String>,
        /// Only items dated on or after this day (YYYY-MM-DD) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only items whose title or summary contains every one of these words.
        #[arg(long, num_args = 1..)]
        search: Vec<String>,
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
    /// Re-run the classifier over every stored item, after a change of rules, and list
    /// the items whose decision changed. Operators' corrections stay in force.
    Retag {
        /// Only list what would change; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Classifier metrics on a labelled JSONL file (see shared/corpus/README.md), or
    /// on the operators' corrections in the database.
    Eval {
        /// One labelled item per line, as shared/corpus/README.md describes.
        #[arg(required_unless_present = "corrections")]
        file: Option<PathBuf>,
        /// Compare the classifier with the operators' corrections (`entente mark`).
        #[arg(long, conflicts_with = "file")]
        corrections: bool,
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
    /// Add a source: URL is a feed, or a web page whose feeds are discovered. The feed
    /// is fetched and parsed first, and what it would contribute is shown.
    Add {
        /// The feed's address, or a page of the site (its feeds are discovered).
        url: String,
        /// The source id (default: derived from the feed's title or the site's host).
        #[arg(long)]
        id: Option<String>,
        /// A cron expression (default: the config's default schedule).
        #[arg(long)]
        schedule: Option<String>,
        /// The language the source writes in (en, fr, ru, kk…).
        #[arg(long)]
        lang: Option<String>,
        /// When the page names several feeds, take the Nth (from 1) instead of the first.
        #[arg(long)]
        pick: Option<usize>,
    },
    /// Fetch and classify a feed (a URL or a configured source id), storing nothing:
    /// each item's verdict, topics and evidence, then a summary.
    Try {
        /// A feed's or a page's address, or the id of a configured source.
        target: String,
        /// Print one JSON object: each item with its decision, then the summary.
        #[arg(long)]
        json: bool,
    },
    /// Remove a source from the config file (its stored items stay).
    Remove {
        /// The source's id.
        id: String,
    },
    /// Keep a source listed but stop fetching it (`enabled = false`).
    Disable {
        /// The source's id.
        id: String,
    },
    /// Fetch a disabled source again.
    Enable {
        /// The source's id.
        id: String,
    },
    /// Add every feed of an OPML file (as feed readers export them) as a source.
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
    },
    /// Print the source list as OPML, for any feed reader.
    ExportOpml,
    /// Record an operator's decision on an item, which wins over the classifier's
    /// (also in later fetches and `retag`), or undo it with --clear.
    Mark {
        /// An item number (from `items`), key or link.
        item: String,
        /// The operator's verdict.
        #[arg(required_unless_present = "clear")]
        verdict: Option<Verdict>,
        /// The item's topics (repeat for several); default: the classifier's.
        #[arg(long = "topic")]
        topics: Vec<String>,
        /// Forget the operator's decision: the classifier's is in force again.
        #[arg(long, conflicts_with_all = ["verdict", "topics"])]
        clear: bool,
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

/// An operator's verdict on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Verdict {
    /// About France–Kazakhstan relations: published.
    Relevant,
    /// Not about them: not published.
    Irrelevant,
}

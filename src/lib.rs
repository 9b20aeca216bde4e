//! entente: a feed curator for France–Kazakhstan relations.
//!
//! # Layout
//! Data flows one way, each stage a module that does not reach into the others; only
//! [`app`] wires them together.
//! - [`config`]: feeds.toml and the rules file, validated once, errors as `FILE:LINE:COL`.
//! - [`fetch`]: one source's bytes, politely (conditional GET, limits, redirects), as UTF-8.
//! - [`parse`]: bytes to normalised [`item::Item`]s (feed-rs, with repairs and fallbacks).
//! - [`classify`]: pure relevance, topics and evidence; also `eval`.
//! - [`store`]: SQLite (WAL, migrations): sources' fetch state, every item and decision.
//! - [`lang`]: each item's own language; [`letters`]: letter tests without the Unicode
//!   tables for the scripts entente reads (used by `lang` and `classify`).
//! - [`dedup`]: canonical URLs and near-duplicate titles, so each story is published once.
//! - [`discover`]: which feeds a web page names, for `entente add`.
//! - [`sources_file`]: careful edits of feeds.toml, and the source list as OPML.
//! - [`publish`]: RSS, Atom, JSON Feed, OPML and the HTML page, as bytes.
//! - [`serve`]: the HTTP server over the published files.
//! - [`daemon`]: the long-running process: scheduler, server, retention, live reload,
//!   the lock on its database, shutdown.
//! - [`metrics`]: the daemon's Prometheus counters, updated where events happen.
//! - [`cli`]: the command line; [`app`]: each command, wiring the stages.
#![forbid(unsafe_code)]

pub mod app;
pub mod classify;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod discover;
pub mod fetch;
pub mod item;
pub mod lang;
pub mod letters;
pub mod metrics;
pub mod parse;
pub mod publish;
pub mod sanitize;
pub mod serve;
pub mod sources_file;
pub mod store;
pub mod text;
pub mod websub;

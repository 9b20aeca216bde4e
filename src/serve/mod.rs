//! The HTTP server over the published files, and the catalog that renders them.
//!
//! The [`Catalog`] renders a path's bytes from the store through [`crate::publish`] and
//! keeps them, compressed too, until the content may have changed, so that a poll costs
//! a lookup, not a query. What "may have changed" means per file:
//! - a topic's feeds: an ingest in this process changed that topic ([`Changes`]);
//! - the `all` feeds and the front page: any ingest in this process changed anything;
//! - everything: another process committed to the database (SQLite's `data_version`),
//!   e.g. `entente retag` or `entente fetch` beside the daemon.
//!
//! [`Catalog::get`] is the one way to a file's bytes: `export` writes what the server
//! sends.

mod catalog;
mod health;
mod http;

pub use catalog::{entry_of, Catalog, Changes, Rendered};
pub use health::{ConfigStatus, Health, ReloadError};
pub use http::{http_date, router, serve, ServerState};

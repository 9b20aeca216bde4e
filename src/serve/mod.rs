//! The HTTP server over the published files, and the catalog that renders them.
//!
//! The [`Catalog`] renders a path's bytes from the store through [`crate::publish`] and
//! keeps them, compressed too, until the content may have changed, so that a poll costs
//! a lookup, not a query. What "may have changed" means per file:
//! - a topic's feeds: an ingest changed that topic;
//! - the `all` feeds and the front page: any write changed anything;
//! - everything: a write the store cannot narrow to topics (retag, retention), or a
//!   commit by another process (`entente retag` or `entente fetch` beside the daemon).
//!
//! The store records these itself ([`crate::store::Changes`]); nobody has to tell.
//!
//! [`Catalog::get`] is the one way to a file's bytes: `export` writes what the server
//! sends.

mod catalog;
mod connections;
mod health;
mod http;
mod threads;

pub use crate::store::Changes;
pub use catalog::{entry_of, Catalog, Rendered};
pub use health::{ConfigStatus, Health, ReloadError};
pub use http::{http_date, router, serve, ServerState};

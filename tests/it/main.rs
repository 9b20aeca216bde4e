//! Integration tests: the `entente` binary and library against a real HTTP server on
//! loopback and a real SQLite file.

#[path = "../support/shared.rs"]
mod shared;

mod common;
mod daemon;
mod failures;
mod fetch_faults;
mod fixtures;
mod hostile;
mod operator;
mod pipeline;
mod politeness;
mod publishing;
mod server;

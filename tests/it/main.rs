//! Integration tests: the `entente` binary and library against a real HTTP server on
//! loopback and a real SQLite file.
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

#[path = "../support/shared.rs"]
mod shared;

mod bench_smoke;
mod common;
mod daemon;
mod decisions;
mod failures;
mod fast_reader;
mod fetch_faults;
mod fixtures;
mod hostile;
mod inprocess;
mod live;
mod no_stall;
mod operations;
mod operator;
mod pipeline;
mod politeness;
mod publishing;
mod read_only;
mod server;
mod source_list;
mod subscribers;

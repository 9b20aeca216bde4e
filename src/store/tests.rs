//! The store against real SQLite databases.

mod clusters;
mod ingest;
mod plans;
mod upgrade;

//! The cost of one retention prune (and the space reclaim after it) on a copy of a
//! given database, so that a small and a large one can be compared (BENCHMARKS.md,
//! section history3). Prunes with the defaults of `[daemon.retention]` and
//! `feed_items = 50`, over the topics the database holds.
//!
//! Run: `cargo bench --bench retention -- DB [DAYS_LATER]` (release build), or the
//! built binary under `valgrind --tool=callgrind` for instruction counts. `DAYS_LATER`
//! prunes as if that many days had passed since the last fetch (nothing is old in a
//! freshly fetched database).
// Reports for people running tests and benches; the closed-stdout rule is for commands.
#![allow(clippy::disallowed_macros)]

use std::time::Instant;

use chrono::Utc;
use entente::config::Retention;
use entente::store::retention::{self, Policy};
use rusqlite::Connection;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(source) = args.first() else {
        eprintln!("usage: retention DB [DAYS_LATER]");
        return;
    };
    let days: i64 = args
        .get(1)
        .map_or(0, |d| d.parse().expect("a number of days"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("entente.db");
    std::fs::copy(source, &path).expect("the database copied");
    let mut conn = Connection::open(&path).expect("the copy opened");
    let topics: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT DISTINCT topic FROM item_topics ORDER BY topic")
            .unwrap();
        let rows = stmt.query_map([], |row| row.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let defaults = Retention::default();
    let policy = Policy {
        relevant: defaults.relevant,
        irrelevant: defaults.irrelevant,
        max_per_topic: defaults.max_per_topic,
        feed_items: 50,
    };
    let now = Utc::now() + chrono::Duration::days(days);
    let began = Instant::now();
    let summary = retention::prune(&mut conn, &policy, &topics, now).expect("the prune");
    let pruned = began.elapsed();
    retention::reclaim(&conn).expect("the reclaim");
    println!(
        "{} topics, {} deleted: prune {:.1} ms, with reclaim {:.1} ms",
        topics.len(),
        summary.deleted,
        pruned.as_secs_f64() * 1000.0,
        began.elapsed().as_secs_f64() * 1000.0
    );
}

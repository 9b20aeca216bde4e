//! Numbered migrations, embedded from `migrations/`, applied in one transaction and
//! tracked with `PRAGMA user_version`.

use rusqlite::Connection;

use super::StoreError;

/// Every migration in order; the database's `user_version` is how many have run.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_dedup",
        include_str!("../../migrations/0002_dedup.sql"),
    ),
    (
        "0003_scale",
        include_str!("../../migrations/0003_scale.sql"),
    ),
    // 0004 belongs to a branch not merged yet; this list is in numbered order.
    (
        "0005_corrections",
        include_str!("../../migrations/0005_corrections.sql"),
    ),
    (
        "0006_publishing",
        include_str!("../../migrations/0006_publishing.sql"),
    ),
    (
        "0007_title_signatures_v2",
        include_str!("../../migrations/0007_title_signatures_v2.sql"),
    ),
    (
        "0008_raw_html",
        include_str!("../../migrations/0008_raw_html.sql"),
    ),
    (
        "0009_title_blocks",
        include_str!("../../migrations/0009_title_blocks.sql"),
    ),
    (
        "0010_store_less_per_item",
        include_str!("../../migrations/0010_store_less_per_item.sql"),
    ),
    (
        "0011_small_index_keys",
        include_str!("../../migrations/0011_small_index_keys.sql"),
    ),
    (
        "0012_relevant_by_language",
        include_str!("../../migrations/0012_relevant_by_language.sql"),
    ),
    (
        "0013_title_head_counts",
        include_str!("../../migrations/0013_title_head_counts.sql"),
    ),
    (
        "0014_inserts_without_triggers",
        include_str!("../../migrations/0014_inserts_without_triggers.sql"),
    ),
    (
        "0015_relevant_candidates",
        include_str!("../../migrations/0015_relevant_candidates.sql"),
    ),
    (
        "0016_title_spellings",
        include_str!("../../migrations/0016_title_spellings.sql"),
    ),
    (
        "0017_head_counts_in_code",
        include_str!("../../migrations/0017_head_counts_in_code.sql"),
    ),
];

/// The migration after which stored items lack their canonical link's hash (SQL has no
/// hash function).
const NEEDS_URL_HASHES: &str = "0011_small_index_keys";

/// Migrations after which items lack their de-duplication keys (0002 adds the columns,
/// 0007 clears signatures of an older form), which SQL cannot compute.
const NEEDS_DEDUP_KEYS: &[&str] = &["0002_dedup", "0007_title_signatures_v2"];

/// The migration after which relevant items lack their blocking keys (SQL cannot
/// compute them either; it queues the items).
const NEEDS_TITLE_BLOCKS: &str = "0009_title_blocks";

/// The schema version this entente writes: the number of its migrations.
pub fn known_version() -> usize {
    MIGRATIONS.len()
}

/// The SQL of the first `count` migrations, in order: the schema an older entente made.
#[cfg(test)]
pub(super) fn first_migrations(count: usize) -> impl Iterator<Item = &'static str> {
    MIGRATIONS[..count].iter().map(|(_, sql)| *sql)
}

/// How many migrations come before the one named `name` (the `user_version` of a
/// database made just before it): tests build older databases by it.
#[cfg(test)]
pub(super) fn migrations_before(name: &str) -> usize {
    MIGRATIONS
        .iter()
        .position(|(migration, _)| *migration == name)
        .unwrap_or_else(|| panic!("no migration {name}"))
}

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: applied,
            known: MIGRATIONS.len(),
        });
    }
    if applied == MIGRATIONS.len() {
        // Up to date: no transaction, which would take the write lock and wait behind
        // a daemon's long write (every command opens the store through here).
        return Ok(());
    }
    let tx = conn.transaction()?;
    let pending = &MIGRATIONS[applied..];
    for (name, sql) in pending {
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { name, source })?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    if pending
        .iter()
        .any(|(name, _)| NEEDS_DEDUP_KEYS.contains(name))
    {
        // SQL cannot compute the keys (URL parsing, Unicode folding): items get theirs
        // here, in the same transaction, so none lacks them.
        super::clusters::backfill_keys(&tx)?;
    }
    if pending.iter().any(|(name, _)| *name == NEEDS_TITLE_BLOCKS) {
        // After the signatures above: the keys are made from them.
        super::clusters::backfill_title_blocks(&tx)?;
    }
    if pending.iter().any(|(name, _)| *name == NEEDS_URL_HASHES) {
        super::items::backfill_url_hashes(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

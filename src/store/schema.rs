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
        "0005_corrections",
        include_str!("../../migrations/0005_corrections.sql"),
    ),
];

/// How many migrations ran once the de-duplication keys' columns exist.
const DEDUP_KEYS_MIGRATION: usize = 2;

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: applied,
            known: MIGRATIONS.len(),
        });
    }
    let tx = conn.transaction()?;
    for (name, sql) in &MIGRATIONS[applied..] {
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { name, source })?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    if applied < DEDUP_KEYS_MIGRATION {
        // SQL cannot compute the keys (URL parsing, Unicode folding): items stored
        // before 0002 get theirs here, in the same transaction, so none lacks them.
        super::clusters::backfill_keys(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

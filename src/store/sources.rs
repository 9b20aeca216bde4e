//! The `sources` table: each configured source and its fetch state.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{parse_time, timestamp};
use super::StoreError;
use crate::item::Validators;

/// Makes the sources table hold every configured source, keeping their state. A source
/// whose URL the operator changed forgets its move and its validators: they belong to
/// the old address.
///
/// Every command runs this when it opens the database, so it writes only the sources
/// that are new or whose URL or name changed: an unchanged config reads the table and
/// writes nothing (no write lock, no commit, no change of the published files).
pub fn sync_sources(
    conn: &mut Connection,
    sources: &[(String, String, String)],
) -> Result<(), StoreError> {
    let stored: HashMap<String, (String, String)> = conn
        .prepare_cached("SELECT id, url, name FROM sources")?
        .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?
        .collect::<Result<_, _>>()?;
    let changed: Vec<&(String, String, String)> = sources
        .iter()
        .filter(|(id, url, name)| stored.get(id) != Some(&(url.clone(), name.clone())))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for (id, url, name) in changed {
        tx.execute(
            "INSERT INTO sources (id, url, name) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, name = excluded.name,
               suggested_url = CASE WHEN sources.url = excluded.url THEN sources.suggested_url END,
               etag = CASE WHEN sources.url = excluded.url THEN sources.etag END,
               last_modified = CASE WHEN sources.url = excluded.url THEN sources.last_modified END,
               body_hash = CASE WHEN sources.url = excluded.url THEN sources.body_hash END",
            params![id, url, name],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// What the fetcher needs to know about a source before fetching it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceState {
    pub validators: Validators,
    pub consecutive_failures: u32,
    pub next_attempt: Option<DateTime<Utc>>,
    /// The URL a permanent redirect pointed to, used until feeds.toml is updated.
    pub suggested_url: Option<String>,
}

pub fn source_state(conn: &Connection, id: &str) -> Result<SourceState, StoreError> {
    let state = conn
        .prepare_cached(
            "SELECT etag, last_modified, body_hash, consecutive_failures, next_attempt, suggested_url
             FROM sources WHERE id = ?1",
        )?
        .query_row([id], |row| {
                Ok(SourceState {
                    validators: Validators {
                        etag: row.get(0)?,
                        last_modified: row.get(1)?,
                        body_hash: row.get(2)?,
                    },
                    consecutive_failures: row.get(3)?,
                    next_attempt: parse_time(row.get(4)?),
                    suggested_url: row.get(5)?,
                })
        })
        .optional()?;
    Ok(state.unwrap_or_default())
}

/// The outcome of one fetch attempt, as the sources table records it.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchRecord {
    /// `ok`, `not_modified` or `error`.
    pub status: &'static str,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
    /// Replaces the stored validators when set (after a 200).
    pub validators: Option<Validators>,
    pub consecutive_failures: u32,
    pub next_attempt: Option<DateTime<Utc>>,
    /// `Some(None)` clears it.
    pub suggested_url: Option<Option<String>>,
}

/// Records a fetch attempt that brought no items to store.
pub fn record_fetch(
    conn: &mut Connection,
    source_id: &str,
    record: &FetchRecord,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    write_fetch_record(&tx, source_id, record, 0)?;
    tx.commit()?;
    Ok(())
}

pub(super) fn write_fetch_record(
    tx: &Connection,
    source_id: &str,
    record: &FetchRecord,
    new_items: usize,
) -> Result<(), StoreError> {
    let attempted = timestamp(record.attempted_at);
    let succeeded = record.status != "error";
    tx.prepare_cached(
        "UPDATE sources SET status = ?2, error_kind = ?3, error = ?4, last_attempt = ?5,
           last_success = CASE WHEN ?6 THEN ?5 ELSE last_success END,
           consecutive_failures = ?7, next_attempt = ?8,
           last_new_items = CASE WHEN ?6 THEN ?9 ELSE last_new_items END
         WHERE id = ?1",
    )?
    .execute(params![
        source_id,
        record.status,
        record.error_kind,
        record.error,
        attempted,
        succeeded,
        record.consecutive_failures,
        record.next_attempt.map(timestamp),
        new_items as i64,
    ])?;
    if let Some(v) = &record.validators {
        tx.prepare_cached(
            "UPDATE sources SET etag = ?2, last_modified = ?3, body_hash = ?4 WHERE id = ?1",
        )?
        .execute(params![source_id, v.etag, v.last_modified, v.body_hash])?;
    }
    if let Some(suggested) = &record.suggested_url {
        tx.prepare_cached("UPDATE sources SET suggested_url = ?2 WHERE id = ?1")?
            .execute(params![source_id, suggested])?;
    }
    Ok(())
}

/// A source as `entente sources` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceStatus {
    pub id: String,
    pub url: String,
    pub name: String,
    pub status: String,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub last_new_items: u64,
    pub items: u64,
    pub relevant: u64,
    pub suggested_url: Option<String>,
}

pub fn list_sources(conn: &Connection) -> Result<Vec<SourceStatus>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.url, s.name, s.status, s.error_kind, s.error, s.last_attempt,
                s.last_success, s.next_attempt, s.consecutive_failures, s.last_new_items,
                (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id),
                (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id AND i.relevant = 1),
                s.suggested_url
         FROM sources s ORDER BY s.id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(SourceStatus {
            id: row.get(0)?,
            url: row.get(1)?,
            name: row.get(2)?,
            status: row.get(3)?,
            error_kind: row.get(4)?,
            error: row.get(5)?,
            last_attempt: parse_time(row.get(6)?),
            last_success: parse_time(row.get(7)?),
            next_attempt: parse_time(row.get(8)?),
            consecutive_failures: row.get(9)?,
            last_new_items: row.get(10)?,
            items: row.get(11)?,
            relevant: row.get(12)?,
            suggested_url: row.get(13)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

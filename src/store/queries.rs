//! The SQL, one function per question or change. Each takes the connection it runs on;
//! [`super::Store`] decides which thread that is.

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{clusters, StoreError};
use crate::classify::Decision;
use crate::dedup::Policy;
use crate::fetch::Validators;
use crate::item::Item;

/// Timestamps are stored as fixed-width RFC 3339 in UTC, so text order is time order.
pub fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Makes the sources table hold every configured source, keeping their state. A source
/// whose URL the operator changed forgets its move and its validators: they belong to
/// the old address.
pub fn sync_sources(
    conn: &mut Connection,
    sources: &[(String, String, String)],
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for (id, url, name) in sources {
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
        .query_row(
            "SELECT etag, last_modified, body_hash, consecutive_failures, next_attempt, suggested_url
             FROM sources WHERE id = ?1",
            [id],
            |row| {
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
            },
        )
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

fn write_fetch_record(
    tx: &Transaction<'_>,
    source_id: &str,
    record: &FetchRecord,
    new_items: usize,
) -> Result<(), StoreError> {
    let attempted = timestamp(record.attempted_at);
    let succeeded = record.status != "error";
    tx.execute(
        "UPDATE sources SET status = ?2, error_kind = ?3, error = ?4, last_attempt = ?5,
           last_success = CASE WHEN ?6 THEN ?5 ELSE last_success END,
           consecutive_failures = ?7, next_attempt = ?8,
           last_new_items = CASE WHEN ?6 THEN ?9 ELSE last_new_items END
         WHERE id = ?1",
        params![
            source_id,
            record.status,
            record.error_kind,
            record.error,
            attempted,
            succeeded,
            record.consecutive_failures,
            record.next_attempt.map(timestamp),
            new_items as i64,
        ],
    )?;
    if let Some(v) = &record.validators {
        tx.execute(
            "UPDATE sources SET etag = ?2, last_modified = ?3, body_hash = ?4 WHERE id = ?1",
            params![source_id, v.etag, v.last_modified, v.body_hash],
        )?;
    }
    if let Some(suggested) = &record.suggested_url {
        tx.execute(
            "UPDATE sources SET suggested_url = ?2 WHERE id = ?1",
            params![source_id, suggested],
        )?;
    }
    Ok(())
}

/// What one ingest changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// New items that the classifier found relevant.
    pub new_relevant: usize,
    /// Relevant items added or changed: the published feeds changed.
    pub relevant_changed: usize,
    /// New relevant items published as "Also reported by" of an earlier story.
    pub duplicates: usize,
    /// The topics whose published feeds changed (the `all` feed changes with any).
    pub changed_topics: BTreeSet<String>,
}

/// [`ingest_with`] the default de-duplication policy.
pub fn ingest(
    conn: &mut Connection,
    source_id: &str,
    items: &[(Item, Decision)],
    record: &FetchRecord,
) -> Result<IngestSummary, StoreError> {
    ingest_with(conn, source_id, items, record, &Policy::default())
}

/// Stores a fetched feed's items and the fetch record in one transaction: a crash
/// loses the whole feed or nothing, and the validators never run ahead of the items.
/// Each item that becomes relevant joins the cluster of the story it copies, in the
/// same transaction (see [`clusters`]).
pub fn ingest_with(
    conn: &mut Connection,
    source_id: &str,
    items: &[(Item, Decision)],
    record: &FetchRecord,
    policy: &Policy,
) -> Result<IngestSummary, StoreError> {
    let now = timestamp(record.attempted_at);
    let tx = conn.transaction()?;
    let mut summary = IngestSummary::default();
    for (item, decision) in items {
        let existing: Option<(i64, String, bool)> = tx
            .query_row(
                "SELECT id, content_hash, relevant FROM items WHERE key = ?1",
                [&item.key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let hash = item.content_hash();
        match existing {
            Some((id, old_hash, _)) if old_hash == hash => {
                tx.execute(
                    "UPDATE items SET last_seen = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                summary.unchanged += 1;
            }
            Some((id, _, was_relevant)) => {
                let before = clusters::cluster_topics(&tx, id)?;
                update_item(&tx, id, item, &hash, decision, &now)?;
                summary.updated += 1;
                if decision.relevant && !was_relevant {
                    clusters::place(&tx, id, policy)?;
                }
                if was_relevant || decision.relevant {
                    summary.relevant_changed += 1;
                    summary.changed_topics.extend(before);
                    summary
                        .changed_topics
                        .extend(clusters::cluster_topics(&tx, id)?);
                }
            }
            None => {
                let id = insert_item(&tx, item, &hash, decision, &now)?;
                summary.new += 1;
                if decision.relevant {
                    summary.new_relevant += 1;
                    summary.relevant_changed += 1;
                    if clusters::place(&tx, id, policy)?.is_some() {
                        summary.duplicates += 1;
                    }
                    summary
                        .changed_topics
                        .extend(clusters::cluster_topics(&tx, id)?);
                }
            }
        }
    }
    write_fetch_record(&tx, source_id, record, summary.new)?;
    tx.commit()?;
    Ok(summary)
}

fn insert_item(
    tx: &Transaction<'_>,
    item: &Item,
    hash: &str,
    decision: &Decision,
    now: &str,
) -> Result<i64, StoreError> {
    let sort_date = item
        .sane_sort_date(parse_time(Some(now.to_string())).unwrap_or_else(Utc::now))
        .map(timestamp)
        .unwrap_or_else(|| now.to_string());
    let (canonical_url, title_signature) = clusters::keys(item);
    tx.execute(
        "INSERT INTO items (key, source_id, guid, link, title, summary, content_html, published,
            updated, first_seen, last_seen, sort_date, authors, categories, lang, content_hash,
            relevant, score, decision, canonical_url, title_signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20)",
        params![
            item.key,
            item.source_id,
            item.guid,
            item.link,
            item.title,
            item.summary,
            item.content_html,
            item.published.map(timestamp),
            item.updated.map(timestamp),
            now,
            sort_date,
            serde_json::to_string(&item.authors)?,
            serde_json::to_string(&item.categories)?,
            item.lang,
            hash,
            decision.relevant,
            decision.score,
            serde_json::to_string(decision)?,
            canonical_url,
            title_signature,
        ],
    )?;
    let id = tx.last_insert_rowid();
    write_topics(tx, id, decision)?;
    Ok(id)
}

fn update_item(
    tx: &Transaction<'_>,
    id: i64,
    item: &Item,
    hash: &str,
    decision: &Decision,
    now: &str,
) -> Result<(), StoreError> {
    // An edited title or link changes the keys later items are compared with, not the
    // cluster this item is in: membership is decided once.
    let (canonical_url, title_signature) = clusters::keys(item);
    tx.execute(
        "UPDATE items SET guid = ?2, link = ?3, title = ?4, summary = ?5, content_html = ?6,
            published = ?7, updated = ?8, last_seen = ?9,
            sort_date = COALESCE(?16, sort_date), authors = ?10, categories = ?11,
            lang = ?12, content_hash = ?13, canonical_url = ?14, title_signature = ?15
         WHERE id = ?1",
        params![
            id,
            item.guid,
            item.link,
            item.title,
            item.summary,
            item.content_html,
            item.published.map(timestamp),
            item.updated.map(timestamp),
            now,
            serde_json::to_string(&item.authors)?,
            serde_json::to_string(&item.categories)?,
            item.lang,
            hash,
            canonical_url,
            title_signature,
            item.sane_sort_date(parse_time(Some(now.to_string())).unwrap_or_else(Utc::now))
                .map(timestamp),
        ],
    )?;
    write_decision(tx, id, decision)
}

fn write_decision(tx: &Transaction<'_>, id: i64, decision: &Decision) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE items SET relevant = ?2, score = ?3, decision = ?4 WHERE id = ?1",
        params![
            id,
            decision.relevant,
            decision.score,
            serde_json::to_string(decision)?
        ],
    )?;
    write_topics(tx, id, decision)
}

fn write_topics(tx: &Transaction<'_>, id: i64, decision: &Decision) -> Result<(), StoreError> {
    tx.execute("DELETE FROM item_topics WHERE item_id = ?1", [id])?;
    if decision.relevant {
        for topic in &decision.topics {
            tx.execute(
                "INSERT OR IGNORE INTO item_topics (item_id, topic) VALUES (?1, ?2)",
                params![id, topic],
            )?;
        }
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
                (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id AND i.relevant),
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

/// An item as stored, with its source's name and the classifier's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub item: Item,
    pub source_name: String,
    pub source_url: String,
    pub first_seen: DateTime<Utc>,
    /// Published, else first seen.
    pub date: DateTime<Utc>,
    pub decision: Decision,
}

pub(super) const ITEM_COLUMNS: &str =
    "i.id, i.key, i.source_id, i.guid, i.link, i.title, i.summary,
    i.content_html, i.published, i.updated, i.first_seen, i.sort_date, i.authors,
    i.categories, i.lang, i.decision, COALESCE(s.name, i.source_id), COALESCE(s.url, '')";

pub(super) fn stored_item(row: &Row<'_>) -> rusqlite::Result<StoredItem> {
    let json = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let decision_text: String = row.get(15)?;
    let decision = serde_json::from_str(&decision_text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(15, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let first_seen = parse_time(row.get(10)?).unwrap_or_default();
    Ok(StoredItem {
        id: row.get(0)?,
        item: Item {
            key: row.get(1)?,
            source_id: row.get(2)?,
            guid: row.get(3)?,
            link: row.get(4)?,
            title: row.get(5)?,
            summary: row.get(6)?,
            content_html: row.get(7)?,
            published: parse_time(row.get(8)?),
            updated: parse_time(row.get(9)?),
            authors: json(12)?,
            categories: json(13)?,
            lang: row.get(14)?,
        },
        source_name: row.get(16)?,
        source_url: row.get(17)?,
        first_seen,
        date: parse_time(row.get(11)?).unwrap_or(first_seen),
        decision,
    })
}

/// Which items a listing wants.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only items tagged with this topic (`None`: any).
    pub topic: Option<String>,
    /// Irrelevant items too.
    pub include_irrelevant: bool,
    pub limit: Option<usize>,
}

/// Items newest first, ties broken by key so that the order is stable.
pub fn list_items(conn: &Connection, filter: &ItemFilter) -> Result<Vec<StoredItem>, StoreError> {
    let topic_clause = if filter.topic.is_some() {
        "AND i.id IN (SELECT item_id FROM item_topics WHERE topic = ?1)"
    } else {
        "AND ?1 IS NULL"
    };
    let relevance_clause = if filter.include_irrelevant {
        ""
    } else {
        "AND i.relevant"
    };
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE 1 {relevance_clause} {topic_clause}
         ORDER BY i.sort_date DESC, i.key LIMIT ?2"
    );
    let limit = filter.limit.map_or(-1, |n| n as i64);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![filter.topic, limit], stored_item)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Finds an item by its number, key or link.
pub fn find_item(conn: &Connection, query: &str) -> Result<StoredItem, StoreError> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE CAST(i.id AS TEXT) = ?1 OR i.key = ?1 OR i.link = ?1 OR i.guid = ?1
         ORDER BY i.id LIMIT 1"
    );
    conn.query_row(&sql, [query], stored_item)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(query.to_string()))
}

/// What a retag changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetagSummary {
    pub items: usize,
    pub relevance_changed: usize,
    pub topics_changed: usize,
}

/// Re-decides every stored item in batches of `batch` items, one transaction per
/// batch; `progress` hears (done, total) after each batch. An item that turns relevant
/// joins the cluster of the story it copies, as at ingest; clusters are otherwise
/// kept (see [`clusters`] for what is published when a cluster's first item turns
/// irrelevant).
pub fn retag(
    conn: &mut Connection,
    batch: usize,
    policy: &Policy,
    mut decide: impl FnMut(&Item) -> Decision,
    mut progress: impl FnMut(usize, usize),
) -> Result<RetagSummary, StoreError> {
    let total: usize = conn.query_row("SELECT COUNT(*) FROM items", [], |row| row.get(0))?;
    let mut summary = RetagSummary::default();
    let mut after_id = 0_i64;
    loop {
        let tx = conn.transaction()?;
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
             WHERE i.id > ?1 ORDER BY i.id LIMIT ?2"
        );
        let rows: Vec<StoredItem> = {
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(params![after_id, batch as i64], stored_item)?;
            rows.collect::<Result<_, _>>()?
        };
        let Some(last) = rows.last() else {
            break;
        };
        after_id = last.id;
        for stored in &rows {
            let decision = decide(&stored.item);
            let relevance_changed = decision.relevant != stored.decision.relevant;
            let topics_changed = decision.topics != stored.decision.topics;
            if decision != stored.decision {
                write_decision(&tx, stored.id, &decision)?;
            }
            if relevance_changed && decision.relevant {
                clusters::place(&tx, stored.id, policy)?;
            }
            summary.relevance_changed += usize::from(relevance_changed);
            summary.topics_changed += usize::from(topics_changed && !relevance_changed);
        }
        tx.commit()?;
        summary.items += rows.len();
        progress(summary.items, total);
    }
    Ok(summary)
}

/// Deletes items dated before `cutoff`; returns how many. Clusters that lose their
/// root are handed to their earliest surviving member first.
pub fn delete_older_than(conn: &Connection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    let cutoff = timestamp(cutoff);
    let tx = conn.unchecked_transaction()?;
    clusters::reroot_before_delete(&tx, &cutoff)?;
    let deleted = tx.execute("DELETE FROM items WHERE sort_date < ?1", [&cutoff])?;
    tx.commit()?;
    Ok(deleted)
}

/// Changes whenever any connection (another process too) committed a change: the
/// published files' cache key, with the server's own generation counter.
pub fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

//! The `items` and `item_topics` tables: ingest, listings, lookups, retag, retention.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::clusters::{self, ClusterTopics};
use super::prepared::{prepare, PreparedFeed, PreparedItem};
use super::rows::{
    decision_json, parse_time, same_verdict, stored_item, text_hash, timestamp, unpack, StoredItem,
    ITEM_COLUMNS,
};
use super::sources::write_fetch_record;
use super::{FetchRecord, StoreError};
use crate::classify::Decision;
use crate::dedup::{canonical_url, Policy};
use crate::item::{Item, ItemHtml};

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
    let tx = conn.transaction()?;
    let summary = ingest_in(&tx, source_id, items, record, policy)?;
    tx.commit()?;
    Ok(summary)
}

/// [`ingest_with`] inside a transaction the caller holds: the store's writer puts
/// several feeds in one transaction.
pub fn ingest_in(
    tx: &Connection,
    source_id: &str,
    items: &[(Item, Decision)],
    record: &FetchRecord,
    policy: &Policy,
) -> Result<IngestSummary, StoreError> {
    let mut feed = prepare(items.to_vec());
    ingest_prepared_in(
        tx,
        source_id,
        &mut feed,
        record,
        policy,
        &mut ClusterTopics::default(),
    )
}

/// [`ingest_in`] of a feed [`prepare`]d off the writer's thread, with the cluster
/// topics read by the feeds before it in the same transaction (see [`ClusterTopics`]).
///
/// The writes of items say `OR FAIL`: SQLite's default (`ABORT`) undoes a failing
/// statement alone, so a statement that fires triggers first copies each page it will
/// change to a statement journal. Here a failure fails the whole feed, and the caller
/// rolls back the feed (its transaction or savepoint), so the statement's own undo is
/// never needed. An insert into `items` fires no trigger (migration 0014), so it needs
/// no statement journal at all; with the search trigger's insert into an FTS5 table,
/// SQLite treated it as abortable whatever the policy and copied about ten pages of
/// 4 KiB per stored item to memory first.
pub(super) fn ingest_prepared_in(
    tx: &Connection,
    source_id: &str,
    feed: &mut PreparedFeed,
    record: &FetchRecord,
    policy: &Policy,
    topics: &mut ClusterTopics,
) -> Result<IngestSummary, StoreError> {
    let now = timestamp(record.attempted_at);
    // The attempt time as stored (whole seconds), read back once per feed, not per item.
    let now_time = parse_time(Some(now.clone())).unwrap_or(record.attempted_at);
    let mut summary = IngestSummary::default();
    // Taken from the statement cache once a feed rather than once an item: each take
    // hashes the SQL to find the statement, and each return hashes it again.
    let mut find =
        tx.prepare_cached("SELECT id, content_hash, relevant FROM items WHERE key = ?1")?;
    let mut insert = tx.prepare_cached(INSERT_ITEM)?;
    for prepared in &mut feed.items {
        let existing: Option<(i64, String, bool)> = find
            .query_row([&prepared.item.key], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        let relevant = prepared.decision.relevant;
        match existing {
            // A hash of the older form is compared once, then replaced.
            Some((id, old_hash, _))
                if old_hash == prepared.content_hash
                    || prepared.item.matches_legacy_hash(&old_hash) =>
            {
                tx.prepare_cached(
                    "UPDATE items SET last_seen = ?2, content_hash = ?3 WHERE id = ?1",
                )?
                .execute(params![id, now, prepared.content_hash])?;
                summary.unchanged += 1;
            }
            Some((id, _, was_relevant)) => {
                let before = topics.of(tx, id)?.clone();
                update_item(tx, id, prepared, (&now, now_time))?;
                summary.updated += 1;
                if relevant && !was_relevant {
                    clusters::place(tx, id, policy)?;
                }
                if was_relevant || relevant {
                    summary.relevant_changed += 1;
                    summary.changed_topics.extend(before);
                    summary
                        .changed_topics
                        .extend(topics.of(tx, id)?.iter().cloned());
                }
            }
            None => {
                let id = insert_item(tx, &mut insert, prepared, (&now, now_time))?;
                summary.new += 1;
                if relevant {
                    summary.new_relevant += 1;
                    summary.relevant_changed += 1;
                    if clusters::place(tx, id, policy)?.is_some() {
                        summary.duplicates += 1;
                    }
                    summary
                        .changed_topics
                        .extend(topics.of(tx, id)?.iter().cloned());
                }
            }
        }
    }
    write_fetch_record(tx, source_id, record, summary.new)?;
    Ok(summary)
}

/// The row of a new item ([`insert_item`]). `OR FAIL`: see [`ingest_prepared_in`].
const INSERT_ITEM: &str = "INSERT OR FAIL INTO items (key, source_id, guid, link, title, summary,
        content_html, published, updated, first_seen, last_seen, sort_date, authors, categories,
        lang, content_hash, relevant, score, decision, canonical_url, title_signature, body,
        raw_html_base, url_hash)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?22, ?23)";

/// Inserts a new item's row with `insert` ([`INSERT_ITEM`]) and what follows from it.
fn insert_item(
    tx: &Connection,
    insert: &mut rusqlite::Statement<'_>,
    prepared: &mut PreparedItem,
    (now, now_time): (&str, DateTime<Utc>),
) -> Result<i64, StoreError> {
    let sort_date = prepared
        .item
        .sane_sort_date(now_time)
        .map(timestamp)
        .unwrap_or_else(|| now.to_string());
    let sort_date = not_in_the_future(sort_date, (now, now_time));
    let decision_json = decision_json(&prepared.decision)?;
    prepared.refresh();
    let (item, decision, stored) = (&prepared.item, &prepared.decision, &prepared.stored);
    let summary = if stored.summary_packed {
        ""
    } else {
        &item.summary
    };
    // No trigger fires (migration 0014): what the insert triggers did is done here,
    // after the row, in the order they ran.
    insert.execute(params![
        item.key,
        item.source_id,
        item.guid,
        item.link,
        item.title,
        summary,
        stored.content_html,
        item.published.map(timestamp),
        item.updated.map(timestamp),
        now,
        sort_date,
        stored.authors,
        stored.categories,
        item.lang,
        prepared.content_hash,
        decision.relevant,
        decision.score,
        decision_json,
        stored.canonical_url,
        stored.title_signature,
        stored.body,
        stored.raw_html_base,
        stored.url_hash,
    ])?;
    let id = tx.last_insert_rowid();
    if decision.relevant {
        // Published, so searched: the search row (as the trigger `item_search_update`
        // keeps it when the row changes).
        tx.prepare_cached("INSERT INTO item_search (rowid, title, summary) VALUES (?1, ?2, ?3)")?
            .execute(params![id, item.title, summary])?;
        if stored.title_signature.is_some() {
            // Compared with later stories: its blocking keys are written before the
            // next placement (`clusters::index_queue`).
            tx.prepare_cached("INSERT OR IGNORE INTO title_blocks_pending (item_id) VALUES (?1)")?
                .execute([id])?;
        }
        write_topics(tx, id, decision, true)?;
    }
    Ok(id)
}

/// The sort date a new row gets: a date more than an hour in the future, and after
/// the item was first seen (`now`), is a feed's clock or a typo, and the item sorts as
/// first seen (migration 0006's rule, which the trigger `items_future_date_update`
/// still applies to updates). Compared as text, as the trigger did: RFC 3339 in whole
/// seconds and UTC sorts as time. The clock is read only for a date after `now`.
fn not_in_the_future(sort_date: String, (now, now_time): (&str, DateTime<Utc>)) -> String {
    let hour = chrono::TimeDelta::hours(1);
    if sort_date.as_str() > now
        && sort_date > timestamp(now_time + hour)
        && sort_date > timestamp(Utc::now() + hour)
    {
        now.to_string()
    } else {
        sort_date
    }
}

fn update_item(
    tx: &Connection,
    id: i64,
    prepared: &mut PreparedItem,
    (now, now_time): (&str, DateTime<Utc>),
) -> Result<(), StoreError> {
    // An edited title or link changes the keys later items are compared with, not the
    // cluster this item is in: membership is decided once. Only relevant items are
    // compared, so only they keep keys.
    prepared.refresh();
    let (item, stored) = (&prepared.item, &prepared.stored);
    tx.prepare_cached(
        "UPDATE OR FAIL items SET guid = ?2, link = ?3, title = ?4, summary = ?5, content_html = ?6,
            published = ?7, updated = ?8, last_seen = ?9,
            sort_date = COALESCE(?17, sort_date), authors = ?10, categories = ?11,
            lang = ?12, content_hash = ?13, canonical_url = ?14, title_signature = ?15,
            body = ?16, raw_html_base = ?18, url_hash = ?19
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        item.guid,
        item.link,
        item.title,
        if stored.summary_packed { "" } else { &item.summary },
        stored.content_html,
        item.published.map(timestamp),
        item.updated.map(timestamp),
        now,
        stored.authors,
        stored.categories,
        item.lang,
        prepared.content_hash,
        stored.canonical_url,
        stored.title_signature,
        stored.body,
        item.sane_sort_date(now_time).map(timestamp),
        stored.raw_html_base,
        stored.url_hash,
    ])?;
    write_decision(tx, id, &prepared.decision)
}

pub(super) fn write_decision(
    tx: &Connection,
    id: i64,
    decision: &Decision,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE OR FAIL items SET relevant = ?2, score = ?3, decision = ?4 WHERE id = ?1",
    )?
    .execute(params![
        id,
        decision.relevant,
        decision.score,
        decision_json(decision)?
    ])?;
    if decision.relevant {
        make_publishable(tx, id)?;
    }
    write_topics(tx, id, decision, false)
}

/// Gives an item that turned relevant (retag, an operator's mark, a correction) its
/// summary and HTML as text again, its HTML sanitized: relevant items are published,
/// and searched (`item_search`, kept by triggers on the `summary` column).
fn make_publishable(tx: &Connection, id: i64) -> Result<(), StoreError> {
    let (body, summary, content_html, raw_html_base): (
        Option<Vec<u8>>,
        String,
        Option<String>,
        Option<String>,
    ) = tx
        .prepare_cached(
            "SELECT body, summary, content_html, raw_html_base FROM items WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
    if body.is_none() && raw_html_base.is_none() {
        return Ok(());
    }
    let (summary, content_html) = match body {
        Some(body) => unpack(&body).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, e.into())
        })?,
        None => (summary, content_html),
    };
    let content_html = content_html
        .map(|html| ItemHtml::from_stored(html, raw_html_base))
        .and_then(ItemHtml::into_safe_html);
    tx.prepare_cached(
        "UPDATE items SET summary = ?2, content_html = ?3, body = NULL, raw_html_base = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, summary, content_html])?;
    Ok(())
}

/// An item's topics as its decision says; `new`: the row was just inserted, so it has
/// none yet (an item's topics go with it, `ON DELETE CASCADE`, so a reused id has
/// none either) and there is nothing to delete first.
fn write_topics(
    tx: &Connection,
    id: i64,
    decision: &Decision,
    new: bool,
) -> Result<(), StoreError> {
    if !new {
        tx.prepare_cached("DELETE FROM item_topics WHERE item_id = ?1")?
            .execute([id])?;
    }
    if decision.relevant {
        let mut insert = tx
            .prepare_cached("INSERT OR IGNORE INTO item_topics (item_id, topic) VALUES (?1, ?2)")?;
        for topic in &decision.topics {
            insert.execute(params![id, topic])?;
        }
    }
    Ok(())
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
        "AND i.relevant = 1"
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

/// Finds an item by its number, key, link or guid. One indexed lookup after the
/// other, first match wins: an `OR` over the four would read the whole table.
pub fn find_item(conn: &Connection, query: &str) -> Result<StoredItem, StoreError> {
    let lookup =
        |condition: &str, value: &dyn rusqlite::ToSql| -> Result<Option<StoredItem>, StoreError> {
            let sql = format!(
                "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
             WHERE {condition} ORDER BY i.id LIMIT 1"
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row([value], stored_item)
                .optional()?)
        };
    if let Ok(id) = query.parse::<i64>() {
        if let Some(found) = lookup("i.id = ?1", &id)? {
            return Ok(found);
        }
    }
    if let Some(found) = lookup("i.key = ?1", &query)? {
        return Ok(found);
    }
    // Through the hash of the canonical link (`items_by_url_hash`), then the link itself.
    let by_link = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE i.url_hash = ?1 AND i.link = ?2 ORDER BY i.id LIMIT 1"
    );
    if let Some(found) = conn
        .prepare_cached(&by_link)?
        .query_row(
            params![text_hash(&canonical_url(query)), query],
            stored_item,
        )
        .optional()?
    {
        return Ok(found);
    }
    // A guid is part of the item's key, hashed with its source: try each source.
    let sources: Vec<String> = conn
        .prepare_cached("SELECT id FROM sources ORDER BY id")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for source in sources {
        let key = Item::key_for(&source, Some(query), None, "", None);
        let found = lookup("i.key = ?1", &key)?;
        if let Some(found) = found.filter(|f| f.item.guid.as_deref() == Some(query)) {
            return Ok(found);
        }
    }
    Err(StoreError::NotFound(query.to_string()))
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
    decide: impl Fn(&Item) -> Decision + Sync,
    progress: impl FnMut(usize, usize),
) -> Result<RetagSummary, StoreError> {
    retag_reporting(conn, batch, policy, decide, |_, _| {}, progress)
}

/// [`retag`], telling `changed` of every item whose relevance or topics the new
/// decision changes (the item as it was stored, and the new decision), so that a
/// caller who lists the changes reads and decides each item once.
///
/// `decide` runs on every core for each batch ([`decide_each`]); the rows are read,
/// and the decisions stored, on this thread, in order.
pub fn retag_reporting(
    conn: &mut Connection,
    batch: usize,
    policy: &Policy,
    decide: impl Fn(&Item) -> Decision + Sync,
    mut changed: impl FnMut(&StoredItem, &Decision),
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
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![after_id, batch as i64], stored_item)?;
            rows.collect::<Result<_, _>>()?
        };
        let Some(last) = rows.last() else {
            break;
        };
        after_id = last.id;
        let decisions = decide_each(&rows, &decide);
        for (stored, decision) in rows.iter().zip(decisions) {
            let relevance_changed = decision.relevant != stored.decision.relevant;
            let topics_changed = decision.topics != stored.decision.topics;
            if !same_verdict(&decision, &stored.decision) {
                write_decision(&tx, stored.id, &decision)?;
            }
            if relevance_changed && decision.relevant {
                clusters::place(&tx, stored.id, policy)?;
            }
            if relevance_changed || topics_changed {
                changed(stored, &decision);
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

/// At most this many threads decide a retag's batch.
const MAX_DECIDING_THREADS: usize = 4;

/// `decide` of each row's item, in order, the rows split among the cores: the
/// classifier is a pure function and was two thirds of `retag`'s time (BENCHMARKS.md,
/// branch store3). A panic in `decide` is carried to the caller as it would be on
/// one thread.
fn decide_each(rows: &[StoredItem], decide: &(impl Fn(&Item) -> Decision + Sync)) -> Vec<Decision> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(MAX_DECIDING_THREADS);
    // Below a few dozen items a thread costs more than it saves.
    if threads < 2 || rows.len() < 64 {
        return rows.iter().map(|row| decide(&row.item)).collect();
    }
    let share = rows.len().div_ceil(threads);
    let (first, rest) = rows.split_at(share);
    std::thread::scope(|scope| {
        let others: Vec<_> = rest
            .chunks(share)
            .map(|part| {
                scope.spawn(move || part.iter().map(|row| decide(&row.item)).collect::<Vec<_>>())
            })
            .collect();
        let mut decisions: Vec<Decision> = Vec::with_capacity(rows.len());
        decisions.extend(first.iter().map(|row| decide(&row.item)));
        for other in others {
            match other.join() {
                Ok(part) => decisions.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        decisions
    })
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

/// Gives every stored item with a link its canonical link and that link's hash
/// (migration 0011 adds `url_hash`; SQL can compute neither), inside the migration's
/// transaction. The canonical link is computed again, so that the two agree whatever
/// version of the program stored it.
pub(super) fn backfill_url_hashes(tx: &Connection) -> Result<(), StoreError> {
    let mut select =
        tx.prepare("SELECT id, link FROM items WHERE link IS NOT NULL AND url_hash IS NULL")?;
    let mut update =
        tx.prepare("UPDATE items SET canonical_url = ?2, url_hash = ?3 WHERE id = ?1")?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let (id, link): (i64, String) = (row.get(0)?, row.get(1)?);
        let canonical = canonical_url(&link);
        update.execute(params![id, canonical, text_hash(&canonical)])?;
    }
    Ok(())
}

/// Changes whenever any connection (another process too) committed a change: the
/// published files' cache key, with the server's own generation counter.
pub fn data_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
}

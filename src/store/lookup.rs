//! The operator's questions about stored items: an item named loosely (number, key,
//! link with or without tracking parameters), a listing filtered by source, date,
//! topic and words, and the story cluster an item is in.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::queries::{self, stored_item, timestamp, StoredItem, ITEM_COLUMNS};
use super::StoreError;
use crate::dedup::canonical_url;

/// Finds an item by its number, key, guid or exact link, else by its link once
/// canonical (`utm_*` and other tracking parameters, `www.`, the scheme and a trailing
/// slash make no difference).
pub fn find(conn: &Connection, query: &str) -> Result<StoredItem, StoreError> {
    let query = query.trim().trim_start_matches('#');
    match queries::find_item(conn, query) {
        Err(StoreError::NotFound(_)) => {}
        found => return found,
    }
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE i.url_hash = ?1 AND i.canonical_url = ?2 ORDER BY i.id LIMIT 1"
    );
    let canonical = canonical_url(query);
    conn.query_row(
        &sql,
        params![super::rows::text_hash(&canonical), canonical],
        stored_item,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(query.to_string()))
}

/// Which items `entente items` lists.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub topic: Option<String>,
    pub source: Option<String>,
    /// Only items dated (published, else first seen) at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Every word must appear in the title or the summary, in any case.
    pub words: Vec<String>,
    pub include_irrelevant: bool,
    pub limit: Option<usize>,
}

/// Items newest first (ties by key). Words are matched here rather than in SQL, whose
/// `LIKE` folds the case of ASCII letters only, and these titles are often Cyrillic.
pub fn list(conn: &Connection, listing: &Listing) -> Result<Vec<StoredItem>, StoreError> {
    // The relevant items alone walk their partial index: `relevant = 1`, not `(?1 OR
    // relevant)`, which only the index of every item answered (listing the 3,560
    // relevant items of 100,000 read all 100,000 rows).
    let which = if listing.include_irrelevant {
        "?1"
    } else {
        "i.relevant = 1 AND NOT ?1"
    };
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE {which}
           AND (?2 IS NULL OR i.id IN (SELECT item_id FROM item_topics WHERE topic = ?2))
           AND (?3 IS NULL OR i.source_id = ?3)
           AND (?4 IS NULL OR i.sort_date >= ?4)
         ORDER BY i.sort_date DESC, i.key LIMIT ?5"
    );
    let words: Vec<String> = listing.words.iter().map(|w| w.to_lowercase()).collect();
    let sql_limit = match (listing.limit, words.is_empty()) {
        (Some(n), true) => i64::try_from(n).unwrap_or(i64::MAX),
        _ => -1,
    };
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![
            listing.include_irrelevant,
            listing.topic,
            listing.source,
            listing.since.map(timestamp),
            sql_limit
        ],
        stored_item,
    )?;
    let mut items = Vec::new();
    for row in rows {
        let stored = row?;
        if !words.is_empty() {
            let text = format!("{}\n{}", stored.item.title, stored.item.summary).to_lowercase();
            if !words.iter().all(|w| text.contains(w.as_str())) {
                continue;
            }
        }
        items.push(stored);
        if listing.limit.is_some_and(|n| items.len() >= n) {
            break;
        }
    }
    Ok(items)
}

/// Another member of an item's story cluster.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Member {
    /// The item's number.
    pub number: i64,
    /// The item's key (`id` in the JSON listings).
    pub id: String,
    pub source: String,
    pub source_name: String,
    pub title: String,
    pub link: Option<String>,
}

/// Where an item stands in its story: the published copy it duplicates, or the other
/// copies published under it. An irrelevant item is in no story.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    /// The cluster's shown item, when it is not this one.
    pub duplicate_of: Option<Member>,
    /// The other relevant copies, when this item is the one shown.
    pub also_reported_by: Vec<Member>,
}

/// The item's cluster, as published (see `store/clusters.rs`: the shown item is the
/// earliest relevant member).
pub fn cluster(conn: &Connection, item: &StoredItem) -> Result<Cluster, StoreError> {
    ClusterReader::default().cluster(conn, item)
}

/// Reads the clusters of many items, each cluster's members once: `entente items`
/// lists every copy of a story, and a wire story that 471 outlets carry (the 2,000-feed
/// farm) read its 471 members again for each of them, a cost of the square of the
/// cluster's size.
#[derive(Debug, Default)]
pub struct ClusterReader {
    /// Each cluster read so far by its root, its relevant members in id order.
    members: HashMap<i64, Arc<[Member]>>,
}

impl ClusterReader {
    /// As [`cluster`].
    pub fn cluster(&mut self, conn: &Connection, item: &StoredItem) -> Result<Cluster, StoreError> {
        if !item.decision.relevant {
            return Ok(Cluster::default());
        }
        let root: Option<i64> = conn
            .prepare_cached("SELECT COALESCE(duplicate_of, id) FROM items WHERE id = ?1")?
            .query_row([item.id], |row| row.get(0))
            .optional()?;
        let Some(root) = root else {
            return Ok(Cluster::default());
        };
        let members = match self.members.get(&root) {
            Some(members) => Arc::clone(members),
            None => {
                let members = cluster_members(conn, root)?;
                self.members.insert(root, Arc::clone(&members));
                members
            }
        };
        let Some(shown) = members.first() else {
            return Ok(Cluster::default());
        };
        if shown.number != item.id {
            return Ok(Cluster {
                duplicate_of: Some(shown.clone()),
                also_reported_by: Vec::new(),
            });
        }
        Ok(Cluster {
            duplicate_of: None,
            also_reported_by: members[1..].to_vec(),
        })
    }
}

/// The relevant members of the cluster of `root`, in id order.
fn cluster_members(conn: &Connection, root: i64) -> Result<Arc<[Member]>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.key, m.source_id, COALESCE(s.name, m.source_id), m.title, m.link
         FROM items m LEFT JOIN sources s ON s.id = m.source_id
         WHERE m.relevant AND (m.id = ?1 OR m.duplicate_of = ?1)
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map([root], |row| {
        Ok(Member {
            number: row.get(0)?,
            id: row.get(1)?,
            source: row.get(2)?,
            source_name: row.get(3)?,
            title: row.get(4)?,
            link: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every stored item in id order, `batch` at a time, for a pass over all of them
/// that must not hold them all in memory.
pub fn each_item(
    conn: &Connection,
    batch: usize,
    mut visit: impl FnMut(&StoredItem),
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM items i LEFT JOIN sources s ON s.id = i.source_id
         WHERE i.id > ?1 ORDER BY i.id LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut after = 0_i64;
    loop {
        let rows: Vec<StoredItem> = stmt
            .query_map(
                params![after, i64::try_from(batch).unwrap_or(i64::MAX)],
                stored_item,
            )?
            .collect::<Result<_, _>>()?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.id;
        rows.iter().for_each(&mut visit);
    }
}

/// Each stored source's URL and name by its id: what a command compares with feeds.toml
/// when it opens the database (see `sync_sources`), without the item counts of
/// [`super::sources::list_sources`].
pub fn source_identities(
    conn: &Connection,
) -> Result<HashMap<String, (String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, url, name FROM sources")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When each failing source's current run of failures began (migration 0005 keeps it).
pub fn failing_since(
    conn: &Connection,
) -> Result<std::collections::HashMap<String, DateTime<Utc>>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT id, failing_since FROM sources WHERE failing_since IS NOT NULL")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut since = std::collections::HashMap::new();
    for row in rows {
        let (id, text) = row?;
        if let Ok(time) = DateTime::parse_from_rfc3339(&text) {
            since.insert(id, time.with_timezone(&Utc));
        }
    }
    Ok(since)
}

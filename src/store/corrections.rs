//! Operators' corrections: an item marked relevant or irrelevant (with topics) by a
//! person, which wins over the classifier wherever a decision is made: at ingest,
//! in `retag`, and at once when it is set.
//!
//! The item's row keeps the decision in force (corrected or not), so listings and
//! published feeds need no join; the `corrections` table (migration 0005) is the
//! operator's word, kept by item key, from which that decision is made again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::clusters;
use super::queries::timestamp;
use super::StoreError;
use crate::classify::Decision;
use crate::dedup::Policy;
use crate::item::Item;

/// What an operator decided about one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub relevant: bool,
    /// The topics it belongs to; empty: the classifier's.
    pub topics: Vec<String>,
    pub marked_at: DateTime<Utc>,
}

impl Correction {
    /// The classifier's decision with the operator's verdict and topics in force. The
    /// score and evidence stay the classifier's, so `explain` can still say what the
    /// classifier saw. Marked relevant without topics, an item gets the classifier's
    /// topics, or, when it found the item irrelevant, those whose terms it matched.
    pub fn apply(&self, classifier: &Decision) -> Decision {
        let mut decision = classifier.clone();
        decision.relevant = self.relevant;
        decision.topics = if !self.relevant {
            Vec::new()
        } else if !self.topics.is_empty() {
            self.topics.clone()
        } else if !classifier.topics.is_empty() {
            classifier.topics.clone()
        } else {
            let mut matched: Vec<String> = Vec::new();
            for topic in classifier
                .evidence
                .iter()
                .filter_map(|e| e.role.strip_prefix("topic:"))
            {
                if !matched.iter().any(|t| t == topic) {
                    matched.push(topic.to_string());
                }
            }
            matched
        };
        decision
    }
}

fn parse_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn correction(row: &rusqlite::Row<'_>) -> rusqlite::Result<Correction> {
    let topics: String = row.get(1)?;
    let marked_at: String = row.get(2)?;
    Ok(Correction {
        relevant: row.get(0)?,
        topics: serde_json::from_str(&topics).unwrap_or_default(),
        marked_at: parse_time(&marked_at),
    })
}

/// The operator's correction of the item with this key, if any.
pub fn get(conn: &Connection, key: &str) -> Result<Option<Correction>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT relevant, topics, marked_at FROM corrections WHERE item_key = ?1",
            [key],
            correction,
        )
        .optional()?)
}

/// Every correction, by item key.
pub fn all(conn: &Connection) -> Result<HashMap<String, Correction>, StoreError> {
    let mut stmt = conn.prepare("SELECT relevant, topics, marked_at, item_key FROM corrections")?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(3)?, correction(row)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Puts the operator's corrections in force on freshly classified items, before they
/// are stored: a refetched item that was corrected stays corrected.
pub fn apply_to(conn: &Connection, items: &mut [(Item, Decision)]) -> Result<(), StoreError> {
    let any: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM corrections)", [], |r| {
        r.get(0)
    })?;
    if !any {
        return Ok(());
    }
    for (item, decision) in items.iter_mut() {
        if let Some(correction) = get(conn, &item.key)? {
            *decision = correction.apply(decision);
        }
    }
    Ok(())
}

/// [`apply_to`] a feed prepared for the writer.
pub(super) fn apply_to_prepared(
    conn: &Connection,
    feed: &mut super::prepared::PreparedFeed,
) -> Result<(), StoreError> {
    let any: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM corrections)", [], |r| {
        r.get(0)
    })?;
    if !any {
        return Ok(());
    }
    for prepared in feed.items.iter_mut() {
        if let Some(correction) = get(conn, &prepared.item.key)? {
            prepared.decision = correction.apply(&prepared.decision);
        }
    }
    Ok(())
}

/// Stores the operator's decision on item `id` and puts it in force now: the item's
/// decision and topics change, and an item marked relevant joins the cluster of the
/// story it copies, as at ingest. `classifier` is the classifier's own decision.
pub fn mark(
    conn: &mut Connection,
    id: i64,
    key: &str,
    correction: &Correction,
    classifier: &Decision,
    policy: &Policy,
) -> Result<Decision, StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO corrections (item_key, relevant, topics, marked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (item_key) DO UPDATE SET relevant = excluded.relevant,
           topics = excluded.topics, marked_at = excluded.marked_at",
        params![
            key,
            correction.relevant,
            serde_json::to_string(&correction.topics)?,
            timestamp(correction.marked_at),
        ],
    )?;
    let decision = correction.apply(classifier);
    put_in_force(&tx, id, &decision, policy)?;
    tx.commit()?;
    Ok(decision)
}

/// Forgets the operator's decision on item `id`; the classifier's is in force again.
/// False when there was none.
pub fn clear(
    conn: &mut Connection,
    id: i64,
    key: &str,
    classifier: &Decision,
    policy: &Policy,
) -> Result<bool, StoreError> {
    let tx = conn.transaction()?;
    let removed = tx.execute("DELETE FROM corrections WHERE item_key = ?1", [key])?;
    if removed > 0 {
        put_in_force(&tx, id, classifier, policy)?;
    }
    tx.commit()?;
    Ok(removed > 0)
}

fn put_in_force(
    tx: &Transaction<'_>,
    id: i64,
    decision: &Decision,
    policy: &Policy,
) -> Result<(), StoreError> {
    let was_relevant: bool =
        tx.query_row("SELECT relevant FROM items WHERE id = ?1", [id], |row| {
            row.get(0)
        })?;
    // As any decision is written: the topics, the stored text, the title tokens.
    super::items::write_decision(tx, id, decision)?;
    if decision.relevant {
        // As at ingest: an item joins a story when it becomes relevant, not again.
        if !was_relevant {
            clusters::place(tx, id, policy)?;
        }
    }
    Ok(())
}

/// A corrected item as `eval --corrections` compares it: the operator's verdict and
/// topics, and the item's text for the classifier.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub item: Item,
    pub correction: Correction,
}

/// Every corrected item still stored, oldest correction first.
pub fn labelled(conn: &Connection) -> Result<Vec<Labelled>, StoreError> {
    let sql = format!(
        "SELECT {}, c.relevant, c.topics, c.marked_at
         FROM corrections c JOIN items i ON i.key = c.item_key
         LEFT JOIN sources s ON s.id = i.source_id
         ORDER BY c.marked_at, i.id",
        super::queries::ITEM_COLUMNS
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |row| {
        let stored = super::queries::stored_item(row)?;
        // The correction's columns follow the item's.
        let after = super::rows::ITEM_COLUMN_COUNT;
        let topics: String = row.get(after + 1)?;
        let marked_at: String = row.get(after + 2)?;
        Ok(Labelled {
            item: stored.item,
            correction: Correction {
                relevant: row.get(after)?,
                topics: serde_json::from_str(&topics).unwrap_or_default(),
                marked_at: parse_time(&marked_at),
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

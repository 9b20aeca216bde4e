//! One story, published once: clusters of items that are copies of the same story, and
//! the published listing that shows each cluster as one item.
//!
//! # The model
//! A cluster is named by its *root*, the item the others point to with
//! `duplicate_of` (a root's own `duplicate_of` is NULL; clusters are one level deep).
//! An item joins a cluster when it first becomes relevant (a new relevant item at
//! ingest, or an item that a content change or `retag` turns relevant), by matching
//! an earlier relevant item within the window (see [`crate::dedup::Policy`]) of a
//! compatible language:
//! - the same canonical link (any source: one article reached two ways), or
//! - a near-duplicate title from *another* source (one outlet's recurring headline,
//!   "Weekly digest", is several stories).
//!
//! Membership is stored and never recomputed, so a later copy of a story, or a
//! reader's next poll, never brings it back as a separate item.
//!
//! # What is published
//! Each cluster shows its earliest stored *relevant* member (ids grow in the order
//! items are first seen), in every topic of any of its relevant members, with the other
//! relevant members as "Also reported by". So when `retag` decides that the first copy
//! is not relevant after all, the story does not vanish: the next copy takes its place.
//! Irrelevant items are never matched, and never listed as copies.
//!
//! # Where the candidates come from
//! Not from a read of the window: the relevant items' titles are indexed under the
//! blocking keys of [`crate::dedup::blocking`] (`title_blocks`), which every near
//! duplicate shares with the new title, and the items with the same canonical link come
//! from its index. Both are the copies of the story (and the few titles that share
//! its rarest words), whatever the history holds. The keys are written here, for the
//! relevant items that triggers queue in `title_blocks_pending`, before each placement
//! reads them; so are the spellings of their words (`title_spellings`, 0016), once a
//! word whatever the titles that hold it.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::rows::{stored_item, timestamp, StoredItem, ITEM_COLUMNS, ITEM_COLUMN_COUNT};
use super::StoreError;
use crate::dedup::blocking::{self, Kind, Lookup};
use crate::dedup::{canonical_url, Policy, TitleSignature, DEFAULT_TITLE_THRESHOLD};
use crate::item::Item;

/// The comparison keys stored with an item: its canonical link and title signature.
pub fn keys(item: &Item) -> (Option<String>, String) {
    let url = item.link.as_deref().map(canonical_url);
    (url, TitleSignature::of(&item.title).to_string())
}

/// The keys stored with an item: its canonical link always (`explain` finds items by
/// it), its title signature only when it is compared (a relevant item): irrelevant
/// items are never matched, and their signatures were a tenth of the database.
pub fn keys_if(relevant: bool, item: &Item) -> (Option<String>, Option<String>) {
    let url = item.link.as_deref().map(canonical_url);
    let signature = relevant.then(|| TitleSignature::of(&item.title).to_string());
    (url, signature)
}

/// Fills in the keys of items stored before migration 0002.
pub fn backfill_keys(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let rows: Vec<(i64, Option<String>, String)> = {
        let mut stmt =
            tx.prepare("SELECT id, link, title FROM items WHERE title_signature IS NULL")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, link, title) in rows {
        tx.execute(
            "UPDATE items SET canonical_url = ?2, title_signature = ?3 WHERE id = ?1",
            params![
                id,
                link.as_deref().map(canonical_url),
                TitleSignature::of(&title).to_string()
            ],
        )?;
    }
    Ok(())
}

/// The condition, on an item `i` walked along `items_relevant_by_date`, that it is the
/// shown item of its story (the first relevant member) and, when `?1` names a topic,
/// that some member of its story has that topic. Shared by every listing of stories
/// (topic feeds, per-language feeds, what retention keeps), so they cannot disagree.
pub(super) const SHOWN_IN_TOPIC: &str = "AND NOT EXISTS (
             SELECT 1 FROM items m
             WHERE m.relevant = 1 AND m.id < i.id
               AND (m.id = COALESCE(i.duplicate_of, i.id)
                    OR m.duplicate_of = COALESCE(i.duplicate_of, i.id)))
           AND (?1 IS NULL OR EXISTS (
             SELECT 1 FROM items m
             WHERE m.relevant = 1
               AND (m.id = COALESCE(i.duplicate_of, i.id)
                    OR m.duplicate_of = COALESCE(i.duplicate_of, i.id))
               AND EXISTS (
                 SELECT 1 FROM item_topics t WHERE t.item_id = m.id AND t.topic = ?1)))";

/// An earlier relevant item that `cluster` compares against.
struct Candidate {
    id: i64,
    root: i64,
    source_id: String,
    canonical_url: Option<String>,
    signature: Option<String>,
    lang: Option<String>,
}

/// The item being placed, as the candidates are compared with it.
struct Newcomer {
    id: i64,
    source_id: String,
    canonical_url: Option<String>,
    signature: TitleSignature,
    lang: Option<String>,
    sort_date: DateTime<Utc>,
}

/// Puts a relevant item that belongs to no cluster into the cluster of the story it
/// copies, if any; returns that cluster's root. An item that is already a member, or
/// the root of others, stays where it is: membership never changes once stored.
pub fn place(tx: &Connection, id: i64, policy: &Policy) -> Result<Option<i64>, StoreError> {
    let Some(newcomer) = newcomer(tx, id)? else {
        return Ok(None);
    };
    if is_clustered(tx, id)? {
        return Ok(None);
    }
    // The newcomer is queued too: the order of its words is worked out once.
    let order = index_queue(tx, policy.title_threshold, Some(id))?;
    let Some(root) = find_copy(tx, &newcomer, policy, order)? else {
        return Ok(None);
    };
    tx.prepare_cached("UPDATE items SET duplicate_of = ?2 WHERE id = ?1")?
        .execute(params![id, root])?;
    Ok(Some(root))
}

fn is_clustered(tx: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM items WHERE id = ?1 AND duplicate_of IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM items WHERE duplicate_of = ?1)",
        )?
        .query_row([id], |row| row.get(0))?)
}

fn newcomer(tx: &Connection, id: i64) -> Result<Option<Newcomer>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT source_id, canonical_url, title_signature, lang, sort_date, link, title
             FROM items WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((source_id, mut canonical_url, mut signature, lang, date, link, title)) = row else {
        return Ok(None);
    };
    if signature.is_none() {
        // Stored while irrelevant, so without keys: it is compared from now on.
        canonical_url = link.as_deref().map(crate::dedup::canonical_url);
        signature = Some(TitleSignature::of(&title).to_string());
        tx.prepare_cached(
            "UPDATE items SET canonical_url = ?2, title_signature = ?3 WHERE id = ?1",
        )?
        .execute(params![id, canonical_url, signature])?;
    }
    Ok(Some((source_id, canonical_url, signature, lang, date)).map(
        |(source_id, canonical_url, signature, lang, date)| Newcomer {
            id,
            source_id,
            canonical_url,
            signature: parse_signature(signature.as_deref()),
            lang,
            sort_date: DateTime::parse_from_rfc3339(&date)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
        },
    ))
}

/// A stored signature, or the empty one (similar to nothing) when it cannot be read,
/// e.g. one written by a later version's normalisation.
fn parse_signature(text: Option<&str>) -> TitleSignature {
    text.and_then(|t| t.parse().ok()).unwrap_or_default()
}

/// The ids of the items that can be copies of the newcomer: those with its canonical
/// link (when `with_same_link`), and those its title's blocking keys find (see the
/// module docs), without the newcomer; not yet filtered by window or relevance.
/// `order` is the newcomer's words rarest first, when already worked out.
struct CandidateIds {
    same_link: BTreeSet<i64>,
    by_title: BTreeSet<i64>,
}

fn candidate_ids(
    tx: &Connection,
    newcomer: &Newcomer,
    policy: &Policy,
    order: Option<Vec<usize>>,
    with_same_link: bool,
) -> Result<CandidateIds, StoreError> {
    let mut ids = CandidateIds {
        same_link: BTreeSet::new(),
        by_title: BTreeSet::new(),
    };
    if let Some(url) = newcomer.canonical_url.as_ref().filter(|_| with_same_link) {
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM items WHERE url_hash = ?1 AND canonical_url = ?2 AND relevant = 1",
        )?;
        let rows = stmt.query_map(params![super::rows::text_hash(url), url], |row| {
            row.get::<_, i64>(0)
        })?;
        for id in rows {
            ids.same_link.insert(id?);
        }
    }
    if !newcomer.signature.is_empty() {
        let order = match order {
            Some(order) => order,
            None => rarest_first(tx, &newcomer.signature)?,
        };
        for lookup in blocking::probe(&newcomer.signature, &order, policy.title_threshold) {
            look_up(tx, lookup, &mut ids.by_title)?;
        }
    }
    ids.same_link.remove(&newcomer.id);
    ids.by_title.remove(&newcomer.id);
    Ok(ids)
}

/// The window around the newcomer's date, as stored timestamps.
fn window_of(newcomer: &Newcomer, policy: &Policy) -> (String, String) {
    let window = Duration::from_std(policy.window).unwrap_or_else(|_| Duration::days(36500));
    (
        timestamp(newcomer.sort_date - window),
        timestamp(newcomer.sort_date + window),
    )
}

/// A candidate by id, if it is relevant and within the window, with its canonical link.
#[cfg(test)]
fn fetch_candidate(
    tx: &Connection,
    id: i64,
    (from, to): (&str, &str),
) -> Result<Option<Candidate>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT id, COALESCE(duplicate_of, id), source_id, canonical_url, title_signature, lang
             FROM items
             WHERE id = ?1 AND relevant = 1 AND sort_date BETWEEN ?2 AND ?3",
        )?
        .query_row(params![id, from, to], candidate_row)
        .optional()?)
}

/// What [`find_copy`] reads of a title candidate: its root, source, language and
/// signature, if it is relevant and within the window (`?2`, `?3`), from the index of
/// the relevant items' compared columns alone (0015), never from the item's row: a
/// wire story's hundreds of copies are spread over the whole table, one page read
/// each. The canonical link is not in it; the same-link copies are read before.
pub(super) const TITLE_CANDIDATE: &str =
    "SELECT id, COALESCE(duplicate_of, id), source_id, NULL, title_signature, lang
     FROM items INDEXED BY items_relevant_candidates
     WHERE id = ?1 AND relevant = 1 AND sort_date BETWEEN ?2 AND ?3";

/// A title candidate by id, as [`TITLE_CANDIDATE`] reads it (no canonical link).
fn fetch_title_candidate(
    tx: &Connection,
    id: i64,
    (from, to): (&str, &str),
) -> Result<Option<Candidate>, StoreError> {
    Ok(tx
        .prepare_cached(TITLE_CANDIDATE)?
        .query_row(params![id, from, to], candidate_row)
        .optional()?)
}

/// The root of the earliest stored relevant item of the window with the newcomer's
/// canonical link that `comparable` accepts, read one row at a time in id order: a
/// wire story's link is shared by hundreds of copies, and the first one decides (the
/// same as collecting them all and taking the first, which read every copy's row for
/// each new copy).
fn first_with_same_link(
    tx: &Connection,
    newcomer: &Newcomer,
    (from, to): (&str, &str),
    comparable: impl Fn(&Candidate) -> bool,
) -> Result<Option<i64>, StoreError> {
    let Some(url) = &newcomer.canonical_url else {
        return Ok(None);
    };
    let mut stmt = tx.prepare_cached(
        "SELECT id, COALESCE(duplicate_of, id), source_id, canonical_url, title_signature, lang
         FROM items
         WHERE url_hash = ?1 AND canonical_url = ?2 AND relevant = 1
           AND sort_date BETWEEN ?3 AND ?4 AND id != ?5
         ORDER BY id",
    )?;
    let mut rows = stmt.query(params![
        super::rows::text_hash(url),
        url,
        from,
        to,
        newcomer.id
    ])?;
    while let Some(row) = rows.next()? {
        let candidate = candidate_row(row)?;
        if comparable(&candidate) {
            return Ok(Some(candidate.root));
        }
    }
    Ok(None)
}

/// The candidates the blocking finds, earliest stored first: a superset of what
/// [`best_match`] can pick from the window, so it picks the same.
#[cfg(test)]
fn candidates(
    tx: &Connection,
    newcomer: &Newcomer,
    policy: &Policy,
    order: Option<Vec<usize>>,
) -> Result<Vec<Candidate>, StoreError> {
    let (from, to) = window_of(newcomer, policy);
    let ids = candidate_ids(tx, newcomer, policy, order, true)?;
    let mut candidates = Vec::new();
    for id in ids.same_link.union(&ids.by_title) {
        candidates.extend(fetch_candidate(tx, *id, (&from, &to))?);
    }
    Ok(candidates)
}

/// The root of the cluster the newcomer copies, the one [`best_match`] picks from the
/// whole window, reading as little as it can: the earliest item with the same
/// canonical link (they win over any title); else the most similar title from
/// another source among the blocked candidates, earliest first, stopping at a
/// similarity of 1 (no later one can beat it, and among equals the earliest wins). A
/// story with hundreds of copies costs the first of them.
fn find_copy(
    tx: &Connection,
    newcomer: &Newcomer,
    policy: &Policy,
    order: Option<Vec<usize>>,
) -> Result<Option<i64>, StoreError> {
    let (from, to) = window_of(newcomer, policy);
    if policy.title_threshold <= 0.0 {
        // Every pair of titles would be near duplicates: no key is shared by all.
        let window = window_candidates(tx, newcomer.id, &from, &to)?;
        return Ok(best_match(newcomer, &window, policy));
    }
    let comparable = |c: &Candidate| same_language(c.lang.as_deref(), newcomer.lang.as_deref());
    if let Some(root) = first_with_same_link(tx, newcomer, (&from, &to), comparable)? {
        return Ok(Some(root));
    }
    let ids = candidate_ids(tx, newcomer, policy, order, false)?;
    let mut best: Option<(f64, i64)> = None;
    for &id in &ids.by_title {
        let Some(candidate) = fetch_title_candidate(tx, id, (&from, &to))?.filter(comparable)
        else {
            continue;
        };
        if candidate.source_id == newcomer.source_id {
            continue;
        }
        let similarity =
            parse_signature(candidate.signature.as_deref()).similarity(&newcomer.signature);
        if similarity >= policy.title_threshold && best.is_none_or(|(score, _)| similarity > score)
        {
            best = Some((similarity, candidate.root));
            if similarity >= 1.0 {
                break;
            }
        }
    }
    Ok(best.map(|(_, root)| root))
}

/// Every relevant item of the window, for a threshold no key can serve. `relevant = 1`,
/// not `relevant`: only the comparison matches the partial index of relevant items by
/// date, so the rows read are the window's relevant items, never the whole table.
fn window_candidates(
    tx: &Connection,
    id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<Candidate>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, COALESCE(duplicate_of, id), source_id, canonical_url, title_signature, lang
         FROM items
         WHERE relevant = 1 AND id != ?1 AND sort_date BETWEEN ?2 AND ?3
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![id, from, to], candidate_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn candidate_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
    Ok(Candidate {
        id: row.get(0)?,
        root: row.get(1)?,
        source_id: row.get(2)?,
        canonical_url: row.get(3)?,
        signature: row.get(4)?,
        lang: row.get(5)?,
    })
}

/// The items whose `title_blocks` rows answer one lookup.
fn look_up(tx: &Connection, lookup: Lookup, ids: &mut BTreeSet<i64>) -> Result<(), StoreError> {
    let head_kind = Kind::Head.code();
    let mut collect = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<(), StoreError> {
        let mut stmt = tx.prepare_cached(sql)?;
        let rows = stmt.query_map(params, |row| row.get::<_, i64>(0))?;
        for id in rows {
            ids.insert(id?);
        }
        Ok(())
    };
    match lookup {
        Lookup::Exact { kind, key } => collect(
            "SELECT item_id FROM title_blocks WHERE kind = ?1 AND key = ?2",
            &[&kind.code(), &key],
        ),
        // The other heads this key spells (a few; never the word's own, which the
        // head pairs cover: that would be every title that shares the word), then the
        // titles of each. CROSS JOIN keeps that order.
        Lookup::OtherHead { key, head } => collect(
            "SELECT b.item_id FROM title_spellings CROSS JOIN title_blocks b
               ON b.kind = ?1 AND b.key = title_spellings.head AND b.head = title_spellings.head
             WHERE title_spellings.key = ?2 AND title_spellings.head != ?3",
            &[&head_kind, &key, &head],
        ),
        Lookup::AnyHead { head } => collect(
            "SELECT item_id FROM title_blocks WHERE kind = ?1 AND key = ?2 AND head = ?2",
            &[&head_kind, &head],
        ),
    }
}

/// How many stored titles are counted, at most, to rank a word's rarity: enough to
/// tell a story's own word from a common one.
const RARITY_CAP: i64 = 64;

/// The signature's word positions, rarest first (by how many indexed titles hold a
/// word of its head, up to [`RARITY_CAP`]; longer words first among equals): the words
/// a title picks for its pairs. Any order keeps the guarantee; this one keeps the
/// lookups to the story.
///
/// The count is `title_head_counts` (0013), one row a head kept beside the `Head` rows
/// `(head, head)` it counts (by triggers until 0017, now by [`count_head`]); counting those rows, up to 64 a word, was a
/// range read of the index per word of every new relevant title.
fn rarest_first(tx: &Connection, signature: &TitleSignature) -> Result<Vec<usize>, StoreError> {
    let mut stmt =
        tx.prepare_cached("SELECT min(titles, ?2) FROM title_head_counts WHERE head = ?1")?;
    let words = signature.words();
    let mut ranked = Vec::with_capacity(words.len());
    for (at, word) in words.iter().enumerate() {
        let count: i64 = stmt
            .query_row(params![blocking::head(word), RARITY_CAP], |row| row.get(0))
            .optional()?
            .unwrap_or(0);
        ranked.push((count, std::cmp::Reverse(word.chars().count()), at));
    }
    ranked.sort_unstable();
    Ok(ranked.into_iter().map(|(_, _, at)| at).collect())
}

/// Writes the blocking rows of the items queued in `title_blocks_pending` and empties
/// the queue. The picked pairs are chosen for the threshold recorded beside them; a
/// lower `threshold` than that picks them again for every relevant item (they would
/// miss near duplicates below the old one).
pub fn index_pending(tx: &Connection, threshold: f64) -> Result<(), StoreError> {
    index_queue(tx, threshold, None).map(|_| ())
}

/// The queued items' signatures: read from the queue, whatever the history holds.
pub(super) const PENDING_SIGNATURES: &str = "SELECT p.item_id, i.title_signature
     FROM title_blocks_pending p CROSS JOIN items i ON i.id = p.item_id
     WHERE i.relevant = 1";

/// [`index_pending`], returning the order of words worked out for `keep` if it was
/// queued.
fn index_queue(
    tx: &Connection,
    threshold: f64,
    keep: Option<i64>,
) -> Result<Option<Vec<usize>>, StoreError> {
    let recorded: Option<f64> = tx
        .prepare_cached("SELECT threshold FROM title_blocks_threshold")?
        .query_row([], |row| row.get(0))
        .optional()?;
    let keyed = match recorded {
        Some(recorded) if recorded <= threshold => recorded,
        _ => {
            tx.prepare_cached("DELETE FROM title_blocks WHERE kind IN (?1, ?2)")?
                .execute(params![Kind::ChosenPair.code(), Kind::Single.code()])?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO title_blocks_pending (item_id)
                 SELECT id FROM items WHERE relevant = 1 AND title_signature IS NOT NULL",
            )?
            .execute([])?;
            tx.prepare_cached("DELETE FROM title_blocks_threshold")?
                .execute([])?;
            tx.prepare_cached("INSERT INTO title_blocks_threshold (threshold) VALUES (?1)")?
                .execute([threshold])?;
            threshold
        }
    };
    let pending: Vec<(i64, Option<String>)> = {
        // CROSS JOIN fixes the order: from the queue (a placement's one item) to the
        // rows. With a plain JOIN the planner walked every relevant item's row along
        // `items_relevant_by_language` (0012) and probed the queue for each: 2 M
        // instructions and dozens of page reads a placement at 3,766 relevant items,
        // growing with history (BENCHMARKS.md, branch writer5).
        let mut stmt = tx.prepare_cached(PENDING_SIGNATURES)?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if pending.is_empty() {
        return Ok(None);
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO title_blocks (kind, key, head, item_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // A known word's spellings are there already: the ignored insert reads one small
    // index's leaf and writes nothing.
    let mut spell =
        tx.prepare_cached("INSERT OR IGNORE INTO title_spellings (key, head) VALUES (?1, ?2)")?;
    let mut kept = None;
    for (id, signature) in pending {
        let signature = parse_signature(signature.as_deref());
        let order = rarest_first(tx, &signature)?;
        for block in blocking::blocks(&signature, &order, keyed) {
            let inserted = insert.execute(params![block.kind.code(), block.key, block.head, id])?;
            if inserted == 1 && block.kind == Kind::Head {
                count_head(tx, block.head, 1)?;
            }
        }
        for spelling in blocking::spellings(&signature) {
            spell.execute(params![spelling.key, spelling.head])?;
        }
        if Some(id) == keep {
            kept = Some(order);
        }
    }
    tx.prepare_cached("DELETE FROM title_blocks_pending")?
        .execute([])?;
    Ok(kept)
}

/// Keeps `title_head_counts` (0013) as the `Head` rows it counts come and go: `by` is
/// +1 for a row inserted, -1 for one deleted. Two triggers on `title_blocks` did it
/// until 0017, which made every insert into `title_blocks` abortable, so each opened a
/// statement journal, and once the transaction had written the search table each
/// journal made FTS5 flush its pending terms (BENCHMARKS.md, branch blocks7). The
/// statements are the triggers' own: an update, and an insert for a head not counted
/// yet (a delete never inserts).
fn count_head(tx: &Connection, head: blocking::Key, by: i64) -> Result<(), StoreError> {
    let updated = tx
        .prepare_cached("UPDATE title_head_counts SET titles = titles + ?2 WHERE head = ?1")?
        .execute(params![head, by])?;
    if updated == 0 && by > 0 {
        tx.prepare_cached("INSERT INTO title_head_counts (head, titles) VALUES (?1, ?2)")?
            .execute(params![head, by])?;
    }
    Ok(())
}

/// Before the items whose ids `doomed` (a table of `id`s) lists are deleted, removes
/// their `title_blocks` rows: those computed from the signature by their keys, the
/// picked pairs (which depended on the counts when they were picked) by a pass over
/// their kinds alone, a small part of the index; then the spellings of their words
/// whose head no indexed title holds any more (those another title still holds stay,
/// and so would a stale one: it only names a head whose lookup finds nothing).
pub(super) fn forget_title_blocks(tx: &Connection, doomed: &str) -> Result<(), StoreError> {
    let signatures: Vec<(i64, Option<String>)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT id, title_signature FROM items
             WHERE id IN (SELECT id FROM {doomed}) AND title_signature IS NOT NULL"
        ))?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if signatures.is_empty() {
        return Ok(());
    }
    let mut delete = tx.prepare_cached(
        "DELETE FROM title_blocks WHERE kind = ?1 AND key = ?2 AND head = ?3 AND item_id = ?4",
    )?;
    for (id, signature) in &signatures {
        let signature = parse_signature(signature.as_deref());
        let order: Vec<usize> = (0..signature.words().len()).collect();
        let kept_by_kind = [Kind::Pair, Kind::Head];
        for block in blocking::blocks(&signature, &order, DEFAULT_TITLE_THRESHOLD) {
            if kept_by_kind.contains(&block.kind) {
                let deleted =
                    delete.execute(params![block.kind.code(), block.key, block.head, id])?;
                if deleted == 1 && block.kind == Kind::Head {
                    count_head(tx, block.head, -1)?;
                }
            }
        }
    }
    tx.execute(
        &format!(
            "DELETE FROM title_blocks WHERE kind IN (?1, ?2) AND item_id IN (SELECT id FROM {doomed})"
        ),
        params![Kind::ChosenPair.code(), Kind::Single.code()],
    )?;
    let mut forget = tx.prepare_cached(
        "DELETE FROM title_spellings WHERE key = ?1 AND head = ?2
           AND NOT EXISTS (SELECT 1 FROM title_head_counts WHERE head = ?2 AND titles > 0)",
    )?;
    for (_, signature) in &signatures {
        for spelling in blocking::spellings(&parse_signature(signature.as_deref())) {
            forget.execute(params![spelling.key, spelling.head])?;
        }
    }
    Ok(())
}

/// Indexes every relevant item of a database that had no `title_blocks` (migration
/// 0009), for the default threshold (a lower one re-picks at the first placement).
pub fn backfill_title_blocks(tx: &Transaction<'_>) -> Result<(), StoreError> {
    index_pending(tx, DEFAULT_TITLE_THRESHOLD)
}

/// The root of the cluster the newcomer copies: the earliest item with the same
/// canonical link, else the most similar title from another source (the earliest
/// among equals).
fn best_match(newcomer: &Newcomer, candidates: &[Candidate], policy: &Policy) -> Option<i64> {
    let comparable = candidates
        .iter()
        .filter(|c| same_language(c.lang.as_deref(), newcomer.lang.as_deref()));
    let mut best: Option<(f64, &Candidate)> = None;
    for candidate in comparable {
        let same_link =
            newcomer.canonical_url.is_some() && candidate.canonical_url == newcomer.canonical_url;
        if same_link {
            return Some(candidate.root);
        }
        if candidate.source_id == newcomer.source_id {
            continue;
        }
        let similarity =
            parse_signature(candidate.signature.as_deref()).similarity(&newcomer.signature);
        let better = best.is_none_or(|(score, _)| similarity > score);
        if similarity >= policy.title_threshold && better {
            best = Some((similarity, candidate));
        }
    }
    best.map(|(_, candidate)| {
        debug_assert_ne!(candidate.id, newcomer.id);
        candidate.root
    })
}

/// Items in different languages are different stories for a reader (a French
/// reader wants the French copy listed, not folded into an English one); an unknown
/// language is compatible with any. Compared by primary subtag: `en` and `en-GB` agree.
fn same_language(a: Option<&str>, b: Option<&str>) -> bool {
    let primary = |lang: &str| {
        lang.split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    match (a, b) {
        (Some(a), Some(b)) => primary(a) == primary(b),
        _ => true,
    }
}

/// The root of the item's cluster (the item itself when it is in none).
pub fn root_of(tx: &Connection, id: i64) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("SELECT COALESCE(duplicate_of, id) FROM items WHERE id = ?1")?
        .query_row([id], |row| row.get(0))?)
}

/// The topics of every relevant member of the item's cluster: the feeds whose bytes
/// change when the item or its cluster does.
///
/// The copies are found in `items_by_cluster (duplicate_of, relevant)` alone (0011),
/// never in their rows: a wire story's copies are spread over the whole table, one
/// page read each.
pub fn cluster_topics(conn: &Connection, id: i64) -> Result<BTreeSet<String>, StoreError> {
    let root = root_of(conn, id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT topic FROM item_topics
         WHERE item_id = ?1 AND EXISTS (SELECT 1 FROM items WHERE id = ?1 AND relevant = 1)
         UNION
         SELECT t.topic FROM items m JOIN item_topics t ON t.item_id = m.id
         WHERE m.duplicate_of = ?1 AND m.relevant = 1",
    )?;
    let topics = stmt.query_map([root], |row| row.get(0))?;
    Ok(topics.collect::<Result<_, _>>()?)
}

/// [`cluster_topics`] of the clusters a batch of feeds adds to, each read once: a wire
/// story that hundreds of feeds carry was read whole for each new copy (all its
/// members and their topics: 9 % of the instructions of 40 new feeds into 100,000
/// items, BENCHMARKS.md, branch store4). Within one transaction of the writer a
/// cluster's topics only grow by those of the items written to it, which are added as
/// they come; an update that takes a topic away leaves it in the set, and the feed of
/// that topic is counted as changed, which it is (its story lost a member's topic).
/// So the set is never smaller than the truth: no changed feed goes unreported.
#[derive(Debug, Default)]
pub struct ClusterTopics {
    by_root: std::collections::HashMap<i64, BTreeSet<String>>,
}

/// The clusters whose topics the writer keeps between batches, at most: a long-running
/// daemon touches new clusters every day, and one entry (a handful of short topic
/// ids) is a few hundred bytes.
pub const CLUSTERS_REMEMBERED: usize = 4096;

impl ClusterTopics {
    /// Forgets every cluster: after a write that may have changed their topics other
    /// than by adding what it wrote.
    pub fn forget(&mut self) {
        self.by_root.clear();
    }

    /// Forgets every cluster once more than `clusters` are remembered.
    pub fn forget_if_larger_than(&mut self, clusters: usize) {
        if self.by_root.len() > clusters {
            self.forget();
        }
    }

    /// The topics of every relevant member of the item's cluster, as [`cluster_topics`].
    pub fn of(&mut self, conn: &Connection, id: i64) -> Result<&BTreeSet<String>, StoreError> {
        let root = root_of(conn, id)?;
        match self.by_root.entry(root) {
            std::collections::hash_map::Entry::Occupied(entry) => {
                let topics = entry.into_mut();
                let mut own = conn.prepare_cached(
                    "SELECT t.topic FROM item_topics t JOIN items m ON m.id = t.item_id
                     WHERE m.id = ?1 AND m.relevant = 1",
                )?;
                for topic in own.query_map([id], |row| row.get::<_, String>(0))? {
                    topics.insert(topic?);
                }
                Ok(topics)
            }
            std::collections::hash_map::Entry::Vacant(entry) => {
                Ok(entry.insert(cluster_topics(conn, root)?))
            }
        }
    }
}

/// Another outlet's copy of a published story.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub title: String,
    pub link: Option<String>,
    pub source_name: String,
}

/// A story as published: the cluster's shown item, the topics of the whole cluster
/// (the shown item's first) and the other relevant copies, earliest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    pub shown: StoredItem,
    pub topics: Vec<String>,
    pub duplicates: Vec<Duplicate>,
}

/// The published stories, newest first (ties by key), optionally of one topic.
pub fn list_stories(
    conn: &Connection,
    topic: Option<&str>,
    limit: usize,
) -> Result<Vec<Story>, StoreError> {
    // `shown` is each cluster's earliest relevant member; see the module docs. The
    // relevant items are walked newest first along their partial index, keeping those
    // that no earlier relevant member of their cluster hides, until `limit`: the cost
    // is the feed's length, not the history's. The topic test starts from the
    // cluster's members (by id and by `duplicate_of`) and asks `item_topics` by its
    // key: started from the topic's index it read every item of the topic for each
    // item walked.
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, COALESCE(i.duplicate_of, i.id) AS root
         FROM items i INDEXED BY items_relevant_by_date LEFT JOIN sources s ON s.id = i.source_id
         WHERE i.relevant = 1
           {SHOWN_IN_TOPIC}
         ORDER BY i.sort_date DESC, i.key LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![topic, limit], |row| {
        Ok((stored_item(row)?, row.get::<_, i64>(ITEM_COLUMN_COUNT)?))
    })?;
    let shown: Vec<(StoredItem, i64)> = rows.collect::<Result<_, _>>()?;
    shown
        .into_iter()
        .map(|(item, root)| story(conn, item, root))
        .collect()
}

pub(super) fn story(conn: &Connection, shown: StoredItem, root: i64) -> Result<Story, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.title, m.link, COALESCE(s.name, m.source_id)
         FROM items m LEFT JOIN sources s ON s.id = m.source_id
         WHERE m.relevant = 1 AND (m.id = ?1 OR m.duplicate_of = ?1) AND m.id != ?2
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map(params![root, shown.id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            Duplicate {
                title: row.get(1)?,
                link: row.get(2)?,
                source_name: row.get(3)?,
            },
        ))
    })?;
    let others: Vec<(i64, Duplicate)> = rows.collect::<Result<_, _>>()?;
    let mut topics = shown.decision.topics.clone();
    for (id, _) in &others {
        for topic in topics_of(conn, *id)? {
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
    }
    Ok(Story {
        shown,
        topics,
        duplicates: others.into_iter().map(|(_, d)| d).collect(),
    })
}

fn topics_of(conn: &Connection, id: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT topic FROM item_topics WHERE item_id = ?1 ORDER BY topic")?;
    let topics = stmt.query_map([id], |row| row.get(0))?;
    Ok(topics.collect::<Result<_, _>>()?)
}

/// Before the items dated before `cutoff` are deleted (retention), hands each cluster
/// losing its root to its earliest surviving member, so that the survivors stay one
/// story instead of splitting into several.
pub fn reroot_before_delete(tx: &Transaction<'_>, cutoff: &str) -> Result<(), StoreError> {
    let orphans: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT m.id, m.duplicate_of FROM items m JOIN items r ON r.id = m.duplicate_of
             WHERE r.sort_date < ?1 AND m.sort_date >= ?1
             ORDER BY m.duplicate_of, m.id",
        )?;
        let rows = stmt.query_map([cutoff], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // (old root, new root) of the cluster being walked.
    let mut current: Option<(i64, i64)> = None;
    for (id, old_root) in orphans {
        let new_root = match current {
            Some((old, new)) if old == old_root => Some(new),
            _ => {
                current = Some((old_root, id));
                None
            }
        };
        tx.prepare_cached("UPDATE items SET duplicate_of = ?2 WHERE id = ?1")?
            .execute(params![id, new_root])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::classify::Decision;
    use crate::store::queries::{ingest_with, FetchRecord};
    use crate::store::schema::migrate;

    fn record() -> FetchRecord {
        FetchRecord {
            status: "ok",
            error_kind: None,
            error: None,
            attempted_at: Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap(),
            validators: None,
            consecutive_failures: 0,
            next_attempt: None,
            suggested_url: None,
        }
    }

    /// Relevant items of six sources: both titles of every pair of
    /// `corpus/dedup_pairs.tsv`, titles built like the bench farm's (a few headlines
    /// and a word of their own, so that every title shares most words with hundreds),
    /// their respelled copies, one-word titles, and shared links.
    fn database(policy: &Policy) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let mut titles: Vec<String> = Vec::new();
        for line in include_str!("../../corpus/dedup_pairs.tsv").lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            if line.starts_with('#') || fields.len() < 4 {
                continue;
            }
            titles.push(fields[2].to_string());
            titles.push(fields[3].to_string());
        }
        let heads = [
            "France and Kazakhstan sign an agreement on uranium supplies",
            "Macron meets Tokayev in Astana to discuss trade and investment",
            "Kassym-Jomart Tokayev receives Emmanuel Macron",
        ];
        let own = [
            "government",
            "market",
            "council",
            "railway",
            "airport",
            "harvest",
            "bridge",
            "digital",
            "festival",
            "tourism",
            "football",
            "museum",
            "hospital",
            "budget",
        ];
        for (i, word) in own.iter().cycle().take(300).enumerate() {
            let head = heads[i % heads.len()];
            titles.push(match i % 5 {
                0 => format!("{head}: {word}"),
                1 => format!("{head}: {word} - Reuters"),
                2 => format!(
                    "{}: {word}",
                    head.replace("Kassym", "Kasym").replace("Tokayev", "Tokaev")
                ),
                3 => format!("{head}: {word} and {}", own[(i / 5) % own.len()]),
                _ => word.to_string(),
            });
        }
        for (n, title) in titles.iter().enumerate() {
            let source = format!("s{}", n % 6);
            let link = format!("https://example.org/{}", n % 97);
            let item = Item {
                key: Item::key_for(&source, Some(&n.to_string()), None, title, None),
                source_id: source.clone(),
                guid: Some(n.to_string()),
                link: Some(link),
                title: title.clone(),
                summary: String::new(),
                content_html: None,
                published: Some(
                    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
                        + Duration::minutes(n as i64),
                ),
                updated: None,
                authors: Vec::new(),
                categories: Vec::new(),
                lang: None,
            };
            let decision = Decision {
                relevant: true,
                score: 1.0,
                threshold: 0.5,
                topics: vec!["diplomacy".into()],
                evidence: Vec::new(),
                parts: Default::default(),
            };
            ingest_with(&mut conn, &source, &[(item, decision)], &record(), policy).unwrap();
        }
        conn
    }

    #[test]
    fn the_blocked_search_finds_what_the_window_scan_finds() {
        for threshold in [DEFAULT_TITLE_THRESHOLD, 0.5, 0.9] {
            let policy = Policy {
                title_threshold: threshold,
                ..Policy::default()
            };
            // Indexed at the default threshold, asked at this one: a lower one re-picks.
            let conn = database(&Policy::default());
            index_pending(&conn, threshold).unwrap();
            let ids: Vec<i64> = {
                let mut stmt = conn.prepare("SELECT id FROM items ORDER BY id").unwrap();
                let rows = stmt.query_map([], |row| row.get(0)).unwrap();
                rows.collect::<Result<_, _>>().unwrap()
            };
            assert!(ids.len() > 400);
            let (mut blocked_total, mut window_total, mut matched) = (0, 0, 0);
            for id in ids {
                let newcomer = newcomer(&conn, id).unwrap().unwrap();
                let blocked = candidates(&conn, &newcomer, &policy, None).unwrap();
                let window = Duration::from_std(policy.window).unwrap();
                let window = window_candidates(
                    &conn,
                    id,
                    &timestamp(newcomer.sort_date - window),
                    &timestamp(newcomer.sort_date + window),
                )
                .unwrap();
                let found: BTreeSet<i64> = blocked.iter().map(|c| c.id).collect();
                for candidate in &window {
                    let same_link = newcomer.canonical_url.is_some()
                        && candidate.canonical_url == newcomer.canonical_url;
                    let similarity = parse_signature(candidate.signature.as_deref())
                        .similarity(&newcomer.signature);
                    if same_link || similarity >= threshold {
                        assert!(
                            found.contains(&candidate.id),
                            "at {threshold}, item {id} ({}) misses {} ({:?}), {similarity:.3}",
                            newcomer.signature,
                            candidate.id,
                            candidate.signature
                        );
                    }
                }
                let best = best_match(&newcomer, &blocked, &policy);
                assert_eq!(best, best_match(&newcomer, &window, &policy), "item {id}");
                assert_eq!(
                    find_copy(&conn, &newcomer, &policy, None).unwrap(),
                    best,
                    "item {id}"
                );
                matched += usize::from(best.is_some());
                blocked_total += blocked.len();
                window_total += window.len();
            }
            assert!(matched > 100, "{matched} items have a copy");
            // The point of it: far fewer rows read than the window's.
            assert!(
                blocked_total * 4 < window_total,
                "at {threshold}: {blocked_total} candidates against {window_total}"
            );
        }
    }

    #[test]
    fn a_title_edit_and_a_relevant_item_are_indexed_before_the_next_placement() {
        let conn = database(&Policy::default());
        let pending: i64 = conn
            .query_row("SELECT count(*) FROM title_blocks_pending", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(pending, 0, "every placement emptied the queue");
        conn.execute(
            "UPDATE items SET title_signature = 't2:brand new words' WHERE id = 5",
            [],
        )
        .unwrap();
        conn.execute("UPDATE items SET relevant = 0 WHERE id = 6", [])
            .unwrap();
        conn.execute("UPDATE items SET relevant = 1 WHERE id = 6", [])
            .unwrap();
        let queued: Vec<i64> = {
            let mut stmt = conn
                .prepare("SELECT item_id FROM title_blocks_pending ORDER BY item_id")
                .unwrap();
            let rows = stmt.query_map([], |row| row.get(0)).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        };
        assert_eq!(queued, [5, 6]);
        index_pending(&conn, DEFAULT_TITLE_THRESHOLD).unwrap();
        let newcomer = Newcomer {
            id: 0,
            source_id: "elsewhere".into(),
            canonical_url: None,
            signature: TitleSignature::of("Brand new words"),
            lang: None,
            sort_date: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
        };
        let found: Vec<i64> = candidates(&conn, &newcomer, &Policy::default(), None)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(found.contains(&5), "{found:?}");
    }
}

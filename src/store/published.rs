//! What the published site needs beyond the listing of [`super::clusters`]: the
//! stories in one language, full-text search, and when each published file's bytes
//! were first rendered (so that `Last-Modified` survives restarts).
//!
//! Search runs over `item_search`, an FTS5 table of its own (migration 0006) that
//! triggers keep equal to the relevant items' title and summary; the tokenizer folds
//! case and diacritics in every script (`unicode61 remove_diacritics 2`), so `etude`
//! finds "Étude" and `казахстан` finds "КАЗАХСТАН".

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::clusters::{story, Story, SHOWN_IN_TOPIC};
use super::queries::{stored_item, timestamp, ITEM_COLUMNS};
use super::StoreError;

/// The published stories whose shown item is in `lang` (a primary language code:
/// `fr` matches `fr` and `fr-FR`), newest first, optionally of one topic. Each cluster
/// shows the same item as in [`super::clusters::list_stories`].
pub fn list_stories_in(
    conn: &Connection,
    topic: Option<&str>,
    lang: &str,
    limit: usize,
) -> Result<Vec<Story>, StoreError> {
    // As `list_stories` walks: the relevant items newest first, each kept when it is
    // its cluster's shown item (no earlier relevant member) and in `lang`, until
    // `limit`. Grouping every relevant item into its cluster first (as this did) cost
    // the whole history per rendering; walking every language's items (along
    // `items_relevant_by_date`) cost it for a language with few. The walk is along
    // `items_relevant_by_language` (migration 0012), whose first column is the code's
    // first two letters, which every match below starts with.
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, COALESCE(i.duplicate_of, i.id) AS root
         FROM items i INDEXED BY items_relevant_by_language
           LEFT JOIN sources s ON s.id = i.source_id
         WHERE i.relevant = 1 AND lower(substr(i.lang, 1, 2)) = substr(?3, 1, 2)
           AND (lower(i.lang) = ?3 OR lower(i.lang) LIKE ?3 || '-%' OR lower(i.lang) LIKE ?3 || '\\_%' ESCAPE '\\')
           {SHOWN_IN_TOPIC}
         ORDER BY i.sort_date DESC, i.key LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![topic, limit, lang.to_ascii_lowercase()], |row| {
        Ok((
            stored_item(row)?,
            row.get::<_, i64>(super::rows::ITEM_COLUMN_COUNT)?,
        ))
    })?;
    let shown: Vec<_> = rows.collect::<Result<_, _>>()?;
    shown
        .into_iter()
        .map(|(item, root)| story(conn, item, root))
        .collect()
}

/// A source as a published page shows it among the outlets: its name and health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutletState {
    pub id: String,
    pub name: String,
    pub status: String,
    pub consecutive_failures: u32,
}

/// Every source's name and fetch health, by id: what each HTML page lists. Not
/// [`super::sources::list_sources`], which also counts each source's items: for the 28
/// pages of an export of 100,000 items that counting was a fifth of its instructions.
pub fn outlets(conn: &Connection) -> Result<Vec<OutletState>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id, name, status, consecutive_failures FROM sources ORDER BY id")?;
    let rows = stmt.query_map([], |row| {
        Ok(OutletState {
            id: row.get(0)?,
            name: row.get(1)?,
            status: row.get(2)?,
            consecutive_failures: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The most words of a query that are searched; the rest are ignored.
const MAX_TERMS: usize = 12;
/// The longest word searched, in characters.
const MAX_TERM_CHARS: usize = 64;

/// A query as FTS5 reads it: every word of the text, each quoted (so that `AND`,
/// `NEAR`, `*`, `"` or `col:` typed by a user are words, never syntax), all required.
/// `None` when the text holds no word.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"", w.chars().take(MAX_TERM_CHARS).collect::<String>()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The stories matching `query` (see [`fts_query`]), best first, `limit` from
/// `offset`: one per cluster, shown as the listing shows it.
pub fn search(
    conn: &Connection,
    query: &str,
    limit: usize,
    offset: usize,
) -> Result<Vec<Story>, StoreError> {
    let Some(matched) = fts_query(query) else {
        return Ok(Vec::new());
    };
    // The title weighs more than the summary; each cluster ranks by its best copy.
    // (`found`, not `m`: the plan test reads `SCAN m` as a scan of items.)
    let sql = format!(
        "WITH matches AS MATERIALIZED (
             SELECT rowid AS id, bm25(item_search, 5.0, 1.0) AS rank
             FROM item_search WHERE item_search MATCH ?1),
         hits AS (
             SELECT COALESCE(i.duplicate_of, i.id) AS root, MIN(found.rank) AS rank
             FROM matches found JOIN items i ON i.id = found.id
             WHERE i.relevant
             GROUP BY root),
         shown AS (
             SELECT h.root, h.rank, (SELECT MIN(m.id) FROM items m
                 WHERE m.relevant AND (m.id = h.root OR m.duplicate_of = h.root)) AS shown
             FROM hits h)
         SELECT {ITEM_COLUMNS}, sh.root
         FROM shown sh JOIN items i ON i.id = sh.shown LEFT JOIN sources s ON s.id = i.source_id
         ORDER BY sh.rank, i.sort_date DESC, i.key LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![matched, limit, offset], |row| {
        Ok((
            stored_item(row)?,
            row.get::<_, i64>(super::rows::ITEM_COLUMN_COUNT)?,
        ))
    })?;
    let shown: Vec<_> = rows.collect::<Result<_, _>>()?;
    shown
        .into_iter()
        .map(|(item, root)| story(conn, item, root))
        .collect()
}

/// The bytes last recorded as published at `path`: their ETag and when they were
/// first rendered.
pub fn recorded(conn: &Connection, path: &str) -> Result<Option<Rendering>, StoreError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT etag, since FROM published_files WHERE path = ?1",
            [path],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(etag, since)| {
        let since = DateTime::parse_from_rfc3339(&since)
            .ok()?
            .with_timezone(&Utc);
        Some(Rendering { etag, since })
    }))
}

/// A published file's bytes, named by their ETag, and when they were first rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendering {
    pub etag: String,
    pub since: DateTime<Utc>,
}

impl Rendering {
    /// Bytes with `etag` rendered `now`, after `previous` at the same path: the same
    /// bytes keep their time; new bytes take `now` (whole seconds), and always later
    /// than the previous bytes' time, since HTTP dates have whole seconds and two
    /// versions within one second must still be told apart.
    pub fn after(previous: Option<&Rendering>, etag: &str, now: DateTime<Utc>) -> Rendering {
        let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
        let since = match previous {
            Some(previous) if previous.etag == etag => previous.since,
            Some(previous) => now.max(previous.since + TimeDelta::seconds(1)),
            None => now,
        };
        Rendering {
            etag: etag.to_string(),
            since,
        }
    }
}

/// Records `rendering` as the bytes published at `path`, so that a restart keeps
/// their time; never over a later record (records may arrive out of order).
pub fn record(conn: &Connection, path: &str, rendering: &Rendering) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO published_files (path, etag, since) VALUES (?1, ?2, ?3)
         ON CONFLICT (path) DO UPDATE SET etag = excluded.etag, since = excluded.since
         WHERE excluded.since >= published_files.since",
        params![path, rendering.etag, timestamp(rendering.since)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_is_words_never_syntax() {
        let cases = [
            ("", None),
            ("  \" * ( ) ", None),
            ("uranium", Some("\"uranium\"")),
            (
                "Astana AND NEAR(x)",
                Some("\"Astana\" \"AND\" \"NEAR\" \"x\""),
            ),
            ("title:Macron\"", Some("\"title\" \"Macron\"")),
            ("Қазақстан–Франция", Some("\"Қазақстан\" \"Франция\"")),
        ];
        for (text, expected) in cases {
            assert_eq!(fts_query(text).as_deref(), expected, "{text:?}");
        }
        let many = "a ".repeat(100);
        assert_eq!(fts_query(&many).unwrap().matches('a').count(), MAX_TERMS);
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600 + seconds, 0).unwrap()
    }

    #[test]
    fn unchanged_bytes_keep_their_time_and_new_ones_are_always_later() {
        let first = Rendering::after(None, "a", at(10) + TimeDelta::milliseconds(700));
        assert_eq!(first.since, at(10), "whole seconds");
        assert_eq!(Rendering::after(Some(&first), "a", at(99)), first);
        // New bytes within the same second still get a later date.
        let second = Rendering::after(Some(&first), "b", at(10));
        assert_eq!(second.since, at(11));
        assert_eq!(Rendering::after(Some(&second), "c", at(50)).since, at(50));
    }

    #[test]
    fn a_record_never_goes_back_in_time() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let old = Rendering::after(None, "a", at(10));
        let new = Rendering::after(Some(&old), "b", at(20));
        record(&conn, "feeds/all.rss", &new).unwrap();
        record(&conn, "feeds/all.rss", &old).unwrap();
        assert_eq!(recorded(&conn, "feeds/all.rss").unwrap(), Some(new));
        assert_eq!(recorded(&conn, "feeds/other.rss").unwrap(), None);
    }
}

#[cfg(test)]
mod search_tests {
    use super::*;
    use crate::classify::Decision;
    use crate::dedup::Policy;
    use crate::item::Item;
    use crate::store::queries::{ingest_with, FetchRecord};

    fn stored(titles: &[(&str, &str)]) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        let items: Vec<(Item, Decision)> = titles
            .iter()
            .enumerate()
            .map(|(n, (title, summary))| {
                let guid = format!("g{n}");
                let item = Item {
                    key: Item::key_for("s", Some(&guid), None, title, None),
                    source_id: "s".into(),
                    guid: Some(guid.clone()),
                    link: Some(format!("https://s.example/{guid}")),
                    title: (*title).into(),
                    summary: (*summary).into(),
                    content_html: None,
                    published: None,
                    updated: None,
                    authors: Vec::new(),
                    categories: Vec::new(),
                    lang: Some("fr".into()),
                };
                let decision = Decision {
                    relevant: true,
                    score: 1.0,
                    threshold: 0.5,
                    topics: vec!["diplomacy".into()],
                    evidence: Vec::new(),
                    parts: Default::default(),
                };
                (item, decision)
            })
            .collect();
        let record = FetchRecord {
            status: "ok",
            error_kind: None,
            error: None,
            attempted_at: Utc::now(),
            validators: None,
            consecutive_failures: 0,
            next_attempt: None,
            suggested_url: None,
        };
        ingest_with(&mut conn, "s", &items, &record, &Policy::default()).unwrap();
        conn
    }

    #[test]
    fn search_folds_case_and_diacritics_and_ranks_titles_first() {
        let conn = stored(&[
            ("Visite à Astana", "Une ÉTUDE sur le nucléaire."),
            ("Étude franco-kazakhe", "Rien d'autre."),
            ("КАЗАХСТАН и Франция", "Соглашение."),
        ]);
        let titles = |q: &str| -> Vec<String> {
            search(&conn, q, 10, 0)
                .unwrap()
                .into_iter()
                .map(|s| s.shown.item.title)
                .collect()
        };
        assert_eq!(titles("etude"), ["Étude franco-kazakhe", "Visite à Astana"]);
        assert_eq!(titles("казахстан"), ["КАЗАХСТАН и Франция"]);
        assert!(titles("\"NEAR(* AND").is_empty(), "syntax typed is words");
        assert_eq!(search(&conn, "etude", 1, 1).unwrap().len(), 1);
    }
}

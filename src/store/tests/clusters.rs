//! The store against an in-memory database: which items become one story.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

use crate::classify::Decision;
use crate::dedup::Policy;
use crate::item::Item;
use crate::store::clusters::list_stories;
use crate::store::queries::{ingest_with, FetchRecord};
use crate::store::schema::migrate;

pub(super) fn database() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    conn
}

pub(super) fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(hour.into())
}

/// A relevant item of `source`, dated `hour` hours into March.
pub(super) fn story(
    source: &str,
    n: u32,
    title: &str,
    link: &str,
    lang: &str,
    hour: u32,
) -> (Item, Decision) {
    let guid = format!("{source}-{n}");
    let item = Item {
        key: Item::key_for(source, Some(&guid), None, title, None),
        source_id: source.into(),
        guid: Some(guid),
        link: Some(link.into()),
        title: title.into(),
        summary: String::new(),
        content_html: None,
        published: Some(at(hour)),
        updated: None,
        authors: Vec::new(),
        categories: Vec::new(),
        lang: Some(lang.into()),
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
}

/// A successful fetch at `at(n)`.
pub(super) fn fetched_at(n: u32) -> FetchRecord {
    FetchRecord {
        status: "ok",
        error_kind: None,
        error: None,
        attempted_at: at(n),
        validators: None,
        consecutive_failures: 0,
        next_attempt: None,
        suggested_url: None,
    }
}

/// Ingests each item as its own fetch, in order, and returns the published titles with
/// how many copies each carries, newest first.
fn published(items: Vec<(Item, Decision)>, policy: &Policy) -> Vec<(String, usize)> {
    let mut conn = database();
    for (n, item) in items.into_iter().enumerate() {
        let source = item.0.source_id.clone();
        let record = fetched_at(n as u32);
        ingest_with(&mut conn, &source, &[item], &record, policy).unwrap();
    }
    list_stories(&conn, None, 100)
        .unwrap()
        .into_iter()
        .map(|s| (s.shown.item.title, s.duplicates.len()))
        .collect()
}

const URANIUM: &str = "France and Kazakhstan sign uranium deal";

#[test]
fn copies_across_sources_are_one_story_and_the_first_seen_is_shown() {
    let shown = published(
        vec![
            story("a", 1, URANIUM, "https://a.example/1", "en", 10),
            story(
                "b",
                1,
                "Kazakhstan and France sign uranium deal",
                "https://b.example/1",
                "en",
                8,
            ),
            story(
                "c",
                1,
                "Unrelated",
                "https://www.a.example/1/?utm_campaign=x",
                "en-GB",
                11,
            ),
        ],
        &Policy::default(),
    );
    assert_eq!(shown, [(URANIUM.to_string(), 2)]);
}

#[test]
fn one_sources_recurring_headline_is_several_stories_unless_the_link_is_the_same() {
    let shown = published(
        vec![
            story(
                "a",
                1,
                "Weekly digest: France and Kazakhstan",
                "https://a.example/d1",
                "en",
                1,
            ),
            story(
                "a",
                2,
                "Weekly digest: France and Kazakhstan",
                "https://a.example/d2",
                "en",
                9,
            ),
            story(
                "a",
                3,
                "Digest, corrected",
                "https://a.example/d2#update",
                "en",
                10,
            ),
        ],
        &Policy::default(),
    );
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[0].1, 1, "same link, one story: {shown:?}");
}

#[test]
fn other_languages_far_dates_and_lower_similarity_are_other_stories() {
    let shown = published(
        vec![
            story("a", 1, URANIUM, "https://a.example/1", "en", 0),
            story("b", 1, URANIUM, "https://b.example/1", "fr", 1),
            story("c", 1, URANIUM, "https://c.example/1", "en", 24 * 10),
            story(
                "d",
                1,
                "France and Kazakhstan sign rail deal",
                "https://d.example/1",
                "en",
                2,
            ),
        ],
        &Policy::default(),
    );
    assert_eq!(shown.len(), 4, "{shown:?}");
    assert!(shown.iter().all(|(_, copies)| *copies == 0), "{shown:?}");
}

#[test]
fn the_policy_sets_the_threshold_and_the_window() {
    let items = || {
        vec![
            story("a", 1, URANIUM, "https://a.example/1", "en", 0),
            story(
                "b",
                1,
                "France and Kazakhstan sign rail deal",
                "https://b.example/1",
                "en",
                30,
            ),
        ]
    };
    let loose = Policy {
        title_threshold: 0.5,
        window: Duration::from_secs(48 * 3600),
    };
    assert_eq!(published(items(), &loose).len(), 1);
    let narrow = Policy {
        window: Duration::from_secs(24 * 3600),
        ..loose
    };
    assert_eq!(published(items(), &narrow).len(), 2);
}

#[test]
fn keys_of_items_stored_before_the_dedup_migration_are_filled_in() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(include_str!("../../../migrations/0001_init.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute(
        "INSERT INTO items (key, source_id, link, title, summary, first_seen, last_seen,
             sort_date, content_hash, relevant, score, decision)
         VALUES ('k', 's', 'http://www.ex.org/a/?utm_source=x', 'A title', '', 't', 't', 't',
             'h', 0, 0, '{}')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let (url, signature): (String, String) = conn
        .query_row(
            "SELECT canonical_url, title_signature FROM items",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(url, "https://ex.org/a");
    assert_eq!(
        signature,
        crate::dedup::TitleSignature::of("A title").to_string()
    );
}

#[test]
fn signatures_of_the_older_form_are_recomputed_by_the_migration() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(include_str!("../../../migrations/0001_init.sql"))
        .unwrap();
    conn.execute_batch(include_str!("../../../migrations/0002_dedup.sql"))
        .unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    conn.execute(
        "INSERT INTO items (key, source_id, link, title, summary, first_seen, last_seen,
             sort_date, content_hash, relevant, score, decision, canonical_url,
             title_signature)
         VALUES ('k', 's', 'https://ex.org/a', 'Uranium supply deal signed', '', 't', 't',
             't', 'h', 0, 0, '{}', 'https://ex.org/a', 't1:1,2,3')",
        [],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let signature: String = conn
        .query_row("SELECT title_signature FROM items", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        signature,
        crate::dedup::TitleSignature::of("Uranium supply deal signed").to_string()
    );
    assert!(signature.starts_with("t2:"), "{signature}");
}

/// `(head, titles)`, heads in order.
pub(super) type HeadCounts = Vec<(i64, i64)>;

/// Each head's count in `title_head_counts` beside the `title_blocks` rows it counts
/// (kind 3 `Head`, `key = head`), both read back, heads in order.
pub(super) fn head_counts_and_rows(conn: &Connection) -> (HeadCounts, HeadCounts) {
    let read = |sql: &str| -> HeadCounts {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    (
        read("SELECT head, titles FROM title_head_counts WHERE titles > 0 ORDER BY head"),
        read(
            "SELECT head, count(*) FROM title_blocks WHERE kind = 3 AND key = head
             GROUP BY head ORDER BY head",
        ),
    )
}

/// The count of the word's head among `counts`, if it has one.
pub(super) fn titles_holding(counts: &HeadCounts, word: &str) -> Option<i64> {
    let head = crate::dedup::blocking::head(word);
    counts.iter().find(|(h, _)| *h == head).map(|c| c.1)
}

#[test]
fn the_kept_rarity_counts_are_the_rows_they_count_through_ingest_edit_and_purge() {
    let mut conn = database();
    let policy = Policy::default();
    let titles = [
        URANIUM,
        "France and Kazakhstan sign uranium deal in Astana",
        "Macron meets Tokayev to discuss trade",
        "Kazakhstan and France: a uranium deal signed",
    ];
    for (n, title) in titles.iter().enumerate() {
        let source = format!("s{}", n % 3);
        let link = format!("https://{source}.example/{n}");
        let feed = [story(&source, n as u32, title, &link, "en", n as u32)];
        let record = fetched_at(n as u32);
        ingest_with(&mut conn, &source, &feed, &record, &policy).unwrap();
    }
    let (counts, rows) = head_counts_and_rows(&conn);
    assert!(!counts.is_empty(), "the titles were indexed");
    // "uranium" is in three titles, "macron" in one.
    assert_eq!(titles_holding(&counts, "uranium"), Some(3));
    assert_eq!(counts, rows, "after ingest");

    // A purge deletes a source's items with their rows: the counts follow.
    crate::store::retention::purge_source(&mut conn, "s0").unwrap();
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(counts, rows, "after a purge");
    assert_eq!(
        titles_holding(&counts, "uranium"),
        Some(1),
        "two of the three uranium titles were s0's"
    );
}

/// A word's spellings stay while a title holds its head and go with the last one.
#[test]
fn a_purge_forgets_the_spellings_of_words_no_title_holds() {
    let mut conn = database();
    let policy = Policy::default();
    for (n, (source, title)) in [
        ("s0", "Macron meets Tokayev"),
        ("s1", "Tokayev visits Astana"),
    ]
    .into_iter()
    .enumerate()
    {
        let link = format!("https://{source}.example/{n}");
        let feed = [story(source, n as u32, title, &link, "en", n as u32)];
        ingest_with(&mut conn, source, &feed, &fetched_at(n as u32), &policy).unwrap();
    }
    let spelled = |conn: &Connection, word: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM title_spellings WHERE head = ?1",
            [crate::dedup::blocking::head(word)],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(spelled(&conn, "macron") > 0 && spelled(&conn, "tokayev") > 0);
    crate::store::retention::purge_source(&mut conn, "s0").unwrap();
    assert_eq!(spelled(&conn, "macron"), 0, "only s0's title held it");
    assert!(spelled(&conn, "tokayev") > 0, "s1's title holds it");
}

//! A database made by an older entente opens, migrates and answers as a new one.

use rusqlite::Connection;

use crate::store::queries::*;
use crate::store::{lookup, schema, Store};

/// A database file at the schema just before the named migration, as the entente of
/// that time made it (in WAL mode, as the store opens it). By name: later migrations
/// come after it in the list.
fn database_before(path: &std::path::Path, migration: &str) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let before = schema::migrations_before(migration);
    for sql in schema::first_migrations(before) {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", before).unwrap();
    conn
}

/// A database as entente made it before migration 0011 (no `url_hash`): the schema of main before this branch, with the
/// rows its ingest wrote: one irrelevant item, one relevant, one without a link.
fn database_before_0011(path: &std::path::Path) {
    let conn = database_before(path, "0011_small_index_keys");
    conn.execute_batch(
        "INSERT INTO sources (id, url, name) VALUES ('s', 'https://s.example/feed', 'S');
         INSERT INTO items (key, source_id, guid, link, title, summary, first_seen, last_seen,
             sort_date, content_hash, relevant, score, decision)
         VALUES
           ('k1', 's', 'g1', 'https://s.example/one', 'One', 'one', '2026-03-01T00:00:00Z',
            '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 'h1', 0, 0,
            '{\"threshold\":1.0,\"topics\":[]}'),
           ('k2', 's', 'g2', 'https://s.example/two', 'Two', 'two', '2026-03-01T00:00:00Z',
            '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 'h2', 1, 2,
            '{\"threshold\":1.0,\"topics\":[]}'),
           ('k3', 's', 'g3', NULL, 'Three', 'three', '2026-03-01T00:00:00Z',
            '2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z', 'h3', 0, 0,
            '{\"threshold\":1.0,\"topics\":[]}');",
    )
    .unwrap();
}

#[test]
fn a_database_made_before_0011_finds_its_items_by_link_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    database_before_0011(&path);

    let store = Store::open(&path).unwrap();
    let (one, two, tracked) = store
        .read_blocking(|conn| {
            Ok((
                lookup::find(conn, "https://s.example/one")?,
                lookup::find(conn, "https://s.example/two")?,
                // Its canonical link, stored before the upgrade without one.
                lookup::find(conn, "http://www.s.example/two/?utm_source=feed")?,
            ))
        })
        .unwrap();
    let keys = [&one, &two, &tracked].map(|found| found.item.key.clone());
    assert_eq!(keys, ["k1", "k2", "k2"]);
    let missing = store.read_blocking(|conn| lookup::find(conn, "https://s.example/none"));
    assert!(missing.is_err(), "an unknown link is found: {missing:?}");
    drop(store);

    let conn = Connection::open(&path).unwrap();
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, schema::known_version());
    let unhashed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE link IS NOT NULL AND url_hash IS NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(unhashed, 0, "every stored link has its hash");
    // The newest first, whatever the index the listing walks.
    let all = list_items(
        &conn,
        &ItemFilter {
            include_irrelevant: true,
            ..Default::default()
        },
    )
    .unwrap();
    let keys: Vec<&str> = all.iter().map(|s| s.item.key.as_str()).collect();
    assert_eq!(keys, ["k3", "k2", "k1"]);
}

/// A database as main made it before migration 0013: no `title_head_counts` and no
/// triggers keeping it, with relevant items already indexed under their blocking keys.
#[test]
fn a_database_made_before_0013_gets_the_rarity_counts_of_its_indexed_titles() {
    use super::clusters::{at, head_counts_and_rows, story};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    {
        let conn = database_before(&path, "0013_title_head_counts");
        // What main's ingest indexed: the blocking rows of two relevant titles, written
        // as its writer wrote them (the rows of `dedup::blocking::blocks`), under ids
        // apart from those the ingest below gives.
        let mut insert = conn
            .prepare("INSERT OR IGNORE INTO title_blocks (kind, key, head, item_id) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for (id, title) in [
            (101, "France and Kazakhstan sign uranium deal"),
            (102, "Uranium deal for Kazakhstan"),
        ] {
            let signature = crate::dedup::TitleSignature::of(title);
            let order: Vec<usize> = (0..signature.words().len()).collect();
            for block in crate::dedup::blocking::blocks(&signature, &order, 0.7) {
                insert
                    .execute(rusqlite::params![
                        block.kind.code(),
                        block.key,
                        block.head,
                        id
                    ])
                    .unwrap();
            }
        }
    }

    let store = Store::open(&path).unwrap();
    drop(store);
    let mut conn = Connection::open(&path).unwrap();
    let (counts, rows) = head_counts_and_rows(&conn);
    let kazakhstan = crate::dedup::blocking::head("kazakhstan");
    assert_eq!(
        counts
            .iter()
            .find(|(head, _)| *head == kazakhstan)
            .map(|c| c.1),
        Some(2),
        "both titles hold the word: {counts:?}"
    );
    assert_eq!(counts, rows);
    // And the upgraded database keeps them as it ingests.
    let feed = [story(
        "s",
        1,
        "Kazakhstan uranium deal signed",
        "https://s.example/1",
        "en",
        1,
    )];
    let record = FetchRecord {
        status: "ok",
        error_kind: None,
        error: None,
        attempted_at: at(1),
        validators: None,
        consecutive_failures: 0,
        next_attempt: None,
        suggested_url: None,
    };
    ingest_with(
        &mut conn,
        "s",
        &feed,
        &record,
        &crate::dedup::Policy::default(),
    )
    .unwrap();
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(
        counts
            .iter()
            .find(|(head, _)| *head == kazakhstan)
            .map(|c| c.1),
        Some(3)
    );
    assert_eq!(counts, rows);
}

/// A database as main made it before migration 0014, whose inserts into `items` fired
/// three triggers (search, blocking queue, future dates): after the upgrade the
/// triggers are gone and an ingest does what they did, once.
#[test]
fn a_database_made_before_0014_searches_queues_and_dates_what_it_ingests_after() {
    use super::clusters::story;
    use crate::store::published;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    {
        let conn = database_before(&path, "0014_inserts_without_triggers");
        // A relevant item as main's writer stored it: its search row by the trigger.
        conn.execute_batch(
            "INSERT INTO sources (id, url, name) VALUES ('s', 'https://s.example/feed', 'S');
             INSERT INTO items (key, source_id, guid, link, title, summary, first_seen,
                 last_seen, sort_date, content_hash, relevant, score, decision)
             VALUES ('k1', 's', 'g1', 'https://s.example/old', 'Astana zephyr treaty',
                 'old', '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z',
                 '2026-03-01T00:00:00Z', 'h1', 1, 2, '{\"threshold\":1.0,\"topics\":[]}');",
        )
        .unwrap();
    }

    let store = Store::open(&path).unwrap();
    let now = chrono::Utc::now();
    // Dated three days ahead: inside the margin the program keeps, more than the hour
    // the database allows, so it sorts as first seen.
    let (mut early, decision) = story(
        "s",
        2,
        "Astana zephyr treaty signed",
        "https://s.example/new",
        "en",
        1,
    );
    early.published = Some(now + chrono::TimeDelta::days(3));
    let (irrelevant, mut no) = story("s", 3, "Astana weather", "https://s.example/w", "en", 1);
    no.relevant = false;
    let record = FetchRecord {
        status: "ok",
        error_kind: None,
        error: None,
        attempted_at: now,
        validators: None,
        consecutive_failures: 0,
        next_attempt: None,
        suggested_url: None,
    };
    let summary = store
        .ingest_blocking(
            "s",
            vec![(early, decision), (irrelevant, no)],
            record,
            crate::dedup::Policy::default(),
        )
        .unwrap();
    assert_eq!((summary.new, summary.new_relevant), (2, 1));
    // Through the published search, as a visitor asks.
    let stories = store
        .read_blocking(|conn| published::search(conn, "zephyr", 10, 0))
        .unwrap();
    assert!(!stories.is_empty(), "nothing found");
    drop(store);

    let conn = Connection::open(&path).unwrap();
    let matched: Vec<String> = conn
        .prepare(
            "SELECT i.key FROM item_search s JOIN items i ON i.id = s.rowid
             WHERE item_search MATCH 'zephyr' ORDER BY i.id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let new_key: String = conn
        .query_row("SELECT key FROM items WHERE guid = 's-2'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        matched,
        ["k1".to_string(), new_key],
        "both relevant items are searched, once each"
    );
    let searched: i64 = conn
        .query_row("SELECT count(*) FROM item_search", [], |r| r.get(0))
        .unwrap();
    assert_eq!(searched, 2, "the irrelevant item has no search row");
    let (sort_date, first_seen): (String, String) = conn
        .query_row(
            "SELECT sort_date, first_seen FROM items WHERE guid = 's-2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        sort_date, first_seen,
        "a date days ahead sorts as first seen"
    );
    // Queued, then indexed under its blocking keys before the placement.
    let blocks: i64 = conn
        .query_row(
            "SELECT count(*) FROM title_blocks b JOIN items i ON i.id = b.item_id
             WHERE i.guid = 's-2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(blocks > 0, "the new relevant title is indexed");
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'items'
             AND sql LIKE '%AFTER INSERT ON items%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(triggers.is_empty(), "insert triggers left: {triggers:?}");
}

/// A database as main made it before migration 0015 (no index of the relevant items'
/// compared columns), with a story already stored: after the upgrade every relevant
/// item is in the index, and a new copy of the story joins its cluster through it.
#[test]
fn a_database_made_before_0015_indexes_its_relevant_items_and_places_new_copies() {
    use super::clusters::story;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    let record = super::clusters::fetched_at;
    let policy = crate::dedup::Policy::default();
    {
        let mut conn = database_before(&path, "0015_relevant_candidates");
        // Today's ingest writes the spellings of 0016 too: its table, so that it can
        // write the old rows (0016 creates it only if it is not there).
        conn.execute_batch(SPELLINGS_TABLE).unwrap();
        let old = [
            story(
                "a",
                1,
                "Kazakhstan and France sign a uranium deal",
                "https://a.example/1",
                "en",
                1,
            ),
            story(
                "a",
                2,
                "Astana hosts a football festival",
                "https://a.example/2",
                "en",
                2,
            ),
        ];
        ingest_with(&mut conn, "a", &old, &record(2), &policy).unwrap();
        let indexed: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'items_relevant_candidates'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 0, "the schema before 0015 has no such index");
    }

    drop(Store::open(&path).unwrap());
    let mut conn = Connection::open(&path).unwrap();
    let in_index: i64 = conn
        .query_row(
            "SELECT count(*) FROM items INDEXED BY items_relevant_candidates WHERE relevant = 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(in_index, 2, "both stored relevant items are indexed");
    let copy = "Kazakhstan and France sign a uranium deal - Reuters";
    let (copy_root, first) = ingest_copy(&mut conn, copy, "a-1");
    assert_eq!(copy_root, Some(first), "the copy joins the stored story");
}

/// Ingests `title` as source b's item at `at(3)` and returns its `duplicate_of` beside
/// the id of source a's item of `guid`.
fn ingest_copy(conn: &mut Connection, title: &str, guid: &str) -> (Option<i64>, i64) {
    let copy = [super::clusters::story(
        "b",
        1,
        title,
        "https://b.example/1",
        "en",
        3,
    )];
    let record = super::clusters::fetched_at(3);
    let policy = crate::dedup::Policy::default();
    ingest_with(conn, "b", &copy, &record, &policy).unwrap();
    conn.query_row(
        "SELECT (SELECT duplicate_of FROM items WHERE source_id = 'b'),
                (SELECT id FROM items WHERE source_id = 'a' AND guid = ?1)",
        [guid],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .unwrap()
}

/// The one number a query answers.
fn count_of(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// How many triggers `title_blocks` has.
const TITLE_BLOCKS_TRIGGERS: &str =
    "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'title_blocks'";

/// The rarity counts of the rows there, as 0013 counts them: for an older database
/// that today's ingest wrote to while the triggers before 0017 counted too.
const RECOUNT: &str = "DELETE FROM title_head_counts;
    INSERT INTO title_head_counts (head, titles)
        SELECT head, count(*) FROM title_blocks WHERE kind = 3 AND key = head GROUP BY head";

/// Migration 0016's table, for an older database that today's ingest writes to.
const SPELLINGS_TABLE: &str = "CREATE TABLE title_spellings (
    key INTEGER NOT NULL, head INTEGER NOT NULL, PRIMARY KEY (key, head)) WITHOUT ROWID";

/// A database as main made it before migration 0016, its relevant titles indexed with
/// a row for each deletion key of each word: after the upgrade those rows are gone,
/// their keys are the words' spellings, the counts still count the rows, and a new
/// title whose one-edit words share no head pair with a stored one still joins it.
#[test]
fn a_database_made_before_0016_keeps_its_spellings_once_a_word() {
    use super::clusters::{head_counts_and_rows, story};
    use crate::dedup::blocking::{self, Kind};
    use crate::dedup::TitleSignature;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    let record = super::clusters::fetched_at;
    let policy = crate::dedup::Policy::default();
    let titles = ["Kassym Tokayev", "Tokayev receives Macron in Astana"];
    {
        let mut conn = database_before(&path, "0016_title_spellings");
        conn.execute_batch(SPELLINGS_TABLE).unwrap();
        let old: Vec<_> = titles
            .iter()
            .enumerate()
            .map(|(n, title)| {
                let link = format!("https://a.example/{n}");
                story("a", n as u32, title, &link, "en", 1)
            })
            .collect();
        ingest_with(&mut conn, "a", &old, &record(2), &policy).unwrap();
        // As main's writer indexed them: beside each word's head, its deletion keys.
        conn.execute_batch("DROP TABLE title_spellings").unwrap();
        let signatures: Vec<(i64, String)> = conn
            .prepare("SELECT id, title_signature FROM items ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (id, signature) in signatures {
            let signature: TitleSignature = signature.parse().unwrap();
            for word in signature.words() {
                for key in blocking::fuzzy_keys(word) {
                    conn.execute(
                        "INSERT OR IGNORE INTO title_blocks (kind, key, head, item_id)
                         VALUES (3, ?1, ?2, ?3)",
                        rusqlite::params![key, blocking::head(word), id],
                    )
                    .unwrap();
                }
            }
        }
        // As main counted them: 0013's triggers, still there, counted beside today's code.
        conn.execute_batch(RECOUNT).unwrap();
    }
    let old_counts = {
        let conn = Connection::open(&path).unwrap();
        head_counts_and_rows(&conn).0
    };

    drop(Store::open(&path).unwrap());
    let mut conn = Connection::open(&path).unwrap();
    let count = |sql: &str| count_of(&conn, sql);
    assert_eq!(
        count("SELECT count(*) FROM title_blocks WHERE kind = 3 AND key != head"),
        0,
        "no deletion key left in a title's rows"
    );
    let mut expected_rows = 0;
    for title in titles {
        let signature = TitleSignature::of(title);
        let order: Vec<usize> = (0..signature.words().len()).collect();
        expected_rows += blocking::blocks(&signature, &order, 0.7).len();
        for spelling in blocking::spellings(&signature) {
            let known: i64 = conn
                .query_row(
                    "SELECT count(*) FROM title_spellings WHERE key = ?1 AND head = ?2",
                    rusqlite::params![spelling.key, spelling.head],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(known, 1, "{title}: {spelling:?}");
        }
    }
    assert_eq!(
        count("SELECT count(*) FROM title_blocks"),
        expected_rows as i64,
        "the rows of today's index, no more"
    );
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(counts, old_counts, "the counts do not move");
    assert_eq!(counts, rows);
    // Kasym/Kassym and Tokaev/Tokayev: no head pair in common, found by a spelling.
    let tokayev = blocking::head("tokayev");
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM title_blocks WHERE kind = {} AND key = {tokayev}",
            Kind::Head.code()
        )),
        2
    );
    let (copy_root, first) = ingest_copy(&mut conn, "Kasym Tokaev", "a-0");
    assert_eq!(
        copy_root,
        Some(first),
        "the respelled copy joins the stored story"
    );
}

/// A database as main made it before migration 0017, its rarity counts kept by
/// triggers on `title_blocks`: after the upgrade no trigger is left on the table, and
/// the writer keeps the counts itself through an ingest and a purge.
#[test]
fn a_database_made_before_0017_keeps_its_rarity_counts_without_triggers() {
    use super::clusters::{head_counts_and_rows, story, titles_holding};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    let record = super::clusters::fetched_at;
    let policy = crate::dedup::Policy::default();
    {
        let mut conn = database_before(&path, "0017_head_counts_in_code");
        let old = [
            story(
                "a",
                1,
                "France and Kazakhstan sign uranium deal",
                "https://a.example/1",
                "en",
                1,
            ),
            story(
                "a",
                2,
                "Uranium deal for Kazakhstan",
                "https://a.example/2",
                "en",
                2,
            ),
        ];
        ingest_with(&mut conn, "a", &old, &record(2), &policy).unwrap();
        conn.execute_batch(RECOUNT).unwrap();
        assert_eq!(
            count_of(&conn, TITLE_BLOCKS_TRIGGERS),
            2,
            "main's schema counts by triggers"
        );
    }

    drop(Store::open(&path).unwrap());
    let mut conn = Connection::open(&path).unwrap();
    assert_eq!(
        count_of(&conn, TITLE_BLOCKS_TRIGGERS),
        0,
        "no trigger left on title_blocks"
    );
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(counts, rows, "after the upgrade");
    let new = [story(
        "b",
        1,
        "Kazakhstan uranium deal signed",
        "https://b.example/1",
        "en",
        3,
    )];
    ingest_with(&mut conn, "b", &new, &record(3), &policy).unwrap();
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(titles_holding(&counts, "kazakhstan"), Some(3), "{counts:?}");
    assert_eq!(counts, rows, "after an ingest");
    crate::store::retention::purge_source(&mut conn, "a").unwrap();
    let (counts, rows) = head_counts_and_rows(&conn);
    assert_eq!(titles_holding(&counts, "kazakhstan"), Some(1));
    assert_eq!(counts, rows, "after a purge");
}

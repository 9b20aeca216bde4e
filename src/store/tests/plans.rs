//! Every query of the ingest, serve and listing paths uses an index: the SQL that the
//! store's functions actually run over a populated database is traced, and SQLite's
//! `EXPLAIN QUERY PLAN` of each must not read the whole `items` table. A walk along an
//! index in its order, which a `LIMIT` stops (`SCAN i USING INDEX …`), is what a
//! listing should do and passes; a bare `SCAN items` fails.

use std::collections::BTreeSet;
use std::sync::Mutex;

use chrono::{Duration, TimeZone, Utc};
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use rusqlite::Connection;

use crate::classify::Decision;
use crate::dedup::Policy;
use crate::item::Item;
use crate::store::queries::*;
use crate::store::Store;
use crate::store::{clusters, lookup, published, retention};

static TRACED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Each statement as it starts, with its parameters' values.
fn traced(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(statement, sql) = event {
        let sql = statement.expanded_sql().unwrap_or_else(|| sql.to_string());
        TRACED.lock().unwrap().push(sql);
    }
}

fn item(source: usize, n: usize, relevant: bool) -> (Item, Decision) {
    let source_id = format!("s{source}");
    let guid = format!("g{source}-{n}");
    // Every tenth relevant item is a wire story that other sources carry too.
    let (title, link) = if relevant && n.is_multiple_of(10) {
        (
            format!(
                "France and Kazakhstan sign uranium agreement number {}",
                n / 10
            ),
            format!("https://wire.example/{}", n / 10),
        )
    } else {
        (
            format!("Story {n} from source {source} about the regional weather"),
            format!("https://s{source}.example/{n}"),
        )
    };
    let item = Item {
        key: Item::key_for(&source_id, Some(&guid), None, &title, None),
        source_id,
        guid: Some(guid),
        link: Some(link),
        title,
        summary: "A summary of the story.".into(),
        content_html: crate::item::ItemHtml::sanitized("<p>A summary of the story.</p>", None),
        published: Some(
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap() + Duration::minutes(n as i64 * 7),
        ),
        updated: None,
        authors: vec![],
        categories: vec![],
        lang: Some("en".into()),
    };
    let decision = Decision {
        relevant,
        score: if relevant { 3.0 } else { 0.0 },
        threshold: 1.0,
        topics: if relevant {
            vec!["energy".into()]
        } else {
            vec![]
        },
        evidence: vec![],
        parts: Default::default(),
    };
    (item, decision)
}

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

/// The plan lines of `sql` that read the whole items table (or the whole index of
/// title blocking keys, which grows with the relevant items, or of their words' spellings).
fn full_scans(conn: &Connection, sql: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")) else {
        return vec![];
    };
    let details: Vec<String> = stmt
        .query_map([], |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    details
        .into_iter()
        .filter(|d| {
            let words: Vec<&str> = d.split_whitespace().collect();
            words.first() == Some(&"SCAN")
                && ["items", "i", "m", "r", "title_blocks", "title_spellings"]
                    .contains(&words.get(1).copied().unwrap_or(""))
                && !d.contains("USING")
        })
        .collect()
}

#[test]
fn every_query_of_ingest_serve_and_listing_uses_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entente.db");
    drop(Store::open(&path).unwrap());
    let mut conn = Connection::open(&path).unwrap();
    let sources: Vec<(String, String, String)> = (0..20)
        .map(|s| {
            (
                format!("s{s}"),
                format!("https://s{s}.example/feed"),
                format!("S{s}"),
            )
        })
        .collect();
    sync_sources(&mut conn, &sources).unwrap();
    let policy = Policy::default();
    for source in 0..20 {
        let feed: Vec<_> = (0..100)
            .map(|n| item(source, n, n.is_multiple_of(5)))
            .collect();
        ingest_with(&mut conn, &format!("s{source}"), &feed, &record(), &policy).unwrap();
    }

    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(traced));
    // Ingest: new items (relevant ones placed in clusters), an edited one, unchanged ones.
    let mut feed: Vec<_> = (0..120).map(|n| item(3, n, n.is_multiple_of(5))).collect();
    feed[1].0.title.push_str(", updated");
    feed[2].1 = item(3, 2, true).1;
    ingest_with(&mut conn, "s3", &feed, &record(), &policy).unwrap();
    record_fetch(&mut conn, "s4", &record()).unwrap();
    source_state(&conn, "s5").unwrap();
    // Serve: every published feed and the front page's sections.
    clusters::list_stories(&conn, None, 50).unwrap();
    clusters::list_stories(&conn, Some("energy"), 5).unwrap();
    // The per-language feeds and pages, and search.
    published::list_stories_in(&conn, None, "en", 50).unwrap();
    published::list_stories_in(&conn, Some("energy"), "fr", 5).unwrap();
    published::search(&conn, "uranium agreement", 20, 0).unwrap();
    // Listings and lookups; what every command and page reads of the sources.
    list_sources(&conn).unwrap();
    lookup::source_identities(&conn).unwrap();
    published::outlets(&conn).unwrap();
    list_items(&conn, &ItemFilter::default()).unwrap();
    list_items(
        &conn,
        &ItemFilter {
            topic: Some("energy".into()),
            include_irrelevant: false,
            limit: Some(20),
        },
    )
    .unwrap();
    list_items(
        &conn,
        &ItemFilter {
            include_irrelevant: true,
            limit: Some(20),
            ..Default::default()
        },
    )
    .unwrap();
    let stored = find_item(&conn, "g7-5").unwrap();
    find_item(&conn, &stored.id.to_string()).unwrap();
    find_item(&conn, &stored.item.key).unwrap();
    find_item(&conn, stored.item.link.as_deref().unwrap()).unwrap();
    // The operator's lookups (`explain`, `items`): a link with tracking parameters, the
    // filtered listings, a cluster.
    let loose = lookup::find(&conn, "https://www.s7.example/5?utm_source=x").unwrap();
    lookup::cluster(&conn, &loose).unwrap();
    let wire = lookup::find(&conn, "https://wire.example/3").unwrap();
    lookup::cluster(&conn, &wire).unwrap();
    for listing in [
        lookup::Listing {
            limit: Some(20),
            ..Default::default()
        },
        lookup::Listing {
            topic: Some("energy".into()),
            limit: Some(20),
            ..Default::default()
        },
        lookup::Listing {
            source: Some("s4".into()),
            include_irrelevant: true,
            limit: Some(20),
            ..Default::default()
        },
    ] {
        lookup::list(&conn, &listing).unwrap();
    }
    // Retag and retention.
    retag(&mut conn, 500, &policy, item_decision, |_, _| {}).unwrap();
    delete_older_than(&conn, Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap()).unwrap();
    let retention = retention::Policy {
        relevant: Some(std::time::Duration::from_secs(86_400)),
        irrelevant: std::time::Duration::from_secs(86_400),
        max_per_topic: None,
        feed_items: 5,
    };
    let pruned = retention::prune(
        &mut conn,
        &retention,
        &["energy".to_string()],
        Utc.with_ymd_and_hms(2026, 3, 9, 0, 0, 0).unwrap(),
    )
    .unwrap();
    assert!(pruned.deleted > 0, "the prune deleted items");
    // A new copy of a story after the prune: its candidates through the blocking keys.
    let copy = vec![item(7, 200, true)];
    ingest_with(&mut conn, "s7", &copy, &record(), &policy).unwrap();
    conn.trace_v2(TraceEventCodes::empty(), None);

    // The check itself sees a full scan.
    assert!(!full_scans(
        &conn,
        "SELECT id FROM items i WHERE i.relevant AND i.score > 1"
    )
    .is_empty());
    let statements: BTreeSet<String> = TRACED.lock().unwrap().drain(..).collect();
    assert!(statements.len() > 20, "the paths ran: {statements:#?}");
    let scans: Vec<(String, Vec<String>)> = statements
        .iter()
        .filter(|sql| !sql.trim_start().starts_with("--"))
        .map(|sql| (sql.clone(), full_scans(&conn, sql)))
        .filter(|(_, scans)| !scans.is_empty())
        .collect();
    assert!(scans.is_empty(), "queries that read every item: {scans:#?}");

    // The queue of titles to index is read from the queue: a walk of every relevant
    // item along one of their indexes passes the check above (it is `USING INDEX`), and
    // it was what each placement did (BENCHMARKS.md, branch writer5).
    let plan = plan_of(&conn, clusters::PENDING_SIGNATURES);
    assert!(
        plan.first().is_some_and(|step| step == "SCAN p"),
        "the queue drives the read: {plan:?}"
    );

    // A placement's title candidates are read from the index of the relevant items'
    // compared columns alone: a row read is a page of the table for each of a story's
    // copies (BENCHMARKS.md, branch history6).
    let candidate = clusters::TITLE_CANDIDATE
        .replace("?1", "1")
        .replace("?2", "'2026-03-01T00:00:00Z'")
        .replace("?3", "'2026-03-09T00:00:00Z'");
    let plan = plan_of(&conn, &candidate);
    assert!(
        plan.len() == 1
            && plan[0].starts_with("SEARCH items USING COVERING INDEX items_relevant_candidates"),
        "the candidate is read from the index alone: {plan:?}"
    );
}

/// The `EXPLAIN QUERY PLAN` lines of `sql`, in order.
fn plan_of(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let details = stmt.query_map([], |row| row.get::<_, String>(3)).unwrap();
    details.collect::<Result<_, _>>().unwrap()
}

/// Retag's classifier here: every fifth item relevant, as stored, and item 1 too.
fn item_decision(item: &Item) -> Decision {
    let n: usize = item
        .guid
        .as_deref()
        .unwrap()
        .rsplit('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let source: usize = item.source_id[1..].parse().unwrap();
    self::item(source, n, n.is_multiple_of(5) || n == 1).1
}

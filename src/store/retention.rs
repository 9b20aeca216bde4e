//! Retention: which stored items the periodic prune deletes, a removed source's purge,
//! and giving the freed pages back to the file system.
//!
//! The model, in the order the rules apply:
//! - whatever a published feed shows now is kept: the newest `feed_items` stories of
//!   every topic and of `all`, each with every copy in its cluster ("Also reported by");
//! - an irrelevant item goes once it has not been seen in a fetch for `irrelevant`
//!   (kept that long so that a rule change and a retag can still find it);
//! - a relevant item goes once both its date and its last sighting are older than
//!   `relevant` (an item still in its source's feed would come back as new at the next
//!   fetch), or once it is beyond the newest `max_per_topic` of each of its topics.
//!
//! A cluster that loses its root is handed to its earliest surviving member. The caller
//! tells the published files' cache that they may have changed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Transaction};

use super::clusters::SHOWN_IN_TOPIC;
use super::queries::timestamp;
use super::StoreError;

/// What to delete; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub relevant: Option<Duration>,
    pub irrelevant: Duration,
    pub max_per_topic: Option<usize>,
    /// How many stories each published feed shows: those are never deleted.
    pub feed_items: usize,
}

/// What a prune did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneSummary {
    pub deleted: usize,
}

/// Deletes what `policy` no longer keeps, in one transaction. `topics` are the
/// published topics' ids.
pub fn prune(
    conn: &mut Connection,
    policy: &Policy,
    topics: &[String],
    now: DateTime<Utc>,
) -> Result<PruneSummary, StoreError> {
    let tx = conn.transaction()?;
    create_scratch(&tx)?;
    keep_published(&tx, topics, policy.feed_items)?;
    let irrelevant_cutoff = timestamp(now - to_chrono(policy.irrelevant));
    // `relevant = 0` and `relevant = 1`, not `NOT relevant` and `relevant`: only the
    // comparisons match the partial indexes (`items_irrelevant_by_last_seen`,
    // `items_relevant_by_date`), so a prune reads what it deletes, not every item.
    tx.execute(
        "INSERT OR IGNORE INTO temp.doomed (id)
         SELECT id FROM items WHERE relevant = 0 AND last_seen < ?1
           AND COALESCE(duplicate_of, id) NOT IN (SELECT root FROM temp.kept_roots)",
        [&irrelevant_cutoff],
    )?;
    if let Some(age) = policy.relevant {
        let cutoff = timestamp(now - to_chrono(age));
        tx.execute(
            "INSERT OR IGNORE INTO temp.doomed (id)
             SELECT id FROM items WHERE relevant = 1 AND sort_date < ?1 AND last_seen < ?1
               AND COALESCE(duplicate_of, id) NOT IN (SELECT root FROM temp.kept_roots)",
            [&cutoff],
        )?;
    }
    if let Some(max) = policy.max_per_topic {
        // An item stays while it is among the newest `max` of any of its topics.
        tx.execute(
            "INSERT OR IGNORE INTO temp.doomed (id)
             SELECT ranked.item_id FROM (
                 SELECT t.item_id, ROW_NUMBER() OVER (
                     PARTITION BY t.topic ORDER BY i.sort_date DESC, i.key) AS rank
                 FROM item_topics t JOIN items i ON i.id = t.item_id WHERE i.relevant) ranked
             JOIN items i ON i.id = ranked.item_id
             WHERE COALESCE(i.duplicate_of, i.id) NOT IN (SELECT root FROM temp.kept_roots)
             GROUP BY ranked.item_id HAVING MIN(ranked.rank) > ?1",
            [i64::try_from(max).unwrap_or(i64::MAX)],
        )?;
    }
    let deleted = delete_doomed(&tx)?;
    tx.commit()?;
    Ok(PruneSummary { deleted })
}

/// Deletes every item of `source_id` and its row; returns how many items went.
pub fn purge_source(conn: &mut Connection, source_id: &str) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    create_scratch(&tx)?;
    tx.execute(
        "INSERT INTO temp.doomed (id) SELECT id FROM items WHERE source_id = ?1",
        [source_id],
    )?;
    let deleted = delete_doomed(&tx)?;
    tx.execute("DELETE FROM sources WHERE id = ?1", [source_id])?;
    tx.commit()?;
    Ok(deleted)
}

/// Gives freed pages back to the file system. A database created before incremental
/// auto-vacuum was set is converted once (a full `VACUUM`: the setting only takes effect
/// on a database without tables, or through one).
///
/// No `PRAGMA optimize`/`ANALYZE`: the statistics they write made SQLite leave the
/// indexes the queries are written for (`store::tests::plans`), and an export of 6,000
/// items went from one second to minutes after the first prune.
pub fn reclaim(conn: &Connection) -> Result<(), StoreError> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
    // 2 is INCREMENTAL.
    if mode != 2 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.execute_batch("VACUUM")?;
    }
    conn.execute_batch("PRAGMA incremental_vacuum;")?;
    // In WAL mode the main file shrinks only once the log is written back. A TRUNCATE
    // waits for every reader to leave the log, and this is the writer's connection
    // with its lock held: with the writer's own busy timeout a long `export` beside
    // it held every ingest for up to ten minutes. Bounded here; a log still in use is
    // cut by the idle writer later (`checkpoint::Checkpointer::cut_idle_log`).
    conn.busy_timeout(RECLAIM_WAIT)?;
    let cut = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    conn.busy_timeout(super::WRITER_BUSY)?;
    cut?;
    Ok(())
}

/// How long [`reclaim`] waits for readers to leave the log before it leaves the log's
/// truncation to later.
const RECLAIM_WAIT: Duration = Duration::from_secs(1);

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::days(365 * 100))
}

fn create_scratch(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS doomed (id INTEGER PRIMARY KEY);
         CREATE TEMP TABLE IF NOT EXISTS kept_roots (root INTEGER PRIMARY KEY);
         DELETE FROM temp.doomed; DELETE FROM temp.kept_roots;",
    )?;
    Ok(())
}

/// The clusters each published feed shows now. The same selection and order as
/// [`super::clusters::list_stories`]: a story a subscriber can see is never deleted.
fn keep_published(
    tx: &Transaction<'_>,
    topics: &[String],
    feed_items: usize,
) -> Result<(), StoreError> {
    // The walk of `list_stories` (see there): the relevant items newest first along
    // their partial index, each cluster's shown item, until the feed's length; never
    // a grouping of every relevant item.
    let sql = format!(
        "INSERT OR IGNORE INTO temp.kept_roots (root)
         SELECT COALESCE(i.duplicate_of, i.id)
         FROM items i INDEXED BY items_relevant_by_date
         WHERE i.relevant = 1
           {SHOWN_IN_TOPIC}
         ORDER BY i.sort_date DESC, i.key LIMIT ?2"
    );
    let mut stmt = tx.prepare(&sql)?;
    let limit = i64::try_from(feed_items).unwrap_or(i64::MAX);
    stmt.execute(params![Option::<&str>::None, limit])?;
    for topic in topics {
        stmt.execute(params![topic, limit])?;
    }
    Ok(())
}

/// Deletes the items in `temp.doomed`, first handing each cluster that loses its root
/// to its earliest surviving member.
fn delete_doomed(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    let orphans: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT m.id, m.duplicate_of FROM items m
             WHERE m.duplicate_of IN (SELECT id FROM temp.doomed)
               AND m.id NOT IN (SELECT id FROM temp.doomed)
             ORDER BY m.duplicate_of, m.id",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // (old root, new root) of the cluster being walked.
    let mut current: Option<(i64, i64)> = None;
    super::clusters::forget_title_blocks(tx, "temp.doomed")?;
    for (id, old_root) in orphans {
        let new_root = match current {
            Some((old, new)) if old == old_root => Some(new),
            _ => {
                current = Some((old_root, id));
                None
            }
        };
        tx.execute(
            "UPDATE items SET duplicate_of = ?2 WHERE id = ?1",
            params![id, new_root],
        )?;
    }
    let deleted = tx.execute(
        "DELETE FROM items WHERE id IN (SELECT id FROM temp.doomed)",
        [],
    )?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::classify::Decision;
    use crate::dedup::Policy as DedupPolicy;
    use crate::item::Item;
    use crate::store::clusters::list_stories;
    use crate::store::queries::{ingest_with, FetchRecord};
    use crate::store::schema::migrate;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
    }

    /// (key, title, link, relevant, topics, days before `now`).
    type Stored<'a> = (&'a str, &'a str, &'a str, bool, &'a [&'a str], i64);

    /// Ingests items of source `s`, all last seen 90 days ago.
    fn database(items: &[Stored<'_>]) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        for (key, title, link, relevant, topics, days) in items {
            let item = Item {
                key: Item::key_for("s", Some(key), None, title, None),
                source_id: "s".into(),
                guid: Some((*key).into()),
                link: Some((*link).into()),
                title: (*title).into(),
                summary: String::new(),
                content_html: None,
                published: Some(now() - chrono::Duration::days(*days)),
                updated: None,
                authors: Vec::new(),
                categories: Vec::new(),
                lang: Some("en".into()),
            };
            let decision = Decision {
                relevant: *relevant,
                score: 1.0,
                threshold: 0.5,
                topics: topics.iter().map(ToString::to_string).collect(),
                evidence: Vec::new(),
                parts: Default::default(),
            };
            let record = FetchRecord {
                status: "ok",
                error_kind: None,
                error: None,
                attempted_at: now(),
                validators: None,
                consecutive_failures: 0,
                next_attempt: None,
                suggested_url: None,
            };
            let policy = DedupPolicy::default();
            ingest_with(&mut conn, "s", &[(item, decision)], &record, &policy).unwrap();
        }
        let seen = timestamp(now() - chrono::Duration::days(90));
        conn.execute("UPDATE items SET last_seen = ?1", [seen])
            .unwrap();
        conn
    }

    fn titles(conn: &Connection) -> Vec<String> {
        let mut stmt = conn.prepare("SELECT title FROM items ORDER BY id").unwrap();
        let rows = stmt.query_map([], |row| row.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    fn policy() -> Policy {
        Policy {
            relevant: None,
            irrelevant: Duration::from_secs(30 * 86_400),
            max_per_topic: None,
            feed_items: 1,
        }
    }

    fn topics() -> Vec<String> {
        vec!["diplomacy".into(), "energy".into()]
    }

    #[test]
    fn each_topic_keeps_its_newest_and_an_item_of_two_topics_stays_for_either() {
        let mut conn = database(&[
            ("1", "talks one", "https://x/1", true, &["diplomacy"], 1),
            ("2", "talks two", "https://x/2", true, &["diplomacy"], 2),
            (
                "3",
                "uranium and talks",
                "https://x/3",
                true,
                &["diplomacy", "energy"],
                3,
            ),
            ("4", "talks four", "https://x/4", true, &["diplomacy"], 4),
            ("5", "oil", "https://x/5", true, &["energy"], 5),
        ]);
        let policy = Policy {
            max_per_topic: Some(2),
            ..policy()
        };
        let summary = prune(&mut conn, &policy, &topics(), now()).unwrap();
        // diplomacy keeps 1 and 2; energy keeps 3 and 5.
        assert_eq!(summary.deleted, 1);
        assert_eq!(
            titles(&conn),
            ["talks one", "talks two", "uranium and talks", "oil"]
        );
    }

    #[test]
    fn what_a_feed_shows_is_kept_whatever_its_age() {
        let mut conn = database(&[
            ("1", "talks one", "https://x/1", true, &["diplomacy"], 100),
            ("2", "talks two", "https://x/2", true, &["diplomacy"], 200),
            ("3", "oil", "https://x/3", true, &["energy"], 300),
            ("4", "weather", "https://x/4", false, &[], 1),
        ]);
        let policy = Policy {
            relevant: Some(Duration::from_secs(30 * 86_400)),
            ..policy()
        };
        prune(&mut conn, &policy, &topics(), now()).unwrap();
        // The newest of `all` and of each topic; the irrelevant item was unseen too long.
        assert_eq!(titles(&conn), ["talks one", "oil"]);
    }

    #[test]
    fn a_cluster_that_loses_its_root_is_handed_to_its_next_member() {
        let mut conn = database(&[
            (
                "1",
                "France and Kazakhstan sign uranium deal",
                "https://x/u",
                true,
                &["energy"],
                200,
            ),
            (
                "2",
                "Kazakhstan and France sign uranium deal",
                "https://x/u",
                true,
                &["energy"],
                199,
            ),
            ("3", "talks", "https://x/3", true, &["diplomacy"], 1),
            ("4", "newer oil", "https://x/4", true, &["energy"], 2),
        ]);
        let root_of_two: Option<i64> = conn
            .query_row("SELECT duplicate_of FROM items WHERE id = 2", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(root_of_two, Some(1), "the copy joined the first story");
        // Only the root is old enough to go.
        conn.execute(
            "UPDATE items SET last_seen = ?1 WHERE id = 2",
            [timestamp(now())],
        )
        .unwrap();
        let policy = Policy {
            relevant: Some(Duration::from_secs(30 * 86_400)),
            ..policy()
        };
        prune(&mut conn, &policy, &topics(), now()).unwrap();
        let titles: Vec<String> = list_stories(&conn, None, 10)
            .unwrap()
            .into_iter()
            .map(|s| s.shown.item.title)
            .collect();
        assert_eq!(
            titles,
            [
                "talks",
                "newer oil",
                "Kazakhstan and France sign uranium deal"
            ]
        );
    }

    #[test]
    fn reclaim_turns_an_existing_database_to_incremental_vacuum() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("old.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let mode = |conn: &Connection| -> i64 {
            conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(mode(&conn), 0);
        reclaim(&conn).unwrap();
        assert_eq!(mode(&conn), 2);
        reclaim(&conn).unwrap();
    }

    /// `reclaim` runs on the writer's connection with its lock held: a reader that
    /// keeps its snapshot (a long `export`) must not hold it there for the writer's
    /// whole busy timeout.
    #[test]
    fn reclaim_does_not_wait_long_for_a_reader_of_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        writer.busy_timeout(super::super::WRITER_BUSY).unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let seen: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        writer.execute("INSERT INTO t VALUES (2)", []).unwrap();
        let (done, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = reclaim(&writer).map_err(|e| e.to_string());
            let _ = done.send(result);
        });
        let result = answer
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("reclaim waited for the reader");
        assert_eq!(result, Ok(()));
        assert_eq!(seen, 1);
        reader.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn reclaim_leaves_no_planner_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("stats.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x INTEGER, y TEXT); CREATE INDEX t_x ON t (x);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t SELECT i % 7, 'row' || i FROM n;
             SELECT count(*) FROM t WHERE x = 3;",
        )
        .unwrap();
        reclaim(&conn).unwrap();
        let stats: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stats, 0, "reclaim wrote planner statistics");
    }
}

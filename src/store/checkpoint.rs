//! Checkpoints of the write-ahead log, on a thread and a connection of their own, so
//! that no commit of the writer waits for one.
//!
//! # Why
//! With SQLite's automatic checkpoint the connection that commits past
//! `wal_autocheckpoint` pages copies the log back into the database file there and
//! then, with two `fsync`s: over the first pass of 2,000 feeds the writer thread made
//! 1,170 `fsync`s (about 5 ms each on this disk, more under load) and copied 357,000
//! pages, all on the one thread the pass waits for (BENCHMARKS.md, branch commit5).
//! Here the writer's connection never checkpoints (`wal_autocheckpoint=0`); after each
//! commit it tells the checkpointer, which runs `PRAGMA wal_checkpoint(PASSIVE)` on its
//! own connection while the writer goes on with the next batch. A passive checkpoint
//! takes no lock the writer needs: it copies what readers allow and never blocks.
//!
//! # The log stays bounded
//! SQLite starts the log again from its beginning only when a write transaction
//! begins on a log that is wholly copied back. A writer that never stops (a pass the
//! writer is the bottleneck of) is always a batch ahead of the checkpointer, so the log
//! would grow for the whole pass (to 67 MB over 2,000 feeds on a loaded machine, when
//! the writer only waited for a log the checkpointer had seen full). The writer's
//! connection has `journal_size_limit` = [`LOG_LIMIT`]: when it starts the log again,
//! its next commit cuts the `-wal` file down to that size, so a file larger than
//! [`LOG_LIMIT`] means that the log outgrew it since. Then the writer, before its next
//! transaction, waits for one more checkpoint while it writes nothing
//! ([`Checkpointer::before_write`]); that one copies the rest, and the writer's next
//! transaction starts the log again. So the writer waits for a checkpoint once per
//! [`LOG_LIMIT`] of log instead of once per 1,000 pages (4 MiB), and the `-wal` file
//! holds at most [`LOG_LIMIT`] and one transaction, however slow the checkpoints
//! (unless a reader holds an old snapshot for long, as before: then no checkpoint can
//! copy it all, and the writer waits for one before each batch, as SQLite's automatic
//! checkpoint did in each commit). The log is not truncated when idle: a `TRUNCATE`
//! checkpoint on this connection after a second without a commit made the `no_stall`
//! test's flood look stored before it was asked about (not understood yet), so the file
//! keeps its size, at most [`LOG_LIMIT`] and a transaction, as the automatic
//! checkpoint's stayed at its 4 MiB.
//!
//! # What does not change
//! Checkpoints are SQLite's, from whichever connection: a crash during one is
//! recovered from the log, as before. Durability is that of `synchronous=NORMAL` in
//! WAL: a commit reaches the disk at the next checkpoint's `fsync` of the log, which
//! now comes sooner after each commit rather than later.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{lock, open_connection, StoreError};

/// The size of the `-wal` file past which the writer waits, before its next
/// transaction, for a checkpoint that lets it start the log again (4,096 pages of
/// 4 KiB). The larger, the rarer the writer's waits; the disk the log takes is the
/// price.
const LOG_LIMIT: u64 = 16 * 1024 * 1024;
/// The checkpointer's page cache, in KiB: a checkpoint copies frames through a buffer
/// of its own, not through the cache.
const CACHE_KIB: i64 = 64;

/// The checkpointer thread; it stops, and closes its connection, when dropped.
pub(super) struct Checkpointer {
    signal: Arc<Signal>,
    wal: PathBuf,
    log_limit: u64,
    thread: Option<JoinHandle<()>>,
}

struct Signal {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// The writer committed since the last checkpoint began.
    committed: bool,
    /// The writer waits for a checkpoint that begins after it stopped writing.
    catch_up_wanted: bool,
    /// How many such checkpoints ended.
    catch_ups: u64,
    stopping: bool,
}

/// Sets up the writer's connection: it never checkpoints, and it cuts the log back to
/// [`LOG_LIMIT`] when it starts it again.
pub(super) fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    configure_writer_with(conn, LOG_LIMIT)
}

fn configure_writer_with(conn: &Connection, log_limit: u64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", log_limit as i64)?;
    Ok(())
}

impl Checkpointer {
    /// Opens a connection of its own to the database at `path` (in WAL mode already)
    /// and starts the thread. The writer's connection must be [`configure_writer`]d.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        Checkpointer::start_with(path, LOG_LIMIT)
    }

    fn start_with(path: &Path, log_limit: u64) -> Result<Checkpointer, StoreError> {
        // No busy wait: a passive checkpoint never waits anyway.
        let conn = open_connection(path, OpenFlags::default(), CACHE_KIB, Duration::ZERO)?;
        let signal = Arc::new(Signal {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let theirs = signal.clone();
        let thread = std::thread::Builder::new()
            .name("entente-checkpoint".into())
            .spawn(move || run(&conn, &theirs))
            .map_err(|e| StoreError::Task(format!("cannot start the WAL checkpointer: {e}")))?;
        Ok(Checkpointer {
            signal,
            wal: super::sidecar(path, "-wal"),
            log_limit,
            thread: Some(thread),
        })
    }

    /// After a commit on the writer's connection: there is log to copy back.
    pub(super) fn committed(&self) {
        lock(&self.signal.state).committed = true;
        self.signal.changed.notify_all();
    }

    /// Before a write transaction on the writer's connection, with the writer's lock
    /// held (so nothing else writes): when the log has grown past its bound, waits for
    /// a checkpoint of all of it, so that this transaction starts the log again.
    pub(super) fn before_write(&self) {
        // A stat: about a microsecond, against a transaction's milliseconds.
        let log_bytes = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if log_bytes <= self.log_limit {
            return;
        }
        let mut state = lock(&self.signal.state);
        state.catch_up_wanted = true;
        let before = state.catch_ups;
        self.signal.changed.notify_all();
        while state.catch_ups == before && !state.stopping {
            state = self
                .signal
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        tracing::debug!(
            log_bytes,
            "The writer waited for a checkpoint of the whole log."
        );
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        lock(&self.signal.state).stopping = true;
        self.signal.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The checkpointer thread: a passive checkpoint after each commit (several commits
/// that came during one checkpoint share the next).
fn run(conn: &Connection, signal: &Signal) {
    loop {
        let mut state = lock(&signal.state);
        while !(state.stopping || state.committed || state.catch_up_wanted) {
            state = signal
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.stopping {
            return;
        }
        let catch_up = std::mem::take(&mut state.catch_up_wanted);
        state.committed = false;
        drop(state);

        passive(conn);

        if catch_up {
            // The writer wrote nothing during this one: it starts the log again (unless
            // a reader holds on to an older snapshot).
            lock(&signal.state).catch_ups += 1;
            signal.changed.notify_all();
        }
    }
}

/// A passive checkpoint; a failure is told, and the next commit tries again.
fn passive(conn: &Connection) {
    if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "WAL checkpoint failed; retried after the next commit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const PAGE: u64 = 4096;

    fn wal_bytes(path: &Path) -> u64 {
        std::fs::metadata(super::super::sidecar(path, "-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// A writer like the store's: autocheckpoint off, a transaction of `rows` rows of
    /// random blobs at a time (every page of its index and table new or changed).
    fn writer(path: &Path, log_limit: u64) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        configure_writer_with(&conn, log_limit).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k BLOB UNIQUE, v BLOB)",
        )
        .unwrap();
        conn
    }

    fn write_batch(conn: &mut Connection, rows: usize) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        for _ in 0..rows {
            tx.execute(
                "INSERT INTO t (k, v) VALUES (randomblob(16), randomblob(1500))",
                [],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    /// Many batches in a row, no pause: with the checkpointer the `-wal` file stays
    /// within its bound; without it (the control) the same writes grow it past that.
    #[test]
    fn a_writer_that_never_pauses_keeps_its_log_bounded() {
        let log_limit = 256 * PAGE;
        let batches = 120;
        let dir = tempfile::tempdir().unwrap();

        // The control, without checkpointer: one batch's log, and then the log of all.
        let control = dir.path().join("control.db");
        let mut conn = writer(&control, log_limit);
        write_batch(&mut conn, 150);
        let one_batch = wal_bytes(&control);
        for _ in 1..batches {
            write_batch(&mut conn, 150);
        }
        let unchecked = wal_bytes(&control);
        // The bound: the limit and a transaction, whatever the checkpoints take, with
        // a second transaction's worth as margin.
        let bound = log_limit + 2 * one_batch;
        assert!(
            unchecked > 4 * bound,
            "without checkpoints the log should outgrow the bound: {unchecked} bytes"
        );

        let path = dir.path().join("checkpointed.db");
        let mut conn = writer(&path, log_limit);
        let checkpointer = Checkpointer::start_with(&path, log_limit).unwrap();
        let mut largest = 0;
        for _ in 0..batches {
            checkpointer.before_write();
            write_batch(&mut conn, 150);
            checkpointer.committed();
            largest = largest.max(wal_bytes(&path));
        }
        assert!(
            largest <= bound,
            "the log reached {largest} bytes, over {bound}"
        );
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 150 * batches);
        // The checkpoints wrote the rows back into the database file itself.
        drop(checkpointer);
        let file = std::fs::metadata(&path).unwrap().len();
        assert!(file > log_limit, "database file {file} bytes");
    }

    /// A reader in the middle of a long read holds its snapshot; the writer goes on
    /// (it waits for no reader) and the reader still sees its snapshot, whole.
    #[test]
    fn a_reader_keeps_its_snapshot_while_the_log_is_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read.db");
        let mut conn = writer(&path, 64 * PAGE);
        let checkpointer = Checkpointer::start_with(&path, 64 * PAGE).unwrap();
        write_batch(&mut conn, 100);
        checkpointer.committed();

        let mut reader =
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let snapshot = reader.transaction().unwrap();
        let seen: i64 = snapshot
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seen, 100);
        for _ in 0..40 {
            checkpointer.before_write();
            write_batch(&mut conn, 100);
            checkpointer.committed();
        }
        let still: i64 = snapshot
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(still, 100, "the reader's snapshot moved");
        drop(snapshot);
        let now: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(now, 4100);
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    /// The store wires it: its writer commits without checkpointing, and the
    /// checkpointer copies the log back into the database file while the store is open.
    #[test]
    fn the_store_checkpoints_off_its_writer() {
        use crate::classify::Decision;
        use crate::item::Item;
        use chrono::{TimeZone, Utc};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entente.db");
        let store = crate::store::Store::open(&path).unwrap();
        let autocheckpoint: i64 = store
            .call_blocking(|c| Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(autocheckpoint, 0);
        let sources: Vec<(String, String, String)> = (0..8)
            .map(|n| {
                (
                    format!("s{n}"),
                    format!("https://s{n}.example/feed"),
                    format!("S{n}"),
                )
            })
            .collect();
        store
            .call_blocking(move |c| crate::store::sources::sync_sources(c, &sources))
            .unwrap();
        for n in 0..8 {
            let source = format!("s{n}");
            let items: Vec<(Item, Decision)> = (0..40)
                .map(|i| {
                    let guid = format!("{n}-{i}");
                    let title = format!("Item {guid} of a feed");
                    let item = Item {
                        key: Item::key_for(&source, Some(&guid), None, &title, None),
                        source_id: source.clone(),
                        guid: Some(guid.clone()),
                        link: Some(format!("https://s{n}.example/{guid}")),
                        title,
                        summary: format!("summary {guid} ").repeat(40),
                        content_html: None,
                        published: Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()),
                        updated: None,
                        authors: vec![],
                        categories: vec![],
                        lang: Some("en".to_string()),
                    };
                    let decision = Decision {
                        relevant: i % 2 == 0,
                        score: 0.0,
                        threshold: 1.0,
                        topics: vec![],
                        evidence: vec![],
                        parts: Default::default(),
                    };
                    (item, decision)
                })
                .collect();
            let record = crate::store::FetchRecord {
                status: "ok",
                error_kind: None,
                error: None,
                attempted_at: Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
                validators: None,
                consecutive_failures: 0,
                next_attempt: None,
                suggested_url: None,
            };
            let summary = store
                .ingest_blocking(&source, items, record, crate::dedup::Policy::default())
                .unwrap();
            assert_eq!(summary.new, 40);
        }
        assert!(wal_bytes(&path) > 0);
        // Soon everything is in the database file itself: a reader of the file alone
        // (immutable: it ignores the log) sees every item.
        let uri = format!("file:{}?immutable=1", path.display());
        let in_file = || -> i64 {
            let file_only = Connection::open_with_flags(
                &uri,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
            )
            .unwrap();
            file_only
                .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
                .unwrap_or(0)
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while in_file() < 320 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(in_file(), 320, "the log was not checkpointed");
        drop(store);
    }
}

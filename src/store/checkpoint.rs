//! Checkpoints of the write-ahead log, on a thread and a connection of their own, so
//! that no commit of the writer waits for one, and copying a page back once for many
//! commits that changed it.
//!
//! # Why
//! With SQLite's automatic checkpoint the connection that commits past
//! `wal_autocheckpoint` pages copies the log back into the database file there and
//! then, with two `fsync`s: over the first pass of 2,000 feeds the writer thread made
//! 1,170 `fsync`s (about 5 ms each on this disk, more under load) and copied 357,000
//! pages, all on the one thread the pass waits for (BENCHMARKS.md, branch commit5).
//! Here the writer's connection never checkpoints (`wal_autocheckpoint=0`); the
//! checkpointer runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection while the
//! writer goes on. A passive checkpoint takes no lock the writer needs: it copies what
//! readers allow and never blocks.
//!
//! # When
//! A checkpoint copies each page once, from its latest frame, however many commits
//! logged it. One after every commit (a batch of about two feeds in the first pass)
//! copied back 95 % of the frames the writer logged (415,000 of 435,000) with two
//! `fsync`s each; the index leaves every batch changes were copied again each time.
//! So the checkpointer waits until the writer has logged [`CHECKPOINT_FRAMES`] (64 MiB
//! of log) since the last checkpoint, or until the oldest commit not copied back is
//! [`MAX_AGE`] old (the writer went idle: the log is then copied and synced soon after
//! its last commit), or until the writer waits for it. SQLite's WAL hook tells how many
//! frames each commit left in the log (`logged`). Over the first pass that copied back
//! 96,000–124,000 pages instead of 400,000–435,000 and made 143 `fsync`s instead of
//! 895 (BENCHMARKS.md, branch ckpt7, has the sweep of sizes).
//!
//! # The log stays bounded
//! SQLite starts the log again from its beginning only when a write transaction
//! begins on a log that is wholly copied back, which a writer that never pauses never
//! sees. The writer's connection has `journal_size_limit` = [`LOG_LIMIT`]: when it
//! starts the log again, its next commit cuts the `-wal` file down to that size, so a
//! file larger than [`LOG_LIMIT`] means that the log outgrew it since. Then the writer,
//! before its next transaction, waits for one more checkpoint while it writes nothing
//! ([`Checkpointer::before_write`]); that one copies the rest, and the writer's next
//! transaction starts the log again. In the last [`TAIL_FRAMES`] before the limit the
//! checkpointer copies each commit at once ([`Policy::tail`]), so that the writer waits
//! for a checkpoint of about a batch rather than of up to [`CHECKPOINT_FRAMES`]. So the
//! `-wal` file holds at most [`LOG_LIMIT`] and one transaction, however slow the
//! checkpoints (unless a reader holds an old snapshot for long, as before: then no
//! checkpoint can copy it all, and the writer waits for one before each batch, as
//! SQLite's automatic checkpoint did in each commit), and the writer waits about once
//! per [`LOG_LIMIT`] of log (13 times over the first pass).
//!
//! # Idle
//! When the writer has had no work for [`IDLE`] and the `-wal` file is larger than
//! [`IDLE_LOG`], the writer cuts it down to nothing (`wal_checkpoint(TRUNCATE)`,
//! [`Checkpointer::cut_idle_log`]) on its own connection, so an idle daemon keeps no
//! large log. Not on the checkpointer's connection: a cut starts the log's header
//! again, which every other connection's `PRAGMA data_version` counts as a change, so
//! the store took it for another process's commit and counted every published feed as
//! changed (that is what broke the `no_stall` test when the checkpointer truncated).
//!
//! # What does not change
//! Checkpoints are SQLite's, from whichever connection: a crash during one is
//! recovered from the log, as before. Durability is that of `synchronous=NORMAL` in
//! WAL, as with SQLite's automatic checkpoint: a commit reaches the disk at the next
//! checkpoint's `fsync` of the log, within [`MAX_AGE`] of the writer's last commit
//! (the automatic checkpoint left a commit unsynced until 1,000 pages followed it).
//! When the store closes, the checkpointer copies back what is left.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{lock, open_connection, StoreError};

/// The size of the `-wal` file past which the writer waits, before its next
/// transaction, for a checkpoint that lets it start the log again. The larger, the
/// rarer the writer's waits; the disk the log takes is the price.
const LOG_LIMIT: u64 = 128 * 1024 * 1024;
/// How many frames the writer logs before the checkpointer copies them back: a page
/// that several commits changed in between is copied once.
const CHECKPOINT_FRAMES: u64 = 16 * 1024;
/// See [`Policy::tail`]: about two batches of the first pass.
const TAIL_FRAMES: u64 = 1024;
/// How long a commit waits at most for its checkpoint (and its `fsync`) when fewer
/// than [`CHECKPOINT_FRAMES`] follow it: the writer went idle.
const MAX_AGE: Duration = Duration::from_millis(500);
/// How long the writer waits for work before it cuts an idle log down.
pub(super) const IDLE: Duration = Duration::from_secs(2);
/// The size of the `-wal` file an idle writer leaves as it is: the 4 MiB SQLite's
/// automatic checkpoint kept.
const IDLE_LOG: u64 = 4 * 1024 * 1024;
/// The database's page size: SQLite's default, which the store never changes.
const PAGE_BYTES: u64 = 4096;
/// The checkpointer's page cache, in KiB: a checkpoint copies frames through a buffer
/// of its own, not through the cache.
const CACHE_KIB: i64 = 64;

thread_local! {
    /// The log's frame count after the last commit of the writer's connection on this
    /// thread, from SQLite's WAL hook; taken by [`Checkpointer::committed`] on the same
    /// thread, which holds the writer's lock from the commit to then.
    static LOGGED: Cell<Option<u32>> = const { Cell::new(None) };
}

/// The writer's WAL hook: SQLite calls it after each commit with the frames in the log.
fn logged(_: &rusqlite::hooks::Wal, frames: std::os::raw::c_int) -> rusqlite::Result<()> {
    LOGGED.with(|l| l.set(Some(u32::try_from(frames).unwrap_or(0))));
    Ok(())
}

/// The frames a commit logged, from the log's frame count before and after it. The
/// hook is called only for a commit that logged frames, so a count no larger than the
/// last one is a log started again, not a commit of nothing.
fn newly_logged(before: u64, after: u64) -> u64 {
    if after > before {
        after - before
    } else {
        after
    }
}

/// The checkpointer thread; it stops, and closes its connection, when dropped.
pub(super) struct Checkpointer {
    signal: Arc<Signal>,
    wal: PathBuf,
    log_limit: u64,
    thread: Option<JoinHandle<()>>,
}

/// When the checkpointer copies the log back.
#[derive(Clone, Copy)]
struct Policy {
    frames: u64,
    max_age: Duration,
    /// The last frames before the log's limit, in which each commit is copied back
    /// at once: so that the writer, at the limit, waits for a short checkpoint.
    tail: u64,
}

impl Policy {
    /// The store's (BENCHMARKS.md, branch ckpt7, has the sweep).
    const STORE: Policy = Policy {
        frames: CHECKPOINT_FRAMES,
        max_age: MAX_AGE,
        tail: TAIL_FRAMES,
    };
}

struct Signal {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Frames the writer logged since the last checkpoint began.
    pending: u64,
    /// When the first of them was committed.
    oldest: Option<Instant>,
    /// The log's frame count at the writer's last commit (not larger next time: the
    /// writer started the log again).
    log_frames: u64,
    /// Frames this store's writer logged since its last cut of an idle log: only a
    /// store that wrote the log cuts it (every command opens a store with a writer, and
    /// an `export` beside the daemon must not truncate the daemon's log).
    logged_since_cut: u64,
    /// The writer waits for a checkpoint that begins after it stopped writing.
    catch_up_wanted: bool,
    /// How many such checkpoints ended.
    catch_ups: u64,
    stopping: bool,
}

/// Sets up the writer's connection: it never checkpoints, it tells how much it logs,
/// and it cuts the log back to [`LOG_LIMIT`] when it starts it again.
pub(super) fn configure_writer(conn: &Connection) -> rusqlite::Result<()> {
    configure_writer_with(conn, LOG_LIMIT)
}

fn configure_writer_with(conn: &Connection, log_limit: u64) -> rusqlite::Result<()> {
    // Before the hook: the pragma replaces any WAL hook with SQLite's own, or none.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    conn.pragma_update(None, "journal_size_limit", log_limit as i64)?;
    conn.wal_hook(Some(logged));
    Ok(())
}

impl Checkpointer {
    /// Opens a connection of its own to the database at `path` (in WAL mode already)
    /// and starts the thread. The writer's connection must be [`configure_writer`]d.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        Checkpointer::start_with(path, LOG_LIMIT, Policy::STORE)
    }

    fn start_with(path: &Path, log_limit: u64, policy: Policy) -> Result<Checkpointer, StoreError> {
        // No busy wait: a passive checkpoint never waits anyway.
        let conn = open_connection(path, OpenFlags::default(), CACHE_KIB, Duration::ZERO)?;
        let signal = Arc::new(Signal {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let theirs = signal.clone();
        let thread = std::thread::Builder::new()
            .name("entente-checkpoint".into())
            .spawn(move || run(&conn, &theirs, policy, log_limit))
            .map_err(|e| StoreError::Task(format!("cannot start the WAL checkpointer: {e}")))?;
        Ok(Checkpointer {
            signal,
            wal: super::sidecar(path, "-wal"),
            log_limit,
            thread: Some(thread),
        })
    }

    /// After work on the writer's connection, on the thread that did it: what it
    /// committed, if anything, is log to copy back.
    pub(super) fn committed(&self) {
        let Some(frames) = LOGGED.with(Cell::take) else {
            return;
        };
        let frames = u64::from(frames);
        let mut state = lock(&self.signal.state);
        let new = newly_logged(state.log_frames, frames);
        state.log_frames = frames;
        state.pending += new;
        state.logged_since_cut += new;
        state.oldest.get_or_insert_with(Instant::now);
        drop(state);
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
        let began = Instant::now();
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
            waited_us = began.elapsed().as_micros() as u64,
            "The writer waited for a checkpoint of the whole log."
        );
    }
}

impl Checkpointer {
    /// Whether the `-wal` file is larger than an idle log should stay.
    pub(super) fn idle_log_to_cut(&self) -> bool {
        let logged = lock(&self.signal.state).logged_since_cut;
        logged.saturating_mul(PAGE_BYTES) > IDLE_LOG
            && std::fs::metadata(&self.wal).is_ok_and(|m| m.len() > IDLE_LOG)
    }

    /// On the writer's connection, with the writer's lock held, when it has had no work
    /// for a while: copies back what is left (usually nothing: the checkpointer did
    /// within [`MAX_AGE`]) and cuts the `-wal` file to nothing. Gives up at once, to be
    /// tried at the next idle moment, when a reader still needs the log or the
    /// checkpointer is copying: `busy` is the connection's busy timeout to restore.
    ///
    /// Every other connection takes the cut for a change of the database (`PRAGMA
    /// data_version` moves: SQLite starts the log's header again), so a cut on the
    /// checkpointer's connection made the store's watch, and its writer, count it as
    /// another process's commit, and every published feed changed (what broke the
    /// `no_stall` test when the checkpointer truncated the log itself).
    pub(super) fn cut_idle_log(&self, conn: &Connection, busy: Duration) {
        let cut = conn.busy_timeout(Duration::ZERO).and_then(|()| {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                row.get::<_, i64>(0)
            })
        });
        if let Err(error) = conn.busy_timeout(busy) {
            tracing::warn!(%error, "cannot restore the writer's busy timeout");
        }
        match cut {
            Ok(0) => {
                let mut state = lock(&self.signal.state);
                state.log_frames = 0;
                state.logged_since_cut = 0;
                tracing::debug!("The idle log was cut down.");
            }
            Ok(_) => tracing::debug!("The idle log is still in use; cut later."),
            Err(error) => tracing::warn!(%error, "cannot cut the idle log down"),
        }
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

/// The checkpointer thread: a passive checkpoint once the writer has logged
/// `policy.frames` since the last, or its oldest commit not copied back is
/// `policy.max_age` old, or the writer waits for one.
fn run(conn: &Connection, signal: &Signal, policy: Policy, log_limit: u64) {
    let (mut checkpoints, mut frames) = (0u64, 0u64);
    // A frame is a page and its 24-byte header.
    // A frame is a page and its 24-byte header.
    let hurry_from = (log_limit / (PAGE_BYTES + 24)).saturating_sub(policy.tail);
    loop {
        let mut state = lock(&signal.state);
        loop {
            if state.stopping {
                // What the last commits logged is copied back (and synced) before the
                // store closes, as it would have been after each commit.
                let last = std::mem::take(&mut state.pending);
                drop(state);
                if last > 0 {
                    passive(conn);
                    checkpoints += 1;
                }
                tracing::debug!(checkpoints, frames = frames + last, "Checkpointer stopped.");
                return;
            }
            if state.catch_up_wanted
                || (state.pending > 0
                    && (state.pending >= policy.frames || state.log_frames >= hurry_from))
            {
                break;
            }
            let Some(oldest) = state.oldest else {
                state = signal
                    .changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            };
            let left = policy.max_age.saturating_sub(oldest.elapsed());
            if left.is_zero() {
                break;
            }
            state = signal
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        let catch_up = std::mem::take(&mut state.catch_up_wanted);
        frames += std::mem::take(&mut state.pending);
        state.oldest = None;
        drop(state);

        passive(conn);
        checkpoints += 1;

        if catch_up {
            // The writer wrote nothing during this one: it starts the log again (unless
            // a reader holds on to an older snapshot).
            lock(&signal.state).catch_ups += 1;
            signal.changed.notify_all();
        }
    }
}

/// A passive checkpoint; a failure is told, and the next one tries again.
fn passive(conn: &Connection) {
    if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "WAL checkpoint failed; retried at the next one");
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

    /// A policy that checkpoints by itself only two minutes after a commit: before
    /// that, only when the writer waits for it.
    const ONLY_WHEN_WAITED_FOR: Policy = Policy {
        frames: u64::MAX,
        max_age: Duration::from_secs(120),
        tail: 0,
    };

    /// Rows of `table` that the database file itself holds: a reader of the file alone
    /// (immutable: it ignores the log) sees what the checkpoints copied back.
    fn rows_in_file_of(path: &Path, table: &str) -> i64 {
        let uri = format!("file:{}?immutable=1", path.display());
        let file_only = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap();
        file_only
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or(0)
    }

    fn rows_in_file(path: &Path) -> i64 {
        rows_in_file_of(path, "t")
    }

    fn frames_of(wal_bytes: u64) -> u64 {
        wal_bytes.saturating_sub(32) / (PAGE + 24)
    }

    /// Many batches in a row, no pause: with the checkpointer the `-wal` file stays
    /// within its bound, whether it checkpoints after each commit, after a few, or only
    /// when the writer waits for it; without it (the control) the same writes grow it
    /// past that.
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

        let every = [
            Policy {
                frames: 1,
                max_age: MAX_AGE,
                tail: 0,
            },
            Policy {
                frames: 3 * frames_of(one_batch),
                max_age: MAX_AGE,
                tail: 0,
            },
            Policy {
                frames: 3 * frames_of(one_batch),
                max_age: MAX_AGE,
                tail: 2 * frames_of(one_batch),
            },
            ONLY_WHEN_WAITED_FOR,
        ];
        for (n, policy) in every.into_iter().enumerate() {
            let path = dir.path().join(format!("checkpointed-{n}.db"));
            let mut conn = writer(&path, log_limit);
            let checkpointer = Checkpointer::start_with(&path, log_limit, policy).unwrap();
            let mut largest = 0;
            for _ in 0..batches {
                checkpointer.before_write();
                write_batch(&mut conn, 150);
                checkpointer.committed();
                largest = largest.max(wal_bytes(&path));
            }
            assert!(
                largest <= bound,
                "policy {n}: the log reached {largest} bytes, over {bound}"
            );
            let rows: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, 150 * batches);
            // The checkpoints wrote the rows back into the database file itself.
            drop(checkpointer);
            let file = std::fs::metadata(&path).unwrap().len();
            assert!(file > log_limit, "policy {n}: database file {file} bytes");
        }
    }

    /// The checkpointer leaves a commit in the log until the writer has logged enough
    /// after it (so that a page several commits change is copied back once), and then
    /// copies it back without being asked.
    #[test]
    fn the_checkpointer_copies_back_once_enough_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("every.db");
        let mut conn = writer(&path, 1 << 30);
        write_batch(&mut conn, 100);
        let one_batch = frames_of(wal_bytes(&path));
        let policy = Policy {
            frames: 4 * one_batch,
            max_age: Duration::from_secs(3600),
            tail: 0,
        };
        let checkpointer = Checkpointer::start_with(&path, 1 << 30, policy).unwrap();
        write_batch(&mut conn, 100);
        checkpointer.committed();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(rows_in_file(&path), 0, "copied back after one commit");

        for _ in 0..6 {
            write_batch(&mut conn, 100);
            checkpointer.committed();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while rows_in_file(&path) < 400 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(rows_in_file(&path) >= 400, "not copied back");
    }

    /// A commit that no other follows (the writer went idle) is copied back, and the
    /// log synced, within the policy's age, however little it logged.
    #[test]
    fn a_last_commit_is_copied_back_when_the_writer_goes_idle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idle.db");
        let mut conn = writer(&path, 1 << 30);
        let policy = Policy {
            frames: u64::MAX,
            max_age: Duration::from_millis(100),
            tail: 0,
        };
        let checkpointer = Checkpointer::start_with(&path, 1 << 30, policy).unwrap();
        write_batch(&mut conn, 10);
        checkpointer.committed();
        let deadline = Instant::now() + Duration::from_secs(20);
        while rows_in_file(&path) < 10 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(rows_in_file(&path), 10, "the last commit stayed in the log");
    }

    /// A checkpointer that waits for nothing (no frames to copy, an hour to wait) wakes
    /// for a writer whose log is past its limit: the writer waits for one checkpoint,
    /// not for the checkpointer's own schedule, and then starts the log again.
    #[test]
    fn the_writer_does_not_wait_for_an_idle_checkpointer() {
        let log_limit = 64 * PAGE;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wake.db");
        let mut conn = writer(&path, log_limit);
        let checkpointer =
            Checkpointer::start_with(&path, log_limit, ONLY_WHEN_WAITED_FOR).unwrap();
        while wal_bytes(&path) <= log_limit {
            write_batch(&mut conn, 50);
            checkpointer.committed();
        }
        let began = Instant::now();
        checkpointer.before_write();
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the writer waited {:?}",
            began.elapsed()
        );
        write_batch(&mut conn, 1);
        checkpointer.committed();
        assert!(
            wal_bytes(&path) <= log_limit,
            "the log did not start again: {} bytes",
            wal_bytes(&path)
        );
    }

    /// A reader in the middle of a long read holds its snapshot; the writer goes on
    /// (it waits for no reader) and the reader still sees its snapshot, whole.
    #[test]
    fn a_reader_keeps_its_snapshot_while_the_log_is_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read.db");
        let mut conn = writer(&path, 64 * PAGE);
        let checkpointer = Checkpointer::start_with(&path, 64 * PAGE, Policy::STORE).unwrap();
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
        // Soon everything is in the database file itself.
        let in_file = || rows_in_file_of(&path, "items");
        let deadline = Instant::now() + Duration::from_secs(20);
        while in_file() < 320 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(in_file(), 320, "the log was not checkpointed");
        drop(store);
    }

    #[test]
    fn a_log_started_again_at_the_same_length_still_counts_its_commit() {
        assert_eq!(newly_logged(10, 15), 5);
        assert_eq!(newly_logged(10, 3), 3);
        assert_eq!(
            newly_logged(10, 10),
            10,
            "a restart, not a commit of nothing"
        );
    }

    #[test]
    fn a_store_that_wrote_no_log_leaves_anothers_idle_log_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entente.db");
        drop(crate::store::Store::open(&path).unwrap());
        // Another process's log, larger than an idle log keeps, still in use by it.
        let daemon = Connection::open(&path).unwrap();
        daemon.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        daemon
            .execute_batch(
                "CREATE TABLE scratch (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
                 INSERT INTO scratch SELECT randomblob(8000) FROM n;",
            )
            .unwrap();
        let logged = wal_bytes(&path);
        assert!(logged > IDLE_LOG, "{logged} bytes");
        // A command beside it (an export, say) idles past the writer's idle time.
        let command = crate::store::Store::open(&path).unwrap();
        std::thread::sleep(IDLE + Duration::from_millis(1500));
        assert_eq!(
            wal_bytes(&path),
            logged,
            "a store that wrote nothing cut the log"
        );
        drop(command);
    }

    /// An idle store cuts its log down, on its writer's connection: neither its watch
    /// nor its writer takes that for another process's commit, so no published feed
    /// changes. The control: the same cut from another connection is seen as one.
    #[test]
    fn an_idle_store_cuts_its_log_down_without_changing_its_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entente.db");
        let store = crate::store::Store::open(&path).unwrap();
        // About 1,400 pages of log, past what an idle log keeps.
        store
            .call_blocking(|c| {
                c.execute_batch(
                    "CREATE TABLE scratch (b BLOB);
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
                     INSERT INTO scratch SELECT randomblob(8000) FROM n;",
                )?;
                Ok(())
            })
            .unwrap();
        assert!(wal_bytes(&path) > IDLE_LOG, "{} bytes", wal_bytes(&path));
        store.notice_other_commits().unwrap();
        let before = store.changes().of_all();

        let deadline = Instant::now() + Duration::from_secs(30);
        while wal_bytes(&path) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(wal_bytes(&path), 0, "the idle log was not cut");
        std::thread::sleep(Duration::from_millis(20));
        store.notice_other_commits().unwrap();
        // Work on the writer's connection compares its own counter too.
        store
            .call_blocking(|c| {
                Ok(c.query_row("SELECT count(*) FROM scratch", [], |r| r.get::<_, i64>(0))?)
            })
            .unwrap();
        assert_eq!(
            store.changes().of_all(),
            before,
            "the cut counted as a change"
        );

        // The control: a commit and then a cut from a connection of another process.
        let other = Connection::open(&path).unwrap();
        other
            .execute("INSERT INTO scratch VALUES (randomblob(10))", [])
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        store.notice_other_commits().unwrap();
        let after_commit = store.changes().of_all();
        assert_ne!(after_commit, before, "another process's commit unseen");
        other
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        store.notice_other_commits().unwrap();
        assert_ne!(
            store.changes().of_all(),
            after_commit,
            "a cut by another connection should look like a commit to the watch"
        );
    }
}

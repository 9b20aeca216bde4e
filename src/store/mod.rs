//! SQLite storage: sources with their fetch state, every item with the classifier's
//! decision and topics, and which published feeds each write changed.
//!
//! # Connections
//! - **One writer connection**, behind a mutex. Fetched feeds go to a writer thread of
//!   their own, which stores the feeds queued together in one transaction, so a crash
//!   loses at most the batch, never half a feed; when a feed fails, the batch is
//!   stored again with each feed in its own savepoint, so that it is rolled back
//!   alone. Other writes ([`Store::call`]) take the same
//!   connection between batches.
//! - **Readers**: listings, lookups, the served feeds and `/healthz` run on read-only
//!   connections of a small pool, on blocking threads, so they never wait behind the
//!   writer (WAL lets them read the last commit while it writes).
//! - **A watch connection** notices commits by other processes (`PRAGMA data_version`).
//! - **A checkpoint connection** copies the log back into the database on a thread of
//!   its own ([`checkpoint`]), so that the writer never waits for an `fsync`.
//!
//! # Consequences
//! The store records in [`Changes`] what each of its commits changed (see there); the
//! server's catalog reads it, so a cached feed can never outlive the items it shows.

pub mod backup;
pub mod changes;
mod checkpoint;
pub mod clusters;
mod codec;
pub mod corrections;
pub mod items;
pub mod lookup;
mod prepared;
pub mod published;
pub mod queries;
pub mod retention;
pub mod rows;
mod schema;
pub mod sources;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

pub use changes::Changes;
pub use items::{IngestSummary, ItemFilter, RetagSummary};
pub use prepared::{prepare, PreparedFeed};
pub use rows::StoredItem;
pub use sources::{FetchRecord, SourceState, SourceStatus};

use crate::dedup::Policy;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "database {path} cannot be written ({reason}); this command writes to it. \
`items`, `sources`, `explain` and `export` read a database they cannot write"
    )]
    ReadOnly { path: String, reason: String },
    #[error(
        "database {path} has schema version {found}, older than this entente's ({known}), \
and cannot be written to migrate it: run a command that writes (e.g. `entente check`) \
where the database is writable"
    )]
    OlderSchemaReadOnly {
        path: String,
        found: usize,
        known: usize,
    },
    #[error("cannot create the database folder {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the database has schema version {found}, newer than this entente knows ({known}): run the newer entente, or restore a backup taken with this one"
    )]
    NewerSchema { found: usize, known: usize },
    #[error("cannot back up to {dest}: {problem}")]
    Backup { dest: String, problem: String },
    #[error("no item matches `{0}` (give an item id, key or link)")]
    NotFound(String),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database task failed: {0}")]
    Task(String),
    #[error("the transaction of a batch of {feeds} feeds failed to commit: {message}")]
    BatchCommit { feeds: usize, message: String },
}

/// At most this many fetched feeds share one transaction.
const MAX_BATCH: usize = 32;
/// SQLite's page cache per connection, in KiB: the writer's holds the indexes that
/// every ingest walks; a reader's, a feed's worth of rows.
const WRITER_CACHE_KIB: i64 = 4 * 1024;
const READER_CACHE_KIB: i64 = 2 * 1024;
/// How long the writer waits for the write lock another process holds (a daemon's
/// long ingest, a `retag` beside it) before it gives up: its turn comes when that
/// transaction ends, so it waits for it rather than fail part-way. Readers rarely
/// wait at all (WAL), and `/healthz` bounds its own probe.
const WRITER_BUSY: Duration = Duration::from_secs(600);
const READER_BUSY: Duration = Duration::from_secs(10);
/// The page cache of a reader after [`Store::read_in_bulk`], in KiB: filled only as
/// pages are read, so a smaller database takes less.
const BULK_READER_CACHE_KIB: i64 = 256 * 1024;
/// Idle read connections kept open.
const IDLE_READERS: usize = 4;
/// How often, at most, the served files ask SQLite whether another process committed.
const WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// A fetched feed to store: its items with their decisions and the fetch record.
struct IngestJob {
    source_id: String,
    items: PreparedFeed,
    record: FetchRecord,
    policy: Policy,
    reply: oneshot::Sender<Result<IngestSummary, StoreError>>,
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

struct Shared {
    /// First, so that it is stopped (and its connection closed) before the writer's
    /// connection closes, the last, which then removes the log. `None` read-only.
    checkpointer: Option<checkpoint::Checkpointer>,
    path: PathBuf,
    jobs: Mutex<mpsc::Sender<IngestJob>>,
    readers: Mutex<Vec<Connection>>,
    watch: Mutex<Watch>,
    /// After every other connection (fields drop in order): SQLite removes the log
    /// only when the last connection closes, and only a writing one can.
    writer: Mutex<Writer>,
    /// When the watch connection was last asked: µs since `opened`, plus one interval
    /// (0: never).
    watched_at: AtomicU64,
    opened: Instant,
    changes: Arc<Changes>,
    /// Opened by [`Store::open_read_only`]: every write is refused before it reaches
    /// SQLite.
    read_only: bool,
    /// The page cache of the read connections opened from now on, in KiB (see
    /// [`Store::read_in_bulk`]).
    reader_cache_kib: AtomicI64,
}

/// The writing connection, and its `data_version` after its last job: its own commits
/// never move it, so a change means another process committed.
struct Writer {
    conn: Connection,
    version: i64,
    /// The topics of the clusters the writer's ingests touched, kept from batch to
    /// batch: only its ingests change them in between, and each adds what it writes
    /// ([`clusters::ClusterTopics`]). Any other write, a commit by another process or
    /// a failed batch empties it.
    topics: clusters::ClusterTopics,
}

/// The watch connection and the `data_version` it showed after the writer's last
/// commit: any other value means another process committed since.
struct Watch {
    conn: Connection,
    seen: i64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Store {
    /// Opens (creating if needed) the database, in WAL mode, with the schema up to
    /// date, and starts its writer.
    ///
    /// A database this process cannot write (a read-only file, folder or file system,
    /// an immutable file) is refused with [`StoreError::ReadOnly`] before SQLite opens
    /// it: SQLite would open it read-only without a word, create its `-wal`/`-shm`
    /// files with the database's read-only mode, and fail at the first write.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(reason) = unwritable(path) {
            return Err(StoreError::ReadOnly {
                path: path.display().to_string(),
                reason,
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut writer =
            open_connection(path, OpenFlags::default(), WRITER_CACHE_KIB, WRITER_BUSY)?;
        // Every transaction of the writer takes the write lock when it begins: a deferred
        // one that reads first and then writes fails at once (SQLITE_BUSY, no waiting)
        // when another connection committed in between, e.g. a retag on a connection of
        // its own beside the daemon's writer.
        writer.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|source| open_error(path, source))?;
        schema::migrate(&mut writer)?;
        // A savepoint or a statement that may be undone alone journals the pages it
        // changes first; past 64 KiB SQLite spills that journal to a temporary file,
        // which was 87 % of the writer's write calls (strace: 391,604 of 452,566 for
        // 400 feeds). In memory it holds one feed's pages at most (the batch's
        // fallback, see `ingest_batch`), and is dropped with the savepoint.
        writer
            .pragma_update(None, "temp_store", "MEMORY")
            .map_err(|source| open_error(path, source))?;
        writer.set_prepared_statement_cache_capacity(64);
        // Checkpoints run on the checkpointer's connection, never in a commit of the
        // writer's (see `checkpoint`).
        checkpoint::configure_writer(&writer).map_err(|source| open_error(path, source))?;
        let checkpointer = checkpoint::Checkpointer::start(path)?;
        let watch = open_connection(path, read_only(), 64, READER_BUSY)?;
        Store::start(path.to_path_buf(), writer, watch, Some(checkpointer))
    }

    /// Opens an existing database for reading only, for the commands that only read
    /// (`items`, `sources`, `explain`, `export`) when [`Store::open`] says it cannot be
    /// written. Creates no file: when no `-wal`/`-shm` exist beside it (no process has
    /// it open, and none with this process's rights can write it) it is opened as
    /// immutable, which reads the file alone; otherwise read-only through them.
    /// Every write is then refused with [`StoreError::ReadOnly`].
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(open_error(
                path,
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some("no such file".into()),
                ),
            ));
        }
        let reason = unwritable(path).unwrap_or_else(|| "opened read-only".into());
        let uri = read_only_uri(path);
        let open =
            |cache_kib| open_connection(Path::new(&uri), read_only(), cache_kib, READER_BUSY);
        let writer = open(WRITER_CACHE_KIB)?;
        let found: usize = writer
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|source| open_error(path, source))?;
        let known = schema::known_version();
        if found > known {
            return Err(StoreError::NewerSchema { found, known });
        }
        if found < known {
            return Err(StoreError::OlderSchemaReadOnly {
                path: path.display().to_string(),
                found,
                known,
            });
        }
        let watch = open(64)?;
        let store = Store::start(PathBuf::from(&uri), writer, watch, None)?;
        tracing::info!(database = %path.display(), %reason, "database opened read-only");
        Ok(store)
    }

    /// Starts the writer thread over opened connections; `connect` is what the read
    /// pool opens (the path, or the read-only URI). Without a checkpointer the store is
    /// read-only.
    fn start(
        connect: PathBuf,
        writer: Connection,
        watch: Connection,
        checkpointer: Option<checkpoint::Checkpointer>,
    ) -> Result<Store, StoreError> {
        let read_only = checkpointer.is_none();
        let seen = items::data_version(&watch)?;
        let version = items::data_version(&writer)?;
        let (jobs, queue) = mpsc::channel();
        let shared = Arc::new(Shared {
            checkpointer,
            path: connect,
            writer: Mutex::new(Writer {
                conn: writer,
                version,
                topics: clusters::ClusterTopics::default(),
            }),
            jobs: Mutex::new(jobs),
            readers: Mutex::new(Vec::new()),
            watch: Mutex::new(Watch { conn: watch, seen }),
            watched_at: AtomicU64::new(0),
            opened: Instant::now(),
            changes: Arc::new(Changes::default()),
            read_only,
            reader_cache_kib: AtomicI64::new(READER_CACHE_KIB),
        });
        // The thread holds the shared state weakly: it ends once the last handle is
        // dropped and the queue is drained.
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("entente-writer".into())
            .spawn(move || writer_loop(&queue, &weak))
            .map_err(|e| StoreError::Task(format!("cannot start the database writer: {e}")))?;
        Ok(Store { shared })
    }

    /// Gives the read connections opened from now on a page cache that holds what a
    /// command reads, for one that reads much of the file several times: `export`
    /// renders every published file, and each listing walks the relevant items again
    /// (through the 2 MiB cache, 710,000 reads of 4 KiB, 2.8 GB copied, for the 136
    /// files of a 100,000-item database). Mapping the file instead (`mmap_size`)
    /// removed the copies but SQLite parses a mapped page again at each visit
    /// (`btreeInitPage`, 14 % of the export); a cached page stays parsed. Not for the
    /// daemon: its memory would grow with the history.
    pub fn read_in_bulk(&self) {
        self.shared
            .reader_cache_kib
            .store(BULK_READER_CACHE_KIB, Ordering::Relaxed);
        // Idle readers opened before keep their settings: let them go.
        lock(&self.shared.readers).clear();
    }

    /// Whether it was opened by [`Store::open_read_only`], so that every write fails.
    pub fn is_read_only(&self) -> bool {
        self.shared.read_only
    }

    fn refuse_if_read_only(&self) -> Result<(), StoreError> {
        if self.shared.read_only {
            return Err(StoreError::ReadOnly {
                path: self.shared.path.display().to_string(),
                reason: "opened read-only".into(),
            });
        }
        Ok(())
    }

    /// What the store's commits changed, for caches of what it shows (and whoever
    /// waits for a change: the WebSub publisher).
    pub fn changes(&self) -> &Arc<Changes> {
        &self.shared.changes
    }

    /// Counts a commit by another process (another connection, e.g. `entente retag`
    /// beside the daemon) as a change of everything.
    ///
    /// Asks SQLite at most once per [`WATCH_INTERVAL`]; every other call reads the
    /// clock and one atomic, so a served 304 or cached 200 touches no database. After
    /// a pause (a test, an operator running `entente retag` and then asking) the next
    /// call asks at once; under a steady stream of requests another process's commit
    /// is seen within the interval. No timer: an idle daemon does not wake up for it.
    pub fn notice_other_commits(&self) -> Result<(), StoreError> {
        let interval = u64::try_from(WATCH_INTERVAL.as_micros()).unwrap_or(u64::MAX);
        // Offset by one interval, so that the first call asks.
        let now = u64::try_from(self.shared.opened.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .saturating_add(interval);
        let last = self.shared.watched_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) < interval {
            return Ok(());
        }
        // One caller asks; the others trust the versions they have.
        if self
            .shared
            .watched_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Ok(());
        }
        let mut watch = lock(&self.shared.watch);
        let version = items::data_version(&watch.conn)?;
        if version != watch.seen {
            watch.seen = version;
            self.shared.changes.record_all();
        }
        Ok(())
    }

    /// Runs work on the writer's connection, on a blocking thread. Any row it changes
    /// counts as a change of every published file.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.call_blocking(work))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// [`Store::call`] for a write that changes no published file's content (the
    /// published files' own bookkeeping, e.g. when their bytes were first rendered):
    /// recorded as no change, or every render would invalidate every file.
    pub async fn call_unpublished<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.refuse_if_read_only()?;
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut writer = lock(&store.shared.writer);
            store.shared.before_write();
            let result = work(&mut writer.conn);
            store.shared.after_commit(&mut writer);
            result
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// [`Store::call`] on this thread.
    pub fn call_blocking<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.refuse_if_read_only()?;
        let mut writer = lock(&self.shared.writer);
        self.shared.before_write();
        let before = writer.conn.total_changes();
        let result = work(&mut writer.conn);
        if writer.conn.total_changes() != before {
            self.shared.changes.record_all();
            writer.topics.forget();
        }
        self.shared.after_commit(&mut writer);
        result
    }

    /// Stores a fetched feed and its fetch record atomically (see
    /// [`items::ingest_with`]), batched by the writer with the feeds queued with it.
    /// Items given as they are (`Vec<(Item, Decision)>`) are [`prepare`]d on this
    /// thread first, never on the writer's.
    pub async fn ingest(
        &self,
        source_id: &str,
        items: impl Into<PreparedFeed>,
        record: FetchRecord,
        policy: Policy,
    ) -> Result<IngestSummary, StoreError> {
        self.submit_ingest(source_id, items, record, policy)?
            .await
            .map_err(|_| writer_gone())?
    }

    /// [`Store::ingest`] outside an async runtime.
    pub fn ingest_blocking(
        &self,
        source_id: &str,
        items: impl Into<PreparedFeed>,
        record: FetchRecord,
        policy: Policy,
    ) -> Result<IngestSummary, StoreError> {
        self.submit_ingest(source_id, items, record, policy)?
            .blocking_recv()
            .map_err(|_| writer_gone())?
    }

    fn submit_ingest(
        &self,
        source_id: &str,
        items: impl Into<PreparedFeed>,
        record: FetchRecord,
        policy: Policy,
    ) -> Result<oneshot::Receiver<Result<IngestSummary, StoreError>>, StoreError> {
        self.refuse_if_read_only()?;
        let (reply, answer) = oneshot::channel();
        let job = IngestJob {
            source_id: source_id.to_string(),
            items: items.into(),
            record,
            policy,
            reply,
        };
        lock(&self.shared.jobs)
            .send(job)
            .map_err(|_| writer_gone())?;
        Ok(answer)
    }

    /// Runs a read on a read-only connection of the pool, on a blocking thread.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(work))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// [`Store::read`] on this thread.
    pub fn read_blocking<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = lock(&self.shared.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(
                &self.shared.path,
                read_only(),
                self.shared.reader_cache_kib.load(Ordering::Relaxed),
                READER_BUSY,
            )?,
        };
        let result = work(&conn);
        let mut readers = lock(&self.shared.readers);
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        result
    }
}

fn writer_gone() -> StoreError {
    StoreError::Task("the database writer stopped".into())
}

fn read_only() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

/// Why this process cannot write the database at `path` (or, when it does not exist
/// yet, create it), or `None` when it can. Asks the file system, as SQLite would find
/// out: a write open of the file, and write access to the folder when its `-wal` file
/// would have to be created there.
fn unwritable(path: &Path) -> Option<String> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    if path.exists() {
        if let Err(err) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
        {
            return Some(err.to_string());
        }
        if sidecar(path, "-wal").exists() {
            return None;
        }
    } else if !dir.exists() {
        return None; // Store::open creates it, or says why not
    }
    rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK)
        .err()
        .map(|errno| format!("folder {}: {}", dir.display(), std::io::Error::from(errno)))
}

/// `path` with `suffix` appended: SQLite's `-wal` and `-shm` files.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The URI that opens `path` read-only, and immutable when no `-wal`/`-shm` file is
/// beside it, so that SQLite creates none (it would give them the database's mode, and
/// leave them behind read-only).
fn read_only_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.display().to_string().chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro");
    if !sidecar(path, "-wal").exists() && !sidecar(path, "-shm").exists() {
        uri.push_str("&immutable=1");
    }
    uri
}

fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        source,
    }
}

fn open_connection(
    path: &Path,
    flags: OpenFlags,
    cache_kib: i64,
    busy: Duration,
) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    let setup = || -> rusqlite::Result<()> {
        conn.busy_timeout(busy)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Negative: KiB rather than pages.
        conn.pragma_update(None, "cache_size", -cache_kib)?;
        Ok(())
    };
    setup().map_err(|e| open_error(path, e))?;
    Ok(conn)
}

/// The writer thread: stores the fetched feeds in the order they come, those queued
/// together in one batch, until every handle is gone.
fn writer_loop(queue: &mpsc::Receiver<IngestJob>, shared: &std::sync::Weak<Shared>) {
    // The pipeline's shape, at debug level: how long the writer waited for work and how
    // large its batches are (BENCHMARKS.md, branch pass4).
    let mut idle_since = Instant::now();
    loop {
        let first = match queue.recv_timeout(checkpoint::IDLE) {
            Ok(job) => job,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                shared.cut_idle_log();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let waited = idle_since.elapsed();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let mut writer = lock(&shared.writer);
        shared.before_write();
        let (feeds, items) = (
            batch.len(),
            batch.iter().map(|j| j.items.len()).sum::<usize>(),
        );
        let busy = Instant::now();
        let Writer { conn, topics, .. } = &mut *writer;
        let answers = ingest_batch(conn, topics, batch, &shared.changes);
        tracing::debug!(
            feeds,
            items,
            waited_us = waited.as_micros() as u64,
            busy_us = busy.elapsed().as_micros() as u64,
            "Writer batch stored."
        );
        // Before the answers, so that a caller who reads next sees its own commit as
        // its own, not as another process's.
        shared.after_commit(&mut writer);
        drop(writer);
        // Before the answers too: a caller that drops the last handle once answered
        // (`entente fetch`, then the process ends) closes the store itself, with the
        // checkpointer's last copy and the log's removal, rather than this thread
        // racing the process's exit.
        drop(shared);
        for (reply, result) in answers {
            let _ = reply.send(result);
        }
        idle_since = Instant::now();
    }
}

impl Shared {
    /// Before work on the writer's connection, with its lock held: see
    /// [`checkpoint::Checkpointer::before_write`].
    fn before_write(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.before_write();
        }
    }

    /// When the writer has had no work for [`checkpoint::IDLE`]: cuts the log down
    /// ([`checkpoint::Checkpointer::cut_idle_log`]), on the writer's connection, so
    /// that its own counter does not take it for another process's commit, and then
    /// counts it in the watch connection's as after a commit.
    fn cut_idle_log(&self) {
        let Some(checkpointer) = &self.checkpointer else {
            return;
        };
        if !checkpointer.idle_log_to_cut() {
            return;
        }
        let mut writer = lock(&self.writer);
        checkpointer.cut_idle_log(&writer.conn, WRITER_BUSY);
        self.after_commit(&mut writer);
    }

    /// After the writer's commit: the checkpointer has log to copy back, and the watch
    /// connection's counter now includes it. A commit by another process since the
    /// writer's last job shows in the writer's own counter, and counts as a change of
    /// everything.
    fn after_commit(&self, writer: &mut Writer) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        {
            let mut watch = lock(&self.watch);
            if let Ok(version) = items::data_version(&watch.conn) {
                watch.seen = version;
            }
        }
        if let Ok(version) = items::data_version(&writer.conn) {
            if version != writer.version {
                writer.version = version;
                self.changes.record_all();
                writer.topics.forget();
            }
        }
    }
}

/// The answer to one feed's caller.
type Answer = (
    oneshot::Sender<Result<IngestSummary, StoreError>>,
    Result<IngestSummary, StoreError>,
);

/// Stores a batch of feeds in one transaction and records what changed; returns each
/// feed's answer.
///
/// First all together, without savepoints: a savepoint per feed copies every page the
/// feed changes to a journal first, so that the feed can be undone alone (with the
/// items' `OR FAIL`, 4,662 of 36,324 pages journaled for 2,000 items in callgrind).
/// Feeds almost never fail; when one does, that transaction is rolled back whole
/// (nothing of the batch is stored) and the batch is stored again with each feed in a
/// savepoint of its own, so that the failing feed is rolled back alone and the others
/// are stored. Either way a feed is
/// stored whole with its fetch state, or not at all.
fn ingest_batch(
    conn: &mut Connection,
    topics: &mut clusters::ClusterTopics,
    mut batch: Vec<IngestJob>,
    changes: &Changes,
) -> Vec<Answer> {
    topics.forget_if_larger_than(clusters::CLUSTERS_REMEMBERED);
    let (results, committed) = match store_together(conn, topics, &mut batch) {
        Together::Stored(summaries) => (summaries.into_iter().map(Ok).collect(), Ok(())),
        Together::Failed(error) => (Vec::new(), Err(error)),
        Together::FeedFailed => {
            // What the rolled-back feeds added is more than the truth, which would only
            // report a feed as changed that is not; forgotten all the same, as rare.
            topics.forget();
            store_each_in_savepoint(conn, &mut batch)
        }
    };
    let feeds = batch.len();
    let mut answers = Vec::with_capacity(feeds);
    for (job, result) in batch
        .into_iter()
        .zip(results.into_iter().chain(std::iter::repeat_with(|| {
            Err(StoreError::Task("not run".into()))
        })))
    {
        let result = match (&committed, result) {
            (Ok(()), Ok(summary)) => {
                if summary.relevant_changed > 0 {
                    changes.record(&summary.changed_topics);
                }
                Ok(summary)
            }
            (Ok(()), Err(error)) => Err(error),
            (Err(error), _) => Err(StoreError::BatchCommit {
                feeds,
                message: error.to_string(),
            }),
        };
        answers.push((job.reply, result));
    }
    answers
}

/// How storing a batch in one transaction without savepoints ended.
enum Together {
    Stored(Vec<IngestSummary>),
    /// A feed failed, and the transaction was rolled back: nothing is stored.
    FeedFailed,
    /// The transaction could not begin or commit: nothing is stored.
    Failed(rusqlite::Error),
}

fn store_together(
    conn: &mut Connection,
    topics: &mut clusters::ClusterTopics,
    batch: &mut [IngestJob],
) -> Together {
    let tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(error) => return Together::Failed(error),
    };
    let mut summaries = Vec::with_capacity(batch.len());
    for job in batch.iter_mut() {
        match store_job(&tx, job, topics) {
            Ok(summary) => summaries.push(summary),
            // Dropping the transaction rolls it back.
            Err(_) => return Together::FeedFailed,
        }
    }
    match tx.commit() {
        Ok(()) => Together::Stored(summaries),
        Err(error) => Together::Failed(error),
    }
}

/// The batch in one transaction, each feed in a savepoint of its own: each feed's
/// result, and whether the transaction committed.
fn store_each_in_savepoint(
    conn: &mut Connection,
    batch: &mut [IngestJob],
) -> (
    Vec<Result<IngestSummary, StoreError>>,
    Result<(), rusqlite::Error>,
) {
    let mut results: Vec<Result<IngestSummary, StoreError>> = Vec::with_capacity(batch.len());
    let committed = (|| -> Result<(), rusqlite::Error> {
        let mut tx = conn.transaction()?;
        for job in batch.iter_mut() {
            let result = (|| -> Result<IngestSummary, StoreError> {
                let savepoint = tx.savepoint()?;
                // Each its own: what a feed rolled back read must not outlive it.
                let mut topics = clusters::ClusterTopics::default();
                let summary = store_job(&savepoint, job, &mut topics)?;
                savepoint.commit()?;
                Ok(summary)
            })();
            results.push(result);
        }
        tx.commit()
    })();
    (results, committed)
}

/// One feed's items and fetch state, inside the caller's transaction or savepoint.
/// Applying the corrections again after a rolled-back try gives the same decisions.
fn store_job(
    conn: &Connection,
    job: &mut IngestJob,
    topics: &mut clusters::ClusterTopics,
) -> Result<IngestSummary, StoreError> {
    // An operator's correction outlives edits of the item it corrects.
    corrections::apply_to_prepared(conn, &mut job.items)?;
    items::ingest_prepared_in(
        conn,
        &job.source_id,
        &mut job.items,
        &job.record,
        &job.policy,
        topics,
    )
}

#[cfg(test)]
mod tests;

//! `entente backup`: a consistent copy of the database through SQLite's online backup
//! API, safe while the daemon writes (WAL: the copy is one read transaction's snapshot;
//! writers are not blocked).

use std::path::Path;

use rusqlite::backup::StepResult;
use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Copies the database at `database` to `dest` and returns the copy's size in bytes.
///
/// The copy is written beside `dest` and renamed into place once complete and checked,
/// so `dest` is never half a database. It is a self-contained file (rollback journal,
/// not WAL), ready to be put in the database's place.
pub fn backup(database: &Path, dest: &Path) -> Result<u64, StoreError> {
    let open_error = |source| StoreError::Open {
        path: database.display().to_string(),
        source,
    };
    if !database.exists() {
        return Err(StoreError::Backup {
            dest: dest.display().to_string(),
            problem: format!("the database {} does not exist", database.display()),
        });
    }
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(open_error)?;
    source
        .busy_timeout(std::time::Duration::from_secs(10))
        .map_err(open_error)?;
    let mut partial_name = dest.file_name().unwrap_or_default().to_os_string();
    partial_name.push(".partial");
    let partial = dest.with_file_name(partial_name);
    let failed = |source: rusqlite::Error| StoreError::Backup {
        dest: dest.display().to_string(),
        problem: source.to_string(),
    };
    let _ = std::fs::remove_file(&partial);
    {
        let mut copy = Connection::open(&partial).map_err(failed)?;
        {
            let backup = rusqlite::backup::Backup::new(&source, &mut copy).map_err(failed)?;
            // All pages in one step: one snapshot, never restarted by the daemon's
            // writes as a stepwise copy would be.
            loop {
                match backup.step(-1).map_err(failed)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    // The database is locked by a writer for the moment: try again.
                    StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                    }
                    _ => {}
                }
            }
        }
        copy.pragma_update(None, "journal_mode", "DELETE")
            .map_err(failed)?;
        let check: String = copy
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(failed)?;
        if check != "ok" {
            return Err(StoreError::Backup {
                dest: dest.display().to_string(),
                problem: format!("the copy fails its check: {check}"),
            });
        }
    }
    std::fs::rename(&partial, dest).map_err(|e| StoreError::Backup {
        dest: dest.display().to_string(),
        problem: e.to_string(),
    })?;
    Ok(std::fs::metadata(dest).map_or(0, |m| m.len()))
}

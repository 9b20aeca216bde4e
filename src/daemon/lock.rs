//! One daemon per database: an advisory lock on a pid file beside it, and the small
//! status file the command line reads while the daemon runs.
//!
//! The pid file (`DB.pid`) is locked with `flock` for as long as the daemon runs; the
//! kernel releases the lock when the process ends, however it ends, so a stale file
//! never blocks a restart. Whether a daemon is running is the lock's state, never the
//! file's existence.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::serve::ConfigStatus;

/// Why the lock could not be taken or read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another entente daemon (pid {pid}) is running on {database}: stop it first, or give this one another database")]
    Held { pid: String, database: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("advisory locks are not supported on this platform")]
    Unsupported,
}

/// The pid file beside `database`.
pub fn pid_path(database: &Path) -> PathBuf {
    beside(database, "pid")
}

/// The status file beside `database` (JSON: [`ConfigStatus`]).
pub fn status_path(database: &Path) -> PathBuf {
    beside(database, "daemon.json")
}

fn beside(database: &Path, extension: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LockError + '_ {
    move |source| LockError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Held while the daemon runs; dropping it releases the lock.
#[derive(Debug)]
pub struct PidLock {
    _file: File,
    status_path: PathBuf,
}

impl PidLock {
    /// Takes the lock for `database` and writes our pid, or says who holds it.
    pub fn acquire(database: &Path) -> Result<PidLock, LockError> {
        let path = pid_path(database);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error(&path))?;
        if !try_lock(&file, true).map_err(io_error(&path))? {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            return Err(LockError::Held {
                pid: pid.trim().to_string(),
                database: database.display().to_string(),
            });
        }
        file.set_len(0).map_err(io_error(&path))?;
        file.rewind().map_err(io_error(&path))?;
        writeln!(file, "{}", std::process::id()).map_err(io_error(&path))?;
        file.flush().map_err(io_error(&path))?;
        Ok(PidLock {
            _file: file,
            status_path: status_path(database),
        })
    }

    /// Publishes the configuration's state for `entente sources`.
    pub fn write_status(&self, status: &ConfigStatus) -> Result<(), LockError> {
        let path = &self.status_path;
        let json = serde_json::to_vec_pretty(status).expect("the status serializes");
        // Written beside and renamed, so that a reader never sees half a file.
        let partial = beside(path, "partial");
        std::fs::write(&partial, json).map_err(io_error(&partial))?;
        std::fs::rename(&partial, path).map_err(io_error(path))
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.status_path);
    }
}

/// The pid of the daemon running on `database`, if one is.
pub fn running(database: &Path) -> Result<Option<u32>, LockError> {
    let path = pid_path(database);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error(&path)(err)),
    };
    // If a shared lock can be had, nobody holds the exclusive one.
    if try_lock(&file, false).map_err(io_error(&path))? {
        return Ok(None);
    }
    let mut pid = String::new();
    file.read_to_string(&mut pid).map_err(io_error(&path))?;
    Ok(pid.trim().parse().ok())
}

/// The daemon's configuration status, while a daemon runs on `database`.
pub fn daemon_status(database: &Path) -> Option<ConfigStatus> {
    running(database).ok().flatten()?;
    let text = std::fs::read(status_path(database)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Asks the daemon with this pid to reload its configuration (SIGHUP).
pub fn signal_reload(pid: u32) -> Result<(), LockError> {
    #[cfg(unix)]
    {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| LockError::Io {
                path: format!("pid {pid}"),
                source: std::io::Error::other("not a process id"),
            })?;
        rustix::process::kill_process(pid, rustix::process::Signal::HUP).map_err(|e| {
            LockError::Io {
                path: format!("pid {}", pid.as_raw_nonzero()),
                source: e.into(),
            }
        })
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        Err(LockError::Unsupported)
    }
}

/// Tries a non-blocking `flock`; false when another process holds a conflicting lock.
fn try_lock(file: &File, exclusive: bool) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        let operation = if exclusive {
            FlockOperation::NonBlockingLockExclusive
        } else {
            FlockOperation::NonBlockingLockShared
        };
        match flock(file, operation) {
            Ok(()) => {
                if !exclusive {
                    flock(file, FlockOperation::Unlock)?;
                }
                Ok(true)
            }
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, exclusive);
        Ok(true)
    }
}

//! A database this process cannot write: the reading commands read it, the writing
//! ones say so, and nothing is left beside it. As root (CI), file modes do not bind,
//! so the commands run as `nobody` through `setpriv`; as another user the files are
//! made read-only.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{rss, text, FeedServer, Route, TestConfig};

/// How the commands run without the right to write the database.
enum Reader {
    /// Running as root: as `nobody`, through `setpriv`.
    Nobody,
    /// Running as an ordinary user: the files are made read-only.
    Myself,
}

impl Reader {
    fn find() -> Option<Reader> {
        if !rustix::process::geteuid().is_root() {
            return Some(Reader::Myself);
        }
        let usable = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .status()
            .is_ok_and(|s| s.success());
        usable.then_some(Reader::Nobody)
    }

    fn run(&self, config: &Path, args: &[&str]) -> Output {
        let mut command = match self {
            Reader::Nobody => {
                let mut c = Command::new("setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
                c.arg(env!("CARGO_BIN_EXE_entente"));
                c
            }
            Reader::Myself => Command::new(env!("CARGO_BIN_EXE_entente")),
        };
        command
            .arg("--config")
            .arg(config)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run entente")
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn sidecars(database: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", database.display())))
        .filter(|p| p.exists())
        .collect()
}

/// Checkpoints the WAL and removes `-wal` and `-shm`, as the last connection to close
/// does: a database nobody has open (an entente command leaves them; SQLite reads
/// them back).
fn close_last(database: &Path) {
    let last = rusqlite::Connection::open(database).unwrap();
    let _: i64 = last
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    drop(last);
    assert!(sidecars(database).is_empty(), "{:?}", sidecars(database));
}

/// A config whose database holds a fetched feed of three relevant items, closed.
fn fetched(server: &FeedServer) -> TestConfig {
    let items = [
        (
            "ro-1",
            "Tokayev and Macron sign a uranium agreement in Astana",
            "Kazakhstan and France.",
            "Mon, 02 Mar 2026 10:00:00 +0000",
        ),
        (
            "ro-2",
            "France and Kazakhstan open a new air route to Almaty",
            "Air Astana and Air France.",
            "Mon, 02 Mar 2026 11:00:00 +0000",
        ),
        (
            "ro-3",
            "Macron meets Tokayev on critical minerals",
            "Kazakhstan France talks.",
            "Mon, 02 Mar 2026 12:00:00 +0000",
        ),
    ];
    server.route("/feed.xml", Route::rss(rss(&items)));
    let config = TestConfig::new(&[("news", server.url("/feed.xml"))], "");
    let fetch = config.entente(&["fetch"]);
    assert!(fetch.status.success(), "fetch: {}", text(&fetch.stderr));
    close_last(&config.database());
    chmod(config.dir.path(), 0o755);
    config
}

fn ids(listing: &Output) -> Vec<String> {
    assert!(listing.status.success(), "items: {}", text(&listing.stderr));
    let items: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let mut ids: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["link"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_reading_commands_read_a_database_in_a_folder_nobody_may_write() {
    let Some(reader) = Reader::find() else {
        println!("skipped: running as root without a usable setpriv");
        return;
    };
    let server = FeedServer::start();
    let config = fetched(&server);
    let database = config.database();
    let expected = ids(&config.entente(&["items", "--all", "--json"]));
    assert_eq!(expected.len(), 3, "{expected:?}");
    close_last(&database);
    let data = database.parent().unwrap();
    chmod(&database, 0o444);
    chmod(data, 0o555);

    assert_eq!(
        ids(&reader.run(&config.path, &["items", "--all", "--json"])),
        expected
    );
    let sources = reader.run(&config.path, &["sources", "--json"]);
    assert!(
        sources.status.success(),
        "sources: {}",
        text(&sources.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&sources.stdout).unwrap();
    assert_eq!(listed[0]["id"], "news");
    assert_eq!(listed[0]["status"], "ok", "{listed}");
    let explain = reader.run(&config.path, &["explain", &expected[0]]);
    assert!(
        explain.status.success(),
        "explain: {}",
        text(&explain.stderr)
    );
    assert!(
        text(&explain.stdout).contains("Title: "),
        "{}",
        text(&explain.stdout)
    );

    // export writes its files elsewhere, and the same files a writable database gives.
    let out = config.dir.path().join("site");
    std::fs::create_dir(&out).unwrap();
    chmod(&out, 0o777);
    let export = reader.run(&config.path, &["export", "--out", out.to_str().unwrap()]);
    assert!(export.status.success(), "export: {}", text(&export.stderr));
    let all = std::fs::read_to_string(out.join("feeds/all.rss")).unwrap();
    for link in &expected {
        assert!(all.contains(link.as_str()), "{link} missing from all.rss");
    }

    // A command that writes says why it cannot, naming the database.
    let fetch = reader.run(&config.path, &["fetch"]);
    assert!(!fetch.status.success());
    let error = text(&fetch.stderr);
    assert!(
        error.contains("cannot be written") && error.contains(&database.display().to_string()),
        "{error}"
    );
    assert!(sidecars(&database).is_empty(), "{:?}", sidecars(&database));

    chmod(data, 0o755);
    chmod(&database, 0o644);
    let reference = config.dir.path().join("reference");
    let export = config.entente(&["export", "--out", reference.to_str().unwrap()]);
    assert!(export.status.success(), "export: {}", text(&export.stderr));
    assert_eq!(files(&out), files(&reference));
}

#[test]
fn a_refused_write_in_a_writable_folder_leaves_no_read_only_wal_behind() {
    let Some(reader) = Reader::find() else {
        println!("skipped: running as root without a usable setpriv");
        return;
    };
    let server = FeedServer::start();
    let config = fetched(&server);
    let database = config.database();
    let data = database.parent().unwrap();
    chmod(&database, 0o444);
    chmod(data, 0o777); // the folder is anyone's: SQLite could create -wal/-shm there

    for args in [&["fetch"][..], &["retag"][..]] {
        let refused = reader.run(&config.path, args);
        assert!(!refused.status.success(), "{args:?} succeeded");
        assert!(
            text(&refused.stderr).contains("cannot be written"),
            "{}",
            text(&refused.stderr)
        );
        assert!(
            sidecars(&database).is_empty(),
            "{args:?} left {:?}",
            sidecars(&database)
        );
    }
    let listing = reader.run(&config.path, &["items", "--all", "--json"]);
    assert_eq!(ids(&listing).len(), 3);
    assert!(
        sidecars(&database).is_empty(),
        "items left {:?}",
        sidecars(&database)
    );

    // The owner writes it again at once: nothing read-only stands in the way.
    chmod(&database, 0o644);
    let fetch = config.entente(&["fetch"]);
    assert!(fetch.status.success(), "fetch: {}", text(&fetch.stderr));
}

#[test]
fn a_database_another_process_has_open_reads_through_its_wal() {
    let Some(reader) = Reader::find() else {
        println!("skipped: running as root without a usable setpriv");
        return;
    };
    let server = FeedServer::start();
    let config = fetched(&server);
    let database = config.database();
    // Another process (a daemon) holds it open in WAL mode, with a commit only in the
    // WAL: the reader must see it, so it reads through -wal/-shm, not the file alone.
    let holder = rusqlite::Connection::open(&database).unwrap();
    holder.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    holder
        .execute(
            "UPDATE sources SET name = 'Renamed in the WAL' WHERE id = 'news'",
            [],
        )
        .unwrap();
    assert!(!sidecars(&database).is_empty());
    chmod(&database, 0o444);
    chmod(database.parent().unwrap(), 0o555);
    for sidecar in sidecars(&database) {
        chmod(&sidecar, 0o444);
    }
    let listing = reader.run(&config.path, &["items", "--all", "--json"]);
    assert_eq!(ids(&listing).len(), 3);
    let sources = reader.run(&config.path, &["sources", "--json"]);
    assert!(
        sources.status.success(),
        "sources: {}",
        text(&sources.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&sources.stdout).unwrap();
    assert_eq!(listed[0]["name"], "Renamed in the WAL", "{listed}");
    chmod(database.parent().unwrap(), 0o755);
    drop(holder);
}

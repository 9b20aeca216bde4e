//! The daemon as a process, with its database busy or unavailable: a flood of relevant
//! items being stored does not make `/healthz` or a cached feed wait, and commands run
//! beside it complete; a database that does not answer makes `/healthz` say 503 and
//! why, and 200 again once it answers.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{entente_command, http_get, rss, text, FeedServer, Route, TestConfig};
use crate::common::{free_port, wait_for, KillOnDrop as Killed};

/// A feed of `count` relevant items, each a different story.
fn flood(count: usize) -> String {
    let items: Vec<(String, String)> = (0..count)
        .map(|i| {
            (
                format!("flood-{i}"),
                format!("Tokayev and Macron sign agreement {i} on uranium deliveries in Astana"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|(guid, title)| {
            (
                guid.as_str(),
                title.as_str(),
                "The presidents of Kazakhstan and France met for talks on energy.",
                "Mon, 02 Mar 2026 10:00:00 +0000",
            )
        })
        .collect();
    rss(&borrowed)
}

/// Starts `entente run`, its log lines (stderr) sent to the returned channel.
fn start_daemon(config: &TestConfig, addr: &str) -> (Killed, mpsc::Receiver<String>) {
    let mut child = entente_command(&config.path, &["run", "--listen", addr])
        .env("RUST_LOG", "entente=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (Killed(child), log)
}

fn healthz(addr: &str) -> Option<(u16, serde_json::Value)> {
    let (status, _, body) = http_get(addr, "/healthz", &[]).ok()?;
    Some((status, serde_json::from_slice(&body).ok()?))
}

/// The source's status as the database has it now (a read that waits for no writer).
fn source_status(config: &TestConfig, id: &str) -> String {
    let db = rusqlite::Connection::open_with_flags(
        config.database(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT status FROM sources WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn a_flood_being_stored_does_not_stall_healthz_a_cached_feed_or_commands_beside_it() {
    const ITEMS: usize = 6000;
    let server = FeedServer::start();
    server.route(
        "/small.rss",
        Route::rss(rss(&[(
            "small-1",
            "Kazakhstan and France agree on a new air route to Paris",
            "Air Astana and Air France.",
            "Mon, 02 Mar 2026 09:00:00 +0000",
        )])),
    );
    // Late, so that the small feed is stored and served from the cache first.
    server.route(
        "/flood.rss",
        Route::rss(flood(ITEMS)).delayed(Duration::from_secs(3)),
    );
    let config = TestConfig::new(
        &[
            ("small", server.url("/small.rss")),
            ("flood", server.url("/flood.rss")),
        ],
        &format!("schedule = \"0 0 1 1 *\"\n[daemon.limits]\nmax_items_per_fetch = {ITEMS}"),
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let (_daemon, log) = start_daemon(&config, &addr);

    let cached = wait_for(Duration::from_secs(60), || {
        let (status, headers, body) = http_get(&addr, "/feeds/all.rss", &[]).ok()?;
        (status == 200 && text(&body).contains("air route")).then(|| headers["etag"].clone())
    })
    .expect("the small feed is served");

    // Until the daemon starts storing the flood (after fetching and classifying it).
    let started = Instant::now();
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(120))
            .expect("the daemon logs that it stores the flood");
        if line.contains("Storing the feed.") && line.contains(&format!("items={ITEMS}")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no flood ingest"
        );
    }

    // Commands beside the daemon, started while it writes.
    let site = config.dir.path().join("site");
    let export = Killed(
        entente_command(&config.path, &["export", "--out", site.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let retag = Killed(
        entente_command(&config.path, &["retag"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );

    // While the flood is stored (its source still pending), both answer.
    let mut answered_while_pending = 0;
    while source_status(&config, "flood") == "pending" {
        let (status, body) = healthz(&addr).expect("healthz answers");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok");
        let (status, _, _) = http_get(&addr, "/feeds/all.rss", &[("If-None-Match", &cached)])
            .expect("the cached feed answers");
        if status != 304 && source_status(&config, "flood") != "pending" {
            // The flood committed between the check above and this request: the
            // feed changed, rightly.
            break;
        }
        assert_eq!(status, 304);
        if source_status(&config, "flood") == "pending" {
            answered_while_pending += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        answered_while_pending > 0,
        "the ingest ended before anything was asked: make the flood larger"
    );
    assert_eq!(source_status(&config, "flood"), "ok");

    for (name, mut command) in [("export", export), ("retag", retag)] {
        let status = command.0.wait().unwrap();
        let mut stderr = String::new();
        command
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(status.success(), "{name} beside the daemon: {stderr}");
    }
    // One set of rules: a retag now, with the same rules, changes nothing.
    let again = config.entente(&["retag", "--dry-run"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).starts_with("retag would change 0 of"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(config.stored_items(), ITEMS + 1);
}

/// Holds every WAL read lock of `shm` (the byte range the WAL format reserves for
/// them), from a process of its own, as a stuck or hostile process could: no
/// connection can begin a read until it lets go.
fn hold_read_locks(shm: &std::path::Path) -> Option<Killed> {
    let script = "import fcntl, os, sys\n\
fd = os.open(sys.argv[1], os.O_RDWR)\n\
fcntl.lockf(fd, fcntl.LOCK_EX, 5, 123, os.SEEK_SET)\n\
print('held', flush=True)\n\
sys.stdin.read()\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(shm)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held");
    Some(Killed(child))
}

#[test]
fn healthz_says_503_while_the_database_does_not_answer_and_200_once_it_does() {
    let server = FeedServer::start();
    server.route(
        "/f.rss",
        Route::rss(rss(&[(
            "h-1",
            "Tokayev and Macron sign a strategic partnership in Astana",
            "Kazakhstan and France.",
            "Mon, 02 Mar 2026 10:00:00 +0000",
        )])),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "schedule = \"0 0 1 1 *\"");
    let addr = format!("127.0.0.1:{}", free_port());
    let (_daemon, _log) = start_daemon(&config, &addr);
    wait_for(Duration::from_secs(60), || {
        let (status, body) = healthz(&addr)?;
        (status == 200 && source_status(&config, "f") == "ok").then_some(body)
    })
    .expect("the daemon is healthy after its first fetch");

    let shm = std::path::PathBuf::from(format!("{}-shm", config.database().display()));
    let Some(locker) = hold_read_locks(&shm) else {
        if std::env::var("ENTENTE_REQUIRE_PYTHON").is_ok_and(|v| v == "1") {
            panic!("python3 is required (ENTENTE_REQUIRE_PYTHON is set)");
        }
        println!("skipped: python3 is missing (it holds the database's locks)");
        return;
    };
    let (status, body) = healthz(&addr).expect("healthz answers, within its own timeout");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"]["ok"], false);
    let reason = body["database"]["error"].as_str().unwrap_or_default();
    assert!(!reason.is_empty(), "503 gives the reason: {body}");

    drop(locker);
    let (status, body) = wait_for(Duration::from_secs(30), || {
        healthz(&addr).filter(|(status, _)| *status == 200)
    })
    .expect("healthy again once the database answers");
    assert_eq!(status, 200);
    assert_eq!(body["database"]["ok"], true, "{body}");
}

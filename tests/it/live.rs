//! The daemon over weeks, as a process: live reload (file edits, SIGHUP, `entente
//! reload`), refused edits, a rules change reaching the feeds, one daemon per
//! database, shutdown during a long fetch, retention.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::wait_for;
use crate::common::{entente_command, http_get, rss, text, FeedServer, Route, TestConfig};

/// A schedule that never fires during a test: runs happen at start, on reload or not.
const NEVER: &str = "0 0 1 1 *";

fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// `entente run` as a child process, its log collected; killed when dropped.
struct Running {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Running {
    fn start(config: &TestConfig) -> Running {
        let addr = free_addr();
        let mut child = entente_command(&config.path, &["run", "--listen", &addr])
            .env("RUST_LOG", "entente=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let running = Running { child, addr, log };
        let up = wait_for(Duration::from_secs(30), || {
            http_get(&running.addr, "/healthz", &[]).ok()
        });
        assert!(up.is_some(), "the daemon answers: {}", running.log());
        running
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = http_get(&self.addr, path, &[]).unwrap();
        (status, text(&body))
    }

    fn healthz(&self) -> serde_json::Value {
        let (status, body) = self.get("/healthz");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Waits until `path` is served with `needle` in it.
    fn serves(&self, path: &str, needle: &str, limit: Duration) -> bool {
        wait_for(limit, || {
            let (status, body) = self.get(path);
            (status == 200 && body.contains(needle)).then_some(())
        })
        .is_some()
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    fn is_alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `text` to `path` as editors do: a new file renamed over the old one.
fn save_by_rename(path: &Path, text: &str) {
    let partial = path.with_extension("swp");
    std::fs::write(&partial, text).unwrap();
    std::fs::rename(&partial, path).unwrap();
}

fn source_table(id: &str, url: &str) -> String {
    format!("[[source]]\nid = \"{id}\"\nurl = \"{url}\"\n")
}

const DATE: &str = "Mon, 02 Mar 2026 10:00:00 +0000";

/// A feed server with three sources' feeds, each one relevant story.
fn three_feeds() -> FeedServer {
    let server = FeedServer::start();
    let stories = [
        (
            "a",
            "Tokayev and Macron sign a strategic partnership in Astana",
        ),
        ("b", "France and Kazakhstan agree a uranium supply deal"),
        (
            "c",
            "Airbus helicopters for Kazakhstan, says the French embassy",
        ),
    ];
    for (id, title) in stories {
        let body = rss(&[(
            &format!("{id}-1"),
            title,
            "Kazakhstan and France: talks between the two countries.",
            DATE,
        )]);
        server.route(&format!("/{id}.rss"), Route::rss(body));
    }
    server
}

fn daemon_table(extra: &str) -> String {
    format!("schedule = \"{NEVER}\"\n{extra}\n[daemon.limits]\ngrace_secs = 2")
}

#[test]
fn an_added_source_is_fetched_a_broken_edit_is_refused_with_its_position_and_a_fix_applies() {
    let server = three_feeds();
    let config = TestConfig::new(&[("a", server.url("/a.rss"))], &daemon_table(""));
    let mut daemon = Running::start(&config);
    assert!(daemon.serves(
        "/feeds/all.rss",
        "strategic partnership",
        Duration::from_secs(20)
    ));
    let health = daemon.healthz();
    assert!(health["config"]["loaded_at"].is_string(), "{health}");
    assert!(health["config"]["last_reload_error"].is_null(), "{health}");

    let original = std::fs::read_to_string(&config.path).unwrap();
    let with_b = format!("{original}{}", source_table("b", &server.url("/b.rss")));
    save_by_rename(&config.path, &with_b);
    assert!(
        daemon.serves("/feeds/all.rss", "uranium supply", Duration::from_secs(15)),
        "the added source was fetched without a restart: {}",
        daemon.log()
    );

    // A schedule out of range: refused with its position, and nothing of it applies.
    let broken = format!(
        "{with_b}{}schedule = \"61 * * * *\"\n",
        source_table("c", &server.url("/c.rss"))
    );
    let line = broken.lines().count();
    save_by_rename(&config.path, &broken);
    let position = format!("{}:{line}:", config.path.display());
    let logged = wait_for(Duration::from_secs(15), || {
        daemon.log().contains(&position).then_some(())
    });
    assert!(logged.is_some(), "logged at {position}: {}", daemon.log());
    let health = daemon.healthz();
    let problems = health["config"]["last_reload_error"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("{health}"))
        .clone();
    assert!(
        problems[0].as_str().unwrap().starts_with(&position),
        "{problems:?}"
    );
    // The command line reads the same file and says the same.
    let sources = config.entente(&["sources"]);
    assert_eq!(sources.status.code(), Some(1));
    assert!(
        text(&sources.stderr).contains(&position),
        "{}",
        text(&sources.stderr)
    );
    // The old configuration still serves, and the refused source was never fetched.
    assert!(daemon.serves("/feeds/all.rss", "uranium supply", Duration::from_secs(1)));
    assert!(server.requests_to("/c.rss").is_empty());

    let fixed = broken.replace("61 * * * *", NEVER);
    save_by_rename(&config.path, &fixed);
    assert!(
        daemon.serves(
            "/feeds/all.rss",
            "Airbus helicopters",
            Duration::from_secs(15)
        ),
        "the fixed file applied: {}",
        daemon.log()
    );
    assert!(daemon.healthz()["config"]["last_reload_error"].is_null());
    assert!(daemon.is_alive());
}

#[test]
fn a_changed_schedule_applies_and_a_removed_source_stops_with_its_items_kept() {
    let server = three_feeds();
    let config = TestConfig::new(
        &[("a", server.url("/a.rss")), ("b", server.url("/b.rss"))],
        &daemon_table(""),
    );
    let daemon = Running::start(&config);
    assert!(daemon.serves("/feeds/all.rss", "uranium supply", Duration::from_secs(20)));
    assert_eq!(
        server.requests_to("/b.rss").len(),
        1,
        "fetched once, at start"
    );

    // Every second (six fields, seconds first); each firing waits up to 5 s of jitter.
    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let b = source_table("b", &server.url("/b.rss"));
    let every_second = feeds.replace(&b, &format!("{b}schedule = \"* * * * * *\"\n"));
    save_by_rename(&config.path, &every_second);
    let repeated = wait_for(Duration::from_secs(20), || {
        (server.requests_to("/b.rss").len() >= 3).then_some(())
    });
    assert!(
        repeated.is_some(),
        "the new schedule applied: {}",
        daemon.log()
    );

    save_by_rename(&config.path, &feeds.replace(&b, ""));
    let logged = wait_for(Duration::from_secs(10), || {
        daemon.log().contains("removed=1").then_some(())
    });
    assert!(logged.is_some(), "{}", daemon.log());
    // A run in flight may still end; after that, none starts.
    std::thread::sleep(Duration::from_secs(2));
    let after_removal = server.requests_to("/b.rss").len();
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(
        server.requests_to("/b.rss").len(),
        after_removal,
        "b stopped"
    );
    assert!(daemon.serves("/feeds/all.rss", "uranium supply", Duration::from_secs(1)));
    assert_eq!(config.stored_items(), 2, "a removed source's items stay");
}

#[test]
fn sighup_and_entente_reload_reload_and_never_end_the_daemon() {
    let server = three_feeds();
    let config = TestConfig::new(
        &[("a", server.url("/a.rss"))],
        &daemon_table("watch_config = false"),
    );
    let mut daemon = Running::start(&config);
    assert!(daemon.serves(
        "/feeds/all.rss",
        "strategic partnership",
        Duration::from_secs(20)
    ));

    let original = std::fs::read_to_string(&config.path).unwrap();
    let with_b = format!("{original}{}", source_table("b", &server.url("/b.rss")));
    save_by_rename(&config.path, &with_b);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        server.requests_to("/b.rss").is_empty(),
        "without a file watch, an edit waits for SIGHUP"
    );
    daemon.signal("HUP");
    assert!(
        daemon.serves("/feeds/all.rss", "uranium supply", Duration::from_secs(15)),
        "SIGHUP reloaded: {}",
        daemon.log()
    );
    for _ in 0..3 {
        daemon.signal("HUP");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(daemon.is_alive(), "SIGHUP never ends the daemon");
    assert_eq!(daemon.get("/healthz").0, 200);

    // A broken file and SIGHUP: refused. Once the file is valid again but not yet
    // reloaded, `sources` says that the daemon runs on its previous configuration.
    save_by_rename(&config.path, &format!("{with_b}[daemon.nope]\n"));
    daemon.signal("HUP");
    let refused = wait_for(Duration::from_secs(10), || {
        let health = daemon.healthz();
        (!health["config"]["last_reload_error"].is_null()).then_some(health)
    });
    assert!(refused.is_some(), "{}", daemon.log());
    save_by_rename(&config.path, &with_b);
    let listing = text(&config.entente(&["sources"]).stdout);
    assert!(
        listing.contains("rejected the configuration")
            && listing.contains(&format!("{}:", config.path.display())),
        "{listing}"
    );

    let with_c = format!("{with_b}{}", source_table("c", &server.url("/c.rss")));
    save_by_rename(&config.path, &with_c);
    let reload = config.entente(&["reload"]);
    assert!(reload.status.success(), "{}", text(&reload.stderr));
    assert!(
        text(&reload.stdout).contains(&format!("pid {}", daemon.child.id())),
        "{}",
        text(&reload.stdout)
    );
    assert!(daemon.serves(
        "/feeds/all.rss",
        "Airbus helicopters",
        Duration::from_secs(15)
    ));
    assert!(daemon.is_alive());
}

#[test]
fn a_changed_topic_term_reaches_the_published_feed_without_a_restart() {
    let server = three_feeds();
    let config = TestConfig::new(&[("a", server.url("/a.rss"))], &daemon_table(""));
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml")).unwrap();
    let rules = config.dir.path().join("rules.toml");
    std::fs::write(&rules, &shipped).unwrap();
    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let first_line = feeds.lines().next().unwrap().to_string();
    std::fs::write(
        &config.path,
        feeds.replacen(&first_line, "rules = \"rules.toml\"", 1),
    )
    .unwrap();

    let daemon = Running::start(&config);
    assert!(daemon.serves(
        "/feeds/all.rss",
        "strategic partnership",
        Duration::from_secs(20)
    ));
    let culture = "/feeds/culture-education.rss";
    assert!(!daemon.get(culture).1.contains("strategic partnership"));

    let term = "\"cultur* | культур* | мәдени*\"";
    assert!(shipped.contains(term), "the shipped culture terms changed");
    let edited = shipped.replacen(term, "\"cultur* | культур* | мәдени* | astana\"", 1);
    save_by_rename(&rules, &edited);
    assert!(
        daemon.serves(culture, "strategic partnership", Duration::from_secs(20)),
        "the retag after the rules change reached the topic's feed: {}",
        daemon.log()
    );
}

#[test]
fn a_second_daemon_on_the_same_database_is_refused_and_reads_still_work() {
    let server = three_feeds();
    let config = TestConfig::new(&[("a", server.url("/a.rss"))], &daemon_table(""));
    let mut first = Running::start(&config);

    // On another port, and on the same one (where binding would fail first).
    for addr in [free_addr(), first.addr.clone()] {
        let second = config.entente(&["run", "--listen", &addr]);
        assert_eq!(second.status.code(), Some(1));
        let message = text(&second.stderr);
        assert!(
            message.contains(&format!(
                "another entente daemon (pid {}) is running",
                first.child.id()
            )),
            "{message}"
        );
    }
    let sources = config.json(&["sources", "--json"]);
    assert_eq!(sources[0]["id"], "a");
    assert!(first.is_alive());
}

#[test]
fn sigterm_during_a_long_fetch_exits_0_within_the_grace_period_with_the_database_intact() {
    let server = three_feeds();
    let slow = rss(&[("s-1", "A slow story", "Slow.", DATE)]);
    server.route(
        "/slow.rss",
        Route::rss(slow).delayed(Duration::from_secs(60)),
    );
    let config = TestConfig::new(
        &[
            ("a", server.url("/a.rss")),
            ("slow", server.url("/slow.rss")),
        ],
        &daemon_table(""),
    );
    let mut daemon = Running::start(&config);
    assert!(daemon.serves(
        "/feeds/all.rss",
        "strategic partnership",
        Duration::from_secs(20)
    ));
    let in_flight = wait_for(Duration::from_secs(10), || {
        (!server.requests_to("/slow.rss").is_empty()).then_some(())
    });
    assert!(in_flight.is_some(), "the slow fetch started");

    let signalled = Instant::now();
    daemon.signal("TERM");
    let exit = wait_for(Duration::from_secs(10), || daemon.child.try_wait().unwrap());
    let took = signalled.elapsed();
    let exit = exit.expect("the daemon exited");
    assert_eq!(exit.code(), Some(0), "{}", daemon.log());
    // grace_secs = 2, plus one second.
    assert!(took < Duration::from_secs(3), "exited after {took:?}");
    assert!(daemon.log().contains("abandoned"), "{}", daemon.log());

    let db = rusqlite::Connection::open(config.database()).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(config.stored_items(), 1, "the finished fetch is stored");
    // The lock went with the process.
    let reload = config.entente(&["reload"]);
    assert_eq!(reload.status.code(), Some(1));
    assert!(text(&reload.stderr).contains("no entente daemon is running"));
}

#[test]
fn a_second_signal_ends_the_daemon_at_once() {
    let server = three_feeds();
    let slow = rss(&[("s-1", "A slow story", "Slow.", DATE)]);
    server.route(
        "/slow.rss",
        Route::rss(slow).delayed(Duration::from_secs(60)),
    );
    let config = TestConfig::new(
        &[("slow", server.url("/slow.rss"))],
        &format!("schedule = \"{NEVER}\"\n[daemon.limits]\ngrace_secs = 60"),
    );
    let mut daemon = Running::start(&config);
    let in_flight = wait_for(Duration::from_secs(10), || {
        (!server.requests_to("/slow.rss").is_empty()).then_some(())
    });
    assert!(in_flight.is_some(), "the slow fetch started");
    daemon.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    assert!(daemon.is_alive(), "the first signal waits for the fetch");
    let signalled = Instant::now();
    daemon.signal("INT");
    let exit = wait_for(Duration::from_secs(5), || daemon.child.try_wait().unwrap());
    assert!(exit.is_some(), "the second signal ended the daemon");
    assert!(signalled.elapsed() < Duration::from_secs(2));
    let db = rusqlite::Connection::open(config.database()).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// RFC 822 date `days` before now.
fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc2822()
}

#[test]
fn retention_prunes_old_items_keeps_published_ones_and_the_served_pages_follow() {
    let server = FeedServer::start();
    let recent = days_ago(1);
    let (d40, d50) = (days_ago(40), days_ago(50));
    let filler = "Snow and wind are expected in the mountains this week. ".repeat(80);
    let mut items: Vec<(String, String, String, String)> = vec![
        (
            "r-1".into(),
            "Tokayev and Macron hold talks on the strategic partnership".into(),
            "The presidents of Kazakhstan and France met.".into(),
            recent.clone(),
        ),
        (
            "r-40".into(),
            "France and Kazakhstan sign a uranium supply deal".into(),
            "Orano and Kazatomprom agree on deliveries to French reactors.".into(),
            d40.clone(),
        ),
        (
            "r-50".into(),
            "French foreign minister visits Astana for consultations".into(),
            "Kazakhstan and France held political consultations.".into(),
            d50.clone(),
        ),
    ];
    for i in 0..300 {
        items.push((
            format!("w-{i}"),
            format!("Weather in the mountains, day {i}"),
            filler.clone(),
            d40.clone(),
        ));
    }
    let as_refs = |items: &[(String, String, String, String)]| -> String {
        let refs: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
            .collect();
        rss(&refs)
    };
    server.route("/f.rss", Route::rss(as_refs(&items)));
    let config = TestConfig::new(
        &[("f", server.url("/f.rss"))],
        &daemon_table("feed_items = 1"),
    );
    assert!(config.entente(&["fetch"]).status.success());
    assert_eq!(config.stored_items(), 303);
    let relevant = config.json(&["items", "--json"]);
    assert_eq!(relevant.as_array().unwrap().len(), 3, "{relevant}");

    // Two months later the source only carries the recent story.
    server.route("/f.rss", Route::rss(as_refs(&items[..1])));
    let db = rusqlite::Connection::open(config.database()).unwrap();
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(60))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    db.execute(
        "UPDATE items SET last_seen = ?1, first_seen = ?1",
        [&long_ago],
    )
    .unwrap();
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(db);
    let size_before = std::fs::metadata(config.database()).unwrap().len();

    // Irrelevant items go after 30 days by default; relevant ones are kept by age.
    let daemon = Running::start(&config);
    let pruned = wait_for(Duration::from_secs(20), || {
        (config.stored_items() == 3).then_some(())
    });
    assert!(
        pruned.is_some(),
        "irrelevant items pruned: {}",
        daemon.log()
    );
    let size_after = std::fs::metadata(config.database()).unwrap().len();
    assert!(
        size_after * 2 < size_before,
        "the file shrank: {size_before} → {size_after}"
    );
    assert!(daemon.serves("/", "minister visits Astana", Duration::from_secs(5)));

    // Relevant items older than 30 days go, except what a feed shows: the newest of
    // each topic (feed_items = 1). The front page follows at once.
    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let feeds = feeds.replacen("[daemon]\n", "[daemon]\nretention_days = 30\n", 1);
    save_by_rename(&config.path, &feeds);
    let followed = wait_for(Duration::from_secs(15), || {
        let (_, page) = daemon.get("/");
        (!page.contains("minister visits Astana")).then_some(page)
    });
    let page = followed.unwrap_or_else(|| panic!("the front page followed: {}", daemon.log()));
    assert!(page.contains("uranium supply deal"), "{page}");
    let kept: Vec<String> = config
        .json(&["items", "--all", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(daemon.serves(
        "/feeds/energy-resources.rss",
        "uranium supply deal",
        Duration::from_secs(1)
    ));
}

#[test]
fn purge_deletes_a_removed_source_s_items_and_refuses_a_configured_one() {
    let server = three_feeds();
    let config = TestConfig::new(
        &[("a", server.url("/a.rss")), ("b", server.url("/b.rss"))],
        &daemon_table(""),
    );
    assert!(config.entente(&["fetch"]).status.success());
    assert_eq!(config.stored_items(), 2);

    let refused = config.entente(&["purge", "b"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("still in"),
        "{}",
        text(&refused.stderr)
    );

    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let without_b = feeds.replace(&source_table("b", &server.url("/b.rss")), "");
    std::fs::write(&config.path, without_b).unwrap();
    assert_eq!(config.stored_items(), 2, "a removed source's items stay");
    let purged = config.entente(&["purge", "b"]);
    assert!(purged.status.success(), "{}", text(&purged.stderr));
    assert!(text(&purged.stdout).contains("purged 1 items of `b`"));
    assert_eq!(config.stored_items(), 1);
}

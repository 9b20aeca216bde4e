//! Operating entente as a process: output into a closed pipe, backups of a running
//! daemon's database and their restore, JSON logs, the state `sources` shows, and what
//! `check` refuses.

use std::process::Stdio;
use std::time::Duration;

use crate::common::{entente_command, http_get, rss, text, FeedServer, Route, TestConfig};
use crate::common::{free_port, wait_for, KillOnDrop as Daemon};

/// A feed of `count` relevant items.
fn many_items(count: usize) -> String {
    let items: Vec<(String, String, String, String)> = (0..count)
        .map(|i| {
            (
                format!("item-{i}"),
                format!("Tokayev and Macron sign agreement number {i} on uranium in Astana"),
                "The presidents of Kazakhstan and France met for talks on energy.".to_string(),
                "Mon, 02 Mar 2026 10:00:00 +0000".to_string(),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    rss(&borrowed)
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_exit_0() {
    let server = FeedServer::start();
    server.route("/f.rss", Route::rss(many_items(400)));
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    assert!(config.entente(&["fetch"]).status.success());
    let listed = config.json(&["items", "--all", "--json"]);
    let first = listed[0]["id"].as_str().unwrap().to_string();

    // The reader goes away at once, before the command writes anything: its first
    // write fails with a broken pipe. `items --all --json` also writes far more than a
    // pipe buffers.
    let commands: [&[&str]; 5] = [
        &["items", "--all", "--json"],
        &["items"],
        &["explain", &first],
        &["sources"],
        &["check"],
    ];
    for args in commands {
        let mut child = entente_command(&config.path, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "entente {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "entente {args:?}: {stderr}");
        assert!(!stderr.contains("error"), "entente {args:?}: {stderr}");
    }

    // A reader that takes one line and leaves, as `| head -1` does.
    let mut child = entente_command(&config.path, &["items", "--all", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first_bytes = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first_bytes).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(first_bytes.starts_with(b"["));
}

#[test]
fn a_backup_of_the_running_daemon_restores_to_the_same_items() {
    let server = FeedServer::start();
    server.route("/f.rss", Route::rss(many_items(30)));
    let config = TestConfig::new(
        &[("f", server.url("/f.rss"))],
        "[daemon.limits]\ngrace_secs = 5",
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let child = entente_command(&config.path, &["run", "--listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _daemon = Daemon(child);
    wait_for(Duration::from_secs(30), || {
        let (status, _, body) = http_get(&addr, "/feeds/all.json", &[]).ok()?;
        (status == 200 && String::from_utf8_lossy(&body).contains("number 29")).then_some(())
    })
    .expect("the daemon fetched the feed");
    let before = config.json(&["items", "--all", "--json"]);
    assert_eq!(before.as_array().unwrap().len(), 30);

    let copy = config.dir.path().join("backup.db");
    let backup = config.entente(&["backup", copy.to_str().unwrap()]);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(text(&backup.stdout).contains("backup.db"));
    // The daemon is still serving.
    let (status, _, _) = http_get(&addr, "/healthz", &[]).unwrap();
    assert_eq!(status, 200);

    // Restore: the copy alone (no -wal beside it) becomes another install's database.
    let restored = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    std::fs::create_dir_all(restored.database().parent().unwrap()).unwrap();
    std::fs::copy(&copy, restored.database()).unwrap();
    let conn = rusqlite::Connection::open(restored.database()).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(conn);
    let after = restored.json(&["items", "--all", "--json"]);
    assert_eq!(after, before);
}

#[test]
fn a_backup_without_a_database_says_so() {
    let config = TestConfig::new(&[("f", "https://ex.org/f".to_string())], "");
    let copy = config.dir.path().join("backup.db");
    let backup = config.entente(&["backup", copy.to_str().unwrap()]);
    assert_eq!(backup.status.code(), Some(1));
    let stderr = text(&backup.stderr);
    assert!(stderr.contains("entente.db does not exist"), "{stderr}");
    assert!(!copy.exists());
}

#[test]
fn json_logs_are_one_object_a_line_with_fields() {
    let server = FeedServer::start();
    server.route("/f.rss", Route::rss(many_items(2)));
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    let fetch = entente_command(&config.path, &["--log-format", "json", "fetch"])
        .env("RUST_LOG", "entente=info")
        .output()
        .unwrap();
    assert!(fetch.status.success(), "{}", text(&fetch.stderr));
    let lines: Vec<serde_json::Value> = text(&fetch.stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let stored = lines
        .iter()
        .find(|line| line["fields"]["message"] == "Feed stored.")
        .unwrap_or_else(|| panic!("no `Feed stored.` line in {lines:?}"));
    assert_eq!(stored["level"], "INFO");
    assert_eq!(stored["fields"]["new"], 2);
}

#[test]
fn a_missing_config_is_reported_once_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.toml");
    for args in [&["sources"][..], &["check"][..]] {
        let output = entente_command(&path, args).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let said = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(said.matches("nowhere.toml").count(), 1, "{said}");
        assert_eq!(said.matches("No such file").count(), 1, "{said}");
    }
}

#[test]
fn sources_show_schedule_zone_and_disabled() {
    let config = TestConfig::new(
        &[("on", "https://ex.org/on".to_string())],
        "timezone = \"Asia/Almaty\"\nschedule = \"0 8 * * MON-FRI\"",
    );
    let text_before = std::fs::read_to_string(&config.path).unwrap();
    std::fs::write(
        &config.path,
        format!("{text_before}[[source]]\nid = \"off\"\nurl = \"https://ex.org/off\"\nenabled = false\ntimezone = \"Europe/Paris\"\n"),
    )
    .unwrap();
    let listed = config.json(&["sources", "--json"]);
    let by_id = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let (on, off) = (by_id("on"), by_id("off"));
    assert_eq!(
        (&on["enabled"], &on["schedule"], &on["timezone"]),
        (
            &serde_json::json!(true),
            &serde_json::json!("0 8 * * MON-FRI"),
            &serde_json::json!("Asia/Almaty")
        )
    );
    assert_eq!(off["enabled"], false);
    assert_eq!(off["timezone"], "Europe/Paris");
    assert_eq!(off["next_attempt"], serde_json::Value::Null);

    let shown = text(&config.entente(&["sources"]).stdout);
    assert!(
        shown.contains("off [disabled] https://ex.org/off"),
        "{shown}"
    );
    assert!(shown.contains("next attempt: none (disabled)"), "{shown}");
    assert!(
        shown.contains("schedule: 0 8 * * MON-FRI (Asia/Almaty)"),
        "{shown}"
    );
}

#[test]
fn check_refuses_a_missing_file_source_and_topicless_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    std::fs::write(dir.path().join("rules.toml"), "").unwrap();
    std::fs::write(
        &path,
        "[[source]]\nid = \"m\"\nurl = \"file:mirror/m.xml\"\n",
    )
    .unwrap();
    let check = entente_command(&path, &["check"]).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    let rules = dir.path().join("rules.toml").display().to_string();
    assert_eq!(
        text(&check.stdout).trim(),
        format!("{rules}:1:1: the rules file is empty: it needs the two sides' names and at least one [[topic]] (see docs/classifier.md)")
    );

    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.toml");
    std::fs::copy(shipped, dir.path().join("rules.toml")).unwrap();
    let check = entente_command(&path, &["check"]).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        text(&check.stdout).trim(),
        format!(
            "{}:3:7: `file:mirror/m.xml`: no such file ({})",
            path.display(),
            dir.path().join("mirror/m.xml").display()
        )
    );

    std::fs::create_dir(dir.path().join("mirror")).unwrap();
    std::fs::write(dir.path().join("mirror/m.xml"), many_items(1)).unwrap();
    let check = entente_command(&path, &["check"]).output().unwrap();
    assert!(check.status.success(), "{}", text(&check.stdout));
}

#[test]
fn every_command_and_flag_has_help() {
    let help = entente_command(std::path::Path::new("feeds.toml"), &["-h"])
        .output()
        .unwrap();
    let mut pages = vec![text(&help.stdout)];
    let commands: Vec<String> = pages[0]
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .filter(|name| name != "help")
        .collect();
    assert!(commands.contains(&"backup".to_string()), "{commands:?}");
    for command in &commands {
        let page = entente_command(std::path::Path::new("feeds.toml"), &[command, "-h"])
            .output()
            .unwrap();
        pages.push(text(&page.stdout));
    }
    for page in &pages {
        // Every option and argument line carries a description after its name.
        for line in page.lines().filter(|l| l.starts_with("  ")) {
            let trimmed = line.trim_start();
            if trimmed.starts_with('-') || trimmed.starts_with('<') || trimmed.starts_with('[') {
                let (_, description) = trimmed.split_once("  ").unwrap_or((trimmed, ""));
                assert!(
                    !description.trim().is_empty(),
                    "no help for `{trimmed}` in:\n{page}"
                );
            }
        }
    }
}

#[test]
fn a_database_from_a_newer_entente_is_refused() {
    let config = TestConfig::new(&[("f", "https://ex.org/f".to_string())], "");
    assert!(config.entente(&["sources"]).status.success());
    let conn = rusqlite::Connection::open(config.database()).unwrap();
    let known: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    conn.pragma_update(None, "user_version", known + 1).unwrap();
    drop(conn);
    let sources = config.entente(&["sources"]);
    assert_eq!(sources.status.code(), Some(1));
    assert!(
        text(&sources.stderr).contains(&format!(
            "the database has schema version {}, newer than this entente knows ({known})",
            known + 1
        )),
        "{}",
        text(&sources.stderr)
    );
    // Refused before anything was written: the version is still the newer one.
    let conn = rusqlite::Connection::open(config.database()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, known + 1);
}

#[test]
fn the_service_unit_passes_systemd_analyze_verify() {
    let installed = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            !std::env::var("ENTENTE_REQUIRE_SYSTEMD").is_ok_and(|v| v == "1"),
            "ENTENTE_REQUIRE_SYSTEMD=1 but `systemd-analyze` is not installed"
        );
        println!("SKIPPED: `systemd-analyze` is not installed (apt-get install systemd)");
        return;
    }
    let unit = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/entente.service"),
    )
    .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/entente --config"));
    // verify checks that ExecStart names an executable: point it at the one just built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("entente.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/local/bin/entente", env!("CARGO_BIN_EXE_entente")),
    )
    .unwrap();
    let verify = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    // It reports unknown keys and bad values on stderr, still exiting 0.
    let complaints: Vec<_> = text(&verify.stderr)
        .lines()
        .filter(|line| line.contains("entente.service"))
        .map(str::to_string)
        .collect();
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(complaints.is_empty(), "{complaints:#?}");
}

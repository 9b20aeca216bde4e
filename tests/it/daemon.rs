//! The daemon as a process: it fetches on schedule, serves the feeds with validators,
//! and stops cleanly on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use crate::common::{entente_command, http_get, rss, FeedServer, Route, TestConfig};
use crate::common::{free_port, wait_for, KillOnDrop as Daemon};

#[test]
fn the_daemon_serves_after_its_first_fetch_and_stops_on_sigterm() {
    let server = FeedServer::start();
    let date = "Mon, 02 Mar 2026 10:00:00 +0000";
    server.route(
        "/f.rss",
        Route::rss(rss(&[(
            "a",
            "Tokayev and Macron sign a strategic partnership in Astana",
            "The presidents of Kazakhstan and France met for talks.",
            date,
        )])),
    );
    let config = TestConfig::new(
        &[("f", server.url("/f.rss"))],
        "schedule = \"*/5 * * * *\"\n[daemon.limits]\ngrace_secs = 5",
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let child = entente_command(&config.path, &["run", "--listen", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon(child);

    let feed = wait_for(Duration::from_secs(30), || {
        let (status, headers, body) = http_get(&addr, "/feeds/all.rss", &[]).ok()?;
        let body = String::from_utf8(body).ok()?;
        (status == 200 && body.contains("strategic partnership")).then_some((headers, body))
    });
    let (headers, body) = feed.expect("the daemon served the fetched item");
    assert!(headers["content-type"].starts_with("application/rss+xml"));
    let parsed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    assert_eq!(parsed.entries.len(), 1);

    let etag = headers["etag"].clone();
    let (status, _, body) = http_get(&addr, "/feeds/all.rss", &[("If-None-Match", &etag)]).unwrap();
    assert_eq!(status, 304);
    assert!(body.is_empty());
    let (status, _, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("If-Modified-Since", &headers["last-modified"])],
    )
    .unwrap();
    assert_eq!(status, 304);
    let (status, _, _) = http_get(&addr, "/feeds/no-such-topic.rss", &[]).unwrap();
    assert_eq!(status, 404);
    let (status, _, body) = http_get(&addr, "/healthz", &[]).unwrap();
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["status"], "ok", "{health}");

    let pid = daemon.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let exit = wait_for(Duration::from_secs(10), || daemon.0.try_wait().unwrap());
    assert_eq!(
        exit.expect("the daemon exited within the grace period")
            .code(),
        Some(0)
    );
}

/// The daemon over one feed on a free port, started with `arena_max` as its
/// `MALLOC_ARENA_MAX` (None: unset); answers once it serves, with its address.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn daemon_with_arena_max(config: &TestConfig, arena_max: Option<&str>) -> (Daemon, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut command = entente_command(&config.path, &["run", "--listen", &addr]);
    command
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("GLIBC_TUNABLES");
    if let Some(value) = arena_max {
        command.env("MALLOC_ARENA_MAX", value);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    let served = wait_for(Duration::from_secs(30), || {
        let (status, _, _) = http_get(&addr, "/healthz", &[]).ok()?;
        (status == 200).then_some(())
    });
    served.expect("the daemon served /healthz");
    (daemon, addr)
}

/// What /proc says about a process: its environment and its arguments.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environ_and_cmdline(pid: u32) -> (Vec<String>, Vec<String>) {
    let split = |file: &str| -> Vec<String> {
        let bytes = std::fs::read(format!("/proc/{pid}/{file}")).unwrap();
        bytes
            .split(|b| *b == 0)
            .filter(|part| !part.is_empty())
            .map(|part| String::from_utf8_lossy(part).into_owned())
            .collect()
    };
    (split("environ"), split("cmdline"))
}

/// The binary runs in one malloc arena (BENCHMARKS.md, mem5: the first pass's peak RSS)
/// by starting itself again with MALLOC_ARENA_MAX=1: the same process (the pid a
/// service manager or a test holds, which SIGTERM still stops cleanly), the same
/// arguments; an operator's own value is left alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_runs_in_one_malloc_arena_unless_the_operator_chose() {
    let server = FeedServer::start();
    server.route(
        "/f.rss",
        Route::rss(rss(&[(
            "a",
            "Astana",
            "Talks.",
            "Mon, 02 Mar 2026 10:00:00 +0000",
        )])),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");

    let (mut daemon, addr) = daemon_with_arena_max(&config, None);
    let (environ, cmdline) = environ_and_cmdline(daemon.0.id());
    assert!(
        environ.iter().any(|var| var == "MALLOC_ARENA_MAX=1"),
        "{environ:?}"
    );
    assert_eq!(
        &cmdline[1..],
        [
            "--config",
            config.path.to_str().unwrap(),
            "run",
            "--listen",
            &addr
        ]
    );
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let exit = wait_for(Duration::from_secs(10), || daemon.0.try_wait().unwrap());
    assert_eq!(exit.expect("the daemon exited on SIGTERM").code(), Some(0));

    let (daemon, _) = daemon_with_arena_max(&config, Some("3"));
    let (environ, _) = environ_and_cmdline(daemon.0.id());
    let arena: Vec<_> = environ
        .iter()
        .filter(|var| var.starts_with("MALLOC_ARENA_MAX="))
        .collect();
    assert_eq!(arena, ["MALLOC_ARENA_MAX=3"]);
}

//! The daemon driven in-process through `daemon::run`: metrics as Prometheus text that
//! follow fetches and requests, and `/healthz` after a refused reload.

use std::time::{Duration, Instant};

use entente::daemon::{self, ConfigSource};

use crate::common::{http_get, rss, text, FeedServer, Route, TestConfig};

/// The value of `name` with `label` (`key=value`), if scraped.
fn sample(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    label: Option<(&str, &str)>,
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .find_map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

fn scrape(addr: &str) -> prometheus_parse::Scrape {
    let (status, headers, body) = http_get(addr, "/metrics", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(headers["content-type"].contains("text"), "{headers:?}");
    let lines = text(&body)
        .lines()
        .map(|l| Ok(l.to_string()))
        .collect::<Vec<_>>();
    prometheus_parse::Scrape::parse(lines.into_iter()).expect("Prometheus text")
}

fn until(limit: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn metrics_move_with_fetches_and_requests_and_healthz_reports_a_refused_reload() {
    let server = FeedServer::start();
    let body = rss(&[(
        "m-1",
        "Tokayev and Macron sign a strategic partnership in Astana",
        "The presidents of Kazakhstan and France met for talks.",
        "Mon, 02 Mar 2026 10:00:00 +0000",
    )]);
    server.route("/a.rss", Route::rss(body));
    let config = TestConfig::new(
        &[("a", server.url("/a.rss"))],
        "schedule = \"0 0 1 1 *\"\n[daemon.limits]\ngrace_secs = 2",
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (controller, control) = daemon::control();
    let running = runtime.spawn(daemon::run(
        ConfigSource::file(&config.path),
        listener,
        control.without_file_watch(),
    ));

    // The first fetch runs at start.
    let stored = Some(("outcome", "stored"));
    assert!(until(Duration::from_secs(20), || {
        sample(&scrape(&addr), "entente_fetches_total", stored) == Some(1.0)
    }));
    let first = scrape(&addr);
    assert_eq!(
        sample(&first, "entente_items_ingested_total", None),
        Some(1.0)
    );
    assert_eq!(
        sample(&first, "entente_items_relevant_total", None),
        Some(1.0)
    );
    assert_eq!(
        sample(&first, "entente_fetch_duration_seconds_count", None),
        Some(1.0)
    );
    let source = Some(("source", "a"));
    let last_success = sample(
        &first,
        "entente_source_last_success_timestamp_seconds",
        source,
    );
    let now = chrono::Utc::now().timestamp() as f64;
    assert!(
        last_success.is_some_and(|t| (now - t).abs() < 60.0),
        "{last_success:?}"
    );
    assert_eq!(
        sample(&first, "entente_source_consecutive_failures", source),
        Some(0.0)
    );

    // A fetch asked for now: the body is unchanged.
    controller.fetch_now("a");
    let not_modified = Some(("outcome", "not_modified"));
    assert!(until(Duration::from_secs(10), || {
        sample(&scrape(&addr), "entente_fetches_total", not_modified) == Some(1.0)
    }));

    // One feed served, then answered 304.
    let (status, headers, _) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    assert_eq!(status, 200);
    let (status, _, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("If-None-Match", &headers["etag"])],
    )
    .unwrap();
    assert_eq!(status, 304);
    let after = scrape(&addr);
    let served = sample(
        &after,
        "entente_feed_requests_total",
        Some(("response", "served")),
    );
    let unchanged = sample(
        &after,
        "entente_feed_requests_total",
        Some(("response", "not_modified")),
    );
    assert_eq!((served, unchanged), (Some(1.0), Some(1.0)));

    // A broken edit, then a reload: refused, reported, the old configuration serves.
    std::fs::write(&config.path, "[daemon\nlisten = 1\n").unwrap();
    controller.reload();
    let rejected = Some(("outcome", "rejected"));
    assert!(until(Duration::from_secs(10), || {
        sample(&scrape(&addr), "entente_reload_runs_total", rejected) == Some(1.0)
    }));
    let (status, _, body) = http_get(&addr, "/healthz", &[]).unwrap();
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["ok"], true);
    let problem = health["config"]["last_reload_error"]["problems"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{health}"));
    assert!(
        problem.starts_with(&format!("{}:1:", config.path.display())),
        "{problem}"
    );
    let (status, _, body) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(text(&body).contains("strategic partnership"));

    controller.shutdown();
    let result = runtime.block_on(running).unwrap();
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn a_changed_limit_applies_to_the_next_fetch_without_a_restart() {
    let server = FeedServer::start();
    let body = rss(&[(
        "l-1",
        "Tokayev and Macron sign a strategic partnership in Astana",
        "The presidents of Kazakhstan and France met for talks.",
        "Mon, 02 Mar 2026 10:00:00 +0000",
    )]);
    server.route("/a.rss", Route::rss(body));
    let config = TestConfig::new(
        &[("a", server.url("/a.rss"))],
        "schedule = \"0 0 1 1 *\"\n[daemon.limits]\ngrace_secs = 2",
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (controller, control) = daemon::control();
    let running = runtime.spawn(daemon::run(
        ConfigSource::file(&config.path),
        listener,
        control.without_file_watch(),
    ));
    assert!(until(Duration::from_secs(20), || {
        sample(
            &scrape(&addr),
            "entente_fetches_total",
            Some(("outcome", "stored")),
        ) == Some(1.0)
    }));

    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let tight = feeds.replace("grace_secs = 2", "grace_secs = 2\nmax_body_bytes = 100");
    assert_ne!(tight, feeds);
    std::fs::write(&config.path, tight).unwrap();
    controller.reload();
    assert!(until(Duration::from_secs(10), || {
        sample(
            &scrape(&addr),
            "entente_reload_runs_total",
            Some(("outcome", "applied")),
        ) == Some(1.0)
    }));
    controller.fetch_now("a");
    assert!(
        until(Duration::from_secs(10), || {
            let now = scrape(&addr);
            sample(&now, "entente_fetches_total", Some(("outcome", "failed"))) == Some(1.0)
                && sample(
                    &now,
                    "entente_source_consecutive_failures",
                    Some(("source", "a")),
                ) == Some(1.0)
        }),
        "the body is over the new cap"
    );
    let sources = config.json(&["sources", "--json"]);
    assert_eq!(sources[0]["status"], "error", "{sources}");

    controller.shutdown();
    assert!(runtime.block_on(running).unwrap().is_ok());
}

//! Concurrency limits, seen from the server: one slow host cannot take every slot, and
//! the global limit holds across hosts.

use std::time::Duration;

use crate::common::{rss, FeedServer, Route, TestConfig};

const DATE: &str = "Mon, 02 Mar 2026 10:00:00 +0000";

/// A slow feed at `path`.
fn slow_feed(server: &FeedServer, path: &str) {
    let body = rss(&[(path, "Item", "x", DATE)]);
    server.route(path, Route::rss(body).delayed(Duration::from_millis(400)));
}

/// The same server reached under two host names, which the fetcher counts apart.
fn on_localhost(server: &FeedServer, path: &str) -> String {
    server.url(path).replace("127.0.0.1", "localhost")
}

#[test]
fn a_slow_host_takes_only_its_own_slots() {
    let server = FeedServer::start();
    for path in ["/a1", "/a2", "/a3", "/b1"] {
        slow_feed(&server, path);
    }
    let sources = [
        ("a1", server.url("/a1")),
        ("a2", server.url("/a2")),
        ("a3", server.url("/a3")),
        ("b1", on_localhost(&server, "/b1")),
    ];
    let config = TestConfig::new(&sources, "[daemon.limits]\nper_host = 1\nconcurrency = 16");
    assert!(config.entente(&["fetch"]).status.success());
    // One request at a time to 127.0.0.1, and the other host served beside it.
    assert_eq!(server.max_in_flight(), 2);
}

#[test]
fn the_global_limit_holds_across_hosts() {
    let server = FeedServer::start();
    let paths = ["/a1", "/a2", "/a3", "/b1", "/b2", "/b3"];
    for path in paths {
        slow_feed(&server, path);
    }
    let sources: Vec<(&str, String)> = paths
        .iter()
        .map(|p| {
            let url = if p.starts_with("/a") {
                server.url(p)
            } else {
                on_localhost(&server, p)
            };
            (&p[1..], url)
        })
        .collect();
    let config = TestConfig::new(&sources, "[daemon.limits]\nper_host = 10\nconcurrency = 2");
    assert!(config.entente(&["fetch"]).status.success());
    assert_eq!(server.max_in_flight(), 2);
}

//! One broken source never stops the others, and its error is recorded for the operator.

use crate::common::{rss, text, FeedServer, Route, TestConfig};

#[test]
fn a_500_and_broken_xml_are_recorded_while_the_good_source_is_stored() {
    let server = FeedServer::start();
    let date = "Mon, 02 Mar 2026 10:00:00 +0000";
    server.route(
        "/good.rss",
        Route::rss(rss(&[("a", "One", "x", date), ("b", "Two", "y", date)])),
    );
    server.route("/down.rss", Route::status(500));
    // Broken before any item: a document cut after its items is now read up to the cut
    // (issue 10), so this one breaks first.
    server.route(
        "/broken.rss",
        Route::rss("<rss version=\"2.0\"><channel><title>T</title><<<item><title>x"),
    );
    let config = TestConfig::new(
        &[
            ("down", server.url("/down.rss")),
            ("broken", server.url("/broken.rss")),
            ("good", server.url("/good.rss")),
        ],
        "",
    );

    let fetch = config.entente(&["fetch"]);
    let stdout = text(&fetch.stdout);
    assert_eq!(fetch.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("down: error (http_status): HTTP 500"),
        "{stdout}"
    );
    assert!(
        stdout.contains("broken: error (parse): invalid feed"),
        "{stdout}"
    );
    assert!(stdout.contains("good: 2 new"), "{stdout}");

    let sources = config.json(&["sources", "--json"]);
    let by_id = |id: &str| {
        sources
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    let down = by_id("down");
    assert_eq!(down["status"], "error");
    assert_eq!(down["error"], "HTTP 500");
    assert_eq!(down["consecutive_failures"], 1);
    assert!(down["next_attempt"].is_string());
    assert_eq!(by_id("broken")["status"], "error");
    let good = by_id("good");
    assert_eq!(good["status"], "ok");
    assert_eq!(good["items"], 2);
    assert_eq!(good["error"], serde_json::Value::Null);
    for key in [
        "url",
        "last_attempt",
        "last_success",
        "relevant",
        "suggested_url",
    ] {
        assert!(good.get(key).is_some(), "sources --json lacks {key}");
    }
    assert_eq!(config.stored_items(), 2);
}

#[test]
fn fetching_an_unknown_source_is_a_fatal_error() {
    let config = TestConfig::new(&[("a", "http://127.0.0.1:9/feed".to_string())], "");
    let fetch = config.entente(&["fetch", "--source", "nope"]);
    assert_eq!(fetch.status.code(), Some(1));
    assert!(
        text(&fetch.stderr).contains("no source with id `nope`"),
        "{}",
        text(&fetch.stderr)
    );
}

#[test]
fn check_lists_every_problem_and_exits_1() {
    let config = TestConfig::new(
        &[("a", "https://ex.org/feed".to_string())],
        "colour = \"red\"",
    );
    let text_before = std::fs::read_to_string(&config.path).unwrap();
    std::fs::write(&config.path, format!("{text_before}[[source]]\nid = \"a\"\nurl = \"https://ex.org/feed\"\nschedule = \"often\"\n")).unwrap();
    let check = config.entente(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    let out = text(&check.stdout);
    let name = config.path.display().to_string();
    assert!(
        out.contains(&format!("{name}:3:1: unknown key `colour` in daemon")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{name}:8:6: duplicate source id `a` (first used at 5:6)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{name}:10:12: invalid cron expression `often`")),
        "{out}"
    );

    let good = TestConfig::new(&[("a", "https://ex.org/feed".to_string())], "");
    let check = good.entente(&["check"]);
    assert!(check.status.success(), "{}", text(&check.stdout));
}

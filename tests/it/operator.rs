//! The operator's tools on a real database built by a fetch: `explain` says why, and
//! `retag` re-decides every stored item after a change of rules.

use crate::common::{rss, text, FeedServer, Route, TestConfig};

const DATE: &str = "Mon, 02 Mar 2026 10:00:00 +0000";

fn fetched_config() -> (FeedServer, TestConfig) {
    let server = FeedServer::start();
    server.route(
        "/f.rss",
        Route::rss(rss(&[
            (
                "visit",
                "Macron and Tokayev sign a strategic partnership in Astana",
                "The presidents of France and Kazakhstan held talks on uranium supplies.",
                DATE,
            ),
            (
                "weather",
                "Rain expected in Lyon",
                "Showers all weekend.",
                DATE,
            ),
        ])),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    assert!(config.entente(&["fetch"]).status.success());
    (server, config)
}

fn relevant_count(config: &TestConfig) -> usize {
    config.json(&["items", "--json"]).as_array().unwrap().len()
}

#[test]
fn explain_names_the_matched_terms_their_sides_and_the_score() {
    let (_server, config) = fetched_config();
    let items = config.json(&["items", "--all", "--json"]);
    let visit = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("Macron"))
        .unwrap();
    let by_key = config.entente(&["explain", visit["id"].as_str().unwrap()]);
    let out = text(&by_key.stdout);
    assert!(by_key.status.success(), "{}", text(&by_key.stderr));
    assert!(out.contains("RELEVANT"), "{out}");
    assert!(out.contains("\"Macron\""), "{out}");
    assert!(out.contains("\"Tokayev\""), "{out}");
    assert!(out.contains("threshold"), "{out}");
    assert!(out.contains("diplomacy"), "{out}");

    let by_link = config.entente(&["explain", "https://news.example.org/weather"]);
    let out = text(&by_link.stdout);
    assert!(out.contains("NOT RELEVANT"), "{out}");

    let missing = config.entente(&["explain", "no-such-item"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("no item matches `no-such-item`"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn retag_applies_changed_rules_to_stored_items_and_the_feeds_follow() {
    let (_server, config) = fetched_config();
    assert_eq!(relevant_count(&config), 1);

    // An operator raises the threshold out of reach: nothing is relevant any more.
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml")).unwrap();
    let strict = shipped.replacen("threshold = 1.0", "threshold = 9.0", 1);
    assert_ne!(strict, shipped, "the shipped rules set a threshold");
    let rules = config.dir.path().join("strict-rules.toml");
    std::fs::write(&rules, strict).unwrap();
    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let first_line = feeds.lines().next().unwrap().to_string();
    std::fs::write(
        &config.path,
        feeds.replacen(&first_line, "rules = \"strict-rules.toml\"", 1),
    )
    .unwrap();

    let explain = config.entente(&["explain", "https://news.example.org/visit"]);
    assert!(
        text(&explain.stdout).contains("entente retag"),
        "explain points at a stale decision"
    );

    // A preview first: the change is listed, nothing is stored.
    let preview = config.entente(&["retag", "--dry-run"]);
    let out = text(&preview.stdout);
    assert!(preview.status.success(), "{}", text(&preview.stderr));
    assert!(out.contains("retag would change 1 of 2 items"), "{out}");
    assert!(
        out.contains("- 1 [f] Macron and Tokayev sign a strategic partnership in Astana: relevant (diplomacy"),
        "{out}"
    );
    assert!(out.contains(") → not relevant"), "{out}");
    assert_eq!(relevant_count(&config), 1, "--dry-run stored the change");

    let retag = config.entente(&["retag"]);
    let out = text(&retag.stdout);
    assert!(retag.status.success(), "{}", text(&retag.stderr));
    assert!(
        out.contains("retagged 2 items: 1 changed relevance"),
        "{out}"
    );
    assert!(
        out.contains("- 1 [f] Macron and Tokayev"),
        "the change is listed: {out}"
    );
    assert_eq!(relevant_count(&config), 0);

    let site = config.dir.path().join("site");
    assert!(config
        .entente(&["export", "--out", site.to_str().unwrap()])
        .status
        .success());
    let all = std::fs::read(site.join("feeds/all.rss")).unwrap();
    assert!(feed_rs::parser::parse(all.as_slice())
        .unwrap()
        .entries
        .is_empty());

    let again = config.entente(&["retag"]);
    assert!(
        text(&again.stdout).contains("retagged 2 items: 0 changed relevance"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn eval_prints_the_agreed_json_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let Some(corpus) = crate::shared::shared_file("corpus/dev.jsonl") else {
        return;
    };
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_entente"))
        .arg("eval")
        .arg(&corpus)
        .arg("--json")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["items"], 220);
    for key in ["precision", "recall", "f1"] {
        assert!(report["relevance"][key].is_number(), "relevance.{key}");
        assert!(
            report["per_lang"]["kk"][key].is_number(),
            "per_lang.kk.{key}"
        );
        assert!(report["topics"]["per_topic"]["energy-resources"][key].is_number());
    }
    assert!(report["topics"]["micro_f1"].is_number());
}

//! Seeing and correcting what entente decided: `mark` over the classifier (through
//! `retag`, refetches, `explain` and the published feeds), `items` with its filters and
//! story clusters, `explain` by loose link, and the health shown by `sources`/`check`.

use crate::common::{rss, text, FeedServer, Route, TestConfig};

const DATE: &str = "Mon, 02 Mar 2026 10:00:00 +0000";

fn visit_and_weather(weather_summary: &str) -> String {
    rss(&[
        (
            "visit",
            "Macron and Tokayev sign a strategic partnership in Astana",
            "The presidents of France and Kazakhstan held talks on uranium supplies.",
            DATE,
        ),
        ("weather", "Rain expected in Lyon", weather_summary, DATE),
    ])
}

fn item<'a>(items: &'a serde_json::Value, title_start: &str) -> &'a serde_json::Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with(title_start))
        .unwrap_or_else(|| panic!("no item {title_start}: {items}"))
}

fn exported_all_feed(config: &TestConfig) -> String {
    let site = config.dir.path().join("site");
    let export = config.entente(&["export", "--out", site.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    std::fs::read_to_string(site.join("feeds/all.rss")).unwrap()
}

#[test]
fn mark_wins_over_retag_and_refetches_and_shows_in_explain_and_the_feeds() {
    let server = FeedServer::start();
    server.route(
        "/f.rss",
        Route::rss(visit_and_weather("Showers all weekend.")),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    assert!(config.entente(&["fetch"]).status.success());
    let all = config.json(&["items", "--all", "--json"]);
    let weather = item(&all, "Rain").clone();
    assert_eq!(weather["relevant"], false);
    let weather_number = weather["number"].to_string();

    let marked = config.entente(&[
        "mark",
        &weather_number,
        "relevant",
        "--topic",
        "culture-education",
    ]);
    let out = text(&marked.stdout);
    assert!(marked.status.success(), "{out}{}", text(&marked.stderr));
    assert!(
        out.contains("marked relevant in culture-education by the operator"),
        "{out}"
    );
    assert!(out.contains("the classifier disagrees"), "{out}");
    let visit_link = "https://news.example.org/visit";
    assert!(config
        .entente(&["mark", visit_link, "irrelevant"])
        .status
        .success());

    let check_marks = |when: &str| {
        let relevant = config.json(&["items", "--json"]);
        let titles: Vec<&str> = relevant
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Rain expected in Lyon"], "{when}");
        assert_eq!(
            relevant[0]["topics"],
            serde_json::json!(["culture-education"])
        );
        assert_eq!(relevant[0]["set_by_operator"], true);
    };
    check_marks("after mark");

    let retag = config.entente(&["retag"]);
    assert!(retag.status.success(), "{}", text(&retag.stderr));
    assert!(
        text(&retag.stdout).contains("retagged 2 items: 0 changed relevance"),
        "{}",
        text(&retag.stdout)
    );
    check_marks("after retag");

    // The source edits the item: the operator's decision still holds.
    server.route(
        "/f.rss",
        Route::rss(visit_and_weather("Showers all weekend, and wind.")),
    );
    let refetch = config.entente(&["fetch"]);
    assert!(
        text(&refetch.stdout).contains("1 updated"),
        "{}",
        text(&refetch.stdout)
    );
    check_marks("after a refetch");

    let explain = config.entente(&["explain", &weather_number]);
    let out = text(&explain.stdout);
    assert!(explain.status.success(), "{}", text(&explain.stderr));
    assert!(
        out.contains("RELEVANT, topics culture-education: set by the operator"),
        "{out}"
    );
    assert!(
        out.contains("The classifier's own decision:\nNOT RELEVANT"),
        "{out}"
    );
    assert!(!out.contains("run `entente retag`"), "{out}");
    let listing = text(&config.entente(&["items", "--all"]).stdout);
    assert!(listing.contains("+* "), "{listing}");
    assert!(listing.contains("-* "), "{listing}");

    let feed = exported_all_feed(&config);
    assert!(feed.contains("Rain expected in Lyon"), "{feed}");
    assert!(!feed.contains("Macron and Tokayev"), "{feed}");

    let eval = config.entente(&["eval", "--corrections", "--errors"]);
    let out = text(&eval.stdout);
    assert!(eval.status.success(), "{out}{}", text(&eval.stderr));
    assert!(
        out.contains("The classifier disagrees with 2 of 2 operators' corrections"),
        "{out}"
    );
    assert!(out.contains("Rain expected in Lyon"), "{out}");
    let report: serde_json::Value =
        serde_json::from_slice(&config.entente(&["eval", "--corrections", "--json"]).stdout)
            .unwrap();
    assert_eq!(report["items"], 2);
    assert_eq!(report["relevance"]["precision"], 0.0);

    // Undone: the classifier decides again, at once.
    let cleared = config.entente(&["mark", &weather_number, "--clear"]);
    assert!(
        text(&cleared.stdout).contains("cleared"),
        "{}",
        text(&cleared.stdout)
    );
    assert!(config
        .entente(&["mark", visit_link, "--clear"])
        .status
        .success());
    let relevant = config.json(&["items", "--json"]);
    assert_eq!(relevant.as_array().unwrap().len(), 1);
    assert!(relevant[0]["title"].as_str().unwrap().starts_with("Macron"));
    let feed = exported_all_feed(&config);
    assert!(feed.contains("Macron and Tokayev") && !feed.contains("Rain expected"));

    let unknown = config.entente(&["mark", &weather_number, "relevant", "--topic", "sport"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("unknown topic `sport`"));
}

/// One story from two outlets, and an unrelated item.
fn two_outlets() -> (FeedServer, TestConfig) {
    let server = FeedServer::start();
    let story = "France and Kazakhstan sign uranium supply agreement";
    let summary = "Paris and Astana agreed on long-term uranium deliveries for French reactors.";
    server.route(
        "/a.rss",
        Route::rss(rss(&[
            ("uranium", story, summary, DATE),
            ("weather", "Rain expected in Lyon", "Showers.", DATE),
        ])),
    );
    server.route(
        "/b.rss",
        Route::rss(
            rss(&[("u-copy", story, summary, "Mon, 02 Mar 2026 11:00:00 +0000")])
                .replace("news.example.org/u-copy", "wire.example.com/u-copy"),
        ),
    );
    let config = TestConfig::new(
        &[("a", server.url("/a.rss")), ("b", server.url("/b.rss"))],
        "",
    );
    let first = config.entente(&["fetch", "--source", "a"]);
    assert!(first.status.success());
    let second = config.entente(&["fetch", "--source", "b"]);
    let out = text(&second.stdout);
    assert!(
        out.contains("b: 1 new (1 relevant, 1 of them already reported elsewhere)"),
        "{out}"
    );
    (server, config)
}

#[test]
fn items_show_the_cluster_and_filter_by_source_date_topic_and_words() {
    let (_server, config) = two_outlets();
    let relevant = config.json(&["items", "--json"]);
    assert_eq!(relevant.as_array().unwrap().len(), 2);
    let copy = relevant
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "b")
        .unwrap();
    let original = relevant
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "a")
        .unwrap();
    assert_eq!(copy["duplicate_of"], original["id"]);
    assert_eq!(copy["duplicate_of_number"], original["number"]);
    assert!(original["duplicate_of"].is_null());
    assert_eq!(original["also_reported_by"][0]["id"], copy["id"]);
    assert_eq!(original["also_reported_by"][0]["source"], "b");
    assert_eq!(copy["also_reported_by"], serde_json::json!([]));

    let listing = text(&config.entente(&["items", "--all"]).stdout);
    let lines: Vec<&str> = listing.lines().collect();
    assert!(
        lines[0].starts_with("# + relevant, - not relevant, = a copy"),
        "{listing}"
    );
    let n = original["number"].to_string();
    assert!(
        listing.contains(&format!("duplicate of #{n} [a]")),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("also reported by #{} [b]", copy["number"])),
        "{listing}"
    );
    assert!(listing.contains("= "), "{listing}");
    let weather = lines.iter().find(|l| l.contains("Rain expected")).unwrap();
    assert!(
        weather.starts_with("- ") && weather.ends_with("Rain expected in Lyon"),
        "{weather}"
    );

    let count = |args: &[&str]| config.json(args).as_array().unwrap().len();
    assert_eq!(count(&["items", "--all", "--json", "--source", "a"]), 2);
    assert_eq!(count(&["items", "--json", "--source", "b"]), 1);
    assert_eq!(
        count(&["items", "--all", "--json", "--search", "URANIUM", "paris"]),
        2
    );
    assert_eq!(count(&["items", "--all", "--json", "--search", "lyon"]), 1);
    assert_eq!(
        count(&["items", "--all", "--json", "--since", "2026-03-02"]),
        3
    );
    assert_eq!(
        count(&[
            "items",
            "--all",
            "--json",
            "--since",
            "2026-03-02T10:30:00Z"
        ]),
        1
    );
    assert_eq!(
        count(&["items", "--all", "--json", "--since", "2026-03-03"]),
        0
    );
    assert_eq!(
        count(&["items", "--json", "--topic", "energy-resources"]),
        2
    );
    assert_eq!(
        count(&["items", "--json", "--topic", "culture-education"]),
        0
    );
    let bad = config.entente(&["items", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("--since `yesterday`"));
    let unknown = config.entente(&["items", "--source", "zzz"]);
    assert!(text(&unknown.stderr).contains("no source with id `zzz`"));
}

#[test]
fn explain_finds_a_link_with_tracking_parameters_and_shows_the_cluster_and_arithmetic() {
    let (_server, config) = two_outlets();
    let explain = config.entente(&[
        "explain",
        "http://www.wire.example.com/u-copy/?utm_source=newsletter&utm_medium=email",
    ]);
    let out = text(&explain.stdout);
    assert!(explain.status.success(), "{out}{}", text(&explain.stderr));
    assert!(
        out.contains("Link: https://wire.example.com/u-copy"),
        "{out}"
    );
    assert!(out.contains("Duplicate of #1 from a"), "{out}");
    assert!(out.contains("How the score adds up:"), "{out}");
    assert!(out.contains("(title)"), "the title factor is shown: {out}");
    // The last figure of the formula is the score the verdict line gives.
    let verdict = out
        .lines()
        .find(|l| l.starts_with("RELEVANT: score "))
        .unwrap();
    let score = verdict["RELEVANT: score ".len()..]
        .split(' ')
        .next()
        .unwrap();
    let formula = out
        .lines()
        .find(|l| l.trim_start().starts_with("score = min("))
        .unwrap();
    assert!(
        formula.contains(&format!("= {score} (threshold")),
        "{verdict}\n{formula}"
    );

    let original = text(&config.entente(&["explain", "#1"]).stdout);
    assert!(
        original.contains("Also reported by #3 from b"),
        "{original}"
    );
}

#[test]
fn sources_show_names_schedules_and_failures_and_check_warns_without_failing() {
    let server = FeedServer::start();
    server.route("/ok.rss", Route::rss(visit_and_weather("Showers.")));
    server.route("/old.rss", Route::redirect(301, "/new.rss"));
    server.route("/new.rss", Route::rss(rss(&[("n", "New home", "x", DATE)])));
    server.route(
        "/busy.rss",
        Route::status(429).header("retry-after", "Wed, 01 Jan 2098 00:00:00 GMT"),
    );
    let config = TestConfig::new(
        &[
            ("zeta", server.url("/ok.rss")),
            ("alpha", server.url("/old.rss")),
            ("busy", server.url("/busy.rss")),
        ],
        "",
    );
    let feeds = std::fs::read_to_string(&config.path).unwrap().replace(
        "id = \"zeta\"\n",
        "id = \"zeta\"\nname = \"Zeta News\"\nschedule = \"5 * * * *\"\n",
    );
    std::fs::write(&config.path, feeds).unwrap();
    assert_eq!(config.entente(&["fetch"]).status.code(), Some(2));

    let listing = text(&config.entente(&["sources"]).stdout);
    let order: Vec<&str> = listing
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        order,
        ["zeta", "alpha", "busy"],
        "feeds.toml order: {listing}"
    );
    assert!(
        listing.contains("name: Zeta News; schedule: 5 * * * *"),
        "{listing}"
    );
    assert!(listing.contains("(1 consecutive failure)"), "{listing}");
    assert!(!listing.contains("1 consecutive failures"), "{listing}");
    assert!(
        listing.contains("retry after 2098-01-01T00:00:00Z"),
        "{listing}"
    );
    assert!(listing.contains("failing since "), "{listing}");
    assert!(
        listing.contains(&format!(
            "moved permanently: put url = \"{}\"",
            server.url("/new.rss")
        )),
        "{listing}"
    );
    // Local, readable times: no fractions of seconds anywhere.
    let next = listing
        .lines()
        .find(|l| l.contains("next attempt: 2"))
        .unwrap();
    assert!(!next.contains('.'), "{next}");
    assert!(
        listing.contains("next attempt: 2") && listing.contains(" (in "),
        "{listing}"
    );

    let json = config.json(&["sources", "--json"]);
    let busy = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "busy")
        .unwrap();
    for key in [
        "id",
        "url",
        "status",
        "error",
        "last_attempt",
        "last_success",
        "next_attempt",
        "consecutive_failures",
        "items",
        "relevant",
        "suggested_url",
    ] {
        assert!(busy.get(key).is_some(), "sources --json lost {key}");
    }
    assert_eq!(busy["consecutive_failures"], 1);
    assert!(busy["failing_since"].is_string(), "{busy}");
    assert_eq!(json[0]["schedule"], "5 * * * *");

    let check = config.entente(&["check"]);
    let out = text(&check.stdout);
    assert!(check.status.success(), "warnings do not fail: {out}");
    assert!(
        out.contains(&format!(
            "warning: source `alpha` moved permanently: {}",
            server.url("/old.rss")
        )),
        "{out}"
    );
    assert!(
        !out.contains("has been failing"),
        "failing for minutes only: {out}"
    );

    // Two days later, as the database records it.
    let db = rusqlite::Connection::open(config.database()).unwrap();
    db.execute(
        "UPDATE sources SET failing_since = '2020-01-01T00:00:00Z' WHERE id = 'busy'",
        [],
    )
    .unwrap();
    drop(db);
    let check = config.entente(&["check"]);
    let out = text(&check.stdout);
    assert!(check.status.success(), "{out}");
    assert!(
        out.contains("warning: source `busy` has been failing for "),
        "{out}"
    );
    assert!(out.contains("HTTP 429"), "{out}");
}

#[test]
fn marking_a_story_irrelevant_publishes_its_copy_and_marking_it_back_restores_it() {
    let (_server, config) = two_outlets();
    let copy_of = |config: &TestConfig| {
        let relevant = config.json(&["items", "--json"]);
        relevant
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["source"].as_str().unwrap().to_string(),
                    i["duplicate_of_number"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert!(config
        .entente(&["mark", "1", "irrelevant"])
        .status
        .success());
    assert_eq!(
        copy_of(&config),
        [("b".to_string(), serde_json::Value::Null)]
    );
    let feed = exported_all_feed(&config);
    assert!(feed.contains("wire.example.com/u-copy"), "{feed}");

    assert!(config.entente(&["mark", "1", "relevant"]).status.success());
    let mut restored = copy_of(&config);
    restored.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        restored,
        [
            ("a".to_string(), serde_json::Value::Null),
            ("b".to_string(), serde_json::json!(1))
        ]
    );
    let out = text(&config.entente(&["explain", "1"]).stdout);
    assert!(
        out.contains("set by the operator") && out.contains("Also reported by #3"),
        "{out}"
    );
}

#[test]
fn explain_says_which_story_an_item_copies_and_why() {
    let server = FeedServer::start();
    let summary = "Paris and Astana agreed on long-term uranium deliveries for French reactors.";
    server.route(
        "/a.rss",
        Route::rss(rss(&[(
            "deal",
            "France and Kazakhstan sign long-term uranium supply deal",
            summary,
            DATE,
        )])),
    );
    // Another outlet's rewrite of the headline, under its own link.
    server.route(
        "/b.rss",
        Route::rss(
            rss(&[(
                "rewrite",
                "UPDATE: France, Kazakhstan sign uranium supply deal - Wire",
                summary,
                "Mon, 02 Mar 2026 11:00:00 +0000",
            )])
            .replace("news.example.org/rewrite", "wire.example.com/rewrite"),
        ),
    );
    // The first article itself, reached with a tracking parameter under a new title.
    server.route(
        "/c.rss",
        Route::rss(
            rss(&[(
                "deal",
                "Paris to buy Kazakh uranium for its reactors until 2040",
                summary,
                "Mon, 02 Mar 2026 12:00:00 +0000",
            )])
            .replace(
                "news.example.org/deal",
                "news.example.org/deal?utm_source=rss",
            ),
        ),
    );
    let config = TestConfig::new(
        &[
            ("a", server.url("/a.rss")),
            ("b", server.url("/b.rss")),
            ("c", server.url("/c.rss")),
        ],
        "",
    );
    for source in ["a", "b", "c"] {
        let fetch = config.entente(&["fetch", "--source", source]);
        assert!(fetch.status.success(), "{}", text(&fetch.stderr));
    }
    let items = config.json(&["items", "--all", "--json"]);
    let number = |source: &str| {
        item_of(&items, source)["number"]
            .as_i64()
            .unwrap_or_else(|| panic!("no number: {items}"))
            .to_string()
    };
    let root = number("a");

    let rewrite = text(&config.entente(&["explain", &number("b")]).stdout);
    assert!(
        rewrite.contains(&format!(
            "Duplicate of #{root} from a: France and Kazakhstan sign long-term uranium supply deal"
        )),
        "{rewrite}"
    );
    let why = rewrite
        .lines()
        .find(|l| l.contains("Why one story: title similarity"))
        .unwrap_or_else(|| panic!("{rewrite}"));
    let score: f64 = why["  Why one story: title similarity ".len()..]
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.7..1.0).contains(&score), "{why}");
    assert!(why.ends_with("at or above dedup_threshold 0.70"), "{why}");
    assert!(
        rewrite.contains("only in this title: none")
            && rewrite.contains(&format!("only in #{root}: long, term")),
        "{rewrite}"
    );
    assert!(
        rewrite.contains(&format!("= {score:.2}")),
        "the formula ends on the score: {rewrite}"
    );

    let same_link = text(&config.entente(&["explain", &number("c")]).stdout);
    assert!(
        same_link.contains(&format!("Duplicate of #{root} from a"))
            && same_link
                .contains("Why one story: the same canonical link, https://news.example.org/deal"),
        "{same_link}"
    );

    let shown = text(&config.entente(&["explain", &root]).stdout);
    assert!(!shown.contains("Why one story"), "{shown}");
    assert!(
        shown.contains(&format!("Also reported by #{} from b", number("b"))),
        "{shown}"
    );
}

fn item_of<'a>(items: &'a serde_json::Value, source: &str) -> &'a serde_json::Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == source)
        .unwrap_or_else(|| panic!("no item from {source}: {items}"))
}

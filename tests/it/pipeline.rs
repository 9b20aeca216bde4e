//! The whole flow through the binary: a fetch pass over feeds served on loopback, the
//! items in SQLite, conditional requests on the second pass, the exported feeds.

use std::collections::HashSet;
use std::path::Path;

use crate::common::{atom, rss, text, FeedServer, Route, TestConfig};

const EN_ETAG: &str = "\"en-v1\"";
const FR_MODIFIED: &str = "Tue, 03 Mar 2026 09:00:00 GMT";

fn serve_three_languages(server: &FeedServer) {
    let en = rss(&[
        (
            "en-1",
            "France and Kazakhstan sign uranium supply agreement",
            "Orano and Kazatomprom signed a long-term uranium contract in Astana during talks between the two presidents.",
            "Mon, 02 Mar 2026 10:00:00 +0000",
        ),
        (
            "en-2",
            "Mexico City marathon draws record crowd",
            "Runners from forty countries took part in the annual race.",
            "Mon, 02 Mar 2026 11:00:00 +0000",
        ),
        (
            "en-3",
            "Air Astana orders Airbus jets as Kazakhstan and France deepen aviation ties",
            "The Kazakh flag carrier signed for new Airbus A321neo aircraft at a ceremony attended by French officials.",
            "Wed, 04 Mar 2026 08:00:00 +0000",
        ),
    ]);
    server.route("/en.rss", Route::rss(en).with_etag(EN_ETAG));
    let fr = atom(&[
        (
            "fr-1",
            "Emmanuel Macron reçoit Kassym-Jomart Tokaïev à l'Élysée",
            "Les présidents français et kazakhstanais ont signé une déclaration sur le partenariat stratégique.",
            "2026-03-03T08:00:00Z",
        ),
        (
            "fr-2",
            "La météo du week-end en Bretagne",
            "Des averses sont attendues sur le littoral.",
            "2026-03-03T07:00:00Z",
        ),
    ]);
    server.route(
        "/fr.atom",
        Route::ok("application/atom+xml", fr).with_last_modified(FR_MODIFIED),
    );
    let ru = rss(&[
        (
            "ru-1",
            "Казахстан и Франция договорились о поставках локомотивов Alstom",
            "Компания Alstom и «Қазақстан темір жолы» подписали соглашение о поставке электровозов.",
            "Thu, 05 Mar 2026 06:00:00 +0000",
        ),
        (
            "ru-2",
            "В Алматы открылся новый парк",
            "Горожане оценили новые аллеи и фонтаны.",
            "Thu, 05 Mar 2026 05:00:00 +0000",
        ),
    ]);
    server.route("/ru.rss", Route::rss(ru));
}

fn config_for(server: &FeedServer) -> TestConfig {
    TestConfig::new(
        &[
            ("en", server.url("/en.rss")),
            ("fr", server.url("/fr.atom")),
            ("ru", server.url("/ru.rss")),
        ],
        "feed_items = 50",
    )
}

fn titles(items: &serde_json::Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_fetch_pass_stores_every_item_once_and_tags_the_relevant_ones() {
    let server = FeedServer::start();
    serve_three_languages(&server);
    let config = config_for(&server);

    let first = config.entente(&["fetch"]);
    let stdout = text(&first.stdout);
    assert!(first.status.success(), "{stdout}{}", text(&first.stderr));
    assert!(stdout.contains("en: 3 new"), "{stdout}");
    assert!(stdout.contains("fr: 2 new"), "{stdout}");
    assert!(stdout.contains("ru: 2 new"), "{stdout}");

    let all = config.json(&["items", "--all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 7);
    let ids: HashSet<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7, "every item stored once");

    let relevant = config.json(&["items", "--json"]);
    let relevant_titles: HashSet<String> = titles(&relevant).into_iter().collect();
    let expected: HashSet<String> = [
        "France and Kazakhstan sign uranium supply agreement",
        "Air Astana orders Airbus jets as Kazakhstan and France deepen aviation ties",
        "Emmanuel Macron reçoit Kassym-Jomart Tokaïev à l'Élysée",
        "Казахстан и Франция договорились о поставках локомотивов Alstom",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(relevant_titles, expected);

    let topics_of = |title: &str| -> Vec<String> {
        let item = relevant
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == title)
            .unwrap();
        item["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        topics_of("France and Kazakhstan sign uranium supply agreement")
            .contains(&"energy-resources".into())
    );
    assert!(
        topics_of("Emmanuel Macron reçoit Kassym-Jomart Tokaïev à l'Élysée")
            .contains(&"diplomacy".into())
    );
    assert!(
        topics_of("Казахстан и Франция договорились о поставках локомотивов Alstom")
            .contains(&"transport-aerospace".into())
    );
    assert!(topics_of(
        "Air Astana orders Airbus jets as Kazakhstan and France deepen aviation ties"
    )
    .contains(&"transport-aerospace".into()));
}

#[test]
fn a_second_pass_sends_validators_and_adds_nothing() {
    let server = FeedServer::start();
    serve_three_languages(&server);
    let config = config_for(&server);
    assert!(config.entente(&["fetch"]).status.success());

    let second = config.entente(&["fetch"]);
    let stdout = text(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    assert!(stdout.contains("en: not modified"), "{stdout}");
    assert!(stdout.contains("fr: not modified"), "{stdout}");
    // No validators from this server: the unchanged body is recognised by its hash.
    assert!(stdout.contains("ru: not modified"), "{stdout}");

    let en = server.requests_to("/en.rss");
    assert_eq!(en.len(), 2);
    assert_eq!(en[0].headers.get("if-none-match"), None);
    assert_eq!(
        en[1].headers.get("if-none-match").map(String::as_str),
        Some(EN_ETAG)
    );
    let fr = server.requests_to("/fr.atom");
    assert_eq!(
        fr[1].headers.get("if-modified-since").map(String::as_str),
        Some(FR_MODIFIED)
    );
    assert!(en[0].headers["user-agent"].starts_with("entente/"));

    assert_eq!(config.stored_items(), 7);
}

#[test]
fn a_changed_item_is_updated_in_place() {
    let server = FeedServer::start();
    let date = "Mon, 02 Mar 2026 10:00:00 +0000";
    server.route(
        "/f.rss",
        Route::rss(rss(&[("a", "First title", "Body", date)])),
    );
    let config = TestConfig::new(&[("f", server.url("/f.rss"))], "");
    assert!(config.entente(&["fetch"]).status.success());
    server.route(
        "/f.rss",
        Route::rss(rss(&[("a", "Corrected title", "Body", date)])),
    );
    let second = config.entente(&["fetch"]);
    assert!(
        text(&second.stdout).contains("f: 0 new (0 relevant), 1 updated"),
        "{}",
        text(&second.stdout)
    );
    let all = config.json(&["items", "--all", "--json"]);
    assert_eq!(titles(&all), vec!["Corrected title"]);
}

fn feed_titles(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let feed = feed_rs::parser::parse(bytes.as_slice())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect()
}

#[test]
fn export_writes_each_topic_feed_with_exactly_its_items_newest_first() {
    let server = FeedServer::start();
    serve_three_languages(&server);
    let config = config_for(&server);
    assert!(config.entente(&["fetch"]).status.success());
    let out = config.dir.path().join("site");
    let export = config.entente(&["export", "--out", out.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export.stderr));

    assert!(out.join("index.html").is_file());
    assert!(out.join("feeds.opml").is_file());
    let all = feed_titles(&out.join("feeds/all.rss"));
    assert_eq!(all, titles(&config.json(&["items", "--json"])));
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0], "Казахстан и Франция договорились о поставках локомотивов Alstom",
        "newest first"
    );
    for topic in [
        "diplomacy",
        "trade-investment",
        "energy-resources",
        "transport-aerospace",
        "industry-agri",
        "culture-education",
    ] {
        for ext in ["rss", "atom", "json"] {
            assert!(
                out.join(format!("feeds/{topic}.{ext}")).is_file(),
                "{topic}.{ext}"
            );
        }
        let published = feed_titles(&out.join(format!("feeds/{topic}.rss")));
        let stored = titles(&config.json(&["items", "--topic", topic, "--json"]));
        assert_eq!(published, stored, "{topic}");
    }
}

/// Bodies fetched and not yet stored are bounded by bytes (512 KiB on 2 cores): feeds
/// larger than that whole buffer still go through, each alone, in one pass.
#[test]
fn feeds_larger_than_the_ingest_buffer_are_each_stored_whole() {
    let server = FeedServer::start();
    let filler = "Steppe weather and grain prices, reported from Kostanay. ".repeat(140);
    let mut sources = Vec::new();
    for feed in 0..4 {
        let entries: Vec<(String, String, String)> = (0..100)
            .map(|n| {
                (
                    format!("big-{feed}-{n}"),
                    format!("Regional bulletin {n} of feed {feed}"),
                    format!("{filler} Bulletin {n}."),
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str, &str, &str)> = entries
            .iter()
            .map(|(id, title, summary)| {
                (
                    id.as_str(),
                    title.as_str(),
                    summary.as_str(),
                    "Mon, 02 Mar 2026 09:00:00 +0000",
                )
            })
            .collect();
        let body = rss(&borrowed);
        assert!(body.len() > 700 * 1024, "{} bytes", body.len());
        let path = format!("/big{feed}.rss");
        server.route(&path, Route::rss(body));
        sources.push((format!("big{feed}"), server.url(&path)));
    }
    let named: Vec<(&str, String)> = sources
        .iter()
        .map(|(id, url)| (id.as_str(), url.clone()))
        .collect();
    let config = TestConfig::new(&named, "");

    let run = config.entente(&["fetch"]);
    let stdout = text(&run.stdout);
    assert!(run.status.success(), "{stdout}{}", text(&run.stderr));
    for feed in 0..4 {
        assert!(stdout.contains(&format!("big{feed}: 100 new")), "{stdout}");
    }
    let all = config.json(&["items", "--all", "--json", "--limit", "1000"]);
    assert_eq!(all.as_array().unwrap().len(), 400);
}

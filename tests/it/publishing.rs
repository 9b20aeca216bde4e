//! Publishing end to end (issue #5): items stored through the store's `ingest` with
//! hand-made decisions (so relevance does not depend on the classifier), then read
//! back as subscribers and caches see them: every format of every topic parsed back,
//! one story published once, conditional and compressed HTTP, the export, and the
//! outside checkers (Python feedparser, headless Chromium) when they are installed.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use entente::classify::Decision;
use entente::config::Config;
use entente::dedup::Policy;
use entente::item::Item;
use entente::serve::{router, serve, Catalog, ServerState};
use entente::store::queries as q;
use entente::store::{FetchRecord, Store};
use tokio::runtime::Runtime;

use crate::common::{http_get, text, TestConfig};

const SOURCES: [&str; 4] = ["le-monde", "reuters", "astana-times", "tass"];

/// A config with four sources, a database, and the catalog the server would use.
struct Fixture {
    config: TestConfig,
    loaded: Config,
    store: Store,
    runtime: Runtime,
}

impl Fixture {
    fn new() -> Fixture {
        let sources: Vec<(&str, String)> = SOURCES
            .iter()
            .map(|id| (*id, format!("https://{id}.example/feed.xml")))
            .collect();
        let config = TestConfig::new(
            &sources,
            "public_url = \"https://entente.example.org/\"\nfeed_items = 20",
        );
        let loaded = Config::load(&config.path).expect("test config loads");
        let store = Store::open(&loaded.daemon.database).expect("database opens");
        // As `open_store` does, so that the binary's `export` sees the same names.
        let rows: Vec<_> = loaded
            .sources
            .iter()
            .map(|s| (s.id.clone(), s.url.clone(), s.name.clone()))
            .collect();
        store.call_blocking(|c| q::sync_sources(c, &rows)).unwrap();
        Fixture {
            config,
            loaded,
            store,
            runtime: Runtime::new().unwrap(),
        }
    }

    /// The first `n` topic ids of the shipped rules, whatever they are called.
    fn topics(&self, n: usize) -> Vec<String> {
        let topics: Vec<String> = self
            .loaded
            .rules
            .topics()
            .iter()
            .map(|t| t.id.clone())
            .collect();
        assert!(topics.len() >= n, "the shipped rules have {n} topics");
        topics[..n].to_vec()
    }

    fn catalog(&self) -> Catalog {
        Catalog::new(
            self.store.clone(),
            entente::app::site(&self.loaded),
            self.loaded.daemon.feed_items,
        )
    }

    /// Stores one fetched feed of `source`, seen at `seen`.
    fn ingest(
        &self,
        source: &str,
        items: Vec<(Item, Decision)>,
        seen: DateTime<Utc>,
    ) -> q::IngestSummary {
        ingest_into(&self.store, source, items, seen)
    }

    fn get(&self, catalog: &Catalog, path: &str) -> entente::serve::Rendered {
        self.runtime
            .block_on(catalog.get(path))
            .unwrap()
            .unwrap_or_else(|| panic!("{path} is published"))
    }
}

fn ingest_into(
    store: &Store,
    source: &str,
    items: Vec<(Item, Decision)>,
    seen: DateTime<Utc>,
) -> q::IngestSummary {
    let record = FetchRecord {
        status: "ok",
        error_kind: None,
        error: None,
        attempted_at: seen,
        validators: None,
        consecutive_failures: 0,
        next_attempt: None,
        suggested_url: None,
    };
    store
        .ingest_blocking(source, items, record, Policy::default())
        .unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
}

fn item(
    source: &str,
    guid: &str,
    title: &str,
    link: &str,
    lang: &str,
    date: DateTime<Utc>,
) -> Item {
    Item {
        key: Item::key_for(source, Some(guid), Some(link), title, Some(date)),
        source_id: source.into(),
        guid: Some(guid.into()),
        link: Some(link.into()),
        title: title.into(),
        summary: format!("Summary: {title}"),
        content_html: None,
        published: Some(date),
        updated: None,
        authors: Vec::new(),
        categories: Vec::new(),
        lang: Some(lang.into()),
    }
}

fn relevant(topics: &[String]) -> Decision {
    Decision {
        relevant: true,
        score: 2.0,
        threshold: 1.0,
        topics: topics.to_vec(),
        evidence: Vec::new(),
        parts: Default::default(),
    }
}

fn irrelevant() -> Decision {
    Decision {
        relevant: false,
        score: 0.0,
        threshold: 1.0,
        topics: Vec::new(),
        evidence: Vec::new(),
        parts: Default::default(),
    }
}

/// The ids of a feed's items in order, by the format's own parser.
fn ids_in(path: &str, body: &[u8]) -> Vec<String> {
    if path.ends_with(".json") {
        let feed: serde_json::Value = serde_json::from_slice(body).expect("JSON Feed parses");
        assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
        feed["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_string())
            .collect()
    } else {
        let feed = feed_rs::parser::parse(body).unwrap_or_else(|e| panic!("{path}: {e}"));
        feed.entries.into_iter().map(|e| e.id).collect()
    }
}

/// Whether a published id names this item key (Atom wraps keys in a `tag:` URI).
fn names(id: &str, key: &str) -> bool {
    id == key || id.ends_with(&format!(":{key}"))
}

/// The story of the dedup tests: one story from three sources (tracking parameters and
/// `www.`, then a retitled copy), a different story with a similar title, and the same
/// headline in another language. Returns the keys published, newest first.
fn three_sources_one_story(f: &Fixture) -> Vec<String> {
    let topics = f.topics(2);
    let (energy, diplomacy) = (&topics[..1], &topics[1..2]);
    let first = item(
        "le-monde",
        "lm-1",
        "France and Kazakhstan sign uranium deal",
        "https://www.lemonde.fr/international/uranium_123.html?utm_source=rss&utm_medium=feed",
        "en",
        at(6, 9),
    );
    let first_key = first.key.clone();
    f.ingest("le-monde", vec![(first, relevant(energy))], at(6, 9));
    let same_link = item(
        "reuters",
        "r-77",
        "Paris and Astana agree on uranium supply",
        "http://lemonde.fr/international/uranium_123.html/?fbclid=abc#top",
        "en",
        at(6, 10),
    );
    let retitled = item(
        "astana-times",
        "at-5",
        "France, Kazakhstan sign uranium deal - The Astana Times",
        "https://astanatimes.com/2025/03/france-kazakhstan-uranium/",
        "en",
        at(6, 11),
    );
    let rail = item(
        "astana-times",
        "at-6",
        "France and Kazakhstan sign rail deal",
        "https://astanatimes.com/2025/03/france-kazakhstan-rail/",
        "en",
        at(6, 12),
    );
    let russian = item(
        "tass",
        "t-1",
        "France and Kazakhstan sign uranium deal",
        "https://tass.example/uranium",
        "ru",
        at(6, 13),
    );
    let summary = f.ingest("reuters", vec![(same_link, relevant(diplomacy))], at(6, 10));
    assert_eq!(summary.duplicates, 1, "same canonical link");
    let summary = f.ingest(
        "astana-times",
        vec![
            (retitled, relevant(energy)),
            (rail.clone(), relevant(energy)),
        ],
        at(6, 11),
    );
    assert_eq!(summary.duplicates, 1, "the retitled copy only");
    f.ingest("tass", vec![(russian.clone(), relevant(energy))], at(6, 13));
    vec![russian.key, rail.key, first_key]
}

#[test]
fn one_story_from_three_sources_is_published_once() {
    let f = Fixture::new();
    let expected = three_sources_one_story(&f);
    let catalog = f.catalog();
    let body = f.get(&catalog, "feeds/all.json").body;
    let feed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let items = feed["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, expected, "newest first, the uranium story once");

    let uranium = &items[2];
    assert_eq!(uranium["title"], "France and Kazakhstan sign uranium deal");
    assert!(
        uranium["url"].as_str().unwrap().contains("lemonde.fr"),
        "the first seen is published"
    );
    let html = uranium["content_html"].as_str().unwrap();
    assert_eq!(html.matches("<li>").count(), 2, "two other outlets: {html}");
    assert!(html.contains("Also reported by"), "{html}");
    assert!(
        html.contains("Paris and Astana agree on uranium supply</a> (reuters)"),
        "{html}"
    );
    assert!(
        html.contains("astanatimes.com/2025/03/france-kazakhstan-uranium/"),
        "{html}"
    );
    assert!(
        !html.contains("tass"),
        "another language is another story: {html}"
    );
    for other in &items[..2] {
        let html = other["content_html"].as_str().unwrap_or_default();
        assert!(!html.contains("Also reported by"), "{html}");
    }
    // The copy from the second topic brings the story into that topic's feed too.
    let topics = f.topics(2);
    let tags: Vec<&str> = uranium["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    assert!(tags.len() >= 2, "the cluster's topics: {tags:?}");
    let diplomacy = f.get(&catalog, &format!("feeds/{}.json", topics[1])).body;
    let diplomacy: serde_json::Value = serde_json::from_slice(&diplomacy).unwrap();
    let ids: Vec<&str> = diplomacy["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [expected[2].as_str()], "shown as the first copy");
}

#[test]
fn a_later_copy_never_reappears_and_clusters_survive_retag_and_retention() {
    let f = Fixture::new();
    let expected = three_sources_one_story(&f);
    let topics = f.topics(1);
    // The same copies fetched again, and one more outlet's copy a day later.
    let again = item(
        "reuters",
        "r-77",
        "Paris and Astana agree on uranium supply",
        "http://lemonde.fr/international/uranium_123.html/?fbclid=abc#top",
        "en",
        at(6, 10),
    );
    let summary = f.ingest("reuters", vec![(again, relevant(&topics))], at(7, 10));
    assert_eq!(summary.unchanged, 1);
    let late = item(
        "reuters",
        "r-78",
        "France and Kazakhstan sign a uranium deal",
        "https://reuters.example/uranium",
        "en",
        at(7, 8),
    );
    assert_eq!(
        f.ingest("reuters", vec![(late, relevant(&topics))], at(7, 8))
            .duplicates,
        1
    );
    let catalog = f.catalog();
    let ids = ids_in("feeds/all.rss", &f.get(&catalog, "feeds/all.rss").body);
    assert_eq!(ids, expected);

    // Retag decides the first copy is not relevant: the next copy takes its place.
    let first = expected[2].clone();
    let kept = topics.clone();
    f.store
        .call_blocking(|c| {
            q::retag(
                c,
                2,
                &Policy::default(),
                |item| {
                    if item.key == first {
                        irrelevant()
                    } else {
                        relevant(&kept)
                    }
                },
                |_, _| {},
            )
        })
        .unwrap();
    let catalog = f.catalog();
    let feed: serde_json::Value =
        serde_json::from_slice(&f.get(&catalog, "feeds/all.json").body).unwrap();
    let titles: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert_eq!(titles[2], "Paris and Astana agree on uranium supply");
    let html = feed["items"][2]["content_html"].as_str().unwrap();
    assert_eq!(html.matches("<li>").count(), 2, "{html}");

    // Retention deletes the cluster's root: the survivors stay one story.
    let deleted = f
        .store
        .call_blocking(|c| q::delete_older_than(c, at(6, 10)))
        .unwrap();
    assert_eq!(deleted, 1);
    let catalog = f.catalog();
    let ids = ids_in("feeds/all.atom", &f.get(&catalog, "feeds/all.atom").body);
    assert_eq!(ids.len(), 3, "{ids:?}");
}

#[test]
fn every_format_of_every_topic_parses_back_in_order_with_stable_ids() {
    let f = Fixture::new();
    let topics = f.topics(3);
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    let mut all = Vec::new();
    for n in 0..9u32 {
        let topic = &topics[(n % 3) as usize];
        let source = SOURCES[(n % 4) as usize];
        let story = item(
            source,
            &format!("story-{n}"),
            &format!(
                "Story number {n} on {topic} between Paris and Astana, episode {}",
                n * 7
            ),
            &format!("https://{source}.example/story-{n}"),
            "en",
            at(1 + n, 8),
        );
        all.insert(0, story.key.clone());
        expected
            .entry(topic.clone())
            .or_default()
            .insert(0, story.key.clone());
        f.ingest(
            source,
            vec![(story, relevant(std::slice::from_ref(topic)))],
            at(1 + n, 8),
        );
    }
    expected.insert("all".into(), all);
    let catalog = f.catalog();
    let rebuilt = f.catalog();
    for path in catalog.paths().iter().filter(|p| p.starts_with("feeds/")) {
        let rendered = f.get(&catalog, path);
        if path.ends_with(".xsl") {
            continue; // the stylesheet (issue 13)
        }
        let (slug, _) = path.trim_start_matches("feeds/").rsplit_once('.').unwrap();
        // Per-language feeds (issue 13): every story here is English.
        let (slug, lang) = slug.split_once('.').unwrap_or((slug, "en"));
        let want = match lang {
            "en" => expected.get(slug).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        let ids = ids_in(path, &rendered.body);
        assert_eq!(ids.len(), want.len(), "{path}");
        for (id, key) in ids.iter().zip(&want) {
            assert!(names(id, key), "{path}: {id} for {key}");
        }
        let again = f.get(&rebuilt, path);
        assert_eq!(
            again.body, rendered.body,
            "{path}: a rebuild gives the same bytes"
        );
        assert_eq!(again.etag, rendered.etag);
    }
    let opml = f.get(&catalog, "feeds.opml").body;
    let opml = String::from_utf8(opml.to_vec()).unwrap();
    let feeds = f.loaded.rules.topics().len() + 1;
    assert_eq!(
        opml.matches("xmlUrl=").count(),
        feeds * 5,
        "one RSS outline a feed, and one per language (issue 13)"
    );
}

/// `HEAD` over loopback: (status, lowercase headers, bytes after the head).
fn http_head(addr: &str, path: &str) -> (u16, HashMap<String, String>, usize) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!("HEAD {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw.len() - split - 4)
}

impl Fixture {
    /// A fixture holding one relevant story ("Tokayev meets Macron in Paris") in the
    /// first topic of the shipped rules, and that topic.
    fn with_one_story() -> (Fixture, Vec<String>) {
        let f = Fixture::new();
        let topics = f.topics(1);
        let first = item(
            "reuters",
            "a",
            "Tokayev meets Macron in Paris",
            "https://reuters.example/a",
            "en",
            at(2, 8),
        );
        f.ingest("reuters", vec![(first, relevant(&topics))], at(2, 8));
        (f, topics)
    }
}

#[test]
fn conditional_requests_compression_and_head() {
    let (f, topics) = Fixture::with_one_story();
    let catalog = Arc::new(f.catalog());
    let state = ServerState::new(catalog, Duration::from_secs(1200));
    let listener = f
        .runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    f.runtime
        .spawn(async move { axum::serve(listener, router(state)).await });

    let expected_types = [
        ("/feeds/all.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/all.atom", "application/atom+xml; charset=utf-8"),
        ("/feeds/all.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ];
    for (path, content_type) in expected_types {
        let (status, headers, body) = http_get(&addr, path, &[]).unwrap();
        assert_eq!(status, 200, "{path}");
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(headers["cache-control"], "public, max-age=1200", "{path}");
        assert!(!body.is_empty());
        let etag = &headers["etag"];
        let modified = &headers["last-modified"];
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "strong: {etag}"
        );
        for validator in [
            ("if-none-match", etag.as_str()),
            ("if-modified-since", modified.as_str()),
        ] {
            let (status, again, body) = http_get(&addr, path, &[validator]).unwrap();
            assert_eq!(status, 304, "{path} with {validator:?}");
            assert!(body.is_empty());
            assert_eq!(&again["etag"], etag);
        }
        let (status, _, _) = http_get(&addr, path, &[("if-none-match", "\"other\"")]).unwrap();
        assert_eq!(status, 200);
        let (status, head, rest) = http_head(&addr, path);
        assert_eq!((status, rest), (200, 0), "{path}: HEAD");
        assert_eq!(&head["etag"], etag);
    }

    // Compressed variants: the same bytes, their own strong ETag, one cached copy.
    let (_, plain, identity) = http_get(&addr, "/feeds/all.rss", &[]).unwrap();
    let (_, gz, gz_body) =
        http_get(&addr, "/feeds/all.rss", &[("accept-encoding", "gzip")]).unwrap();
    assert_eq!(gz["content-encoding"], "gzip");
    // Browsers get RSS and Atom as application/xml (issue 13), so Accept varies too.
    assert_eq!(gz["vary"], "Accept-Encoding, Accept");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz_body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, identity);
    assert_ne!(gz["etag"], plain["etag"]);
    let (_, br, br_body) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .unwrap();
    assert_eq!(br["content-encoding"], "br");
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &br_body[..], &mut unbrotli).unwrap();
    assert_eq!(unbrotli, identity);
    let (status, _, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[
            ("accept-encoding", "br"),
            ("if-none-match", br["etag"].as_str()),
        ],
    )
    .unwrap();
    assert_eq!(status, 304);
    let (_, refused, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("accept-encoding", "br;q=0, gzip;q=0")],
    )
    .unwrap();
    assert!(!refused.contains_key("content-encoding"));

    // A new item, stored by another process (another connection), changes the ETag
    // and the Last-Modified, so both validators now get the new bytes.
    let other = Store::open(&f.loaded.daemon.database).unwrap();
    let second = item(
        "tass",
        "b",
        "Kazakh and French ministers meet in Astana",
        "https://tass.example/b",
        "en",
        at(1, 8),
    );
    ingest_into(&other, "tass", vec![(second, relevant(&topics))], at(3, 8));
    // The server asks SQLite about other processes' commits at most every 10 ms, so
    // a request right after the commit may still get the 304.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let (status, after, body) = loop {
        let answer = http_get(
            &addr,
            "/feeds/all.rss",
            &[("if-none-match", plain["etag"].as_str())],
        )
        .unwrap();
        if answer.0 != 304 || std::time::Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(status, 200);
    assert_ne!(after["etag"], plain["etag"]);
    assert!(text(&body).contains("Kazakh and French ministers meet in Astana"));
    let (status, _, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("if-modified-since", plain["last-modified"].as_str())],
    )
    .unwrap();
    assert_eq!(
        status, 200,
        "an older-dated item still makes the feed newer"
    );
    let (status, _, _) = http_get(&addr, "/feeds/nope.rss", &[]).unwrap();
    assert_eq!(status, 404);
}

/// The daemon's server answers a conditional request for a file it holds rendered
/// before its router: the answer must be the router's, header for header.
#[test]
fn a_304_answered_from_the_cache_is_the_routers_304() {
    let (f, topics) = Fixture::with_one_story();
    let state = ServerState::new(Arc::new(f.catalog()), Duration::from_secs(1200));
    let bind = || {
        f.runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap()
    };
    let (routed, served) = (bind(), bind());
    let routed_addr = routed.local_addr().unwrap().to_string();
    let served_addr = served.local_addr().unwrap().to_string();
    let router_state = state.clone();
    f.runtime
        .spawn(async move { axum::serve(routed, router(router_state)).await });
    f.runtime
        .spawn(serve(served, state, std::future::pending::<()>()));

    let topic_feed = format!("/feeds/{}.rss", topics[0]);
    let without_date = |mut headers: HashMap<String, String>| {
        headers.remove("date");
        headers
    };
    let mut compared = 0;
    for path in [
        "/feeds/all.rss",
        "/feeds/all.atom",
        topic_feed.as_str(),
        "/feeds.opml",
        "/",
        "/index.html",
    ] {
        for extra in [
            vec![],
            vec![("accept-encoding", "gzip, br")],
            vec![("accept-language", "fr"), ("accept", "text/html")],
        ] {
            let (status, first, _) = http_get(&routed_addr, path, &extra).unwrap();
            assert_eq!(status, 200, "{path} {extra:?}");
            for validator in [
                ("if-none-match", first["etag"].as_str()),
                ("if-modified-since", first["last-modified"].as_str()),
            ] {
                let mut asked = extra.clone();
                asked.push(validator);
                let (routed_status, by_router, _) = http_get(&routed_addr, path, &asked).unwrap();
                let (status, by_cache, body) = http_get(&served_addr, path, &asked).unwrap();
                assert_eq!((routed_status, status), (304, 304), "{path} {asked:?}");
                assert!(body.is_empty());
                assert_eq!(
                    without_date(by_cache),
                    without_date(by_router),
                    "{path} {asked:?}"
                );
                compared += 1;
            }
            // A stale validator is answered in full, as the router answers it.
            let mut stale = extra.clone();
            stale.push(("if-none-match", "\"other\""));
            let (status, headers, body) = http_get(&served_addr, path, &stale).unwrap();
            let (_, routed_headers, routed_body) = http_get(&routed_addr, path, &stale).unwrap();
            assert_eq!(status, 200, "{path} {stale:?}");
            assert_eq!(
                (without_date(headers), body),
                (without_date(routed_headers), routed_body)
            );
        }
    }
    assert_eq!(compared, 36);
}

#[test]
fn only_the_feeds_of_changed_topics_are_rebuilt() {
    let f = Fixture::new();
    let topics = f.topics(2);
    let catalog = f.catalog();
    let first = item(
        "reuters",
        "a",
        "Tokayev meets Macron in Paris",
        "https://reuters.example/a",
        "en",
        at(2, 8),
    );
    f.ingest("reuters", vec![(first, relevant(&topics[..1]))], at(2, 8));
    let paths = [
        format!("feeds/{}.rss", topics[0]),
        format!("feeds/{}.rss", topics[1]),
        "feeds/all.rss".to_string(),
        "index.html".to_string(),
        "feeds.opml".to_string(),
    ];
    let before: Vec<_> = paths.iter().map(|p| f.get(&catalog, p)).collect();
    let second = item(
        "tass",
        "b",
        "Uranium talks continue in Astana",
        "https://tass.example/b",
        "en",
        at(3, 8),
    );
    let summary = f.ingest("tass", vec![(second, relevant(&topics[..1]))], at(3, 8));
    assert_eq!(
        summary.changed_topics.iter().collect::<Vec<_>>(),
        [&topics[0]]
    );
    let after: Vec<_> = paths.iter().map(|p| f.get(&catalog, p)).collect();
    let rebuilt: Vec<bool> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| !Arc::ptr_eq(&b.body, &a.body))
        .collect();
    assert_eq!(rebuilt, [true, false, true, true, false], "{paths:?}");
    assert_ne!(before[0].etag, after[0].etag);
}

/// `entente export --out DIR` with the fixture's config; returns DIR.
fn export(f: &Fixture) -> PathBuf {
    let out = f.config.dir.path().join("site");
    let output = f
        .config
        .entente(&["export", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "export: {}", text(&output.stderr));
    out
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            found.extend(
                files_under(&path)
                    .into_iter()
                    .map(|f| format!("{name}/{f}")),
            );
        } else {
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    found.sort();
    found
}

#[test]
fn export_writes_exactly_the_bytes_served() {
    let f = Fixture::new();
    three_sources_one_story(&f);
    let out = export(&f);
    let catalog = f.catalog();
    let mut paths = catalog.paths();
    paths.sort();
    assert_eq!(
        files_under(&out),
        paths,
        "every published file, no temporary files"
    );
    for path in &paths {
        let written = std::fs::read(out.join(path)).unwrap();
        assert_eq!(written, *f.get(&catalog, path).body, "{path}");
    }
    // Again over the old files: replaced, not appended to.
    let again = export(&f);
    assert_eq!(files_under(&again), paths);
}

/// Whether an outside checker must run (CI) or may be skipped when not installed.
fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

#[test]
fn exported_feeds_are_well_formed_for_feedparser() {
    let have_feedparser = Command::new("python3")
        .args(["-c", "import feedparser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_feedparser {
        assert!(
            !required("ENTENTE_REQUIRE_FEEDPARSER"),
            "ENTENTE_REQUIRE_FEEDPARSER=1 but python3 cannot import feedparser"
        );
        println!("SKIPPED: python3 with feedparser is not installed (pip install feedparser)");
        return;
    }
    let f = Fixture::new();
    three_sources_one_story(&f);
    let topics = f.topics(2);
    let hostile = item(
        "reuters",
        "h",
        "Astana & Paris <script>alert(1)</script> talks \u{1} \u{FFFE}",
        "https://reuters.example/h?a=1&b=2",
        "en",
        at(5, 8),
    );
    f.ingest("reuters", vec![(hostile, relevant(&topics[1..]))], at(5, 8));
    let out = export(&f);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_feeds.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args([
            "--expect", "all", "--expect", &topics[0], "--expect", &topics[1],
        ])
        .output()
        .unwrap();
    println!("{}", text(&output.stdout));
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Runs a command, killing it after `limit`.
fn run_with_timeout(command: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn front_page_renders_in_headless_chromium() {
    let installed = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            !required("ENTENTE_REQUIRE_CHROMIUM"),
            "ENTENTE_REQUIRE_CHROMIUM=1 but `chromium` is not installed"
        );
        println!("SKIPPED: `chromium` is not installed (apt-get install chromium)");
        return;
    }
    let f = Fixture::new();
    let topics = f.topics(2);
    let hostile_title =
        "Paris <script>document.body.setAttribute(\"data-pwned\",\"yes\")</script> talks";
    let stories = [
        item(
            "reuters",
            "c1",
            "Tokayev meets Macron in Paris",
            "https://reuters.example/c1",
            "en",
            at(2, 8),
        ),
        item(
            "tass",
            "c2",
            "Uranium talks continue in Astana",
            "https://tass.example/c2",
            "en",
            at(3, 8),
        ),
        item(
            "le-monde",
            "c3",
            hostile_title,
            "https://lemonde.example/c3",
            "fr",
            at(4, 8),
        ),
    ];
    for (n, story) in stories.iter().enumerate() {
        let source = story.source_id.clone();
        let topic = &topics[n % 2..n % 2 + 1];
        f.ingest(&source, vec![(story.clone(), relevant(topic))], at(5, 8));
    }
    let out = export(&f);
    let profile = tempfile::tempdir().unwrap();
    let page = format!("file://{}", out.join("index.html").display());
    let output = run_with_timeout(
        Command::new("chromium").args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            "--dump-dom",
            &page,
        ]),
        Duration::from_secs(90),
    );
    let dom = text(&output.stdout);
    assert!(
        dom.contains("</html>"),
        "no DOM from chromium: {}",
        text(&output.stderr)
    );
    let site = entente::app::site(&f.loaded);
    for topic in &site.topics {
        let title = html_escape::encode_text(&topic.title).into_owned();
        assert!(dom.contains(&title), "topic {} missing", topic.id);
        for format in entente::publish::Format::ALL {
            let href = site.feed_url(Some(topic), format);
            assert!(
                dom.contains(&format!("href=\"{href}\"")),
                "subscribe link {href}"
            );
        }
    }
    for format in entente::publish::Format::ALL {
        let href = site.feed_url(None, format);
        assert!(
            dom.contains(&format!("href=\"{href}\"")),
            "subscribe link {href}"
        );
    }
    assert!(dom.contains(&format!("href=\"{}\"", site.opml_url())));
    for story in &stories[..2] {
        assert!(dom.contains(&story.title), "item {} missing", story.title);
    }
    let shown_as_text = "Paris &lt;script&gt;document.body.setAttribute(\"data-pwned\",\"yes\")&lt;/script&gt; talks";
    assert!(
        dom.contains(shown_as_text),
        "the hostile title is shown as text"
    );
    assert!(!dom.contains("data-pwned=\"yes\""), "the hostile title ran");
    assert!(
        !dom.contains("<script>document"),
        "a script element was created"
    );
}

//! For subscribers (issue 13): the pages per language and topic, search, per-language
//! feeds, the stylesheet and favicon, 404s, dates, `Last-Modified` across a restart,
//! the export mirror, WebSub pings to a hub on loopback, and the browser checks
//! (screenshots, DOM, axe-core) when Chromium is installed.
//!
//! Items are stored through the store's `ingest` with hand-made decisions (so relevance
//! does not depend on the classifier) and read back over real HTTP from the router on
//! 127.0.0.1, or from the `entente` binary where the behaviour is the process's.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use entente::classify::Decision;
use entente::config::Config;
use entente::dedup::Policy;
use entente::item::Item;
use entente::serve::{router, Catalog, ServerState};
use entente::store::queries as q;
use entente::store::{FetchRecord, Store};

use crate::common::{entente_command, http_get, rss, text, FeedServer, Route, TestConfig};
use crate::common::{free_port, wait_for, KillOnDrop as Daemon};

const SOURCES: [&str; 3] = ["le-monde", "reuters", "tengri"];

/// A config, its database, and the router serving it on a free loopback port.
struct Site {
    config: TestConfig,
    store: Store,
    addr: String,
    topics: Vec<String>,
}

impl Site {
    fn new(daemon: &str) -> Site {
        let sources: Vec<(&str, String)> = SOURCES
            .iter()
            .map(|id| (*id, format!("https://{id}.example/feed.xml")))
            .collect();
        let config = TestConfig::new(
            &sources,
            &format!("public_url = \"https://entente.example.org/\"\n{daemon}"),
        );
        let loaded = Config::load(&config.path).expect("test config loads");
        let store = Store::open(&loaded.daemon.database).expect("database opens");
        let rows: Vec<_> = loaded
            .sources
            .iter()
            .map(|s| (s.id.clone(), s.url.clone(), s.name.clone()))
            .collect();
        store.call_blocking(|c| q::sync_sources(c, &rows)).unwrap();
        let topics = loaded.rules.topics().iter().map(|t| t.id.clone()).collect();
        let catalog = Arc::new(Catalog::new(
            store.clone(),
            entente::app::site(&loaded),
            loaded.daemon.feed_items,
        ));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = ServerState::new(catalog, Duration::from_secs(60));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, router(state)).await.unwrap();
            });
        });
        Site {
            config,
            store,
            addr,
            topics,
        }
    }

    fn ingest(&self, source: &str, items: Vec<(Item, Decision)>, seen: DateTime<Utc>) {
        ingest_into(&self.store, source, items, seen);
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, HashMap<String, String>, String) {
        let (status, headers, body) = http_get(&self.addr, path, headers).unwrap();
        (status, headers, String::from_utf8(body).unwrap())
    }

    fn page(&self, path: &str) -> String {
        let (status, headers, body) = self.get(path, &[]);
        assert_eq!(status, 200, "{path}");
        assert!(headers.contains_key("content-type"), "{path}");
        body
    }
}

fn ingest_into(store: &Store, source: &str, items: Vec<(Item, Decision)>, seen: DateTime<Utc>) {
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
        .call_blocking(|c| q::ingest_with(c, source, &items, &record, &Policy::default()))
        .unwrap();
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, 0, 0).unwrap()
}

fn item(
    source: &str,
    n: &str,
    title: &str,
    summary: &str,
    lang: &str,
    date: DateTime<Utc>,
) -> Item {
    Item {
        key: Item::key_for(source, Some(n), None, title, None),
        source_id: source.into(),
        guid: Some(n.into()),
        link: Some(format!("https://{source}.example/{n}")),
        title: title.into(),
        summary: summary.into(),
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
        score: 3.0,
        threshold: 1.0,
        topics: topics.to_vec(),
        evidence: Vec::new(),
        parts: Default::default(),
    }
}

/// Four stories in three languages over two topics, one reported by two outlets.
fn stories(site: &Site) -> Vec<Item> {
    let (a, b) = (&site.topics[0..1], &site.topics[1..2]);
    let uranium = item(
        "reuters",
        "u1",
        "France and Kazakhstan sign uranium deal",
        "Orano and Kazatomprom agreed on supplies. The deal runs ten years. More later.",
        "en",
        at(6, 9),
    );
    let copy = item(
        "tengri",
        "u2",
        "France and Kazakhstan sign uranium deal",
        "Copy.",
        "en",
        at(6, 10),
    );
    let french = item(
        "le-monde",
        "f1",
        "Étude franco-kazakhe sur l'énergie",
        "Une étude conjointe sur l'énergie.",
        "fr",
        at(5, 8),
    );
    let russian = item(
        "tengri",
        "r1",
        "КАЗАХСТАН и Франция подписали соглашение",
        "Соглашение о сотрудничестве.",
        "ru",
        at(4, 7),
    );
    site.ingest("reuters", vec![(uranium.clone(), relevant(a))], at(6, 9));
    site.ingest("tengri", vec![(copy.clone(), relevant(a))], at(6, 11));
    site.ingest("le-monde", vec![(french.clone(), relevant(b))], at(5, 9));
    site.ingest("tengri", vec![(russian.clone(), relevant(b))], at(6, 12));
    vec![uranium, copy, french, russian]
}

/// The text inside the first element that starts with `open` and ends with `close`.
fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page.find(open).unwrap_or_else(|| panic!("no {open}"));
    let end = page[start..]
        .find(close)
        .unwrap_or_else(|| panic!("no {close}"))
        + start;
    &page[start..end]
}

#[test]
fn pages_show_each_story_once_with_navigation_summaries_and_languages_first() {
    let site = Site::new("");
    let items = stories(&site);
    let front = site.page("/");
    assert!(front.contains("<html lang=\"en\">"));
    let nav = between(&front, "<nav", "</nav>");
    for topic in &site.topics {
        let href = format!("href=\"https://entente.example.org/topics/{topic}\"");
        assert!(nav.contains(&href), "{href} in the navigation");
    }
    assert!(
        front.find("<nav").unwrap() < front.find("<main").unwrap(),
        "navigation first"
    );
    let main = between(&front, "<main", "</main>");
    for story in [&items[0], &items[2], &items[3]] {
        let title = html_escape::encode_text(&story.title).into_owned();
        assert_eq!(
            main.matches(&format!(">{title}</a></h3>")).count(),
            1,
            "{} once",
            story.title
        );
    }
    assert_eq!(
        main.matches("class=\"story\"").count(),
        3,
        "the copy is not a story"
    );
    assert!(main.contains(
        "<p class=\"summary\" lang=\"en\">Orano and Kazatomprom agreed on supplies. The deal runs ten years.</p>"
    ));
    // "Also reported by" names the other outlet and links its copy.
    assert!(main.contains("Also reported by: <a href=\"https://tengri.example/u2\""));
    assert!(front.contains("Updated <time"));
    assert!(front.contains("Outlets followed"));
    for code in ["fr", "ru", "kk"] {
        assert!(front.contains(&format!("href=\"https://entente.example.org/{code}/\"")));
    }
    assert!(front.contains("href=\"https://entente.example.org/feeds/all.en.rss\""));
    assert!(front.contains("href=\"https://entente.example.org/feeds.opml\""));

    // /fr/: French interface, the French story first.
    let french = site.page("/fr/");
    assert!(french.contains("<html lang=\"fr\">"));
    assert!(french.contains("S’abonner"));
    let main = between(&french, "<main", "</main>");
    let first = main.find("class=\"story\"").unwrap();
    assert!(main[first..].starts_with(&format!("class=\"story\" data-key=\"{}\"", items[2].key)));
    assert!(main.contains("<h2>En français</h2>"));
    assert!(main.contains("6 mars 2025"));
    assert!(french.contains("href=\"https://entente.example.org/feeds/all.fr.rss\""));

    // `/` follows Accept-Language; `/index.html` stays English.
    let (_, headers, body) = site.get("/", &[("Accept-Language", "kk-KZ, ru;q=0.8")]);
    assert!(body.contains("<html lang=\"kk\">"));
    assert_eq!(headers["content-language"], "kk");
    assert!(headers["vary"].contains("Accept-Language"));
    let (_, _, body) = site.get("/index.html", &[("Accept-Language", "ru")]);
    assert!(body.contains("<html lang=\"en\">"));

    // A topic page: only its stories, its feeds in every language.
    let topic = &site.topics[1];
    let page = site.page(&format!("/topics/{topic}"));
    let main = between(&page, "<main", "</main>");
    assert_eq!(main.matches("class=\"story\"").count(), 2);
    assert!(!main.contains("uranium"));
    assert!(page.contains(&format!("feeds/{topic}.ru.atom")));
    assert!(page.contains("aria-current=\"page\""));
    let (status, _, _) = site.get("/topics/no-such-topic", &[]);
    assert_eq!(status, 404);
}

#[test]
fn per_language_feeds_carry_only_their_language_and_each_item_its_own() {
    let site = Site::new("websub_hub = \"https://hub.example.net/\"");
    let items = stories(&site);
    let (_, headers, rss) = site.get("/feeds/all.fr.rss", &[]);
    assert!(headers["content-type"].starts_with("application/rss+xml"));
    assert!(rss.contains("franco-kazakhe"), "{rss}");
    assert_eq!(items[2].lang.as_deref(), Some("fr"));
    assert!(!rss.contains("uranium"));
    assert!(rss.contains("<language>fr</language>"));
    assert!(rss.contains("<dc:language>fr</dc:language>"));
    assert!(rss.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n"
    ), "{}", &rss[..200]);
    assert!(rss.contains("rel=\"hub\"") && rss.contains("https://hub.example.net/"));
    assert_eq!(
        headers["link"],
        "<https://hub.example.net/>; rel=\"hub\", <https://entente.example.org/feeds/all.fr.rss>; rel=\"self\""
    );

    let (_, _, atom) = site.get("/feeds/all.atom", &[]);
    assert!(atom.contains("<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>"));
    assert!(atom.contains("<link href=\"https://hub.example.net/\" rel=\"hub\"/>"));
    // Every entry says who reported it, and each its own language.
    assert_eq!(atom.matches("<source>").count(), 3, "{atom}");
    assert!(
        atom.contains("<title>reuters</title>")
            || atom.contains("<title>Reuters</title>")
            || atom.contains("<source><id>https://reuters.example/feed.xml</id>")
    );
    assert!(atom.contains("<title xml:lang=\"ru\">"));

    let (_, _, json) = site.get("/feeds/all.json", &[]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["hubs"][0]["url"], "https://hub.example.net/");
    let uranium = &json["items"][0];
    assert_eq!(uranium["_entente"]["cluster"]["outlets"], 2);
    assert_eq!(uranium["_entente"]["source"]["id"], "reuters");
    assert!(uranium["authors"][0]["name"].is_string());

    let (_, _, kk) = site.get("/feeds/all.kk.json", &[]);
    let kk: serde_json::Value = serde_json::from_str(&kk).unwrap();
    assert_eq!(kk["items"].as_array().unwrap().len(), 0);
    assert_eq!(kk["language"], "kk");

    let (_, _, opml) = site.get("/feeds.opml", &[]);
    for topic in site.topics.iter().map(String::as_str).chain(["all"]) {
        for lang in ["en", "fr", "ru", "kk"] {
            let url = format!("xmlUrl=\"https://entente.example.org/feeds/{topic}.{lang}.rss\"");
            assert!(opml.contains(&url), "{url}");
        }
    }
    let (status, headers, xsl) = site.get("/feeds/feed.xsl", &[]);
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("text/xsl"));
    assert!(xsl.contains("This is a news feed") && xsl.contains("Бұл жаңалықтар арнасы"));
}

/// A raw HEAD request: (status, headers, bytes after the head).
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

#[test]
fn errors_are_for_people_with_a_favicon_and_head_everywhere() {
    let site = Site::new("");
    stories(&site);
    for path in [
        "/nope",
        "/feeds/politics.rss",
        "/feeds/all.de.rss",
        "/fr/nope",
    ] {
        let (status, headers, body) = site.get(path, &[("Accept", "text/html,*/*;q=0.8")]);
        assert_eq!(status, 404, "{path}");
        assert!(headers["content-type"].starts_with("text/html"), "{path}");
        assert!(
            body.contains("href=\"https://entente.example.org/"),
            "a link home: {path}"
        );
        let (status, headers, body) = site.get(path, &[]);
        assert_eq!(status, 404, "{path}");
        assert!(headers["content-type"].starts_with("text/plain"), "{path}");
        assert!(
            !body.contains('<') && body.contains("https://entente.example.org/"),
            "{path}"
        );
    }
    let (_, _, body) = site.get("/fr/nope", &[]);
    assert!(body.starts_with("Page introuvable"));

    let (status, headers, body) = http_get(&site.addr, "/favicon.ico", &[]).unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/x-icon");
    assert_eq!(&body[..4], &[0, 0, 1, 0]);

    for path in [
        "/",
        "/fr/",
        "/topics/diplomacy",
        "/feeds/all.fr.atom",
        "/feeds.opml",
        "/search?q=uranium",
        "/favicon.ico",
    ] {
        let (status, headers, after) = http_head(&site.addr, path);
        assert_eq!(status, 200, "HEAD {path}");
        assert!(headers.contains_key("content-type"), "HEAD {path}");
        assert_eq!(after, 0, "HEAD {path} has no body");
    }
    let (status, headers, _) = http_head(&site.addr, "/nope");
    assert_eq!(status, 404);
    assert!(headers.contains_key("content-type"));
}

#[test]
fn search_folds_case_and_diacritics_ranks_pages_and_survives_hostile_queries() {
    let site = Site::new("");
    let items = stories(&site);
    let titles_in = |body: &str| -> Vec<String> {
        let main = between(body, "<main", "</main>");
        main.match_indices("data-key=\"")
            .map(|(at, _)| main[at + 10..].split('"').next().unwrap().to_string())
            .collect()
    };
    let search = |q: &str| site.page(&format!("/search?q={q}"));
    // "etude" finds "Étude", lowercase Cyrillic finds "КАЗАХСТАН".
    assert_eq!(titles_in(&search("etude")), [items[2].key.clone()]);
    assert_eq!(
        titles_in(&search(
            "%D0%BA%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD"
        )),
        [items[3].key.clone()]
    );
    // The story once, though two outlets carry it.
    assert_eq!(titles_in(&search("uranium")), [items[0].key.clone()]);
    // Ranked: a title match before a summary-only match.
    site.ingest(
        "reuters",
        vec![(
            item(
                "reuters",
                "s9",
                "Talks in Astana",
                "Uranium mentioned in passing.",
                "en",
                at(7, 9),
            ),
            relevant(&site.topics[..1]),
        )],
        at(7, 9),
    );
    let ranked = titles_in(&search("uranium"));
    assert_eq!(ranked.len(), 2);
    assert_eq!(ranked[0], items[0].key, "the title match first");
    // Hostile and empty queries: a page, never an error.
    for q in [
        "",
        "%22",
        "AND",
        "NEAR(",
        "title%3A*",
        "%27%3B%20DROP%20TABLE%20items%3B--",
        &"x".repeat(5000),
    ] {
        let (status, headers, body) = site.get(&format!("/search?q={q}"), &[]);
        assert_eq!(status, 200, "{q}");
        assert!(headers["content-type"].starts_with("text/html"));
        assert!(body.contains("<main"), "{q}");
    }
    assert!(search("%3Cscript%3E").contains("&lt;script&gt;"));
    // Paged, 20 a page.
    let many: Vec<(Item, Decision)> = (0..25)
        .map(|n| {
            (
                item(
                    "le-monde",
                    &format!("p{n}"),
                    &format!("Astana forum day {n}"),
                    "",
                    "en",
                    at(8, 0) + chrono::Duration::minutes(n),
                ),
                relevant(&site.topics[..1]),
            )
        })
        .collect();
    site.ingest("le-monde", many, at(9, 0));
    let first = titles_in(&search("forum"));
    let second = titles_in(&site.page("/search?q=forum&page=2"));
    assert_eq!((first.len(), second.len()), (20, 5));
    assert!(first.iter().all(|k| !second.contains(k)));
    assert!(search("forum").contains("page=2"));
    assert_eq!(site.get("/search?q=forum&page=abc", &[]).0, 200);
}

#[test]
fn a_future_date_is_clamped_to_first_seen_and_the_original_kept() {
    let site = Site::new("");
    let now = Utc::now();
    let seen = DateTime::from_timestamp(now.timestamp(), 0).unwrap();
    let future = Utc.with_ymd_and_hms(2033, 1, 1, 0, 0, 0).unwrap();
    let typo = item(
        "reuters",
        "z1",
        "Kazakhstan and France in 2033",
        "",
        "en",
        future,
    );
    let today = item(
        "tengri",
        "z2",
        "Tokayev receives French delegation",
        "",
        "en",
        seen - chrono::Duration::minutes(5),
    );
    let earlier = seen - chrono::Duration::hours(1);
    site.ingest(
        "reuters",
        vec![(typo.clone(), relevant(&site.topics[..1]))],
        earlier,
    );
    site.ingest(
        "tengri",
        vec![(today.clone(), relevant(&site.topics[..1]))],
        seen,
    );
    let (_, _, json) = site.get("/feeds/all.json", &[]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &json["items"][0];
    assert_eq!(
        first["id"], today.key,
        "the future item no longer tops the feed"
    );
    let typo_out = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == typo.key)
        .unwrap();
    let date = DateTime::parse_from_rfc3339(typo_out["date_published"].as_str().unwrap()).unwrap();
    assert_eq!(date, earlier, "clamped to first seen");
    let stored = site
        .store
        .call_blocking(|c| q::find_item(c, &typo.key))
        .unwrap();
    assert_eq!(
        stored.item.published,
        Some(future),
        "the original date is kept"
    );
}

fn start_daemon(config: &TestConfig, addr: &str) -> Daemon {
    let child = entente_command(&config.path, &["run", "--listen", addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Daemon(child)
}

fn stop(mut daemon: Daemon) {
    let pid = daemon.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    wait_for(Duration::from_secs(10), || daemon.0.try_wait().unwrap()).expect("the daemon stopped");
}

const PARTNERSHIP: (&str, &str, &str, &str) = (
    "a",
    "Tokayev and Macron sign a strategic partnership in Astana",
    "The presidents of Kazakhstan and France met for talks.",
    "Mon, 02 Mar 2026 10:00:00 +0000",
);

#[test]
fn last_modified_survives_a_restart_of_the_daemon() {
    let server = FeedServer::start();
    server.route("/f.rss", Route::rss(rss(&[PARTNERSHIP])));
    let config = TestConfig::new(
        &[("f", server.url("/f.rss"))],
        "schedule = \"*/5 * * * *\"\n[daemon.limits]\ngrace_secs = 5",
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let served = |addr: &str| {
        wait_for(Duration::from_secs(30), || {
            let (status, headers, body) = http_get(addr, "/feeds/all.rss", &[]).ok()?;
            (status == 200 && text(&body).contains("strategic partnership")).then_some(headers)
        })
        .expect("the daemon serves the item")
    };
    let daemon = start_daemon(&config, &addr);
    let before = served(&addr);
    stop(daemon);
    // HTTP dates have whole seconds: a re-render after a restart would show a later one.
    std::thread::sleep(Duration::from_millis(1100));
    let addr = format!("127.0.0.1:{}", free_port());
    let daemon = start_daemon(&config, &addr);
    let after = served(&addr);
    assert_eq!(after["etag"], before["etag"]);
    assert_eq!(after["last-modified"], before["last-modified"]);
    let (status, _, _) = http_get(
        &addr,
        "/feeds/all.rss",
        &[("If-Modified-Since", &before["last-modified"])],
    )
    .unwrap();
    assert_eq!(status, 304, "a reader polling with If-Modified-Since only");
    stop(daemon);
}

/// What the hub was told: (`hub.mode`, `hub.url`, whether it accepted) of each request.
type Pings = Arc<Mutex<Vec<(String, String, bool)>>>;

/// A WebSub hub on loopback that records every `hub.url` it is told about, and
/// answers 503 to as many requests as `refuse` says before accepting again.
fn start_hub() -> (String, Pings, Arc<AtomicUsize>) {
    let pings: Pings = Arc::default();
    let recorded = pings.clone();
    let refuse = Arc::new(AtomicUsize::new(0));
    let refusing = refuse.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/hub", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().route(
                "/hub",
                axum::routing::post(move |body: String| {
                    let recorded = recorded.clone();
                    let refusing = refusing.clone();
                    async move {
                        let form: HashMap<String, String> =
                            url::form_urlencoded::parse(body.as_bytes())
                                .into_owned()
                                .collect();
                        let refused = refusing
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        recorded.lock().unwrap().push((
                            form.get("hub.mode").cloned().unwrap_or_default(),
                            form.get("hub.url").cloned().unwrap_or_default(),
                            !refused,
                        ));
                        if refused {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE
                        } else {
                            axum::http::StatusCode::NO_CONTENT
                        }
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    (url, pings, refuse)
}

#[test]
fn the_hub_is_pinged_once_per_changed_feed_and_never_for_unchanged_ones() {
    let (hub, pings, refuse) = start_hub();
    let server = FeedServer::start();
    server.route("/f.rss", Route::rss(rss(&[PARTNERSHIP])));
    let port = free_port();
    let config = TestConfig::new(
        &[("f", server.url("/f.rss"))],
        &format!(
            "schedule = \"*/2 * * * * *\"\npublic_url = \"http://127.0.0.1:{port}/\"\n\
             websub_hub = \"{hub}\"\n[daemon.limits]\ngrace_secs = 5"
        ),
    );
    let addr = format!("127.0.0.1:{port}");
    let daemon = start_daemon(&config, &addr);
    let feed_etags = || -> HashMap<String, String> {
        let (_, _, opml) = http_get(&addr, "/feeds.opml", &[]).unwrap();
        let opml = text(&opml);
        let mut urls: Vec<String> = opml
            .match_indices("xmlUrl=\"")
            .map(|(at, _)| opml[at + 8..].split('"').next().unwrap().to_string())
            .collect();
        let others: Vec<String> = urls
            .iter()
            .flat_map(|u| [u.replace(".rss", ".atom"), u.replace(".rss", ".json")])
            .collect();
        urls.extend(others);
        urls.into_iter()
            .map(|url| {
                let path = url
                    .trim_start_matches(&format!("http://{addr}"))
                    .to_string();
                let (status, headers, _) = http_get(&addr, &path, &[]).unwrap();
                assert_eq!(status, 200, "{path}");
                (url, headers["etag"].clone())
            })
            .collect()
    };
    wait_for(Duration::from_secs(30), || {
        let (_, _, body) = http_get(&addr, "/feeds/all.rss", &[]).ok()?;
        text(&body).contains("strategic partnership").then_some(())
    })
    .expect("the first ingest is served");
    // Pings for the first ingest land within a second or two; then a few more fetch
    // rounds of the same feed change nothing and ping nothing.
    std::thread::sleep(Duration::from_secs(3));
    let before = feed_etags();
    pings.lock().unwrap().clear();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        *pings.lock().unwrap(),
        [],
        "unchanged feeds are never pinged"
    );
    // The hub is down for the first three pings of the next change: they are retried.
    refuse.store(3, Ordering::SeqCst);

    server.route(
        "/f.rss",
        Route::rss(rss(&[
            PARTNERSHIP,
            (
                "b",
                "Kazatomprom and Orano agree uranium supplies for French reactors",
                "Kazakhstan will supply uranium to France under a long-term contract.",
                "Tue, 03 Mar 2026 10:00:00 +0000",
            ),
        ])),
    );
    wait_for(Duration::from_secs(30), || {
        let (_, _, body) = http_get(&addr, "/feeds/all.rss", &[]).ok()?;
        text(&body).contains("Orano").then_some(())
    })
    .expect("the second ingest is served");
    std::thread::sleep(Duration::from_secs(3));
    let after = feed_etags();
    stop(daemon);
    let changed: HashSet<&String> = after
        .iter()
        .filter(|(url, etag)| before.get(*url) != Some(etag))
        .map(|(url, _)| url)
        .collect();
    assert!(!changed.is_empty());
    assert!(changed.len() < after.len(), "some feeds did not change");
    let pings = pings.lock().unwrap().clone();
    assert!(pings.iter().all(|(mode, _, _)| mode == "publish"));
    let refused: Vec<&String> = pings.iter().filter(|p| !p.2).map(|p| &p.1).collect();
    assert_eq!(refused.len(), 3, "{pings:?}");
    let pinged: Vec<&String> = pings.iter().filter(|p| p.2).map(|p| &p.1).collect();
    let unique: HashSet<&String> = pinged.iter().copied().collect();
    assert_eq!(
        unique.len(),
        pinged.len(),
        "one accepted ping per feed: {pinged:?}"
    );
    assert_eq!(unique, changed, "exactly the changed feeds");
    assert!(
        refused.iter().all(|url| unique.contains(url)),
        "refused pings were retried"
    );
}

#[test]
fn export_mirrors_the_site_and_removes_stale_files() {
    let site = Site::new("");
    stories(&site);
    let out = site.config.dir.path().join("site");
    let export = || {
        let output = site
            .config
            .entente(&["export", "--out", out.to_str().unwrap()]);
        assert!(output.status.success(), "export: {}", text(&output.stderr));
    };
    export();
    for file in [
        "index.html",
        "fr/index.html",
        "kk/topics/diplomacy/index.html",
        "feeds/all.ru.atom",
        "feeds/feed.xsl",
        "favicon.ico",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let (_, _, served) = http_get(&site.addr, "/feeds/all.fr.json", &[]).unwrap();
    assert_eq!(
        std::fs::read(out.join("feeds/all.fr.json")).unwrap(),
        served
    );
    // A topic that no longer exists left these behind.
    std::fs::create_dir_all(out.join("topics/gone")).unwrap();
    std::fs::write(out.join("topics/gone/index.html"), "old").unwrap();
    std::fs::write(out.join("feeds/gone.fr.rss"), "old").unwrap();
    std::fs::write(out.join("notes.txt"), "the operator's own").unwrap();
    export();
    assert!(!out.join("feeds/gone.fr.rss").exists());
    assert!(!out.join("topics/gone").exists());
    assert!(
        out.join("notes.txt").exists(),
        "files outside our folders are left alone"
    );
    assert!(out.join("feeds/all.rss").is_file());

    // Every feed, per-language ones included, as feedparser reads it: bozo 0, each
    // declaring its language, the stylesheet beside them.
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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_feeds.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args([
            "--expect", "all", "--expect", "all.fr", "--expect", "all.ru", "--expect", "all.en",
        ])
        .output()
        .unwrap();
    let report = text(&output.stdout);
    assert!(output.status.success(), "{report}{}", text(&output.stderr));
    assert!(
        report.contains("feeds/all.kk.atom: 0 items (feedparser), ok"),
        "{report}"
    );
}

/// Whether an outside checker must run (CI) or may be skipped when not installed.
fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

fn chromium_installed() -> bool {
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
    }
    installed
}

/// Runs headless Chromium with these arguments, killing it after a minute and a half.
fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// Where screenshots go: `ENTENTE_SCREENSHOTS` if set (to look at them), else a
/// temporary folder.
fn screenshot_dir() -> (Option<tempfile::TempDir>, std::path::PathBuf) {
    match std::env::var_os("ENTENTE_SCREENSHOTS") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (None, dir.into())
        }
        None => {
            let temp = tempfile::tempdir().unwrap();
            let path = temp.path().to_path_buf();
            (Some(temp), path)
        }
    }
}

#[test]
fn pages_and_a_feed_render_in_headless_chromium_at_phone_and_desktop_widths() {
    if !chromium_installed() {
        return;
    }
    let site = Site::new("");
    let items = stories(&site);
    let profile = tempfile::tempdir().unwrap();
    let (_keep, shots) = screenshot_dir();
    let topic = &site.topics[1];
    let pages = [
        ("front", "/".to_string()),
        ("topic", format!("/topics/{topic}")),
        ("fr", "/fr/".to_string()),
        ("feed", "/feeds/all.rss".to_string()),
        ("feed-fr", "/feeds/all.fr.atom".to_string()),
    ];
    for (name, path) in &pages {
        let url = format!("http://{}{path}", site.addr);
        for width in [390, 1280] {
            let file = shots.join(format!("{name}-{width}.png"));
            let output = chromium(
                profile.path(),
                &[
                    &format!("--window-size={width},1600"),
                    &format!("--screenshot={}", file.display()),
                    &url,
                ],
            );
            let png = std::fs::read(&file)
                .unwrap_or_else(|_| panic!("no screenshot of {path}: {}", text(&output.stderr)));
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 5_000,
                "{path} at {width}"
            );
        }
    }
    // Dark, as a reader whose system is set so sees it.
    let file = shots.join("front-390-dark.png");
    chromium(
        profile.path(),
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
            "--window-size=390,1600",
            &format!("--screenshot={}", file.display()),
            &format!("http://{}/", site.addr),
        ],
    );
    assert!(std::fs::read(&file).is_ok_and(|png| png.starts_with(b"\x89PNG")));
    // The DOM as Chromium built it: the navigation, each story once, summaries, the
    // language switch.
    let dom = |path: &str| {
        let output = chromium(
            profile.path(),
            &["--dump-dom", &format!("http://{}{path}", site.addr)],
        );
        text(&output.stdout)
    };
    let front = dom("/");
    let nav = between(&front, "<nav", "</nav>");
    assert_eq!(nav.matches("/topics/").count(), site.topics.len());
    let main = between(&front, "<main", "</main>");
    for story in [&items[0], &items[2], &items[3]] {
        assert_eq!(
            main.matches(&format!("data-key=\"{}\"", story.key)).count(),
            1
        );
    }
    assert_eq!(main.matches("class=\"summary\"").count(), 3);
    assert!(front.contains("aria-current=\"page\">English</a>"));
    let french = dom("/fr/");
    assert!(french.contains("<html lang=\"fr\">"));
    assert!(french.contains("aria-current=\"page\">Français</a>"));
    // The feed through its stylesheet: a page saying how to subscribe.
    for (path, words) in [
        ("/feeds/all.rss", "This is a news feed"),
        ("/feeds/all.fr.atom", "Ceci est un flux d’actualités"),
        ("/feeds/all.ru.rss", "Это лента новостей"),
    ] {
        let feed = dom(path);
        assert!(feed.contains(words), "{path}: {feed}");
        assert!(
            feed.contains("<code>https://entente.example.org"),
            "{path}: the address to copy"
        );
    }
    assert!(dom("/feeds/all.rss").contains(&items[0].title));
    assert!(dom("/feeds/all.fr.atom").contains("franco-kazakhe"));
}

/// axe-core's script: `ENTENTE_AXE` if set, else where `.ci/run` installs it.
fn axe_script() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("ENTENTE_AXE").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/browser/node_modules/axe-core/axe.min.js")
        },
        Into::into,
    );
    path.is_file().then_some(path)
}

#[test]
fn pages_have_no_serious_or_critical_accessibility_violation() {
    if !chromium_installed() {
        return;
    }
    let Some(axe) = axe_script() else {
        assert!(
            !required("ENTENTE_REQUIRE_AXE"),
            "ENTENTE_REQUIRE_AXE=1 but axe-core is not installed in tests/browser"
        );
        println!(
            "SKIPPED: axe-core is not installed (npm install --prefix tests/browser axe-core)"
        );
        return;
    };
    let site = Site::new("");
    stories(&site);
    let profile = tempfile::tempdir().unwrap();
    let topic = format!("/kk/topics/{}", site.topics[1]);
    for path in ["/", "/fr/", topic.as_str(), "/search?q=uranium"] {
        // The page as served, with axe and a script that writes its verdict into the DOM,
        // opened from a file so that no server needs to serve axe.
        let page = site.page(path);
        let audit = "<script src=\"axe.min.js\"></script><script>\
            axe.run(document, {resultTypes: ['violations']}).then(function (r) {\
              var bad = r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })\
                .map(function (v) { return v.id + ': ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); });\
              document.documentElement.setAttribute('data-axe', 'done');\
              document.documentElement.setAttribute('data-violations', bad.join(' | '));\
            });</script>";
        let page = page.replace("</body>", &format!("{audit}</body>"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&axe, dir.path().join("axe.min.js")).unwrap();
        let file = dir.path().join("page.html");
        std::fs::write(&file, page).unwrap();
        let output = chromium(
            profile.path(),
            &[
                "--virtual-time-budget=10000",
                "--dump-dom",
                &format!("file://{}", file.display()),
            ],
        );
        let dom = text(&output.stdout);
        assert!(
            dom.contains("data-axe=\"done\""),
            "axe did not run on {path}: {}",
            text(&output.stderr)
        );
        assert!(
            dom.contains("data-violations=\"\""),
            "serious or critical violations on {path}: {}",
            between(&dom, "data-violations=", ">")
        );
    }
}

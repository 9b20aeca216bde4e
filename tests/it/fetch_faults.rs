//! Fault injection: one `entente fetch` pass over many sources on a loopback server,
//! each misbehaving in its own way, then a second pass that checks the conditional
//! requests, the backoff after repeated failures and the schedule after a recovery.
//!
//! Times are asserted as windows around the pass (its start minus the second that
//! storage truncates, its end plus the jitter), never as durations that could flake.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, SubsecRound, Timelike, Utc};
use serde_json::Value;

use crate::common::{rss, text, FeedServer, Route, TestConfig};

const LIMITS: &str = "schedule = \"0 0 * * * *\"
[daemon.limits]
timeout_secs = 2
connect_timeout_secs = 2
max_body_bytes = 1048576
max_redirects = 3
failing_after = 2
per_host = 3
";

/// One item per feed is enough to show that a source was ingested.
fn one_item_rss(guid: &str) -> String {
    rss(&[(
        guid,
        &format!("Item {guid}"),
        "Paris and Astana sign a memorandum.",
        "Mon, 05 Jan 2026 10:00:00 GMT",
    )])
}

fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// "Привет из Астаны" and friends as windows-1251, with no XML declaration.
const CYRILLIC_TITLE: &str = "Казахстан и Франция подписали соглашение";

fn windows_1251_feed() -> Vec<u8> {
    let xml = format!(
        "<rss version=\"2.0\"><channel><title>Новости</title><link>https://kz.example.ru/</link>\
         <description>д</description><item><guid>kz-1</guid><title>{CYRILLIC_TITLE}</title>\
         <link>https://kz.example.ru/1</link><description>Астана, Париж: «уран».</description>\
         <pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    );
    encoding_rs::WINDOWS_1251.encode(&xml).0.into_owned()
}

const JSON_FEED: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"JSON",
  "home_page_url":"https://json.example.org/","items":[{"id":"j1","url":"https://json.example.org/1",
  "title":"Orano in Kazakhstan","content_text":"Uranium.","date_published":"2026-01-05T10:00:00Z"}]}"#;

/// Relative links everywhere, and content that must be sanitized.
const RELATIVE_ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example.fr/news/">
<title>Relative</title><id>urn:rel</id><updated>2026-01-05T10:00:00Z</updated>
<entry><id>urn:rel:1</id><title>Relative entry</title><link href="article-1.html"/>
<updated>2026-01-05T10:00:00Z</updated>
<content type="html">&lt;p onclick="evil()"&gt;Hello &lt;a href="more.html"&gt;more&lt;/a&gt;
&lt;a href="javascript:alert(1)"&gt;bad&lt;/a&gt;&lt;img src="pic.png" onerror="x()"&gt;
&lt;script&gt;alert(1)&lt;/script&gt;&lt;style&gt;p{}&lt;/style&gt;&lt;iframe src="https://x.test/"&gt;&lt;/iframe&gt;&lt;/p&gt;</content>
</entry></feed>"#;

/// No channel link: relative item links resolve against the final response URL.
const RELATIVE_RSS: &str = r#"<rss version="2.0"><channel><title>No link</title><description>d</description>
<item><guid>r1</guid><title>Relative item</title><link>items/1</link></item></channel></rss>"#;

/// Every source of the suite: its id and the route that serves it.
fn routes(server: &FeedServer, retry_date: DateTime<Utc>) -> Vec<(&'static str, String, Route)> {
    let url = |p: &str| server.url(p);
    let feed = |id: &str| Route::rss(one_item_rss(id));
    let truncated = {
        let full = one_item_rss("cut");
        full[..full.find("<description>").unwrap()].to_string()
    };
    let past = http_date(Utc::now() - Span::hours(1));
    vec![
        ("etag", url("/etag"), feed("etag").with_etag("\"v1\"")),
        (
            "lastmod",
            url("/lastmod"),
            feed("lastmod").with_last_modified("Mon, 05 Jan 2026 10:00:00 GMT"),
        ),
        (
            "both",
            url("/both"),
            feed("both")
                .with_etag("W/\"b2\"")
                .with_last_modified("Tue, 06 Jan 2026 10:00:00 GMT"),
        ),
        ("plain", url("/plain"), feed("plain")),
        ("notfound", url("/notfound"), Route::status(404)),
        ("broken", url("/broken"), Route::status(500)),
        (
            "rate-secs",
            url("/rate-secs"),
            Route::status(429).header("retry-after", "120"),
        ),
        (
            "rate-date",
            url("/rate-date"),
            Route::status(429).header("retry-after", &http_date(retry_date)),
        ),
        ("unavailable", url("/unavailable"), Route::status(503)),
        (
            "stale-retry",
            url("/stale-retry"),
            Route::status(503).header("retry-after", &past),
        ),
        (
            "slow",
            url("/slow"),
            feed("slow").delayed(Duration::from_secs(6)),
        ),
        (
            "drip",
            url("/drip"),
            Route::streamed(
                "application/rss+xml",
                b"<!-- . -->",
                100,
                Duration::from_millis(300),
            ),
        ),
        (
            "huge",
            url("/huge"),
            Route::streamed(
                "application/rss+xml",
                &[b' '; 64 * 1024],
                800,
                Duration::ZERO,
            ),
        ),
        (
            "huge-declared",
            url("/huge-declared"),
            Route::rss(vec![b' '; 2 * 1024 * 1024]),
        ),
        ("truncated", url("/truncated"), Route::rss(truncated)),
        (
            "html",
            url("/html"),
            Route::ok(
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html><head><title>Welcome</title></head><body>Hi</body></html>",
            ),
        ),
        ("empty", url("/empty"), Route::rss("")),
        (
            "json-error",
            url("/json-error"),
            Route::ok("application/json", r#"{"error":"invalid api key"}"#),
        ),
        (
            "jsonfeed",
            url("/jsonfeed"),
            Route::ok("application/feed+json", JSON_FEED),
        ),
        ("chain", url("/chain"), Route::redirect(302, "/chain-2")),
        ("moved", url("/moved"), Route::redirect(301, "/moved-here")),
        ("loop", url("/loop-a"), Route::redirect(302, "/loop-b")),
        ("far", url("/far-1"), Route::redirect(302, "/far-2")),
        ("gzip", url("/gzip"), feed("gzip").compressed("gzip")),
        (
            "deflate",
            url("/deflate"),
            feed("deflate").compressed("deflate"),
        ),
        ("brotli", url("/brotli"), feed("brotli").compressed("br")),
        (
            "cyrillic",
            url("/cyrillic"),
            Route::ok(
                "application/rss+xml; charset=windows-1251",
                windows_1251_feed(),
            ),
        ),
        (
            "relative-atom",
            url("/relative-atom"),
            Route::ok("application/atom+xml", RELATIVE_ATOM),
        ),
        (
            "relative-rss",
            url("/relative-rss"),
            Route::redirect(302, "/feeds/relative.xml"),
        ),
    ]
}

/// The hops behind the redirecting sources.
fn redirect_targets(server: &FeedServer) {
    server.route("/chain-2", Route::redirect(307, "/chain-3"));
    server.route("/chain-3", Route::rss(one_item_rss("chain")));
    server.route("/moved-here", Route::rss(one_item_rss("moved")));
    server.route("/loop-b", Route::redirect(302, "/loop-a"));
    for hop in 2..=5 {
        let next = format!("/far-{}", hop + 1);
        server.route(&format!("/far-{hop}"), Route::redirect(302, &next));
    }
    server.route("/far-6", Route::rss(one_item_rss("far")));
    server.route("/feeds/relative.xml", Route::rss(RELATIVE_RSS));
}

const GOOD: &[&str] = &[
    "etag",
    "lastmod",
    "both",
    "plain",
    "jsonfeed",
    "chain",
    "moved",
    "gzip",
    "deflate",
    "brotli",
    "cyrillic",
    "relative-atom",
    "relative-rss",
];

struct Suite {
    server: FeedServer,
    config: TestConfig,
    retry_date: DateTime<Utc>,
}

impl Suite {
    fn start() -> Suite {
        let server = FeedServer::start();
        let retry_date = (Utc::now() + Span::hours(2)).trunc_subsecs(0);
        let routes = routes(&server, retry_date);
        let sources: Vec<(&str, String)> =
            routes.iter().map(|(id, u, _)| (*id, u.clone())).collect();
        for (_, url, route) in routes {
            let path = url.trim_start_matches(&server.url(""));
            server.route(path, route);
        }
        redirect_targets(&server);
        let config = TestConfig::new(&sources, LIMITS);
        Suite {
            server,
            config,
            retry_date,
        }
    }

    /// Runs one pass; returns its stdout, stderr and the time window it ran in.
    fn pass(&self) -> Pass {
        let started = Utc::now().trunc_subsecs(0);
        let output = self.config.entente(&["fetch"]);
        let ended = Utc::now();
        assert_eq!(
            output.status.code(),
            Some(2),
            "some sources fail, none fatally: {}",
            text(&output.stderr)
        );
        let sources = self.config.json(&["sources", "--json"]);
        let by_id = sources
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].as_str().unwrap().to_string(), s.clone()))
            .collect();
        Pass {
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
            started,
            ended,
            sources: by_id,
        }
    }
}

struct Pass {
    stdout: String,
    stderr: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    sources: HashMap<String, Value>,
}

impl Pass {
    fn source(&self, id: &str) -> &Value {
        self.sources
            .get(id)
            .unwrap_or_else(|| panic!("no source {id}"))
    }

    fn time(&self, id: &str, field: &str) -> DateTime<Utc> {
        let value = &self.source(id)[field];
        value
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .unwrap_or_else(|| panic!("{id}.{field} is not a time: {value}"))
            .with_timezone(&Utc)
    }

    /// The source failed with this kind, and its message mentions every `needle`.
    fn assert_error(&self, id: &str, kind: &str, needles: &[&str]) {
        let source = self.source(id);
        assert_eq!(source["status"], "error", "{id}: {source}");
        assert_eq!(source["error_kind"], kind, "{id}: {source}");
        let message = source["error"].as_str().unwrap();
        for needle in needles {
            assert!(
                message.contains(needle),
                "{id}: {message:?} lacks {needle:?}"
            );
        }
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id}: ")))
            .unwrap_or_else(|| panic!("`entente fetch` printed nothing for {id}"));
        assert!(line.contains(message), "{line}");
    }

    /// The next attempt lies `from..=to` after the attempt (the pass's window).
    fn assert_next_within(&self, id: &str, from: Span, to: Span) {
        let next = self.time(id, "next_attempt");
        assert!(
            next >= self.started + from && next <= self.ended + to,
            "{id}: next attempt {next} outside {}..{}",
            self.started + from,
            self.ended + to
        );
    }

    /// Backoff after the `n`th consecutive failure: a minute doubled, ±20 %.
    fn assert_backoff(&self, id: &str, failures: u64) {
        assert_eq!(self.source(id)["consecutive_failures"], failures, "{id}");
        let base = 60 * (1 << (failures - 1));
        self.assert_next_within(
            id,
            Span::seconds(base * 8 / 10),
            Span::seconds(base * 12 / 10 + 1),
        );
    }
}

#[test]
fn one_pass_over_misbehaving_sources_records_every_outcome() {
    let suite = Suite::start();
    let first = suite.pass();

    for id in GOOD {
        let source = first.source(id);
        assert_eq!(source["status"], "ok", "{id}: {source}\n{}", first.stdout);
        assert!(source["items"].as_u64().unwrap() >= 1, "{id}: {source}");
        assert_eq!(source["consecutive_failures"], 0);
        assert_eq!(
            first.time(id, "last_success"),
            first.time(id, "last_attempt")
        );
        let next = first.time(id, "next_attempt");
        assert!(
            next.minute() == 0 && next.second() == 0,
            "{id}: cron, {next}"
        );
        assert!(next > first.started && next <= first.ended + Span::hours(1));
    }

    first.assert_error("notfound", "http_status", &["404"]);
    first.assert_backoff("notfound", 1);
    first.assert_error("broken", "http_status", &["500"]);
    first.assert_backoff("broken", 1);
    first.assert_error("unavailable", "http_status", &["503"]);
    first.assert_backoff("unavailable", 1);
    // A Retry-After already past says nothing useful: the backoff applies.
    first.assert_error("stale-retry", "http_status", &["503"]);
    first.assert_backoff("stale-retry", 1);

    first.assert_error("rate-secs", "http_status", &["429"]);
    first.assert_next_within("rate-secs", Span::seconds(120), Span::seconds(121));
    first.assert_error("rate-date", "http_status", &["429"]);
    assert_eq!(first.time("rate-date", "next_attempt"), suite.retry_date);

    first.assert_error("slow", "timeout", &["2s"]);
    first.assert_error("drip", "timeout", &["2s"]);
    first.assert_error("huge", "too_large", &["1048576"]);
    first.assert_error("huge-declared", "too_large", &["1048576"]);
    first.assert_error("truncated", "parse", &[]);
    first.assert_error(
        "html",
        "not_a_feed",
        &["HTML", "200", "text/html", "<!DOCTYPE html>"],
    );
    first.assert_error(
        "empty",
        "not_a_feed",
        &["empty", "200", "application/rss+xml"],
    );
    first.assert_error(
        "json-error",
        "not_a_feed",
        &["JSON", "application/json", "invalid api key"],
    );
    first.assert_error("loop", "redirect_loop", &["/loop-a"]);
    first.assert_error("far", "too_many_redirects", &["3"]);
    for id in ["slow", "drip", "huge", "truncated", "html", "loop", "far"] {
        first.assert_backoff(id, 1);
    }

    assert_eq!(
        first.source("moved")["suggested_url"],
        suite.server.url("/moved-here")
    );
    assert_eq!(first.source("chain")["suggested_url"], Value::Null);
    assert!(
        suite.server.max_in_flight() <= 3,
        "per-host limit: {} requests at once",
        suite.server.max_in_flight()
    );
    let accept = &suite.server.requests_to("/gzip")[0].headers["accept-encoding"];
    for encoding in ["gzip", "deflate", "br"] {
        assert!(accept.contains(encoding), "Accept-Encoding: {accept}");
    }
    assert_items_read_right(&suite);

    second_pass_is_conditional_and_resumes_schedules(&suite);
}

/// What the good sources stored: decoded text, absolute links, sanitized content (an
/// irrelevant item's HTML is stored as the feed sent it, since issue 8: what can reach
/// a reader is its safe form, `ItemHtml::into_safe_html`).
fn assert_items_read_right(suite: &Suite) {
    let db = rusqlite::Connection::open(suite.config.database()).unwrap();
    let item = |source: &str| -> (String, Option<String>, Option<String>) {
        let (title, link, html, raw_base): (String, _, Option<String>, Option<String>) = db
            .query_row(
                "SELECT title, link, content_html, raw_html_base FROM items WHERE source_id = ?1",
                [source],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        let safe = html
            .and_then(|html| entente::item::ItemHtml::from_stored(html, raw_base).into_safe_html());
        (title, link, safe)
    };
    assert_eq!(item("cyrillic").0, CYRILLIC_TITLE);
    assert_eq!(item("gzip").0, "Item gzip");
    assert_eq!(item("brotli").0, "Item brotli");
    assert_eq!(item("jsonfeed").0, "Orano in Kazakhstan");

    let (_, link, content) = item("relative-atom");
    assert_eq!(
        link.as_deref(),
        Some("https://base.example.fr/news/article-1.html")
    );
    let content = content.unwrap();
    for gone in [
        "<script",
        "<style",
        "<iframe",
        "onclick",
        "onerror",
        "javascript:",
    ] {
        assert!(!content.contains(gone), "{gone} kept in {content}");
    }
    for kept in [
        "href=\"https://base.example.fr/news/more.html\"",
        "<img src=\"https://base.example.fr/news/pic.png\"",
    ] {
        assert!(content.contains(kept), "{kept} lost from {content}");
    }
    // No channel link and a redirect on the way: the final response URL is the base.
    assert_eq!(
        item("relative-rss").1.unwrap(),
        suite.server.url("/feeds/items/1")
    );
}

/// The second pass: validators sent back, 304s and unchanged bodies cost no item
/// writes, failures count up to "failing", a recovered source is back on its schedule,
/// and a moved source is fetched at its new address.
fn second_pass_is_conditional_and_resumes_schedules(suite: &Suite) {
    let db = rusqlite::Connection::open(suite.config.database()).unwrap();
    // A marker that any write to an item would overwrite.
    db.execute("UPDATE items SET last_seen = '2000-01-01T00:00:00Z'", [])
        .unwrap();
    suite
        .server
        .route("/broken", Route::rss(one_item_rss("broken")));
    // The same body, now with an ETag the server will not honour yet: unchanged by its
    // hash, and the new validator kept for next time.
    suite.server.route(
        "/plain",
        Route::rss(one_item_rss("plain")).header("etag", "\"p2\""),
    );
    // New content at the new address: stored, and the move still remembered.
    suite
        .server
        .route("/moved-here", Route::rss(one_item_rss("moved-again")));
    let second = suite.pass();

    let last = |path: &str| suite.server.requests_to(path).pop().unwrap().headers;
    let etag = last("/etag");
    assert_eq!(
        etag.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert!(!etag.contains_key("if-modified-since"));
    let lastmod = last("/lastmod");
    assert_eq!(
        lastmod.get("if-modified-since").map(String::as_str),
        Some("Mon, 05 Jan 2026 10:00:00 GMT")
    );
    assert!(!lastmod.contains_key("if-none-match"));
    let both = last("/both");
    assert_eq!(both["if-none-match"], "W/\"b2\"");
    assert_eq!(both["if-modified-since"], "Tue, 06 Jan 2026 10:00:00 GMT");
    let plain = last("/plain");
    assert!(!plain.contains_key("if-none-match") && !plain.contains_key("if-modified-since"));

    for id in ["etag", "lastmod", "both", "plain"] {
        let source = second.source(id);
        assert_eq!(source["status"], "not_modified", "{id}: {source}");
        assert_eq!(source["consecutive_failures"], 0);
        assert_eq!(
            second.time(id, "last_success"),
            second.time(id, "last_attempt")
        );
        let last_seen: String = db
            .query_row(
                "SELECT last_seen FROM items WHERE source_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            last_seen, "2000-01-01T00:00:00Z",
            "{id}: items were written"
        );
    }

    let plain_etag: Option<String> = db
        .query_row("SELECT etag FROM sources WHERE id = 'plain'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(plain_etag.as_deref(), Some("\"p2\""));

    // Recovered: failures reset, back on the hourly cron.
    let broken = second.source("broken");
    assert_eq!(broken["status"], "ok", "{broken}");
    assert_eq!(broken["consecutive_failures"], 0);
    assert_eq!(broken["error"], Value::Null);
    let next = second.time("broken", "next_attempt");
    assert!(next.minute() == 0 && next.second() == 0 && next > second.started);

    // Failing after two in a row: flagged, warned about, still retried.
    second.assert_backoff("notfound", 2);
    assert_eq!(second.source("notfound")["failing"], true);
    assert_eq!(second.source("etag")["failing"], false);
    assert!(
        second.stderr.contains("Source is failing") && second.stderr.contains("notfound"),
        "{}",
        second.stderr
    );
    let listing = text(&suite.config.entente(&["sources"]).stdout);
    assert!(listing.contains("notfound [FAILING]"), "{listing}");
    assert!(
        listing.contains("error (http_status): HTTP 404 (2 consecutive failures)"),
        "{listing}"
    );

    // Moved: the new URL is used, and still suggested for feeds.toml.
    assert_eq!(suite.server.requests_to("/moved").len(), 1);
    assert_eq!(suite.server.requests_to("/moved-here").len(), 2);
    assert_eq!(second.source("moved")["status"], "ok");
    assert_eq!(second.source("moved")["items"], 2);
    assert_eq!(
        second.source("moved")["suggested_url"],
        suite.server.url("/moved-here")
    );
    assert!(
        listing.contains(&format!("url = \"{}\"", suite.server.url("/moved-here"))),
        "{listing}"
    );
}

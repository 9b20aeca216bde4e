//! Hostile feeds, end to end: a corpus of XSS vectors and malformed text served over
//! loopback, taken through `entente fetch` and `entente export`, and every exported
//! file parsed back (a strict XML parser for RSS, Atom and OPML, JSON for JSON Feed,
//! the HTML tokenizer browsers use for every piece of HTML and text in them). None of
//! the vectors may come out as live markup, and every feed must be well-formed XML
//! that feedparser reads without a `bozo` flag.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use crate::common::{text, FeedServer, Route, TestConfig};

/// What makes an item relevant, so that it is published (the vectors ride on it).
const RELEVANT: &str =
    "France and Kazakhstan sign a uranium agreement in Astana as Macron meets Tokayev";

/// (a word that makes the title unique, HTML carried in the item's content).
const CONTENT_VECTORS: &[(&str, &str)] = &[
    ("alpha", "<script>alert(1)</script><p>script</p>"),
    ("bravo", "<style>body{display:none}</style><p style=\"background:url(javascript:alert(1))\">style</p>"),
    ("charlie", "<img src=\"x\" onerror=\"alert(1)\"><div onmouseover=\"alert(1)\">events</div><body onload=alert(1)>"),
    ("delta", "<a href=\"javascript:alert(1)\">js</a><a href=\"JaVaScRiPt:alert(1)\">mixed</a>"),
    ("echo", "<a href=\"&#106;avascript:alert(1)\">entity</a><a href=\"java&#x09;script:alert(1)\">tab</a><a href=\"javascript&colon;alert(1)\">colon</a>"),
    ("foxtrot", "<a href=\" data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a><a href=\"vbscript:msgbox(1)\">vb</a>"),
    ("golf", "<blockquote cite=\"javascript:alert(1)\">bq</blockquote><q cite=\"javascript:alert(1)\">q</q><del cite=\"javascript:alert(1)\">del</del><ins cite=\"data:text/html,x\">ins</ins>"),
    ("hotel", "<svg><script>alert(1)</script><a xlink:href=\"javascript:alert(1)\">svg</a><animate attributeName=\"href\" to=\"javascript:alert(1)\"/></svg>"),
    ("india", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math><math href=\"javascript:alert(1)\">m</math>"),
    ("juliet", "<base href=\"javascript:alert(1)//\"><a href=\"relative\">base</a>"),
    ("kilo", "<iframe src=\"javascript:alert(1)\"></iframe><object data=\"javascript:alert(1)\"></object><embed src=\"javascript:alert(1)\">"),
    ("lima", "<form action=\"javascript:alert(1)\"><button formaction=\"javascript:alert(1)\">b</button><input onfocus=alert(1) autofocus></form>"),
    ("mike", "<p>pixel<img src=\"https://tracker.example/p.gif\" width=\"1\" height=\"1\"></p><a href=\"https://user:pass@evil.example/\">creds</a>"),
    ("november", "<scr<script>ipt>alert(1)</script><img \"\"\"><script>alert(1)</script>\"><<img src=x onerror=alert(1)//<"),
    ("oscar", "<video poster=\"javascript:alert(1)\"></video><img srcset=\"javascript:alert(1) 1x\"><meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\"><link rel=stylesheet href=\"javascript:alert(1)\">"),
    ("papa", "&lt;script&gt;alert(1)&lt;/script&gt;<p>encoded</p>"),
];

/// The items of the RSS feed: each vector in the content, and markup in titles,
/// authors, categories and links.
fn rss_feed() -> String {
    let mut items = String::new();
    for (n, (word, html)) in CONTENT_VECTORS.iter().enumerate() {
        items.push_str(&format!(
            "<item><title>{word} {RELEVANT}</title><link>https://ex.org/{word}</link>\
             <guid>v-{n}</guid><description><![CDATA[<p>{RELEVANT}.</p>{html}]]></description></item>\n"
        ));
    }
    let marked_up = [
        // Markup and encoded markup in the title, bidi overrides in title and author.
        (
            "<title>&lt;script&gt;alert(1)&lt;/script&gt;quebec \u{202E}gpj.exe {R}</title>",
            "<dc:creator>&lt;img src=x onerror=alert(1)&gt;Eve\u{202E}</dc:creator>",
            "<category>&lt;svg onload=alert(1)&gt;Politics</category>",
            "<link>https://ex.org/quebec</link>",
        ),
        (
            "<title>&amp;lt;img src=x onerror=alert(1)&amp;gt; romeo {R}</title>",
            "<author>a@ex.org (&lt;script&gt;alert(1)&lt;/script&gt;)</author>",
            "<category>&lt;/category&gt;&lt;script&gt;alert(1)&lt;/script&gt;</category>",
            "<link>javascript:alert(1)</link>",
        ),
        (
            "<title>sierra {R}</title>",
            "",
            "",
            "<link>https://user:pass@ex.org/sierra</link>",
        ),
        (
            "<title>tango {R}</title>",
            "",
            "",
            "<link>https://ex.org/tango\"&gt;&lt;script&gt;alert(1)&lt;/script&gt;</link>",
        ),
        (
            "<title>uniform {R}</title>",
            "",
            "",
            "<link>data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;</link>",
        ),
    ];
    for (n, (title, author, category, link)) in marked_up.iter().enumerate() {
        let title = title.replace("{R}", RELEVANT);
        items.push_str(&format!(
            "<item>{title}{link}{author}{category}<guid>m-{n}</guid><description>{RELEVANT}.</description></item>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Hostile</title>\
         <link>https://ex.org/</link><description>d</description>\n{items}</channel></rss>"
    )
}

/// Atom entries: `xml:base` set to `javascript:`, XHTML content with script, and text
/// that XML forbids or that must not survive (controls, `&#0;`, a BOM in the middle).
fn atom_feed() -> Vec<u8> {
    let mut doc = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>Hostile Atom</title><id>urn:hostile</id><updated>2026-01-01T00:00:00Z</updated>\
         <entry xml:base=\"javascript:alert(1)//\"><id>urn:a1</id><title>victor {RELEVANT}</title>\
         <link href=\"victor\"/><updated>2026-01-01T00:00:00Z</updated>\
         <content type=\"html\">&lt;a href=\"next\"&gt;based&lt;/a&gt; {RELEVANT}</content></entry>\
         <entry><id>urn:a2</id><title type=\"html\">&lt;b onclick=alert(1)&gt;whiskey&lt;/b&gt; {RELEVANT}</title>\
         <link href=\"https://ex.org/whiskey\"/><updated>2026-01-01T00:00:00Z</updated>\
         <content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script>\
         <a href=\"javascript:alert(1)\">x</a> {RELEVANT}</div></content></entry>\
         <entry><id>urn:a3</id><title>xray&#0; \u{FEFF}nul {RELEVANT}</title>\
         <link href=\"https://ex.org/xray\"/><updated>2026-01-01T00:00:00Z</updated>\
         <summary>bell\u{7} and escape\u{1b} {RELEVANT}</summary></entry>"
    )
    .into_bytes();
    // Invalid UTF-8 inside a title.
    doc.extend_from_slice(b"<entry><id>urn:a4</id><title>yankee \xFF\xFE ");
    doc.extend_from_slice(RELEVANT.as_bytes());
    doc.extend_from_slice(
        b"</title><link href=\"https://ex.org/yankee\"/><updated>2026-01-01T00:00:00Z</updated></entry></feed>",
    );
    doc
}

/// How many items each feed carries, so that a vector that lost its item is noticed.
const RSS_ITEMS: usize = CONTENT_VECTORS.len() + 5;
const ATOM_ITEMS: usize = 4;

#[test]
fn no_vector_survives_into_any_published_file() {
    let server = FeedServer::start();
    server.route("/rss", Route::rss(rss_feed()));
    server.route("/atom", Route::ok("application/atom+xml", atom_feed()));
    let config = TestConfig::new(
        &[("rss", server.url("/rss")), ("atom", server.url("/atom"))],
        "",
    );
    let output = config.entente(&["fetch"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let items = config.json(&["items", "--all", "--json"]);
    let items = items.as_array().unwrap();
    let from = |source: &str| items.iter().filter(|i| i["source"] == source).count();
    assert_eq!(from("rss"), RSS_ITEMS, "every RSS item is stored");
    assert_eq!(from("atom"), ATOM_ITEMS, "every Atom entry is stored");
    let relevant = items.iter().filter(|i| i["relevant"] == true).count();
    assert_eq!(relevant, RSS_ITEMS + ATOM_ITEMS, "every item is published");

    let out = config.dir.path().join("export");
    let found = published_problems(&config, &out);
    let all = std::fs::read_to_string(out.join("feeds/all.rss")).unwrap();
    for word in ["alpha", "papa", "quebec", "uniform", "victor", "yankee"] {
        assert!(all.contains(word), "the {word} item is in all.rss");
    }
    assert!(
        found.is_empty(),
        "live markup or unsafe text in the published files:\n{}",
        found.join("\n")
    );
    check_with_feedparser(&out);
}

/// Exports into `out` and lists every live markup or unsafe character found in the
/// published files.
fn published_problems(config: &TestConfig, out: &Path) -> Vec<String> {
    let output = config.entente(&["export", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let mut found = Vec::new();
    let mut checked = 0;
    for path in files(out) {
        let name = path.strip_prefix(out).unwrap().display().to_string();
        let extension = path.extension().and_then(|e| e.to_str());
        if !matches!(
            extension,
            Some("rss" | "atom" | "opml" | "json" | "html" | "xsl" | "txt")
        ) {
            // Precompressed copies and images: their text forms are checked.
            continue;
        }
        let body = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name} is not UTF-8 text: {e}"));
        for c in [
            '\u{202E}', '\u{202D}', '\u{2066}', '\u{0}', '\u{1}', '\u{7}', '\u{1b}',
        ] {
            if body.contains(c) {
                found.push(format!("{name}: character {c:?}"));
            }
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("rss" | "atom" | "opml") => check_xml(&name, &body, &mut found),
            Some("json") => check_json(&name, &body, &mut found),
            Some("html") => check_html(&name, &body, true, &mut found),
            _ => continue,
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} files were exported");
    found
}

/// Words no shipped rule knows: the items are irrelevant until the rules name them.
const LATER: &str = "Zanzibar harbour quarterly shipping report";

/// Issue 8: an irrelevant item keeps the feed's HTML as it came (only what is published
/// is sanitized). One that turns relevant later — by an operator's `mark`, by a rules
/// change and `retag` — must come out sanitized in every published file, and
/// `items` and `explain` must show no markup of it either.
#[test]
fn an_item_that_turns_relevant_after_ingest_is_published_sanitized() {
    let mut items = String::new();
    for (n, (word, html)) in CONTENT_VECTORS.iter().enumerate() {
        items.push_str(&format!(
            "<item><title>{word} {LATER}</title><link>https://ex.org/{word}</link>\
             <guid>v-{n}</guid><description><![CDATA[<p>{LATER}.</p>{html}]]></description></item>\n"
        ));
    }
    let server = FeedServer::start();
    server.route(
        "/rss",
        Route::rss(format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Later</title>\
             <link>https://ex.org/</link><description>d</description>{items}</channel></rss>"
        )),
    );
    let config = TestConfig::new(&[("later", server.url("/rss"))], "");
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml")).unwrap();
    let rules = config.dir.path().join("rules.toml");
    std::fs::write(&rules, &shipped).unwrap();
    let feeds = std::fs::read_to_string(&config.path).unwrap();
    let first_line = feeds.lines().next().unwrap().to_string();
    std::fs::write(
        &config.path,
        feeds.replacen(&first_line, "rules = \"rules.toml\"", 1),
    )
    .unwrap();

    let output = config.entente(&["fetch"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stored = config.json(&["items", "--all", "--json"]);
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), CONTENT_VECTORS.len());
    assert!(stored.iter().all(|i| i["relevant"] == false));
    // The path under test: the feed's HTML is stored as it came, unsanitized.
    let raw: usize = rusqlite::Connection::open(config.database())
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM items WHERE raw_html_base IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, CONTENT_VECTORS.len(), "irrelevant items keep raw HTML");

    // An operator's mark publishes one at once.
    let november = stored
        .iter()
        .find(|i| i["link"] == "https://ex.org/november")
        .unwrap();
    let id = november["number"].to_string();
    let mark = config.entente(&["mark", &id, "relevant"]);
    assert!(mark.status.success(), "{}", text(&mark.stderr));
    let out = config.dir.path().join("export-marked");
    let found = published_problems(&config, &out);
    assert!(found.is_empty(), "after mark:\n{}", found.join("\n"));
    let all = std::fs::read_to_string(out.join("feeds/all.rss")).unwrap();
    assert!(all.contains("november"), "the marked item is published");

    // A rules change that names the words, then retag: every item turns relevant.
    let edited = shipped
        .replacen(
            "\"france | франци* | république française | french republic\"",
            "\"france | франци* | république française | french republic | zanzibar\"",
            1,
        )
        .replacen(
            "\"kazakhstan* | kazakstan* | qazaqstan* | казахстан* | қазақстан*\"",
            "\"kazakhstan* | kazakstan* | qazaqstan* | казахстан* | қазақстан* | harbour\"",
            1,
        );
    assert_ne!(edited, shipped, "the shipped country terms changed");
    std::fs::write(&rules, edited).unwrap();
    let retag = config.entente(&["retag"]);
    assert!(retag.status.success(), "{}", text(&retag.stderr));
    let relevant = config.json(&["items", "--json"]);
    assert_eq!(
        relevant.as_array().unwrap().len(),
        CONTENT_VECTORS.len(),
        "every item turned relevant: {relevant}"
    );
    let out = config.dir.path().join("export-retagged");
    let mut found = published_problems(&config, &out);
    let all = std::fs::read_to_string(out.join("feeds/all.rss")).unwrap();
    for (word, _) in CONTENT_VECTORS {
        assert!(all.contains(word), "the {word} item is in all.rss");
    }
    let listed = config.entente(&["items", "--all"]);
    check_html("items", &text(&listed.stdout), false, &mut found);
    check_html(
        "items --json",
        &config.json(&["items", "--all", "--json"]).to_string(),
        false,
        &mut found,
    );
    for item in &relevant.as_array().unwrap()[..] {
        let explained = config.entente(&["explain", &item["number"].to_string()]);
        assert!(explained.status.success(), "{}", text(&explained.stderr));
        check_html("explain", &text(&explained.stdout), false, &mut found);
    }
    let unsanitized: usize = rusqlite::Connection::open(config.database())
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM items WHERE relevant = 1 AND raw_html_base IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unsanitized, 0, "a relevant item's stored HTML is sanitized");
    assert!(
        found.is_empty(),
        "live markup in what is published or shown:\n{}",
        found.join("\n")
    );
    check_with_feedparser(&out);
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every text and attribute of a strictly parsed XML document: text read as HTML
/// (readers render RSS descriptions, and some titles, as HTML), links checked.
fn check_xml(name: &str, body: &str, found: &mut Vec<String>) {
    let doc = match roxmltree::Document::parse(body) {
        Ok(doc) => doc,
        Err(e) => {
            found.push(format!("{name}: not well-formed XML: {e}"));
            return;
        }
    };
    for node in doc.descendants() {
        if let Some(text) = node.text().filter(|_| node.is_text()) {
            let parent = node.parent().map(|p| p.tag_name().name()).unwrap_or("");
            check_html(&format!("{name} <{parent}>"), text, false, found);
            if parent == "link" || parent == "guid" && text.starts_with("http") {
                check_url(&format!("{name} <{parent}>"), text, found);
            }
        }
        for attr in node.attributes() {
            if matches!(attr.name(), "href" | "src" | "url" | "xmlUrl" | "htmlUrl") {
                check_url(&format!("{name} @{}", attr.name()), attr.value(), found);
            }
        }
    }
}

fn check_json(name: &str, body: &str, found: &mut Vec<String>) {
    fn walk(name: &str, key: &str, value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => {
                check_html(&format!("{name} .{key}"), s, false, found);
                if matches!(key, "url" | "external_url" | "home_page_url" | "feed_url") {
                    check_url(&format!("{name} .{key}"), s, found);
                }
            }
            serde_json::Value::Array(values) => {
                for v in values {
                    walk(name, key, v, found);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(name, k, v, found);
                }
            }
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => walk(name, "", &value, found),
        Err(e) => found.push(format!("{name}: not JSON: {e}")),
    }
}

/// A published link: http(s), absolute, no credentials, nothing that breaks out.
fn check_url(place: &str, value: &str, found: &mut Vec<String>) {
    let ok = url::Url::parse(value).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.username().is_empty() && u.password().is_none()
    }) && !value.contains(['"', '<', '>', ' ']);
    if !ok {
        found.push(format!("{place}: unsafe link {value:?}"));
    }
}

/// The tags an HTML tokenizer finds in `html`.
struct Tags(RefCell<Vec<html5ever::tokenizer::Tag>>);

impl TokenSink for Tags {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            self.0.borrow_mut().push(tag);
        }
        TokenSinkResult::Continue
    }
}

fn tags(html: &str) -> Vec<html5ever::tokenizer::Tag> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Tags(RefCell::new(Vec::new())), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.0.take()
}

/// Elements that run code, load or restyle things, or change where links go.
const DANGEROUS_TAGS: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "base", "form", "input", "button", "textarea", "select", "link", "meta", "animate", "set",
    "body", "html", "head", "template", "noscript",
];

/// Checks HTML as a browser would tokenize it. A page (`page`) may have its own
/// `<head>`, styles and links outside `<main>`; inside `<main>`, and in any fragment
/// from a feed, none of [`DANGEROUS_TAGS`] may appear.
fn check_html(place: &str, html: &str, page: bool, found: &mut Vec<String>) {
    let mut in_main = !page;
    for tag in tags(html) {
        let name = tag.name.to_string();
        if page && name == "main" {
            in_main = tag.kind == TagKind::StartTag;
            continue;
        }
        if tag.kind != TagKind::StartTag {
            continue;
        }
        if in_main && DANGEROUS_TAGS.contains(&name.as_str()) {
            found.push(format!("{place}: <{name}>"));
        }
        if name == "img" && is_tracking_pixel(&tag) {
            found.push(format!("{place}: a 1×1 image"));
        }
        for attr in &tag.attrs {
            let attr_name = attr.name.local.to_string();
            let value: String = attr
                .value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            if attr_name.starts_with("on") || (in_main && attr_name == "style") {
                found.push(format!("{place}: <{name} {attr_name}>"));
            }
            let holds_url = matches!(
                attr_name.as_str(),
                "href"
                    | "src"
                    | "cite"
                    | "action"
                    | "formaction"
                    | "data"
                    | "poster"
                    | "background"
                    | "srcset"
                    | "longdesc"
                    | "xlink:href"
                    | "to"
                    | "from"
                    | "values"
                    | "content"
            );
            if holds_url
                && ["javascript:", "data:", "vbscript:"].iter().any(|scheme| {
                    value.starts_with(scheme) || value.contains(&format!("url={scheme}"))
                })
            {
                found.push(format!("{place}: <{name} {attr_name}={:?}>", attr.value));
            }
            if holds_url && value.contains('@') && value.starts_with("http") {
                found.push(format!("{place}: credentials in <{name} {attr_name}>"));
            }
        }
    }
}

fn is_tracking_pixel(tag: &html5ever::tokenizer::Tag) -> bool {
    let size = |n: &str| {
        tag.attrs
            .iter()
            .find(|a| &*a.name.local == n)
            .and_then(|a| a.value.trim().trim_end_matches("px").parse::<u32>().ok())
    };
    matches!((size("width"), size("height")), (Some(w), Some(h)) if w <= 1 && h <= 1)
}

/// feedparser reads every exported feed with `bozo` 0 (skipped, saying so, when it is
/// not installed; CI installs it and sets ENTENTE_REQUIRE_FEEDPARSER=1).
fn check_with_feedparser(out: &Path) {
    let have = Command::new("python3")
        .args(["-c", "import feedparser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("ENTENTE_REQUIRE_FEEDPARSER").map_or(true, |v| v != "1"),
            "ENTENTE_REQUIRE_FEEDPARSER=1 but python3 cannot import feedparser"
        );
        println!("SKIPPED: feedparser is not installed (pip install feedparser)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_feeds.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "feedparser: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// An item dated 9999-12-31 keeps its date but sorts as first seen, so a later item
/// comes before it instead of sitting under it for ever.
#[test]
fn a_far_future_date_does_not_pin_an_item() {
    let server = FeedServer::start();
    let soon = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc2822();
    server.route(
        "/f",
        Route::rss(crate::common::rss(&[
            (
                "pinned",
                &format!("zulu {RELEVANT}"),
                RELEVANT,
                "Fri, 31 Dec 9999 23:59:59 +0000",
            ),
            ("later", &format!("yankee {RELEVANT}"), RELEVANT, &soon),
        ])),
    );
    let config = TestConfig::new(&[("f", server.url("/f"))], "");
    let output = config.entente(&["fetch"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let items = config.json(&["items", "--json"]);
    let titles: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(titles[0].starts_with("yankee"), "newest first: {titles:?}");
    let db = rusqlite::Connection::open(config.database()).unwrap();
    let published: String = db
        .query_row(
            "SELECT published FROM items WHERE guid = 'pinned'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        published.starts_with("9999-12-31"),
        "the feed's own date is kept: {published}"
    );
}

/// A redirect's `Location` is chosen by the server: 100 KB of it must not be stored as
/// the source's error or suggested URL.
#[test]
fn a_huge_location_is_refused_not_stored() {
    let server = FeedServer::start();
    let location = format!("/{}", "x".repeat(100_000));
    server.route("/moved", Route::redirect(301, &location));
    let config = TestConfig::new(&[("m", server.url("/moved"))], "");
    let output = config.entente(&["fetch"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let sources = config.json(&["sources", "--json"]);
    let source = &sources[0];
    assert_eq!(source["status"], "error");
    let stored = serde_json::to_string(source).unwrap();
    assert!(
        stored.len() < 2_000,
        "{} bytes stored for the source",
        stored.len()
    );
    assert!(
        source["error"].as_str().unwrap().contains("Location"),
        "{source}"
    );
}

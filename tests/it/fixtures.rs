//! The real-world corpus: every document under `shared/fixtures/feeds/` (listed
//! in its MANIFEST.tsv) served over loopback, with the HTTP headers its `Header:`
//! comment asks for, and taken through fetch → parse → normalize → classify → store in
//! one `entente fetch` pass. Nothing may crash; each document is either ingested or
//! rejected with an error that says what came back. The counts are printed (run with
//! `--nocapture`) and compared with what feed-rs alone managed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::common::{text, FeedServer, Route, TestConfig};

/// One document of the corpus and how to serve it.
struct Fixture {
    path: String,
    route: Route,
}

/// The `Header: Name: value` lines of a document's leading comment.
fn declared_headers(bytes: &[u8]) -> Vec<(String, String)> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]);
    head.lines()
        .filter_map(|line| line.trim().strip_prefix("Header:"))
        .filter_map(|h| h.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect()
}

/// The Content-Type a plain web server would send for this file name.
fn content_type_for(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("json") => "application/feed+json",
        Some("html") => "text/html",
        Some("txt") => "text/plain",
        _ => "application/xml",
    }
}

fn fixture(corpus: &Path, path: &str) -> Fixture {
    let bytes = std::fs::read(corpus.join(path)).unwrap();
    let mut route = Route::ok(content_type_for(path), bytes.clone());
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // The gzip captures are meant to be served as compressed responses.
        route = route.header("content-encoding", "gzip");
    }
    let mut headers = declared_headers(&bytes);
    if path == "miniflux/parser/no_encoding_ISO-8859-1.xml" {
        // Its README entry: the charset comes only from the HTTP header.
        headers.push((
            "content-type".into(),
            "application/rss+xml; charset=ISO-8859-1".into(),
        ));
    }
    for (name, value) in headers {
        route.headers.retain(|(n, _)| *n != name);
        route = route.header(&name, &value);
    }
    Fixture {
        path: path.to_string(),
        route,
    }
}

fn manifest(corpus: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(str::to_string)
        .collect()
}

/// What feed-rs 3.0.0 alone did with each file: `ok`, `error` or `PANIC`.
fn baseline(corpus: &Path) -> HashMap<String, String> {
    // Lossy: the titles it quotes keep some of the documents' broken bytes.
    let bytes = std::fs::read(corpus.join("feed-rs-3.0.0-baseline.tsv")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

#[test]
fn every_fixture_is_ingested_or_rejected_with_a_clear_error() {
    let Some(corpus) = crate::shared::shared_file("fixtures/feeds/MANIFEST.tsv") else {
        return;
    };
    let corpus = corpus.parent().unwrap();
    let server = FeedServer::start();
    let fixtures: Vec<Fixture> = manifest(corpus)
        .iter()
        .map(|p| fixture(corpus, p))
        .collect();
    assert_eq!(
        fixtures.len(),
        376,
        "the corpus README counts 376 documents"
    );
    let mut sources = Vec::new();
    let mut path_of = HashMap::new();
    for (n, fixture) in fixtures.iter().enumerate() {
        let id = format!("fx-{n:03}");
        let url_path = format!("/fx/{n}/{}", fixture.path);
        server.route(&url_path, fixture.route.clone());
        sources.push((id.clone(), server.url(&url_path)));
        path_of.insert(id, fixture.path.clone());
    }
    let sources: Vec<(&str, String)> = sources
        .iter()
        .map(|(i, u)| (i.as_str(), u.clone()))
        .collect();
    let config = TestConfig::new(
        &sources,
        "[daemon.limits]\nper_host = 8\nconcurrency = 8\ntimeout_secs = 30\n",
    );

    let output = config.entente(&["fetch"]);
    assert!(
        matches!(output.status.code(), Some(0 | 2)),
        "entente fetch must survive the corpus: {:?}\n{}",
        output.status,
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    let listed = config.json(&["sources", "--json"]);
    let baseline = baseline(corpus);

    let mut outcome_of: BTreeMap<String, String> = BTreeMap::new();
    let mut ingested = 0;
    let mut items = 0;
    let mut empty = Vec::new();
    let mut rejected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lost = Vec::new();
    for source in listed.as_array().unwrap() {
        let id = source["id"].as_str().unwrap();
        let path = &path_of[id];
        let line = stdout.lines().find(|l| l.starts_with(&format!("{id}: ")));
        assert!(line.is_some(), "no line for {id} ({path}) in:\n{stdout}");
        match source["status"].as_str().unwrap() {
            "ok" => {
                ingested += 1;
                let count = source["items"].as_u64().unwrap();
                items += count;
                outcome_of.insert(path.clone(), count.to_string());
                if count == 0 {
                    empty.push(path.clone());
                }
            }
            "error" => {
                let kind = source["error_kind"].as_str().unwrap().to_string();
                let message = source["error"].as_str().unwrap();
                assert_ne!(kind, "internal", "{path}: {message}");
                assert!(message.contains("HTTP 200"), "{path}: {message}");
                outcome_of.insert(path.clone(), format!("error:{kind}"));
                rejected
                    .entry(kind)
                    .or_default()
                    .push(format!("{path}: {message}"));
                if baseline.get(path).map(String::as_str) == Some("ok") {
                    lost.push(format!("{path}: {message}"));
                }
            }
            other => panic!("{path}: status {other} after a pass: {source}"),
        }
    }

    let rejected_total: usize = rejected.values().map(Vec::len).sum();
    println!("Fixture corpus: {} documents", fixtures.len());
    println!(
        "  ingested: {ingested} ({items} items; {} with no items)",
        empty.len()
    );
    for path in &empty {
        println!("    no items: {path}");
    }
    println!("  rejected: {rejected_total}");
    for (kind, errors) in &rejected {
        println!("    {kind}: {}", errors.len());
        for error in errors {
            println!("      {error}");
        }
    }
    println!(
        "  feed-rs 3.0.0 alone: {} ok",
        baseline.values().filter(|v| *v == "ok").count()
    );
    assert_eq!(ingested + rejected_total, fixtures.len());
    assert_texts_decoded(&config, &path_of);
    assert_matches_table(&outcome_of);
    assert!(
        lost.is_empty(),
        "documents feed-rs reads but we reject:\n{}",
        lost.join("\n")
    );
}

/// Texts in the corpus's legacy encodings, as stored: (file, column, exact text).
const DECODED: &[(&str, &str, &str)] = &[
    ("miniflux/encoding/koi8r.xml", "title", "Первая новость"),
    (
        "quick-xml/opennews_all.rss",
        "title",
        "Выпуск Python 2.7.13",
    ),
    (
        "miniflux/parser/encoding_WINDOWS-1251.xml",
        "title",
        "Цитата #17703",
    ),
    (
        "feed-rs/rss2/rss_2.0_encoding_1.xml",
        "title",
        "Revolução nas telas com pontos quânticos impressos em 3D",
    ),
    // The charset only in the HTTP header, no XML declaration.
    (
        "miniflux/parser/no_encoding_ISO-8859-1.xml",
        "substr(summary, 1, 33)",
        "Une nouvelle nomenclature adoptée",
    ),
    // The header's windows-1252 wins over the declaration's iso-8859-1.
    (
        "feedparser/encoding/http_text_xml_charset_overrides_encoding_2.xml",
        "summary",
        "This is a £“test.”",
    ),
];

fn assert_texts_decoded(config: &TestConfig, path_of: &HashMap<String, String>) {
    // Through the store: a long summary is stored compressed (migration 0003), so
    // SQL alone no longer reads it.
    let store = entente::store::Store::open(&config.database()).unwrap();
    let all = store
        .read_blocking(|c| {
            entente::store::queries::list_items(
                c,
                &entente::store::ItemFilter {
                    include_irrelevant: true,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    for (path, column, expected) in DECODED {
        let id = path_of
            .iter()
            .find(|(_, p)| p == path)
            .map(|(id, _)| id)
            .unwrap();
        let texts: Vec<String> = all
            .iter()
            .filter(|s| &s.item.source_id == id)
            .map(|s| match *column {
                "title" => s.item.title.clone(),
                "summary" => s.item.summary.clone(),
                "substr(summary, 1, 33)" => s.item.summary.chars().take(33).collect(),
                other => panic!("no such column in DECODED: {other}"),
            })
            .collect();
        assert!(
            texts.iter().any(|t| t == expected),
            "{path}: no {column} reads {expected:?}; got {:?}",
            &texts[..texts.len().min(5)]
        );
    }
}

/// The checked-in table of what each fixture yields: `path`, `entente` (items stored,
/// or `error:KIND`) and `feedparser` (the entries python feedparser 6 reads, from
/// `scripts/feedparser_counts.py`).
const TABLE: &str = "tests/fixtures.tsv";

/// Each file yields what the table says, and every file feedparser reads entries from
/// yields items here too. `ENTENTE_BLESS_FIXTURES=1` rewrites the `entente` column
/// (review the diff: a smaller number is a regression).
fn assert_matches_table(outcome_of: &BTreeMap<String, String>) {
    let table_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE);
    let table = std::fs::read_to_string(&table_path).unwrap();
    let rows: Vec<(String, String, u64)> = table
        .lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (
                cols[0].to_string(),
                cols[1].to_string(),
                cols[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), outcome_of.len(), "{TABLE} lists every fixture");
    let bless = std::env::var("ENTENTE_BLESS_FIXTURES").is_ok_and(|v| v == "1");
    if bless {
        let mut blessed = String::from("path\tentente\tfeedparser\n");
        for (path, _, feedparser) in &rows {
            blessed.push_str(&format!("{path}\t{}\t{feedparser}\n", outcome_of[path]));
        }
        std::fs::write(&table_path, blessed).unwrap();
    }
    let mut differ = Vec::new();
    let mut unread = Vec::new();
    for (path, expected, feedparser) in &rows {
        let got = outcome_of
            .get(path)
            .unwrap_or_else(|| panic!("{TABLE} lists {path}, which is not in the corpus"));
        if got != expected && !bless {
            differ.push(format!("{path}: table says {expected}, got {got}"));
        }
        let read = got.parse::<u64>().unwrap_or(0);
        if *feedparser > 0 && read == 0 {
            unread.push(format!(
                "{path}: feedparser reads {feedparser} entries, we {got}"
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "fixtures yield other than {TABLE} says (ENTENTE_BLESS_FIXTURES=1 rewrites it):\n{}",
        differ.join("\n")
    );
    assert!(
        unread.is_empty(),
        "feeds a reader would read that we do not:\n{}",
        unread.join("\n")
    );
}

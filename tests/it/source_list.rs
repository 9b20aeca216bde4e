//! The source list from the command line: `add` (with feed discovery), `remove`,
//! `disable`, `enable`, `try`, and OPML in and out, on a hand-written, commented
//! feeds.toml in a temporary folder and feeds served on loopback.

use std::collections::BTreeSet;

use crate::common::{rss, text, FeedServer, Route, TestConfig};

const DATE: &str = "Mon, 02 Mar 2026 10:00:00 +0000";

/// A feeds.toml as an operator keeps it: comments, blank lines, aligned comments.
fn commented_config(sources: &str) -> TestConfig {
    let config = TestConfig::new(&[], "");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/rules.toml");
    let text = format!(
        "# Our sources. Keep this list short!\nrules = {rules:?}\n\n[daemon]\n\
         schedule = \"*/30 * * * *\"   # every half hour\n\n{sources}\n# the end\n"
    );
    std::fs::write(&config.path, text).unwrap();
    config
}

fn read(config: &TestConfig) -> String {
    std::fs::read_to_string(&config.path).unwrap()
}

fn news_feed() -> String {
    rss(&[
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
    ])
}

fn page(head: &str) -> Route {
    Route::ok(
        "text/html; charset=utf-8",
        format!("<!DOCTYPE html><html><head><title>Site</title>{head}</head><body><p>News</p></body></html>"),
    )
}

#[test]
fn add_on_a_page_discovers_its_feed_and_appends_a_table_keeping_every_other_byte() {
    let server = FeedServer::start();
    server.route(
        "/",
        page(r#"<link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="News" href="/news.rss">"#),
    );
    server.route("/news.rss", Route::rss(news_feed()));
    let config = commented_config(
        "# the first one\n[[source]]\nid = \"old\"\nurl = \"https://old.example/feed\"  # keep\n",
    );
    let before = read(&config);

    // By name, so that the `www.` spelling below is a host name, not a broken address.
    let host = format!("localhost:{}", server.addr.port());
    let added = config.entente(&["add", &format!("http://{host}/"), "--lang", "en"]);
    let out = text(&added.stdout);
    assert!(added.status.success(), "{out}{}", text(&added.stderr));
    let after = read(&config);
    assert!(
        after.starts_with(&before),
        "bytes before the new table changed:\n{after}"
    );
    assert_eq!(
        &after[before.len()..],
        format!(
            "\n[[source]]\nid = \"test-feed\"\nname = \"Test feed\"\nurl = \"http://{host}/news.rss\"\nlang = \"en\"\n"
        )
    );
    assert!(out.contains("added `test-feed` (Test feed)"), "{out}");
    assert!(out.contains("2 items, 1 relevant (50 %)"), "{out}");
    assert!(out.contains("diplomacy"), "{out}");
    let check = config.entente(&["check"]);
    assert!(check.status.success(), "{}", text(&check.stdout));

    // The same feed again, written differently: refused, the file untouched.
    for again in [
        format!("http://{host}/news.rss/"),
        format!("http://www.{host}/news.rss"),
        format!("https://{host}/news.rss?utm_source=x"),
    ] {
        let refused = config.entente(&["add", &again]);
        let err = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(1), "{again}: {err}");
        assert!(
            err.contains("is already a source: `test-feed`"),
            "{again}: {err}"
        );
        assert_eq!(read(&config), after);
    }
    // The page itself leads to the same feed: also refused after discovery.
    let refused = config.entente(&["add", &format!("http://{host}")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("already a source"));
    assert_eq!(read(&config), after);
}

#[test]
fn add_lists_several_feeds_and_takes_the_picked_one_or_the_first() {
    let server = FeedServer::start();
    server.route(
        "/site/",
        page(
            r#"<link rel="alternate" type="application/atom+xml" title="Atom" href="all.atom">
               <link rel="alternate" type="application/rss+xml" title="Politics" href="/politics.rss">"#,
        ),
    );
    server.route(
        "/site/all.atom",
        Route::ok("application/atom+xml", crate::common::atom(&[])),
    );
    server.route("/politics.rss", Route::rss(news_feed()));
    let config = commented_config("");

    let added = config.entente(&["add", &server.url("/site/"), "--pick", "2", "--id", "pol"]);
    let out = text(&added.stdout);
    assert!(added.status.success(), "{out}{}", text(&added.stderr));
    assert!(out.contains("links 2 feeds"), "{out}");
    assert!(
        out.contains(&format!("1. {} (Atom", server.url("/site/all.atom"))),
        "{out}"
    );
    assert!(read(&config).contains(&format!(
        "id = \"pol\"\nname = \"Test feed\"\nurl = \"{}\"",
        server.url("/politics.rss")
    )));

    // A bad schedule: the edited file would not pass `check`, so it is not written.
    let before = read(&config);
    let bad = config.entente(&[
        "add",
        &server.url("/site/all.atom"),
        "--id",
        "p2",
        "--schedule",
        "often",
    ]);
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(
        err.contains("left unchanged") && err.contains("feeds.toml:"),
        "{err}"
    );
    assert_eq!(read(&config), before);

    let out_of_range = config.entente(&["add", &server.url("/site/"), "--pick", "3"]);
    assert_eq!(out_of_range.status.code(), Some(1));
    assert!(
        text(&out_of_range.stderr).contains("--pick 3"),
        "{}",
        text(&out_of_range.stderr)
    );
}

#[test]
fn add_falls_back_to_the_usual_paths_and_names_what_it_tried() {
    let server = FeedServer::start();
    server.route("/", page(""));
    let config = commented_config("");
    let before = read(&config);

    let failed = config.entente(&["add", &server.url("/")]);
    let err = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    assert!(err.contains("no feed found"), "{err}");
    assert!(err.contains("<link rel=\"alternate\">"), "{err}");
    for path in [
        "/feed",
        "/rss",
        "/rss.xml",
        "/atom.xml",
        "/index.xml",
        "/feed.json",
    ] {
        assert!(
            err.contains(&format!("{}: HTTP 404", server.url(path))),
            "{path} missing: {err}"
        );
    }
    assert_eq!(read(&config), before);

    // Once the site serves one of them, it is found there.
    server.route("/rss.xml", Route::rss(news_feed()));
    let added = config.entente(&["add", &server.url("/"), "--id", "site"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(read(&config).contains(&format!("url = \"{}\"", server.url("/rss.xml"))));
}

#[test]
fn remove_disable_and_enable_change_only_their_lines() {
    let sources = "# first\n[[source]]\nid = \"a\"\nurl = \"https://a.example/feed\" # A\n\n\
                   # second, paused\n[[source]]\nid = \"b\"\nurl = \"https://b.example/rss\"\n\
                   enabled = false  # until June\n";
    let config = commented_config(sources);
    let original = read(&config);

    let disabled = config.entente(&["disable", "a"]);
    assert!(disabled.status.success(), "{}", text(&disabled.stderr));
    assert_eq!(
        read(&config),
        original.replace("# A\n", "# A\nenabled = false\n")
    );
    let enabled = config.entente(&["enable", "a"]);
    assert!(enabled.status.success());
    assert_eq!(read(&config), original);
    let again = config.entente(&["enable", "a"]);
    assert!(text(&again.stdout).contains("already enabled"));
    assert_eq!(read(&config), original);

    assert!(config.entente(&["enable", "b"]).status.success());
    assert_eq!(
        read(&config),
        original.replace("enabled = false  # until June\n", "")
    );
    let sources = config.json(&["sources", "--json"]);
    assert_eq!(sources[1]["enabled"], true);

    let removed = config.entente(&["remove", "a"]);
    assert!(removed.status.success(), "{}", text(&removed.stderr));
    assert!(!read(&config).contains("a.example"));
    assert!(read(&config).starts_with("# Our sources. Keep this list short!\n"));
    assert!(read(&config).ends_with("url = \"https://b.example/rss\"\n\n# the end\n"));

    // A broken source can be removed: the edit is what makes the file valid again.
    let broken = commented_config(
        "[[source]]\nid = \"ok\"\nurl = \"https://ok.example/feed\"\n\n\
         [[source]]\nid = \"bad\"\nurl = \"htp:/nowhere\"\n",
    );
    assert_eq!(broken.entente(&["check"]).status.code(), Some(1));
    let fixed = broken.entente(&["remove", "bad"]);
    assert!(fixed.status.success(), "{}", text(&fixed.stderr));
    assert!(broken.entente(&["check"]).status.success());
    // An edit that leaves the file broken is refused.
    let still = commented_config("[[source]]\nid = \"bad\"\nurl = \"htp:/nowhere\"\n");
    let refused = still.entente(&["disable", "bad"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("left unchanged"),
        "{}",
        text(&refused.stderr)
    );

    let unknown = config.entente(&["remove", "zzz"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no source with id `zzz`"));
}

#[test]
fn try_shows_verdicts_and_evidence_and_stores_nothing() {
    let server = FeedServer::start();
    server.route("/news.rss", Route::rss(news_feed()));
    server.route(
        "/other.rss",
        Route::rss(news_feed().replace("visit", "visit2")),
    );
    let config = TestConfig::new(&[("news", server.url("/news.rss"))], "");
    assert!(config.entente(&["fetch"]).status.success());
    let items_before = config.json(&["items", "--all", "--json"]);
    let sources_before = config.json(&["sources", "--json"]);
    let database = |suffix: &str| {
        let mut path = config.database().into_os_string();
        path.push(suffix);
        std::fs::read(path).unwrap_or_default()
    };
    let db_before = (database(""), database("-wal"));

    let tried = config.entente(&["try", &server.url("/other.rss")]);
    let out = text(&tried.stdout);
    assert!(tried.status.success(), "{out}{}", text(&tried.stderr));
    let visit = out.find("+ RELEVANT").expect("a relevant item");
    assert!(out[visit..].contains("Macron and Tokayev"), "{out}");
    assert!(out.contains("\"Macron\" (france, title)"), "{out}");
    assert!(out.contains("\"Tokayev\" (kazakhstan, title)"), "{out}");
    assert!(out.contains("topics: diplomacy"), "{out}");
    assert!(out.contains("- not relevant"), "{out}");
    assert!(out.contains("Rain expected in Lyon"), "{out}");
    assert!(out.contains("2 items, 1 relevant (50 %)"), "{out}");

    let by_id = config.json(&["try", "news", "--json"]);
    assert_eq!(by_id["summary"]["items"], 2);
    assert_eq!(by_id["summary"]["relevant"], 1);
    assert_eq!(by_id["summary"]["topics"]["diplomacy"], 1);
    let items = by_id["items"].as_array().unwrap();
    assert_eq!(items[0]["relevant"], true);
    assert!(items[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["matched"] == "Macron"));

    assert!(
        (database(""), database("-wal")) == db_before,
        "try wrote to the database"
    );
    assert_eq!(config.json(&["items", "--all", "--json"]), items_before);
    assert_eq!(config.json(&["sources", "--json"]), sources_before);
    assert_eq!(server.requests_to("/other.rss").len(), 1);
}

/// Lists as common readers export them, written by hand: folders nested, attribute
/// spellings and OPML versions as each reader writes them.
const FEEDLY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Feedly subscriptions</title></head>
  <body>
    <outline text="Kazakhstan" title="Kazakhstan">
      <outline type="rss" text="The Astana Times" title="The Astana Times" xmlUrl="https://astanatimes.com/feed/" htmlUrl="https://astanatimes.com"/>
      <outline type="rss" text="Kazinform" title="Kazinform" xmlUrl="https://qazinform.com/rss/en.xml" htmlUrl="https://qazinform.com"/>
    </outline>
    <outline text="France" title="France">
      <outline type="rss" text="Le Monde — International" title="Le Monde — International" xmlUrl="https://www.lemonde.fr/international/rss_full.xml" htmlUrl="https://www.lemonde.fr"/>
    </outline>
  </body>
</opml>"#;

const NETNEWSWIRE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- OPML generated by NetNewsWire -->
<opml version="1.1">
	<head>
		<title>Subscriptions-OnMyMac.opml</title>
	</head>
<body>
	<outline text="News">
		<outline text="Central Asia">
			<outline text="Eurasianet" title="Eurasianet" description="" type="rss" version="RSS" htmlUrl="https://eurasianet.org/" xmlUrl="https://eurasianet.org/rss.xml"/>
			<outline text="Тенгриньюс" title="Тенгриньюс" description="" type="rss" version="RSS" htmlUrl="https://tengrinews.kz/" xmlUrl="http://tengrinews.kz/news.rss"/>
		</outline>
	</outline>
	<outline text="The Astana Times (again)" type="rss" xmlUrl="https://www.astanatimes.com/feed"/>
</body>
</opml>"#;

const INOREADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
    <head>
        <title>Subscriptions from Inoreader [https://www.inoreader.com]</title>
    </head>
    <body>
        <outline text="Economy" title="Economy">
            <outline text="RFI &amp; Asie" title="RFI &amp; Asie" type="rss" xmlUrl="https://www.rfi.fr/fr/asie-pacifique/rss" htmlUrl="https://www.rfi.fr/fr/asie-pacifique/"/>
        </outline>
        <outline text="JSON one" type="rss" xmlurl="https://example.kz/feed.json"/>
    </body>
</opml>"#;

/// The `xmlUrl` values of an OPML text, found by plain string search so that the
/// round trip does not lean on entente's own OPML reader.
fn exported_urls(opml: &str) -> BTreeSet<String> {
    opml.split("xmlUrl=\"")
        .skip(1)
        .map(|rest| {
            html_escape::decode_html_entities(&rest[..rest.find('"').unwrap()]).into_owned()
        })
        .collect()
}

#[test]
fn opml_from_common_readers_imports_with_folders_and_round_trips() {
    let config = commented_config("");
    let dir = config.dir.path();
    for (name, xml) in [
        ("feedly.opml", FEEDLY),
        ("nnw.opml", NETNEWSWIRE),
        ("ino.opml", INOREADER),
    ] {
        std::fs::write(dir.join(name), xml).unwrap();
    }

    let feedly = config.entente(&["import-opml", dir.join("feedly.opml").to_str().unwrap()]);
    let out = text(&feedly.stdout);
    assert!(feedly.status.success(), "{out}{}", text(&feedly.stderr));
    assert!(out.contains("imported 3 sources"), "{out}");
    assert!(
        out.contains("the-astana-times: https://astanatimes.com/feed/ [Kazakhstan]"),
        "{out}"
    );
    assert!(out.contains("le-monde-international:"), "{out}");

    let nnw = config.entente(&["import-opml", dir.join("nnw.opml").to_str().unwrap()]);
    let out = text(&nnw.stdout);
    assert!(nnw.status.success(), "{out}{}", text(&nnw.stderr));
    assert!(out.contains("imported 2 sources"), "{out}");
    assert!(out.contains("[News / Central Asia]"), "{out}");
    assert!(
        out.contains("tengrinews-kz: http://tengrinews.kz/news.rss"),
        "{out}"
    );
    assert!(
        out.contains("https://www.astanatimes.com/feed: already a source (`the-astana-times`)"),
        "{out}"
    );

    let ino = config.entente(&["import-opml", dir.join("ino.opml").to_str().unwrap()]);
    assert!(
        text(&ino.stdout).contains("imported 2 sources"),
        "{}",
        text(&ino.stdout)
    );
    assert!(config.entente(&["check"]).status.success());
    assert!(read(&config).starts_with("# Our sources. Keep this list short!\n"));

    assert!(config.entente(&["disable", "eurasianet"]).status.success());
    let exported = config.entente(&["export-opml"]);
    assert!(exported.status.success());
    let opml = text(&exported.stdout);
    let expected: BTreeSet<String> = [
        "https://astanatimes.com/feed/",
        "https://qazinform.com/rss/en.xml",
        "https://www.lemonde.fr/international/rss_full.xml",
        "https://eurasianet.org/rss.xml",
        "http://tengrinews.kz/news.rss",
        "https://www.rfi.fr/fr/asie-pacifique/rss",
        "https://example.kz/feed.json",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(exported_urls(&opml), expected);
    assert!(opml.contains("title=\"RFI &amp; Asie\""), "{opml}");

    // The exported list read into an empty entente gives the same sources.
    let other = commented_config("");
    let file = other.dir.path().join("export.opml");
    std::fs::write(&file, &opml).unwrap();
    let imported = other.entente(&["import-opml", file.to_str().unwrap()]);
    assert!(text(&imported.stdout).contains("imported 7 sources"));
    let again = other.entente(&["export-opml"]);
    assert_eq!(exported_urls(&text(&again.stdout)), expected);
    assert!(
        read(&other).contains("url = \"https://eurasianet.org/rss.xml\"\nenabled = false\n"),
        "a disabled source stays disabled: {}",
        read(&other)
    );
    // And once more: every one is a duplicate now.
    let twice = other.entente(&["import-opml", file.to_str().unwrap()]);
    let out = text(&twice.stdout);
    assert!(
        out.contains("imported 0 sources") && out.contains("skipped 7"),
        "{out}"
    );
}

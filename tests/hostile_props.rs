//! Generated hostile input for each stage a stranger's bytes reach (see
//! `support/invariants.rs` for what must hold): feed bytes through decode, parse and
//! normalise; item text through the classifier; feeds.toml and rules.toml text
//! through config; title pairs through the de-duplication signature. The fuzz
//! targets in `fuzz/` run the same checks for as long as one likes.

#[path = "support/invariants.rs"]
mod invariants;

use std::sync::LazyLock;

use entente::classify::Rules;
use proptest::prelude::*;

/// Pieces real and hostile feeds are made of; the generator strings them together.
const FEED_PIECES: &[&str] = &[
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    "<?xml version=\"1.0\" encoding=\"koi8-r\"?>", "\u{FEFF}", "<rss version=\"2.0\">", "<rss>",
    "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>", "</title>",
    "<link>", "</link>", "<description>", "</description>", "<guid>", "</guid>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">", "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">",
    "</feed>", "<entry>", "</entry>", "<content type=\"html\">", "<content mode=\"base64\">",
    "<content mode=\"escaped\" type=\"text/html\">", "</content>", "<summary type=\"xhtml\">",
    "</summary>", "<link href=\"", "\"/>", "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">",
    "</rdf:RDF>", "<item rdf:about=\"http://a.example/1\">", "<![CDATA[", "]]>", "<!--", "-->",
    "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>",
    "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "&xxe;", "&b;", "&amp;", "&", "&#0;",
    "&#xD800;", "&#x202E;", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>",
    "&lt;a href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;", "&lt;img src=x onerror=alert(1)&gt;",
    "&lt;blockquote cite=\"javascript:x\"&gt;q&lt;/blockquote&gt;", "&lt;div&gt;", "&lt;/div&gt;",
    "javascript:alert(1)", "https://user:pass@x.example/", "http://ex.org/a?b=1&c=2", "/relative",
    "xml:base=\"javascript:alert(1)//\"", "Astana", "Paris", "Қазақстан", "Франция", "\u{202E}",
    "\u{0}", "\u{7}", "\r\n", " ", "\t", "<", ">", "\"", "'", "=", "9999-12-31T23:59:59Z",
    "<pubDate>Mon, 31 Dec 9999 23:59:59 +0000</pubDate>", "<issued>2004-01-01T00:00:00Z</issued>",
    "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[",
    "{\"id\":\"1\",\"title\":\"a\\ud800\",\"url\":\"javascript:x\",\"content_html\":\"<script>x</script>\"}", "]}",
];

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/rss+xml"),
    Some("text/xml; charset=utf-16"),
    Some("application/xml; charset=windows-1251"),
    Some("text/html; charset=iso-8859-1"),
    Some("application/feed+json"),
];

fn feed_document() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        proptest::collection::vec(proptest::sample::select(FEED_PIECES), 0..60)
            .prop_map(|pieces| pieces.concat().into_bytes()),
        (
            proptest::collection::vec(proptest::sample::select(FEED_PIECES), 0..40),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(pieces, noise)| {
                let mut doc = pieces.concat().into_bytes();
                let at = noise.len().min(doc.len()) / 2;
                doc.splice(at..at, noise);
                doc
            }),
    ]
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    Rules::from_toml(include_str!("../rules.toml")).expect("the shipped rules compile")
});

const TEXT_PIECES: &[&str] = &[
    "France",
    "Kazakhstan",
    "Macron",
    "Tokayev",
    "Astana",
    "Paris",
    "uranium",
    "Orano",
    "Франция",
    "Казахстан",
    "Қазақстан",
    "Франция мен",
    "frites françaises",
    "по-французски",
    "Élysée",
    "Akorda",
    " ",
    ", ",
    "\u{202E}",
    "\u{0}",
    "🇫🇷",
    "🇰🇿",
    "\u{301}",
    "ǅ",
    "İ",
];

fn item_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,200}",
        proptest::collection::vec(proptest::sample::select(TEXT_PIECES), 0..30)
            .prop_map(|p| p.concat()),
    ]
}

const TOML_PIECES: &[&str] = &[
    "[daemon]\n",
    "[daemon.limits]\n",
    "[[source]]\n",
    "id = \"a\"\n",
    "id = \"A B\"\n",
    "url = \"https://ex.org/feed\"\n",
    "url = \"file:../../etc/passwd\"\n",
    "url = \"javascript:x\"\n",
    "schedule = \"*/5 * * * *\"\n",
    "schedule = \"99 99 * * *\"\n",
    "timezone = \"Mars/Olympus\"\n",
    "max_items_per_fetch = 0\n",
    "max_title_chars = -1\n",
    "max_body_bytes = 9223372036854775807\n",
    "listen = \"0.0.0.0:99999\"\n",
    "database = \"../../x.db\"\n",
    "lang = \"xx\"\n",
    "enabled = 3\n",
    "dedup_threshold = 1.5\n",
    "[[topic]]\n",
    "title = \"T\"\n",
    "terms = [\"a\", \"\"]\n",
    "[scoring]\n",
    "threshold = nan\n",
    "weight = inf\n",
    "= \n",
    "\"\n",
    "[",
    "]",
    "{",
    "}",
    "key = [[[[[[[[[[1]]]]]]]]]]\n",
    "a.b.c.d.e = 1\n",
    "\u{0}",
    "\u{FEFF}",
];

fn toml_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,300}",
        proptest::collection::vec(proptest::sample::select(TOML_PIECES), 0..30)
            .prop_map(|p| p.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn feed_bytes_decode_parse_and_normalise_safely(
        doc in feed_document(),
        content_type in proptest::sample::select(CONTENT_TYPES),
    ) {
        invariants::feed_bytes(&doc, content_type);
    }

    #[test]
    fn item_text_classifies_without_fault(title in item_text(), summary in item_text()) {
        invariants::classify_text(&RULES, &title, &summary);
    }

    #[test]
    fn config_text_is_accepted_or_rejected_with_its_file(feeds in toml_text(), rules in toml_text()) {
        invariants::config_text(&feeds, &rules);
    }

    #[test]
    fn title_pairs_give_bounded_symmetric_similarity(a in item_text(), b in item_text()) {
        invariants::title_pair(&a, &b);
    }
}

//! The streaming RSS/Atom reader (`parse::fast`) against feed-rs: every document
//! it accepts must give the same normalised feed, field by field, as feed-rs'
//! path; the plain documents must really be taken by it; and the documents it is
//! not sure of must go to feed-rs.

use std::path::Path;
use std::process::Command;

use entente::item::FieldCaps;
use entente::parse::{parse_feed_using, Origin, ParseError, ParsedFeed, Reader, ReaderChoice};

fn base() -> url::Url {
    url::Url::parse("https://feeds.example/news/feed.xml").unwrap()
}

/// Where a test's documents come from: a fixture at `url`, default caps.
fn fixture_origin(url: &url::Url) -> Origin<'_> {
    Origin {
        source_id: "fixture",
        lang_hint: None,
        url: Some(url),
        caps: FieldCaps::default(),
    }
}

/// Both readers on one body (decoded as the fetcher decodes it); the reader that
/// `parse_feed` used, after checking that a streaming read equals feed-rs' read.
fn both_ways(name: &str, bytes: &[u8], content_type: Option<&str>) -> Reader {
    let body = entente::fetch::decode::to_utf8(bytes, content_type);
    let url = base();
    let origin = fixture_origin(&url);
    let (parsed, reader) = parse_feed_using(&body, origin, ReaderChoice::Any);
    let (reference, _) = parse_feed_using(&body, origin, ReaderChoice::FeedRsOnly);
    // Where feed-rs panics the streaming reader may do better (see
    // `a_document_feed_rs_panics_on_is_read_by_the_streaming_reader`).
    if reader == Reader::Streaming && !matches!(reference, Err(ParseError::ParserPanicked)) {
        assert_same(name, &parsed, &reference);
    }
    reader
}

/// feed-rs 3.0.0 slices an author's name inside a character when the email follows a
/// multi-byte one, panics, and the whole document is lost (found by the feed fuzz
/// target's parity check, 2 December 2026). The streaming reader does not read the
/// channel's `webMaster`, so a subscriber gets the items.
#[test]
fn a_document_feed_rs_panics_on_is_read_by_the_streaming_reader() {
    let body = rss(
        "<item><title>Astana et Paris</title><link>https://news.example/1</link>\
                    <description>Un accord.</description></item>",
    )
    .replace(
        "<language>",
        "<webMaster>zcb1\u{e009}\u{e009}972@21cn.example</webMaster><language>",
    );
    let url = base();
    let origin = fixture_origin(&url);
    let (reference, _) = parse_feed_using(body.as_bytes(), origin, ReaderChoice::FeedRsOnly);
    assert!(
        matches!(reference, Err(ParseError::ParserPanicked)),
        "feed-rs no longer panics here: {reference:?}; the parity checks can be strict again"
    );
    let (parsed, reader) = parse_feed_using(body.as_bytes(), origin, ReaderChoice::Any);
    assert_eq!(reader, Reader::Streaming);
    let feed = parsed.expect("the streaming reader reads it");
    assert_eq!(feed.items.len(), 1);
    assert_eq!(feed.items[0].title, "Astana et Paris");
}

/// Field by field, so that a failure names the item and the field.
fn assert_same(
    name: &str,
    fast: &Result<ParsedFeed, ParseError>,
    reference: &Result<ParsedFeed, ParseError>,
) {
    let (Ok(fast), Ok(reference)) = (fast, reference) else {
        panic!("{name}: streaming {fast:?}, feed-rs {reference:?}");
    };
    assert_eq!(fast.title, reference.title, "{name}: feed title");
    assert_eq!(fast.link, reference.link, "{name}: feed link");
    assert_eq!(fast.lang, reference.lang, "{name}: feed language");
    assert_eq!(
        fast.items.len(),
        reference.items.len(),
        "{name}: number of items"
    );
    for (at, (a, b)) in fast.items.iter().zip(&reference.items).enumerate() {
        assert_eq!(a.key, b.key, "{name}: item {at} key");
        assert_eq!(a.guid, b.guid, "{name}: item {at} guid");
        assert_eq!(a.link, b.link, "{name}: item {at} link");
        assert_eq!(a.title, b.title, "{name}: item {at} title");
        assert_eq!(a.summary, b.summary, "{name}: item {at} summary");
        assert_eq!(a.content_html, b.content_html, "{name}: item {at} content");
        assert_eq!(a.published, b.published, "{name}: item {at} published");
        assert_eq!(a.updated, b.updated, "{name}: item {at} updated");
        assert_eq!(a.authors, b.authors, "{name}: item {at} authors");
        assert_eq!(a.categories, b.categories, "{name}: item {at} categories");
        assert_eq!(a.lang, b.lang, "{name}: item {at} language");
        assert_eq!(a.content_hash(), b.content_hash(), "{name}: item {at} hash");
    }
    assert_eq!(fast, reference, "{name}: the whole feed");
}

fn file_content_type(path: &str) -> Option<&'static str> {
    // What the fixtures test serves them with; the charset, if any, is in the body.
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("json") => Some("application/feed+json"),
        _ => Some("application/xml"),
    }
}

#[test]
fn every_fixture_the_streaming_reader_takes_reads_as_feed_rs_reads_it() {
    let Some(manifest) = crate::shared::shared_file("fixtures/feeds/MANIFEST.tsv") else {
        return;
    };
    let corpus = manifest.parent().unwrap().to_path_buf();
    let listing = std::fs::read_to_string(&manifest).unwrap();
    let mut fast = Vec::new();
    let mut total = 0;
    for line in listing.lines().skip(1) {
        let path = line.split('\t').next().unwrap();
        let bytes = std::fs::read(corpus.join(path)).unwrap();
        total += 1;
        if both_ways(path, &bytes, file_content_type(path)) == Reader::Streaming {
            fast.push(path.to_string());
        }
    }
    println!(
        "streaming reader: {} of {total} fixtures, each the same as feed-rs",
        fast.len()
    );
    assert!(total >= 300, "the corpus lists {total} documents");
    // Plain documents of the corpus that must not fall back to feed-rs.
    for plain in [
        "feed-rs/atom/atom_spec_1.xml",
        "feed-rs/rss2/rss_2.0_example_1.xml",
        "feed-rs/atom/atom_relative.xml",
    ] {
        assert!(fast.iter().any(|p| p == plain), "{plain} went to feed-rs");
    }
    assert!(
        fast.len() * 4 >= total,
        "only {} of {total} fixtures were read by the streaming reader",
        fast.len()
    );
}

#[test]
fn every_farm_feed_is_read_by_the_streaming_reader_as_feed_rs_reads_it() {
    let farm = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/farm.py");
    let status = Command::new("python3")
        .arg(&script)
        .args(["generate"])
        .arg(farm.path())
        .args(["--feeds", "24", "--items", "50"])
        .status();
    let Ok(status) = status else {
        println!("SKIPPED: python3 is not installed");
        return;
    };
    assert!(status.success(), "bench/farm.py generate failed");
    let mut documents = Vec::new();
    for entry in walk(farm.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        if bytes.starts_with(b"<") || bytes.starts_with(b"\xEF\xBB\xBF") {
            documents.push((entry, bytes));
        }
    }
    assert!(
        documents.len() >= 24,
        "the farm holds {} feeds",
        documents.len()
    );
    let (mut rss, mut atom) = (0, 0);
    for (path, bytes) in &documents {
        let name = path.display().to_string();
        assert_eq!(
            both_ways(&name, bytes, Some("application/xml")),
            Reader::Streaming,
            "{name} went to feed-rs"
        );
        if bytes.windows(5).any(|w| w == b"<feed") {
            atom += 1;
        } else {
            rss += 1;
        }
    }
    assert!(
        rss > 0 && atom > 0,
        "the farm has RSS ({rss}) and Atom ({atom})"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel><title>Le &amp; fil</title>\
         <link>https://news.example/</link><language>FR-fr</language>\
         <atom:link href=\"https://news.example/feed\" rel=\"self\"/>{items}</channel></rss>"
    )
}

fn atom(entries: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" \
         xml:lang=\"ru\"><title type=\"html\">Новости &lt;b&gt;Астана&lt;/b&gt;</title>\
         <link href=\"/ru/\"/><link rel=\"self\" href=\"https://news.example/atom\"/>\
         <id>urn:x</id><updated>2026-03-01T00:00:00Z</updated>{entries}</feed>"
    )
}

/// Hostile and odd documents that the streaming reader takes: each must read as
/// feed-rs reads it.
#[test]
fn odd_but_plain_documents_read_the_same_both_ways() {
    let cases: Vec<(&str, String)> = vec![
        ("entities and CDATA", rss("<item><title>Paris &amp; Astana &#8212; &#x41A;азақстан &eacute;</title>\
            <description><![CDATA[<p>Visite <b>officielle</b> &amp; more</p>]]> tail &lt;i&gt;x&lt;/i&gt;</description>\
            <guid isPermaLink=\"true\">https://news.example/a/1</guid></item>")),
        ("escaped HTML title", rss("<item><title>&lt;b&gt;Bold&lt;/b&gt; &amp;amp; title</title>\
            <link>  /relative/2  </link><pubDate>Tue, 10 Feb 2026 09:00:00 GMT</pubDate></item>")),
        ("duplicate elements, the last wins", rss("<item><title>First</title><title>Second</title>\
            <link>https://a.example/1</link><link>https://a.example/2</link>\
            <pubDate>Tue, 10 Feb 2026 09:00:00 +0100</pubDate><pubDate>not a date</pubDate>\
            <guid>g1</guid><guid>  g2  </guid><description>one</description><description/></item>")),
        ("enclosure and comments", rss("<item><title>Podcast</title>\
            <enclosure url=\"/a.mp3\" length=\"12\" type=\"audio/mpeg\"/>\
            <comments>https://a.example/1#c</comments><link>https://a.example/1</link>\
            <comments>https://a.example/1</comments></item>")),
        ("odd dates", rss("<item><title>a</title><pubDate>Thursday, 5 March 2026 7:05:00 UTC</pubDate></item>\
            <item><title>b</title><dc:date>2026-03-05</dc:date></item>\
            <item><title>c</title><pubDate>2026-03-05T10:00:00+0500</pubDate></item>\
            <item><title>d</title><pubDate>Sun, 30 Feb 2026 10:00:00 +0000</pubDate></item>\
            <item><title>e</title><pubDate>Mon, 01 Mar 2026 10:00:00 +0000</pubDate></item>\
            <item><title>f</title><pubDate> 2026-03-05T10:00:00.123456Z </pubDate></item>")),
        ("authors and categories", rss("<item><title>x</title><author>editor@news.example (Jane Roe)</author>\
            <dc:creator> Иван &lt;Петров&gt; </dc:creator><category domain=\"d\"> Politique </category>\
            <category>&lt;b&gt;Kz&lt;/b&gt;</category></item>")),
        ("content:encoded and an empty one", rss("<item><title>x</title><description>short</description>\
            <content:encoded><![CDATA[<div><img src=\"/i.png\"> Long <a href=\"x\">text</a></div>]]></content:encoded></item>\
            <item><description>no title here, the summary names it</description><content:encoded></content:encoded></item>")),
        ("comments and a processing instruction in text", rss("<item><title>Pa<!-- c -->ris<?pi x?></title>\
            <description>&unknown; entity kept</description></item>")),
        ("an atom feed with html, text and relative links", atom("<entry><title>Entry &amp; one</title>\
            <link href=\"/ru/1\"/><link rel=\"replies\" href=\"/c\"/><id> urn:1 </id>\
            <updated>2026-03-02T10:00:00+05:00</updated><published>2026-03-01T10:00:00Z</published>\
            <author><name>А. Б.</name><email>a@b.example</email></author><author><email>c@d.example</email></author>\
            <category term=\" kz \"/><category term=\"fr\" label=\"France\"/>\
            <summary type=\"html\">&lt;p&gt;Sum&lt;/p&gt;</summary>\
            <content type=\"html\" xml:lang=\"kk\">&lt;p&gt;Body &lt;script&gt;x&lt;/script&gt;&lt;/p&gt;</content></entry>\
            <entry><title type=\"text\"></title><id>urn:2</id><summary>plain</summary><content>text body</content></entry>")),
        ("a byte-order mark", format!("\u{FEFF}{}", rss("<item><title>BOM</title></item>"))),
        ("a prefixed atom feed", "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\"><a:title>T</a:title>\
            <a:entry><a:title>E</a:title><a:id>1</a:id></a:entry></a:feed>".to_string()),
        ("unknown namespaces", rss("<item xmlns:x=\"urn:x\"><x:title>not the title</x:title><title>the title</title>\
            <x:link>https://x.example/</x:link><slash:comments xmlns:slash=\"urn:s\">3</slash:comments></item>")),
        ("undeclared prefix", rss("<item><title>t</title><foo:bar>x</foo:bar><foo:title>u</foo:title></item>")),
    ];
    for (name, document) in &cases {
        assert_eq!(
            both_ways(name, document.as_bytes(), Some("application/xml")),
            Reader::Streaming,
            "{name}: went to feed-rs"
        );
    }
}

/// What the streaming reader is not sure of goes to feed-rs, untouched.
#[test]
fn documents_the_streaming_reader_is_not_sure_of_go_to_feed_rs() {
    let cases: Vec<(&str, String)> = vec![
        ("xml:base", rss("<item xml:base=\"https://other.example/\"><title>x</title><link>1</link></item>")),
        ("markup nested in a title", rss("<item><title>a <b>bold</b> title</title></item>")),
        ("iTunes", rss("<item xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\"><title>x</title>\
            <itunes:summary>s</itunes:summary></item>")),
        ("media RSS", rss("<item xmlns:media=\"http://search.yahoo.com/mrss/\"><title>x</title>\
            <media:title>m</media:title></item>")),
        ("xhtml content", atom("<entry><title>x</title><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">\
            <p>hi</p></div></content></entry>")),
        ("content src", atom("<entry><title>x</title><content src=\"/a\" type=\"text/html\"/></entry>")),
        ("RSS 0.91", "<rss version=\"0.91\"><channel><title>t</title><item><title>x</title></item></channel></rss>".to_string()),
        ("RSS 1.0", "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">\
            <channel><title>t</title></channel><item><title>x</title></item></rdf:RDF>".to_string()),
        ("broken XML", rss("<item><title>x</title><description>a & b</description></item>")),
        ("no items", rss("")),
        ("JSON Feed", "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"id\":\"1\",\"title\":\"x\"}]}".to_string()),
    ];
    for (name, document) in &cases {
        assert_eq!(
            both_ways(name, document.as_bytes(), Some("application/xml")),
            Reader::FeedRs,
            "{name}: taken by the streaming reader"
        );
    }
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Text of a field: letters of the four languages, markup characters written
    /// as references, CDATA, spaces and newlines.
    fn field() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-zA-Zéèàçâ ]{1,12}",
                "[Қазақстан Париж]{1,8}",
                Just("&amp;".to_string()),
                Just("&lt;b&gt;".to_string()),
                Just("&#233;".to_string()),
                Just("&#x1F600;".to_string()),
                Just("&nbsp;".to_string()),
                Just("<![CDATA[<i>x</i> & y]]>".to_string()),
                Just("\n  ".to_string()),
                Just("<!-- c -->".to_string()),
            ],
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    fn date() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Tue, 10 Feb 2026 09:00:00 GMT".to_string()),
            Just("Tue, 10 Feb 2026 09:00:00 +0300".to_string()),
            Just("Fri, 10 Feb 2026 09:00:00 +0300".to_string()),
            Just("10 Feb 2026 9:00:00 UTC".to_string()),
            Just("2026-02-10T09:00:00Z".to_string()),
            Just("2026-02-10T09:00:00.5-04:30".to_string()),
            Just("2026-02-10".to_string()),
            Just("février 2026".to_string()),
            Just("".to_string()),
        ]
    }

    fn rss_item() -> impl Strategy<Value = String> {
        (
            proptest::option::of(field()),
            proptest::option::of(field()),
            proptest::option::of(date()),
            proptest::option::of("[a-z0-9/:.]{0,20}"),
            proptest::option::of(field()),
            proptest::bool::ANY,
        )
            .prop_map(|(title, description, date, link, encoded, guid)| {
                let mut item = String::from("<item>");
                if let Some(t) = title {
                    item += &format!("<title>{t}</title>");
                }
                if let Some(d) = description {
                    item += &format!("<description>{d}</description>");
                }
                if let Some(d) = date {
                    item += &format!("<pubDate>{d}</pubDate>");
                }
                if let Some(l) = link {
                    item += &format!("<link>{l}</link>");
                }
                if let Some(e) = encoded {
                    item += &format!("<content:encoded>{e}</content:encoded>");
                }
                if guid {
                    item += "<guid isPermaLink=\"false\">g</guid>";
                }
                item + "</item>"
            })
    }

    fn atom_entry() -> impl Strategy<Value = String> {
        (
            field(),
            prop_oneof![Just("text"), Just("html")],
            proptest::option::of(field()),
            date(),
            proptest::option::of(field()),
        )
            .prop_map(|(title, kind, summary, date, name)| {
                let mut entry = format!(
                    "<entry><title type=\"{kind}\">{title}</title><updated>{date}</updated>"
                );
                if let Some(s) = summary {
                    entry += &format!("<summary type=\"{kind}\">{s}</summary>");
                }
                if let Some(n) = name {
                    entry += &format!("<author><name>{n}</name></author>");
                }
                entry + "<link href=\"/e\"/></entry>"
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn generated_rss_reads_the_same(items in proptest::collection::vec(rss_item(), 1..5)) {
            let document = rss(&items.concat());
            prop_assert_eq!(both_ways("generated RSS", document.as_bytes(), None), Reader::Streaming);
        }

        #[test]
        fn generated_atom_reads_the_same(entries in proptest::collection::vec(atom_entry(), 1..5)) {
            let document = atom(&entries.concat());
            prop_assert_eq!(both_ways("generated Atom", document.as_bytes(), None), Reader::Streaming);
        }
    }
}

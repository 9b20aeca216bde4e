use super::*;
use crate::item::FieldCaps;

fn origin(url: Option<&Url>) -> Origin<'_> {
    Origin {
        source_id: "test",
        lang_hint: None,
        url,
        caps: FieldCaps::default(),
    }
}

fn parse(xml: &str) -> Result<ParsedFeed, ParseError> {
    parse_feed(xml.as_bytes(), origin(None))
}

/// An item's HTML as it can be published: parsing leaves it raw (see `ItemHtml`).
fn safe_html(item: &crate::item::Item) -> Option<String> {
    item.content_html
        .clone()
        .and_then(crate::item::ItemHtml::into_safe_html)
}

#[test]
fn rss_items_are_normalised() {
    let feed = parse(
        r#"<rss version="2.0"><channel><title>T</title><link>https://ex.org/</link>
        <item><title>Macron &amp; Tokayev</title><link>https://ex.org/a</link><guid>g-1</guid>
        <description>&lt;p&gt;Talks in &lt;b&gt;Astana&lt;/b&gt;.&lt;/p&gt;</description>
        <pubDate>Mon, 02 Mar 2026 10:00:00 +0000</pubDate><category>Politics</category></item>
        </channel></rss>"#,
    )
    .unwrap();
    let item = &feed.items[0];
    assert_eq!(item.title, "Macron & Tokayev");
    assert_eq!(item.summary, "Talks in Astana.");
    assert_eq!(item.link.as_deref(), Some("https://ex.org/a"));
    assert_eq!(item.guid.as_deref(), Some("g-1"));
    assert_eq!(
        item.published.unwrap().to_rfc3339(),
        "2026-03-02T10:00:00+00:00"
    );
    assert_eq!(item.categories, vec!["Politics"]);
}

#[test]
fn entries_without_id_or_link_get_the_same_key_every_time() {
    let xml = r#"<rss version="2.0"><channel><title>T</title>
        <item><title>No id</title><description>d</description></item></channel></rss>"#;
    let first = parse(xml).unwrap().items[0].key.clone();
    let second = parse(xml).unwrap().items[0].key.clone();
    assert_eq!(first, second);
    assert_eq!(parse(xml).unwrap().items[0].guid, None);
}

#[test]
fn rss_without_version_is_read() {
    let feed = parse("<rss><channel><title>T</title><item><title>A</title><link>https://ex.org/a</link></item></channel></rss>").unwrap();
    assert_eq!(feed.items.len(), 1);
}

#[test]
fn rss_with_a_default_namespace_is_read() {
    let xml = r#"<rss version="2.0" xmlns="http://backend.userland.com/rss2"><channel><title>T</title>
        <item><title>A</title><link>https://ex.org/a</link></item></channel></rss>"#;
    assert_eq!(parse(xml).unwrap().items.len(), 1);
}

#[test]
fn relative_links_resolve_against_the_feed_url() {
    let base = Url::parse("https://news.example.kz/rss/feed.xml").unwrap();
    let xml = r#"<rss version="2.0"><channel><title>T</title>
        <item><title>A</title><link>/2026/a.html</link></item></channel></rss>"#;
    let feed = parse_feed(xml.as_bytes(), origin(Some(&base))).unwrap();
    assert_eq!(
        feed.items[0].link.as_deref(),
        Some("https://news.example.kz/2026/a.html")
    );
}

#[test]
fn content_html_is_sanitized() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
      <entry><title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>
      <content type="html">&lt;p onclick="x()"&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href="javascript:evil()"&gt;l&lt;/a&gt;&lt;img src="https://ex.org/i.png"&gt;&lt;/p&gt;</content></entry></feed>"#;
    let item = &parse(xml).unwrap().items[0];
    assert!(!item.content_html.as_ref().unwrap().is_sanitized());
    let html = safe_html(item).unwrap();
    assert!(
        !html.contains("script") && !html.contains("onclick") && !html.contains("javascript"),
        "{html}"
    );
    assert!(html.contains("<img src=\"https://ex.org/i.png\""), "{html}");
}

#[test]
fn json_feed_is_accepted() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://ex.org/1","title":"One","content_text":"Text"}]}"#;
    let feed = parse(json).unwrap();
    assert_eq!(feed.items[0].title, "One");
}

#[test]
fn what_is_not_a_feed_is_named() {
    assert_eq!(parse("  "), Err(ParseError::Empty));
    let html = parse("<!DOCTYPE html><html><body>Welcome</body></html>").unwrap_err();
    assert!(
        matches!(&html, ParseError::NotAFeed { what, .. } if what == "an HTML page"),
        "{html}"
    );
    assert!(html.to_string().contains("<!DOCTYPE html>"));
    let json = parse(r#"{"error":"rate limited"}"#).unwrap_err();
    assert!(json.to_string().contains("JSON document"), "{json}");
}

/// Issue 10: a document cut off at the end keeps what came before (as feedparser does);
/// this test used to expect an error.
#[test]
fn truncated_xml_keeps_what_came_before() {
    let feed = parse("<rss version=\"2.0\"><channel><title>T</title><item><title>A").unwrap();
    let titles: Vec<&str> = feed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["A"]);
    let cut_in_cdata = parse(
        "<rss version=\"2.0\"><channel><item><title>B</title><link>http://a.test/b</link></item><item><title><![CD",
    )
    .unwrap();
    assert_eq!(
        cut_in_cdata.items[0].link.as_deref(),
        Some("http://a.test/b")
    );
}

#[test]
fn json_feed_1_0_with_http_version_and_string_tags_is_read() {
    let json = r#"{"version":"http://jsonfeed.org/version/1","title":"J","items":[
        {"id":"1","url":"https://ex.org/1","title":"Astana","tags":"politics"}]}"#;
    let feed = parse(json).unwrap();
    assert_eq!(feed.items[0].title, "Astana");
    assert_eq!(feed.items[0].categories, vec!["politics"]);
}

#[test]
fn json_that_is_not_a_feed_is_named() {
    let err = parse(r#"{"error":"invalid api key"}"#).unwrap_err();
    assert!(matches!(err, ParseError::NotAFeed { .. }), "{err}");
    assert!(err.to_string().contains("invalid api key"), "{err}");
}

#[test]
fn xml_that_is_not_a_feed_names_its_root_element() {
    let err = parse("<?xml version=\"1.0\"?><!-- c --><note><to>A</to></note>").unwrap_err();
    assert!(err.to_string().contains("root element is <note>"), "{err}");
    let err = parse("<rss version=\"2.0\"></rss>").unwrap_err();
    assert!(matches!(err, ParseError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("<rss"), "{err}");
}

#[test]
fn root_xml_base_resolves_urls_inside_entry_html() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.fr/news/">
        <title>T</title><id>urn:t</id><updated>2026-01-01T00:00:00Z</updated>
        <entry><id>urn:t:1</id><title>E</title><updated>2026-01-01T00:00:00Z</updated>
        <content type="html">&lt;a href="more.html"&gt;more&lt;/a&gt;</content></entry></feed>"#;
    let feed = parse(xml).unwrap();
    let html = safe_html(&feed.items[0]).unwrap();
    assert!(
        html.contains("href=\"https://ex.fr/news/more.html\""),
        "{html}"
    );
}

#[test]
fn atom_0_3_entries_are_read_with_their_dates_and_content() {
    let feed = parse(
        r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry>
        <title type="text/html" mode="escaped">Astana &lt;b&gt;talks&lt;/b&gt;</title>
        <link rel="alternate" type="text/html" href="http://ex.org/1"/>
        <issued>2004-01-02T03:04:05Z</issued><modified>2004-01-03T00:00:00Z</modified>
        <content type="text/html" mode="base64">PHA+UGFyaXM8L3A+</content></entry></feed>"#,
    )
    .unwrap();
    let item = &feed.items[0];
    assert_eq!(item.title, "Astana talks");
    assert_eq!(item.link.as_deref(), Some("http://ex.org/1"));
    assert_eq!(
        item.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2004-01-02T03:04:05+00:00")
    );
    assert_eq!(
        item.updated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2004-01-03T00:00:00+00:00")
    );
    assert_eq!(safe_html(item).as_deref(), Some("<p>Paris</p>"));
}

#[test]
fn items_under_an_atom_feed_and_a_bare_rss_are_read() {
    let atom =
        parse(r#"<feed xmlns="http://www.w3.org/2005/Atom"><item><title>A</title></item></feed>"#);
    assert_eq!(atom.unwrap().items.len(), 1);
    let rss = parse("<rss><item><title>B</title><link>http://ex.org/b</link></item></rss>");
    assert_eq!(rss.unwrap().items[0].title, "B");
    let empty_type = parse(
        r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="">evil</title></entry></feed>"#,
    );
    assert_eq!(empty_type.unwrap().items[0].title, "evil");
}

#[test]
fn a_bare_ampersand_does_not_lose_the_feed() {
    let feed = parse(
        "<rss version=\"2.0\"><channel><item><title>a</title><link>http://ex.org/?a=1&b=2</link></item><item><title>after</title></item></channel></rss>",
    )
    .unwrap();
    assert_eq!(
        feed.items[0].link.as_deref(),
        Some("http://ex.org/?a=1&b=2")
    );
    assert_eq!(feed.items[1].title, "after");
}

#[test]
fn a_forbidden_character_reference_loses_the_character_not_the_feed() {
    let feed = parse(
        "<rss version=\"2.0\"><channel><item><title>Nul&#0;here</title><link>http://ex.org/1</link></item><item><title>Second&#xD800;</title><link>http://ex.org/2</link></item></channel></rss>",
    )
    .unwrap();
    let titles: Vec<&str> = feed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Nulhere", "Second"]);
}

#[test]
fn a_lone_surrogate_in_a_json_feed_is_replaced() {
    let feed = parse(
        r#"{"version":"https://jsonfeed.org/version/1.1","title":"T","items":[{"id":"1","title":"A\ud800B","url":"https://ex.org/1"}]}"#,
    )
    .unwrap();
    assert_eq!(feed.items[0].title, "A\u{FFFD}B");
}

#[test]
fn fields_are_capped() {
    let caps = FieldCaps {
        max_items: 2,
        max_title_chars: 10,
        max_summary_chars: 20,
        max_content_bytes: 64,
        ..FieldCaps::default()
    };
    let huge_title = "Astana ".repeat(1_000_000);
    let items: String = (0..5)
        .map(|n| {
            format!(
                "<item><title>{huge_title}</title><link>http://ex.org/{n}</link><content:encoded><![CDATA[{}]]></content:encoded></item>",
                "<p>Paris and Astana</p>".repeat(1000)
            )
        })
        .collect();
    let body = format!(
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>{items}</channel></rss>"
    );
    let origin = Origin {
        caps,
        ..origin(None)
    };
    let feed = parse_feed(body.as_bytes(), origin).unwrap();
    assert_eq!(feed.items.len(), 2);
    let item = &feed.items[0];
    assert_eq!(item.title, "Astana As…");
    assert!(item.summary.chars().count() <= 20, "{}", item.summary);
    assert!(safe_html(item).unwrap().len() < 200);
}

#[test]
fn links_that_are_not_plain_web_urls_are_dropped() {
    let feed = parse(
        r#"<rss version="2.0"><channel>
        <item><title>a</title><link>javascript:alert(1)</link></item>
        <item><title>b</title><link>https://user:pass@ex.org/b</link></item>
        <item><title>c</title><link>data:text/html,x</link></item>
        <item><title>d</title><link>https://ex.org/d</link></item></channel></rss>"#,
    )
    .unwrap();
    let links: Vec<Option<&str>> = feed.items.iter().map(|i| i.link.as_deref()).collect();
    assert_eq!(links, [None, None, None, Some("https://ex.org/d")]);
}

#[test]
fn bidi_overrides_and_controls_leave_titles_and_authors() {
    let feed = parse(
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><item><title>Tokayev\u{202E}txt.exe</title><dc:creator>A\u{2066}uthor\u{1}</dc:creator><category>Pol\u{202D}itics</category></item></channel></rss>",
    )
    .unwrap();
    let item = &feed.items[0];
    assert_eq!(item.title, "Tokayevtxt.exe");
    assert_eq!(item.authors, ["Author"]);
    assert_eq!(item.categories, ["Politics"]);
}

#[test]
fn a_document_with_too_many_entries_is_read_up_to_the_cap() {
    let items: String = (0..50)
        .map(|n| format!("<item><guid>{n}</guid><title>t{n}</title></item>"))
        .collect();
    let body = format!("<rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>");
    let origin = Origin {
        caps: FieldCaps {
            max_items: 7,
            ..FieldCaps::default()
        },
        ..origin(None)
    };
    let feed = parse_feed(body.as_bytes(), origin).unwrap();
    let guids: Vec<&str> = feed
        .items
        .iter()
        .filter_map(|i| i.guid.as_deref())
        .collect();
    assert_eq!(guids, ["0", "1", "2", "3", "4", "5", "6"]);
}

/// Found by the `feed` fuzz target: quick-xml 0.42 (inside feed-rs) panics when an
/// XML declaration naming an encoding comes in mid-document. The panic is caught; the
/// recovery rewrite drops the stray declaration, so the items are read.
#[test]
fn a_declaration_in_mid_document_loses_nothing() {
    let doc = "<rss version=\"2.0\">\n<channel><item><title>a</title><link>http://ex.org/a</link></item>\n\
               <?xml version='1.0' encoding='iso-8859-1'?>\n<item><title>b</title></item></channel></rss>";
    let titles: Vec<String> = parse(doc)
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(titles, ["a", "b"]);
}

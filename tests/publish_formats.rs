//! Renders every published format for a topic and for `all`, parses the bytes back
//! with the same parser ingestion uses (feed-rs) or serde_json, and checks what a
//! subscriber and the W3C validator rely on: order, stable ids, absolute links, dates,
//! escaping.

use chrono::{DateTime, TimeZone, Utc};
use entente::classify::Topic;
use entente::publish::{
    render_feed, render_opml, render_page, AlsoReported, Entry, Format, Lang, Page, PageKind, Site,
};
use url::Url;

fn topic(id: &str, title: &str, description: &str) -> Topic {
    Topic {
        id: id.into(),
        title: title.into(),
        description: description.into(),
    }
}

fn site() -> Site {
    Site {
        base_url: Url::parse("https://entente.example.org/").unwrap(),
        title: "Entente".into(),
        description: "News on France–Kazakhstan relations.".into(),
        topics: vec![
            topic("energy", "Energy & uranium", "Uranium, oil, gas and power."),
            topic("diplomacy", "Diplomacy", "Visits, treaties and talks."),
        ],
        ttl_minutes: 30,
        websub_hub: None,
    }
}

/// The front page in English showing `entries`.
fn render_index(site: &Site, entries: &[Entry]) -> String {
    let page = Page {
        lang: Lang::En,
        kind: PageKind::Front,
        stories: entries.to_vec(),
        outlets: Vec::new(),
        updated: None,
    };
    render_page(site, &page)
}

fn date(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, day, hour, 0, 0).unwrap()
}

fn entry(key: &str, title: &str, lang: &str, published: DateTime<Utc>, topics: &[&str]) -> Entry {
    Entry {
        key: key.into(),
        title: title.into(),
        link: Some(format!("https://news.example.com/{key}")),
        summary: format!("Summary of {title}"),
        content_html: None,
        published,
        updated: None,
        authors: Vec::new(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        lang: Some(lang.into()),
        source_id: "example".into(),
        source_name: "Example News".into(),
        source_url: "https://news.example.com/feed.xml".into(),
        also_reported: Vec::new(),
    }
}

/// Newest first, as the store hands them over.
fn entries() -> Vec<Entry> {
    let mut uranium = entry(
        "src:uranium-1",
        "France and Kazakhstan sign uranium deal",
        "en",
        date(6, 9),
        &["energy", "diplomacy"],
    );
    uranium.also_reported = vec![AlsoReported {
        title: "France, Kazakhstan sign uranium deal".into(),
        link: "https://other.example.net/uranium".into(),
        source_name: "Other Wire".into(),
    }];
    uranium.updated = Some(date(6, 11));
    uranium.authors = vec!["jane@example.com (Jane Doe)".into(), "Marc Dupont".into()];

    let mut hostile = entry(
        "src:script-2",
        "Astana & Paris <script>alert(1)</script> talks",
        "en",
        date(5, 18),
        &["diplomacy"],
    );
    hostile.content_html = Some("<p>Body with <b>bold</b> and ]]> end</p>".into());

    let french = entry(
        "src:fr-3",
        "Emmanuel Macron à Astana : l'énergie au cœur des échanges",
        "fr",
        date(4, 8),
        &["energy"],
    );
    let mut russian = entry(
        "https://news.example.com/src:ru-4",
        "Казахстан и Франция подписали соглашение",
        "ru",
        date(3, 7),
        &["diplomacy"],
    );
    // The key is the link itself: a permalink guid.
    russian.link = Some(russian.key.clone());
    russian.source_url = "file:/srv/mirror/feed.xml".into();
    vec![uranium, hostile, french, russian]
}

fn in_topic(entries: &[Entry], id: &str) -> Vec<Entry> {
    entries
        .iter()
        .filter(|e| e.topics.iter().any(|t| t == id))
        .cloned()
        .collect()
}

/// Every feed the tests render: (topic, its entries).
fn feeds(site: &Site) -> Vec<(Option<Topic>, Vec<Entry>)> {
    let all = entries();
    let diplomacy = site.topics[1].clone();
    vec![
        (None, all.clone()),
        (Some(diplomacy.clone()), in_topic(&all, &diplomacy.id)),
    ]
}

fn parse(bytes: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes.as_bytes()).expect("feed-rs parses our output")
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect()
}

fn assert_absolute(link: &str) {
    let url = Url::parse(link).unwrap_or_else(|e| panic!("{link} is not absolute: {e}"));
    assert!(matches!(url.scheme(), "http" | "https" | "tag"), "{link}");
}

#[test]
fn rss_and_atom_round_trip_through_feed_rs() {
    let site = site();
    for (topic, entries) in feeds(&site) {
        for format in [Format::Rss, Format::Atom] {
            let rendered = render_feed(&site, topic.as_ref(), &entries, format);
            let feed = parse(&rendered);
            let expected: Vec<&str> = entries.iter().map(|e| e.title.as_str()).collect();
            assert_eq!(titles(&feed), expected, "{format:?} {topic:?}");
            for (parsed, original) in feed.entries.iter().zip(&entries) {
                assert_eq!(parsed.published, Some(original.published), "{format:?}");
                let link = &parsed.links[0].href;
                assert_absolute(link);
                assert_eq!(Some(link.as_str()), original.link.as_deref());
            }
            for link in &feed.links {
                assert_absolute(&link.href);
            }
        }
    }
}

#[test]
fn ids_are_stable_across_renders_and_topics() {
    let site = site();
    let all = entries();
    let diplomacy = in_topic(&all, "diplomacy");
    for format in [Format::Rss, Format::Atom] {
        let first = parse(&render_feed(&site, None, &all, format));
        let second = parse(&render_feed(&site, None, &all, format));
        let topic = parse(&render_feed(
            &site,
            Some(&site.topics[1]),
            &diplomacy,
            format,
        ));
        let ids = |f: &feed_rs::model::Feed| f.entries.iter().map(|e| e.id.clone()).collect();
        let first_ids: Vec<String> = ids(&first);
        assert_eq!(first_ids, ids(&second), "{format:?}");
        assert_eq!(first.id, second.id);
        // The same entry has the same id in the `all` feed and in its topic's feed.
        let topic_ids: Vec<String> = ids(&topic);
        assert!(
            topic_ids.iter().all(|id| first_ids.contains(id)),
            "{format:?}"
        );
        let mut unique = first_ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }
}

#[test]
fn rendering_is_deterministic() {
    let site = site();
    let all = entries();
    for format in Format::ALL {
        assert_eq!(
            render_feed(&site, None, &all, format),
            render_feed(&site, None, &all, format)
        );
    }
    assert_eq!(render_opml(&site), render_opml(&site));
}

#[test]
fn rss_follows_the_validator_rules() {
    let site = site();
    let all = entries();
    let rss = render_feed(&site, None, &all, Format::Rss);
    let channel: rss::Channel = rss.parse().expect("rss crate reads it back");

    assert_eq!(channel.link, "https://entente.example.org/");
    assert_eq!(channel.ttl.as_deref(), Some("30"));
    // The newest change among the entries, never the clock.
    assert_eq!(
        channel.last_build_date.as_deref(),
        Some("Mon, 6 Jan 2025 11:00:00 +0000")
    );
    assert!(
        channel.language.is_none(),
        "mixed languages: no channel language"
    );
    assert!(rss.contains(
        r#"<atom:link href="https://entente.example.org/feeds/all.rss" rel="self" type="application/rss+xml"/>"#
    ));

    let first = &channel.items[0];
    let guid = first.guid.as_ref().unwrap();
    assert_eq!(guid.value, "src:uranium-1");
    assert!(!guid.permalink);
    assert!(rss.contains(r#"<guid isPermaLink="false">src:uranium-1</guid>"#));
    // A key that is the link itself is a permalink.
    let russian = &channel.items[3];
    assert!(russian.guid.as_ref().unwrap().permalink);
    // RFC 822 dates.
    for item in &channel.items {
        let date = item.pub_date.as_deref().unwrap();
        DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{date}: {e}"));
    }
    // Author only in e-mail form; other names as dc:creator.
    assert_eq!(first.author.as_deref(), Some("jane@example.com (Jane Doe)"));
    let creators = first.dublin_core_ext.as_ref().unwrap().creators.clone();
    assert_eq!(creators, ["Marc Dupont"]);
    // Categories by topic title, the outlet as source, "Also reported by" in the body.
    let categories: Vec<&str> = first.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(categories, ["Energy & uranium", "Diplomacy"]);
    let source = first.source.as_ref().unwrap();
    assert_eq!(source.url, "https://news.example.com/feed.xml");
    assert_eq!(source.title.as_deref(), Some("Example News"));
    let description = first.description.as_deref().unwrap();
    assert!(description.contains("Also reported by"), "{description}");
    assert!(description.contains(r#"<a href="https://other.example.net/uranium">"#));
    assert!(description.contains("(Other Wire)"));
    // A local mirror's path is not published as a source URL.
    assert!(russian.source.is_none());
    assert!(!rss.contains("file:"));
    // The `]]>` inside content survives the CDATA section.
    assert!(channel.items[1]
        .description
        .as_deref()
        .unwrap()
        .contains("]]> end"));
}

#[test]
fn atom_follows_the_validator_rules() {
    let site = site();
    let all = entries();
    let atom = render_feed(&site, None, &all, Format::Atom);
    let feed: atom_syndication::Feed = atom.parse().expect("atom_syndication reads it back");

    assert_eq!(feed.id, "https://entente.example.org/feeds/all.atom");
    assert_eq!(feed.updated.to_rfc3339(), "2025-01-06T11:00:00+00:00");
    let rels: Vec<(&str, &str)> = feed
        .links
        .iter()
        .map(|l| (l.rel.as_str(), l.href.as_str()))
        .collect();
    assert_eq!(
        rels,
        [
            ("self", "https://entente.example.org/feeds/all.atom"),
            ("alternate", "https://entente.example.org/")
        ]
    );
    for entry in &feed.entries {
        assert!(
            entry.id.starts_with("tag:entente.example.org,2025:"),
            "{}",
            entry.id
        );
        assert!(!entry.authors.is_empty(), "Atom requires an author");
        assert_eq!(
            entry.content.as_ref().unwrap().content_type.as_deref(),
            Some("html")
        );
    }
    let first = &feed.entries[0];
    assert_eq!(first.updated.to_rfc3339(), "2025-01-06T11:00:00+00:00");
    assert_eq!(
        first.published.unwrap().to_rfc3339(),
        "2025-01-06T09:00:00+00:00"
    );
    let terms: Vec<&str> = first.categories.iter().map(|c| c.term.as_str()).collect();
    assert_eq!(terms, ["energy", "diplomacy"]);
    // RSS's e-mail form is split into Atom's name and email.
    assert_eq!(first.authors[0].name, "Jane Doe");
    assert_eq!(first.authors[0].email.as_deref(), Some("jane@example.com"));
    // Without named authors, the outlet stands in.
    assert_eq!(feed.entries[2].authors[0].name, "Example News");
}

#[test]
fn topic_feeds_name_the_topic() {
    let site = site();
    let energy = &site.topics[0];
    let entries = in_topic(&entries(), "energy");
    let rss = parse(&render_feed(&site, Some(energy), &entries, Format::Rss));
    assert_eq!(rss.title.unwrap().content, "Entente — Energy & uranium");
    let atom = render_feed(&site, Some(energy), &entries, Format::Atom);
    assert!(atom.contains("https://entente.example.org/feeds/energy.atom"));
    // The topic's own page now (issue 13), not a section of the front page.
    assert!(atom.contains("href=\"https://entente.example.org/topics/energy\" rel=\"alternate\""));
}

#[test]
fn empty_feeds_are_still_valid() {
    let site = site();
    for format in [Format::Rss, Format::Atom] {
        let feed = parse(&render_feed(&site, Some(&site.topics[0]), &[], format));
        assert!(feed.entries.is_empty());
    }
    let json: serde_json::Value =
        serde_json::from_str(&render_feed(&site, None, &[], Format::Json)).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 0);
}

#[test]
fn json_feed_has_the_required_fields() {
    let site = site();
    let all = entries();
    let json: serde_json::Value =
        serde_json::from_str(&render_feed(&site, None, &all, Format::Json)).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["title"], "Entente");
    assert_eq!(json["home_page_url"], "https://entente.example.org/");
    assert_eq!(
        json["feed_url"],
        "https://entente.example.org/feeds/all.json"
    );
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), all.len());
    for (item, entry) in items.iter().zip(&all) {
        assert_eq!(item["id"], entry.key.as_str());
        assert_eq!(item["title"], entry.title.as_str());
        assert_eq!(item["url"], entry.link.as_deref().unwrap());
        assert!(item["content_html"].is_string() || item["content_text"].is_string());
        let published = item["date_published"].as_str().unwrap();
        assert_eq!(
            DateTime::parse_from_rfc3339(published).unwrap(),
            entry.published
        );
        assert_eq!(item["language"], entry.lang.as_deref().unwrap());
    }
    assert_eq!(
        items[0]["tags"],
        serde_json::json!(["Energy & uranium", "Diplomacy"])
    );
    assert_eq!(items[0]["date_modified"], "2025-01-06T11:00:00+00:00");
    assert_eq!(items[0]["authors"][1]["name"], "Marc Dupont");
    assert_eq!(
        items[0]["_entente"]["also_reported"][0]["source_name"],
        "Other Wire"
    );
    assert_eq!(items[2]["authors"][0]["name"], "Example News");
    assert!(items[3]["_entente"]["source"].get("feed_url").is_none());
}

#[test]
fn opml_lists_every_feed() {
    let site = site();
    let opml = render_opml(&site);
    assert!(opml.starts_with("<?xml"));
    for slug in ["all", "energy", "diplomacy"] {
        let url = format!("xmlUrl=\"https://entente.example.org/feeds/{slug}.rss\"");
        assert!(opml.contains(&url), "{url} missing from\n{opml}");
    }
    // The three feeds, then a folder per language (4) of the same three.
    assert_eq!(opml.matches("<outline ").count(), 3 + 4 * 4);
    assert!(opml.contains("Energy &amp; uranium"));
    assert!(opml.contains("htmlUrl=\"https://entente.example.org/topics/energy\""));
    assert!(opml.contains("xmlUrl=\"https://entente.example.org/feeds/energy.kk.rss\""));
}

#[test]
fn front_page_escapes_feed_text_and_links_every_feed() {
    let site = site();
    let all = entries();
    let page = render_index(&site, &all);

    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains(r#"<meta name="viewport""#));
    assert!(
        !page.contains("<script"),
        "no script, from content or otherwise"
    );
    assert!(page.contains("Astana &amp; Paris &lt;script&gt;alert(1)&lt;/script&gt; talks"));
    for slug in ["all", "energy", "diplomacy"] {
        for (ext, media) in [
            ("rss", "application/rss+xml"),
            ("atom", "application/atom+xml"),
            ("json", "application/feed+json"),
        ] {
            let link = format!(r#"<link rel="alternate" type="{media}" title=""#);
            assert!(page.contains(&link));
            let href = format!("href=\"https://entente.example.org/feeds/{slug}.{ext}\"");
            assert!(page.contains(&href), "{href}");
        }
    }
    // Topics are navigation to their pages now (issue 13), dates in the reader's words.
    assert!(page.contains(r#"<a href="https://entente.example.org/topics/energy">"#));
    assert!(page.contains("lang=\"fr\">Emmanuel Macron à Astana"));
    assert!(page.contains("<time datetime=\"2025-01-06T09:00:00+00:00\">6 January 2025</time>"));
    assert!(page.contains("https://entente.example.org/feeds.opml"));
}

#[test]
fn unsafe_links_are_never_published() {
    let site = site();
    let mut hostile = entries().remove(1);
    hostile.link = Some("javascript:alert(1)".into());
    assert!(!render_index(&site, std::slice::from_ref(&hostile)).contains("javascript:"));
    // Without a summary, the page summarizes the sanitized content as text.
    let mut content_only = hostile.clone();
    content_only.summary.clear();
    content_only.content_html =
        Some("<p>Talks <b>went</b> well. Both sides agreed. More.</p>".into());
    let page = render_index(&site, &[content_only]);
    assert!(
        page.contains(">Talks went well. Both sides agreed.</p>"),
        "{page}"
    );
    for format in Format::ALL {
        let rendered = render_feed(&site, None, std::slice::from_ref(&hostile), format);
        assert!(!rendered.contains("javascript:"), "{format:?}");
    }
}

#[test]
fn untitled_entries_and_odd_outlets_still_render() {
    let site = site();
    let mut odd = entries().remove(2);
    odd.title = "  ".into();
    odd.source_name = "<b>Wire & Co</b>\u{1}".into();
    odd.summary = "Control\u{1}character".into();
    let page = render_index(&site, std::slice::from_ref(&odd));
    assert!(page.contains("(untitled)"));
    assert!(page.contains("&lt;b&gt;Wire &amp; Co&lt;/b&gt;"));
    assert!(!page.contains('\u{1}'));
    for format in [Format::Rss, Format::Atom] {
        let rendered = render_feed(&site, None, std::slice::from_ref(&odd), format);
        let feed = parse(&rendered);
        assert_eq!(titles(&feed), ["(untitled)"], "{format:?}");
        assert!(!rendered.contains('\u{1}'), "{format:?}");
    }
    odd.source_name.clear();
    let atom = render_feed(&site, None, std::slice::from_ref(&odd), Format::Atom);
    assert!(
        atom.contains("<name>example</name>"),
        "the source id stands in"
    );
}

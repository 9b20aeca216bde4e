//! Atom 1.0, written with the `atom_syndication` crate.
//!
//! Ids must never change once published, so the feed's id is its own URL and an
//! entry's id is a `tag:` URI (RFC 4151) built from the site's host and our stable key:
//! rebuilding the feed, or moving an entry between topics, keeps every id.

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, FixedDateTime, Generator, Link, Person, Source,
    Text, WriteConfig,
};
use chrono::{DateTime, Utc};

use super::{email_author, is_web_url, GENERATOR_NAME, GENERATOR_VERSION};
use super::{last_modified, xml_text, Entry, FeedContext};

/// The date the `tag:` URIs are minted under. Fixed forever: changing it would change
/// every entry id.
const TAG_DATE: &str = "2025";

/// Renders the feed.
pub(super) fn render(feed: &FeedContext<'_>, entries: &[Entry]) -> String {
    // Indented, so that people reading the source (and diffs of golden files) can.
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    let bytes = atom_feed(feed, entries)
        .write_with_config(Vec::new(), config)
        .expect("writing to a Vec cannot fail");
    let mut out = String::from_utf8(bytes).expect("atom_syndication writes UTF-8");
    out.push('\n');
    out
}

fn atom_feed(feed: &FeedContext<'_>, entries: &[Entry]) -> Feed {
    // An empty feed still needs `updated`; the epoch keeps it deterministic.
    let updated = last_modified(entries).unwrap_or(DateTime::UNIX_EPOCH);
    Feed {
        title: Text::plain(xml_text(&feed.title())),
        id: feed.self_url.clone(),
        updated: fixed(updated),
        subtitle: Some(Text::plain(xml_text(&feed.description()))),
        generator: Some(Generator {
            value: GENERATOR_NAME.to_string(),
            uri: None,
            version: Some(GENERATOR_VERSION.to_string()),
        }),
        links: std::iter::once(link(&feed.self_url, "self", Some("application/atom+xml")))
            .chain(Some(link(&feed.home_url(), "alternate", Some("text/html"))))
            .chain(feed.hub().map(|hub| link(&hub, "hub", None)))
            .collect(),
        lang: feed.language(entries).map(str::to_string),
        entries: entries.iter().map(|e| entry(feed, e)).collect(),
        ..Feed::default()
    }
}

fn entry(feed: &FeedContext<'_>, entry: &Entry) -> AtomEntry {
    let body = entry.body_html();
    AtomEntry {
        title: Text {
            lang: entry.lang.clone(),
            ..Text::plain(xml_text(entry.display_title()))
        },
        source: Some(source(feed, entry)),
        id: entry_id(feed, &entry.key),
        updated: fixed(entry.last_changed()),
        published: Some(fixed(entry.published)),
        authors: authors(entry),
        categories: entry
            .topics
            .iter()
            .map(|id| Category {
                term: id.clone(),
                scheme: Some(feed.site.base_url.to_string()),
                label: Some(xml_text(feed.site.topic_label(id)).into_owned()),
            })
            .collect(),
        links: entry
            .safe_link()
            .map(|href| link(href, "alternate", Some("text/html")))
            .into_iter()
            .collect(),
        // Without source content the body is the summary already; saying it twice
        // would show twice in readers that display both.
        summary: (entry.content_html.is_some() && !entry.summary.trim().is_empty())
            .then(|| Text::plain(xml_text(&entry.summary))),
        content: (!body.is_empty()).then(|| Content {
            value: Some(xml_text(&body).into_owned()),
            content_type: Some("html".to_string()),
            lang: entry.lang.clone(),
            ..Content::default()
        }),
        ..AtomEntry::default()
    }
}

/// The outlet that reported the entry, as `<source>`: its name, and its feed when
/// that is on the web (a `file:` mirror's path must not leak).
fn source(feed: &FeedContext<'_>, entry: &Entry) -> Source {
    let on_web = is_web_url(&entry.source_url);
    let id = if on_web {
        entry.source_url.clone()
    } else {
        entry_id(feed, &format!("source:{}", entry.source_id))
    };
    Source {
        title: Text::plain(xml_text(entry.outlet())),
        id,
        updated: fixed(entry.last_changed()),
        links: on_web
            .then(|| link(&entry.source_url, "self", None))
            .into_iter()
            .collect(),
        ..Source::default()
    }
}

/// A `tag:` URI naming the entry: `tag:{host},{TAG_DATE}:{key}`. The key is
/// percent-encoded where URI syntax requires, so any key gives a valid IRI.
fn entry_id(feed: &FeedContext<'_>, key: &str) -> String {
    let authority = feed.site.base_url.host_str().unwrap_or("localhost");
    format!("tag:{authority},{TAG_DATE}:{}", encode_tag_specific(key))
}

/// Percent-encodes everything but URI unreserved characters and the sub-delimiters,
/// `:`, `@`, `/` and `?` that a `tag:` specific part may hold.
fn encode_tag_specific(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        let c = byte as char;
        if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The entry's authors; the outlet when it names none, since Atom requires an author
/// for every entry of a feed that has none of its own.
fn authors(entry: &Entry) -> Vec<Person> {
    let named: Vec<Person> = entry
        .authors
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(person)
        .collect();
    if !named.is_empty() {
        return named;
    }
    vec![person(entry.outlet())]
}

/// A person from an author string, split into name and e-mail when it is in RSS's
/// `jane@example.org (Jane Doe)` form.
fn person(author: &str) -> Person {
    match email_author(author) {
        Some((email, name)) => Person {
            name: xml_text(name.unwrap_or(email)).into_owned(),
            email: Some(xml_text(email).into_owned()),
            ..Person::default()
        },
        None => Person {
            name: xml_text(author).into_owned(),
            ..Person::default()
        },
    }
}

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: mime_type.map(str::to_string),
        ..Link::default()
    }
}

fn fixed(date: DateTime<Utc>) -> FixedDateTime {
    date.fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_specific_part_is_percent_encoded() {
        let cases = [
            ("src:abc-123", "src:abc-123"),
            ("https://ex.org/a?b=c", "https://ex.org/a?b=c"),
            ("a b#c", "a%20b%23c"),
            ("é", "%C3%A9"),
        ];
        for (key, expected) in cases {
            assert_eq!(encode_tag_specific(key), expected, "{key}");
        }
    }
}
